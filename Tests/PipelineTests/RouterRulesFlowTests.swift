import Foundation
import Shared
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs omsctl and returns its exit code and combined output.
func runOmsctl(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try TestEnvironment.binDirectory + "/omsctl")
    process.arguments = arguments
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("Routing rules as data", .serialized)
struct RouterRulesFlowTests {
    @Test("SIGHUP reloads a valid rule file, keeps the old rules on a bad one; the dry-run shows what new rules would change and changes nothing")
    func reloadAndSimulate() throws {
        let directory = NSTemporaryDirectory() + "oms-router-rules-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let shipped = try String(contentsOfFile: TestEnvironment.configDirectory + "/router.json", encoding: .utf8)
        try shipped.write(toFile: directory + "/router.json", atomically: true, encoding: .utf8)
        let broker = try TestBroker(partitions: 2)
        let databaseURL = try TestEnvironment.makeDatabase()
        let environment = workerEnvironment(broker: broker, databaseURL: databaseURL, extra: ["OMS_CONFIG_DIR": directory])
        let router = try ManagedProcess.worker("oms-router", environment: environment, name: "router-rules")
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
        let database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        try producer.publish([RouterFixtures.stock("A", sequence: 1, [("TENT-2P", 50), ("MAT-INFL", 1)]),
                              RouterFixtures.stock("B", sequence: 1, [("TENT-2P", 50), ("MAT-INFL", 50)])])
        try eventually(timeout: 30, "stock known") {
            try database.query("SELECT count(*) AS n FROM router.stock").first!.decode("n", as: Int.self) == 4
        }
        func warehouses(_ orderID: String) throws -> String? {
            try database.query("""
                SELECT string_agg(warehouse_id, '+' ORDER BY fulfillment_order_id) AS w FROM router.fulfillment_orders WHERE order_id = \(orderID)
                """).first?.decodeIfPresent("w")
        }
        try producer.publish([RouterFixtures.order("S1", [("TENT-2P", 1)]), RouterFixtures.order("S2", [("TENT-2P", 1), ("MAT-INFL", 2)])])
        try eventually(timeout: 30, "routed under the shipped rules") { try warehouses("S1") == "A" && warehouses("S2") == "B" }

        // The dry-run: Germany served from B first would move S1 to B; S2 stays.
        let preferB = shipped.replacingOccurrences(of: "\"DE\": [\"A\", \"B\"]", with: "\"DE\": [\"B\", \"A\"]")
        #expect(preferB != shipped)
        let newFile = directory + "/router-new.json"
        try preferB.write(toFile: newFile, atomically: true, encoding: .utf8)
        let cliEnvironment = environment.merging(["OMS_LOG_LEVEL": "error"]) { $1 }
        let before = try database.query("SELECT (SELECT count(*) FROM router.fulfillment_orders) + (SELECT sum(reserved) FROM router.stock) AS n")
            .first!.decode("n", as: Int64.self)
        let simulation = try runOmsctl(["rules", "simulate", "--rules", newFile, "--last", "10"], environment: cliEnvironment)
        #expect(simulation.status == 0, "\(simulation.output)")
        #expect(simulation.output.contains("replayed 2 routing decision(s)"))
        #expect(simulation.output.contains("1 would change"))
        #expect(simulation.output.split(separator: "\n").contains { $0.hasPrefix("S1") && $0.contains("warehouses") && $0.hasSuffix("B") })
        #expect(!simulation.output.split(separator: "\n").contains { $0.hasPrefix("S2") })
        let after = try database.query("SELECT (SELECT count(*) FROM router.fulfillment_orders) + (SELECT sum(reserved) FROM router.stock) AS n")
            .first!.decode("n", as: Int64.self)
        #expect(before == after, "the dry-run touches no state")
        let bad = try runOmsctl(["rules", "check", "--rules", TestEnvironment.configDirectory + "/capture.json"], environment: cliEnvironment)
        #expect(bad.status != 0 && bad.output.contains("capture.json"), "\(bad.output)")

        // Live: the new rules via SIGHUP; then a broken file and SIGHUP again: the new rules stay.
        try preferB.write(toFile: directory + "/router.json", atomically: true, encoding: .utf8)
        kill(router.pid, SIGHUP)
        Thread.sleep(forTimeInterval: 1)
        try producer.publish([RouterFixtures.order("S3", [("TENT-2P", 1)])])
        try eventually(timeout: 30, "S3 routed under the reloaded rules") { try warehouses("S3") == "B" }
        try "{ \"validFrom\": ".write(toFile: directory + "/router.json", atomically: true, encoding: .utf8)
        kill(router.pid, SIGHUP)
        Thread.sleep(forTimeInterval: 1)
        try producer.publish([RouterFixtures.order("S4", [("TENT-2P", 1)])])
        try eventually(timeout: 30, "S4 routed, still under the reloaded rules") { try warehouses("S4") == "B" }
        #expect(router.isRunning)
        let log = try String(contentsOfFile: router.logPath, encoding: .utf8)
        #expect(log.contains("routing rules NOT reloaded; the previous rules stay in force"))
        #expect(router.terminate(waitSeconds: 10) == 0)
    }
}
