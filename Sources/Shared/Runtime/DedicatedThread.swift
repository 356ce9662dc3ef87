import Foundation
import ServiceLifecycle

/// Runs a blocking loop (libpq, librdkafka) on a thread of its own, off Swift's
/// cooperative pool, for a lifecycle `Service`: graceful shutdown or task
/// cancellation set the `StopSignal` the loop watches.
public enum DedicatedThread {
    public static func run(name: String, _ body: @escaping @Sendable (StopSignal) throws -> Void) async throws {
        let stop = StopSignal()
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let thread = Thread {
                        do {
                            try body(stop)
                            continuation.resume()
                        } catch is CancellationError {
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                    thread.name = name
                    thread.start()
                }
            } onGracefulShutdown: {
                stop.request()
            }
        } onCancel: {
            stop.request()
        }
    }
}
