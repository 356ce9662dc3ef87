import Foundation
import Logging
import Metrics

/// The processing loop of SPEC §3, written once for every stage:
///
/// poll a batch → decode and validate each message in memory → ONE transaction
/// (dedupe rows, the handler's state changes, audit rows, outbox rows incl.
/// dead letters) → publish the outbox and await delivery → commit offsets.
///
/// It runs on a thread of its own because libpq and librdkafka block.
public final class StageWorker<Handler: StageHandler> {
    private let handler: Handler
    private let settings: WorkerSettings
    private let logger: Logger
    private let health: WorkerHealth
    private let stop: StopSignal
    private let metrics: StageMetrics
    private let backoff: Backoff
    private let outbox: OutboxStore
    private var definition: StageDefinition { handler.definition }

    private var database: PostgresConnection?
    private var producer: KafkaProducer?
    private var consumer: KafkaConsumer?
    /// Outbox rows published after their transaction; deleted in the next one.
    private var publishedNotRemoved: [Int64] = []
    private var lastRelay = Date.distantPast
    private var lastHousekeeping = Date.distantPast
    private var lastDedupePurge = Date.distantPast

    public init(handler: Handler, settings: WorkerSettings, logger: Logger, health: WorkerHealth, stop: StopSignal) {
        self.handler = handler
        self.settings = settings
        self.logger = logger
        self.health = health
        self.stop = stop
        self.metrics = StageMetrics(stage: handler.definition.name)
        self.backoff = Backoff(baseMillis: settings.retryBaseMillis, capMillis: settings.retryCapMillis)
        self.outbox = OutboxStore(schema: handler.definition.schema)
    }

    /// Runs until `stop` is requested; then finishes the current batch, commits
    /// and leaves the consumer group.
    public func run() throws {
        try connectWithRetry()
        let consumer = try KafkaConsumer(configuration: settings.kafka, groupID: definition.consumerGroup,
                                         topics: definition.topics, logger: logger)
        self.consumer = consumer
        relayOutbox(minimumAgeSeconds: 0)
        health.markReady()
        SystemdNotifier.notify("READY=1")
        logger.info("worker started", metadata: ["topics": "\(definition.topics)", "group": "\(definition.consumerGroup)"])
        while !stop.isRequested {
            health.beat(status: "polling")
            let messages = consumer.poll(maxMessages: settings.batchSize, timeoutMillis: 100)
            if messages.isEmpty {
                idleHousekeeping()
                continue
            }
            process(messages)
            updateLag()
            if Date().timeIntervalSince(lastHousekeeping) >= Double(settings.housekeepingSeconds) { runHousekeeping() }
        }
        SystemdNotifier.notify("STOPPING=1")
        health.beat(status: "stopping: removing published events from the outbox")
        logger.info("stopping: removing published events from the outbox and leaving the group")
        removePublishedNow()
        health.beat(status: "leaving the consumer group")
        if !consumer.close(abandon: brokerWaitIsOver) {
            logger.warning("left without saying so: the broker did not answer; the group reassigns the partitions after its session timeout",
                           metadata: ["waited_seconds": "\(settings.shutdownBrokerWaitSeconds)"])
        }
    }

    /// Asked by every blocking broker call: once a stop is older than
    /// OMS_SHUTDOWN_BROKER_WAIT_SECONDS the call gives up, so that a broker outage
    /// does not hold a stop until systemd kills the unit. What it waited for is
    /// not lost: unconfirmed events stay unsent in the outbox, uncommitted offsets
    /// are delivered again.
    private var brokerWaitIsOver: () -> Bool {
        { [stop, settings] in stop.requestedLongerAgo(thanSeconds: settings.shutdownBrokerWaitSeconds) }
    }

    private func connectWithRetry() throws {
        var attempt = 0
        while !stop.isRequested {
            do {
                database = try PostgresConnection(url: settings.databaseURL, applicationName: "oms-\(definition.name)", logger: logger)
                producer = try KafkaProducer(configuration: settings.kafka, logger: logger)
                if let database {
                    do { try database.transaction { try RuleFileLog.store(stage: definition.name, database: $0) } } catch {
                        logger.warning("could not record the rule files loaded", metadata: ["error": "\(Self.describe(error))"])
                    }
                }
                return
            } catch let error as PostgresError where error.isTransient {
                attempt += 1
                let delay = backoff.delayMillis(attempt: attempt)
                logger.warning("database not reachable, retrying", metadata: ["error": "\(error.debugDescription)", "delay_ms": "\(delay)"])
                health.beat(status: "waiting for database")
                stop.sleep(millis: max(delay, 100))
            }
        }
        throw CancellationError()
    }

    // MARK: - One batch

    private func process(_ initial: [ConsumedMessage]) {
        var messages = initial
        var attempt = 0
        let started = DispatchTime.now()
        metrics.consumed.increment(by: messages.count)
        // Progress survives a retry: a committed transaction is not run again,
        // a completed publish is not repeated.
        var committed: [OutboxRow]?
        var published = false
        // After a failure that is not transient, the next try takes one message at a
        // time end to end (dedupe row, apply, audit, outbox), so that a message whose
        // writes the database refuses is dead-lettered instead of retried forever.
        var permanentFailureSeen = false
        while !messages.isEmpty {
            do {
                let mode: IsolationMode = permanentFailureSeen ? .afterPermanentFailure
                    : settings.maximumAttempts > 0 && attempt >= settings.maximumAttempts ? .afterRepeatedTransientFailures : .none
                var phase = DispatchTime.now()
                var timings: [String: Double] = [:]
                func lap(_ name: String) {
                    let now = DispatchTime.now()
                    timings[name] = Double(now.uptimeNanoseconds - phase.uptimeNanoseconds) / 1e6
                    phase = now
                }
                if committed == nil {
                    committed = try commitBatch(messages, mode: mode, lap: lap)
                }
                if !published {
                    try publish(committed!)
                    published = true
                    lap("publish_ms")
                }
                try commitOffsets(of: messages)
                lap("offsets_ms")
                if attempt > 0 {
                    logger.info("recovered after retries", metadata: ["attempts": "\(attempt + 1)"])
                }
                logger.debug("batch done", metadata: ["messages": "\(messages.count)"].merging(
                    timings.mapValues { .string(String(format: "%.1f", $0)) }) { $1 })
                metrics.batchDuration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds))
                return
            } catch {
                if stop.isRequested, let kafkaError = error as? KafkaError, kafkaError.code == KafkaError.purged {
                    logger.notice("stopping with the batch unconfirmed by the broker; it is delivered again",
                                  metadata: ["error": "\(kafkaError.debugDescription)", "messages": "\(messages.count)"])
                    return
                }
                attempt += 1
                metrics.retried.increment()
                if committed == nil && !Self.isTransient(error) { permanentFailureSeen = true }
                let delay = backoff.delayMillis(attempt: attempt)
                logger.warning("batch failed, will retry", metadata: [
                    "error": "\(Self.describe(error))", "attempt": "\(attempt)", "delay_ms": "\(delay)",
                    "messages": "\(messages.count)",
                ])
                health.beat(status: "retrying after \(Self.describe(error))")
                if let kafkaError = error as? KafkaError, kafkaError.isFatal { rebuildProducer() }
                let before = messages.count
                messages = waitBeforeRetry(millis: delay, holding: messages)
                if messages.count != before {
                    // The held set changed (revocation or new messages): start this batch over;
                    // what was already committed is caught by deduplication.
                    committed = nil
                    published = false
                }
                if stop.isRequested {
                    // Offsets not committed: these messages are re-delivered to whoever owns the partitions next.
                    return
                }
            }
        }
    }

    /// Sleeps with the partitions paused while still serving the consumer
    /// group; drops held messages whose partition was revoked meanwhile.
    private func waitBeforeRetry(millis: Int, holding messages: [ConsumedMessage]) -> [ConsumedMessage] {
        guard let consumer else { return messages }
        var remaining = max(millis, 10)
        var extra: [ConsumedMessage] = []
        while remaining > 0 && !stop.isRequested {
            consumer.pause(consumer.assignment)
            let slice = min(remaining, 200)
            extra += consumer.poll(maxMessages: 1000, timeoutMillis: Int32(slice))
            remaining -= slice
            health.beat(status: "backing off")
        }
        // Paused only while waiting: the retry (or, if nothing is held any more,
        // the normal loop) needs its partitions flowing again.
        consumer.resume(consumer.assignment)
        let kept = (messages + extra).filter { consumer.isAssigned($0.topicPartition) }
        if kept.count < messages.count + extra.count {
            logger.info("partitions revoked during backoff; dropping their in-flight messages",
                        metadata: ["dropped": "\(messages.count + extra.count - kept.count)"])
        }
        // Re-delivered duplicates of what we still hold are harmless (dedupe) but wasteful.
        var seen = Set<String>()
        return kept.filter { seen.insert("\($0.topic)/\($0.partition)/\($0.offset)").inserted }
    }

    private struct DecodedEntry {
        let message: ConsumedMessage
        let decoded: DecodedMessage<Handler.Input>
    }

    /// The transaction. Returns the outbox rows it wrote (to publish).
    /// How a batch is taken apart when it cannot be committed whole.
    enum IsolationMode {
        case none
        /// Every message end to end in its own savepoint; transient errors retry the batch.
        case afterPermanentFailure
        /// Every message in its own savepoint, retried a few times there; one that keeps
        /// failing (e.g. repeated deadlocks) is dead-lettered.
        case afterRepeatedTransientFailures
    }

    private func commitBatch(_ messages: [ConsumedMessage], mode: IsolationMode, lap: (String) -> Void) throws -> [OutboxRow] {
        guard let database else { throw PostgresError(kind: .connection, serverMessage: "not connected") }
        var deadLetters: [(ConsumedMessage, PermanentFailure, String?)] = []
        var entries: [DecodedEntry] = []
        var seenKeys = Set<String>()
        var inBatchDuplicates = 0, skipped = 0
        for message in messages {
            do {
                let decoded = try handler.decode(message)
                if decoded.isSkipped {
                    skipped += 1
                } else if seenKeys.insert(decoded.idempotencyKey).inserted {
                    entries.append(DecodedEntry(message: message, decoded: decoded))
                } else {
                    inBatchDuplicates += 1
                }
            } catch {
                deadLetters.append((message, error, nil))
            }
        }
        lap("decode_ms")

        let result: (rows: [OutboxRow], processed: Int, duplicates: Int, dead: Int) = try database.transaction { db in
            try outbox.removePublished(publishedNotRemoved, database: db)
            if mode != .none {
                return try commitOneByOne(entries, decodeFailures: deadLetters, mode: mode, db: db)
            }
            let keys = entries.map(\.decoded.idempotencyKey)
            var fresh = Set<String>()
            if !keys.isEmpty {
                let inserted = try db.query("""
                    INSERT INTO \(unescaped: definition.schema).processed_messages (consumer_group, idempotency_key)
                    SELECT \(definition.consumerGroup)::text, unnest(\(keys)::text[])
                    ON CONFLICT DO NOTHING RETURNING idempotency_key
                    """)
                for row in inserted { fresh.insert(try row.decode("idempotency_key")) }
            }
            let toApply = entries.filter { fresh.contains($0.decoded.idempotencyKey) }
            lap("dedupe_ms")
            let outcomes = try applyBatchOrIsolate(toApply, db: db)
            lap("apply_ms")

            var rows: [OutboxRow] = []
            var audit: [AuditRecord] = []
            var auditEventIDs: [String] = []
            var rejectedKeys: [String] = []
            var batchDead = deadLetters
            let now = EventTime.format(Date())
            for (entry, outcome) in zip(toApply, outcomes) {
                switch outcome {
                case .processed(let emissions, let records):
                    let inputID = entry.decoded.idempotencyKey
                    rows += outboxRows(emissions, causedBy: inputID, correlationID: entry.decoded.correlationID, time: now)
                    audit += records
                    auditEventIDs += Array(repeating: inputID, count: records.count)
                case .deadLetter(let failure):
                    rejectedKeys.append(entry.decoded.idempotencyKey)
                    batchDead.append((entry.message, failure, entry.decoded.idempotencyKey))
                }
            }
            if !rejectedKeys.isEmpty {
                // A dead letter leaves no trace, so that a fixed message can be replayed under the same id.
                try db.query("""
                    DELETE FROM \(unescaped: definition.schema).processed_messages
                    WHERE consumer_group = \(definition.consumerGroup) AND idempotency_key = ANY(\(rejectedKeys)::text[])
                    """)
            }
            if let deadLetterTopic = definition.deadLetterTopic {
                rows += batchDead.map { deadLetterRow(message: $0.0, failure: $0.1, eventID: $0.2, topic: deadLetterTopic) }
            } else {
                for (message, failure, _) in batchDead {
                    logger.error("message cannot be processed and has no dead-letter topic; skipped", metadata: [
                        "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                        "error": "\(failure)"])
                }
            }
            try insertAudit(audit, eventIDs: auditEventIDs, db: db)
            lap("build_ms")
            let stored = try outbox.insert(rows, database: db)
            lap("outbox_ms")
            return (stored, toApply.count - rejectedKeys.count, entries.count - toApply.count, batchDead.count)
        }
        lap("commit_ms")
        metrics.dbCommits.increment()
        publishedNotRemoved.removeAll()
        metrics.processed.increment(by: result.processed)
        metrics.duplicates.increment(by: result.duplicates + inBatchDuplicates)
        metrics.skipped.increment(by: skipped)
        metrics.deadLettered.increment(by: result.dead)
        if result.dead > 0 {
            logger.warning("dead-lettered messages", metadata: ["count": "\(result.dead)"])
        }
        return result.rows
    }

    private func outboxRows(_ emissions: [Emission], causedBy inputID: String, correlationID: String, time: String) -> [OutboxRow] {
        emissions.enumerated().map { index, emission in
            let event = CloudEvent(
                id: EventID.output(of: inputID, stage: definition.name, index: index),
                source: definition.eventSource, type: emission.type, subject: emission.subject, time: time,
                data: emission.data, correlationID: correlationID, causationID: inputID)
            return OutboxRow(eventID: event.id, topic: emission.topic, key: Array(emission.key.utf8), payload: event.serialized(),
                             headers: [("content-type", CloudEvent.contentType), ("ce_type", emission.type)])
        }
    }

    /// Time-driven changes: one transaction, then publish like a batch.
    private func runHousekeeping() {
        lastHousekeeping = Date()
        guard let database else { return }
        do {
            let rows: [OutboxRow] = try database.transaction { db in
                let changes = try handler.housekeeping(database: db, now: Date())
                guard !changes.isEmpty else { return [] }
                let now = EventTime.format(Date())
                var rows: [OutboxRow] = []
                for change in changes {
                    rows += outboxRows(change.emit, causedBy: change.key, correlationID: change.correlationID, time: now)
                    if let deadLetterTopic = definition.deadLetterTopic {
                        rows += change.deadLetters.enumerated().map {
                            timedDeadLetterRow($0.element, changeKey: change.key, index: $0.offset, topic: deadLetterTopic)
                        }
                    }
                }
                try insertAudit(changes.flatMap(\.audit), eventIDs: changes.flatMap { change in change.audit.map { _ in change.key } }, db: db)
                logger.info("time-driven changes", metadata: ["count": "\(changes.count)"])
                return try outbox.insert(rows, database: db)
            }
            try publish(rows)
        } catch {
            logger.warning("housekeeping failed; will try again", metadata: ["error": "\(Self.describe(error))"])
        }
    }

    /// The fast path: the whole batch through the handler at once. If that
    /// fails for a reason that is not transient, one message at a time, each
    /// in a savepoint, so that one bad message cannot block its neighbours.
    private func applyBatchOrIsolate(_ entries: [DecodedEntry], db: PostgresConnection) throws -> [MessageOutcome] {
        guard !entries.isEmpty else { return [] }
        do {
            return try db.savepoint("oms_batch") { db in
                let outcomes = try handler.apply(entries.map(\.decoded), database: db)
                precondition(outcomes.count == entries.count, "handler must return one outcome per message")
                return outcomes
            }
        } catch where Self.isTransient(error) {
            throw error
        } catch {
            logger.warning("batch apply failed, isolating messages", metadata: ["error": "\(Self.describe(error))"])
            return try applyIsolated(entries, db: db)
        }
    }

    private func applyIsolated(_ entries: [DecodedEntry], db: PostgresConnection) throws -> [MessageOutcome] {
        try entries.map { entry in
            do {
                return try db.savepoint { db in
                    try handler.apply([entry.decoded], database: db).first ?? .deadLetter(.businessRule("handler returned no outcome"))
                }
            } catch where Self.isTransient(error) {
                // A deadlock or serialization failure is no verdict on the message: the batch is retried.
                throw error
            } catch {
                return .deadLetter(Self.permanentFailure(error))
            }
        }
    }

    /// The slow path: each message in its own savepoint with all its writes, so that
    /// whatever the database refuses for one message (a permanent error in its dedupe,
    /// audit or outbox rows) dead-letters that message alone.
    private func commitOneByOne(_ entries: [DecodedEntry], decodeFailures: [(ConsumedMessage, PermanentFailure, String?)],
                                mode: IsolationMode, db: PostgresConnection) throws -> (rows: [OutboxRow], processed: Int, duplicates: Int, dead: Int) {
        logger.warning("committing message by message", metadata: ["messages": "\(entries.count)", "mode": "\(mode)"])
        var rows: [OutboxRow] = []
        var processed = 0, duplicates = 0
        var dead = decodeFailures
        let now = EventTime.format(Date())
        for entry in entries {
            let key = entry.decoded.idempotencyKey
            var tries = 0
            while true {
                tries += 1
                do {
                    let written: [OutboxRow]? = try db.savepoint("oms_isolated") { db -> [OutboxRow]? in
                        let fresh = try db.query("""
                            INSERT INTO \(unescaped: definition.schema).processed_messages (consumer_group, idempotency_key)
                            VALUES (\(definition.consumerGroup), \(key)) ON CONFLICT DO NOTHING RETURNING idempotency_key
                            """)
                        guard fresh.count == 1 else { return nil }
                        let outcome = try handler.apply([entry.decoded], database: db).first
                            ?? .deadLetter(.businessRule("handler returned no outcome"))
                        switch outcome {
                        case .deadLetter(let failure):
                            // Rolls the savepoint back: no dedupe row, so a fixed message can be replayed.
                            throw failure
                        case .processed(let emissions, let records):
                            try insertAudit(records, eventIDs: Array(repeating: key, count: records.count), db: db)
                            return try outbox.insert(outboxRows(emissions, causedBy: key, correlationID: entry.decoded.correlationID, time: now),
                                                     database: db)
                        }
                    }
                    if let written {
                        rows += written
                        processed += 1
                    } else {
                        duplicates += 1
                    }
                } catch let error as PostgresError where error.kind == .connection {
                    throw error
                } catch where Self.isTransient(error) {
                    guard mode == .afterRepeatedTransientFailures else { throw error }
                    if tries < 3 {
                        stop.sleep(millis: backoff.delayMillis(attempt: tries))
                        continue
                    }
                    var failure = Self.permanentFailure(error)
                    failure.attempts = settings.maximumAttempts + tries
                    dead.append((entry.message, failure, key))
                } catch {
                    dead.append((entry.message, Self.permanentFailure(error), key))
                }
                break
            }
        }
        guard let deadLetterTopic = definition.deadLetterTopic else {
            for (message, failure, _) in dead {
                logger.error("message cannot be processed and has no dead-letter topic; skipped", metadata: [
                    "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(failure)"])
            }
            return (rows, processed, duplicates, dead.count)
        }
        for (message, failure, eventID) in dead {
            let letter = deadLetterRow(message: message, failure: failure, eventID: eventID, topic: deadLetterTopic)
            do {
                rows += try db.savepoint("oms_dead_letter") { try outbox.insert([letter], database: $0) }
            } catch let error as PostgresError where error.kind == .connection || error.isTransient {
                throw error
            } catch {
                // Headers and payload are sanitized bytes; if even this is refused, say so loudly rather than block the partition.
                logger.critical("dead letter could not be stored; message skipped", metadata: [
                    "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                    "failure": "\(failure)", "error": "\(Self.describe(error))"])
            }
        }
        return (rows, processed, duplicates, dead.count)
    }

    static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? PostgresError { return error.isTransient }
        if let error = error as? KafkaError { return error.isTransient }
        return false
    }

    static func permanentFailure(_ error: any Error) -> PermanentFailure {
        if let failure = error as? PermanentFailure { return failure }
        if let error = error as? PostgresError {
            return .database("\(error.description): \(error.serverMessage.prefix(300))")
        }
        return .businessRule("\(error)")
    }

    private func insertAudit(_ records: [AuditRecord], eventIDs: [String], db: PostgresConnection) throws {
        guard !records.isEmpty else { return }
        try db.query("""
            INSERT INTO \(unescaped: definition.schema).audit_trail (subject, action, actor, reason, details, event_id)
            SELECT * FROM unnest(\(records.map(\.subject.storable))::text[], \(records.map(\.action.storable))::text[],
                                 \(records.map(\.actor.storable))::text[], \(records.map(\.reason.storable))::text[],
                                 \(records.map(\.details.storableJSON))::jsonb[], \(eventIDs.map(\.storable))::text[])
            """)
    }

    private func deadLetterRow(message: ConsumedMessage, failure: PermanentFailure, eventID: String?, topic: String) -> OutboxRow {
        let id = EventID.deadLetter(topic: message.topic, partition: message.partition, offset: message.offset, stage: definition.name)
        var headers: [(String, String)] = [
            (DeadLetterHeader.id, id),
            (DeadLetterHeader.stage, definition.name),
            (DeadLetterHeader.errorClass, failure.errorClass),
            (DeadLetterHeader.errorMessage, String(failure.reason.prefix(2_000))),
            (DeadLetterHeader.attempts, String(failure.attempts)),
            (DeadLetterHeader.originalTopic, message.topic),
            (DeadLetterHeader.originalPartition, String(message.partition)),
            (DeadLetterHeader.originalOffset, String(message.offset)),
            (DeadLetterHeader.failedAt, EventTime.format(Date())),
        ]
        if let eventID = eventID ?? Self.bestEffortEventID(message.value) {
            headers.append((DeadLetterHeader.originalEventID, String(eventID.prefix(200))))
        }
        return OutboxRow(eventID: id, topic: topic, key: message.key, payload: message.value, headers: headers)
    }

    private func timedDeadLetterRow(_ letter: TimedDeadLetter, changeKey: String, index: Int, topic: String) -> OutboxRow {
        let id = EventID.derived("timed-dead-letter", definition.name, changeKey, String(index))
        var headers: [(String, String)] = [
            (DeadLetterHeader.id, id),
            (DeadLetterHeader.stage, definition.name),
            (DeadLetterHeader.errorClass, letter.failure.errorClass),
            (DeadLetterHeader.errorMessage, String(letter.failure.reason.prefix(2_000))),
            (DeadLetterHeader.attempts, String(letter.failure.attempts)),
            (DeadLetterHeader.originalTopic, letter.originalTopic),
            (DeadLetterHeader.failedAt, EventTime.format(Date())),
            (DeadLetterHeader.replayable, "false"),
        ]
        if let eventID = letter.originalEventID { headers.append((DeadLetterHeader.originalEventID, eventID)) }
        return OutboxRow(eventID: id, topic: topic, key: Array(letter.key.utf8), payload: Array(letter.payload.serializedString.utf8),
                         headers: headers)
    }

    /// The `id` of a message that failed validation, if one can be read at all.
    private static func bestEffortEventID(_ bytes: [UInt8]) -> String? {
        guard bytes.count <= 4_000_000, let document = try? JSONParser.parse(bytes) else { return nil }
        return document["id"]?.stringValue.map { String($0.prefix(200)) }
    }

    // MARK: - After the transaction

    private func publish(_ rows: [OutboxRow]) throws {
        guard !rows.isEmpty, let producer else { return }
        // Each blocking broker call says so first: a stop that hangs (ShutdownDeadline) then names the call.
        health.beat(status: "publishing \(rows.count) events, waiting for delivery reports")
        try producer.publish(rows.map(\.message), abandon: brokerWaitIsOver)
        metrics.published.increment(by: rows.count)
        publishedNotRemoved += rows.map(\.id)
    }

    private func commitOffsets(of messages: [ConsumedMessage]) throws {
        var next: [TopicPartition: Int64] = [:]
        for message in messages {
            next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1)
        }
        health.beat(status: "committing offsets")
        try consumer?.commit(next, abandon: brokerWaitIsOver)
    }

    private func rebuildProducer() {
        logger.error("producer reported a fatal error; rebuilding it")
        producer = nil
        producer = try? KafkaProducer(configuration: settings.kafka, logger: logger)
    }

    // MARK: - Housekeeping

    /// Deletes the last batch's published rows in a transaction of their own, when no next batch comes to
    /// do it (idle, stopping). A failure leaves them for the next try; at worst the relay sends them again.
    private func removePublishedNow() {
        guard let database, !publishedNotRemoved.isEmpty else { return }
        if (try? database.transaction({ try outbox.removePublished(publishedNotRemoved, database: $0) })) != nil {
            metrics.dbCommits.increment()
            publishedNotRemoved.removeAll()
        }
    }

    private func idleHousekeeping() {
        removePublishedNow()
        if Date().timeIntervalSince(lastRelay) > 15 {
            relayOutbox(minimumAgeSeconds: 30)
        }
        if Date().timeIntervalSince(lastHousekeeping) >= Double(settings.housekeepingSeconds) { runHousekeeping() }
        updateLag()
    }

    /// Publishes outbox rows that a crashed run committed but never published.
    private func relayOutbox(minimumAgeSeconds: Int) {
        lastRelay = Date()
        guard let database, let producer else { return }
        do {
            var total = 0
            while true {
                let count = try database.transaction { db -> Int in
                    let rows = try outbox.lockUnsent(olderThanSeconds: minimumAgeSeconds, limit: 1000, database: db)
                    if !rows.isEmpty { health.beat(status: "relaying \(rows.count) unsent outbox events, waiting for delivery reports") }
                    try producer.publish(rows.map(\.message), abandon: brokerWaitIsOver)
                    try outbox.removePublished(rows.map(\.id), database: db)
                    return rows.count
                }
                total += count
                if count < 1000 { break }
            }
            if Date().timeIntervalSince(lastDedupePurge) > 600 { purgeProcessedMessages(database) }
            if total > 0 { logger.notice("relayed unsent outbox events", metadata: ["count": "\(total)"]) }
            metrics.published.increment(by: total)
        } catch {
            logger.warning("outbox relay failed; will try again", metadata: ["error": "\(Self.describe(error))"])
        }
    }

    /// Dedupe keys older than the retention are removed in small transactions, so that
    /// the table does not grow forever and the purge never holds up the batches for long.
    private func purgeProcessedMessages(_ database: PostgresConnection) {
        lastDedupePurge = Date()
        var removed = 0
        do {
            for _ in 0..<20 {
                let count = try database.transaction { db in
                    try db.query("""
                        DELETE FROM \(unescaped: definition.schema).processed_messages WHERE ctid = ANY(ARRAY(
                            SELECT ctid FROM \(unescaped: definition.schema).processed_messages
                            WHERE processed_at < now() - make_interval(days => \(settings.dedupeRetentionDays)) LIMIT 5000))
                        """).affectedRows
                }
                removed += count
                if count < 5000 { break }
            }
            if removed > 0 { logger.info("purged old dedupe keys", metadata: ["count": "\(removed)", "retention_days": "\(settings.dedupeRetentionDays)"]) }
        } catch {
            logger.warning("dedupe purge failed; will try again", metadata: ["error": "\(Self.describe(error))"])
        }
    }

    private func updateLag() {
        guard let consumer else { return }
        metrics.lag.record(consumer.lag().values.reduce(0, +))
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresError { return error.debugDescription }
        if let error = error as? KafkaError { return error.debugDescription }
        return "\(error)"
    }
}
