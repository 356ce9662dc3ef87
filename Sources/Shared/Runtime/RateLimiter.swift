import Foundation

/// Sliding-window counters per key (a client address, an order number, an API key), in memory: each
/// process limits on its own.
public final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var hits: [String: [Date]] = [:]
    public let limit: Int
    public let window: TimeInterval

    public init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Counts one attempt for `key`; false when it is over the limit.
    public func allow(_ key: String, now: Date = Date()) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        var recent = (hits[key] ?? []).filter { now.timeIntervalSince($0) < window }
        guard recent.count < limit else {
            hits[key] = recent
            return false
        }
        recent.append(now)
        hits[key] = recent
        if hits.count > 100_000 { hits = hits.filter { !($0.value.last.map { now.timeIntervalSince($0) >= window } ?? true) } }
        return true
    }
}
