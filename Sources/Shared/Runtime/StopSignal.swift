import Foundation
import Synchronization

/// Set once by a signal handler or service shutdown; read by worker threads.
public final class StopSignal: Sendable {
    private let requested = Atomic<Bool>(false)
    /// Monotonic time of the first request (0: none yet).
    private let requestedAtNanos = Atomic<UInt64>(0)
    public init() {}
    public func request() {
        _ = requestedAtNanos.compareExchange(expected: 0, desired: DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        requested.store(true, ordering: .releasing)
    }
    public var isRequested: Bool { requested.load(ordering: .acquiring) }

    /// True once a stop was requested more than `seconds` ago: what a blocking broker
    /// call asks to know whether it should stop waiting for an answer.
    public func requestedLongerAgo(thanSeconds seconds: Int) -> Bool {
        guard isRequested else { return false }
        let since = requestedAtNanos.load(ordering: .relaxed)
        let now = DispatchTime.now().uptimeNanoseconds
        return now >= since && now - since > UInt64(seconds) * 1_000_000_000
    }

    /// Sleeps up to `millis`, waking early when a stop is requested.
    /// Returns false when the sleep was cut short.
    @discardableResult
    public func sleep(millis: Int) -> Bool {
        var remaining = millis
        while remaining > 0 {
            if isRequested { return false }
            let slice = min(remaining, 50)
            Thread.sleep(forTimeInterval: Double(slice) / 1000)
            remaining -= slice
        }
        return !isRequested
    }
}
