import Foundation
import Shared

/// A message from `oms.dlq`, read from its headers. Never fails: a message
/// without our headers is still kept, labelled as such.
struct DeadLetter: Sendable, Equatable {
    let dlqID: String
    let stage: String
    let errorClass: String
    let reason: String
    let attempts: Int
    let originalTopic: String
    let originalPartition: Int32
    let originalOffset: Int64
    let originalEventID: String?
    let failedAt: String?
    let key: [UInt8]?
    let payload: [UInt8]
    /// False when the payload is a record, not an original message (a dead letter raised by a deadline).
    let replayable: Bool

    init(_ message: ConsumedMessage) {
        dlqID = message.header(DeadLetterHeader.id)
            ?? EventID.derived("unlabelled-dead-letter", message.topic, String(message.partition), String(message.offset))
        stage = message.header(DeadLetterHeader.stage) ?? "unknown"
        errorClass = message.header(DeadLetterHeader.errorClass) ?? "unlabelled"
        reason = message.header(DeadLetterHeader.errorMessage) ?? "message on \(message.topic) without dead-letter headers"
        attempts = message.header(DeadLetterHeader.attempts).flatMap(Int.init) ?? 1
        originalTopic = message.header(DeadLetterHeader.originalTopic) ?? message.topic
        replayable = message.header(DeadLetterHeader.replayable) != "false"
        // A deadline's dead letter has no original position; -1 says so rather than pointing at the DLQ message.
        originalPartition = message.header(DeadLetterHeader.originalPartition).flatMap(Int32.init) ?? (replayable ? message.partition : -1)
        originalOffset = message.header(DeadLetterHeader.originalOffset).flatMap(Int64.init) ?? (replayable ? message.offset : -1)
        originalEventID = message.header(DeadLetterHeader.originalEventID)
        failedAt = message.header(DeadLetterHeader.failedAt).flatMap { RFC3339.isValid($0) ? $0 : nil }
        key = message.key
        payload = message.value
    }
}

/// The pure rule for raising alerts: one notification per (stage, error class)
/// per window; later dead letters of the same kind inside the window are
/// recorded as alerts but folded into the first one.
struct AlertDeduplication: Sendable {
    let windowSeconds: Int

    /// `lastNotified`: when each (stage, class) last notified. Returns, per dead
    /// letter in order, whether it notifies.
    func decide(_ letters: [DeadLetter], now: Date, lastNotified: [String: Date]) -> [Bool] {
        var last = lastNotified
        return letters.map { letter in
            let key = Self.key(stage: letter.stage, errorClass: letter.errorClass)
            if let previous = last[key], now.timeIntervalSince(previous) < Double(windowSeconds) { return false }
            last[key] = now
            return true
        }
    }

    static func key(stage: String, errorClass: String) -> String { "\(stage)\u{1F}\(errorClass)" }
}
