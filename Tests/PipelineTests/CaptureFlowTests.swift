import Foundation
import Shared
import Testing

/// End to end through real processes: oms-devkafka, oms-capture, oms-alerting, PostgreSQL.
@Suite("Capture pipeline", .serialized)
struct CaptureFlowTests {
    @Test("an order goes in, rows and one Order.Accepted come out; the same event twice has one effect")
    func orderAcceptedOnceForDuplicateEvent() throws {
        let broker = try TestBroker()
        let databaseURL = try TestEnvironment.makeDatabase()
        let capture = try ManagedProcess.worker("oms-capture", environment: workerEnvironment(broker: broker, databaseURL: databaseURL), name: "capture")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        let event = BergUndBeutelOrders.orderCreated(index: 42)
        try producer.publish([BergUndBeutelOrders.message(event), BergUndBeutelOrders.message(event)])

        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        try eventually(timeout: 30, "the order row") {
            try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) == 1
        }
        let order = try database.query("""
            SELECT order_id, status, lines_total, shipping_charge, source_event_id FROM capture.orders
            """).first!
        #expect(try order.decode("order_id", as: String.self) == "BB-100042")
        #expect(try order.decode("status", as: String.self) == "accepted")
        let expectedLines = event.data["lines"]!.arrayValue!.reduce(Int64(0)) {
            $0 + $1["quantity"]!.int64Value! * $1["unitPrice"]!.int64Value!
        }
        #expect(try order.decode("lines_total", as: Int64.self) == expectedLines)
        #expect(try order.decode("source_event_id", as: String.self) == event.id)
        let lineCount = try database.query("SELECT count(*) AS n FROM capture.order_lines").first!.decode("n", as: Int.self)
        #expect(lineCount == event.data["lines"]!.arrayValue!.count)
        let parties = try database.query("SELECT role, email, country FROM capture.order_parties ORDER BY role")
        #expect(parties.map { try! $0.decode("role", as: String.self) } == ["billing", "customer", "shipping"])

        let reader = try TopicReader(broker: broker, topic: Topic.omsOrders)
        let accepted = try events(reader.read(atLeast: 1, timeout: 20))
        _ = reader.drain(for: 2)
        let all = try events(reader.messages)
        #expect(all.count == 1)
        #expect(accepted.first?.type == "Order.Accepted")
        #expect(accepted.first?.subject == "BB-100042")
        #expect(accepted.first?.causationID == event.id)
        #expect(accepted.first?.correlationID == event.id)
        #expect(accepted.first?.id == EventID.output(of: event.id, stage: "capture", index: 0))
        #expect(reader.messages.first?.keyString == "BB-100042")
        #expect(EventContracts.dataSchemas["Order.Accepted"]!.validate(accepted.first!.data).isEmpty)
        #expect(accepted.first?.data["total"]?.int64Value == expectedLines + event.data["shippingCharge"]!.int64Value!)

        let duplicates = try database.query("SELECT count(*) AS n FROM capture.processed_messages").first!.decode("n", as: Int.self)
        #expect(duplicates == 1)
        let timeline = try database.query("SELECT action FROM capture.audit_trail WHERE subject = 'BB-100042' ORDER BY id")
        #expect(timeline.map { try! $0.decode("action", as: String.self) } == ["Order.Accepted"])
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }

    @Test("a different event for an existing order id is a conflict; identical content is not")
    func conflictingOrderGoesToDeadLetters() throws {
        let broker = try TestBroker()
        let databaseURL = try TestEnvironment.makeDatabase()
        let capture = try ManagedProcess.worker("oms-capture", environment: workerEnvironment(broker: broker, databaseURL: databaseURL), name: "capture")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        let original = BergUndBeutelOrders.orderCreated(index: 7, placedAt: Date(timeIntervalSince1970: 1_800_000_000))
        var sameContent = original
        sameContent.id = "same-content-other-id"
        var changed = BergUndBeutelOrders.orderCreated(index: 8, orderID: original.subject, placedAt: Date(timeIntervalSince1970: 1_800_000_000))
        changed.id = "changed-content"
        try producer.publish([original, sameContent, changed].map(BergUndBeutelOrders.message))

        let reader = try TopicReader(broker: broker, topic: Topic.omsDLQ)
        let dead = reader.read(atLeast: 1, timeout: 30)
        _ = reader.drain(for: 2)
        #expect(reader.messages.count == 1)
        #expect(dead.first?.header(DeadLetterHeader.errorClass) == "conflict")
        #expect(dead.first?.header(DeadLetterHeader.originalEventID) == "changed-content")
        #expect(dead.first?.header(DeadLetterHeader.errorMessage)?.contains("already exists with different content") == true)
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        #expect(try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) == 1)
        // The conflicting event leaves no dedupe row, so that a corrected replay is processed.
        let keys = try database.query("SELECT idempotency_key FROM capture.processed_messages ORDER BY 1").map { try $0.decode("idempotency_key", as: String.self) }
        #expect(keys == [original.id, "same-content-other-id"].sorted())
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }

    @Test("a missing setting stops the worker at start with one line naming it")
    func missingSettingIsNamed() throws {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMS_") }
        environment["OMS_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
        let capture = try ManagedProcess.worker("oms-capture", environment: environment, name: "capture-misconfigured")
        capture.process.waitUntilExit()
        #expect(capture.process.terminationStatus == 2)
        #expect(capture.log.contains("OMS_KAFKA_BROKERS: is not set"))

        environment["OMS_KAFKA_BROKERS"] = "127.0.0.1:1"
        environment["OMS_HTTP_PORT"] = "eighty"
        let second = try ManagedProcess.worker("oms-capture", environment: environment, name: "capture-bad-port")
        second.process.waitUntilExit()
        #expect(second.process.terminationStatus == 2)
        #expect(second.log.contains("OMS_HTTP_PORT: \"eighty\" is not an integer"))
    }
}
