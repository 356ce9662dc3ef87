import ArgumentParser
import Foundation
import FulfillmentCore
import Shared

/// Publishes N `FulfillmentOrder.Created` (waved by oms-fulfillment), then N
/// `Pick.Confirmed` at the chosen rate, and measures packing: fulfillment orders/s
/// from pick confirmation to `Shipment.Packed` with parcels, SSCCs, ZPL labels and
/// customs data (durable commits), and the latency of each.
struct FulfillmentThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulfillment",
        abstract: "Measure fulfillment orders/s and latency through packing and label data (durable commits).",
        discussion: "Needs OMS_KAFKA_BROKERS, OMS_DATABASE_URL and OMS_CONFIG_DIR (make bench-fulfillment sets up its own environment).")

    @OptionGroup var options: StageBenchOptions

    static func lines(_ index: Int) -> [(lineID: String, sku: String, quantity: Int64)] {
        (BergUndBeutelOrders.orderAccepted(index: index, orderID: "x", eventID: "x").data["lines"]?.arrayValue ?? []).compactMap { line in
            guard let id = line["lineId"]?.stringValue, let sku = line["sku"]?.stringValue, let quantity = line["quantity"]?.int64Value else { return nil }
            return (id, sku, quantity)
        }
    }

    func run() throws {
        let count = options.orders
        try StageBenchmark(
            name: "fulfillment", executable: "oms-fulfillment", label: "Berg&Beutel fulfillment orders, every 4th to Switzerland (CN23)",
            outputTopic: Topic.omsShipments, decisions: ["Shipment.Packed"],
            latencyLabel: "Pick.Confirmed published → Shipment.Packed consumed", statusTable: "fulfillment.fulfillment_orders", options: options,
            prepare: { kafka, database, runID in
                let producer = try KafkaProducer(configuration: kafka, logger: BenchEnvironment.logger)
                try producer.publish(BergUndBeutelOrders.productsChanged())
                let settle = Date().addingTimeInterval(60)
                while try database.query("SELECT count(*) AS n FROM fulfillment.products").first!.decode("n", as: Int.self)
                        < BergUndBeutelOrders.productFacts.count && Date() < settle { Thread.sleep(forTimeInterval: 0.2) }
                let started = Date()
                for chunk in stride(from: 0, to: count, by: 2_000) {
                    try producer.publish((chunk..<min(count, chunk + 2_000)).map { index in
                        let accepted = BergUndBeutelOrders.orderAccepted(index: index, orderID: "BENCH-\(runID)-\(index)", eventID: "fo-\(runID)-\(index)")
                        var data = accepted.data.objectValue ?? [:]
                        data["fulfillmentOrderId"] = .string("FO-BENCH-\(runID)-\(index)")
                        data["warehouseId"] = "A"
                        data["carrierService"] = "DHL-PAKET"
                        data["lines"] = .array(Self.lines(index).map { ["lineId": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity), "unitPrice": 1_990] })
                        for key in ["total", "acceptedAt", "customerId", "shipComplete"] { data[key] = nil }
                        let event = CloudEvent(id: "fo-\(runID)-\(index)", source: "oms/router", type: "FulfillmentOrder.Created", subject: accepted.subject,
                                               time: EventTime.format(Date()), data: .object(data))
                        return OutgoingMessage(topic: Topic.omsFulfillment, key: accepted.subject, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
                    })
                }
                let deadline = Date().addingTimeInterval(600)
                var waved = 0
                while waved < count && Date() < deadline {
                    waved = try database.query("SELECT count(*) AS n FROM fulfillment.fulfillment_orders WHERE order_id LIKE \("BENCH-\(runID)-%") AND status = 'waved'")
                        .first!.decode("n", as: Int.self)
                    Thread.sleep(forTimeInterval: 0.2)
                }
                let seconds = Date().timeIntervalSince(started)
                let lists = try database.query("SELECT count(*) AS n, coalesce(sum(tour_length_dm), 0) AS t, coalesce(sum(bin_order_dm), 0) AS b FROM fulfillment.waves WHERE wave_id LIKE \("W-A-FO-BENCH-\(runID)-%")").first!
                print(String(format: "  waves           %d fulfillment orders waved in %.1f s (%.0f/s incl. publishing), %d pick lists; walking %.1f %% shorter than by bin name",
                             waved, seconds, Double(waved) / seconds, try lists.decode("n", as: Int.self),
                             100 * (1 - Double(try lists.decode("t", as: Int64.self)) / max(1, Double(try lists.decode("b", as: Int64.self))))))
            },
            makeMessage: { index, runID, now in
                let event = CloudEvent(id: "bench-\(runID)-\(index)", source: "wms/bench", type: "Pick.Confirmed", subject: "BENCH-\(runID)-\(index)",
                                       time: EventTime.format(now), data: [
                                           "fulfillmentOrderId": .string("FO-BENCH-\(runID)-\(index)"),
                                           "lines": .array(Self.lines(index).map { ["lineId": .string($0.lineID), "picked": .integer($0.quantity)] }),
                                       ])
                return OutgoingMessage(topic: Topic.warehouseEvents, key: "BENCH-\(runID)-\(index)", value: event.serialized(),
                                       headers: [("content-type", CloudEvent.contentType)])
            }
        ).run()
    }
}

/// The pure parts of Fulfillment on their own: tour lengths of every routing method on generated pick
/// lists (no published figure exists; these are ours), and the rates of packing and of rendering labels.
struct FulfillmentCoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulfillment-core", abstract: "Pick routing table (each heuristic vs the optimum) and packing / ZPL / PDF rates.")

    @Option(help: "Pick lists to generate.") var lists: Int = 1_000
    @Option(help: "Directory with fulfillment.json (default $OMS_CONFIG_DIR or ./config).") var config: String?
    @Option(help: "Labels to render for the rate measurements.") var labels: Int = 20_000

    func validate() throws {
        guard (1...100_000).contains(lists), (100...1_000_000).contains(labels) else { throw ValidationError("--lists 1…100000, --labels 100…1000000") }
    }

    func run() throws {
        let directory = config ?? ProcessInfo.processInfo.environment["OMS_CONFIG_DIR"] ?? "config"
        let rules = try FulfillmentRules.load(directory: directory).rules(at: { Date() })
        guard let warehouse = rules.warehouses["A"] else { throw ValidationError("fulfillment.json has no warehouse A") }
        let layout = warehouse.layout
        // A fixed seed: every run measures the same lists, so the table is a reference.
        var random = SplitMix64(seed: 20_261_202)
        var totals: [PickRouting.Method: Int] = [:], byName = 0, worstGap: [PickRouting.Method: Double] = [:]
        var optimalTime = 0.0, stopsTotal = 0
        let clock = ContinuousClock()
        for _ in 0..<lists {
            let count = Int.random(in: 5...30, using: &random)
            stopsTotal += count
            let stops: [WarehouseLayout.Stop] = (0..<count).map { i in
                let aisle = layout.aisles.randomElement(using: &random)!
                return .init(bin: .init(aisle: aisle.id, position: Int.random(in: 1...layout.positionsPerAisle, using: &random), level: Int.random(in: 1...4, using: &random)),
                             sku: "SKU-\(i)", quantity: 1, fulfillmentOrderID: "FO", lineID: String(i))
            }
            let start = clock.now
            let routed = try layout.route(stops)
            optimalTime += (clock.now - start).seconds
            byName += routed.binNameOrderLength
            let optimum = Double(routed.lengths[.optimal] ?? 1)
            for (method, length) in routed.lengths {
                totals[method, default: 0] += length
                worstGap[method] = max(worstGap[method] ?? 0, Double(length) / optimum - 1)
            }
        }
        let optimum = Double(totals[.optimal] ?? 1)
        print("oms-bench fulfillment-core: \(lists) generated pick lists (5–30 stops, mean \(String(format: "%.1f", Double(stopsTotal) / Double(lists)))) in warehouse A (\(layout.aisles.count) aisles × \(Double(layout.aisleLength) / 10) m, depot at the front of aisle \(layout.aisles.first?.id ?? "?"))")
        print("  method          mean tour     vs optimum   worst list")
        for method in PickRouting.Method.singleBlock {
            let total = Double(totals[method] ?? 0)
            print("  " + method.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
                  + String(format: "  %8.1f m    %+7.1f %%    %+7.1f %%", total / Double(lists) / 10, (total / optimum - 1) * 100, (worstGap[method] ?? 0) * 100))
        }
        print("  " + "by bin name".padding(toLength: 14, withPad: " ", startingAt: 0)
              + String(format: "  %8.1f m    %+7.1f %%   (what OpenBoxes, HotWax and Odoo's wave report print)", Double(byName) / Double(lists) / 10,
                       (Double(byName) / optimum - 1) * 100))
        print(String(format: "  routing time    %.0f µs per list for all six methods", optimalTime / Double(lists) * 1e6))

        // Packing: a typical order (tent, lamp, bottle) and one with dangerous goods.
        let items = [Packing.Item(lineID: "1", sku: "TENT-2P", dimensions: .init(550, 180, 180), weightGrams: 2_400),
                     Packing.Item(lineID: "2", sku: "LAMP-HEAD", dimensions: .init(90, 60, 50), weightGrams: 120),
                     Packing.Item(lineID: "2", sku: "LAMP-HEAD", dimensions: .init(90, 60, 50), weightGrams: 120),
                     Packing.Item(lineID: "3", sku: "BOTTLE-1L", dimensions: .init(80, 80, 260), weightGrams: 180),
                     Packing.Item(lineID: "4", sku: "STOVE-GAS", dimensions: .init(150, 150, 120), weightGrams: 400, dangerousGoodsClass: "2.1")]
        guard let limits = rules.limits(for: "DHL-PAKET") else { throw ValidationError("no carrier limits for DHL-PAKET") }
        let packs = max(1, labels / 10)
        var start = clock.now
        var parcels = 0
        for _ in 0..<packs { parcels += Packing.pack(items, cartons: warehouse.cartons, limits: limits).parcels.count }
        let packSeconds = (clock.now - start).seconds
        let sscc = try SSCC(extensionDigit: 3, companyPrefix: rules.gs1CompanyPrefix, serial: 1)
        let label = ShippingLabel(sscc: sscc, carrierService: "DHL-PAKET", sender: warehouse.address,
                                  recipient: PostalAddress(name: "Mia Grat", street: "Seestrasse 8", postalCode: "8002", city: "Zürich", country: "CH"),
                                  parcelNumber: 1, parcelCount: 2, weightGrams: 3_250, orderID: "BB-100002", fulfillmentOrderID: "BB-100002-F1",
                                  dangerousGoodsClass: nil, customsDeclaration: true, note: "Alles Gute ^XZ~JR_x")
        start = clock.now
        var bytes = 0
        for _ in 0..<labels { bytes += ZPL.label(label).utf8.count }
        let zplSeconds = (clock.now - start).seconds
        let pdfCount = max(1, labels / 4)
        start = clock.now
        var pdfBytes = 0
        for _ in 0..<pdfCount { pdfBytes += FulfillmentDocuments.labelPDF(label).count }
        let pdfSeconds = (clock.now - start).seconds
        print(String(format: "  packing         %.0f orders/s (5 items, DG apart: %d parcels each), one core", Double(packs) / packSeconds, parcels / packs))
        print(String(format: "  ZPL labels      %.0f labels/s (%d bytes each), one core", Double(labels) / zplSeconds, bytes / labels))
        print(String(format: "  PDF labels      %.0f labels/s (%d bytes each, with Code 128), one core", Double(pdfCount) / pdfSeconds, pdfBytes / pdfCount))
    }
}
