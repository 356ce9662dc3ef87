import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process of a test (broker, worker), killed when the test ends.
final class ManagedProcess {
    let process = Process()
    let logPath: String
    let name: String

    init(executable: String, arguments: [String] = [], environment: [String: String], name: String) throws {
        self.name = name
        logPath = NSTemporaryDirectory() + "oms-test-\(name)-\(UUID().uuidString.prefix(8)).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Set when waitForExit reaped the process itself (Foundation then never learns of the exit).
    private var reapedStatus: Int32?
    var isRunning: Bool { reapedStatus == nil && process.isRunning }
    var pid: Int32 { process.processIdentifier }

    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for the process to end by itself; its exit status, or nil on timeout. Also reaps it with waitpid:
    /// Foundation's Process was seen to leave a child that had exited as a zombie, `isRunning` true for ever,
    /// in a test process that had run system(3) (TestPostgresCluster) before.
    func waitForExit(timeoutSeconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if !process.isRunning { return process.terminationStatus }
            var status: Int32 = 0
            let reaped = waitpid(process.processIdentifier, &status, WNOHANG)
            if reaped == process.processIdentifier {
                // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
                reapedStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                return reapedStatus
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }

    /// Sends SIGTERM and waits; returns the exit status, or nil if it did not exit in time.
    func terminate(waitSeconds: Double) -> Int32? {
        if let reapedStatus { return reapedStatus }
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(waitSeconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return process.isRunning ? nil : process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if isRunning {
            kill(process.processIdentifier, SIGKILL)
            // Polled, not waitUntilExit: that never returns for a child Foundation failed to reap.
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline {
                var status: Int32 = 0
                if waitpid(process.processIdentifier, &status, WNOHANG) == process.processIdentifier { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }
}

/// An `oms-devkafka` of its own for one test (or another Kafka implementation: `TestBroker.tansu`).
final class TestBroker {
    let process: ManagedProcess
    /// Processes the broker needs besides itself (a proxy), stopped with it.
    let helpers: [ManagedProcess]
    let bootstrap: String

    init(process: ManagedProcess, helpers: [ManagedProcess], bootstrap: String) {
        self.process = process
        self.helpers = helpers
        self.bootstrap = bootstrap
    }

    init(partitions: Int = 4) throws {
        let file = NSTemporaryDirectory() + "oms-bootstrap-\(UUID().uuidString.prefix(8))"
        process = try ManagedProcess(executable: try TestEnvironment.binDirectory + "/oms-devkafka",
                                     arguments: ["--partitions", String(partitions), "--bootstrap-file", file],
                                     environment: ProcessInfo.processInfo.environment, name: "devkafka")
        try eventually(timeout: 10, every: 0.05, "oms-devkafka to write its bootstrap address") {
            FileManager.default.fileExists(atPath: file)
                && !((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").isEmpty
        }
        bootstrap = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        helpers = []
    }
}

/// Environment for a worker process pointed at this test's broker and database.
func workerEnvironment(broker: TestBroker, databaseURL: String, extra: [String: String] = [:]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMS_") }
    environment["OMS_KAFKA_BROKERS"] = broker.bootstrap
    environment["OMS_DATABASE_URL"] = databaseURL
    environment["OMS_LOG_LEVEL"] = "info"
    environment["OMS_KAFKA_FETCH_WAIT_MAX_MS"] = "10"
    environment["OMS_KAFKA_SESSION_TIMEOUT_MS"] = "6000"
    environment["OMS_KAFKA_HEARTBEAT_INTERVAL_MS"] = "500"
    environment["OMS_RETRY_BASE_MS"] = "50"
    environment["OMS_RETRY_MAX_MS"] = "1000"
    environment["OMS_CONFIG_DIR"] = TestEnvironment.configDirectory
    for (key, value) in extra { environment[key] = value }
    return environment
}

extension ManagedProcess {
    /// One of our executables (`oms-capture`, `oms-alerting`) built by `make test`.
    static func worker(_ executable: String, arguments: [String] = [], environment: [String: String], name: String) throws -> ManagedProcess {
        try ManagedProcess(executable: try TestEnvironment.binDirectory + "/" + executable, arguments: arguments, environment: environment, name: name)
    }
}
