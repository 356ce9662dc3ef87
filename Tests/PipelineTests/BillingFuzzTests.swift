import Foundation
import Shared
import Testing

/// No input may crash oms-billing: ≥ 1,000 hostile events on each topic it reads, with valid ones in between.
@Suite("Billing hostile input fuzz", .serialized)
struct BillingFuzzTests {
    static let perTopic = 1_000

    static var shapes: [TopicShape] { [
        TopicShape(topic: Topic.omsOrders, valid: { i in
            HostileEvents.envelope(type: "Order.Accepted", id: "fz-accepted-\(i)", subject: "FZB-\(i)", data: [
                "orderId": .string("FZB-\(i)"), "customerId": "C-1", "customerType": "b2c", "currency": "EUR", "total": 1_000,
                "acceptedAt": "2026-11-27T09:14:03Z", "shippingCountry": "DE", "shippingMethod": "standard",
                "shipTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"],
                "billing": ["pricesIncludeTax": true, "shippingCharge": 495,
                            "billTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"]],
                "lines": [["lineId": "1", "sku": "FZ-SKU", "quantity": 1, "unitPrice": 1_000]],
            ])
        }, integerPaths: [["total"], ["lines", "0", "quantity"]], requiredStrings: ["orderId", "customerId", "acceptedAt"],
                   patternPath: ["currency"], array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1, "unitPrice": 1]),
                   freeText: ["shipTo", "name"], ignored: { i in
            HostileEvents.envelope(type: "Backorder.Created", id: "fz-backorder-\(i)", subject: "FZB-\(i)", data: ["orderId": .string("FZB-\(i)")])
        }),
        TopicShape(topic: Topic.catalogProducts, valid: { i in
            HostileEvents.envelope(type: "Product.Changed", id: "fz-product-\(i)", subject: "FZ-SKU-\(i)",
                                   data: ["sku": .string("FZ-SKU-\(i)"), "name": "Zelt", "sellable": true, "taxClass": "standard", "weightGrams": 2_500])
        }, integerPaths: [["weightGrams"]], requiredStrings: ["sku", "name", "taxClass"], patternPath: nil,
                   array: (["groupPrices"], 500, ["group": "g", "currency": "EUR", "unitPrice": 1]), freeText: ["name"], ignored: nil),
        // oms.shipments: valid are shipments' neighbours Billing takes no action on; hostile ones are built from Shipment.Shipped.
        TopicShape(topic: Topic.omsShipments, valid: { i in
            HostileEvents.envelope(type: "Shipment.Delivered", id: "fz-delivered-\(i)", subject: "FZB-\(i)", data: [
                "fulfillmentOrderId": .string("FO-FZB-\(i)"), "orderId": .string("FZB-\(i)"), "deliveredAt": "2026-11-27T09:14:03Z",
                "parcels": [["trackingNumber": "T", "carrier": "DHL"]],
            ])
        }, integerPaths: [], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil, array: nil, freeText: nil, ignored: nil),
        // shop.payments: a bank payment for a customer without open invoices is kept as credit.
        TopicShape(topic: Topic.shopPayments, valid: { i in
            HostileEvents.envelope(type: "Payment.Received", id: "fz-received-\(i)", subject: "FZC-\(i)", data: [
                "paymentId": .string("PAY-FZ-\(i)"), "customerId": .string("FZC-\(i)"), "amount": 1_000, "currency": "EUR", "reference": "RE-2026-000001",
            ])
        }, integerPaths: [["amount"]], requiredStrings: ["paymentId", "customerId"], patternPath: ["currency"], array: nil, freeText: ["reference"],
                   ignored: { i in
            HostileEvents.envelope(type: "Payment.Failed", id: "fz-failed-\(i)", subject: "FZB-\(i)", data: ["orderId": .string("FZB-\(i)"), "reason": "x"])
        }),
    ] }

    /// Returns' refunds only as hostile events: a valid refund of an order without invoice is itself a dead letter.
    static var refunds: TopicShape { TopicShape(topic: Topic.omsReturns, valid: { i in
        HostileEvents.envelope(type: "Refund.Approved", id: "fz-refund-\(i)", subject: "FZB-\(i)", data: [
            "refundId": .string("RF-FZ-\(i)"), "orderId": .string("FZB-\(i)"), "currency": "EUR", "shippingAmount": 0,
            "lines": [["lineId": "1", "quantity": 1, "amount": 1_000]],
        ])
    }, integerPaths: [["lines", "0", "quantity"], ["shippingAmount"]], requiredStrings: ["refundId", "orderId"], patternPath: ["currency"],
       array: (["lines"], 500, ["lineId": "1", "quantity": 1, "amount": 1]), freeText: nil, ignored: nil) }

    /// Service completions only as hostile events too: a valid one for an order Billing does not know is a dead letter.
    static var completions: TopicShape { TopicShape(topic: Topic.warehouseEvents, valid: { i in
        HostileEvents.envelope(type: "Service.Completed", id: "fz-service-\(i)", subject: "FZB-\(i)", data: [
            "orderId": .string("FZB-\(i)"), "completedAt": "2026-11-27T09:14:03Z", "technicianId": "T-1", "report": "ok",
        ])
    }, integerPaths: [], requiredStrings: ["orderId", "completedAt"], patternPath: nil, array: nil, freeText: ["report"], ignored: nil) }

    static func hostileShapes() -> [TopicShape] {
        [refunds, completions] + shapes.map { shape in
            guard shape.topic == Topic.omsShipments else { return shape }
            return TopicShape(topic: shape.topic, valid: { i in
                HostileEvents.envelope(type: "Shipment.Shipped", id: "fz-shipped-\(i)", subject: "FZB-\(i)", data: [
                    "fulfillmentOrderId": .string("FO-FZB-\(i)"), "orderId": .string("FZB-\(i)"),
                    "parcels": [["trackingNumber": "T", "carrier": "DHL"]], "lines": [["lineId": "1", "sku": "X", "quantity": 1]],
                ])
            }, integerPaths: [["lines", "0", "quantity"]], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil,
                              array: (["parcels"], 500, ["trackingNumber": "T", "carrier": "DHL"]), freeText: nil, ignored: nil)
        }
    }

    @Test("≥ 1,000 hostile events per topic of Billing: no crash, each dead-lettered with its reason, each valid one processed")
    func fuzz() throws {
        let rig = try PipelineRig(partitions: 4)
        let billing = try rig.start("oms-billing", name: "fuzz-billing", ["OMS_BATCH_SIZE": "200"])
        let alerting = try rig.start("oms-alerting", name: "fuzz-billing-alerting")
        let pids = [billing.pid, alerting.pid]
        let hostile = HostileEvents.generate(shapes: Self.hostileShapes(), perTopic: Self.perTopic, seed: 20_261_205)
            .filter { if case .deadLetter = $0.expectation { return true } else { return false } }
        let valid = HostileEvents.generate(shapes: Self.shapes, perTopic: Self.perTopic, seed: 20_261_206)
            .filter { if case .processed = $0.expectation { return true } else { return false } }
        var all = hostile + valid
        var random = SeededRandom(seed: 13)
        for index in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(index, random.below(index + 1)) }
        for chunk in stride(from: 0, to: all.count, by: 500) {
            try rig.producer.publish(all[chunk..<min(all.count, chunk + 500)].map { OutgoingMessage(topic: $0.topic, key: $0.key, value: $0.payload) })
        }
        var last = (-1, -1), lastChange = Date()
        while Date().timeIntervalSince(lastChange) < 75 {
            let letters = try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE stage = 'billing'").first!.decode("n", as: Int.self)
            let processed = try rig.database.query("SELECT count(*) AS n FROM billing.processed_messages WHERE idempotency_key LIKE 'fz-%'").first!.decode("n", as: Int.self)
            if letters >= hostile.count && processed >= valid.count { break }
            if (letters, processed) != last { (last, lastChange) = ((letters, processed), Date()) }
            Thread.sleep(forTimeInterval: 1)
        }
        #expect(billing.isRunning && alerting.isRunning)
        #expect([billing.pid, alerting.pid] == pids)
        var letters: [String: [(errorClass: String, reason: String)]] = [:]
        for row in try rig.database.query("SELECT convert_from(message_key, 'UTF8') AS key, error_class, reason FROM alerting.dead_letters WHERE stage = 'billing'") {
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
        let processed = Set(try rig.database.query("SELECT idempotency_key FROM billing.processed_messages").map { try $0.decode("idempotency_key", as: String.self) })
        let missing = valid.compactMap { message -> String? in
            guard case .processed(let id) = message.expectation, !processed.contains(id) else { return nil }
            return id
        }
        #expect(missing.isEmpty, "valid events not processed: \(missing.prefix(8))")
        #expect(billing.terminate(waitSeconds: 15) == 0)
        #expect(alerting.terminate(waitSeconds: 15) == 0)
    }
}
