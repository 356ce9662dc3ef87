import Foundation

/// Who a stage is: its name, its PostgreSQL schema (which holds its
/// processed-messages, outbox and audit tables) and what it consumes.
public struct StageDefinition: Sendable {
    public let name: String
    public let schema: String
    public let consumerGroup: String
    public let topics: [String]
    /// Where messages that can never be processed go; nil for the stage that
    /// consumes the dead-letter topic itself (it logs instead, to avoid a loop).
    public let deadLetterTopic: String?

    public init(name: String, schema: String, consumerGroup: String, topics: [String], deadLetterTopic: String? = Topic.omsDLQ) {
        self.name = name
        self.schema = schema
        self.consumerGroup = consumerGroup
        self.topics = topics
        self.deadLetterTopic = deadLetterTopic
    }

    /// The CloudEvents `source` of what this stage emits.
    public var eventSource: String { "oms/\(name)" }
}

/// A consumed message that passed decoding.
public struct DecodedMessage<Input: Sendable>: Sendable {
    /// Deduplication key (with the consumer group): the CloudEvents id.
    public let idempotencyKey: String
    /// Where the chain started, for `correlationid` on what we emit.
    public let correlationID: String
    public let input: Input
    /// A message this stage does not act on (its own event, or a type of a shared topic meant for another stage).
    /// The runtime neither applies it nor writes a dedupe row for it: it has no effect, so seeing it again is harmless,
    /// and on shared topics such messages are most of what a stage reads (a dedupe row each was a third of the rows
    /// the pipeline wrote per order).
    public let isSkipped: Bool

    public init(idempotencyKey: String, correlationID: String, input: Input, skipped: Bool = false) {
        self.idempotencyKey = idempotencyKey
        self.correlationID = correlationID
        self.input = input
        self.isSkipped = skipped
    }
}

/// An event a handler wants to emit; the runtime gives it its id, source,
/// time, correlation and causation, and writes it to the outbox.
public struct Emission: Sendable {
    public let topic: String
    public let key: String
    public let type: String
    public let subject: String
    public let data: JSONValue

    public init(topic: String, key: String, type: String, subject: String, data: JSONValue) {
        self.topic = topic
        self.key = key
        self.type = type
        self.subject = subject
        self.data = data
    }
}

/// One row of the append-only audit trail: what happened to `subject`, who or
/// what did it, and why.
public struct AuditRecord: Sendable {
    public let subject: String
    public let action: String
    public let actor: String
    public let reason: String
    public let details: JSONValue

    public init(subject: String, action: String, actor: String, reason: String, details: JSONValue = .object([:])) {
        self.subject = subject
        self.action = action
        self.actor = actor
        self.reason = reason
        self.details = details
    }
}

public enum MessageOutcome: Sendable {
    case processed(emit: [Emission], audit: [AuditRecord])
    case deadLetter(PermanentFailure)
}

/// A stage's business logic, plugged into the shared processing loop.
///
/// `apply` runs inside the batch transaction and must do all its writes
/// through `database`; it returns one outcome per input, in order. Throwing a
/// transient error retries the batch; throwing anything else makes the runtime
/// re-run the batch one message at a time to find the culprit.
public protocol StageHandler: Sendable {
    associatedtype Input: Sendable
    var definition: StageDefinition { get }
    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<Input>
    func apply(_ batch: [DecodedMessage<Input>], database: PostgresConnection) throws -> [MessageOutcome]

    /// State changes driven by time rather than by a message (e.g. a payment
    /// deadline passing). Runs every `WorkerSettings.housekeepingSeconds` inside
    /// a transaction; what it returns is audited and emitted like a message's outcome.
    func housekeeping(database: PostgresConnection, now: Date) throws -> [TimedChange]
}

extension StageHandler {
    public func housekeeping(database: PostgresConnection, now: Date) throws -> [TimedChange] { [] }
}

/// A change made by `housekeeping`. `key` names it uniquely and stably (e.g.
/// "payment-timeout:BB-1"), so that a re-run emits the same event ids.
public struct TimedChange: Sendable {
    public let key: String
    public let correlationID: String
    public let emit: [Emission]
    public let audit: [AuditRecord]
    /// Entries for the dead-letter topic, so that operators are alerted (e.g. an
    /// order that waited for master data in vain).
    public let deadLetters: [TimedDeadLetter]

    public init(key: String, correlationID: String, emit: [Emission], audit: [AuditRecord], deadLetters: [TimedDeadLetter] = []) {
        self.key = key
        self.correlationID = correlationID
        self.emit = emit
        self.audit = audit
        self.deadLetters = deadLetters
    }
}

/// A dead letter raised by time rather than by a consumed message. It carries
/// the record it is about, not an original message, so it cannot be replayed.
public struct TimedDeadLetter: Sendable {
    public let failure: PermanentFailure
    public let originalTopic: String
    public let originalEventID: String?
    public let key: String
    public let payload: JSONValue

    public init(failure: PermanentFailure, originalTopic: String, originalEventID: String?, key: String, payload: JSONValue) {
        self.failure = failure
        self.originalTopic = originalTopic
        self.originalEventID = originalEventID
        self.key = key
        self.payload = payload
    }
}
