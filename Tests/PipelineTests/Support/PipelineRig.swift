import Foundation
import Shared

/// What most end-to-end tests start from: their own broker and migrated
/// database, a producer and a connection to look at the rows.
final class PipelineRig {
    let broker: TestBroker
    let databaseURL: String
    let database: PostgresConnection
    let producer: KafkaProducer

    init(partitions: Int = 4) throws {
        broker = try TestBroker(partitions: partitions)
        databaseURL = try TestEnvironment.makeDatabase()
        database = try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger)
        producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: broker.bootstrap), logger: TestEnvironment.logger)
    }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        workerEnvironment(broker: broker, databaseURL: databaseURL, extra: extra)
    }

    /// Starts one of our workers (`oms-capture`, `oms-router`, …) against this rig.
    func start(_ executable: String, name: String, _ extra: [String: String] = [:]) throws -> ManagedProcess {
        try ManagedProcess.worker(executable, environment: environment(extra), name: name)
    }
}

extension TestEnvironment {
    /// A copy of the shipped rule files in a directory of its own, with text replaced in
    /// `file`; a replacement that matches nothing is an error, so a test cannot silently run the shipped rules.
    static func configCopy(_ file: String, replacing replacements: [(String, String)]) throws -> String {
        let directory = NSTemporaryDirectory() + "oms-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["capture.json", "router.json", "fulfillment.json", "territory.json", "returns.json", "tax.json", "accounting.json", "kpi.json"] {
            var text = try String(contentsOfFile: configDirectory + "/" + name, encoding: .utf8)
            if name == file {
                for (original, replacement) in replacements {
                    guard text.contains(original) else { throw TestSetupError("\(name) has no \"\(original)\" to replace") }
                    text = text.replacingOccurrences(of: original, with: replacement)
                }
            }
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        return directory
    }
}
