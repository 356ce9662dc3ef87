import ArgumentParser
import Foundation
import Logging
import Shared

@main
struct OmsCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "omsctl",
        abstract: "Operate the order management system: database, topics, orders, fulfillment, dead letters.",
        discussion: """
            Reads OMS_DATABASE_URL (libpq URI) and OMS_KAFKA_BROKERS (bootstrap list) from the environment;
            after `make dev-up`, `source .oms/dev.env` sets both.
            """,
        subcommands: [Migrate.self, Topics.self, Order.self, Stock.self, FulfillmentCommand.self, Wave.self, Label.self, Invoice.self, Archive.self, BillingCommand.self, ReturnCommand.self, Webhooks.self, KPI.self, APIKeys.self, DLQ.self, Schemas.self, Rules.self, CustomerCommand.self])
}

/// A failure that is not a usage error: printed as "Error: …", exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// Runs `body`, turning library errors into their detailed text.
    static func detailed<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError {
            throw CLIError(error.debugDescription)
        } catch let error as KafkaError {
            throw CLIError(error.debugDescription)
        }
    }
}

enum CLIEnvironment {
    static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw ValidationError("\(name) is not set (source .oms/dev.env after make dev-up, or export it)")
        }
        return value
    }

    private static let loggingBootstrap: Void = LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }

    static var logger: Logger {
        _ = loggingBootstrap
        var logger = Logger(label: "omsctl")
        logger.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["OMS_LOG_LEVEL"] ?? "warning") ?? .warning
        return logger
    }

    static func database() throws -> PostgresConnection {
        let url = try value("OMS_DATABASE_URL")
        return try CLIError.detailed { try PostgresConnection(url: url, applicationName: "omsctl", logger: logger) }
    }

    static func kafka() throws -> KafkaConfiguration {
        KafkaConfiguration(brokers: try value("OMS_KAFKA_BROKERS"),
                           overrides: KafkaConfiguration.overrides(fromEnvironment: ProcessInfo.processInfo.environment))
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending SQL migrations (versioned files, each once, in order).")

    @Option(help: "Directory of NNNN_name.sql files (default: $OMS_MIGRATIONS_DIR, ./deploy/migrations, or ../share/oms/migrations next to omsctl).")
    var directory: String?

    func run() throws {
        let migrator = try Migrator(directory: directory ?? Migrator.defaultDirectory())
        let database = try CLIEnvironment.database()
        let outcomes = try CLIError.detailed { try migrator.apply(on: database, logger: CLIEnvironment.logger) }
        var appliedCount = 0
        for outcome in outcomes {
            if case .applied(let version, let name) = outcome {
                print("applied \(String(format: "%04d", version))_\(name)")
                appliedCount += 1
            }
        }
        print("database is at version \(migrator.migrations.last?.version ?? 0) (\(appliedCount) applied now, \(outcomes.count - appliedCount) already applied)")
    }
}

struct Topics: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage Kafka topics.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create every topic of the event contract (existing ones are left alone).")

        @Option(help: "Partitions per topic.") var partitions: Int = 12
        @Option(help: "Replication factor (3 on a production cluster).") var replicationFactor: Int = 1

        func validate() throws {
            guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
            guard replicationFactor >= 1 else { throw ValidationError("--replication-factor must be at least 1") }
        }

        func run() throws {
            let configuration = try CLIEnvironment.kafka()
            let outcomes = try CLIError.detailed {
                try KafkaAdmin(configuration: configuration, logger: CLIEnvironment.logger)
                    .createTopics(Topic.all, partitions: partitions, replicationFactor: replicationFactor)
            }
            for topic in Topic.all {
                print("\(topic): \(outcomes[topic] == .created ? "created" : "exists")")
            }
        }
    }
}

struct Schemas: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Event contracts.", subcommands: [Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write every event JSON Schema into a directory.")
        @Argument(help: "Target directory.") var directory: String

        func run() throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (name, text) in EventContracts.schemaFiles.sorted(by: { $0.key < $1.key }) {
                try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
                print("\(directory)/\(name)")
            }
        }
    }
}
