import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Shared
import Testing

@Suite("Operations HTTP endpoint")
struct HealthEndpointTests {
    @Test("/healthz is valid JSON whatever the status text holds (a retried batch's multi-line SQL error)")
    func healthzIsEncodedJSON() throws {
        // Other suites run in parallel in make test: the server may answer late, so the heartbeat may not go stale meanwhile.
        let health = WorkerHealth(staleAfter: 3_600)
        health.markReady()
        let status = "retrying after PostgreSQL error 23505: duplicate key\n  INSERT INTO \"capture\".orders … VALUES ($1, '{\"a\":1}')\\\t\u{1}"
        health.beat(status: status)
        // The body the endpoint serves, taken directly: a server task here could wait minutes for the cooperative pool
        // while the blocking end-to-end suites hold its two threads (workers serve /healthz from their own processes).
        let (healthy, text) = OperationsHTTPServer.healthBody(health)
        #expect(healthy)
        let body = Array(text.utf8)
        let document = try JSONParser.parse(body)
        #expect(document["status"]?.stringValue == "ok")
        #expect(document["state"]?.stringValue == status)
        #expect((document["secondsSinceHeartbeat"]?.int64Value).map { $0 >= 0 && $0 < 3_600 } == true)
    }
}
