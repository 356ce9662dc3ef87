import Foundation
import Shared
import Synchronization

/// The OMS's stage processes of a whole-pipeline run, each as its own process and copies of it, as systemd
/// would run them: a copy that dies (or is killed) is started again. Keeps the CPU time of every copy,
/// also of those that are gone, so that CPU per order can be split by stage.
final class StageProcesses: @unchecked Sendable {
    struct Copy {
        let stage: String
        let number: Int
        var process: Process
        var starts: Int
    }

    static let allStages = ["capture", "router", "fulfillment", "billing", "returns", "notifier", "alerting"]

    private let lock = NSLock()
    private var copies: [Copy] = []
    /// CPU seconds of copies that are gone, by stage.
    private var cpuOfEnded: [String: Double] = [:]
    private(set) var unexpectedExits = 0
    private var stopping = false
    private let environment: [String: String]
    private let logDirectory: String
    private var supervisor: Thread?

    init(stages: [String], copies count: Int, environment: [String: String], logDirectory: String) throws {
        self.environment = environment
        self.logDirectory = logDirectory
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        for stage in stages {
            for number in 0..<count {
                copies.append(Copy(stage: stage, number: number, process: try launch(stage, number), starts: 1))
            }
        }
        let supervisor = Thread { [weak self] in
            while let self, !self.isStopping {
                self.restartExited()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        self.supervisor = supervisor
        supervisor.start()
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    var stages: [String] { lock.withLock { Array(Set(copies.map(\.stage))).sorted() } }
    var pids: [Int32] { lock.withLock { copies.map(\.process.processIdentifier) } }
    var count: Int { lock.withLock { copies.count } }

    private func launch(_ stage: String, _ number: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BenchEnvironment.binDirectory + "/oms-" + stage)
        process.environment = environment
        let log = logDirectory + "/oms-\(stage)-\(number).log"
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        return process
    }

    /// CPU seconds per stage: running copies from /proc plus what ended copies had used.
    func cpuByStage() -> [String: Double] {
        lock.withLock {
            var cpu = cpuOfEnded
            for copy in copies { cpu[copy.stage, default: 0] += CPUTimes.processSeconds(copy.process.processIdentifier) }
            return cpu
        }
    }

    /// `kill -9` of copy `index` (the supervisor starts it again); returns its name.
    @discardableResult
    func kill(_ index: Int) -> String {
        lock.withLock {
            let copy = copies[index % copies.count]
            cpuOfEnded[copy.stage, default: 0] += CPUTimes.processSeconds(copy.process.processIdentifier)
            Foundation.kill(copy.process.processIdentifier, SIGKILL)
            // Polled rather than waitUntilExit, which can hang while other threads start processes.
            let deadline = Date().addingTimeInterval(10)
            while Self.isAlive(copy.process.processIdentifier) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            if let process = try? launch(copy.stage, copy.number) {
                copies[index % copies.count].process = process
                copies[index % copies.count].starts += 1
            }
            return "oms-\(copy.stage)#\(copy.number) (pid \(copy.process.processIdentifier))"
        }
    }

    func name(_ index: Int) -> String { lock.withLock { "oms-\(copies[index % copies.count].stage)#\(copies[index % copies.count].number)" } }

    private func restartExited() {
        lock.withLock {
            guard !stopping else { return }
            // /proc, not Foundation's isRunning: in a process that ran system(3) an exited child can stay a zombie that
            // Foundation still reports as running.
            for index in copies.indices where !Self.isAlive(copies[index].process.processIdentifier) {
                unexpectedExits += 1
                let copy = copies[index]
                let status = copy.process.isRunning ? "not yet reaped" : "status \(copy.process.terminationStatus)"
                FileHandle.standardError.write(Data("  oms-\(copy.stage)#\(copy.number) exited (\(status)); starting it again\n".utf8))
                if let process = try? launch(copy.stage, copy.number) {
                    copies[index].process = process
                    copies[index].starts += 1
                }
            }
        }
    }

    /// SIGTERM to every copy; returns the copies that did not exit with 0 within `waitSeconds`.
    @discardableResult
    func stop(waitSeconds: Double = 30) -> [String] {
        let running: [Copy] = lock.withLock {
            stopping = true
            return copies
        }
        for copy in running where Self.isAlive(copy.process.processIdentifier) { Foundation.kill(copy.process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(waitSeconds)
        var failed: [String] = []
        for copy in running {
            let pid = copy.process.processIdentifier
            while Self.isAlive(pid) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if Self.isAlive(pid) {
                Foundation.kill(pid, SIGKILL)
                failed.append("oms-\(copy.stage)#\(copy.number) (pid \(pid) did not stop within \(Int(waitSeconds)) s)")
                continue
            }
            // Foundation notices the exit a moment later; a zombie it has not reaped yet has no status to read.
            let settle = Date().addingTimeInterval(2)
            while copy.process.isRunning && Date() < settle { Thread.sleep(forTimeInterval: 0.02) }
            if !copy.process.isRunning && copy.process.terminationStatus != 0 {
                // A copy that hit its shutdown deadline (exit 3) logged what it was doing: say it here.
                let log = (try? String(contentsOfFile: logDirectory + "/oms-\(copy.stage)-\(copy.number).log", encoding: .utf8)) ?? ""
                let stuck = log.split(separator: "\n").last { $0.contains("shutdown did not finish") }.map { ": " + $0.suffix(300) } ?? ""
                failed.append("oms-\(copy.stage)#\(copy.number) (exit \(copy.process.terminationStatus)\(stuck))")
            }
        }
        return failed
    }

    /// Whether a process still runs: it exists and is not a zombie (/proc/PID/stat, state after the command name).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
        return state != "Z" && state != "X"
    }
}
