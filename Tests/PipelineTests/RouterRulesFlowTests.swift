import Foundation
import Shared
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs omsctl and returns its exit code and combined output.
func runOmsctl(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
    try runProgram(try TestEnvironment.binDirectory + "/omsctl", arguments, environment: environment)
}

/// Runs a program (omsctl, qpdf, pdftotext, …) and returns its exit code and output (with its error output unless `separateErrors`).
func runProgram(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                separateErrors: Bool = false) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = separateErrors ? FileHandle.nullDevice : pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("Routing rules as data", .serialized)
struct RouterRulesFlowTests {
    @Test("SIGHUP reloads a valid rule file, keeps the old rules on a bad one; the dry-run shows what new rules would change and changes nothing")
    func reloadAndSimulate() throws {
        let directory = try TestEnvironment.configCopy("router.json", replacing: [])
        let shipped = try String(contentsOfFile: directory + "/router.json", encoding: .utf8)
        let rig = try PipelineRig(partitions: 2)
        let (database, producer) = (rig.database, rig.producer)
        let environment = rig.environment(["OMS_CONFIG_DIR": directory])
        let router = try ManagedProcess.worker("oms-router", environment: environment, name: "router-rules")
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

@Suite("Router release window and retries", .serialized)
struct RouterReleaseWindowTests {
    @Test("with a release window a cancellation succeeds until the fulfillment order goes out, then is refused; held orders are retried under new rules")
    func releaseWindowAndRetry() throws {
        let shipped = try String(contentsOfFile: TestEnvironment.configDirectory + "/router.json", encoding: .utf8)
        let windowed = shipped.replacingOccurrences(of: "\"releaseDelayMinutes\": 0", with: "\"releaseDelayMinutes\": 30")
        let directory = try TestEnvironment.configCopy("router.json", replacing: [("\"releaseDelayMinutes\": 0", "\"releaseDelayMinutes\": 30")])
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let router = try rig.start("oms-router", name: "router-window", ["OMS_CONFIG_DIR": directory, "OMS_HOUSEKEEPING_SECONDS": "1"])
        try producer.publish([RouterFixtures.stock("A", sequence: 1, [("TENT-2P", 5)]),
                              RouterFixtures.product("RIGGING", ["serviceSkill": "kayak-rigging"])])
        try eventually(timeout: 30, "stock and product known") {
            try database.query("SELECT (SELECT count(*) FROM router.stock) + (SELECT count(*) FROM router.products) AS n").first!.decode("n", as: Int.self) == 2
        }
        try producer.publish([RouterFixtures.order("W1", [("TENT-2P", 1)]), RouterFixtures.order("W2", [("TENT-2P", 1)]),
                              RouterFixtures.order("W3", [("RIGGING", 1)])])
        func fulfillmentStatus(_ orderID: String) throws -> String? {
            try database.query("SELECT string_agg(status, ',') AS s FROM router.fulfillment_orders WHERE order_id = \(orderID)").first?.decodeIfPresent("s")
        }
        func status(_ id: String) throws -> String? {
            try database.query("SELECT status FROM router.orders WHERE order_id = \(id)").first?.decode("status")
        }
        try eventually(timeout: 30, "routed, fulfillment orders pending; W3 held (no technician can rig kayaks)") {
            try fulfillmentStatus("W1") == "pending" && fulfillmentStatus("W2") == "pending" && status("W3") == "held"
        }
        try producer.publish([RouterFixtures.orderEvent("Order.CancellationRequested", "W1", ["reason": "changed mind", "requestedBy": "shop"])])
        try eventually(timeout: 30, "W1 cancelled inside the window") { try status("W1") == "cancelled" }
        #expect(try fulfillmentStatus("W1") == "cancelled")
        #expect(try database.query("SELECT reserved FROM router.stock WHERE sku = 'TENT-2P'").first!.decode("reserved", as: Int64.self) == 1)
        // W2's window ends: its fulfillment order goes out; now a cancellation is refused.
        try database.query("UPDATE router.fulfillment_orders SET release_due = now() - interval '1 second' WHERE order_id = 'W2'")
        try eventually(timeout: 30, "W2 released to the warehouse") { try fulfillmentStatus("W2") == "released" }
        try producer.publish([RouterFixtures.orderEvent("Order.CancellationRequested", "W2", ["reason": "changed mind", "requestedBy": "shop"])])
        // W3: new rules with a kayak rigger, reloaded; the held order is tried again.
        try windowed.replacingOccurrences(of: "\"skills\": [\"tent-assembly\"], \"countries\": [\"DE\"]",
                                          with: "\"skills\": [\"tent-assembly\", \"kayak-rigging\"], \"countries\": [\"DE\"]")
            .write(toFile: directory + "/router.json", atomically: true, encoding: .utf8)
        kill(router.pid, SIGHUP)
        Thread.sleep(forTimeInterval: 1)
        try database.query("UPDATE router.orders SET updated_at = now() - interval '1 hour' WHERE order_id = 'W3'")
        try eventually(timeout: 30, "W3 routed on retry") { try status("W3") == "routed" }

        let fulfillment = try TopicReader(broker: broker, topic: Topic.omsFulfillment)
        fulfillment.read(atLeast: 1, timeout: 30)
        let created = try events(fulfillment.drain(for: 2))
        #expect(created.map { $0.subject! } == ["W2"], "only W2's fulfillment order reached a warehouse")
        let orderEvents = try TopicReader(broker: broker, topic: Topic.omsOrders)
        orderEvents.read(atLeast: 3 + 2 + 4, timeout: 30)
        let routerEvents = Set(try events(orderEvents.drain(for: 2)).filter { $0.source == "oms/router" }.map { "\($0.subject!) \($0.type)" })
        #expect(routerEvents == ["W1 Order.Cancelled", "W2 Order.CancellationRefused", "W3 Order.RoutingOnHold", "W3 Appointment.Scheduled"])
        #expect(router.terminate(waitSeconds: 10) == 0)
    }

    @Test("a WMS count below the reservations takes back the youngest unreleased fulfillment order: available never below zero")
    func shrinkage() throws {
        let directory = try TestEnvironment.configCopy("router.json", replacing: [("\"releaseDelayMinutes\": 0", "\"releaseDelayMinutes\": 30")])
        let rig = try PipelineRig(partitions: 2)
        let (database, producer) = (rig.database, rig.producer)
        let router = try rig.start("oms-router", name: "router-shrink", ["OMS_CONFIG_DIR": directory])
        try producer.publish([RouterFixtures.stock("A", sequence: 1, [("TENT-2P", 3)])])
        try eventually(timeout: 30, "stock known") {
            try database.query("SELECT count(*) AS n FROM router.stock").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([RouterFixtures.order("K1", [("TENT-2P", 2)])])
        try eventually(timeout: 30, "K1 routed") { try database.query("SELECT status FROM router.orders WHERE order_id = 'K1'").first?.decode("status", as: String.self) == "routed" }
        try producer.publish([RouterFixtures.order("K2", [("TENT-2P", 1)])])
        func ledger() throws -> String {
            try database.query("SELECT on_hand || '/' || reserved AS l FROM router.stock WHERE sku = 'TENT-2P'").first!.decode("l")
        }
        try eventually(timeout: 30, "both reserved") { try ledger() == "3/3" }
        // Stock-taking finds only 2 tents: K2 (the younger) loses its reservation and is back-ordered.
        try producer.publish([RouterFixtures.stock("A", sequence: 2, [("TENT-2P", 2)])])
        try eventually(timeout: 30, "K2 back-ordered, available not negative") {
            try ledger() == "2/2" && database.query("SELECT status FROM router.orders WHERE order_id = 'K2'").first?.decode("status", as: String.self) == "backordered"
        }
        #expect(try database.query("SELECT status FROM router.fulfillment_orders WHERE order_id = 'K2'").first?.decode("status", as: String.self) == "cancelled")
        #expect(try database.query("SELECT status FROM router.fulfillment_orders WHERE order_id = 'K1'").first?.decode("status", as: String.self) == "pending")
        // A delivery: K2 is routed again.
        try producer.publish([RouterFixtures.stock("A", sequence: 3, [("TENT-2P", 4)])])
        try eventually(timeout: 30, "K2 routed again") {
            try ledger() == "4/3" && database.query("SELECT status FROM router.orders WHERE order_id = 'K2'").first?.decode("status", as: String.self) == "routed"
        }
        let audit = try database.query("SELECT reason FROM router.audit_trail WHERE subject = 'K2' AND action = 'FulfillmentOrder.Withdrawn'")
            .map { try $0.decode("reason", as: String.self) }
        #expect(audit.count == 1 && audit.first?.contains("K2-F1 taken back before release") == true)
        #expect(router.terminate(waitSeconds: 10) == 0)
    }
}
