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
        // Anyone who may write to oms.dlq sets these headers: stored only as text PostgreSQL can hold, bounded.
        func header(_ name: String, limit: Int = 200) -> String? {
            message.header(name).map { String($0.storable.prefix(limit)) }
        }
        // An id too long to keep whole is replaced by a digest of it, so that two long ids never collide.
        dlqID = message.header(DeadLetterHeader.id).map { $0.utf8.count <= 200 && !$0.utf8.contains(0) ? $0 : EventID.derived("long-dlq-id", $0) }
            ?? EventID.derived("unlabelled-dead-letter", message.topic, String(message.partition), String(message.offset))
        stage = header(DeadLetterHeader.stage) ?? "unknown"
        errorClass = header(DeadLetterHeader.errorClass) ?? "unlabelled"
        reason = header(DeadLetterHeader.errorMessage, limit: 4_000) ?? "message on \(message.topic) without dead-letter headers"
        attempts = header(DeadLetterHeader.attempts).flatMap(Int.init).map { min(max($0, 0), Int(Int32.max)) } ?? 1
        originalTopic = header(DeadLetterHeader.originalTopic) ?? message.topic
        replayable = header(DeadLetterHeader.replayable) != "false"
        // A deadline's dead letter has no original position; -1 says so rather than pointing at the DLQ message.
        originalPartition = header(DeadLetterHeader.originalPartition).flatMap(Int32.init) ?? (replayable ? message.partition : -1)
        originalOffset = header(DeadLetterHeader.originalOffset).flatMap(Int64.init) ?? (replayable ? message.offset : -1)
        originalEventID = header(DeadLetterHeader.originalEventID)
        failedAt = header(DeadLetterHeader.failedAt).flatMap { RFC3339.isValid($0) ? $0 : nil }
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
