import ArgumentParser
import Foundation
import Logging
import Shared
import Synchronization

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
            For outage tests: SIGUSR1 takes every broker down (connections refused), SIGUSR2 brings them back; \
            SIGHUP makes the next Produce, Fetch and OffsetCommit requests fail with retriable errors.
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
        let outage = OutageSwitch()
        for (signalNumber, down) in [(SIGUSR1, true), (SIGUSR2, false)] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { outage.request(down: down) }
            source.resume()
            signalSources.append(source)
        }
        // SIGHUP: the next requests fail with retriable errors (chaos runs).
        let injections = Atomic<Int>(0)
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { injections.add(1, ordering: .relaxed) }
        hangup.resume()
        signalSources.append(hangup)
        var brokersDown = false
        while !stop.isRequested {
            stop.sleep(millis: 50)
            if injections.exchange(0, ordering: .relaxed) > 0 {
                cluster.injectRequestErrors(count: 5)
                FileHandle.standardError.write(Data("oms-devkafka: 5 request errors injected for Produce, Fetch and OffsetCommit\n".utf8))
            }
            if let down = outage.take(), down != brokersDown {
                brokersDown = down
                cluster.setBrokersUp(!down, brokerCount: brokers)
                FileHandle.standardError.write(Data("oms-devkafka: brokers \(down ? "down" : "up")\n".utf8))
            }
        }
        withExtendedLifetime((cluster, signalSources)) {}
    }
}

/// A requested broker state change, handed from a signal handler to the main loop.
final class OutageSwitch: Sendable {
    private let requested = Mutex<Bool?>(nil)
    func request(down: Bool) { requested.withLock { $0 = down } }
    func take() -> Bool? { requested.withLock { value in defer { value = nil }; return value } }
}
