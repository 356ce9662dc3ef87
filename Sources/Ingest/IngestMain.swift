import Foundation
import Logging
import ServiceLifecycle
import Shared

/// oms-ingest: the HTTP entrance for shops that deliver webhooks instead of writing to Kafka.
@main
enum IngestMain {
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        let settings: WorkerSettings
        let server: IngestServer
        var logger = Logger(label: "oms-ingest")
        do {
            settings = try WorkerSettings(environment: environment)
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = settings.logLevel
                return handler
            }
            logger = Logger(label: "oms-ingest")
            logger.logLevel = settings.logLevel
            server = try build(settings: settings, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("oms-ingest: \(error)\n".utf8))
            exit(2)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server.service(onRunning: { _ = SystemdNotifier.notify("READY=1") }))
        ]
        if let interval = SystemdNotifier.watchdogInterval { services.append(.init(service: WatchdogPing(interval: interval))) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger))
        do {
            try await group.run()
            exit(0)
        } catch {
            logger.critical("oms-ingest failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    /// The server as configured by the environment; tests call this too.
    static func build(settings: WorkerSettings, logger: Logger) throws -> IngestServer {
        let environment = settings.environment
        guard let portText = environment["OMS_INGEST_PORT"], let port = Int(portText), (1...65_535).contains(port) else {
            throw ConfigurationError(setting: "OMS_INGEST_PORT", problem: "must be the port to listen on (1–65535)")
        }
        guard let directory = settings.configDirectory else {
            throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (oms-ingest reads ingest.json from it)")
        }
        let versions = try IngestRules.load(directory: directory)
        let rules = versions.versions[versions.versions.count - 1].rules
        var secrets: [String: [UInt8]] = [:]
        for shop in rules.shops.values {
            guard let secret = environment[shop.secretVariable], secret.utf8.count >= 16 else {
                throw ConfigurationError(setting: shop.secretVariable, problem: "must hold the signing secret of shop \(shop.id) (at least 16 characters)")
            }
            secrets[shop.id] = Array(secret.utf8)
        }
        return IngestServer(port: port, host: environment["OMS_INGEST_HOST"] ?? "127.0.0.1", rules: rules, secrets: secrets,
                            database: DatabaseQueue(url: settings.databaseURL, applicationName: "oms-ingest", logger: logger),
                            publisher: .init(kafka: settings.kafka, logger: logger), maximumBytes: settings.maximumEventBytes,
                            limiters: rules.shops.mapValues { RateLimiter(limit: $0.requestsPerMinute, window: 60) }, logger: logger)
    }
}

/// WATCHDOG=1 while the process runs (the HTTP server has no loop of its own to watch).
struct WatchdogPing: Service {
    let interval: Duration
    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            _ = SystemdNotifier.notify("WATCHDOG=1")
            try? await Task.sleep(for: interval)
        }
    }
}
