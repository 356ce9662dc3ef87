import ArgumentParser
import Foundation
import Shared
import Synchronization

/// `oms-bench chaos`: the whole pipeline at a steady rate with two copies of every stage while it is hurt —
/// random `kill -9` of stage processes (started again, as systemd would), a broker outage, an immediate stop of
/// PostgreSQL, injected broker request errors and poison messages — then a check of what must hold anyway.
struct ChaosRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run orders through every stage while killing processes, taking the broker and PostgreSQL away and injecting errors; then check the invariants.",
        discussion: """
            Needs the environment of make dev-up plus the dev broker's pid (--broker-pid-file) and PostgreSQL's data \
            directory (--postgres-data); make chaos passes both. Exits 1 when an invariant does not hold.
            """)

    @OptionGroup var options: PipelineOptions
    @Option(help: "kill -9 of random stage processes during the run.") var kills: Int = 20
    @Option(help: "Seconds the broker is down (0: no outage).") var brokerOutageSeconds: Int = 10
    @Option(help: "Bursts of injected broker request errors.") var errorInjections: Int = 3
    @Option(help: "Poison messages (broken JSON, schema violations) published among the orders.") var poison: Int = 10
    @Option(help: "File holding the dev broker's pid (SIGUSR1/SIGUSR2 take it down and up, SIGHUP injects errors).")
    var brokerPidFile: String?
    @Option(help: "PostgreSQL's data directory, for the immediate stop and restart (leave out to skip it).") var postgresData: String?
    @Option(help: "Directory of pg_ctl.") var postgresBin: String = "/usr/lib/postgresql/15/bin"
    @Option(help: "Seed of the fault schedule.") var seed: UInt64 = 20261203

    func validate() throws {
        guard options.rate > 0 else { throw ValidationError("--rate must be above 0: the faults are spread over a steady stream") }
        guard (0...1_000).contains(kills) else { throw ValidationError("--kills must be between 0 and 1000") }
        guard (0...120).contains(brokerOutageSeconds) else { throw ValidationError("--broker-outage-seconds must be between 0 and 120") }
        guard (0...100).contains(errorInjections), (0...1_000).contains(poison) else { throw ValidationError("--error-injections 0…100, --poison 0…1000") }
        if (brokerOutageSeconds > 0 || errorInjections > 0) && brokerPidFile == nil {
            throw ValidationError("--broker-pid-file is needed for the broker outage and the error injection (or set both to 0)")
        }
    }

    func run() throws {
        let brokerPID: Int32? = try brokerPidFile.map { file in
            let text = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let pid = Int32(text), pid > 0, Foundation.kill(pid, 0) == 0 else {
                throw ValidationError("\(file) does not name a running broker process (\"\(text.prefix(40))\")")
            }
            return pid
        }
        let run = try PipelineRun(options: options)
        let plan = FaultPlan(seed: seed, seconds: Double(options.orders) / Double(options.rate), kills: kills,
                             brokerOutageSeconds: brokerOutageSeconds, errorInjections: errorInjections,
                             postgresRestart: postgresData != nil, poison: poison)
        let log = FaultLog()
        let poisonKeys = (0..<poison).map { "POISON-\(run.mix.runID)-\($0)" }
        let kafka = run.kafka
        let (postgresData, postgresBin, seed) = (self.postgresData, self.postgresBin, self.seed)
        let result = try run.execute { stages, stop in
            let clock = ContinuousClock()
            let start = clock.now
            func note(_ text: String) {
                let line = String(format: "%6.1f s  ", (clock.now - start).seconds) + text
                log.append(line)
                BenchEnvironment.progress("  chaos: " + line)
            }
            // Its own stream for which copy is killed (the plan's stream chose the times).
            var random = SplitMix(seed: seed ^ 0x5DEE_CE66_D1CE_2026)
            for fault in plan.faults {
                while (clock.now - start).seconds < fault.at {
                    if stop.isStopped { return }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                switch fault.kind {
                case .kill:
                    note("kill -9 " + stages.kill(Int(random.next() % UInt64(max(1, stages.count)))))
                case .brokerDown(let seconds):
                    guard let brokerPID else { continue }
                    Foundation.kill(brokerPID, SIGUSR1)
                    note("broker down for \(seconds) s")
                    Thread.sleep(forTimeInterval: Double(seconds))
                    Foundation.kill(brokerPID, SIGUSR2)
                    note("broker up")
                case .injectErrors:
                    guard let brokerPID else { continue }
                    Foundation.kill(brokerPID, SIGHUP)
                    note("broker request errors injected (Produce, Fetch, OffsetCommit)")
                case .postgresRestart:
                    guard let postgresData else { continue }
                    note("PostgreSQL immediate stop: " + Self.pgctl(postgresBin, ["-D", postgresData, "-m", "immediate", "-w", "stop"]))
                    Thread.sleep(forTimeInterval: 3)
                    note("PostgreSQL start: " + Self.pgctl(postgresBin, ["-D", postgresData, "-l", postgresData + "/server.log", "-w", "-t", "120", "start"]))
                case .poison:
                    do {
                        let producer = try KafkaProducer(configuration: kafka, logger: BenchEnvironment.quietLogger, deliveryTimeoutMillis: 120_000)
                        try producer.publish(Self.poisonMessages(poisonKeys))
                        note("\(poisonKeys.count) poison messages published on shop.orders")
                    } catch {
                        note("poison messages could not be published: \(error)")
                    }
                }
            }
        }
        // Let the relays and the alerting copies settle before the rows are read.
        Thread.sleep(forTimeInterval: 3)
        try run.report(result, ceiling: nil)
        print("  faults (\(plan.faults.count) planned over \(Int(plan.seconds)) s):")
        for line in log.lines { print("    " + line) }
        let checks = try ChaosInvariants(run: run, result: result, poisonKeys: poisonKeys).check()
        print("  invariants")
        for check in checks { print("    \(check.holds ? "ok  " : "FAIL") \(check.text)") }
        // Reported, not an invariant: seen in some runs (a copy busy past 30 s after SIGTERM), not yet explained.
        print("  shutdown        " + (result.stopFailures.isEmpty ? "every stage process stopped cleanly on SIGTERM at the end"
                                      : "NOT every stage process stopped cleanly on SIGTERM at the end: " + result.stopFailures.joined(separator: ", ")))
        guard checks.allSatisfy(\.holds) else { throw ExitCode(1) }
    }

    /// Runs pg_ctl as the cluster's owner (the server refuses to run as root). Through system(3), not Foundation's
    /// Process: its waitUntilExit was seen to hang when other threads start and kill processes at the same time.
    static func pgctl(_ bin: String, _ arguments: [String]) -> String {
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let outputPath = NSTemporaryDirectory() + "oms-chaos-pgctl-\(UUID().uuidString.prefix(8)).log"
        let command = ([bin + "/pg_ctl"] + arguments).map(quoted).joined(separator: " ")
        // The output into a file, not a pipe: the server started by pg_ctl keeps the descriptors it inherits open.
        let status = system((getuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : "") + command + " </dev/null >" + quoted(outputPath) + " 2>&1")
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: outputPath)
        return "exit \(status), " + (text.split(separator: "\n").last.map(String.init) ?? "")
    }

    /// Half broken JSON, half well-formed events that break their contract; each keyed so the check finds it.
    static func poisonMessages(_ keys: [String]) -> [OutgoingMessage] {
        keys.enumerated().map { number, key in
            if number % 2 == 0 {
                return OutgoingMessage(topic: Topic.shopOrders, key: key, value: Array(#"{"specversion":"1.0","id":"\#(key)","type":"Order.Cre"#.utf8))
            }
            let event = CloudEvent(id: key.lowercased(), source: "shop/berg-und-beutel", type: "Order.Created", subject: key,
                                   time: EventTime.format(Date()), data: ["orderId": .string(key), "lines": [["lineId": "1", "sku": "TENT-2P", "quantity": -3]]])
            return OutgoingMessage(topic: Topic.shopOrders, key: key, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
        }
    }
}

/// What the fault thread did, for the report.
final class FaultLog: Sendable {
    private let entries = Mutex<[String]>([])
    func append(_ line: String) { entries.withLock { $0.append(line) } }
    var lines: [String] { entries.withLock { $0 } }
}

/// When what happens in a chaos run: kills spread at random over the first 80 % of the stream, the other faults at fixed shares of it.
struct FaultPlan {
    enum Kind { case kill, brokerDown(Int), injectErrors, postgresRestart, poison }
    struct Fault { let at: Double; let kind: Kind }
    let seconds: Double
    let faults: [Fault]

    init(seed: UInt64, seconds: Double, kills: Int, brokerOutageSeconds: Int, errorInjections: Int, postgresRestart: Bool, poison: Int) {
        self.seconds = seconds
        var random = SplitMix(seed: seed)
        var faults: [Fault] = []
        for _ in 0..<kills { faults.append(Fault(at: seconds * (0.05 + 0.75 * Double(random.next() % 10_000) / 10_000), kind: .kill)) }
        if brokerOutageSeconds > 0 { faults.append(Fault(at: seconds * 0.3, kind: .brokerDown(brokerOutageSeconds))) }
        for n in 0..<errorInjections { faults.append(Fault(at: seconds * (0.2 + 0.5 * Double(n) / Double(max(1, errorInjections))), kind: .injectErrors)) }
        if postgresRestart { faults.append(Fault(at: seconds * 0.55, kind: .postgresRestart)) }
        if poison > 0 { faults.append(Fault(at: seconds * 0.1, kind: .poison)) }
        self.faults = faults.sorted { $0.at < $1.at }
    }
}

/// A small seeded generator, so that a chaos run can be repeated with the same schedule.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What must hold after any amount of crashing: read from the stages' tables and from what the driver saw.
struct ChaosInvariants {
    let run: PipelineRun
    let result: PipelineRun.Result
    let poisonKeys: [String]

    struct Check { let holds: Bool; let text: String }

    func check() throws -> [Check] {
        let database = try PostgresConnection(url: run.databaseURL, applicationName: "oms-bench-chaos", logger: BenchEnvironment.logger)
        let pattern = "PB-\(run.mix.runID)-%"
        let orders = run.options.orders
        let states = run.driver.orders
        func count(_ sql: PostgresQuery) throws -> Int { try database.query(sql).first?.decode("n", as: Int.self) ?? -1 }
        var checks: [Check] = []

        let done = states.filter(\.done).count, rejected = states.filter(\.rejected).count
        let returns = (0..<orders).filter { run.mix.isReturned($0) && !run.mix.isBusiness($0) }.count
        let credited = states.filter(\.credited).count
        checks.append(Check(holds: done == orders && rejected == 0 && credited == returns,
                            text: "every order has its outcome: \(done) of \(orders) through, \(rejected) rejected (none expected), \(credited) of \(returns) returns credited"))
        let conflicting = run.driver.conflictingRedeliveries
        checks.append(Check(holds: conflicting.isEmpty, text: "no event id seen twice with other content (\(run.driver.redelivered) redelivered copies, \(conflicting.count) differing\(conflicting.isEmpty ? "" : ": " + conflicting.prefix(5).joined(separator: ", ")))"))

        let stored = try count("SELECT count(*)::int AS n FROM capture.orders WHERE order_id LIKE \(pattern)")
        checks.append(Check(holds: stored == orders, text: "Capture: \(stored) orders stored for \(orders) published"))
        // The Router reserves and hands out every unit once: fulfillment orders add up to what was ordered.
        let units = try database.query("""
            SELECT f.order_id, sum((l->>'quantity')::bigint)::bigint AS units FROM router.fulfillment_orders f, json_array_elements(f.lines) l
            WHERE f.order_id LIKE \(pattern) AND f.status <> 'cancelled' GROUP BY f.order_id
            """)
        var wrongUnits: [String] = []
        for row in units {
            let orderID: String = try row.decode("order_id"), routed: Int64 = try row.decode("units")
            if let index = run.mix.index(ofOrder: orderID), states[index].units != routed { wrongUnits.append("\(orderID) \(routed)/\(states[index].units)") }
        }
        checks.append(Check(holds: wrongUnits.isEmpty && units.count == orders,
                            text: "Router: fulfillment orders of \(units.count) orders carry exactly the ordered units\(wrongUnits.isEmpty ? "" : "; not: " + wrongUnits.prefix(5).joined(separator: ", "))"))
        let reservations = try count("SELECT count(*)::int AS n FROM router.reservations WHERE order_id LIKE \(pattern)")
        let ledger = try count("""
            SELECT count(*)::int AS n FROM router.stock s
            WHERE s.reserved <> coalesce((SELECT sum(r.quantity) FROM router.reservations r WHERE r.sku = s.sku AND r.warehouse_id = s.warehouse_id AND r.kind = 'hard'), 0)
            """)
        checks.append(Check(holds: reservations == 0 && ledger == 0,
                            text: "Router: every reservation consumed or released (\(reservations) left) and the stock ledger's reserved figures match the reservations (\(ledger) rows differ)"))
        let foTwice = try count("""
            SELECT count(*)::int AS n FROM (SELECT order_id, warehouse_id, lines::text FROM router.fulfillment_orders WHERE order_id LIKE \(pattern)
            GROUP BY 1, 2, 3 HAVING count(*) > 1) d
            """)
        let fulfillmentOrders = try count("SELECT count(*)::int AS n FROM fulfillment.fulfillment_orders WHERE order_id LIKE \(pattern)")
        let routerOrders = try count("SELECT count(*)::int AS n FROM router.fulfillment_orders WHERE order_id LIKE \(pattern) AND status <> 'cancelled'")
        checks.append(Check(holds: foTwice == 0 && fulfillmentOrders == routerOrders,
                            text: "Fulfillment: \(fulfillmentOrders) fulfillment orders for the Router's \(routerOrders), \(foTwice) identical ones twice"))
        let ssccTwice = try count("SELECT count(*)::int AS n FROM (SELECT sscc FROM fulfillment.parcels GROUP BY sscc HAVING count(*) > 1) d")
        let parcels = try count("SELECT count(*)::int AS n FROM fulfillment.parcels p JOIN fulfillment.fulfillment_orders f USING (fulfillment_order_id) WHERE f.order_id LIKE \(pattern)")
        checks.append(Check(holds: ssccTwice == 0, text: "Fulfillment: \(parcels) parcels, no SSCC twice (\(ssccTwice))"))
        let invoicesTwice = try count("""
            SELECT count(*)::int AS n FROM (SELECT fulfillment_order_id FROM billing.documents WHERE order_id LIKE \(pattern) AND type_code = '380'
            GROUP BY 1 HAVING count(*) > 1) d
            """)
        let invoices = try count("SELECT count(*)::int AS n FROM billing.documents WHERE order_id LIKE \(pattern) AND type_code = '380'")
        let shipments = states.reduce(0) { $0 + $1.shipments.count }
        checks.append(Check(holds: invoicesTwice == 0 && invoices == shipments,
                            text: "Billing: \(invoices) invoices for \(shipments) shipments, no shipment invoiced twice (\(invoicesTwice))"))
        let notesTwice = try count("""
            SELECT count(*)::int AS n FROM (SELECT order_id FROM billing.documents WHERE order_id LIKE \(pattern) AND type_code = '381' GROUP BY 1 HAVING count(*) > 1) d
            """)
        let notes = try count("SELECT count(*)::int AS n FROM billing.documents WHERE order_id LIKE \(pattern) AND type_code = '381'")
        checks.append(Check(holds: notesTwice == 0 && notes == returns, text: "Billing: \(notes) credit notes for \(returns) returns, none twice (\(notesTwice))"))
        let returnsTwice = try count("""
            SELECT count(*)::int AS n FROM (SELECT order_id FROM returns.returns WHERE order_id LIKE \(pattern) AND rma IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d
            """)
        checks.append(Check(holds: returnsTwice == 0, text: "Returns: no order with two authorized returns (\(returnsTwice))"))
        // Numbers: per range (the number without its running part), 1…n with no gap and none twice.
        let ranges = try database.query("""
            SELECT regexp_replace(number, '[0-9]+$', '') AS range, count(*)::int AS n, count(DISTINCT number)::int AS d,
                   min(substring(number FROM '[0-9]+$')::bigint)::bigint AS lo, max(substring(number FROM '[0-9]+$')::bigint)::bigint AS hi
            FROM billing.documents GROUP BY 1 ORDER BY 1
            """)
        var rangeTexts: [String] = [], gapless = true
        for row in ranges {
            let range: String = try row.decode("range"), n: Int = try row.decode("n"), distinct: Int = try row.decode("d")
            let lo: Int64 = try row.decode("lo"), hi: Int64 = try row.decode("hi")
            if lo != 1 || hi != Int64(n) || distinct != n { gapless = false }
            rangeTexts.append("\(range)1…\(hi) (\(n))")
        }
        checks.append(Check(holds: gapless && !rangeTexts.isEmpty, text: "document numbers gapless and unique per range: \(rangeTexts.joined(separator: ", "))"))
        // Dead letters: the poison messages, each once per consuming stage (Capture), and nothing else of this run.
        let deadKeys = try database.query("""
            SELECT convert_from(message_key, 'UTF8') AS k, count(*)::int AS n FROM alerting.dead_letters
            WHERE message_key IS NOT NULL AND position(\(run.mix.runID)::text IN convert_from(message_key, 'UTF8')) > 0 GROUP BY 1
            """).map { (try $0.decode("k", as: String.self), try $0.decode("n", as: Int.self)) }
        let runKeys = deadKeys.filter { $0.0.contains(run.mix.runID) }
        let expected = Set(poisonKeys)
        let unexpected = runKeys.filter { !expected.contains($0.0) }.map(\.0)
        let twice = runKeys.filter { $0.1 > 1 }.map(\.0)
        let missing = expected.subtracting(runKeys.map(\.0))
        checks.append(Check(holds: unexpected.isEmpty && twice.isEmpty && missing.isEmpty,
                            text: "dead letters: \(runKeys.count) of this run, the \(expected.count) poison messages each once" +
                                (unexpected.isEmpty ? "" : "; unexpected: \(unexpected.prefix(5))") + (twice.isEmpty ? "" : "; twice: \(twice.prefix(5))") +
                                (missing.isEmpty ? "" : "; missing: \(missing.sorted().prefix(5))")))
        return checks
    }
}
