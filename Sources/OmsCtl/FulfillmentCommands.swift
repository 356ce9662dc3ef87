import ArgumentParser
import Foundation
import FulfillmentCore
import Shared

/// What operators look at in the warehouse: a fulfillment order with its pick list, parcels, labels and tracking.
struct FulfillmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulfillment", abstract: "Show fulfillment orders; write their labels and delivery notes as files.",
        subcommands: [Show.self, Documents.self])

    static func rules() throws -> FulfillmentRules {
        let directory = try CLIEnvironment.value("OMS_CONFIG_DIR")
        return try FulfillmentRules.load(directory: directory).rules(at: { Date() })
    }

    struct Loaded {
        let facts: FulfillmentOrderFacts
        let status: String
        let waveID: String?
        let problem: String?
        let note: JSONValue?
        let parcels: [PostgresRow]
    }

    static func load(_ id: String, database: PostgresConnection) throws -> Loaded {
        guard let row = try database.query("""
            SELECT status, wave_id, problem, data::text AS data, delivery_note::text AS note FROM fulfillment.fulfillment_orders
            WHERE fulfillment_order_id = \(id)
            """).first else { throw CLIError("no fulfillment order with id \(id) in Fulfillment") }
        let facts: FulfillmentOrderFacts
        do { facts = try FulfillmentOrderFacts.parse(try JSONParser.parse(try row.decode("data", as: String.self))) } catch {
            throw CLIError("fulfillment order \(id) cannot be read: \(error)")
        }
        let parcels = Array(try database.query("""
            SELECT sscc, parcel_number, parcel_count, carton, gross_grams, dangerous_goods_class, customs IS NOT NULL AS customs, contents::text AS contents,
                   printer_id, carrier, tracking_number, tracking_url, shipped_at, delivered_at,
                   (SELECT string_agg(status || CASE WHEN attempts > 1 THEN ' after ' || attempts || ' tries' ELSE '' END, ', ' ORDER BY created_at)
                    FROM printing.print_jobs j WHERE j.sscc = p.sscc) AS label_status
            FROM fulfillment.parcels p WHERE fulfillment_order_id = \(id) ORDER BY parcel_number
            """))
        return Loaded(facts: facts, status: try row.decode("status"), waveID: try row.decodeIfPresent("wave_id"), problem: try row.decodeIfPresent("problem"),
                      note: try row.decodeIfPresent("note", as: String.self).flatMap { try? JSONParser.parse($0) }, parcels: parcels)
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lines, pick list, parcels with SSCC, label status and tracking of a fulfillment order.")
        @Argument(help: "Fulfillment order id (FO-…).") var id: String
        @Flag(help: "Machine-readable output.") var json = false

        func run() throws {
            let database = try CLIEnvironment.database()
            let fo = try CLIError.detailed { try FulfillmentCommand.load(id, database: database) }
            if json {
                var parcels: [JSONValue] = []
                for p in fo.parcels {
                    var value: [String: JSONValue] = ["sscc": .string(try p.decode("sscc")), "parcelNumber": .integer(try p.decode("parcel_number")),
                                                      "grossWeightGrams": .integer(try p.decode("gross_grams"))]
                    if let carton: String = try p.decodeIfPresent("carton") { value["carton"] = .string(carton) }
                    if let tracking: String = try p.decodeIfPresent("tracking_number") { value["trackingNumber"] = .string(tracking) }
                    if let status: String = try p.decodeIfPresent("label_status") { value["label"] = .string(status) }
                    parcels.append(.object(value))
                }
                print(JSONValue.object(["fulfillmentOrderId": .string(fo.facts.id), "orderId": .string(fo.facts.orderID), "status": .string(fo.status),
                                        "waveId": fo.waveID.map { .string($0) } ?? .null, "parcels": .array(parcels)]).serializedString)
                return
            }
            print("fulfillment order \(fo.facts.id)  order \(fo.facts.orderID)  warehouse \(fo.facts.warehouseID ?? "-")  \(fo.status)")
            if let problem = fo.problem { print("  problem: \(problem)") }
            if let shipTo = fo.facts.shipTo { print("  ship to: \(shipTo.name), \(shipTo.street), \(shipTo.postalCode) \(shipTo.city), \(shipTo.country)") }
            print("  carrier service: \(fo.facts.carrierService ?? "-")")
            if fo.facts.isGift { print("  gift\(fo.facts.giftWrap ? ", wrapped" : "")\(fo.facts.giftMessage.map { ": \"\($0)\"" } ?? "")") }
            print("lines:")
            for line in fo.facts.lines {
                var text = "  \(line.lineID)  \(line.quantity) × \(line.sku)"
                if let personalization = line.personalization?.objectValue {
                    text += "  " + personalization.keys.sorted().compactMap { key in personalization[key]?.stringValue.map { "\(key): \"\($0)\"" } }.joined(separator: ", ")
                }
                print(text)
            }
            if let wave = fo.waveID {
                print("pick list: wave \(wave)  (omsctl wave show \(wave))")
                if let row = try database.query("SELECT stops::text AS stops FROM fulfillment.waves WHERE wave_id = \(wave)").first,
                   let stops = try JSONParser.parse(try row.decode("stops", as: String.self)).arrayValue {
                    for stop in stops where stop["fulfillmentOrderId"]?.stringValue == fo.facts.id {
                        print("  \(stop["sequence"]?.int64Value ?? 0). \(stop["bin"]?.stringValue ?? "?")  \(stop["quantity"]?.int64Value ?? 0) × \(stop["sku"]?.stringValue ?? "?")")
                    }
                }
            }
            print("parcels:")
            if fo.parcels.isEmpty { print("  none yet") }
            for p in fo.parcels {
                let number: Int = try p.decode("parcel_number"), count: Int = try p.decode("parcel_count")
                var text = "  \(number)/\(count)  SSCC \(try p.decode("sscc", as: String.self))  \(try p.decodeIfPresent("carton", as: String.self) ?? "own packaging")"
                text += "  \(ShippingLabel.kilograms(try p.decode("gross_grams")))"
                if let dg: String = try p.decodeIfPresent("dangerous_goods_class") { text += "  DG \(dg)" }
                if try p.decode("customs", as: Bool.self) { text += "  CN23" }
                text += "\n     label: \(try p.decodeIfPresent("label_status", as: String.self) ?? "requested (print agent has not taken it yet)") on \(try p.decodeIfPresent("printer_id", as: String.self) ?? "-")"
                if let tracking: String = try p.decodeIfPresent("tracking_number") {
                    text += "\n     tracking: \(try p.decodeIfPresent("carrier", as: String.self) ?? "") \(tracking)  \(try p.decodeIfPresent("tracking_url", as: String.self) ?? "")"
                    if try p.decodeIfPresent("delivered_at", as: Date.self) != nil { text += "  delivered" }
                } else {
                    text += "\n     tracking: not yet confirmed by the carrier"
                }
                print(text)
            }
        }
    }

    struct Documents: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the labels (ZPL and PDF) and the delivery note (PDF) of a fulfillment order into a directory.")
        @Argument(help: "Fulfillment order id (FO-…).") var id: String
        @Option(help: "Directory to write into (created if missing).") var out: String

        func run() throws {
            let database = try CLIEnvironment.database()
            let fo = try CLIError.detailed { try FulfillmentCommand.load(id, database: database) }
            let rules = try FulfillmentCommand.rules()
            for path in try FulfillmentCommand.writeDocuments(fo, rules: rules, database: database, directory: out) { print(path) }
        }
    }

    /// A parcel's label, rendered again from the stored order and parcel and the rules in force (same SSCC, same text).
    static func label(_ digits: String, fo: FulfillmentOrderFacts, rules: FulfillmentRules, database: PostgresConnection) throws -> ShippingLabel {
        guard let row = try database.query("""
            SELECT parcel_number, parcel_count, gross_grams, dangerous_goods_class, customs IS NOT NULL AS customs FROM fulfillment.parcels WHERE sscc = \(digits)
            """).first else { throw CLIError("no parcel with SSCC \(digits)") }
        let sscc: SSCC
        do { sscc = try SSCC(parsing: digits) } catch { throw CLIError("stored SSCC \(digits) is invalid: \(error)") }
        return ShippingLabel.make(fo, sscc: sscc, number: try row.decode("parcel_number"), count: try row.decode("parcel_count"),
                                  grossGrams: try row.decode("gross_grams"), dangerousGoodsClass: try row.decodeIfPresent("dangerous_goods_class"),
                                  customsDeclaration: try row.decode("customs"), rules: rules)
    }

    /// Writes label ZPL + PDF per parcel and the delivery note PDF; returns the paths written.
    static func writeDocuments(_ fo: Loaded, rules: FulfillmentRules, database: PostgresConnection, directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        let safe = fo.facts.id.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
        var ssccs: [String] = []
        for row in try database.query("SELECT sscc FROM fulfillment.parcels WHERE fulfillment_order_id = \(fo.facts.id) ORDER BY parcel_number") {
            let digits: String = try row.decode("sscc")
            ssccs.append(digits)
            let label = try FulfillmentCommand.label(digits, fo: fo.facts, rules: rules, database: database)
            let zplPath = "\(directory)/label-\(String(safe))-\(digits).zpl"
            try Data(ZPL.label(label).utf8).write(to: URL(fileURLWithPath: zplPath))
            let pdfPath = "\(directory)/label-\(String(safe))-\(digits).pdf"
            try Data(FulfillmentDocuments.labelPDF(label)).write(to: URL(fileURLWithPath: pdfPath))
            written += [zplPath, pdfPath]
        }
        if let note = fo.note, let shipTo = fo.facts.shipTo {
            let warehouse = fo.facts.warehouseID.flatMap { rules.warehouses[$0] }
            let branding = note["branding"]
            let header = FulfillmentDocuments.NoteHeader(
                title: "Lieferschein / Delivery note", sender: warehouse?.address ?? PostalAddress(name: "", street: "", postalCode: "", city: "", country: ""),
                recipient: shipTo, orderID: fo.facts.orderID, fulfillmentOrderID: fo.facts.id, ssccs: ssccs,
                brandName: branding?["packingSlip"]?.stringValue, insert: branding?["insert"]?.stringValue)
            let path = "\(directory)/delivery-note-\(String(safe)).pdf"
            try Data(FulfillmentDocuments.deliveryNotePDF(header, note: ShipmentPlanner.DeliveryNote(json: note))).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        return written
    }
}

struct Wave: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show pick lists (waves).", subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The stops of a wave in walking order, the route and how it compares.")
        @Argument(help: "Wave id (W-…).") var id: String
        @Option(help: "Also write the pick list as PDF to this file.") var pdf: String?

        func run() throws {
            let database = try CLIEnvironment.database()
            guard let row = try CLIError.detailed({ try database.query("""
                SELECT warehouse_id, zone, single_order, method, tour_length_dm, bin_order_dm, lengths::text AS lengths, stops::text AS stops
                FROM fulfillment.waves WHERE wave_id = \(id)
                """).first }) else { throw CLIError("no wave with id \(id)") }
            let warehouse: String = try row.decode("warehouse_id"), method: String = try row.decode("method")
            let length: Int = try row.decode("tour_length_dm"), byName: Int = try row.decode("bin_order_dm")
            print("wave \(id)  warehouse \(warehouse)  zone \(try row.decode("zone", as: String.self))\(try row.decode("single_order", as: Bool.self) ? "  single order" : "")")
            print("route: \(method), \(Double(length) / 10) m (sorted by bin name: \(Double(byName) / 10) m)")
            if let lengths = try JSONParser.parse(try row.decode("lengths", as: String.self)).objectValue {
                print("  " + lengths.keys.sorted().map { "\($0) \(Double(lengths[$0]?.int64Value ?? 0) / 10) m" }.joined(separator: ", "))
            }
            let stops = try JSONParser.parse(try row.decode("stops", as: String.self)).arrayValue ?? []
            var listed: [FulfillmentDocuments.PickStop] = []
            for stop in stops {
                let entry = FulfillmentDocuments.PickStop(sequence: Int(stop["sequence"]?.int64Value ?? 0), bin: stop["bin"]?.stringValue ?? "?",
                                                         sku: stop["sku"]?.stringValue ?? "?", quantity: stop["quantity"]?.int64Value ?? 0,
                                                         fulfillmentOrderID: stop["fulfillmentOrderId"]?.stringValue ?? "?")
                listed.append(entry)
                print("  \(entry.sequence). \(entry.bin)  \(entry.quantity) × \(entry.sku)  for \(entry.fulfillmentOrderID)")
            }
            if let pdf {
                try Data(FulfillmentDocuments.pickListPDF(waveID: id, warehouseID: warehouse, method: method, lengthDm: length, binOrderDm: byName, stops: listed))
                    .write(to: URL(fileURLWithPath: pdf))
                print("pick list written to \(pdf)")
            }
        }
    }
}

struct Label: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Shipping labels.", subcommands: [Reprint.self])

    struct Reprint: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a parcel's label again (a new job on oms.labels for the print agent).")
        @Argument(help: "The parcel's SSCC (18 digits).") var sscc: String
        @Option(help: "Another printer than the station's (an id from fulfillment.json printers).") var printer: String?

        func validate() throws {
            do { _ = try SSCC(parsing: sscc) } catch { throw ValidationError("\(sscc): \(error.description)") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            guard let row = try CLIError.detailed({ try database.query("""
                SELECT p.printer_id, p.fulfillment_order_id, f.order_id FROM fulfillment.parcels p
                JOIN fulfillment.fulfillment_orders f USING (fulfillment_order_id) WHERE p.sscc = \(sscc)
                """).first }) else { throw CLIError("no parcel with SSCC \(sscc)") }
            let orderID: String = try row.decode("order_id")
            let fo = try CLIError.detailed { try FulfillmentCommand.load(try row.decode("fulfillment_order_id"), database: database) }
            let zpl = ZPL.label(try FulfillmentCommand.label(sscc, fo: fo.facts, rules: try FulfillmentCommand.rules(), database: database))
            let stationPrinter: String? = try row.decodeIfPresent("printer_id")
            let target = printer ?? stationPrinter ?? "default"
            let job = "LABEL-\(sscc)-R\(Int(Date().timeIntervalSince1970))"
            let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "omsctl", type: "Label.PrintRequested", subject: orderID,
                                   time: EventTime.format(Date()), data: [
                                       "jobId": .string(job), "printerId": .string(target), "sscc": .string(sscc),
                                       "fulfillmentOrderId": .string(try row.decode("fulfillment_order_id")), "orderId": .string(orderID),
                                       "format": "zpl", "zpl": .string(zpl), "reprint": true,
                                       "requestedAt": .string(EventTime.format(Date())),
                                   ])
            let configuration = try CLIEnvironment.kafka()
            try CLIError.detailed {
                try KafkaProducer(configuration: configuration, logger: CLIEnvironment.logger).publish([
                    OutgoingMessage(topic: Topic.omsLabels, key: orderID, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
                ])
            }
            print("reprint of \(sscc) sent to printer \(target) as job \(job)")
        }
    }
}
