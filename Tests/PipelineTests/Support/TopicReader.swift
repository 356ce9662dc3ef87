import Foundation
import Shared

/// Reads everything on a topic from the beginning, with a group of its own.
final class TopicReader {
    let consumer: KafkaConsumer
    private(set) var messages: [ConsumedMessage] = []

    init(broker: TestBroker, topic: String) throws {
        consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(brokers: broker.bootstrap, overrides: ["fetch.wait.max.ms": "10"]),
            groupID: "test-reader-\(UUID().uuidString.prefix(8))", topics: [topic], logger: TestEnvironment.logger)
    }

    /// Polls until `count` messages arrived (or `timeout`), then returns all read so far.
    @discardableResult
    func read(atLeast count: Int, timeout: Double) -> [ConsumedMessage] {
        let deadline = Date().addingTimeInterval(timeout)
        while messages.count < count && Date() < deadline {
            messages += consumer.poll(maxMessages: 1000, timeoutMillis: 100)
        }
        return messages
    }

    /// Keeps reading for `seconds` more (to see that nothing else arrives).
    func drain(for seconds: Double) -> [ConsumedMessage] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { messages += consumer.poll(maxMessages: 1000, timeoutMillis: 100) }
        return messages
    }
}

func events(_ messages: [ConsumedMessage]) throws -> [CloudEvent] {
    try messages.map { try CloudEvent.decode($0.value, maximumBytes: 10_000_000) }
}
