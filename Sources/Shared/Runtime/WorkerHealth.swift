import Foundation
import Synchronization

/// What `/healthz` and the systemd watchdog report: the worker loop is alive
/// if it passed its heartbeat recently.
public final class WorkerHealth: Sendable {
    private struct State {
        var lastHeartbeat = Date()
        var status = "starting"
        var ready = false
    }
    private let state = Mutex(State())
    public let staleAfter: TimeInterval

    public init(staleAfter: TimeInterval = 60) { self.staleAfter = staleAfter }

    public func beat(status: String) {
        state.withLock {
            $0.lastHeartbeat = Date()
            $0.status = status
        }
    }

    public func markReady() { state.withLock { $0.ready = true } }

    public var isHealthy: Bool {
        state.withLock { $0.ready && Date().timeIntervalSince($0.lastHeartbeat) < staleAfter }
    }

    public var summary: (healthy: Bool, status: String, secondsSinceHeartbeat: Double) {
        state.withLock {
            let age = Date().timeIntervalSince($0.lastHeartbeat)
            return ($0.ready && age < staleAfter, $0.status, age)
        }
    }
}
