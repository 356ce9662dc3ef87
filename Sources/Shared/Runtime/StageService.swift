import Logging
import ServiceLifecycle

/// Runs a `StageWorker` on a dedicated thread as a lifecycle `Service`:
/// graceful shutdown asks the loop to finish its batch, commit and leave the group.
public struct StageService<Handler: StageHandler>: Service {
    let handler: Handler
    let settings: WorkerSettings
    let logger: Logger
    let health: WorkerHealth

    public init(handler: Handler, settings: WorkerSettings, logger: Logger, health: WorkerHealth) {
        self.handler = handler
        self.settings = settings
        self.logger = logger
        self.health = health
    }

    public func run() async throws {
        let handler = self.handler
        let settings = self.settings
        let logger = self.logger
        let health = self.health
        try await DedicatedThread.run(name: "oms-\(handler.definition.name)-worker") { stop in
            try StageWorker(handler: handler, settings: settings, logger: logger, health: health, stop: stop).run()
        }
    }
}
