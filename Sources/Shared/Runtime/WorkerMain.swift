import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Everything a worker executable does besides its handler: settings,
/// logging, metrics, HTTP, systemd, and the service group with SIGTERM handling.
public enum WorkerMain {
    /// The services of one worker; tests call this instead of `run`.
    public static func buildServiceGroup<Handler: StageHandler>(
        handler: Handler, settings: WorkerSettings, logger: Logger, registry: PrometheusCollectorRegistry,
        additionalServices: [any Service] = []
    ) -> ServiceGroup {
        let health = WorkerHealth()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StageService(handler: handler, settings: settings, logger: logger, health: health),
                  successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        services += additionalServices.map { .init(service: $0) }
        if let port = settings.httpPort, port > 0 {
            services.append(.init(service: OperationsHTTPServer.build(port: port, registry: registry, health: health, logger: logger)))
        }
        if let interval = SystemdNotifier.watchdogInterval {
            services.append(.init(service: WatchdogService(health: health, interval: interval)))
        }
        // Last, so that it is the first to hear of the shutdown (the group signals services in reverse order).
        services.append(.init(service: ShutdownDeadline(seconds: settings.shutdownTimeoutSeconds, health: health, logger: logger),
                              successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        return ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger))
    }

    /// Reads the environment, bootstraps logging and metrics, runs until SIGTERM.
    /// A configuration problem prints one line naming the setting and exits 2.
    public static func run<Handler: StageHandler>(
        stage: String, makeHandler: @Sendable (WorkerSettings) throws -> Handler,
        additionalServices: @Sendable (WorkerSettings, Logger) throws -> [any Service] = { _, _ in [] }
    ) async -> Never {
        let settings: WorkerSettings
        do {
            settings = try WorkerSettings(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("oms-\(stage): \(error.description)\n".utf8))
            exit(2)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "oms-\(stage)")
        logger.logLevel = settings.logLevel
        let handler: Handler
        let extra: [any Service]
        do {
            handler = try makeHandler(settings)
            extra = try additionalServices(settings, logger)
        } catch {
            FileHandle.standardError.write(Data("oms-\(stage): \(error)\n".utf8))
            exit(2)
        }
        do {
            try await buildServiceGroup(handler: handler, settings: settings, logger: logger, registry: registry,
                                        additionalServices: extra).run()
            logger.info("stopped")
            exit(0)
        } catch {
            logger.critical("worker failed", metadata: ["error": "\(StageWorker<Handler>.describe(error))"])
            exit(1)
        }
    }
}
