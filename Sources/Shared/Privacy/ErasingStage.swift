import Foundation

/// A stage that holds personal data and erases its copy when Capture orders it (`Customer.ErasureOrdered` on
/// oms.privacy). Each stage says which of its tables hold what; `ErasingStage` does the rest for all of them.
public protocol PersonalDataHolder: StageHandler {
    /// Erases or pseudonymises this stage's copy of the person's data in the erasure's orders, inside the message's
    /// transaction; returns how many records it touched and what it had to keep (and why), if anything.
    func erasePersonalData(_ erasure: ErasureOrder, database: PostgresConnection) throws -> (rows: Int, retained: String?)
}

/// Wraps a stage's handler: consumes oms.privacy besides the stage's own topics, applies erasure orders after the rest
/// of the batch (so that a record the batch wrote is erased too) and confirms each with `Customer.Erased`.
public struct ErasingStage<Base: PersonalDataHolder>: StageHandler {
    public enum Input: Sendable {
        case stage(Base.Input)
        case erasure(ErasureOrder)
        case ignored
    }

    public let base: Base
    public let definition: StageDefinition
    let maximumEventBytes: Int
    /// Only the OMS's own stages publish on oms.privacy: every stage confirms with `Customer.Erased` there (which the
    /// others skip), and only Capture, which knows a customer's orders, may order an erasure (`erasureOrderSource`).
    let admission = TopicAdmission(handled: [Topic.omsPrivacy: ["Customer.ErasureOrdered"]], sources: [Topic.omsPrivacy: ["oms/"]])
    static var erasureOrderSource: String { "oms/capture" }

    public init(_ base: Base, maximumEventBytes: Int) {
        self.base = base
        self.maximumEventBytes = maximumEventBytes
        let own = base.definition
        definition = StageDefinition(name: own.name, schema: own.schema, consumerGroup: own.consumerGroup,
                                     topics: own.topics.contains(Topic.omsPrivacy) ? own.topics : own.topics + [Topic.omsPrivacy],
                                     deadLetterTopic: own.deadLetterTopic)
    }

    var baseReadsPrivacy: Bool { base.definition.topics.contains(Topic.omsPrivacy) }

    public func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<Input> {
        guard message.topic == Topic.omsPrivacy else {
            let decoded = try base.decode(message)
            return DecodedMessage(idempotencyKey: decoded.idempotencyKey, correlationID: decoded.correlationID, input: .stage(decoded.input),
                                  skipped: decoded.isSkipped)
        }
        let event = try CloudEvent.decode(message.value, maximumBytes: maximumEventBytes)
        if event.type != "Customer.ErasureOrdered" && baseReadsPrivacy {
            let decoded = try base.decode(message)
            return DecodedMessage(idempotencyKey: decoded.idempotencyKey, correlationID: decoded.correlationID, input: .stage(decoded.input),
                                  skipped: decoded.isSkipped)
        }
        let (_, skip) = try admission.read(message, maximumBytes: maximumEventBytes)
        guard skip == nil else {
            return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: .ignored, skipped: true)
        }
        guard event.source == Self.erasureOrderSource else {
            throw .wrongTopic("source \"\(event.source.prefix(120))\" may not order an erasure on \(Topic.omsPrivacy) (only \(Self.erasureOrderSource) may)")
        }
        let input: Input = .erasure(try ErasureOrder(event: event))
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: input)
    }

    public func apply(_ batch: [DecodedMessage<Input>], database: PostgresConnection) throws -> [MessageOutcome] {
        var outcomes = [MessageOutcome](repeating: .processed(emit: [], audit: []), count: batch.count)
        var positions: [Int] = [], stageBatch: [DecodedMessage<Base.Input>] = []
        for (index, message) in batch.enumerated() {
            if case .stage(let input) = message.input {
                positions.append(index)
                stageBatch.append(DecodedMessage(idempotencyKey: message.idempotencyKey, correlationID: message.correlationID, input: input))
            }
        }
        if !stageBatch.isEmpty {
            let stageOutcomes = try base.apply(stageBatch, database: database)
            guard stageOutcomes.count == positions.count else {
                throw OutcomeCountMismatch(stage: definition.name, outcomes: stageOutcomes.count, messages: positions.count)
            }
            for (position, outcome) in zip(positions, stageOutcomes) { outcomes[position] = outcome }
        }
        let now = EventTime.format(Date())
        for (index, message) in batch.enumerated() {
            guard case .erasure(let erasure) = message.input else { continue }
            let (rows, retained) = try base.erasePersonalData(erasure, database: database)
            outcomes[index] = .processed(emit: [erasure.confirmation(stage: definition.name, rows: rows, retained: retained, at: now)],
                                         audit: [erasure.audit(rows: rows, retained: retained)])
        }
        return outcomes
    }

    public func housekeeping(database: PostgresConnection, now: Date) throws -> [TimedChange] {
        try base.housekeeping(database: database, now: now)
    }
}

/// A handler returned a different number of outcomes than it was given messages (a programming error).
struct OutcomeCountMismatch: Error, CustomStringConvertible {
    let stage: String
    let outcomes: Int
    let messages: Int
    var description: String { "\(stage) returned \(outcomes) outcomes for \(messages) messages" }
}
