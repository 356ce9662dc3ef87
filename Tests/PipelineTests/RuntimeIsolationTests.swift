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

    @Test("taken apart message by message, a serialization failure is still transient: the message is retried, not dead-lettered")
    func transientStaysTransientWhenIsolated() throws {
        let rig = try PipelineRig(partitions: 1)
        // POISON-2's audit row is refused for good; FLAKY-2's fails twice with SQLSTATE 40001 (a
        // sequence counts, since it is not rolled back), as a conflicting transaction would make it.
        try rig.database.execute(script: """
            CREATE SEQUENCE capture.flaky_tries;
            CREATE FUNCTION capture.refuse_some() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.subject = 'POISON-2' THEN RAISE EXCEPTION 'poisoned audit row for %', NEW.subject; END IF;
                IF NEW.subject = 'FLAKY-2' AND nextval('capture.flaky_tries') <= 2 THEN
                    RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_some BEFORE INSERT ON capture.audit_trail FOR EACH ROW EXECUTE FUNCTION capture.refuse_some();
            """)
        let capture = try rig.start("oms-capture", name: "transient-capture", ["OMS_BATCH_SIZE": "50", "OMS_RETRY_MAX_ATTEMPTS": "0"])
        let alerting = try rig.start("oms-alerting", name: "transient-alerting")
        let poison = BergUndBeutelOrders.orderCreated(index: 98, orderID: "POISON-2")
        let flaky = BergUndBeutelOrders.orderCreated(index: 97, orderID: "FLAKY-2")
        try rig.producer.publish([BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: 1, orderID: "OK-1")),
                                  BergUndBeutelOrders.message(poison), BergUndBeutelOrders.message(flaky),
                                  BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: 2, orderID: "OK-2"))])
        try eventually(timeout: 60, "FLAKY-2 and the two others stored, POISON-2 dead-lettered") {
            let orders = try rig.database.query("SELECT count(*) AS n FROM capture.orders WHERE order_id IN ('OK-1', 'OK-2', 'FLAKY-2')")
                .first!.decode("n", as: Int.self)
            let letters = try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters").first!.decode("n", as: Int.self)
            return orders == 3 && letters >= 1
        }
        Thread.sleep(forTimeInterval: 1)
        let letters = try rig.database.query("SELECT original_event_id, error_class FROM alerting.dead_letters")
        #expect(letters.count == 1)
        #expect(try letters.first?.decode("original_event_id", as: String.self) == poison.id)
        #expect(try rig.database.query("SELECT last_value FROM capture.flaky_tries").first!.decode("last_value", as: Int64.self) >= 3)
        #expect(capture.isRunning)
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

    @Test("a worker that cannot finish its batch after SIGTERM (a lock held elsewhere) says what it was doing and exits at its deadline; nothing is lost")
    func shutdownDeadline() throws {
        let rig = try PipelineRig(partitions: 1)
        let capture = try rig.start("oms-capture", name: "deadline-capture", ["OMS_SHUTDOWN_TIMEOUT_SECONDS": "3"])
        try rig.producer.publish([BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: 1, orderID: "DL-0"))])
        try eventually(timeout: 60, "the first order stored") {
            try rig.database.query("SELECT count(*) AS n FROM capture.orders WHERE order_id = 'DL-0'").first!.decode("n", as: Int.self) == 1
        }
        // Another session holds the orders table: the next batch waits inside its transaction, and SIGTERM cannot finish it.
        let locker = try PostgresConnection(url: rig.databaseURL, logger: TestEnvironment.logger)
        try locker.execute(script: "BEGIN; LOCK TABLE capture.orders IN ACCESS EXCLUSIVE MODE")
        try rig.producer.publish([BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: 2, orderID: "DL-1"))])
        try eventually(timeout: 30, "the worker waiting on the lock") {
            try rig.database.query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND relation = 'capture.orders'::regclass").first!.decode("n", as: Int.self) >= 1
        }
        let stopAsked = Date()
        kill(capture.pid, SIGTERM)
        let status = capture.waitForExit(timeoutSeconds: 20)
        #expect(status == 3, "exit status \(String(describing: status))")
        #expect(Date().timeIntervalSince(stopAsked) < 10)
        #expect(capture.log.contains("shutdown did not finish within the deadline"), "\(capture.log.suffix(600))")
        try locker.execute(script: "ROLLBACK")
        // The batch was rolled back and its offset not committed: the next copy stores the order, once.
        let again = try rig.start("oms-capture", name: "deadline-capture-2")
        defer { _ = again.terminate(waitSeconds: 10) }
        try eventually(timeout: 60, "the second order stored by the next copy") {
            try rig.database.query("SELECT count(*) AS n FROM capture.orders WHERE order_id = 'DL-1'").first!.decode("n", as: Int.self) == 1
        }
    }
}
