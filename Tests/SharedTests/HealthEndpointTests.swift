import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Shared
import Testing

@Suite("Operations HTTP endpoint")
struct HealthEndpointTests {
    @Test("/healthz is valid JSON whatever the status text holds (a retried batch's multi-line SQL error)")
    func healthzIsEncodedJSON() async throws {
        // Other suites run in parallel in make test: the server may answer late, so the heartbeat may not go stale meanwhile.
        let health = WorkerHealth(staleAfter: 3_600)
        health.markReady()
        let status = "retrying after PostgreSQL error 23505: duplicate key\n  INSERT INTO \"capture\".orders … VALUES ($1, '{\"a\":1}')\\\t\u{1}"
        health.beat(status: status)
        var logger = Logger(label: "healthz-test")
        logger.logLevel = .warning
        let port = Int.random(in: 20_000...29_999)
        let group = ServiceGroup(services: [OperationsHTTPServer.build(port: port, registry: PrometheusCollectorRegistry(), health: health, logger: logger)],
                                 logger: logger)
        let running = Task { try await group.run() }
        defer { running.cancel() }
        var body: [UInt8] = []
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            health.beat(status: status)
            let output = Pipe()
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-s", "http://127.0.0.1:\(port)/healthz"]
            curl.standardOutput = output
            try curl.run()
            curl.waitUntilExit()
            body = Array(output.fileHandleForReading.readDataToEndOfFile())
            if !body.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let document = try JSONParser.parse(body)
        #expect(document["status"]?.stringValue == "ok")
        #expect(document["state"]?.stringValue == status)
        #expect((document["secondsSinceHeartbeat"]?.int64Value).map { $0 >= 0 && $0 < 3_600 } == true)
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
