internal import CLibPQ
import Foundation
import Logging

/// The one place that lets a libpq connection pointer cross into Sendable types.
struct LibPQPointer: @unchecked Sendable {
    let raw: OpaquePointer
}

/// A blocking PostgreSQL connection through libpq.
///
/// A connection belongs to one thread at a time; workers own theirs on a
/// dedicated thread so that libpq's blocking calls never run on Swift's
/// cooperative pool. After a lost connection the next statement reconnects.
public final class PostgresConnection {
    private var connection: LibPQPointer?
    private let url: String
    private let logger: Logger
    public private(set) var inTransaction = false

    public init(url: String, applicationName: String = "oms", logger: Logger) throws {
        self.url = url
        self.logger = logger
        self.applicationName = applicationName
        try connect()
    }

    private let applicationName: String

    deinit {
        if let connection { PQfinish(connection.raw) }
    }

    private func connect() throws {
        if let old = connection {
            PQfinish(old.raw)
            connection = nil
        }
        // expand_dbname lets OMS_DATABASE_URL be a URI or a keyword string; the
        // session settings make timestamps decode the same on every server.
        let keywords = ["dbname", "options", "application_name", "connect_timeout"]
        let values = [url, "-c TimeZone=UTC -c DateStyle=ISO -c client_min_messages=warning", applicationName, "5"]
        let raw = withCStringArray(keywords) { keys in
            withCStringArray(values) { vals in PQconnectdbParams(keys, vals, 1) }
        }
        guard let raw else {
            throw PostgresError(kind: .connection, serverMessage: "libpq could not allocate a connection")
        }
        guard PQstatus(raw) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(raw)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(raw)
            throw PostgresError(kind: .connection, serverMessage: message)
        }
        connection = LibPQPointer(raw: raw)
        inTransaction = false
    }

    private func liveConnection() throws -> OpaquePointer {
        if let connection, PQstatus(connection.raw) == CONNECTION_OK { return connection.raw }
        if inTransaction {
            // The transaction died with the connection; the caller must start over.
            inTransaction = false
            throw PostgresError(kind: .connection, serverMessage: "connection lost inside a transaction")
        }
        logger.info("reconnecting to PostgreSQL")
        try connect()
        return connection!.raw
    }

    /// Runs one statement with its bind parameters and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        if let bindError = query.bindError { throw bindError }
        let conn = try liveConnection()
        let result = withOptionalCStringArray(query.binds) { values in
            PQexecParams(conn, query.sql, Int32(query.binds.count), nil, values, nil, nil, 0)
        }
        return try consume(result, statement: query.sql, conn: conn)
    }

    /// Runs SQL text without parameters; may hold several statements (migrations).
    public func execute(script sql: String) throws {
        let conn = try liveConnection()
        _ = try consume(PQexec(conn, sql), statement: sql, conn: conn)
    }

    /// Runs `body` in a transaction: commit on return, rollback on throw.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try execute(script: "BEGIN")
        inTransaction = true
        do {
            let value = try body(self)
            try execute(script: "COMMIT")
            inTransaction = false
            return value
        } catch {
            if inTransaction, let connection, PQstatus(connection.raw) == CONNECTION_OK {
                _ = PQexec(connection.raw, "ROLLBACK").map { PQclear($0) }
            }
            inTransaction = false
            throw error
        }
    }

    /// Runs `body` inside a savepoint; on throw the savepoint is rolled back and
    /// the error rethrown, leaving the surrounding transaction usable.
    public func savepoint<T>(_ name: String = "oms_message", _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute(script: "SAVEPOINT \(name)")
        do {
            let value = try body(self)
            try execute(script: "RELEASE SAVEPOINT \(name)")
            return value
        } catch let error as PostgresError where error.kind == .connection {
            throw error
        } catch {
            try execute(script: "ROLLBACK TO SAVEPOINT \(name)")
            throw error
        }
    }

    private func consume(_ result: OpaquePointer?, statement: String, conn: OpaquePointer) throws -> PostgresRows {
        guard let result else {
            throw connectionError(conn, statement: statement)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK:
            return PostgresRows(columns: [], cells: [], affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0)
        case PGRES_TUPLES_OK:
            let rowCount = Int(PQntuples(result))
            let fieldCount = Int(PQnfields(result))
            let columns = (0..<fieldCount).map { String(cString: PQfname(result, Int32($0))) }
            var cells = [[String?]]()
            cells.reserveCapacity(rowCount)
            for row in 0..<rowCount {
                var values = [String?]()
                values.reserveCapacity(fieldCount)
                for field in 0..<fieldCount {
                    if PQgetisnull(result, Int32(row), Int32(field)) == 1 {
                        values.append(nil)
                    } else {
                        values.append(String(cString: PQgetvalue(result, Int32(row), Int32(field))))
                    }
                }
                cells.append(values)
            }
            return PostgresRows(columns: columns, cells: cells, affectedRows: rowCount)
        default:
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
                ?? String(cString: PQresultErrorMessage(result))
            if sqlState == nil && PQstatus(conn) != CONNECTION_OK {
                throw connectionError(conn, statement: statement)
            }
            throw PostgresError(kind: sqlState == nil ? .connection : .server, sqlState: sqlState,
                                serverMessage: message, statement: statement)
        }
    }

    private func connectionError(_ conn: OpaquePointer, statement: String) -> PostgresError {
        let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(kind: .connection, serverMessage: message, statement: statement)
    }
}

private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated = strings.map { strdup($0) } + [nil]
    defer { duplicated.forEach { free($0) } }
    let constPointers = duplicated.map { UnsafePointer($0) }
    return constPointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let duplicated = strings.map { $0.map { strdup($0) } ?? nil }
    defer { duplicated.forEach { free($0) } }
    let constPointers = duplicated.map { UnsafePointer($0) }
    return constPointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
