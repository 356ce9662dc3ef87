import Foundation
import Logging
import ServiceLifecycle

/// After SIGTERM a worker finishes its batch, commits and leaves the consumer group. If that takes longer than
/// `seconds` (a transaction waiting on a lock, a broker that does not answer), the worker says what it was doing and
/// exits with status 3 rather than leave the stop to systemd's SIGKILL without a word. Nothing is lost: the batch's
/// transaction is rolled back and its uncommitted offsets are delivered again (deduplicated by event id).
struct ShutdownDeadline: Service {
    let seconds: Int
    let health: WorkerHealth
    let logger: Logger

    func run() async throws {
        // Returns once graceful shutdown has begun (or throws when the group is cancelled: then nothing to watch).
        try await gracefulShutdown()
        let (seconds, health, logger) = (seconds, health, logger)
        let watcher = Thread {
            Thread.sleep(forTimeInterval: Double(seconds))
            let summary = health.summary
            logger.critical("shutdown did not finish within the deadline; exiting without it", metadata: [
                "deadline_seconds": "\(seconds)", "worker_status": "\(summary.status.prefix(300))",
                "seconds_since_heartbeat": "\(Int(summary.secondsSinceHeartbeat))"])
            _exit(3)
        }
        watcher.name = "oms-shutdown-deadline"
        watcher.start()
    }
}
