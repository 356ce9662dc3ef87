import Foundation
import Shared

/// Stores every dead letter and its alert row in one transaction per batch.
struct AlertingHandler: StageHandler {
    let definition = StageDefinition(name: "alerting", schema: "alerting", consumerGroup: "oms-alerting",
                                     topics: [Topic.omsDLQ], deadLetterTopic: nil)
    let deduplication: AlertDeduplication

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<DeadLetter> {
        let letter = DeadLetter(message)
        return DecodedMessage(idempotencyKey: letter.dlqID, correlationID: letter.originalEventID ?? letter.dlqID, input: letter)
    }

    func apply(_ batch: [DecodedMessage<DeadLetter>], database: PostgresConnection) throws -> [MessageOutcome] {
        let letters = batch.map(\.input)
        guard !letters.isEmpty else { return [] }
        let inserted = try database.query("""
            INSERT INTO alerting.dead_letters (dlq_id, stage, error_class, reason, attempts, original_topic,
                original_partition, original_offset, original_event_id, message_key, payload, failed_at, replayable)
            SELECT d, s, c, r, a, t, p, o, e, k, v, f::timestamptz, rp
            FROM unnest(\(letters.map(\.dlqID))::text[], \(letters.map(\.stage))::text[], \(letters.map(\.errorClass))::text[],
                        \(letters.map(\.reason))::text[], \(letters.map(\.attempts))::int[], \(letters.map(\.originalTopic))::text[],
                        \(letters.map(\.originalPartition))::int[], \(letters.map(\.originalOffset))::bigint[],
                        \(letters.map(\.originalEventID))::text[], \(letters.map { $0.key.map { Data($0) } })::bytea[],
                        \(letters.map { Data($0.payload) })::bytea[], \(letters.map(\.failedAt))::text[],
                        \(letters.map(\.replayable))::boolean[])
                 AS u(d, s, c, r, a, t, p, o, e, k, v, f, rp)
            ON CONFLICT (dlq_id) DO NOTHING
            RETURNING id, dlq_id
            """)
        var idByDLQ: [String: Int64] = [:]
        for row in inserted { idByDLQ[try row.decode("dlq_id")] = try row.decode("id") }
        let fresh = letters.filter { idByDLQ[$0.dlqID] != nil }
        if !fresh.isEmpty {
            // Serialize alert decisions across alerting copies so the window holds.
            try database.query("SELECT pg_advisory_xact_lock(\(Int64(0x616C_6572_7473)))")
            var lastNotified: [String: Date] = [:]
            for row in try database.query("""
                SELECT stage, error_class, max(raised_at) AS last FROM alerting.alerts
                WHERE notified AND raised_at > now() - make_interval(secs => \(deduplication.windowSeconds))
                GROUP BY stage, error_class
                """) {
                lastNotified[AlertDeduplication.key(stage: try row.decode("stage"), errorClass: try row.decode("error_class"))] =
                    try row.decode("last")
            }
            let notify = deduplication.decide(fresh, now: Date(), lastNotified: lastNotified)
            try database.query("""
                INSERT INTO alerting.alerts (dead_letter_id, stage, error_class, notified, webhook_status)
                SELECT * FROM unnest(\(fresh.map { idByDLQ[$0.dlqID]! })::bigint[], \(fresh.map(\.stage))::text[],
                                     \(fresh.map(\.errorClass))::text[], \(notify)::boolean[],
                                     \(notify.map { $0 ? "pending" : "logged" })::text[])
                """)
        }
        return letters.map { letter in
            .processed(emit: [], audit: [
                AuditRecord(subject: letter.originalEventID ?? letter.dlqID, action: "DeadLetter.Stored", actor: "oms-alerting",
                            reason: "\(letter.stage)/\(letter.errorClass): \(letter.reason.prefix(500))")
            ])
        }
    }
}

extension AlertingHandler: PersonalDataHolder {
    /// Dead letters about the customer's orders keep their reason and position but lose the person's data in their payload.
    func erasePersonalData(_ erasure: ErasureOrder, database: PostgresConnection) throws -> (rows: Int, retained: String?) {
        var eraser = try PersonalDataStore(database: database)
        try eraser.scrubBytes("alerting.dead_letters", "payload", key: "t.message_key", keyIsBytes: true, in: erasure.keys)
        try eraser.eraseRuntimeCopies(schema: "alerting", keys: erasure.keys)
        return (eraser.rows, nil)
    }
}
