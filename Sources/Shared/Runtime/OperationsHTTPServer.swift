import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// `/metrics` (Prometheus text format) and `/healthz` on `OMS_HTTP_PORT`.
public enum OperationsHTTPServer {
    /// The /healthz answer: whether the loop beats, and a JSON document that stays valid whatever the state text holds.
    public static func healthBody(_ health: WorkerHealth) -> (healthy: Bool, body: String) {
        let summary = health.summary
        // Encoded, not interpolated: the state may hold any text (e.g. a multi-line SQL error).
        let seconds = summary.secondsSinceHeartbeat.isFinite ? Int64(max(0, min(summary.secondsSinceHeartbeat, 1e12))) : -1
        let body = JSONValue.object([
            "status": .string(summary.healthy ? "ok" : "unhealthy"), "state": .string(String(summary.status.prefix(2_000))),
            "secondsSinceHeartbeat": .integer(seconds),
        ]).serializedString
        return (summary.healthy, body)
    }

    public static func build(port: Int, registry: PrometheusCollectorRegistry, health: WorkerHealth, logger: Logger)
        -> some Service
    {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/healthz") { _, _ -> Response in
            let (healthy, body) = healthBody(health)
            return Response(
                status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        var httpLogger = logger
        httpLogger[metadataKey: "component"] = "http"
        return Application(
            router: router, configuration: .init(address: .hostname("0.0.0.0", port: port), serverName: "oms"),
            logger: httpLogger)
    }
}

/// Sends `WATCHDOG=1` while the worker loop keeps beating.
public struct WatchdogService: Service {
    let health: WorkerHealth
    let interval: Duration

    public init(health: WorkerHealth, interval: Duration) {
        self.health = health
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if health.isHealthy { SystemdNotifier.notify("WATCHDOG=1") }
            try? await Task.sleep(for: interval)
        }
    }
}
