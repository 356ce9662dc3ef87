import Foundation
import Shared
import Testing

/// The processing loop when the database refuses one message's writes, and its housekeeping of dedupe keys.
@Suite("Runtime: isolation and retention", .serialized)
struct RuntimeIsolationTests {
    @Test("a write the database refuses for one message (outside the handler) dead-letters that message only; the batch does not retry forever")
    func permanentDatabaseErrorIsolatesTheMessage() throws {
        let rig = try PipelineRig(partitions: 1)
        // The audit row of one order is refused, as a broken value would be: a permanent error (SQLSTATE P0001).
        try rig.database.execute(script: """
            CREATE FUNCTION capture.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.subject = 'POISON-1' THEN RAISE EXCEPTION 'poisoned audit row for %', NEW.subject; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT ON capture.audit_trail FOR EACH ROW EXECUTE FUNCTION capture.refuse_poison();
            """)
        let capture = try rig.start("oms-capture", name: "isolation-capture", ["OMS_BATCH_SIZE": "50", "OMS_RETRY_MAX_ATTEMPTS": "0"])
        let alerting = try rig.start("oms-alerting", name: "isolation-alerting")
        var messages: [OutgoingMessage] = []
        let poison = BergUndBeutelOrders.orderCreated(index: 99, orderID: "POISON-1")
        for index in 0..<20 {
            messages.append(BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: index, orderID: "ISO-\(index)")))
            if index == 9 { messages.append(BergUndBeutelOrders.message(poison)) }
        }
        try rig.producer.publish(messages)
        try eventually(timeout: 60, "20 orders stored and one dead letter") {
            let orders = try rig.database.query("SELECT count(*) AS n FROM capture.orders WHERE order_id LIKE 'ISO-%'").first!.decode("n", as: Int.self)
            let letters = try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters").first!.decode("n", as: Int.self)
            return orders == 20 && letters >= 1
        }
        let letter = try rig.database.query("SELECT stage, error_class, reason, original_event_id FROM alerting.dead_letters").first!
        #expect(try letter.decode("error_class", as: String.self) == "database-rejected")
        #expect(try letter.decode("reason", as: String.self).contains("poisoned audit row for POISON-1"))
        // Nothing of the refused message was kept: no order row, no dedupe key (so a fixed copy can be replayed).
        #expect(try rig.database.query("SELECT count(*) AS n FROM capture.orders WHERE order_id = 'POISON-1'").first!.decode("n", as: Int.self) == 0)
        #expect(try rig.database.query("SELECT count(*) AS n FROM capture.processed_messages WHERE idempotency_key = \(poison.id)")
            .first!.decode("n", as: Int.self) == 0)
        #expect(try letter.decode("original_event_id", as: String.self) == poison.id)
        #expect(capture.isRunning)
        #expect(capture.log.contains("committing message by message"))
        #expect(capture.terminate(waitSeconds: 10) == 0)
        #expect(alerting.terminate(waitSeconds: 10) == 0)
    }

    @Test("dedupe keys older than OMS_DEDUPE_RETENTION_DAYS are purged; younger ones stay")
    func dedupeRetention() throws {
        let rig = try PipelineRig(partitions: 1)
        try rig.database.execute(script: """
            INSERT INTO capture.processed_messages (consumer_group, idempotency_key, processed_at)
            SELECT 'oms-capture', 'old-' || g, now() - interval '40 days' FROM generate_series(1, 12000) g;
            INSERT INTO capture.processed_messages (consumer_group, idempotency_key, processed_at)
            SELECT 'oms-capture', 'recent-' || g, now() - interval '20 days' FROM generate_series(1, 10) g;
            """)
        let capture = try rig.start("oms-capture", name: "retention-capture", ["OMS_DEDUPE_RETENTION_DAYS": "30"])
        try eventually(timeout: 30, "old dedupe keys purged") {
            try rig.database.query("SELECT count(*) AS n FROM capture.processed_messages WHERE idempotency_key LIKE 'old-%'")
                .first!.decode("n", as: Int.self) == 0
        }
        #expect(try rig.database.query("SELECT count(*) AS n FROM capture.processed_messages WHERE idempotency_key LIKE 'recent-%'")
            .first!.decode("n", as: Int.self) == 10)
        #expect(capture.log.contains("purged old dedupe keys"))
        #expect(capture.terminate(waitSeconds: 10) == 0)
    }
}
