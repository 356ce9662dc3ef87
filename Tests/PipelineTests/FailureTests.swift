import Foundation
import Shared
import Testing

@Suite("Failures: database outage, kill -9, SIGTERM", .serialized)
struct FailureTests {
    static func countOrders(_ database: PostgresConnection) throws -> Int {
        try database.query("SELECT count(*) AS n FROM capture.orders").first!.decode("n", as: Int.self)
    }

    /// Every order id has exactly one distinct Order.Accepted id, and there are `expected` of them.
    static func checkAcceptedEvents(_ broker: TestBroker, expected: Int) throws -> (messages: Int, distinctIDs: Int) {
        let reader = try TopicReader(broker: broker, topic: Topic.omsOrders)
        reader.read(atLeast: expected, timeout: 60)
        let all = try events(reader.drain(for: 2))
        var idsByOrder: [String: Set<String>] = [:]
        for event in all where event.type == "Order.Accepted" { idsByOrder[event.subject!, default: []].insert(event.id) }
        #expect(idsByOrder.count == expected)
        #expect(idsByOrder.values.allSatisfy { $0.count == 1 }, "a re-published Order.Accepted must carry the same id")
        return (all.count, Set(all.map(\.id)).count)
    }

    @Test("PostgreSQL stopped for 10 s mid-stream: the worker retries and finishes with nothing lost")
    func databaseOutage() throws {
        let cluster = try TestPostgresCluster()
        let databaseURL = try cluster.migratedDatabaseURL()
        let broker = try TestBroker()
        let capture = try ManagedProcess.worker("oms-capture", environment: workerEnvironment(broker: broker, databaseURL: databaseURL), name: "capture-outage")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        let orders = (0..<300).map { BergUndBeutelOrders.orderCreated(index: $0) }

        try producer.publish(orders[0..<100].map(BergUndBeutelOrders.message))
        var database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        try eventually(timeout: 30, "first 100 orders") { try Self.countOrders(database) == 100 }

        try cluster.stop()
        try producer.publish(orders[100..<200].map(BergUndBeutelOrders.message))
        Thread.sleep(forTimeInterval: 10)
        #expect(capture.isRunning, "the worker must survive the outage")
        try cluster.start()
        try producer.publish(orders[200..<300].map(BergUndBeutelOrders.message))

        database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        try eventually(timeout: 60, "all 300 orders after the outage") { try Self.countOrders(database) == 300 }
        _ = try Self.checkAcceptedEvents(broker, expected: 300)
        #expect(capture.log.contains("will retry"), "the outage should show as retries in the log")
        #expect(capture.terminate(waitSeconds: 10) == 0)
        #expect(try Self.countOrders(database) == 300)
    }

    @Test("2,000 orders, kill -9 twice during processing: exactly 2,000 orders and 2,000 Order.Accepted ids, no dead letters")
    func crashTwice() throws {
        let broker = try TestBroker()
        let databaseURL = try TestEnvironment.makeDatabase()
        let environment = workerEnvironment(broker: broker, databaseURL: databaseURL, extra: ["OMS_BATCH_SIZE": "40"])
        let executable = try TestEnvironment.binDirectory + "/oms-capture"
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        try producer.publish((0..<2_000).map { BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: $0)) })
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)

        var countsAtKill: [Int] = []
        for threshold in [300, 1_000] {
            let capture = try ManagedProcess(executable: executable, environment: environment, name: "capture-crash")
            try eventually(timeout: 60, every: 0.01, "\(threshold) orders before kill -9") { try Self.countOrders(database) >= threshold }
            capture.kill9()
            countsAtKill.append(try Self.countOrders(database))
        }
        #expect(countsAtKill.allSatisfy { $0 < 2_000 }, "kills must land mid-stream: \(countsAtKill)")
        let last = try ManagedProcess(executable: executable, environment: environment, name: "capture-after-crash")
        try eventually(timeout: 120, "all 2,000 orders") { try Self.countOrders(database) >= 2_000 }
        let outcome = try Self.checkAcceptedEvents(broker, expected: 2_000)
        #expect(outcome.distinctIDs == 2_000)
        #expect(try Self.countOrders(database) == 2_000)
        let dlq = try TopicReader(broker: broker, topic: Topic.omsDLQ).drain(for: 2)
        #expect(dlq.isEmpty)
        #expect(last.terminate(waitSeconds: 10) == 0)
    }

    @Test("SIGTERM during a stream: exit 0 within 10 s, and after a restart nothing is lost")
    func gracefulShutdown() throws {
        let broker = try TestBroker()
        let databaseURL = try TestEnvironment.makeDatabase()
        let environment = workerEnvironment(broker: broker, databaseURL: databaseURL, extra: ["OMS_BATCH_SIZE": "50"])
        let executable = try TestEnvironment.binDirectory + "/oms-capture"
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        try producer.publish((0..<1_500).map { BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: $0)) })
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)

        let capture = try ManagedProcess(executable: executable, environment: environment, name: "capture-sigterm")
        try eventually(timeout: 60, every: 0.01, "some orders processed") { try Self.countOrders(database) >= 200 }
        let started = Date()
        let status = capture.terminate(waitSeconds: 10)
        #expect(status == 0, "exit status after SIGTERM")
        #expect(Date().timeIntervalSince(started) < 10)
        let countAtStop = try Self.countOrders(database)
        #expect(countAtStop < 1_500, "SIGTERM must land mid-stream")
        #expect(capture.log.contains("leaving the group"))

        let restarted = try ManagedProcess(executable: executable, environment: environment, name: "capture-restarted")
        try eventually(timeout: 60, "all 1,500 orders after restart") { try Self.countOrders(database) >= 1_500 }
        _ = try Self.checkAcceptedEvents(broker, expected: 1_500)
        #expect(try Self.countOrders(database) == 1_500)
        #expect(restarted.terminate(waitSeconds: 10) == 0)
    }
}

@Suite("Failures: broker outage", .serialized)
struct BrokerOutageTests {
    @Test("all brokers down for 5 s mid-stream: the worker keeps going afterwards, nothing lost or doubled")
    func brokerOutage() throws {
        let broker = try TestBroker()
        let databaseURL = try TestEnvironment.makeDatabase()
        let capture = try ManagedProcess.worker("oms-capture", environment: workerEnvironment(broker: broker, databaseURL: databaseURL,
                                                                        extra: ["OMS_BATCH_SIZE": "20"]),
                                         name: "capture-broker-outage")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        try producer.publish((0..<400).map { BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: $0)) })
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        try eventually(timeout: 30, every: 0.01, "first orders") { try FailureTests.countOrders(database) >= 50 }
        kill(broker.process.pid, SIGUSR1)
        Thread.sleep(forTimeInterval: 5)
        #expect(capture.isRunning, "the worker must survive the outage")
        kill(broker.process.pid, SIGUSR2)
        try producer.publish((400..<600).map { BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: $0)) })
        try eventually(timeout: 90, "all 600 orders after the outage") { try FailureTests.countOrders(database) >= 600 }
        _ = try FailureTests.checkAcceptedEvents(broker, expected: 600)
        #expect(try FailureTests.countOrders(database) == 600)
        #expect(broker.process.log.contains("brokers down"))
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }

    /// A stop during a broker outage has nothing to save (offsets that cannot be
    /// committed mean re-delivery, which deduplication absorbs), so it must not wait
    /// for the broker: systemd would otherwise kill the unit at TimeoutStopSec.
    @Test("SIGTERM while every broker is down, mid-stream and idle: each worker exits 0 within 10 s; afterwards nothing lost or doubled")
    func stopDuringBrokerOutage() throws {
        let broker = try TestBroker()
        let databaseURL = try TestEnvironment.makeDatabase()
        let environment = workerEnvironment(broker: broker, databaseURL: databaseURL, extra: ["OMS_BATCH_SIZE": "20"])
        let busy = try ManagedProcess.worker("oms-capture", environment: environment, name: "capture-stop-outage-busy")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        try producer.publish((0..<400).map { BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: $0)) })
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        try eventually(timeout: 30, every: 0.01, "first orders") { try FailureTests.countOrders(database) >= 50 }
        kill(broker.process.pid, SIGUSR1)
        // Long enough for the worker to be inside a broker call that cannot complete
        // (publishing its batch's events, committing offsets or polling).
        Thread.sleep(forTimeInterval: 3)
        var started = Date()
        #expect(busy.terminate(waitSeconds: 30) == 0, "exit status of a busy worker stopped during the outage")
        let busySeconds = Date().timeIntervalSince(started)
        #expect(busySeconds < 10, "a busy worker took \(busySeconds) s to stop")
        #expect(try FailureTests.countOrders(database) < 400, "the stop must land mid-stream")

        kill(broker.process.pid, SIGUSR2)
        let idle = try ManagedProcess.worker("oms-capture", environment: environment, name: "capture-stop-outage-idle")
        try eventually(timeout: 90, "all 400 orders after the outage") { try FailureTests.countOrders(database) >= 400 }
        Thread.sleep(forTimeInterval: 2)
        kill(broker.process.pid, SIGUSR1)
        Thread.sleep(forTimeInterval: 3)
        started = Date()
        #expect(idle.terminate(waitSeconds: 30) == 0, "exit status of an idle worker stopped during the outage")
        let idleSeconds = Date().timeIntervalSince(started)
        #expect(idleSeconds < 10, "an idle worker took \(idleSeconds) s to stop")

        kill(broker.process.pid, SIGUSR2)
        let last = try ManagedProcess.worker("oms-capture", environment: environment, name: "capture-stop-outage-last")
        _ = try FailureTests.checkAcceptedEvents(broker, expected: 400)
        #expect(try FailureTests.countOrders(database) == 400)
        #expect(last.terminate(waitSeconds: 10) == 0)
    }
}
