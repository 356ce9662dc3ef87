import Foundation

/// One event waiting in a stage's outbox table to be published.
struct OutboxRow: Sendable {
    var id: Int64 = 0
    let eventID: String
    let topic: String
    let key: [UInt8]?
    let payload: [UInt8]
    /// Header values may quote input; they are kept as text every consumer and
    /// the jsonb column can store (no U+0000), here once for every kind of row.
    let headers: [(String, String)]

    init(eventID: String, topic: String, key: [UInt8]?, payload: [UInt8], headers: [(String, String)]) {
        self.eventID = eventID
        self.topic = topic
        self.key = key
        self.payload = payload
        self.headers = headers.map { ($0.0.storable, $0.1.storable) }
    }

    var message: OutgoingMessage {
        OutgoingMessage(topic: topic, key: key, value: payload, headers: headers.map { ($0.0, Array($0.1.utf8)) })
    }
}

/// Reads and writes `<schema>.outbox`. Every statement is set-based: one
/// round trip per batch, whatever the batch size.
struct OutboxStore {
    let schema: String

    /// Inserts the rows (an event id already present is skipped) and returns the new ones with their ids.
    func insert(_ rows: [OutboxRow], database: PostgresConnection) throws -> [OutboxRow] {
        guard !rows.isEmpty else { return [] }
        let headersJSON = rows.map { row in
            JSONValue.object(Dictionary(row.headers.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { $1 })).serializedString
        }
        let result = try database.query("""
            INSERT INTO \(unescaped: schema).outbox (event_id, topic, message_key, payload, headers)
            SELECT * FROM unnest(\(rows.map(\.eventID))::text[], \(rows.map(\.topic))::text[],
                                 \(rows.map { $0.key.map { Data($0) } })::bytea[], \(rows.map { Data($0.payload) })::bytea[],
                                 \(headersJSON)::jsonb[])
            ON CONFLICT (event_id) DO NOTHING
            RETURNING id, event_id
            """)
        var idsByEvent: [String: Int64] = [:]
        for row in result { idsByEvent[try row.decode("event_id")] = try row.decode("id") }
        return rows.compactMap { row in
            guard let id = idsByEvent[row.eventID] else { return nil }
            var stored = row
            stored.id = id
            return stored
        }
    }

    /// Removes rows whose delivery the broker confirmed. Deleted, not marked sent: marking rewrote the
    /// whole row (payload included) and its index entries for a row nobody reads again — the event is on its
    /// topic. A duplicate that a crash between publish and this delete causes is republished with the same
    /// event id, which consumers deduplicate.
    func removePublished(_ ids: [Int64], database: PostgresConnection) throws {
        guard !ids.isEmpty else { return }
        try database.query("DELETE FROM \(unescaped: schema).outbox WHERE id = ANY(\(ids)::bigint[])")
    }

    /// Unsent rows older than `minimumAgeSeconds`, locked so that two relays do not take the same rows.
    func lockUnsent(olderThanSeconds minimumAgeSeconds: Int, limit: Int, database: PostgresConnection) throws -> [OutboxRow] {
        let rows = try database.query("""
            SELECT id, event_id, topic, message_key, payload, headers::text AS headers
            FROM \(unescaped: schema).outbox
            WHERE sent_at IS NULL AND created_at <= now() - make_interval(secs => \(minimumAgeSeconds))
            ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """)
        return try rows.map { row in
            let headers = (try? JSONParser.parse(try row.decode("headers", as: String.self)))?.objectValue ?? [:]
            var outbox = OutboxRow(
                eventID: try row.decode("event_id"), topic: try row.decode("topic"),
                key: try row.decodeIfPresent("message_key", as: Data.self).map { Array($0) },
                payload: Array(try row.decode("payload", as: Data.self)),
                headers: headers.keys.sorted().map { ($0, headers[$0]?.stringValue ?? "") })
            outbox.id = try row.decode("id")
            return outbox
        }
    }
}
