/// The rows of one result, decoded from libpq's text format.
public struct PostgresRows: Sendable, Sequence {
    public let columns: [String]
    let cells: [[String?]]
    /// Rows affected for INSERT/UPDATE/DELETE without RETURNING.
    public let affectedRows: Int

    public var count: Int { cells.count }
    public var first: PostgresRow? { cells.first.map { PostgresRow(columns: columns, values: $0) } }
    public subscript(index: Int) -> PostgresRow { PostgresRow(columns: columns, values: cells[index]) }

    public func makeIterator() -> some IteratorProtocol<PostgresRow> {
        let columns = self.columns
        return cells.lazy.map { PostgresRow(columns: columns, values: $0) }.makeIterator()
    }
}

public struct PostgresRow: Sendable {
    let columns: [String]
    let values: [String?]

    private func index(of column: String) throws -> Int {
        guard let index = columns.firstIndex(of: column) else {
            throw PostgresError(kind: .decoding, serverMessage: "no column named \(column)")
        }
        return index
    }

    /// The column's value; throws when it is NULL or does not parse as `T`.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresError(kind: .decoding, serverMessage: "column \(column) is NULL, expected \(T.self)")
        }
        return value
    }

    /// The column's value, nil for SQL NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let text = values[try index(of: column)] else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(kind: .decoding, serverMessage: "column \(column) does not decode as \(T.self)")
        }
        return value
    }
}
