import Foundation
import Shared
import Testing

/// The short version of `make chaos`: `oms-bench chaos` with two copies of every stage on a PostgreSQL cluster and a
/// broker of this test's own (it stops both), kill -9 of stage processes, a broker outage, an immediate PostgreSQL
/// stop, injected broker request errors and poison messages; the run's invariant report must hold throughout.
@Suite("Chaos, short", .serialized)
struct ChaosTests {
    @Test("orders through all stages while processes are killed, the broker and PostgreSQL go away and requests fail: every invariant holds")
    func shortChaosRun() throws {
        let cluster = try TestPostgresCluster()
        let databaseURL = try cluster.migratedDatabaseURL()
        let broker = try TestBroker(partitions: 4)
        let pidFile = NSTemporaryDirectory() + "oms-chaos-broker-\(UUID().uuidString.prefix(8)).pid"
        try String(broker.process.pid).write(toFile: pidFile, atomically: true, encoding: .utf8)
        let logs = NSTemporaryDirectory() + "oms-chaos-stages-\(UUID().uuidString.prefix(8))"
        let chaos = try ManagedProcess.worker("oms-bench", arguments: [
            "chaos", "--orders", "400", "--rate", "20", "--copies", "2", "--kills", "5", "--broker-outage-seconds", "4",
            "--error-injections", "2", "--poison", "6", "--broker-pid-file", pidFile, "--postgres-data", cluster.directory + "/data",
            "--postgres-bin", cluster.binDirectory, "--timeout", "480", "--log-directory", logs,
        ], environment: workerEnvironment(broker: broker, databaseURL: databaseURL), name: "chaos")
        let exit = chaos.waitForExit(timeoutSeconds: 600)
        let status = exit ?? chaos.terminate(waitSeconds: 10)
        // The report without librdkafka's connection complaints during the outage.
        let report = chaos.log.split(separator: "\n").filter { !$0.contains("librdkafka=") && !$0.contains("orders through after") }.joined(separator: "\n")
        print(report)
        #expect(status == 0, "oms-bench chaos failed:\n\(report.suffix(6_000))")
        let kills = report.components(separatedBy: "kill -9 oms-").count - 1
        // Each fault once in the progress and once in the report.
        #expect(kills == 10, "5 kills, each in the progress and in the report:\n\(report.suffix(3_000))")
        for fault in ["broker down for 4 s", "broker up", "PostgreSQL immediate stop: exit 0", "PostgreSQL start: exit 0", "broker request errors injected",
                      "6 poison messages published"] {
            #expect(report.contains(fault), "missing fault \(fault)")
        }
        for invariant in ["every order has its outcome: 400 of 400 through", "Capture: 400 orders stored for 400 published",
                          "every reservation consumed or released (0 left)", "no SSCC twice (0)", "no shipment invoiced twice (0)",
                          "credit notes for", "document numbers gapless", "the 6 poison messages each once"] {
            #expect(report.contains("ok   " + invariant) || report.contains(invariant), "missing: \(invariant)")
        }
        #expect(!report.contains("FAIL"), "an invariant failed:\n\(report.suffix(4_000))")
    }
}
