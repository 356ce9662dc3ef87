import Foundation
import Shared
import Testing

@Suite("Malformed input", .serialized)
struct MalformedInputTests {
    /// Twenty ways to send a broken event, each with the words its dead letter's reason must contain.
    static func malformedEvents() -> [(payload: [UInt8], expectedClass: String, reasonContains: String)] {
        func variant(_ index: Int, _ change: (inout [String: JSONValue], inout [String: JSONValue]) -> Void) -> [UInt8] {
            let event = BergUndBeutelOrders.orderCreated(index: 900 + index)
            var envelope = event.json.objectValue!
            var data = event.data.objectValue!
            change(&envelope, &data)
            if envelope["data"] != nil { envelope["data"] = .object(data) }
            return JSONValue.object(envelope).serialized()
        }
        func line(_ change: @escaping (inout [String: JSONValue]) -> Void) -> (inout [String: JSONValue], inout [String: JSONValue]) -> Void {
            { _, data in
                var lines = data["lines"]!.arrayValue!
                var first = lines[0].objectValue!
                change(&first)
                lines[0] = .object(first)
                data["lines"] = .array(lines)
            }
        }
        return [
            (Array("{not json".utf8), "invalid-json", "invalid JSON at byte 1"),
            ([], "invalid-json", "unexpected end of input"),
            (Array("[1,2,3]".utf8), "invalid-envelope", "event: must be of type object"),
            (variant(1) { e, _ in e["specversion"] = "0.3" }, "invalid-envelope", "event.specversion: must be \"1.0\""),
            (variant(2) { e, _ in e["id"] = nil }, "invalid-envelope", "required property \"id\" is missing"),
            (variant(3) { e, _ in e["type"] = "Order.Exploded" }, "wrong-topic", "\"Order.Exploded\" does not belong on shop.orders"),
            (variant(4) { e, _ in e["data"] = nil }, "invalid-envelope", "required property \"data\" is missing"),
            (variant(5) { _, d in d["lines"] = .array([]) }, "schema-violation", "data.lines: must have at least 1 item(s)"),
            (variant(6, line { $0["quantity"] = .integer(-1) }), "schema-violation", "data.lines[0].quantity: must be >= 1"),
            (variant(7, line { $0["quantity"] = .integer(0) }), "schema-violation", "data.lines[0].quantity: must be >= 1"),
            (variant(8, line { $0["unitPrice"] = .integer(-100) }), "schema-violation", "data.lines[0].unitPrice: must be >= 0"),
            (variant(9, line { $0["quantity"] = "2" }), "schema-violation", "data.lines[0].quantity: must be of type integer, found string"),
            (variant(10) { _, d in d["orderId"] = nil }, "schema-violation", "required property \"orderId\" is missing"),
            (variant(11) { _, d in d["customer"] = ["id": "C-1", "type": "b2c"] }, "schema-violation", "data.customer: required property \"email\" is missing"),
            (variant(12) { _, d in d["currency"] = "eur" }, "schema-violation", "data.currency: must match"),
            (variant(13) { _, d in d["clientIp"] = .string(String(repeating: "x", count: 1_048_576)) }, "too-large", "the limit is 262144"),
            (variant(14) { _, d in d["placedAt"] = "yesterday" }, "schema-violation", "data.placedAt: must be an RFC 3339 date-time"),
            (variant(15) { _, d in
                var address = d["shippingAddress"]!.objectValue!
                address["country"] = "Germany"
                d["shippingAddress"] = .object(address)
            }, "schema-violation", "data.shippingAddress.country: must match"),
            (variant(16) { _, d in d["payment"] = ["method": "paypal", "status": "authorized", "amount": -5] }, "schema-violation", "data.payment.amount: must be >= 0"),
            (variant(17) { e, _ in e["subject"] = "BB-OTHER" }, "schema-violation", "does not match data.orderId"),
        ]
    }

    @Test("20 malformed events become 20 dead letters with reasons and 20 alert rows; valid neighbours go through in order")
    func malformedEventsAreDeadLettered() throws {
        let broker = try TestBroker(partitions: 2)
        let databaseURL = try TestEnvironment.makeDatabase()
        let environment = workerEnvironment(broker: broker, databaseURL: databaseURL, extra: ["OMS_BATCH_SIZE": "7"])
        let capture = try ManagedProcess.worker("oms-capture", environment: environment, name: "capture")
        let alerting = try ManagedProcess.worker("oms-alerting", environment: environment, name: "alerting")

        let malformed = Self.malformedEvents()
        #expect(malformed.count == 20)
        // All on one key, so on one partition, interleaved with valid orders.
        var messages: [OutgoingMessage] = []
        var validOrderIDs: [String] = []
        for (index, bad) in malformed.enumerated() {
            let good = BergUndBeutelOrders.orderCreated(index: index)
            validOrderIDs.append(good.subject!)
            messages.append(OutgoingMessage(topic: Topic.shopOrders, key: "stream", value: good.serialized()))
            messages.append(OutgoingMessage(topic: Topic.shopOrders, key: "stream", value: bad.payload))
        }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        try producer.publish(messages)

        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        try eventually(timeout: 60, "20 dead letters and 20 alerts stored") {
            let letters = try database.query("SELECT count(*) AS n FROM alerting.dead_letters").first!.decode("n", as: Int.self)
            let alerts = try database.query("SELECT count(*) AS n FROM alerting.alerts").first!.decode("n", as: Int.self)
            return letters >= 20 && alerts >= 20
        }
        let letters = try database.query("""
            SELECT stage, error_class, reason, original_offset FROM alerting.dead_letters ORDER BY original_offset
            """)
        #expect(letters.count == 20)
        for (row, expected) in zip(letters, malformed) {
            let reason: String = try row.decode("reason")
            #expect(try row.decode("stage", as: String.self) == "capture")
            #expect(try row.decode("error_class", as: String.self) == expected.expectedClass, "reason: \(reason)")
            #expect(reason.contains(expected.reasonContains), "reason \"\(reason)\" should contain \"\(expected.reasonContains)\"")
        }
        #expect(try database.query("SELECT count(*) AS n FROM alerting.alerts").first!.decode("n", as: Int.self) == 20)
        // Deduplicated per (stage, error class): one notification per class within the window.
        let notified = try database.query("SELECT count(*) AS n FROM alerting.alerts WHERE notified").first!.decode("n", as: Int.self)
        #expect(notified == Set(malformed.map(\.expectedClass)).count)

        let accepted = try database.query("""
            SELECT subject FROM capture.audit_trail WHERE action = 'Order.Accepted' ORDER BY id
            """).map { try $0.decode("subject", as: String.self) }
        #expect(accepted == validOrderIDs)
        #expect(capture.isRunning && alerting.isRunning)
        #expect(capture.terminate(waitSeconds: 10) == 0)
        #expect(alerting.terminate(waitSeconds: 10) == 0)
    }
}
