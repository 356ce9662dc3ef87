import Foundation
import Shared
import Testing

/// No input may crash oms-fulfillment: ≥ 1,000 hostile events on each of the five topics it reads, interleaved with valid
/// ones, through the real worker; each bad one dead-lettered with its reason, each valid one processed.
@Suite("Fulfillment hostile input fuzz", .serialized)
struct FulfillmentFuzzTests {
    static let perTopic = 1_000
    static let seedSSCCKey = "seed"

    static func shapes(sscc: String) -> [TopicShape] { [
        TopicShape(topic: Topic.omsFulfillment, valid: { i in
            HostileEvents.envelope(type: "FulfillmentOrder.Created", id: "fz-fo-\(i)", subject: "FZO-\(i)", data: [
                "fulfillmentOrderId": .string("FO-FZ-\(i)"), "orderId": .string("FZO-\(i)"), "warehouseId": "A", "carrierService": "DHL-PAKET",
                "shippingMethod": "standard", "shippingCountry": "DE", "currency": "EUR", "customerType": "b2c",
                "shipTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"],
                "gift": ["wrap": true, "message": "Alles Gute"],
                "lines": [["lineId": "1", "sku": "FZ-LAMP", "quantity": 1, "unitPrice": 3_990]],
            ])
        }, integerPaths: [["lines", "0", "quantity"], ["lines", "0", "unitPrice"]], requiredStrings: ["fulfillmentOrderId", "orderId"],
                   patternPath: ["shippingCountry"], array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1]),
                   freeText: ["shipTo", "name"], ignored: { i in
            HostileEvents.envelope(type: "FulfillmentOrder.ShortPicked", id: "fz-short-ignored-\(i)", subject: "FZO-\(i)", data: [
                "fulfillmentOrderId": .string("FO-FZ-\(i)"), "orderId": .string("FZO-\(i)"), "warehouseId": "A",
                "lines": [["lineId": "1", "sku": "X", "missing": 1, "picked": 0]],
            ])
        }),
        TopicShape(topic: Topic.catalogProducts, valid: { i in
            HostileEvents.envelope(type: "Product.Changed", id: "fz-product-\(i)", subject: "FZ-SKU-\(i)", data: [
                "sku": .string("FZ-SKU-\(i)"), "name": "Zelt", "sellable": true, "taxClass": "standard", "weightGrams": 2_500,
                "dimensionsMm": ["length": 500, "width": 200, "height": 200], "hsCode": "630622", "originCountry": "VN",
            ])
        }, integerPaths: [["weightGrams"], ["dimensionsMm", "length"]], requiredStrings: ["sku", "name", "taxClass"], patternPath: ["hsCode"],
                   array: (["groupPrices"], 500, ["group": "g", "currency": "EUR", "unitPrice": 1]), freeText: ["name"], ignored: nil),
        TopicShape(topic: Topic.inventoryStock, valid: { i in
            HostileEvents.envelope(type: "Stock.Changed", id: "fz-stock-\(i)", subject: "A", data: [
                "warehouseId": "A", "sequence": .integer(Int64(i)), "items": [["sku": .string("FZ-SKU-\(i % 50)"), "onHand": 5, "bin": "03-04-1"]],
            ])
        }, integerPaths: [["sequence"], ["items", "0", "onHand"]], requiredStrings: ["warehouseId"], patternPath: nil,
                   array: (["items"], 10_000, ["sku": "X", "onHand": 1]), freeText: nil, ignored: { i in
            HostileEvents.envelope(type: "Inbound.Expected", id: "fz-inbound-\(i)", subject: "A", data: [
                "inboundId": .string("IN-FZ-\(i)"), "warehouseId": "A", "eta": "2026-12-24T10:00:00Z", "items": [["sku": "X", "quantity": 1]],
            ])
        }),
        // warehouse.events: valid are confirmations of fulfillment orders Fulfillment does not ship itself (taken note of);
        // the hostile ones are built from Pick.Confirmed (see hostileShapes).
        TopicShape(topic: Topic.warehouseEvents, valid: { i in
            HostileEvents.envelope(type: "FulfillmentOrder.Confirmed", id: "fz-confirmed-\(i)", subject: "FZW-\(i)",
                                   data: ["fulfillmentOrderId": .string("FO-FZW-\(i)"), "orderId": .string("FZW-\(i)")])
        }, integerPaths: [], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil, array: nil, freeText: nil, ignored: nil),
        // carrier.shipments: valid are repeats of the confirmation of a parcel packed before the fuzz (no second effect).
        TopicShape(topic: Topic.carrierShipments, valid: { i in
            HostileEvents.envelope(type: "Shipment.Confirmed", id: "fz-shipment-\(i)", subject: "FZS-\(i)",
                                   data: ["sscc": .string(sscc), "carrier": "DHL", "trackingNumber": "FZTRACK1"])
        }, integerPaths: [], requiredStrings: ["sscc", "carrier", "trackingNumber"], patternPath: ["trackingNumber"], array: nil, freeText: nil,
                   ignored: nil),
    ] }

    static func hostileShapes(sscc: String) -> [TopicShape] {
        shapes(sscc: sscc).map { shape in
            guard shape.topic == Topic.warehouseEvents else { return shape }
            return TopicShape(topic: shape.topic, valid: { i in
                HostileEvents.envelope(type: "Pick.Confirmed", id: "fz-pick-\(i)", subject: "FZW-\(i)", data: [
                    "fulfillmentOrderId": .string("FO-FZW-\(i)"), "lines": [["lineId": "1", "picked": 1]],
                ])
            }, integerPaths: [["lines", "0", "picked"]], requiredStrings: ["fulfillmentOrderId"], patternPath: nil,
                              array: (["lines"], 500, ["lineId": "1", "picked": 1]), freeText: nil, ignored: nil)
        }
    }

    @Test("≥ 1,000 hostile events per topic of Fulfillment: no crash, each dead-lettered with its reason, each valid one processed")
    func fuzz() throws {
        let rig = try PipelineRig(partitions: 4)
        let fulfillment = try rig.start("oms-fulfillment", name: "fuzz-fulfillment", ["OMS_BATCH_SIZE": "200"])
        let alerting = try rig.start("oms-alerting", name: "fuzz-fulfillment-alerting")
        let pids = [fulfillment.pid, alerting.pid]
        let shipments = try TopicReader(broker: rig.broker, topic: Topic.omsShipments)

        // A parcel to confirm again and again: one fulfillment order through packing.
        try rig.producer.publish([FulfillmentFixtures.product("FZ-LAMP", grams: 120, mm: (90, 60, 50))])
        try eventually(timeout: 30, "catalog replica") {
            try rig.database.query("SELECT count(*) AS n FROM fulfillment.products").first!.decode("n", as: Int.self) == 1
        }
        try rig.producer.publish([FulfillmentFixtures.fulfillmentOrder("FO-FZ-SEED", order: "FZ-SEED", shipTo: FulfillmentFixtures.shipTo("DE", postalCode: "80331"),
                                                                       lines: [("FZ-LAMP", 1)])])
        try eventually(timeout: 30, "seed waved") {
            try rig.database.query("SELECT count(*) AS n FROM fulfillment.fulfillment_orders WHERE status = 'waved'").first!.decode("n", as: Int.self) == 1
        }
        try rig.producer.publish([FulfillmentFixtures.picked("FO-FZ-SEED", key: "FZ-SEED", [("1", 1)])])
        let sscc = try #require(try shipments.events(ofType: "Shipment.Packed", atLeast: 1, timeout: 30).first?
            .data["parcels"]?.arrayValue?.first?["sscc"]?.stringValue)
        try rig.producer.publish([FulfillmentFixtures.confirmed(sscc: sscc, key: "FZ-SEED", tracking: "FZTRACK1")])

        let hostile = HostileEvents.generate(shapes: Self.hostileShapes(sscc: sscc), perTopic: Self.perTopic, seed: 20_261_203)
            .filter { if case .deadLetter = $0.expectation { return true } else { return false } }
        let valid = HostileEvents.generate(shapes: Self.shapes(sscc: sscc), perTopic: Self.perTopic, seed: 20_261_204)
            .filter { if case .deadLetter = $0.expectation { return false } else { return true } }
        let toProcess = valid.filter { if case .processed = $0.expectation { return true } else { return false } }
        var all = hostile + valid
        var random = SeededRandom(seed: 11)
        for index in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(index, random.below(index + 1)) }
        for topic in [Topic.omsFulfillment, Topic.catalogProducts, Topic.warehouseEvents, Topic.carrierShipments, Topic.inventoryStock] {
            #expect(hostile.filter { $0.topic == topic }.count >= Self.perTopic, "\(topic)")
        }
        for chunk in stride(from: 0, to: all.count, by: 500) {
            try rig.producer.publish(all[chunk..<min(all.count, chunk + 500)].map { OutgoingMessage(topic: $0.topic, key: $0.key, value: $0.payload) })
        }
        var last = (-1, -1), lastChange = Date()
        while Date().timeIntervalSince(lastChange) < 75 {
            let letters = try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE stage = 'fulfillment'").first!.decode("n", as: Int.self)
            let processed = try rig.database.query("SELECT count(*) AS n FROM fulfillment.processed_messages WHERE idempotency_key LIKE 'fz-%'")
                .first!.decode("n", as: Int.self)
            if letters >= hostile.count && processed >= toProcess.count { break }
            if (letters, processed) != last { (last, lastChange) = ((letters, processed), Date()) }
            Thread.sleep(forTimeInterval: 1)
        }
        let classes = try rig.database.query("SELECT error_class, count(*) AS n FROM alerting.dead_letters WHERE stage = 'fulfillment' GROUP BY 1 ORDER BY 2 DESC")
            .map { "\(try $0.decode("error_class", as: String.self)) \(try $0.decode("n", as: Int.self))" }
        print("fulfillment fuzz: \(hostile.count) hostile and \(valid.count) valid events; dead letters by class: \(classes.joined(separator: ", "))")

        #expect(fulfillment.isRunning && alerting.isRunning)
        #expect([fulfillment.pid, alerting.pid] == pids)
        var letters: [String: [(errorClass: String, reason: String)]] = [:]
        for row in try rig.database.query("SELECT convert_from(message_key, 'UTF8') AS key, error_class, reason FROM alerting.dead_letters WHERE stage = 'fulfillment'") {
            letters[try row.decode("key"), default: []].append((try row.decode("error_class"), try row.decode("reason")))
        }
        var wrong: [String] = []
        for message in hostile {
            guard case .deadLetter(let classes, let mutation) = message.expectation else { continue }
            let found = letters[message.key] ?? []
            if found.count != 1 {
                wrong.append("\(message.key) (\(mutation)): \(found.count) dead letters")
                continue
            }
            for letter in found where !classes.contains(letter.errorClass) || letter.reason.count < 10 {
                wrong.append("\(message.key) (\(mutation)): \(letter.errorClass): \(letter.reason.prefix(200))")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) hostile events not dead-lettered as expected, e.g. \(wrong.prefix(8))")
        #expect(letters.count == hostile.count, "no valid event may be dead-lettered")
        #expect(try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE error_class = 'database-rejected'").first!.decode("n", as: Int.self) == 0)
        let processedIDs = Set(try rig.database.query("SELECT idempotency_key FROM fulfillment.processed_messages").map { try $0.decode("idempotency_key", as: String.self) })
        let missing = valid.compactMap { message -> String? in
            guard case .processed(let id) = message.expectation, !processedIDs.contains(id) else { return nil }
            return id
        }
        #expect(missing.isEmpty, "valid events not processed: \(missing.prefix(8))")
        let skippedStored = HostileEvents.skippedButStored(valid, processed: processedIDs)
        #expect(skippedStored.isEmpty, "events for another stage got a dedupe row: \(skippedStored.prefix(8))")
        // The seed parcel kept its one tracking number; valid fulfillment orders were stored and waved.
        #expect(try rig.database.query("SELECT tracking_number FROM fulfillment.parcels WHERE sscc = \(sscc)").first!.decode("tracking_number", as: String.self) == "FZTRACK1")
        let validOrders = valid.filter { $0.topic == Topic.omsFulfillment && (try? JSONParser.parse($0.payload))?["type"]?.stringValue == "FulfillmentOrder.Created" }
        #expect(try rig.database.query("SELECT count(*) AS n FROM fulfillment.fulfillment_orders WHERE fulfillment_order_id LIKE 'FO-FZ-%' AND status = 'waved'")
            .first!.decode("n", as: Int.self) == validOrders.count)
        #expect(fulfillment.terminate(waitSeconds: 15) == 0)
        #expect(alerting.terminate(waitSeconds: 15) == 0)
    }
}
