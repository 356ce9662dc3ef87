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
        let broker = try TestBroker(partitions: 12)
        let databaseURL = try TestEnvironment.makeDatabase()
        let environment = workerEnvironment(broker: broker, databaseURL: databaseURL,
                                            extra: ["OMS_HOUSEKEEPING_SECONDS": "1", "OMS_BATCH_SIZE": "5"])
        let captures = try (0..<workers).map { index in
            try ManagedProcess.worker("oms-capture", environment: environment, name: "capture-mix-\(index)")
        }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        func status(_ orderID: String) throws -> String? {
            try database.query("SELECT status FROM capture.orders WHERE order_id = \(orderID)").first?.decode("status")
        }
        let prepay: (inout [String: JSONValue]) -> Void = {
            $0.set("payment", "method", "prepayment")
            $0.set("payment", "status", "pending")
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
            Self.order(id("H"), 8) { data in
                data.set("customer", "type", "b2b")
                data.set("payment", "method", "on-account")
                data.set("payment", "status", "pending")
            },
            Self.order(id("H2"), 9) { data in
                data.set("payment", "method", "on-account")
                data.set("payment", "status", "pending")
            },
            Self.order(id("I"), 10) { data in data.set("shippingAddress", "postalCode", "803") },
        ]
        try producer.publish(orders.map(BergUndBeutelOrders.message))
        try eventually(timeout: 60, "all ten orders stored") {
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
        ])
        expected[id("E")] = "accepted"
        expected[id("E2")] = "rejected"
        expected[id("I")] = "cancelled"
        try eventually(timeout: 60, "every order in its final state") {
            try expected.allSatisfy { try status($0.key) == $0.value }
        }
        let refusals = try TopicReader(broker: broker, topic: Topic.omsDLQ)
        let dead = refusals.read(atLeast: 2, timeout: 30)
        _ = refusals.drain(for: 2)
        #expect(refusals.messages.count == 2)
        let reasons = dead.compactMap { $0.header(DeadLetterHeader.errorMessage) }.sorted()
        #expect(reasons.contains { $0.contains("order \(id("E")) is accepted, not waiting for a review") })
        #expect(reasons.contains { $0.contains("order \(id("H")) is accepted, not waiting for a review") })
        let holds = try database.query("SELECT order_id, array_to_string(hold_reasons, ',') AS h FROM capture.orders WHERE status = 'on_hold' ORDER BY 1")
        #expect(holds.count == 0, "every held order was decided")

        let expectedEvents: [String: [String]] = [
            id("A"): ["Order.Accepted", "Order.CancellationRequested"], id("B"): ["Order.OnHold", "Order.Released"],
            id("C"): ["Order.OnHold", "Order.Cancelled"], id("D"): ["Order.OnHold", "Order.Cancelled"],
            id("E"): ["Order.OnHold", "Order.Released"], id("E2"): ["Order.OnHold", "Order.Rejected"], id("F"): ["Order.Rejected"],
            id("G"): ["Order.Accepted"], id("H"): ["Order.Accepted"], id("H2"): ["Order.Rejected"],
            id("I"): ["Order.OnHold", "Order.Cancelled"],
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
        let broker = try TestBroker(partitions: 4)
        let databaseURL = try TestEnvironment.makeDatabase()
        let capture = try ManagedProcess.worker("oms-capture", environment: workerEnvironment(broker: broker, databaseURL: databaseURL), name: "capture-catalog")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
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
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
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
        let directory = NSTemporaryDirectory() + "oms-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = try String(contentsOfFile: TestEnvironment.configDirectory + "/capture.json", encoding: .utf8)
            .replacingOccurrences(of: "\"unknownSku\": \"accept\"", with: "\"unknownSku\": \"wait\"")
        try config.write(toFile: directory + "/capture.json", atomically: true, encoding: .utf8)
        let broker = try TestBroker(partitions: 4)
        let databaseURL = try TestEnvironment.makeDatabase()
        let capture = try ManagedProcess.worker("oms-capture", environment: workerEnvironment(broker: broker, databaseURL: databaseURL,
                                           extra: ["OMS_CONFIG_DIR": directory, "OMS_HOUSEKEEPING_SECONDS": "1"]),
            name: "capture-catalog-wait")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        func order(_ id: String, sku: String) -> CloudEvent {
            Self.order(id, 30) { data in
                data["lines"] = [["lineId": "1", "sku": .string(sku), "quantity": 1, "unitPrice": 2995]]
                data.set("payment", "amount", .integer(2995 + (data["shippingCharge"]?.int64Value ?? 0)))
            }
        }
        try producer.publish([order("W-1", sku: "NEW-1"), order("W-2", sku: "NEW-2"), order("W-3", sku: "NEW-3")]
            .map(BergUndBeutelOrders.message))
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
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
        for event in all { #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true) }
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }
}
