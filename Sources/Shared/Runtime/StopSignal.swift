import Foundation
import Synchronization

/// Set once by a signal handler or service shutdown; read by worker threads.
public final class StopSignal: Sendable {
    private let requested = Atomic<Bool>(false)
    public init() {}
    public func request() { requested.store(true, ordering: .releasing) }
    public var isRequested: Bool { requested.load(ordering: .acquiring) }

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
