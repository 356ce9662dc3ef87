import Logging

/// A setting that is missing or malformed; the worker refuses to start and
/// prints this one line.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let setting: String
    public let problem: String
    public init(setting: String, problem: String) {
        self.setting = setting
        self.problem = problem
    }
    public var description: String { "configuration error: \(setting): \(problem)" }
}

/// Everything a worker reads from its environment (SPEC §8).
public struct WorkerSettings: Sendable {
    public var kafkaBrokers: String
    public var kafkaOverrides: [String: String]
    public var databaseURL: String
    /// nil: no HTTP endpoint.
    public var httpPort: Int?
    public var logLevel: Logger.Level
    public var configDirectory: String?
    public var batchSize: Int
    public var maximumEventBytes: Int
    public var retryBaseMillis: Int
    public var retryCapMillis: Int
    /// Attempts before a batch that keeps failing with a transient error is split
    /// per message; a message that still fails is dead-lettered. 0: retry forever.
    public var maximumAttempts: Int
    /// How often time-driven changes (deadlines) are looked for.
    public var housekeepingSeconds: Int
    /// How long dedupe keys are kept; must be longer than the retention of every consumed topic.
    public var dedupeRetentionDays: Int
    /// How long a worker may take to stop after SIGTERM before it exits without finishing (below systemd's TimeoutStopSec).
    public var shutdownTimeoutSeconds: Int
    /// After SIGTERM, how long a worker still waits for the broker (delivery reports,
    /// an offset commit, leaving the group) before it gives up on that call and stops:
    /// during a broker outage there is nothing to save, what is not confirmed is redelivered.
    public var shutdownBrokerWaitSeconds: Int
    /// Per topic, the CloudEvents `source` prefixes allowed to publish to it
    /// (`OMS_TOPIC_SOURCES=shop.orders=shop/,omsctl;catalog.products=pim/`); a topic not named accepts any source.
    public var topicSources: [String: [String]]
    public var environment: [String: String]

    public init(environment: [String: String]) throws(ConfigurationError) {
        self.environment = environment
        kafkaBrokers = try Self.required("OMS_KAFKA_BROKERS", environment)
        databaseURL = try Self.required("OMS_DATABASE_URL", environment)
        guard databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") || databaseURL.contains("=") else {
            throw ConfigurationError(setting: "OMS_DATABASE_URL", problem: "expected a libpq URI (postgresql://…) or key=value string")
        }
        kafkaOverrides = KafkaConfiguration.overrides(fromEnvironment: environment)
        httpPort = try Self.integer("OMS_HTTP_PORT", environment, range: 0...65535, default: nil)
        let levelText = environment["OMS_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationError(setting: "OMS_LOG_LEVEL", problem: "\"\(levelText)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = level
        configDirectory = environment["OMS_CONFIG_DIR"]
        batchSize = try Self.integer("OMS_BATCH_SIZE", environment, range: 1...10_000, default: 500)!
        maximumEventBytes = try Self.integer("OMS_MAX_EVENT_BYTES", environment, range: 1_024...4_000_000, default: 262_144)!
        retryBaseMillis = try Self.integer("OMS_RETRY_BASE_MS", environment, range: 1...60_000, default: 100)!
        retryCapMillis = try Self.integer("OMS_RETRY_MAX_MS", environment, range: 1...600_000, default: 5_000)!
        housekeepingSeconds = try Self.integer("OMS_HOUSEKEEPING_SECONDS", environment, range: 1...86_400, default: 30)!
        maximumAttempts = try Self.integer("OMS_RETRY_MAX_ATTEMPTS", environment, range: 0...1_000_000, default: 10)!
        dedupeRetentionDays = try Self.integer("OMS_DEDUPE_RETENTION_DAYS", environment, range: 1...3_650, default: 30)!
        shutdownTimeoutSeconds = try Self.integer("OMS_SHUTDOWN_TIMEOUT_SECONDS", environment, range: 1...3_600, default: 25)!
        // Default 5 s, but always below the deadline, so that a give-up comes before the forced exit.
        shutdownBrokerWaitSeconds = try Self.integer("OMS_SHUTDOWN_BROKER_WAIT_SECONDS", environment, range: 0...3_600,
                                                     default: min(5, shutdownTimeoutSeconds - 1))!
        guard shutdownBrokerWaitSeconds < shutdownTimeoutSeconds else {
            throw ConfigurationError(setting: "OMS_SHUTDOWN_BROKER_WAIT_SECONDS",
                                     problem: "\(shutdownBrokerWaitSeconds) must be below OMS_SHUTDOWN_TIMEOUT_SECONDS (\(shutdownTimeoutSeconds))")
        }
        topicSources = try Self.topicSources(environment["OMS_TOPIC_SOURCES"] ?? "")
    }

    static func topicSources(_ text: String) throws(ConfigurationError) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for entry in text.split(separator: ";") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ConfigurationError(setting: "OMS_TOPIC_SOURCES", problem: "\"\(entry.prefix(60))\" is not topic=source-prefix,…")
            }
            let prefixes = parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !prefixes.isEmpty else {
                throw ConfigurationError(setting: "OMS_TOPIC_SOURCES", problem: "topic \(parts[0]) names no source prefix")
            }
            result[parts[0]] = prefixes
        }
        return result
    }

    public var kafka: KafkaConfiguration { KafkaConfiguration(brokers: kafkaBrokers, overrides: kafkaOverrides) }

    static func required(_ name: String, _ environment: [String: String]) throws(ConfigurationError) -> String {
        guard let value = environment[name], !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigurationError(setting: name, problem: "is not set")
        }
        return value
    }

    static func integer(_ name: String, _ environment: [String: String], range: ClosedRange<Int>, default defaultValue: Int?) throws(ConfigurationError) -> Int? {
        guard let text = environment[name], !text.isEmpty else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(setting: name, problem: "\"\(text.prefix(40))\" is not an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }
}
