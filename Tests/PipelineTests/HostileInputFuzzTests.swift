import Foundation
import Shared
import Testing

/// Issue "Hardening" §1: no input may crash a worker. Thousands of generated hostile
/// events on every inbound topic of Capture and the Router, interleaved with valid
/// ones, through the real worker processes.
@Suite("Hostile input fuzz", .serialized)
struct HostileInputFuzzTests {
    static let perTopic = 1_000

    static func order(_ i: Int) -> [String: JSONValue] {
        let event = BergUndBeutelOrders.orderCreated(index: i, orderID: "FZ-\(i)", eventID: "fz-order-\(i)")
        return event.json.objectValue!
    }

    static var shapes: [TopicShape] { [
        TopicShape(topic: Topic.shopOrders, valid: order,
                   integerPaths: [["payment", "amount"], ["lines", "0", "quantity"], ["lines", "0", "unitPrice"], ["shippingCharge"]],
                   requiredStrings: ["orderId", "placedAt", "currency", "shippingMethod"], patternPath: ["currency"],
                   array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1, "unitPrice": 1]),
                   freeText: ["billingAddress", "name"], ignored: nil),
        TopicShape(topic: Topic.shopPayments, valid: { i in
            HostileEvents.envelope(type: "Payment.Captured", id: "fz-payment-\(i)", subject: "FZP-\(i)",
                                   data: ["orderId": .string("FZP-\(i)"), "amount": .integer(Int64(100 + i)), "currency": "EUR", "reference": "R-1"])
        }, integerPaths: [["amount"]], requiredStrings: ["orderId", "currency"], patternPath: ["currency"], array: nil, freeText: ["reference"],
                   ignored: { i in
            HostileEvents.envelope(type: "Payment.Authorized", id: "fz-payment-auth-\(i)", subject: "FZP-\(i)", data: ["orderId": .string("FZP-\(i)")])
        }),
        TopicShape(topic: Topic.catalogProducts, valid: { i in
            HostileEvents.envelope(type: "Product.Changed", id: "fz-product-\(i)", subject: "FZ-SKU-\(i)",
                                   data: ["sku": .string("FZ-SKU-\(i)"), "name": "Zelt", "sellable": true, "taxClass": "standard", "weightGrams": 2_500])
        }, integerPaths: [["weightGrams"]], requiredStrings: ["sku", "name", "taxClass"], patternPath: nil,
                   array: (["groupPrices"], 500, ["group": "g", "currency": "EUR", "unitPrice": 1]), freeText: ["name"], ignored: nil),
        TopicShape(topic: Topic.crmCustomers, valid: { i in
            i % 2 == 0
                ? HostileEvents.envelope(type: "Customer.Changed", id: "fz-customer-\(i)", subject: "FZC-\(i)",
                                         data: ["customerId": .string("FZC-\(i)"), "type": "b2b", "group": "clubs",
                                                "creditLimit": ["amount": 100_000, "currency": "EUR"]])
                : HostileEvents.envelope(type: "Receivables.Changed", id: "fz-receivables-\(i)", subject: "FZC-\(i)",
                                         data: ["customerId": .string("FZC-\(i)"), "unpaidAmount": 5_000, "currency": "EUR"])
        }, integerPaths: [], requiredStrings: ["customerId"], patternPath: nil, array: nil, freeText: nil, ignored: nil),
        // oms.billing: Billing's ledger, read by Capture's credit check (Receivables.Changed; its amounts are what arithmetic meets).
        TopicShape(topic: Topic.omsBilling, valid: { i in
            HostileEvents.envelope(type: "Receivables.Changed", id: "fz-billing-receivables-\(i)", subject: "FZC-\(i)",
                                   data: ["customerId": .string("FZC-\(i)"), "unpaidAmount": 5_000, "overdueAmount": 0, "openInvoices": 1,
                                          "currency": "EUR", "asOf": "2026-11-27T09:14:03Z"])
        }, integerPaths: [["unpaidAmount"], ["overdueAmount"]], requiredStrings: ["customerId"], patternPath: ["currency"], array: nil, freeText: nil, ignored: { i in
            HostileEvents.envelope(type: "CreditNote.Issued", id: "fz-creditnote-\(i)", subject: "FZ-\(i)", data: ["number": "RK-2026-000001"])
        }),
        TopicShape(topic: Topic.omsStock, valid: { i in
            HostileEvents.envelope(type: "Availability.Changed", id: "fz-availability-\(i)", subject: nil,
                                   data: ["asOf": "2026-11-27T09:14:03Z", "items": [["sku": .string("FZ-SKU-\(i)"), "available": 3]]])
        }, integerPaths: [["items", "0", "available"]], requiredStrings: ["asOf"], patternPath: nil,
                   array: (["items"], 10_000, ["sku": "X", "available": 1]), freeText: nil, ignored: nil),
        TopicShape(topic: Topic.omsOrders, valid: { i in
            HostileEvents.envelope(type: "Order.Accepted", id: "fz-accepted-\(i)", subject: "FZR-\(i)", data: [
                "orderId": .string("FZR-\(i)"), "customerId": "C-1", "customerType": "b2c", "currency": "EUR", "total": 1_000,
                "acceptedAt": "2026-11-27T09:14:03Z", "shippingCountry": "DE", "shippingMethod": "standard",
                "lines": [["lineId": "1", "sku": .string("FZ-SKU-\(i % 50)"), "quantity": 1, "unitPrice": 1_000]],
            ])
        }, integerPaths: [["total"], ["lines", "0", "quantity"]], requiredStrings: ["orderId", "customerId", "acceptedAt"],
                   patternPath: ["currency"], array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1, "unitPrice": 1]),
                   freeText: nil, ignored: { i in
            HostileEvents.envelope(type: "Backorder.Created", id: "fz-backorder-\(i)", subject: "FZR-\(i)", data: ["orderId": .string("FZR-\(i)")])
        }),
        TopicShape(topic: Topic.inventoryStock, valid: { i in
            HostileEvents.envelope(type: "Stock.Changed", id: "fz-stock-\(i)", subject: "A", data: [
                "warehouseId": "A", "sequence": .integer(Int64(i)), "items": [["sku": .string("FZ-SKU-\(i % 50)"), "onHand": 5]],
            ])
        }, integerPaths: [["sequence"], ["items", "0", "onHand"]], requiredStrings: ["warehouseId"], patternPath: nil,
                   array: (["items"], 10_000, ["sku": "X", "onHand": 1]), freeText: nil, ignored: nil),
        TopicShape(topic: Topic.warehouseEvents, valid: { i in
            HostileEvents.envelope(type: "Pick.Confirmed", id: "fz-pick-\(i)", subject: "FZW-\(i)", data: ["orderId": .string("FZW-\(i)")])
        }, integerPaths: [], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil, array: nil, freeText: nil, ignored: nil,
                   validIsSkipped: true),
        // The Router reads FulfillmentOrder.ShortPicked here; a packing problem on the same topic is Fulfillment's news, not its own.
        TopicShape(topic: Topic.omsFulfillment, valid: { i in
            HostileEvents.envelope(type: "FulfillmentOrder.PackingProblem", id: "fz-problem-\(i)", subject: "FZF-\(i)", data: [
                "fulfillmentOrderId": .string("FO-FZF-\(i)"), "orderId": .string("FZF-\(i)"), "problems": [["code": "no-carton", "message": "too big"]],
            ])
        }, integerPaths: [], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil, array: nil, freeText: nil, ignored: nil,
                   validIsSkipped: true),
        // oms.privacy: Capture's erasure orders, which every other stage obeys (only oms/capture may order one; the
        // stages' Customer.Erased confirmations on the same topic are skipped).
        TopicShape(topic: Topic.omsPrivacy, valid: { i in
            var event = HostileEvents.envelope(type: "Customer.ErasureOrdered", id: "fz-erasure-\(i)", subject: "FZE-\(i)", data: [
                "erasureId": .string("FZE-ERASURE-\(i)"), "customerId": .string("FZE-\(i)"), "orderIds": [.string("FZE-\(i)-1")],
                "requestedBy": "dpo@example.org", "requestedAt": "2026-11-27T09:14:03Z",
            ])
            event["source"] = "oms/capture"
            return event
        }, integerPaths: [], requiredStrings: ["erasureId", "customerId", "requestedBy", "requestedAt"], patternPath: nil,
                   array: (["orderIds"], 10_000, "FZE-X"), freeText: ["reason"], ignored: { i in
            // Another stage's confirmation on the same topic: skipped, never dead-lettered.
            var event = HostileEvents.envelope(type: "Customer.Erased", id: "fz-erased-\(i)", subject: "FZE-\(i)", data: [
                "erasureId": .string("FZE-ERASURE-\(i)"), "customerId": .string("FZE-\(i)"), "stage": "billing", "orderIds": [.string("FZE-\(i)-1")], "rows": 3,
                "erasedAt": "2026-11-27T09:14:05Z",
            ])
            event["source"] = "oms/billing"
            return event
        }),
    ] }

    /// Hostile events of `warehouse.events` are built from the type the Router handles there.
    static func hostileShapes() -> [TopicShape] {
        shapes.map { shape in
            if shape.topic == Topic.omsFulfillment {
                return TopicShape(topic: shape.topic, valid: { i in
                    HostileEvents.envelope(type: "FulfillmentOrder.ShortPicked", id: "fz-short-\(i)", subject: "FZF-\(i)", data: [
                        "fulfillmentOrderId": .string("FO-FZF-\(i)"), "orderId": .string("FZF-\(i)"), "warehouseId": "A",
                        "lines": [["lineId": "1", "sku": "X", "missing": 1, "picked": 0]],
                    ])
                }, integerPaths: [["lines", "0", "missing"], ["lines", "0", "picked"]], requiredStrings: ["fulfillmentOrderId", "orderId", "warehouseId"],
                                  patternPath: nil, array: (["lines"], 500, ["lineId": "1", "sku": "X", "missing": 1, "picked": 0]), freeText: nil, ignored: nil)
            }
            guard shape.topic == Topic.warehouseEvents else { return shape }
            return TopicShape(topic: shape.topic, valid: { i in
                HostileEvents.envelope(type: "FulfillmentOrder.Confirmed", id: "fz-confirmed-\(i)", subject: "FZW-\(i)",
                                       data: ["fulfillmentOrderId": .string("FO-FZW-\(i)"), "orderId": .string("FZW-\(i)")])
            }, integerPaths: [], requiredStrings: shape.requiredStrings, patternPath: nil, array: nil, freeText: nil,
                              ignored: nil)
        }
    }

    static let consumers: [String: [String]] = [
        Topic.shopOrders: ["capture"], Topic.shopPayments: ["capture"], Topic.crmCustomers: ["capture"], Topic.omsStock: ["capture"], Topic.omsBilling: ["capture"],
        Topic.catalogProducts: ["capture", "router"], Topic.omsOrders: ["router"], Topic.inventoryStock: ["router"],
        Topic.warehouseEvents: ["router"], Topic.omsFulfillment: ["router"], Topic.omsPrivacy: ["router"],
    ]

    @Test("≥ 1,000 hostile events per inbound topic: no crash, each bad one dead-lettered with its reason, each valid one processed and stored as sent")
    func fuzz() throws {
        let rig = try PipelineRig(partitions: 4)
        let capture = try rig.start("oms-capture", name: "fuzz-capture", ["OMS_BATCH_SIZE": "200"])
        let router = try rig.start("oms-router", name: "fuzz-router", ["OMS_BATCH_SIZE": "200"])
        let alerting = try rig.start("oms-alerting", name: "fuzz-alerting")
        let pids = [capture.pid, router.pid, alerting.pid]

        // Valid events come from the valid shapes, hostile ones from the handled types.
        let hostile = HostileEvents.generate(shapes: Self.hostileShapes(), perTopic: Self.perTopic, seed: 20_261_201)
            .filter { if case .deadLetter = $0.expectation { return true } else { return false } }
        let valid = HostileEvents.generate(shapes: Self.shapes, perTopic: Self.perTopic, seed: 20_261_202)
            .filter { if case .deadLetter = $0.expectation { return false } else { return true } }
        let toProcess = valid.filter { if case .processed = $0.expectation { return true } else { return false } }
        var all = hostile + valid
        var random = SeededRandom(seed: 7)
        for index in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(index, random.below(index + 1)) }
        for topic in Self.consumers.keys {
            #expect(hostile.filter { $0.topic == topic }.count >= Self.perTopic, "\(topic)")
        }

        // oms.dlq is read by oms-alerting, which must keep whatever arrives there, headers and all.
        var dlqRandom = SeededRandom(seed: 99)
        let hostileHeaderValues: [[UInt8]] = [
            Array("a\u{0}b".utf8), [0xFF, 0xFE, 0x00], Array(String(repeating: "h", count: 100_000).utf8), Array("-99999999999999999999".utf8),
            Array("9223372036854775807".utf8), Array("NaN".utf8), [], Array("2026-02-30T00:00:00Z".utf8), Array("\u{202E}x".utf8),
        ]
        let dlqMessages: [OutgoingMessage] = (0..<Self.perTopic).map { index in
            var headers: [(String, [UInt8])] = []
            for name in [DeadLetterHeader.id, DeadLetterHeader.stage, DeadLetterHeader.errorClass, DeadLetterHeader.errorMessage,
                         DeadLetterHeader.attempts, DeadLetterHeader.originalPartition, DeadLetterHeader.originalOffset,
                         DeadLetterHeader.originalEventID, DeadLetterHeader.failedAt, DeadLetterHeader.replayable] where dlqRandom.below(3) > 0 {
                headers.append((name, index % 5 == 0 ? Array("\(name)-\(index)".utf8) : dlqRandom.pick(hostileHeaderValues)))
            }
            // A unique id where one is given, so that each message is its own dead letter.
            if let position = headers.firstIndex(where: { $0.0 == DeadLetterHeader.id }) { headers[position].1 += Array("-\(index)".utf8) }
            let payload: [UInt8] = (0..<dlqRandom.below(2_000)).map { _ in UInt8(truncatingIfNeeded: dlqRandom.next()) }
            return OutgoingMessage(topic: Topic.omsDLQ, key: Array("fz-dlq-\(index)".utf8), value: payload, headers: headers)
        }
        try rig.producer.publish(dlqMessages)

        for chunk in stride(from: 0, to: all.count, by: 500) {
            try rig.producer.publish(all[chunk..<min(all.count, chunk + 500)].map {
                OutgoingMessage(topic: $0.topic, key: $0.key, value: $0.payload)
            })
        }
        let expectedDeadLetters = hostile.reduce(0) { $0 + (Self.consumers[$1.topic]?.count ?? 0) } + Self.perTopic
        let expectedProcessed = toProcess.reduce(0) { $0 + (Self.consumers[$1.topic]?.count ?? 0) }
        let validIDs = valid.compactMap { message -> String? in
            if case .processed(let id) = message.expectation { return id } else { return nil }
        }
        // Until everything arrived, or nothing moved for 75 s (then the assertions below say what is
        // missing). The window is longer than a publish's delivery timeout (30 s) plus a retry, because
        // make test runs other suites in parallel and a starved broker may make a worker wait that long.
        var last = (-1, -1), lastChange = Date()
        while Date().timeIntervalSince(lastChange) < 75 {
            let letters = try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters").first!.decode("n", as: Int.self)
            let processed = try rig.database.query("""
                SELECT (SELECT count(*) FROM capture.processed_messages WHERE idempotency_key LIKE 'fz-%')
                     + (SELECT count(*) FROM router.processed_messages WHERE idempotency_key LIKE 'fz-%') AS n
                """).first!.decode("n", as: Int.self)
            if letters >= expectedDeadLetters && processed >= expectedProcessed { break }
            if (letters, processed) != last { (last, lastChange) = ((letters, processed), Date()) }
            Thread.sleep(forTimeInterval: 1)
        }

        let classes = try rig.database.query("SELECT error_class, count(*) AS n FROM alerting.dead_letters WHERE stage IN ('capture', 'router') GROUP BY 1 ORDER BY 2 DESC")
            .map { "\(try $0.decode("error_class", as: String.self)) \(try $0.decode("n", as: Int.self))" }
        print("fuzz: \(hostile.count) hostile and \(valid.count) valid events on \(Self.consumers.count) topics; dead letters by class: \(classes.joined(separator: ", "))")

        // 0 crashes: the same processes, still running.
        #expect(capture.isRunning && router.isRunning && alerting.isRunning)
        #expect([capture.pid, router.pid, alerting.pid] == pids)

        // Every bad event: one dead letter per consuming stage, with a class the mutation calls for.
        var letters: [String: [(stage: String, errorClass: String, reason: String)]] = [:]
        for row in try rig.database.query("""
            SELECT convert_from(message_key, 'UTF8') AS key, stage, error_class, reason FROM alerting.dead_letters
            """) {
            letters[try row.decode("key"), default: []].append((try row.decode("stage"), try row.decode("error_class"), try row.decode("reason")))
        }
        let keptFromDLQ = (0..<Self.perTopic).filter { letters["fz-dlq-\($0)"]?.count == 1 }.count
        #expect(keptFromDLQ == Self.perTopic, "oms-alerting kept \(keptFromDLQ) of \(Self.perTopic) hostile oms.dlq messages")
        letters = letters.filter { !$0.key.hasPrefix("fz-dlq-") }
        var wrong: [String] = []
        for message in hostile {
            guard case .deadLetter(let classes, let mutation) = message.expectation else { continue }
            let found = letters[message.key] ?? []
            let stages = Self.consumers[message.topic] ?? []
            if found.map(\.stage).sorted() != stages.sorted() {
                wrong.append("\(message.key) (\(mutation)): dead letters from \(found.map(\.stage)) instead of \(stages)")
                continue
            }
            for letter in found where !classes.contains(letter.errorClass) || letter.reason.count < 10 {
                wrong.append("\(message.key) (\(mutation)) on \(letter.stage): \(letter.errorClass): \(letter.reason.prefix(200))")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) hostile events not dead-lettered as expected, e.g. \(wrong.prefix(8))")
        #expect(letters.count == hostile.count, "no valid event may be dead-lettered")
        #expect(try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE error_class = 'database-rejected'")
            .first!.decode("n", as: Int.self) == 0)

        // Every valid event processed by each stage that consumes its topic.
        let captureIDs = Set(try rig.database.query("SELECT idempotency_key FROM capture.processed_messages").map { try $0.decode("idempotency_key", as: String.self) })
        let routerIDs = Set(try rig.database.query("SELECT idempotency_key FROM router.processed_messages").map { try $0.decode("idempotency_key", as: String.self) })
        var missing: [String] = []
        for message in valid {
            guard case .processed(let id) = message.expectation else { continue }
            for stage in Self.consumers[message.topic] ?? [] where !(stage == "capture" ? captureIDs : routerIDs).contains(id) {
                missing.append("\(id) by \(stage)")
            }
        }
        #expect(missing.isEmpty, "valid events not processed: \(missing.prefix(8))")
        let skippedStored = HostileEvents.skippedButStored(valid, processed: captureIDs.union(routerIDs))
        #expect(skippedStored.isEmpty, "events for another stage got a dedupe row: \(skippedStored.prefix(8))")
        #expect(valid.contains { if case .skipped = $0.expectation { return true } else { return false } })
        // 7 of the 11 topics carry valid events the stages act on (the others' are skipped or partly so).
        #expect(validIDs.count >= 6 * Self.perTopic / 4)

        // Stored exactly as sent: names with hostile but valid Unicode and injection text.
        var different: [String] = []
        for message in valid where message.topic == Topic.shopOrders || message.topic == Topic.catalogProducts {
            guard let event = try? JSONParser.parse(message.payload), let data = event["data"] else { continue }
            if message.topic == Topic.shopOrders, let sent = data["billingAddress"]?["name"]?.stringValue, let id = data["orderId"]?.stringValue {
                let stored = try rig.database.query("SELECT name FROM capture.order_parties WHERE order_id = \(id) AND role = 'billing'")
                    .first?.decode("name", as: String.self)
                if stored.map({ Array($0.utf8) }) != Array(sent.utf8) { different.append("\(id): \(stored ?? "nil") ≠ \(sent)") }
            }
            if message.topic == Topic.catalogProducts, event["type"]?.stringValue == "Product.Changed",
               let sent = data["name"]?.stringValue, let sku = data["sku"]?.stringValue {
                let stored = try rig.database.query("SELECT name FROM capture.products WHERE sku = \(sku)").first?.decode("name", as: String.self)
                if stored.map({ Array($0.utf8) }) != Array(sent.utf8) { different.append("\(sku): \(stored ?? "nil") ≠ \(sent)") }
            }
        }
        #expect(different.isEmpty, "stored text differs from what was sent: \(different.prefix(5))")
        #expect(try rig.database.query("SELECT count(*) AS n FROM capture.orders WHERE order_id LIKE 'FZ-%'").first!.decode("n", as: Int.self)
            == valid.filter { $0.topic == Topic.shopOrders }.count)

        #expect(capture.terminate(waitSeconds: 15) == 0)
        #expect(router.terminate(waitSeconds: 15) == 0)
        #expect(alerting.terminate(waitSeconds: 15) == 0)
    }
}
