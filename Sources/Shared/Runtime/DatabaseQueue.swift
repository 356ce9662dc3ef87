import Foundation
import Logging

/// Blocking libpq work for async code (HTTP handlers): one serial queue of its own with one connection, off Swift's
/// cooperative pool; the connection is made on first use and again after a failure.
public final class DatabaseQueue: @unchecked Sendable {
    private let queue: DispatchQueue
    private let url: String
    private let applicationName: String
    private let logger: Logger
    private var database: PostgresConnection?

    public init(url: String, applicationName: String, logger: Logger) {
        self.url = url
        self.applicationName = applicationName
        self.logger = logger
        queue = DispatchQueue(label: applicationName)
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    if self.database == nil { self.database = try PostgresConnection(url: self.url, applicationName: self.applicationName, logger: self.logger) }
                    guard let database = self.database else { throw PostgresError(kind: .connection, serverMessage: "no connection") }
                    continuation.resume(returning: try body(database))
                } catch {
                    // A broken connection is made again on the next call.
                    if (error as? PostgresError)?.isTransient ?? true { self.database = nil }
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
