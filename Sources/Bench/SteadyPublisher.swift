import Foundation
import Shared

/// The benches' one publishing loop. At a rate: every order that is due now, a few at a time, so that the stream is
/// steady and not a train of bursts; at once (rate 0): chunks of 2,000. `batch` builds the due orders and stamps them
/// with the moment they are handed to the producer.
struct SteadyPublisher {
    let orders: Int
    let rate: Int
    /// A failed publish is tried again this many times, a second apart (the chaos run's broker outage); 0: it ends the run.
    var retries = 0

    /// Publishes every order; returns the seconds since `start` when the last one was handed over.
    /// `batch(range, handOver, secondsSinceStart)` returns the messages for orders `range`.
    func run(producer: KafkaProducer, clock: ContinuousClock, start: ContinuousClock.Instant,
             batch: (Range<Int>, Date, Double) -> [OutgoingMessage]) throws -> Double {
        var index = 0
        while index < orders {
            let elapsed = (clock.now - start).seconds
            let end = rate > 0 ? min(orders, max(index + 1, Int(elapsed * Double(rate)) + 1)) : min(orders, index + 2_000)
            let messages = batch(index..<end, Date(), (clock.now - start).seconds)
            var attempts = 0
            while true {
                do {
                    try producer.publish(messages)
                    break
                } catch {
                    attempts += 1
                    if attempts > retries { throw error }
                    Thread.sleep(forTimeInterval: 1)
                }
            }
            index = end
            if rate > 0 {
                let wait = Double(index) / Double(rate) - (clock.now - start).seconds
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
        }
        return (clock.now - start).seconds
    }
}
