import ArgumentParser
import Foundation
import Logging
import Shared
import Synchronization

/// The options every stage benchmark takes.
struct StageBenchOptions: ParsableArguments {
    @Option(help: "Orders to publish.") var orders: Int = 100_000
    @Option(help: "Publish rate in orders/s; 0 publishes as fast as possible.") var rate: Int = 0
    @Option(help: "Worker processes of the stage to run (one consumer group).") var workers: Int = 2
    @Option(help: "OMS_BATCH_SIZE for the workers.") var batchSize: Int = 1000
    @Option(help: "Give up after this many seconds.") var timeout: Int = 600
    @Option(help: "With --rate: orders published in the first this many seconds warm the workers up and are left out of the latency figures.")
    var warmupSeconds: Int = 5

    func validate() throws {
        guard orders >= 1 else { throw ValidationError("--orders must be at least 1") }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard (1...12).contains(workers) else { throw ValidationError("--workers must be between 1 and 12") }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 10000") }
    }
}

/// Runs worker copies of one stage, publishes N orders to it and measures from
/// the first publish to the last decision event consumed (throughput), and per
/// order from its publish to its first decision event (latency).
struct StageBenchmark {
    let name: String
    let executable: String
    let label: String
    let outputTopic: String
    let decisions: Set<String>
    let latencyLabel: String
    /// `capture.orders` or `router.orders`: where the outcomes are counted.
    let statusTable: String
    let options: StageBenchOptions
    var orders: Int { options.orders }
    var rate: Int { options.rate }
    var workers: Int { options.workers }
    var batchSize: Int { options.batchSize }
    var timeout: Int { options.timeout }
    /// Master data the stage needs before the clock starts.
    let prepare: (KafkaConfiguration, PostgresConnection, String) throws -> Void
    /// Order `index` of run `runID`; its event id must be "bench-<runID>-<index>".
    let makeMessage: @Sendable (Int, String, Date) -> OutgoingMessage

    func run() throws {
        let kafka = try BenchEnvironment.kafka
        let databaseURL = try BenchEnvironment.value("OMS_DATABASE_URL")
        let logger = BenchEnvironment.logger
        let database = try PostgresConnection(url: databaseURL, applicationName: "oms-bench", logger: logger)
        let runID = String(UUID().uuidString.prefix(8)).lowercased()

        var environment = ProcessInfo.processInfo.environment
        // OMS_BENCH_WORKER_LOG_LEVEL=debug shows each batch's phase timings in the workers' logs.
        environment["OMS_LOG_LEVEL"] = environment["OMS_BENCH_WORKER_LOG_LEVEL"] ?? "warning"
        environment["OMS_BATCH_SIZE"] = String(batchSize)
        environment["OMS_HTTP_PORT"] = nil
        var workerProcesses: [Process] = []
        for index in 0..<workers {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BenchEnvironment.binDirectory + "/" + executable)
            process.environment = environment
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("oms-bench-\(executable)-\(index).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            workerProcesses.append(process)
        }
        defer {
            for process in workerProcesses where process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }

        try prepare(kafka, database, runID)
        let reader = try KafkaConsumer(configuration: kafka, groupID: "oms-bench-\(runID)", topics: [outputTopic], logger: logger)
        // Let the group settle before the clock starts.
        let settle = Date().addingTimeInterval(20)
        while reader.assignment.isEmpty && Date() < settle { _ = reader.poll(maxMessages: 100, timeoutMillis: 100) }
        Thread.sleep(forTimeInterval: 2)
        _ = reader.poll(maxMessages: 100_000, timeoutMillis: 100)

        let commitsBefore = try Self.commits(database)
        // Per order: when it was handed to the producer (seconds since start, and epoch ms for
        // comparing with the output's Kafka CreateTime, which the worker's producer stamps).
        let publishTimes = Mutex([Double](repeating: 0, count: orders))
        let publishEpochMillis = Mutex([Int64](repeating: 0, count: orders))
        let publishedUntil = Mutex(0.0)
        let clock = ContinuousClock()
        let start = clock.now
        BenchEnvironment.progress("publishing \(orders) orders (run \(runID))…")
        let publisher = Thread { [orders, rate, kafka, makeMessage] in
            do {
                let producer = try KafkaProducer(configuration: kafka, logger: logger)
                let until = try SteadyPublisher(orders: orders, rate: rate).run(producer: producer, clock: clock, start: start) { range, now, offset in
                    let epoch = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
                    publishTimes.withLock { times in for i in range { times[i] = offset } }
                    publishEpochMillis.withLock { times in for i in range { times[i] = epoch } }
                    return range.map { makeMessage($0, runID, now) }
                }
                publishedUntil.withLock { $0 = until }
            } catch {
                BenchEnvironment.progress("publisher failed: \(error)")
            }
        }
        let cpuBefore = CPUTimes.sample(workers: workerProcesses.map(\.processIdentifier))
        publisher.start()

        var latencies: [Double] = []
        latencies.reserveCapacity(orders)
        var stageLatencies: [Double] = []
        stageLatencies.reserveCapacity(orders)
        /// Second of the run (by publish time) → orders that took longer than 100 ms: shows whether slow ones cluster.
        var slowAt: [Int: Int] = [:]
        var seen = Set<String>()
        var lastProgress = clock.now
        let deadline = clock.now + .seconds(timeout)
        var lastAccepted = start
        while seen.count < orders && clock.now < deadline {
            for message in reader.poll(maxMessages: 5_000, timeoutMillis: 100) {
                // Only the two fields needed, to keep the measuring side light.
                guard let event = try? JSONParser.parse(message.value),
                      let type = event["type"]?.stringValue, decisions.contains(type),
                      let cause = event["causationid"]?.stringValue,
                      cause.hasPrefix("bench-\(runID)-"), let index = Int(cause.dropFirst("bench-\(runID)-".count)),
                      seen.insert(cause).inserted else { continue }
                let now = clock.now
                lastAccepted = now
                guard index >= 0, index < orders else { continue }
                let sentAt = publishTimes.withLock { $0[index] }
                if rate == 0 || sentAt >= Double(options.warmupSeconds) { latencies.append((now - start).seconds - sentAt) }
                if let created = message.timestampMillis, rate == 0 || sentAt >= Double(options.warmupSeconds) {
                    let latency = Double(created - publishEpochMillis.withLock { $0[index] }) / 1000
                    stageLatencies.append(latency)
                    if latency > 0.1 { slowAt[Int(sentAt), default: 0] += 1 }
                }
            }
            if clock.now - lastProgress > .seconds(2) {
                lastProgress = clock.now
                BenchEnvironment.progress("  \(seen.count)/\(orders) decided after \(String(format: "%.1f", (clock.now - start).seconds)) s")
            }
        }
        guard seen.count == orders else {
            throw ValidationError("only \(seen.count) of \(orders) orders were decided within \(timeout) s")
        }
        let elapsed = (lastAccepted - start).seconds
        let cpuAfter = CPUTimes.sample(workers: workerProcesses.map(\.processIdentifier))
        let commits = try Self.commits(database) - commitsBefore
        guard !latencies.isEmpty else {
            throw ValidationError("no order was published after the \(options.warmupSeconds) s warm-up: publish more orders or lower --warmup-seconds")
        }
        latencies.sort()
        stageLatencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000 }
        func stagePercentile(_ p: Double) -> Double {
            stageLatencies.isEmpty ? .nan : stageLatencies[min(stageLatencies.count - 1, Int(Double(stageLatencies.count) * p))] * 1000
        }
        let publishSeconds = publishedUntil.withLock { $0 }
        let synchronousCommit = try database.query("SHOW synchronous_commit").first!.decode("synchronous_commit", as: String.self)
        let fsync = try database.query("SHOW fsync").first!.decode("fsync", as: String.self)
        print("oms-bench \(name): \(orders) orders (\(label)), \(workers) worker(s), batch size \(batchSize), fsync=\(fsync), synchronous_commit=\(synchronousCommit)")
        let outcomes = try database.query("""
            SELECT status, count(*) AS n FROM \(unescaped: statusTable) WHERE order_id LIKE \("BENCH-\(runID)-%") GROUP BY status ORDER BY status
            """).map { "\(try $0.decode("status", as: String.self)) \(try $0.decode("n", as: Int.self))" }
        print("  outcomes        \(outcomes.joined(separator: ", "))")
        print(String(format: "  throughput      %.0f orders/s (%.2f s from first publish to the last decision event)", Double(orders) / elapsed, elapsed))
        if rate > 0 && publishSeconds > 0 {
            print(String(format: "  offered rate    %.0f orders/s (asked %d; published one by one as they fell due, over %.1f s; latency counts the %d orders after the first %d s of warm-up)",
                         Double(orders) / publishSeconds, rate, publishSeconds, latencies.count, options.warmupSeconds))
        }
        print(String(format: "  latency (ms)    p50 %.1f  p95 %.1f  p99 %.1f  max %.1f   (\(latencyLabel), Kafka CreateTime of input → output)",
                     stagePercentile(0.50), stagePercentile(0.95), stagePercentile(0.99), (stageLatencies.last ?? .nan) * 1000))
        print(String(format: "  seen by bench   p50 %.1f  p95 %.1f  p99 %.1f  max %.1f   (hand-over to producer → bench consumer received the output)",
                     percentile(0.50), percentile(0.95), percentile(0.99), latencies.last! * 1000))
        if rate > 0 && !slowAt.isEmpty {
            print("  over 100 ms     \(slowAt.values.reduce(0, +)) orders, published in second(s) " +
                  slowAt.keys.sorted().prefix(20).map { "\($0) (\(slowAt[$0]!))" }.joined(separator: ", "))
        }
        let workerCPU = cpuAfter.workers - cpuBefore.workers, postgresCPU = cpuAfter.postgres - cpuBefore.postgres
        print(String(format: "  cpu per order   worker %.1f µs, PostgreSQL %.1f µs (%.1f s and %.1f s of CPU in total; /proc)",
                     workerCPU / Double(orders) * 1e6, postgresCPU / Double(orders) * 1e6, workerCPU, postgresCPU))
        print(String(format: "  db commits      %d (%.4f per order)", commits, Double(commits) / Double(orders)))
        if rate == 0 {
            print("  note: all orders were published at once, so latency includes time spent queued behind earlier orders")
        }
    }

}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension StageBenchmark {
    static func commits(_ database: PostgresConnection) throws -> Int64 {
        try database.query("SELECT pg_stat_clear_snapshot()")
        return try database.query("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            .first!.decode("xact_commit")
    }
}

/// CPU seconds (user + system) of the worker processes and of every PostgreSQL
/// server process, read from /proc, so that a benchmark can split the cost per order.
struct CPUTimes {
    var workers: Double
    var postgres: Double

    static func sample(workers: [Int32]) -> CPUTimes {
        CPUTimes(workers: workers.map(processSeconds).reduce(0, +), postgres: postgresSeconds())
    }

    /// User + system CPU seconds of one process so far (0 once it is gone).
    static func processSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds of every PostgreSQL server process now running.
    static func postgresSeconds() -> Double {
        var postgres = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let command = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { continue }
            if command.hasPrefix("postgres") || command.hasPrefix("postmaster") { postgres += processSeconds(pid) }
        }
        return postgres
    }
}
