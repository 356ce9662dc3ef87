import ArgumentParser
import Foundation
import Shared
import Synchronization

/// The options of a whole-pipeline run (`oms-bench pipeline`, `oms-bench chaos`).
struct PipelineOptions: ParsableArguments {
    @Option(help: "Orders to publish (the Berg&Beutel mix).") var orders: Int = 100_000
    @Option(help: "Publish rate in orders/s, each order when it falls due; 0 publishes everything at once.") var rate: Int = 0
    @Option(help: "Copies of every stage (one consumer group per stage).") var copies: Int = 1
    @Option(help: "OMS_BATCH_SIZE for the stages.") var batchSize: Int = 500
    @Option(help: "Give up after this many seconds.") var timeout: Int = 1_800
    @Option(help: "With --rate: orders handed over in the first this many seconds are left out of the latency figures.")
    var warmupSeconds: Int = 5
    @Option(help: "Stages to run, comma-separated.") var stages: String = StageProcesses.allStages.joined(separator: ",")
    @Option(help: "Where the stages' logs go.") var logDirectory: String = FileManager.default.temporaryDirectory.path + "/oms-bench-pipeline"

    var stageList: [String] { stages.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        guard (1...1_000_000).contains(orders) else { throw ValidationError("--orders must be between 1 and 1000000") }
        guard (0...100_000).contains(rate) else { throw ValidationError("--rate must be between 0 and 100000") }
        guard (1...4).contains(copies) else { throw ValidationError("--copies must be between 1 and 4") }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 10000") }
        guard (10...86_400).contains(timeout) else { throw ValidationError("--timeout must be between 10 and 86400 seconds") }
        let unknown = Set(stageList).subtracting(StageProcesses.allStages)
        guard unknown.isEmpty else { throw ValidationError("--stages: unknown stage(s) \(unknown.sorted().joined(separator: ", ")); known: \(StageProcesses.allStages.joined(separator: ", "))") }
        for needed in ["capture", "router", "fulfillment", "billing", "returns"] where !stageList.contains(needed) {
            throw ValidationError("--stages must include \(needed): an order needs it to get to its invoice")
        }
    }
}

/// `oms-bench pipeline`: the whole pipeline as separate processes, measured to the last document.
struct PipelineThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Measure orders/s and latency through every stage (Capture → Router → Fulfillment → Billing, returns), with a simulated WMS and carrier.",
        discussion: """
            Needs OMS_KAFKA_BROKERS, OMS_DATABASE_URL and OMS_CONFIG_DIR (make bench-pipeline sets up its own environment). \
            Prints orders/s, shop event → Invoice.Issued percentiles, per-step latency, PostgreSQL commits and rows per order, \
            CPU per order of each stage from /proc, and the PostgreSQL ceiling of this machine measured in the same run.
            """)

    @OptionGroup var options: PipelineOptions

    func run() throws {
        let run = try PipelineRun(options: options)
        let ceiling = try PostgresCeiling.measure(url: run.databaseURL, seconds: 5)
        let result = try run.execute(faults: nil)
        try run.report(result, ceiling: ceiling)
        guard result.allDone else { throw ExitCode(1) }
    }
}

/// One whole-pipeline run: the stages started, master data in, orders published (at once or evenly at a
/// rate), the driver answering as WMS, carrier and customers until every order has its documents.
final class PipelineRun {
    let options: PipelineOptions
    let kafka: KafkaConfiguration
    let databaseURL: String
    private(set) var database: PostgresConnection
    let mix: PipelineMix
    let driver: PipelineDriver
    var stages: StageProcesses?

    struct Result {
        var allDone: Bool
        var seconds: Double
        var publishSeconds: Double
        var handedOver: [Int64]
        var cpu: [String: Double]
        var postgresCPU: Double
        var benchCPU: Double
        var commits: Int64
        var rows: Int64
        /// Write-ahead log written by the whole cluster during the run (pg_stat_wal), bytes.
        var walBytes: Int64
        /// Of it, full-page images: the first change of a page after a checkpoint writes the whole 8 kB page.
        var walFullPages: Int64
        var stopFailures: [String]
        var unexpectedExits: Int
    }

    init(options: PipelineOptions) throws {
        self.options = options
        kafka = try BenchEnvironment.kafka
        databaseURL = try BenchEnvironment.value("OMS_DATABASE_URL")
        database = try PostgresConnection(url: databaseURL, applicationName: "oms-bench", logger: BenchEnvironment.logger)
        mix = PipelineMix(runID: String(UUID().uuidString.prefix(8)).lowercased(), orders: options.orders)
        driver = PipelineDriver(mix: mix, kafka: kafka)
    }

    /// Runs the orders through; `faults` (the chaos run) is started once publishing begins and given the stages.
    func execute(faults: (@Sendable (StageProcesses, StopFlag) -> Void)?) throws -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["OMS_LOG_LEVEL"] = environment["OMS_BENCH_WORKER_LOG_LEVEL"] ?? "warning"
        environment["OMS_BATCH_SIZE"] = String(options.batchSize)
        environment["OMS_HTTP_PORT"] = nil
        environment["OMS_RETURNS_PORTAL_PORT"] = nil
        let stages = try StageProcesses(stages: options.stageList, copies: options.copies, environment: environment, logDirectory: options.logDirectory)
        self.stages = stages
        // Ctrl-C or a timeout's SIGTERM must not leave the stage processes behind.
        var signalSources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                BenchEnvironment.progress("stopping the stage processes…")
                _ = stages.stop(waitSeconds: 5)
                exit(130)
            }
            source.resume()
            signalSources.append(source)
        }
        defer { signalSources.forEach { $0.cancel() } }
        var stopFailures: [String] = []
        defer { if stopFailures.isEmpty { _ = stages.stop() } }

        BenchEnvironment.progress("pipeline run \(mix.runID): \(stages.count) stage processes (\(options.stageList.joined(separator: ", ")) × \(options.copies)); master data…")
        let producer = try KafkaProducer(configuration: kafka, logger: BenchEnvironment.quietLogger, deliveryTimeoutMillis: 120_000)
        try producer.publish(mix.masterData(sequence: Int64(Date().timeIntervalSince1970 * 1000)))
        try waitForMasterData()
        driver.setUnits((0..<options.orders).map { mix.order($0, placedAt: Date()).units })

        let commitsBefore = try StageBenchmark.commits(database)
        let rowsBefore = try rowsWritten()
        let walBefore = try walWritten()
        let cpuBefore = stages.cpuByStage()
        let postgresBefore = CPUTimes.postgresSeconds()
        let benchBefore = CPUTimes.processSeconds(getpid())
        let handedOver = Mutex([Int64](repeating: 0, count: options.orders))
        let publishedAfter = Mutex(0.0)
        let clock = ContinuousClock()
        let start = clock.now
        let stopFaults = StopFlag()
        BenchEnvironment.progress("publishing \(options.orders) orders" + (options.rate > 0 ? " at \(options.rate)/s" : " at once") + "…")
        let publisher = Thread { [options, mix, kafka] in
            do {
                let producer = try KafkaProducer(configuration: kafka, logger: BenchEnvironment.quietLogger, deliveryTimeoutMillis: 300_000)
                // Publishing retries through the chaos run's broker outage.
                let publisher = SteadyPublisher(orders: options.orders, rate: options.rate, retries: 30)
                let until = try publisher.run(producer: producer, clock: clock, start: start) { range, now, _ in
                    let millis = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
                    handedOver.withLock { stamps in for i in range { stamps[i] = millis } }
                    return range.map { mix.order($0, placedAt: now).message }
                }
                publishedAfter.withLock { $0 = until }
            } catch {
                BenchEnvironment.progress("publisher failed: \(error)")
            }
        }
        publisher.start()
        var faultThread: Thread?
        if let faults {
            let thread = Thread { faults(stages, stopFaults) }
            faultThread = thread
            thread.start()
        }
        // CPU is read whenever more orders got through, so that orders stuck until the timeout do not add idle time.
        var cpuAfter = stages.cpuByStage(), postgresAfter = CPUTimes.postgresSeconds(), benchAfter = CPUTimes.processSeconds(getpid())
        var doneAtSample = 0
        func sampleCPU() {
            cpuAfter = stages.cpuByStage()
            postgresAfter = CPUTimes.postgresSeconds()
            benchAfter = CPUTimes.processSeconds(getpid())
        }
        let allDone = try driver.run(deadline: Date().addingTimeInterval(Double(options.timeout))) { done in
            if done != doneAtSample {
                doneAtSample = done
                sampleCPU()
            }
            BenchEnvironment.progress(String(format: "  %d/%d orders through after %.1f s", done, self.options.orders, (clock.now - start).seconds))
        }
        if allDone { sampleCPU() }
        let elapsed = (clock.now - start).seconds
        stopFaults.stop()
        while faultThread?.isFinished == false { Thread.sleep(forTimeInterval: 0.1) }
        // The statistics collector flushes at the end of transactions, at most once a second. A new connection:
        // the chaos run restarts PostgreSQL under the old one.
        Thread.sleep(forTimeInterval: 1.5)
        database = try PostgresConnection(url: databaseURL, applicationName: "oms-bench", logger: BenchEnvironment.logger)
        let commits = try StageBenchmark.commits(database) - commitsBefore
        let rows = try rowsWritten() - rowsBefore
        let walAfter = try walWritten()
        stopFailures = stages.stop()
        var cpu: [String: Double] = [:]
        for (stage, seconds) in cpuAfter { cpu[stage] = seconds - (cpuBefore[stage] ?? 0) }
        return Result(allDone: allDone, seconds: elapsed, publishSeconds: publishedAfter.withLock { $0 }, handedOver: handedOver.withLock { $0 },
                      cpu: cpu, postgresCPU: postgresAfter - postgresBefore, benchCPU: benchAfter - benchBefore, commits: commits, rows: rows, walBytes: walAfter.bytes - walBefore.bytes, walFullPages: walAfter.fullPages - walBefore.fullPages,
                      stopFailures: stopFailures, unexpectedExits: stages.unexpectedExits)
    }

    /// Rows inserted, updated and deleted in our schemas so far.
    func rowsWritten() throws -> Int64 {
        try database.query("SELECT pg_stat_clear_snapshot()")
        return try database.query("""
            SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint AS n FROM pg_stat_user_tables
            WHERE schemaname IN ('capture', 'router', 'fulfillment', 'billing', 'returns', 'notifier', 'alerting')
            """).first!.decode("n")
    }

    /// Bytes of write-ahead log the cluster has written since its statistics were last reset: what every
    /// commit must get to disk, so the figure to watch when a change is meant to write less.
    func walWritten() throws -> (bytes: Int64, fullPages: Int64) {
        try database.query("SELECT pg_stat_clear_snapshot()")
        let row = try database.query("SELECT wal_bytes::bigint AS n, wal_fpi AS f FROM pg_stat_wal").first!
        return (try row.decode("n"), try row.decode("f"))
    }

    private func waitForMasterData() throws {
        let deadline = Date().addingTimeInterval(180)
        let sku = PipelineMix.backorderSKU
        let customers = "PBC-\(mix.runID)-%"
        while Date() < deadline {
            let ready = try database.query("""
                SELECT (SELECT count(*) FROM capture.customers WHERE customer_id LIKE \(customers)) = \(PipelineMix.businessCustomers)
                   AND EXISTS (SELECT 1 FROM capture.products WHERE sku = \(sku)) AND EXISTS (SELECT 1 FROM fulfillment.products WHERE sku = \(sku))
                   AND EXISTS (SELECT 1 FROM billing.products WHERE sku = \(sku)) AND EXISTS (SELECT 1 FROM returns.products WHERE sku = \(sku))
                   AND (SELECT count(*) FROM router.stock WHERE sku = 'BAG-DOWN-M' AND warehouse_id IN ('A', 'B')) = 2 AS ready
                """).first?.decode("ready", as: Bool.self) ?? false
            if ready { return }
            Thread.sleep(forTimeInterval: 0.3)
        }
        throw ValidationError("the stages did not take in the master data (products, customers, stock) within 180 s; see \(options.logDirectory)")
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    func report(_ result: Result, ceiling: PostgresCeiling?) throws {
        let orders = options.orders
        let fsync = try database.query("SHOW fsync").first!.decode("fsync", as: String.self)
        let synchronousCommit = try database.query("SHOW synchronous_commit").first!.decode("synchronous_commit", as: String.self)
        print("oms-bench pipeline: \(orders) orders (Berg&Beutel mix), stages \(options.stageList.joined(separator: ", ")) × \(options.copies) copies, batch size \(options.batchSize), fsync=\(fsync), synchronous_commit=\(synchronousCommit)")
        let states = driver.orders
        let done = states.filter(\.done).count
        let rejected = states.filter(\.rejected).count
        let split = states.filter { $0.shipments.count > 1 }.count
        let returned = states.filter(\.credited).count
        let held = states.filter(\.held).count
        print("  outcomes        \(done) of \(orders) through: \(done - rejected) invoiced (\(split) in more than one shipment, \(held) held first, \(returned) with a return and its credit note), \(rejected) rejected")
        if !result.allDone {
            let stuck = states.enumerated().filter { !$0.element.done }.prefix(5).map { index, state in
                "\(mix.orderID(index)) (units \(state.shippedUnits)/\(state.units), shipments \(state.shipments.count), invoiced \(state.invoicedShipments.count), return tries \(state.returnAttempts))"
            }
            print("  NOT THROUGH     \(orders - done) orders within \(options.timeout) s, e.g. \(stuck.joined(separator: "; "))")
        }
        let lastDocument = states.map(\.lastDocumentAt).max() ?? 0
        let firstHandedOver = result.handedOver.filter { $0 > 0 }.min() ?? 0
        let span = Double(max(1, lastDocument - firstHandedOver)) / 1000
        print(String(format: "  throughput      %.0f orders/s through every stage (%.1f s from the first order handed over to the last invoice/credit note)",
                     Double(orders) / span, span))
        if options.rate > 0 && result.publishSeconds > 0 {
            print(String(format: "  offered rate    %.0f orders/s (asked %d; each order published when it fell due, over %.1f s)",
                         Double(orders) / result.publishSeconds, options.rate, result.publishSeconds))
        }
        // Latency per order from the Kafka CreateTimes (the bench's hand-over for the shop's event).
        let warmupEnd = firstHandedOver + Int64(options.rate > 0 ? options.warmupSeconds * 1000 : 0)
        var endToEnd: [Double] = [], complete: [Double] = []
        var hops = [[Double]](repeating: [], count: PipelineDriver.Step.allCases.count)
        for (index, state) in states.enumerated() where !state.rejected {
            let sent = result.handedOver[index]
            guard sent > 0, sent >= warmupEnd else { continue }
            let invoiced = state.steps[PipelineDriver.Step.invoiced.rawValue]
            // Back-orders wait for the stock, held B2B orders for their approver: their latency is not the pipeline's.
            if invoiced > 0 && !mix.isBackordered(index) && !mix.needsApproval(index) {
                endToEnd.append(Double(invoiced - sent))
                var previous = sent
                for step in PipelineDriver.Step.allCases.dropFirst() {
                    let at = state.steps[step.rawValue]
                    guard at > 0 else { break }
                    hops[step.rawValue].append(Double(at - previous))
                    previous = at
                }
            }
            if state.done && !mix.isBackordered(index) && !mix.needsApproval(index) && !mix.isReturned(index) {
                complete.append(Double(state.lastDocumentAt - sent))
            }
        }
        endToEnd.sort()
        complete.sort()
        func line(_ label: String, _ values: [Double]) -> String {
            String(format: "%@ p50 %7.1f  p95 %7.1f  p99 %7.1f  max %7.1f ms  (%d orders)", label,
                   Self.percentile(values, 0.5), Self.percentile(values, 0.95), Self.percentile(values, 0.99), values.last ?? .nan, values.count)
        }
        print(line("  latency         shop event → first Invoice.Issued     ", endToEnd))
        print(line("                  shop event → last invoice of the order", complete))
        print("  per step (ms, from the step before; Kafka CreateTime of each output)")
        for step in PipelineDriver.Step.allCases.dropFirst() {
            var values = hops[step.rawValue]
            values.sort()
            print("    " + step.actor.padding(toLength: 58, withPad: " ", startingAt: 0) + String(format: " p50 %7.1f  p95 %7.1f  p99 %7.1f",
                         Self.percentile(values, 0.5), Self.percentile(values, 0.95), Self.percentile(values, 0.99)))
        }
        if result.commits < 0 || result.rows < 0 || result.walBytes < 0 || result.walFullPages < 0 {
            print("  database        n/a: PostgreSQL was restarted during the run, which resets its statistics")
        } else {
            print(String(format: "  database        %.2f commits and %.1f rows written per order (%d commits, %d rows inserted/updated/deleted in the stages' schemas)",
                         Double(result.commits) / Double(orders), Double(result.rows) / Double(orders), result.commits, result.rows))
            let settings = try database.query("SELECT current_setting('max_wal_size') AS size, current_setting('wal_compression') AS compression").first!
            let (maxWalSize, compression): (String, String) = (try settings.decode("size"), try settings.decode("compression"))
            print(String(format: "                  %.1f kB of write-ahead log per order (%.0f MB in all, %.1f full-page images per order; pg_stat_wal, max_wal_size=%@, wal_compression=%@)",
                         Double(result.walBytes) / Double(orders) / 1000, Double(result.walBytes) / 1e6,
                         Double(result.walFullPages) / Double(orders), maxWalSize, compression))
        }
        if let ceiling {
            let rowsPerSecond = Double(result.rows) / span
            print(String(format: "  PG ceiling      %.0f rows/s on this machine (multi-row INSERT, %d rows per durable commit, %d connections, %.0f s, measured by this run); the pipeline wrote %.0f rows/s = %.0f %% of it",
                         ceiling.rowsPerSecond, ceiling.rowsPerCommit, ceiling.connections, ceiling.seconds, rowsPerSecond, rowsPerSecond / ceiling.rowsPerSecond * 100))
            print(String(format: "                  at %.1f rows per order the ceiling alone would allow %.0f orders/s",
                         Double(result.rows) / Double(orders), ceiling.rowsPerSecond / max(1, Double(result.rows) / Double(orders))))
        }
        let totalCPU = result.cpu.values.reduce(0, +) + result.postgresCPU + result.benchCPU
        print(String(format: "  cpu per order   %.0f µs in all (/proc, user + system):", totalCPU / Double(orders) * 1e6))
        for stage in options.stageList {
            print("    " + "oms-\(stage)".padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " %7.0f µs", (result.cpu[stage] ?? 0) / Double(orders) * 1e6))
        }
        print("    PostgreSQL      " + String(format: " %7.0f µs", result.postgresCPU / Double(orders) * 1e6))
        print("    oms-bench       " + String(format: " %7.0f µs   (publisher, simulated WMS, carrier and customers, measuring)", result.benchCPU / Double(orders) * 1e6))
        let types = driver.typeCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("  events seen     \(types)")
        print("  redelivered     \(driver.redelivered) copies of events seen before, \(driver.conflictingRedeliveries.count) with other content")
        if result.unexpectedExits > 0 { print("  exits           \(result.unexpectedExits) stage processes exited on their own and were started again") }
        if options.rate == 0 { print("  note: all orders were published at once, so latency includes time spent queued behind earlier orders") }
    }
}

/// Tells a helper thread to end.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func stop() { flag.store(true, ordering: .relaxed) }
    var isStopped: Bool { flag.load(ordering: .relaxed) }
}

/// What PostgreSQL on this machine can take at most: multi-row INSERTs of `rowsPerCommit` rows of the size our
/// stages write (a text key with its index, a JSON document), each a durable commit, on `connections` connections at once.
struct PostgresCeiling {
    let rowsPerSecond: Double
    let rowsPerCommit: Int
    let connections: Int
    let seconds: Double

    static func measure(url: String, seconds: Double, rowsPerCommit: Int = 1_000, connections: Int = 2) throws -> PostgresCeiling {
        let setup = try PostgresConnection(url: url, applicationName: "oms-bench-ceiling", logger: BenchEnvironment.logger)
        try setup.query("CREATE SCHEMA IF NOT EXISTS bench")
        try setup.query("DROP TABLE IF EXISTS bench.ceiling")
        try setup.query("CREATE TABLE bench.ceiling (id text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), document jsonb NOT NULL)")
        BenchEnvironment.progress(String(format: "measuring the PostgreSQL ceiling (%.0f s)…", seconds))
        let document = #"{"orderId":"BB-100000","status":"accepted","lines":[{"lineId":"1","sku":"TENT-2P","quantity":1,"unitPrice":19990}],"total":19990}"#
        let rows = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
        let end = Date().addingTimeInterval(seconds)
        let threads = (0..<connections).map { worker in
            Thread {
                do {
                    let connection = try PostgresConnection(url: url, applicationName: "oms-bench-ceiling", logger: BenchEnvironment.logger)
                    var batch = 0
                    while Date() < end {
                        let ids = (0..<rowsPerCommit).map { "c-\(worker)-\(batch)-\($0)" }
                        let documents = [String](repeating: document, count: rowsPerCommit)
                        try connection.query("INSERT INTO bench.ceiling (id, document) SELECT * FROM unnest(\(ids)::text[], \(documents)::jsonb[])")
                        rows.add(rowsPerCommit, ordering: .relaxed)
                        batch += 1
                    }
                } catch {
                    failure.withLock { $0 = "\(error)" }
                }
            }
        }
        let started = Date()
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.05) }
        let elapsed = Date().timeIntervalSince(started)
        try setup.query("DROP TABLE bench.ceiling")
        if let failure = failure.withLock({ $0 }) { throw ValidationError("PostgreSQL ceiling measurement failed: \(failure)") }
        return PostgresCeiling(rowsPerSecond: Double(rows.load(ordering: .relaxed)) / elapsed, rowsPerCommit: rowsPerCommit, connections: connections, seconds: elapsed)
    }
}
