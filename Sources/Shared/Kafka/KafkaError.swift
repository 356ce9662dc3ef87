/// An error reported by librdkafka, or by our use of it.
///
/// Codes are librdkafka's `rd_kafka_resp_err_t` values (negative: client side,
/// positive: broker side) so that logs match librdkafka's documentation.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let code: Int32
    public let name: String
    public let message: String
    /// librdkafka says a retry may succeed (e.g. broker down, timeout).
    public let isRetriable: Bool
    /// The client instance is unusable (e.g. idempotent producer fenced) and must be rebuilt.
    public let isFatal: Bool

    public init(code: Int32, name: String, message: String, isRetriable: Bool, isFatal: Bool = false) {
        self.code = code
        self.name = name
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
    }

    public static let timedOut: Int32 = -185
    public static let transport: Int32 = -195
    public static let allBrokersDown: Int32 = -187
    public static let queueFull: Int32 = -184
    public static let messageTimedOut: Int32 = -192
    public static let invalidArgument: Int32 = -186
    public static let unknownTopicOrPartition: Int32 = 3
    public static let messageSizeTooLarge: Int32 = 10
    public static let topicAlreadyExists: Int32 = 36
    /// librdkafka's `_PURGE_QUEUE`: what we purged because we stopped waiting for it.
    public static let purged: Int32 = -152

    /// Codes that librdkafka does not flag as retriable but that a later attempt
    /// with the same client typically survives (broker outage, local queue full).
    static let transientCodes: Set<Int32> = [timedOut, transport, allBrokersDown, queueFull, messageTimedOut]

    /// Worth retrying after a backoff.
    public var isTransient: Bool { isRetriable || isFatal || Self.transientCodes.contains(code) }

    public var description: String { "Kafka error \(name) (\(code))" }
    public var debugDescription: String { "\(description): \(message)" }

    /// A wait for the broker given up on purpose (a stop during an outage); what it
    /// waited for was not confirmed and will be done again.
    static func abandoned(_ message: String) -> KafkaError {
        KafkaError(code: purged, name: "_PURGE_QUEUE", message: "gave up waiting for the broker: " + message, isRetriable: true)
    }

    static func configuration(_ message: String) -> KafkaError {
        KafkaError(code: invalidArgument, name: "_INVALID_ARG", message: message, isRetriable: false)
    }
}
