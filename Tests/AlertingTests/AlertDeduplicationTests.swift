@testable import Alerting
import Foundation
import Shared
import Testing

@Suite("Alert deduplication")
struct AlertDeduplicationTests {
    static func letter(stage: String, errorClass: String, offset: Int64) -> DeadLetter {
        DeadLetter(ConsumedMessage(topic: Topic.omsDLQ, partition: 0, offset: offset, key: nil, value: [], headers: [
            (DeadLetterHeader.id, Array("dlq-\(offset)".utf8)), (DeadLetterHeader.stage, Array(stage.utf8)),
            (DeadLetterHeader.errorClass, Array(errorClass.utf8)), (DeadLetterHeader.errorMessage, Array("why".utf8)),
            (DeadLetterHeader.originalTopic, Array("shop.orders".utf8)), (DeadLetterHeader.originalOffset, Array("7".utf8)),
        ]))
    }

    @Test("one notification per (stage, error class) per window")
    func window() {
        let rule = AlertDeduplication(windowSeconds: 300)
        let now = Date()
        let letters = [
            Self.letter(stage: "capture", errorClass: "schema-violation", offset: 1),
            Self.letter(stage: "capture", errorClass: "schema-violation", offset: 2),
            Self.letter(stage: "capture", errorClass: "invalid-json", offset: 3),
            Self.letter(stage: "router", errorClass: "schema-violation", offset: 4),
        ]
        #expect(rule.decide(letters, now: now, lastNotified: [:]) == [true, false, true, true])
        let recent = [AlertDeduplication.key(stage: "capture", errorClass: "invalid-json"): now.addingTimeInterval(-299)]
        #expect(rule.decide(letters, now: now, lastNotified: recent) == [true, false, false, true])
        let old = [AlertDeduplication.key(stage: "capture", errorClass: "invalid-json"): now.addingTimeInterval(-301)]
        #expect(rule.decide(letters, now: now, lastNotified: old) == [true, false, true, true])
    }

    @Test("headers are read; a message without them is still kept, labelled")
    func headers() {
        let letter = Self.letter(stage: "capture", errorClass: "conflict", offset: 9)
        #expect(letter.dlqID == "dlq-9")
        #expect(letter.originalTopic == "shop.orders")
        #expect(letter.originalOffset == 7)
        let bare = DeadLetter(ConsumedMessage(topic: Topic.omsDLQ, partition: 3, offset: 11, key: nil, value: Array("x".utf8)))
        #expect(bare.stage == "unknown")
        #expect(bare.errorClass == "unlabelled")
        #expect(bare.originalPartition == 3)
        #expect(bare.originalOffset == 11)
    }
}
