/// An error from PostgreSQL or from our use of libpq.
///
/// `description` never contains data (it ends up in logs and metrics labels);
/// the server's message and the statement are in `debugDescription`.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Kind: String, Sendable {
        /// The connection could not be made or was lost.
        case connection
        /// The server answered with an error carrying a SQLSTATE.
        case server
        /// A bind value cannot be sent (e.g. a NUL byte in text).
        case invalidBind
        /// A result column could not be decoded into the requested type.
        case decoding
    }

    public let kind: Kind
    /// SQLSTATE, e.g. "23505"; nil for errors that did not come from the server.
    public let sqlState: String?
    public let serverMessage: String
    public let statement: String?

    public init(kind: Kind, sqlState: String? = nil, serverMessage: String, statement: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.serverMessage = serverMessage
        self.statement = statement
    }

    /// Worth retrying after a backoff: the same statement may succeed later.
    public var isTransient: Bool {
        switch kind {
        case .connection: return true
        case .invalidBind, .decoding: return false
        case .server: return sqlState.map(Self.isTransient(sqlState:)) ?? false
        }
    }

    /// SQLSTATEs that say "try again", not "this can never work".
    public static func isTransient(sqlState: String) -> Bool {
        if sqlState.hasPrefix("08") { return true }  // connection exception class
        return transientStates.contains(sqlState)
    }

    static let transientStates: Set<String> = [
        "40001",  // serialization_failure
        "40P01",  // deadlock_detected
        "57P01",  // admin_shutdown
        "57P02",  // crash_shutdown
        "57P03",  // cannot_connect_now
        "53300",  // too_many_connections
        "53000",  // insufficient_resources
        "55P03",  // lock_not_available
        "57014",  // query_canceled (statement_timeout)
    ]

    public var description: String {
        switch kind {
        case .connection: return "PostgreSQL connection error"
        case .server: return "PostgreSQL error SQLSTATE \(sqlState ?? "?")"
        case .invalidBind: return "PostgreSQL bind value rejected"
        case .decoding: return "PostgreSQL result decoding error"
        }
    }

    public var debugDescription: String {
        var text = "\(description): \(serverMessage)"
        if let statement { text += " [statement: \(statement.prefix(300))]" }
        return text
    }
}
