import ArgumentParser
import Foundation
import Logging
import Shared

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oms-bench",
        abstract: "Benchmarks and demo data for the OMS pipeline.",
        subcommands: [CaptureThroughput.self, RouterThroughput.self, FulfillmentThroughput.self, BillingThroughput.self, ReturnsThroughput.self, FulfillmentCoreBench.self, PublishDemo.self, SimulateWarehouse.self, PipelineThroughput.self, ChaosRun.self],
        defaultSubcommand: CaptureThroughput.self)
}

enum BenchEnvironment {
    static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw ValidationError("\(name) is not set (source .oms/dev.env after make dev-up)")
        }
        return value
    }

    static var logger: Logger {
        var logger = Logger(label: "oms-bench")
        logger.logLevel = .warning
        return logger
    }

    /// For the clients of runs that take the broker away on purpose: its connection errors are expected there.
    static var quietLogger: Logger {
        var logger = Logger(label: "oms-bench")
        logger.logLevel = .critical
        return logger
    }

    static var kafka: KafkaConfiguration {
        get throws {
            KafkaConfiguration(brokers: try value("OMS_KAFKA_BROKERS"),
                               overrides: KafkaConfiguration.overrides(fromEnvironment: ProcessInfo.processInfo.environment))
        }
    }

    static func progress(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// The directory of this executable, where the workers were built too.
    static var binDirectory: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }
}
