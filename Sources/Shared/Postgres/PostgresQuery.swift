import Foundation

/// A SQL statement whose interpolated values become `$1…$n` bind parameters.
///
///     let query: PostgresQuery = "SELECT * FROM capture.orders WHERE order_id = \(orderId)"
///
/// Values are never spliced into the SQL text. `\(unescaped: name)` is for
/// trusted identifiers (schema names from code), never for data.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation {
    public private(set) var sql: String
    public private(set) var binds: [String?]
    /// Set when a value could not be encoded; raised when the query runs.
    public private(set) var bindError: PostgresError?

    public init(unsafeSQL sql: String, binds: [String?] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
        self.bindError = stringInterpolation.bindError
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []
        var bindError: PostgresError?

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 4)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            bind(value.postgresText)
        }

        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            bind(value?.postgresText)
        }

        /// A trusted SQL fragment such as a schema name chosen by code.
        public mutating func appendInterpolation(unescaped fragment: String) { sql += fragment }

        private mutating func bind(_ text: String?) {
            if var text, text.withUTF8({ $0.count > 0 && memchr($0.baseAddress!, 0, $0.count) != nil }) {
                bindError = PostgresError(
                    kind: .invalidBind, serverMessage: "bind $\(binds.count + 1) contains a NUL byte, which PostgreSQL text cannot hold")
            }
            binds.append(text)
            sql += "$\(binds.count)"
        }
    }
}
