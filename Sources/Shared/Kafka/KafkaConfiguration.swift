/// librdkafka properties for our clients, with the defaults the processing
/// guarantee depends on. Anything can be overridden by `OMS_KAFKA_<PROPERTY>`
/// environment variables (dots as underscores), e.g. `OMS_KAFKA_SECURITY_PROTOCOL`.
public struct KafkaConfiguration: Sendable {
    public var brokers: String
    public var overrides: [String: String]

    public init(brokers: String, overrides: [String: String] = [:]) {
        self.brokers = brokers
        self.overrides = overrides
    }

    /// Reads `OMS_KAFKA_*` properties (except OMS_KAFKA_BROKERS) from the environment.
    public static func overrides(fromEnvironment environment: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("OMS_KAFKA_") && name != "OMS_KAFKA_BROKERS" {
            let property = name.dropFirst("OMS_KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            result[property] = value
        }
        return result
    }

    func producerProperties() -> [String: String] {
        var properties = [
            "bootstrap.servers": brokers,
            "enable.idempotence": "true",
            "acks": "all",
            "compression.codec": "lz4",
            "linger.ms": "5",
            "message.max.bytes": "4194304",
            "message.timeout.ms": "30000",
            // Without it a request split over two segments waits for the peer's
            // delayed ACK (40 ms on Linux): that was most of the publish wait per batch.
            "socket.nagle.disable": "true",
        ]
        for (key, value) in overrides where !Self.consumerOnly.contains(key) { properties[key] = value }
        return properties
    }

    func consumerProperties(groupID: String) -> [String: String] {
        var properties = [
            "bootstrap.servers": brokers,
            "group.id": groupID,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "false",
            "fetch.wait.max.ms": "100",
            // Range keeps co-partitioned topics together: partition p of shop.orders and
            // of shop.payments go to the same member, so one order's events stay in one thread.
            "partition.assignment.strategy": "range",
            "socket.nagle.disable": "true",
        ]
        for (key, value) in overrides where !Self.producerOnly.contains(key) { properties[key] = value }
        return properties
    }

    static let consumerOnly: Set<String> = [
        "group.id", "session.timeout.ms", "heartbeat.interval.ms", "fetch.wait.max.ms", "auto.offset.reset",
        "max.poll.interval.ms", "partition.assignment.strategy", "fetch.min.bytes", "enable.auto.commit",
    ]
    static let producerOnly: Set<String> = [
        "enable.idempotence", "acks", "compression.codec", "linger.ms", "message.timeout.ms", "batch.num.messages",
    ]
}
