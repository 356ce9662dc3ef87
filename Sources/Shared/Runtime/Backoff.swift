/// Exponential backoff with full jitter (AWS architecture blog, "Exponential
/// Backoff And Jitter"): attempt n waits a uniform random time in
/// [0, min(cap, base · 2ⁿ⁻¹)], so that many workers do not retry in lockstep.
public struct Backoff: Sendable {
    public let baseMillis: Int
    public let capMillis: Int

    public init(baseMillis: Int, capMillis: Int) {
        self.baseMillis = max(1, baseMillis)
        self.capMillis = max(self.baseMillis, capMillis)
    }

    /// The upper bound of the wait before attempt `attempt` (1-based).
    public func ceilingMillis(attempt: Int) -> Int {
        let exponent = min(max(attempt - 1, 0), 30)
        let (scaled, overflow) = baseMillis.multipliedReportingOverflow(by: 1 << exponent)
        return overflow ? capMillis : min(capMillis, scaled)
    }

    public func delayMillis(attempt: Int) -> Int {
        var generator = SystemRandomNumberGenerator()
        return delayMillis(attempt: attempt, using: &generator)
    }

    public func delayMillis<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Int {
        Int.random(in: 0...ceilingMillis(attempt: attempt), using: &generator)
    }
}
