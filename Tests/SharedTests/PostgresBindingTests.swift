import Foundation
import Shared
import Logging
import Testing

/// Against the real test PostgreSQL.
@Suite("PostgreSQL binding round trips")
struct PostgresBindingTests {
    func connect() throws -> PostgresConnection {
        guard let url = ProcessInfo.processInfo.environment["OMS_TEST_DATABASE_URL"] else {
            throw TestFailure("OMS_TEST_DATABASE_URL is not set: run through `make test`")
        }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try PostgresConnection(url: url, logger: logger)
    }

    @Test("awkward text round-trips unchanged", arguments: [
        "O'Brien", "say \"hi\"", "$1 and $2", "C:\\path\\to", "🏔️ München — Größe", "", "line\nbreak\ttab", "NULL", "{\"a\":1}",
    ])
    func textRoundTrip(value: String) throws {
        let database = try connect()
        let row = try database.query("SELECT \(value)::text AS v, length(\(value)::text) AS n").first!
        #expect(try row.decode("v", as: String.self) == value)
        #expect(try row.decode("n", as: Int.self) == value.unicodeScalars.count)
    }

    @Test("arrays, bytea, integers, booleans, NULL round-trip")
    func typedRoundTrip() throws {
        let database = try connect()
        let strings: [String?] = ["a\"b", "c\\d", nil, "é"]
        let bytes = Data([0, 1, 2, 255, 0x5C, 0x22])
        let row = try database.query("""
            SELECT \(strings)::text[] AS arr, array_length(\(strings)::text[], 1) AS len, \(bytes)::bytea AS b,
                   \(Int64.max)::bigint AS big, \(true)::boolean AS t, \(nil as String?)::text AS nothing,
                   (\(strings)::text[])[3] IS NULL AS third_is_null
            """).first!
        #expect(try row.decode("len", as: Int.self) == 4)
        #expect(try row.decode("b", as: Data.self) == bytes)
        #expect(try row.decode("big", as: Int64.self) == Int64.max)
        #expect(try row.decode("t", as: Bool.self))
        #expect(try row.decodeIfPresent("nothing", as: String.self) == nil)
        #expect(try row.decode("third_is_null", as: Bool.self))
    }

    @Test("a NUL byte is refused cleanly before reaching the server, and the connection stays usable")
    func nulByte() throws {
        let database = try connect()
        let value = "bad\u{0}value"
        let error = #expect(throws: PostgresError.self) { try database.query("SELECT \(value)::text AS v") }
        #expect(error?.kind == .invalidBind)
        #expect(try database.query("SELECT 1 AS one").first!.decode("one", as: Int.self) == 1)
    }

    @Test("server errors carry SQLSTATE and classification; a failed transaction rolls back")
    func serverErrors() throws {
        let database = try connect()
        try database.execute(script: "CREATE TEMP TABLE t (id int PRIMARY KEY)")
        let error = #expect(throws: PostgresError.self) {
            try database.transaction { db in
                try db.query("INSERT INTO t VALUES (\(1))")
                try db.query("INSERT INTO t VALUES (\(1))")
            }
        }
        #expect(error?.sqlState == "23505")
        #expect(error?.isTransient == false)
        #expect(try database.query("SELECT count(*) AS n FROM t").first!.decode("n", as: Int.self) == 0)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
