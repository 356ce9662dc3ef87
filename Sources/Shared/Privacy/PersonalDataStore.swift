import Foundation

/// The writes of an erasure, shared by every stage's store: each stage names its own tables and columns, this applies
/// the erasure rule (`PersonalData`) to them inside the stage's transaction and counts the rows it touched.
public struct PersonalDataStore {
    let database: PostgresConnection
    public private(set) var rows = 0

    /// Opens the erasure exception of the append-only tables for this transaction only.
    public init(database: PostgresConnection) throws {
        self.database = database
        try database.query("SET LOCAL oms.erasure = 'on'")
    }

    /// Scrubs the JSON column `column` (type `json` or `jsonb`) of the rows of `table` whose `key` (a column or an SQL
    /// expression over the row) is one of `keys`.
    public mutating func scrubJSON(_ table: String, _ column: String, type: String = "json", key: String, in keys: [String]) throws {
        guard !keys.isEmpty else { return }
        let found = try database.query("""
            SELECT ctid::text AS row_id, \(unescaped: column)::text AS value FROM \(unescaped: table) t
            WHERE \(unescaped: key) = ANY(\(keys)::text[]) AND \(unescaped: column) IS NOT NULL FOR UPDATE
            """)
        var ids: [String] = [], values: [String] = []
        for row in found {
            let text: String = try row.decode("value")
            let scrubbed = PersonalData.scrub(json: text) ?? "{}"
            if scrubbed != text { ids.append(try row.decode("row_id")); values.append(scrubbed) }
        }
        guard !ids.isEmpty else { return }
        try database.query("""
            UPDATE \(unescaped: table) t SET \(unescaped: column) = u.v::\(unescaped: type)
            FROM unnest(\(ids)::tid[], \(values)::text[]) AS u(id, v) WHERE t.ctid = u.id
            """)
        rows += ids.count
    }

    /// Scrubs a `bytea` column holding JSON (event bodies, payloads); what is not JSON is emptied. `keyIsBytes`: the key
    /// column is `bytea` (a Kafka message key, which need not be UTF-8) and is compared as bytes. `orMentioning`: also
    /// the rows whose JSON names one of the keys as a string value (an event about a wave that lists the order).
    public mutating func scrubBytes(_ table: String, _ column: String, key: String, keyIsBytes: Bool = false, in keys: [String],
                                    orMentioning: Bool = false) throws {
        guard !keys.isEmpty else { return }
        let found = orMentioning
            ? try database.query("""
                SELECT ctid::text AS row_id, \(unescaped: column) AS value FROM \(unescaped: table) t
                WHERE \(unescaped: column) IS NOT NULL AND (\(unescaped: key) = ANY(\(keys)::text[])
                   OR EXISTS (SELECT 1 FROM unnest(\(keys)::text[]) AS k WHERE position(convert_to('"' || k || '"', 'UTF8') IN t.\(unescaped: column)) > 0))
                FOR UPDATE
                """)
            : keyIsBytes
            ? try database.query("""
                SELECT ctid::text AS row_id, \(unescaped: column) AS value FROM \(unescaped: table) t
                WHERE \(unescaped: key) = ANY(ARRAY(SELECT convert_to(k, 'UTF8') FROM unnest(\(keys)::text[]) AS k))
                  AND \(unescaped: column) IS NOT NULL FOR UPDATE
                """)
            : try database.query("""
                SELECT ctid::text AS row_id, \(unescaped: column) AS value FROM \(unescaped: table) t
                WHERE \(unescaped: key) = ANY(\(keys)::text[]) AND \(unescaped: column) IS NOT NULL FOR UPDATE
                """)
        var ids: [String] = [], values: [Data] = []
        for row in found {
            let bytes = Array(try row.decode("value", as: Data.self))
            let scrubbed = PersonalData.scrub(bytes: bytes) ?? []
            if scrubbed != bytes { ids.append(try row.decode("row_id")); values.append(Data(scrubbed)) }
        }
        guard !ids.isEmpty else { return }
        try database.query("""
            UPDATE \(unescaped: table) t SET \(unescaped: column) = u.v FROM unnest(\(ids)::tid[], \(values)::bytea[]) AS u(id, v) WHERE t.ctid = u.id
            """)
        rows += ids.count
    }

    /// Replaces text columns by the erasure marker (NULL stays NULL).
    public mutating func mark(_ table: String, columns: [String], key: String, in keys: [String]) throws {
        guard !keys.isEmpty, !columns.isEmpty else { return }
        let assignments = columns.map { "\($0) = CASE WHEN \($0) IS NULL THEN NULL ELSE '\(PersonalData.marker)' END" }.joined(separator: ", ")
        rows += try database.query("""
            UPDATE \(unescaped: table) t SET \(unescaped: assignments) WHERE \(unescaped: key) = ANY(\(keys)::text[])
              AND (\(unescaped: columns.map { "\($0) IS DISTINCT FROM '\(PersonalData.marker)'" }.joined(separator: " OR ")))
            RETURNING 1
            """).count
    }

    /// Sets columns to NULL (derived keys, rendered documents that can be rendered again from erased data).
    public mutating func clear(_ table: String, columns: [String], key: String, in keys: [String]) throws {
        guard !keys.isEmpty, !columns.isEmpty else { return }
        rows += try database.query("""
            UPDATE \(unescaped: table) t SET \(unescaped: columns.map { "\($0) = NULL" }.joined(separator: ", "))
            WHERE \(unescaped: key) = ANY(\(keys)::text[]) AND (\(unescaped: columns.map { "\($0) IS NOT NULL" }.joined(separator: " OR ")))
            RETURNING 1
            """).count
    }

    /// Deletes rows (copies that exist only to be sent or printed once).
    public mutating func delete(_ table: String, key: String, in keys: [String], also condition: String = "true") throws {
        guard !keys.isEmpty else { return }
        rows += try database.query("""
            DELETE FROM \(unescaped: table) t WHERE \(unescaped: key) = ANY(\(keys)::text[]) AND \(unescaped: condition) RETURNING 1
            """).count
    }

    /// The runtime's copies in a stage's schema: audit details are scrubbed. The outbox holds only events not yet
    /// published (a row is deleted once the broker confirmed it), which are left to go out.
    public mutating func eraseRuntimeCopies(schema: String, keys: [String]) throws {
        guard !keys.isEmpty else { return }
        try scrubJSON("\(schema).audit_trail", "details", type: "jsonb", key: "t.subject", in: keys)
    }
}
