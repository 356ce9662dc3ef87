import ArgumentParser
import Foundation
import Logging
import Shared

/// The development broker: librdkafka's mock cluster on loopback, with every topic of SPEC §8.
@main
struct DevKafkaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oms-devkafka",
        abstract: "Run an in-memory Kafka-protocol broker (librdkafka mock cluster) for development and tests.",
        discussion: """
            Not for production: everything is kept in memory and lost on exit, and each partition keeps
            only about 5 MiB or 100,000 batches. Prints the bootstrap address on stdout and, with
            --bootstrap-file, writes it there. Runs until SIGTERM or SIGINT.
            """)

    @Option(help: "Partitions per topic.")
    var partitions: Int = 12

    @Option(help: "Number of mock brokers.")
    var brokers: Int = 1

    @Option(help: "Write the bootstrap address to this file once the broker is up.")
    var bootstrapFile: String?

    @Option(help: "Additional topic to create (repeatable).")
    var topic: [String] = []

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: String = "warning"

    func validate() throws {
        guard (1...1000).contains(partitions) else { throw ValidationError("--partitions must be between 1 and 1000, got \(partitions)") }
        guard (1...9).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 9, got \(brokers)") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a log level") }
    }

    func run() throws {
        var logger = Logger(label: "oms-devkafka")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let cluster = try DevKafkaCluster(brokerCount: brokers, logger: logger)
        for name in Topic.all + topic {
            try cluster.createTopic(name, partitions: partitions)
        }
        if let bootstrapFile {
            try (cluster.bootstrapServers + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        let stop = StopSignal()
        var signalSources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.request() }
            source.resume()
            signalSources.append(source)
        }
        while !stop.isRequested { stop.sleep(millis: 500) }
        withExtendedLifetime((cluster, signalSources)) {}
    }
}
