import Foundation
import Shared
import Testing

/// The pipeline against a second, independent Kafka implementation (Tansu, see `TestBroker.tansu`): consumer groups
/// with two copies and a rebalance after a `kill -9`, the idempotent producer, offsets committed after the outbox —
/// the same exactly-once effects as on the librdkafka mock cluster.
@Suite("Second broker (Tansu)", .serialized)
struct SecondBrokerTests {
    @Test("Capture (two copies, one killed) and the Router on Tansu: every order once, one Order.Accepted each, routed")
    func pipelineOnTansu() throws {
        let started = Date()
        let broker = try TestBroker.tansu(partitions: 2)
        defer { for process in [broker.process] + broker.helpers { _ = process.terminate(waitSeconds: 2) } }
        let ready = Date().timeIntervalSince(started)
        let databaseURL = try TestEnvironment.makeDatabase()
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        let environment = workerEnvironment(broker: broker, databaseURL: databaseURL)
        var workers = [try ManagedProcess.worker("oms-capture", environment: environment, name: "tansu-capture-1"),
                       try ManagedProcess.worker("oms-capture", environment: environment, name: "tansu-capture-2"),
                       try ManagedProcess.worker("oms-router", environment: environment, name: "tansu-router")]
        defer { for worker in workers { _ = worker.terminate(waitSeconds: 5) } }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        try producer.publish(BergUndBeutelOrders.productsChanged())
        try producer.publish([BergUndBeutelOrders.stockChanged(warehouse: "A", sequence: 1, onHand: 500),
                              BergUndBeutelOrders.stockChanged(warehouse: "B", sequence: 1, onHand: 500)])
        let orders = (0..<40).map { BergUndBeutelOrders.orderCreated(index: 7_000 + $0) }
        try producer.publish(orders.prefix(20).map(BergUndBeutelOrders.message))
        try eventually(timeout: 60, "the first orders stored") {
            try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) >= 5
        }
        // One Capture copy dies without a word; the group rebalances to the other and a replacement joins.
        workers[0].kill9()
        workers.append(try ManagedProcess.worker("oms-capture", environment: environment, name: "tansu-capture-3"))
        try producer.publish(orders.suffix(20).map(BergUndBeutelOrders.message) + [BergUndBeutelOrders.message(orders[0])])
        try eventually(timeout: 90, "all 40 orders stored and routed") {
            try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self) == 40
                && (try database.query("SELECT count(*) AS n FROM router.orders").first!.decode("n", as: Int.self)) == 40
        }
        let reader = try TopicReader(broker: broker, topic: Topic.omsOrders)
        reader.read(atLeast: 40, timeout: 30)
        _ = reader.drain(for: 2)
        let accepted = try reader.messages.map { try CloudEvent.decode($0.value, maximumBytes: 1 << 20) }.filter { $0.type == "Order.Accepted" }
        // A re-publish after the crash may repeat an event, but always with its id and content: consumers dedupe by id.
        let byID = Dictionary(grouping: accepted, by: \.id)
        #expect(byID.values.allSatisfy { copies in copies.allSatisfy { $0.serialized() == copies[0].serialized() } })
        #expect(Set(accepted.compactMap(\.subject)) == Set(orders.map { $0.subject ?? "" }), "one Order.Accepted per order")
        #expect(byID.count == 40)
        let processed: Int = try database.query("SELECT count(*) AS n FROM capture.processed_messages WHERE idempotency_key LIKE '%-%'")
            .first!.decode("n")
        #expect(processed >= 40)
        let fulfillment: Int = try database.query("SELECT count(DISTINCT order_id) AS n FROM router.fulfillment_orders").first!.decode("n")
        #expect(fulfillment == 40, "every order routed to a fulfillment order")
        print("Tansu: broker and topics ready after \(String(format: "%.1f", ready)) s; 40 orders through Capture (2 copies, one kill -9) and the Router "
              + "in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; Order.Accepted published \(accepted.count)× for 40 orders")
    }
}
