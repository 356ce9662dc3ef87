import Foundation
import Shared
import Testing

@Suite("Alert webhook", .serialized)
struct AlertWebhookTests {
    /// Support/webhook_receiver.py on a free port: it fails the first `failFirst` requests and every
    /// alert of class `alwaysFailing`, and writes what it accepted to the returned file.
    static func startReceiver(failFirst: Int, alwaysFailing: String? = nil) throws -> (ManagedProcess, String, String) {
        let received = NSTemporaryDirectory() + "oms-webhook-\(UUID().uuidString.prefix(8)).jsonl"
        let portFile = received + ".port"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/webhook_receiver.py").path
        let receiver = try ManagedProcess(executable: "/bin/sh",
                                          arguments: ["-c", "exec python3 '\(script)' '\(received)' \(failFirst) \(alwaysFailing ?? "") > '\(portFile)'"],
                                          environment: ProcessInfo.processInfo.environment, name: "webhook")
        try eventually(timeout: 10, "the webhook receiver's port") {
            !((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        return (receiver, try String(contentsOfFile: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), received)
    }

    @Test("alerts are POSTed as JSON, retried after failures, one per (stage, error class) in the window")
    func webhookReceivesDeduplicatedAlerts() throws {
        let (receiver, port, received) = try Self.startReceiver(failFirst: 2)

        let broker = try TestBroker(partitions: 1)
        let databaseURL = try TestEnvironment.makeDatabase()
        let environment = workerEnvironment(broker: broker, databaseURL: databaseURL,
                                            extra: ["OMS_ALERT_WEBHOOK_URL": "http://127.0.0.1:\(port)/alerts"])
        let capture = try ManagedProcess.worker("oms-capture", environment: environment, name: "capture")
        let alerting = try ManagedProcess.worker("oms-alerting", environment: environment, name: "alerting")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        // Three broken JSON documents and one schema violation: two (stage, class) pairs.
        var negative = BergUndBeutelOrders.orderCreated(index: 1)
        var data = negative.data.objectValue!
        data["lines"] = .array([])
        negative.data = .object(data)
        try producer.publish([
            OutgoingMessage(topic: Topic.shopOrders, key: "k", value: Array("{".utf8)),
            OutgoingMessage(topic: Topic.shopOrders, key: "k", value: Array("{x".utf8)),
            OutgoingMessage(topic: Topic.shopOrders, key: "k", value: Array("nope".utf8)),
            BergUndBeutelOrders.message(negative),
        ])

        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        try eventually(timeout: 60, "both notified alerts delivered") {
            try database.query("SELECT count(*) AS n FROM alerting.alerts WHERE webhook_status = 'sent'").first!.decode("n", as: Int.self) == 2
        }
        let lines = try String(contentsOfFile: received, encoding: .utf8).split(separator: "\n")
        let alerts = try lines.map { try JSONParser.parse(String($0)) }
        #expect(alerts.count == 2)
        #expect(Set(alerts.compactMap { $0["errorClass"]?.stringValue }) == ["invalid-json", "schema-violation"])
        #expect(alerts.allSatisfy { $0["stage"]?.stringValue == "capture" && $0["topic"]?.stringValue == Topic.shopOrders })
        #expect(try database.query("SELECT count(*) AS n FROM alerting.alerts").first!.decode("n", as: Int.self) == 4)
        #expect(try database.query("SELECT count(*) AS n FROM alerting.alerts WHERE NOT notified").first!.decode("n", as: Int.self) == 2)
        #expect(alerting.log.contains("ALERT dead letter"))
        _ = capture.terminate(waitSeconds: 10)
        _ = alerting.terminate(waitSeconds: 10)
        _ = receiver
    }

    @Test("an endpoint that keeps failing for one alert does not hold up the others")
    func failingAlertDoesNotBlockOthers() throws {
        // Every invalid-json alert is answered with 503; with 30 tries the backoff before giving up on it is many minutes.
        let (receiver, port, _) = try Self.startReceiver(failFirst: 0, alwaysFailing: "invalid-json")
        let rig = try PipelineRig(partitions: 1)
        let capture = try rig.start("oms-capture", name: "capture-alerts")
        // Enough tries that the failing alert is certainly still being retried when the second one arrives (with 8, the jittered
        // backoff sometimes gave up within the test's 20 s).
        let alerting = try rig.start("oms-alerting", name: "alerting-failing", ["OMS_ALERT_WEBHOOK_URL": "http://127.0.0.1:\(port)/alerts",
                                                                              "OMS_ALERT_WEBHOOK_ATTEMPTS": "30"])
        try rig.producer.publish([OutgoingMessage(topic: Topic.shopOrders, key: "k", value: Array("{".utf8))])
        try eventually(timeout: 30, "the failing alert tried") {
            try rig.database.query("SELECT count(*) AS n FROM alerting.alerts").first!.decode("n", as: Int.self) == 1
        }
        // Its retries are well under way: a dispatcher that slept its backoff inline would now be
        // inside a wait of several seconds (up to 16–32 s at the fifth or sixth try).
        Thread.sleep(forTimeInterval: 20)
        var negative = BergUndBeutelOrders.orderCreated(index: 2)
        var data = negative.data.objectValue!
        data["lines"] = .array([])
        negative.data = .object(data)
        try rig.producer.publish([BergUndBeutelOrders.message(negative)])
        try eventually(timeout: 4, "the second alert delivered while the first still waits for its next try") {
            try rig.database.query("SELECT count(*) AS n FROM alerting.alerts WHERE error_class = 'schema-violation' AND webhook_status = 'sent'")
                .first!.decode("n", as: Int.self) == 1
        }
        #expect(try rig.database.query("SELECT webhook_status FROM alerting.alerts WHERE error_class = 'invalid-json'")
            .first!.decode("webhook_status", as: String.self) == "pending")
        _ = capture.terminate(waitSeconds: 10)
        _ = alerting.terminate(waitSeconds: 10)
        _ = receiver
    }
}
