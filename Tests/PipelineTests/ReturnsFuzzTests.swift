import Foundation
import Shared
import Testing

/// No input may crash oms-returns: ≥ 1,000 hostile events on each topic it reads, with valid ones in between.
@Suite("Returns hostile input fuzz", .serialized)
struct ReturnsFuzzTests {
    static let perTopic = 1_000

    static var shapes: [TopicShape] { [
        TopicShape(topic: Topic.omsOrders, valid: { i in
            HostileEvents.envelope(type: "Order.Accepted", id: "fz-accepted-\(i)", subject: "FZR-\(i)", data: [
                "orderId": .string("FZR-\(i)"), "customerId": "C-1", "customerType": "b2c", "currency": "EUR", "total": 1_000,
                "acceptedAt": "2026-11-27T09:14:03Z", "shippingCountry": "DE", "shippingMethod": "standard",
                "shipTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE", "email": "a@example.org"],
                "billing": ["pricesIncludeTax": true, "shippingCharge": 495, "discounts": [["amount": 100]],
                            "billTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"]],
                "lines": [["lineId": "1", "sku": "FZ-SKU", "quantity": 1, "unitPrice": 1_000]],
            ])
        }, integerPaths: [["total"], ["lines", "0", "quantity"], ["lines", "0", "unitPrice"]], requiredStrings: ["orderId", "customerId", "acceptedAt"],
                   patternPath: ["currency"], array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1, "unitPrice": 1]),
                   freeText: ["shipTo", "email"], ignored: { i in
            HostileEvents.envelope(type: "Backorder.Created", id: "fz-backorder-\(i)", subject: "FZR-\(i)", data: ["orderId": .string("FZR-\(i)")])
        }),
        TopicShape(topic: Topic.catalogProducts, valid: { i in
            HostileEvents.envelope(type: "Product.Changed", id: "fz-product-\(i)", subject: "FZ-SKU-\(i)",
                                   data: ["sku": .string("FZ-SKU-\(i)"), "name": "Zelt", "sellable": true, "taxClass": "standard", "returnable": true,
                                          "category": "outdoor"])
        }, integerPaths: [["weightGrams"]], requiredStrings: ["sku", "name", "taxClass"], patternPath: nil,
                   array: (["groupPrices"], 500, ["group": "g", "currency": "EUR", "unitPrice": 1]), freeText: ["name"], ignored: nil),
        TopicShape(topic: Topic.omsShipments, valid: { i in
            HostileEvents.envelope(type: "Shipment.Shipped", id: "fz-shipped-\(i)", subject: "FZR-\(i)", data: [
                "fulfillmentOrderId": .string("FO-FZR-\(i)"), "orderId": .string("FZR-\(i)"), "shippedAt": "2026-11-27T09:14:03Z",
                "parcels": [["trackingNumber": "T", "carrier": "DHL"]], "lines": [["lineId": "1", "sku": "X", "quantity": 1]],
            ])
        }, integerPaths: [["lines", "0", "quantity"]], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil,
                   array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1]), freeText: nil, ignored: { i in
            HostileEvents.envelope(type: "PickList.Created", id: "fz-picklist-\(i)", subject: "W-\(i)", data: ["waveId": .string("W-\(i)")])
        }),
        // A request for an order Returns does not know is refused (Return.Rejected), not a dead letter.
        TopicShape(topic: Topic.returnsRequests, valid: { i in
            HostileEvents.envelope(type: "Return.Requested", id: "fz-request-\(i)", subject: "FZR-\(i)", data: [
                "requestId": .string("FZ-REQ-\(i)"), "orderId": .string("FZR-UNKNOWN-\(i)"), "channel": "portal", "comment": "kaputt",
                "lines": [["lineId": "1", "quantity": 1, "reason": "changed-mind"]],
            ])
        }, integerPaths: [["lines", "0", "quantity"]], requiredStrings: ["requestId", "orderId", "channel"], patternPath: nil,
                   array: (["lines"], 500, ["lineId": "1", "quantity": 1, "reason": "x"]), freeText: ["comment"], ignored: nil),
    ] }

    /// Receipts and decisions only as hostile events: a valid one for an RMA that does not exist is itself a dead letter.
    static var receipts: TopicShape { TopicShape(topic: Topic.warehouseEvents, valid: { i in
        HostileEvents.envelope(type: "Return.Received", id: "fz-received-\(i)", subject: "FZR-\(i)", data: [
            "rma": .string("R-\(String(format: "%07d", i))"), "warehouseId": "A", "receivedAt": "2026-11-27T09:14:03Z",
            "lines": [["lineId": "1", "quantity": 1, "grade": "A", "notes": "ok"]],
        ])
    }, integerPaths: [["lines", "0", "quantity"]], requiredStrings: ["rma", "warehouseId"], patternPath: ["rma"],
       array: (["lines"], 500, ["lineId": "1", "quantity": 1, "grade": "A"]), freeText: ["lines", "0", "notes"], ignored: nil) }

    static func hostileShapes() -> [TopicShape] { [receipts] + shapes }

    @Test("≥ 1,000 hostile events per topic of Returns: no crash, each dead-lettered with its reason, each valid one processed")
    func fuzz() throws {
        let rig = try PipelineRig(partitions: 4)
        let returns = try rig.start("oms-returns", name: "fuzz-returns", ["OMS_BATCH_SIZE": "200"])
        let alerting = try rig.start("oms-alerting", name: "fuzz-returns-alerting")
        let pids = [returns.pid, alerting.pid]
        let hostile = HostileEvents.generate(shapes: Self.hostileShapes(), perTopic: Self.perTopic, seed: 20_261_211)
            .filter { if case .deadLetter = $0.expectation { return true } else { return false } }
        let valid = HostileEvents.generate(shapes: Self.shapes, perTopic: Self.perTopic, seed: 20_261_212)
            .filter { if case .processed = $0.expectation { return true } else { return false } }
        var all = hostile + valid
        var random = SeededRandom(seed: 13)
        for index in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(index, random.below(index + 1)) }
        for chunk in stride(from: 0, to: all.count, by: 500) {
            try rig.producer.publish(all[chunk..<min(all.count, chunk + 500)].map { OutgoingMessage(topic: $0.topic, key: $0.key, value: $0.payload) })
        }
        var last = (-1, -1), lastChange = Date()
        while Date().timeIntervalSince(lastChange) < 75 {
            let letters = try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE stage = 'returns'").first!.decode("n", as: Int.self)
            let processed = try rig.database.query("SELECT count(*) AS n FROM returns.processed_messages WHERE idempotency_key LIKE 'fz-%'").first!.decode("n", as: Int.self)
            if letters >= hostile.count && processed >= valid.count { break }
            if (letters, processed) != last { (last, lastChange) = ((letters, processed), Date()) }
            Thread.sleep(forTimeInterval: 1)
        }
        #expect(returns.isRunning && alerting.isRunning)
        #expect([returns.pid, alerting.pid] == pids)
        var letters: [String: [(errorClass: String, reason: String)]] = [:]
        for row in try rig.database.query("SELECT convert_from(message_key, 'UTF8') AS key, error_class, reason FROM alerting.dead_letters WHERE stage = 'returns'") {
            letters[try row.decode("key"), default: []].append((try row.decode("error_class"), try row.decode("reason")))
        }
        var wrong: [String] = []
        for message in hostile {
            guard case .deadLetter(let classes, let mutation) = message.expectation else { continue }
            let found = letters[message.key] ?? []
            if found.count != 1 || !classes.contains(found[0].errorClass) {
                wrong.append("\(message.key) (\(mutation)): \(found.map { "\($0.errorClass): \($0.reason.prefix(120))" })")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) hostile events not dead-lettered as expected, e.g. \(wrong.prefix(6))")
        #expect(letters.count == hostile.count, "no valid event may be dead-lettered")
        let processed = Set(try rig.database.query("SELECT idempotency_key FROM returns.processed_messages").map { try $0.decode("idempotency_key", as: String.self) })
        let missing = valid.compactMap { message -> String? in
            guard case .processed(let id) = message.expectation, !processed.contains(id) else { return nil }
            return id
        }
        #expect(missing.isEmpty, "valid events not processed: \(missing.prefix(8))")
        #expect(returns.terminate(waitSeconds: 15) == 0)
        #expect(alerting.terminate(waitSeconds: 15) == 0)
    }
}
