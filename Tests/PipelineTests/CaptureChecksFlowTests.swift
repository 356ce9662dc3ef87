import Foundation
import Shared
import Testing

/// The intake checks end to end: real processes, real PostgreSQL and broker.
@Suite("Capture checks end to end", .serialized)
struct CaptureChecksFlowTests {
    static func order(_ id: String, _ index: Int, _ change: (inout [String: JSONValue]) -> Void = { _ in }) -> CloudEvent {
        var event = BergUndBeutelOrders.orderCreated(index: index, orderID: id)
        var data = event.data.objectValue!
        change(&data)
        event.data = .object(data)
        return event
    }

    static func payment(_ type: String, orderID: String, amount: Int64 = 0, reason: String = "") -> OutgoingMessage {
        var data: [String: JSONValue] = ["orderId": .string(orderID)]
        if type == "Payment.Captured" {
            data["amount"] = .integer(amount)
            data["currency"] = "EUR"
            data["reference"] = .string("BANK-\(orderID)")
        } else {
            data["reason"] = .string(reason)
        }
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "shop/berg-und-beutel", type: type, subject: orderID,
                               time: EventTime.format(Date()), data: .object(data))
        return OutgoingMessage(topic: Topic.shopPayments, key: orderID, value: event.serialized())
    }

    static func amount(_ event: CloudEvent) -> Int64 { event.data["payment"]!["amount"]!.int64Value! }

    @Test("a mixed stream ends in exactly the expected states and events", arguments: [1, 2])
    func mixedStream(workers: Int) throws {
        let run = String(UUID().uuidString.prefix(6))
        func id(_ name: String) -> String { "\(name)-\(run)" }
        let rig = try PipelineRig(partitions: 12)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let captures = try (0..<workers).map { index in
            try rig.start("oms-capture", name: "capture-mix-\(index)", ["OMS_HOUSEKEEPING_SECONDS": "1", "OMS_BATCH_SIZE": "5"])
        }
        func status(_ orderID: String) throws -> String? {
            try database.query("SELECT status FROM capture.orders WHERE order_id = \(orderID)").first?.decode("status")
        }
        let prepay: (inout [String: JSONValue]) -> Void = {
            $0.set("payment", "method", "prepayment")
            $0.set("payment", "status", "pending")
        }

        // The CRM and PIM replicas first: two business customers (one with unpaid
        // invoices and a small credit line) and the wholesale price of the tent.
        let wholesale = "CB-\(run)", smallCredit = "CL-\(run)"
        let receivables = CloudEvent(id: UUID().uuidString.lowercased(), source: "erp/berg-und-beutel", type: "Receivables.Changed",
                                     subject: smallCredit, time: EventTime.format(Date()),
                                     data: ["customerId": .string(smallCredit), "unpaidAmount": 5_000, "currency": "EUR"])
        let tent = CloudEvent(id: UUID().uuidString.lowercased(), source: "pim/berg-und-beutel", type: "Product.Changed", subject: "TENT-2P",
                              time: EventTime.format(Date()),
                              data: ["sku": "TENT-2P", "name": "Zelt 2P", "sellable": true, "taxClass": "standard",
                                     "groupPrices": [["group": "wholesale", "currency": "EUR", "unitPrice": 20_000]]])
        try producer.publish([
            BergUndBeutelOrders.message(BergUndBeutelOrders.businessCustomer(id: wholesale, creditLimit: 10_000_000, approvalLimit: 50_000)),
            BergUndBeutelOrders.message(BergUndBeutelOrders.businessCustomer(id: smallCredit, creditLimit: 10_000, approvalLimit: 1_000_000)),
            BergUndBeutelOrders.message(receivables),
            OutgoingMessage(topic: Topic.catalogProducts, key: "TENT-2P", value: tent.serialized()),
        ])
        try eventually(timeout: 30, "customer, receivables and product replicas filled") {
            try database.query("""
                SELECT (SELECT count(*) FROM capture.customers) + (SELECT count(*) FROM capture.receivables)
                       + (SELECT count(*) FROM capture.product_group_prices) AS n
                """).first!.decode("n", as: Int.self) == 4
        }
        func business(_ name: String, _ index: Int, customer: String, sku: String, net: Int64) -> CloudEvent {
            BergUndBeutelOrders.business(Self.order(id(name), index) { data in
                data["lines"] = [["lineId": "1", "sku": .string(sku), "quantity": 1, "unitPrice": .integer(net)]]
                data["shippingCharge"] = 0
                data.set("payment", "amount", .integer(net))
            }, customerID: customer)
        }

        // G's payment arrives before G itself.
        let g = Self.order(id("G"), 7, prepay)
        try producer.publish([Self.payment("Payment.Captured", orderID: id("G"), amount: Self.amount(g))])
        try eventually(timeout: 30, "G's early payment recorded") {
            try database.query("SELECT count(*) AS n FROM capture.payments").first!.decode("n", as: Int.self) == 1
        }

        let orders: [CloudEvent] = [
            Self.order(id("A"), 1),
            Self.order(id("B"), 2, prepay),
            Self.order(id("C"), 3, prepay),
            Self.order(id("D"), 4, prepay),
            Self.order(id("E"), 5) { data in
                data.set("customer", "email", "someone@mailinator.com")
                data["lines"] = [["lineId": "1", "sku": "GIFTCARD-100", "quantity": 1, "unitPrice": 10000]]
                data.set("payment", "amount", .integer(10000 + (data["shippingCharge"]?.int64Value ?? 0)))
            },
            Self.order(id("F"), 6) { data in
                data.set("customer", "email", "someone@trashmail.com")
                data.set("billingAddress", "country", "AT")
                data.set("billingAddress", "postalCode", "6020")
                data.set("shippingAddress", "name", "Somebody Else")
                data["lines"] = [["lineId": "1", "sku": "GPS-WATCH-PRO", "quantity": 2, "unitPrice": 40000]]
                data.set("payment", "amount", .integer(80000 + (data["shippingCharge"]?.int64Value ?? 0)))
            },
            g,
            business("H", 8, customer: wholesale, sku: "TENT-2P", net: 20_000),      // within every limit
            business("J", 12, customer: wholesale, sku: "PACK-45L", net: 50_000),    // 59,500 gross: above the buyer's 50,000
            business("K", 13, customer: wholesale, sku: "PACK-45L", net: 60_000),    // above too; the approver will deny
            business("L", 14, customer: smallCredit, sku: "PACK-45L", net: 5_000),   // 5,000 unpaid + 5,950 > 10,000 credit
            business("M", 15, customer: wholesale, sku: "TENT-2P", net: 19_000),     // not the wholesale price
            Self.order(id("H2"), 9) { data in
                data.set("payment", "method", "on-account")
                data.set("payment", "status", "pending")
            },
            Self.order(id("I"), 10) { data in data.set("shippingAddress", "postalCode", "803") },
        ]
        try producer.publish(orders.map(BergUndBeutelOrders.message))
        try eventually(timeout: 60, "all orders stored") {
            try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) == orders.count
        }
        let b = orders[1]
        try producer.publish([
            Self.payment("Payment.Captured", orderID: id("B"), amount: Self.amount(b)),
            Self.payment("Payment.Failed", orderID: id("C"), reason: "bank transfer returned"),
        ])
        try database.query("UPDATE capture.orders SET hold_expires_at = now() - interval '1 second' WHERE order_id = \(id("D"))")

        var expected: [String: String] = [
            id("A"): "accepted", id("B"): "accepted", id("C"): "cancelled", id("D"): "cancelled", id("E"): "on_hold",
            id("F"): "rejected", id("G"): "accepted", id("H"): "accepted", id("H2"): "rejected", id("I"): "on_hold",
            id("J"): "on_hold", id("K"): "on_hold", id("L"): "on_hold", id("M"): "on_hold",
        ]
        try eventually(timeout: 60, "every order in its intake state") {
            try expected.allSatisfy { try status($0.key) == $0.value }
        }

        // Customer service and the shop act on held and accepted orders.
        func request(_ type: String, _ orderID: String, _ data: [String: JSONValue]) -> OutgoingMessage {
            var body = data
            body["orderId"] = .string(orderID)
            let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "omsctl", type: type, subject: orderID,
                                   time: EventTime.format(Date()), data: .object(body))
            return OutgoingMessage(topic: Topic.shopOrders, key: orderID, value: event.serialized())
        }
        let e2 = Self.order(id("E2"), 11) { data in
            data.set("customer", "email", "other@mailinator.com")
            data["lines"] = [["lineId": "1", "sku": "GIFTCARD-100", "quantity": 1, "unitPrice": 10000]]
            data.set("payment", "amount", .integer(10000 + (data["shippingCharge"]?.int64Value ?? 0)))
        }
        try producer.publish([BergUndBeutelOrders.message(e2)])
        try eventually(timeout: 30, "E2 held for review") { try status(id("E2")) == "on_hold" }
        try producer.publish([
            request("Order.ApprovalGiven", id("E"), ["by": "Lena"]),
            request("Order.ApprovalGiven", id("E"), ["by": "Lena"]),        // second approval: refused
            request("Order.ApprovalDenied", id("E2"), ["by": "Lena", "reason": "card testing pattern"]),
            request("Order.CancellationRequested", id("I"), ["requestedBy": "shop", "reason": "customer changed their mind"]),
            request("Order.CancellationRequested", id("A"), ["requestedBy": "shop", "reason": "customer changed their mind"]),
            request("Order.ApprovalGiven", id("H"), ["by": "Lena"]),        // not held: refused
            request("Order.ApprovalGiven", id("J"), ["by": .string("\(wholesale)-EK")]),   // the buyer is not the approver: refused
            request("Order.ApprovalGiven", id("J"), ["by": .string("\(wholesale)-CHEF")]),
            request("Order.ApprovalDenied", id("K"), ["by": .string("\(wholesale)-CHEF"), "reason": "budget frozen"]),
            request("Order.ApprovalGiven", id("L"), ["by": "Lena", "reason": "credit raised by phone"]),
            request("Order.ApprovalGiven", id("M"), ["by": "Lena", "reason": "agreed discount"]),
        ])
        expected[id("J")] = "accepted"
        expected[id("K")] = "rejected"
        expected[id("L")] = "accepted"
        expected[id("M")] = "accepted"
        expected[id("E")] = "accepted"
        expected[id("E2")] = "rejected"
        expected[id("I")] = "cancelled"
        try eventually(timeout: 60, "every order in its final state") {
            try expected.allSatisfy { try status($0.key) == $0.value }
        }
        let refusals = try TopicReader(broker: broker, topic: Topic.omsDLQ)
        let dead = refusals.read(atLeast: 3, timeout: 30)
        _ = refusals.drain(for: 2)
        #expect(refusals.messages.count == 3)
        let reasons = dead.compactMap { $0.header(DeadLetterHeader.errorMessage) }.sorted()
        #expect(reasons.contains { $0.contains("order \(id("E")) is accepted, not held") })
        #expect(reasons.contains { $0.contains("order \(id("H")) is accepted, not held") })
        #expect(reasons.contains { $0.contains("\(wholesale)-EK is not an approver of this buyer") })
        let holds = try database.query("SELECT order_id, array_to_string(hold_reasons, ',') AS h FROM capture.orders WHERE status = 'on_hold' ORDER BY 1")
        #expect(holds.count == 0, "every held order was decided")

        let expectedEvents: [String: [String]] = [
            id("A"): ["Order.Accepted", "Order.CancellationRequested"], id("B"): ["Order.OnHold", "Order.Released"],
            id("C"): ["Order.OnHold", "Order.Cancelled"], id("D"): ["Order.OnHold", "Order.Cancelled"],
            id("E"): ["Order.OnHold", "Order.Released"], id("E2"): ["Order.OnHold", "Order.Rejected"], id("F"): ["Order.Rejected"],
            id("G"): ["Order.Accepted"], id("H"): ["Order.Accepted"], id("H2"): ["Order.Rejected"],
            id("I"): ["Order.OnHold", "Order.Cancelled"],
            id("J"): ["Order.OnHold", "Order.Released"], id("K"): ["Order.OnHold", "Order.Rejected"],
            id("L"): ["Order.OnHold", "Order.Released"], id("M"): ["Order.OnHold", "Order.Released"],
        ]
        let reader = try TopicReader(broker: broker, topic: Topic.omsOrders)
        reader.read(atLeast: expectedEvents.values.map(\.count).reduce(0, +), timeout: 30)
        let all = try events(reader.drain(for: 2))
        var byOrder: [String: [String]] = [:]
        var seen = Set<String>()
        for event in all where seen.insert(event.id).inserted { byOrder[event.subject!, default: []].append(event.type) }
        #expect(byOrder == expectedEvents)
        for event in all {
            #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true, "\(event.type) matches its schema")
        }
        func holdReasons(_ name: String) -> [String] {
            all.first { $0.subject == id(name) && $0.type == "Order.OnHold" }?.data["holdReasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        #expect(holdReasons("J") == ["approval"] && holdReasons("K") == ["approval"])
        #expect(holdReasons("L") == ["credit"] && holdReasons("M") == ["price"])
        let acceptedH = all.first { $0.subject == id("H") && $0.type == "Order.Accepted" }
        #expect(acceptedH?.data["paymentTerms"]?["code"]?.stringValue == "NET30")
        #expect(acceptedH?.data["buyerId"]?.stringValue == "\(wholesale)-EK")
        let rejectedK = all.first { $0.subject == id("K") && $0.type == "Order.Rejected" }
        #expect(rejectedK?.data["reasons"]?.arrayValue?.first?["code"]?.stringValue == "approval.denied")
        let notifications = try TopicReader(broker: broker, topic: Topic.omsNotifications)
        notifications.read(atLeast: 2, timeout: 30)
        let approvalRequests = try events(notifications.drain(for: 2))
        #expect(Set(approvalRequests.map { "\($0.type) \($0.subject!)" })
            == ["Order.ApprovalRequested \(id("J"))", "Order.ApprovalRequested \(id("K"))"])
        for request in approvalRequests {
            #expect(request.data["approvers"] == [.string("\(wholesale)-CHEF")])
            #expect(request.data["approvalLimit"]?.int64Value == 50_000)
            #expect(EventContracts.dataSchemas[request.type]?.validate(request.data).isEmpty == true)
        }
        let terms = try database.query("SELECT payment_terms::text AS t FROM capture.orders WHERE order_id = \(id("H"))").first?
            .decode("t", as: String.self)
        #expect(terms?.contains("\"netDays\":30") == true)
        let rejectedF = all.first { $0.subject == id("F") }
        #expect(rejectedF?.data["reasons"]?.arrayValue?.contains { $0["code"]?.stringValue == "fraud.score-reject" } == true)
        let cancelledD = all.first { $0.subject == id("D") && $0.type == "Order.Cancelled" }
        #expect(cancelledD?.data["reason"]?.stringValue?.contains("prepayment not received") == true)

        let fraudHits = try database.query("""
            SELECT code FROM capture.order_checks WHERE order_id = \(id("F")) AND effect = 'points' ORDER BY position
            """).map { try $0.decode("code", as: String.self) }
        #expect(Set(fraudHits) == ["fraud.country-mismatch", "fraud.first-order-high-value", "fraud.disposable-email",
                                   "fraud.high-risk-sku", "fraud.name-mismatch"])
        let timelineB = try database.query("SELECT action FROM capture.audit_trail WHERE subject = \(id("B")) ORDER BY id")
            .map { try $0.decode("action", as: String.self) }
        #expect(timelineB == ["Order.OnHold", "Order.Released"])
        for capture in captures { #expect(capture.terminate(waitSeconds: 15) == 0) }
    }

    @Test("the catalog replica keeps the newest product state and its rules apply to orders")
    func catalogReplica() throws {
        let rig = try PipelineRig(partitions: 4)
        let (database, producer) = (rig.database, rig.producer)
        let capture = try rig.start("oms-capture", name: "capture-catalog")
        func product(_ sku: String, time: String, discontinued: Bool) -> OutgoingMessage {
            let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "pim/berg-und-beutel", type: "Product.Changed",
                                   subject: sku, time: time,
                                   data: ["sku": .string(sku), "name": "Gaskocher", "sellable": true, "discontinued": .bool(discontinued),
                                          "taxClass": "standard", "dangerousGoodsClass": "2.1"])
            return OutgoingMessage(topic: Topic.catalogProducts, key: sku, value: event.serialized())
        }
        // The newer state (still sold) arrives first; the stale one (discontinued) must not win.
        try producer.publish([product("STOVE-GAS", time: "2026-11-29T10:00:00Z", discontinued: false),
                              product("STOVE-GAS", time: "2026-11-29T09:00:00Z", discontinued: true),
                              product("STOVE-OLD", time: "2026-11-29T09:00:00Z", discontinued: true)])
        try eventually(timeout: 30, "both products in the replica") {
            try database.query("SELECT count(*) AS n FROM capture.products").first!.decode("n", as: Int.self) == 2
        }
        try eventually(timeout: 10, "both updates of STOVE-GAS consumed") {
            try database.query("SELECT count(*) AS n FROM capture.processed_messages").first!.decode("n", as: Int.self) == 3
        }
        #expect(try database.query("SELECT discontinued FROM capture.products WHERE sku = 'STOVE-GAS'").first!.decode("discontinued", as: Bool.self) == false)

        func order(_ id: String, sku: String, street: String = "Hauptstr. 5") -> CloudEvent {
            Self.order(id, 20) { data in
                data["lines"] = [["lineId": "1", "sku": .string(sku), "quantity": 1, "unitPrice": 2995]]
                data.set("payment", "amount", .integer(2995 + (data["shippingCharge"]?.int64Value ?? 0)))
                data.set("shippingAddress", "street", .string(street))
                data.set("shippingAddress", "postNumber", "12345678")
            }
        }
        try producer.publish([order("CAT-1", sku: "STOVE-GAS"), order("CAT-2", sku: "STOVE-OLD"),
                              order("CAT-3", sku: "STOVE-GAS", street: "Packstation 101")].map(BergUndBeutelOrders.message))
        try eventually(timeout: 30, "three orders decided") {
            try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) == 3
        }
        let states = try database.query("SELECT order_id, status FROM capture.orders ORDER BY order_id")
            .map { "\(try $0.decode("order_id", as: String.self))=\(try $0.decode("status", as: String.self))" }
        #expect(states == ["CAT-1=accepted", "CAT-2=rejected", "CAT-3=on_hold"])
        let codes = try database.query("SELECT order_id || ':' || code AS c FROM capture.order_checks WHERE effect <> 'points' ORDER BY 1")
            .map { try $0.decode("c", as: String.self) }
        #expect(codes == ["CAT-2:sku.discontinued", "CAT-3:address.locker-not-allowed"])
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }

    @Test("with unknownSku=wait, orders wait for the catalog: released, rejected when discontinued, rejected at the deadline")
    func waitingForCatalog() throws {
        let directory = try TestEnvironment.configCopy("capture.json", replacing: [("\"unknownSku\": \"accept\"", "\"unknownSku\": \"wait\"")])
        let rig = try PipelineRig(partitions: 4)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let capture = try rig.start("oms-capture", name: "capture-catalog-wait", ["OMS_CONFIG_DIR": directory, "OMS_HOUSEKEEPING_SECONDS": "1"])
        func order(_ id: String, sku: String) -> CloudEvent {
            Self.order(id, 30) { data in
                data["lines"] = [["lineId": "1", "sku": .string(sku), "quantity": 1, "unitPrice": 2995]]
                data.set("payment", "amount", .integer(2995 + (data["shippingCharge"]?.int64Value ?? 0)))
            }
        }
        try producer.publish([order("W-1", sku: "NEW-1"), order("W-2", sku: "NEW-2"), order("W-3", sku: "NEW-3")]
            .map(BergUndBeutelOrders.message))
        try eventually(timeout: 30, "three orders held for the catalog") {
            try database.query("SELECT count(*) AS n FROM capture.orders WHERE 'catalog' = ANY(hold_reasons)").first!.decode("n", as: Int.self) == 3
        }
        func product(_ sku: String, discontinued: Bool) -> OutgoingMessage {
            let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "pim/berg-und-beutel", type: "Product.Changed",
                                   subject: sku, time: EventTime.format(Date()),
                                   data: ["sku": .string(sku), "name": "Neu", "sellable": true, "discontinued": .bool(discontinued),
                                          "taxClass": "standard"])
            return OutgoingMessage(topic: Topic.catalogProducts, key: sku, value: event.serialized())
        }
        try producer.publish([product("NEW-1", discontinued: false), product("NEW-2", discontinued: true)])
        try database.query("UPDATE capture.orders SET catalog_deadline = now() - interval '1 second' WHERE order_id = 'W-3'")
        try eventually(timeout: 30, "all three decided") {
            try database.query("SELECT count(*) AS n FROM capture.orders WHERE status <> 'on_hold'").first!.decode("n", as: Int.self) == 3
        }
        let states = try database.query("SELECT order_id || '=' || status AS s FROM capture.orders ORDER BY 1").map { try $0.decode("s", as: String.self) }
        #expect(states == ["W-1=accepted", "W-2=rejected", "W-3=rejected"])
        let reader = try TopicReader(broker: broker, topic: Topic.omsOrders)
        reader.read(atLeast: 6, timeout: 30)
        let all = try events(reader.drain(for: 2))
        var byOrder: [String: [String]] = [:]
        for event in all { byOrder[event.subject!, default: []].append(event.type) }
        #expect(byOrder == ["W-1": ["Order.OnHold", "Order.Released"], "W-2": ["Order.OnHold", "Order.Rejected"],
                            "W-3": ["Order.OnHold", "Order.Rejected"]])
        let w3 = all.last { $0.subject == "W-3" }
        #expect(w3?.data["reasons"]?.arrayValue?.first?["message"]?.stringValue?.contains("NEW-3 still unknown") == true)
        // Operators learn of it through the dead-letter topic; the entry holds the record and cannot be replayed.
        let dlq = try TopicReader(broker: broker, topic: Topic.omsDLQ)
        let letters = dlq.read(atLeast: 1, timeout: 30)
        _ = dlq.drain(for: 2)
        #expect(dlq.messages.count == 1)
        #expect(letters.first?.header(DeadLetterHeader.errorClass) == "catalog-timeout")
        #expect(letters.first?.header(DeadLetterHeader.replayable) == "false")
        #expect(letters.first?.header(DeadLetterHeader.errorMessage)?.contains("order W-3 rejected: SKU(s) NEW-3 still unknown") == true)
        #expect(try JSONParser.parse(letters.first?.value ?? [])["orderId"]?.stringValue == "W-3")
        for event in all { #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true) }
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }

    @Test("availability from oms.stock: a ship-complete order waits for stock and goes on when the Router publishes more")
    func availabilityHold() throws {
        let rig = try PipelineRig(partitions: 4)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let capture = try rig.start("oms-capture", name: "capture-stock")
        func availability(_ items: [(String, Int64)], asOf: Date) -> OutgoingMessage {
            let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "oms/router", type: "Availability.Changed", subject: nil,
                                   time: EventTime.format(asOf),
                                   data: ["asOf": .string(EventTime.format(asOf)),
                                          "items": .array(items.map { ["sku": .string($0.0), "available": .integer($0.1)] })])
            return OutgoingMessage(topic: Topic.omsStock, key: items.first?.0, value: event.serialized())
        }
        let now = Date()
        try producer.publish([availability([("LAMP-HEAD", 1), ("MAT-INFL", 10)], asOf: now)])
        try eventually(timeout: 30, "availability replicated") {
            try database.query("SELECT count(*) AS n FROM capture.availability").first!.decode("n", as: Int.self) == 2
        }
        func order(_ id: String, shipComplete: Bool) -> CloudEvent {
            Self.order(id, 40) { data in
                data["lines"] = [["lineId": "1", "sku": "LAMP-HEAD", "quantity": 3, "unitPrice": 3990]]
                data["shipComplete"] = .bool(shipComplete)
                data["shippingCharge"] = 0
                data.set("payment", "amount", 11970)
            }
        }
        try producer.publish([order("S-1", shipComplete: true), order("S-2", shipComplete: false)].map(BergUndBeutelOrders.message))
        try eventually(timeout: 30, "both decided") {
            try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) == 2
        }
        let states = try database.query("SELECT order_id || '=' || status || ':' || array_to_string(hold_reasons, ',') AS s FROM capture.orders ORDER BY 1")
            .map { try $0.decode("s", as: String.self) }
        #expect(states == ["S-1=on_hold:stock", "S-2=accepted:"])
        let notes = try database.query("SELECT order_id || ':' || code AS c FROM capture.order_checks WHERE check_name = 'stock' ORDER BY 1")
            .map { try $0.decode("c", as: String.self) }
        #expect(notes == ["S-1:stock.ship-complete-short", "S-2:stock.partial-backorder"])
        // A stale update (older asOf) changes nothing; the newer one releases S-1.
        try producer.publish([availability([("LAMP-HEAD", 0)], asOf: now.addingTimeInterval(-60)),
                              availability([("LAMP-HEAD", 5)], asOf: now.addingTimeInterval(1))])
        try eventually(timeout: 30, "S-1 released") {
            try database.query("SELECT status FROM capture.orders WHERE order_id = 'S-1'").first!.decode("status", as: String.self) == "accepted"
        }
        #expect(try database.query("SELECT available FROM capture.availability WHERE sku = 'LAMP-HEAD'").first!.decode("available", as: Int64.self) == 5)
        let reader = try TopicReader(broker: broker, topic: Topic.omsOrders)
        reader.read(atLeast: 3, timeout: 30)
        let all = try events(reader.drain(for: 2))
        #expect(all.map { "\($0.subject!) \($0.type)" }.sorted() == ["S-1 Order.OnHold", "S-1 Order.Released", "S-2 Order.Accepted"])
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }

    @Test("velocity counts orders per client IP, shipping address and payment reference, not only per e-mail")
    func velocityDimensions() throws {
        let rig = try PipelineRig(partitions: 4)
        let (database, producer) = (rig.database, rig.producer)
        let capture = try rig.start("oms-capture", name: "capture-velocity")
        // Different customers and e-mails, one IP: five earlier orders, then the sixth.
        let burst = (0..<6).map { index in Self.order("V-\(index)", 50 + index) { $0["clientIp"] = "192.0.2.66" } }
        try producer.publish(burst.prefix(5).map(BergUndBeutelOrders.message))
        try eventually(timeout: 30, "five stored") {
            try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) == 5
        }
        // And six with their own IPs but one card reference: whichever comes sixth is counted.
        let sameCard = (0..<6).map { index in
            Self.order("P-\(index)", 70 + index) { $0.set("payment", "reference", "CARD-TOKEN-1") }
        }
        try producer.publish([BergUndBeutelOrders.message(burst[5])] + sameCard.map(BergUndBeutelOrders.message))
        try eventually(timeout: 30, "all stored") {
            try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) == 12
        }
        let velocity = try database.query("""
            SELECT order_id, message FROM capture.order_checks WHERE code = 'fraud.velocity' ORDER BY order_id
            """).map { "\(try $0.decode("order_id", as: String.self)): \(try $0.decode("message", as: String.self))" }
        #expect(velocity.count == 2)
        #expect(velocity.last == "V-5: 5 earlier orders from this client IP within 60 min (limit 5)")
        #expect(velocity.first?.hasPrefix("P-") == true && velocity.first?.hasSuffix(": 5 earlier orders from this payment reference within 60 min (limit 5)") == true)
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }
}
