@testable import Capture
import Foundation
import Shared
import Testing

let repositoryConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("config").path
let shippedRules = try! CaptureRules.load(directory: repositoryConfig)

@Suite("Capture intake core")
struct IntakeDecisionTests {
    static func submission(_ index: Int, orderID: String? = nil) throws -> OrderSubmission {
        try OrderSubmission(data: BergUndBeutelOrders.orderCreated(index: index, orderID: orderID,
                                                                   placedAt: .init(timeIntervalSince1970: 1_800_000_000)).data)
    }

    static func decide(_ order: OrderSubmission, existing: ExistingOrder? = nil) -> IntakeOutcome {
        IntakeDecision.decide(order, existing: existing, history: .none, rules: shippedRules)
    }

    @Test("a clean new order is accepted")
    func newOrder() throws {
        guard case .accept = Self.decide(try Self.submission(1)) else {
            Issue.record("expected accept")
            return
        }
    }

    @Test("the same content again is a repeat without effect")
    func repeatOfExisting() throws {
        let order = try Self.submission(1)
        let existing = ExistingOrder(contentHash: OrderFingerprint.of(order), sourceEventID: "e-1")
        #expect(Self.decide(order, existing: existing) == .repeatOfExisting)
    }

    @Test("other content under an existing order id is a conflict naming the first event")
    func conflict() throws {
        let first = try Self.submission(1, orderID: "BB-1")
        let second = try Self.submission(2, orderID: "BB-1")
        let existing = ExistingOrder(contentHash: OrderFingerprint.of(first), sourceEventID: "e-first")
        guard case .conflict(let failure) = Self.decide(second, existing: existing) else {
            Issue.record("expected a conflict")
            return
        }
        #expect(failure.errorClass == "conflict")
        #expect(failure.reason.contains("e-first"))
    }

    @Test("line totals: quantity × unit price, summed, in minor units")
    func totals() throws {
        let order = try Self.submission(4)
        let expected = order.lines.reduce(Int64(0)) { $0 + $1.quantity * $1.unitPrice.minorUnits }
        #expect(order.linesTotal.minorUnits == expected)
        #expect(order.linesTotal.currency.code == "EUR")
        #expect(expected > 0)
    }

    @Test("overflowing totals are refused, not wrapped")
    func overflow() throws {
        var data = BergUndBeutelOrders.orderCreated(index: 1).data.objectValue!
        data["lines"] = [["lineId": "1", "sku": "X", "quantity": 100_000, "unitPrice": .integer(Int64.max / 10)]]
        // Past the schema's maxima (a hand-built document): the reader refuses it with the reason, never traps.
        do {
            _ = try OrderSubmission(data: .object(data))
            Issue.record("expected a refusal")
        } catch {
            #expect(error.errorClass == "schema-violation")
            #expect(error.reason.contains("overflows"))
        }
        // Through the contract: the maxima refuse it first, naming the field.
        var event = BergUndBeutelOrders.orderCreated(index: 1)
        event.data = .object(data)
        #expect(throws: PermanentFailure.self) { try EventContracts.validateData(of: event, accepted: ["Order.Created"]) }
        var charge = BergUndBeutelOrders.orderCreated(index: 1)
        var chargeData = charge.data.objectValue!
        chargeData["shippingCharge"] = .integer(.max)
        charge.data = .object(chargeData)
        do {
            try EventContracts.validateData(of: charge, accepted: ["Order.Created"])
            Issue.record("a shipping charge of Int64.max must be refused at the boundary")
        } catch {
            #expect(error.reason.contains("data.shippingCharge: must be <="))
        }
    }

    @Test("duplicate line ids are refused")
    func duplicateLineIDs() {
        var data = BergUndBeutelOrders.orderCreated(index: 1).data.objectValue!
        data["lines"] = [["lineId": "1", "sku": "A", "quantity": 1, "unitPrice": 1], ["lineId": "1", "sku": "B", "quantity": 1, "unitPrice": 1]]
        #expect(throws: PermanentFailure.schemaViolation("data.lines: lineId values must be unique within an order")) {
            try OrderSubmission(data: .object(data))
        }
    }

    @Test("a discount above what it applies to, or with both amount and percentage, is refused naming the field")
    func impossibleDiscounts() {
        var data = BergUndBeutelOrders.orderCreated(index: 1).data.objectValue!
        data["lines"] = [["lineId": "1", "sku": "A", "quantity": 2, "unitPrice": 1_000, "discount": ["amount": 2_001]]]
        #expect(throws: PermanentFailure.schemaViolation("data.lines[0].discount: discount 20.01 EUR exceeds the 20.00 EUR it applies to")) {
            try OrderSubmission(data: .object(data))
        }
        data["lines"] = [["lineId": "1", "sku": "A", "quantity": 2, "unitPrice": 1_000, "discount": ["amount": 1, "percentBasisPoints": 100]]]
        #expect(throws: PermanentFailure.schemaViolation("data.lines[0].discount: give either amount or percentBasisPoints")) {
            try OrderSubmission(data: .object(data))
        }
        data["lines"] = [["lineId": "1", "sku": "A", "quantity": 2, "unitPrice": 1_000]]
        data["discounts"] = [["percentBasisPoints": 6_000], ["percentBasisPoints": 6_000]]
        #expect(throws: PermanentFailure.schemaViolation("data.discounts: together they exceed the goods total 20.00 EUR")) {
            try OrderSubmission(data: .object(data))
        }
        // 10 % of 3 × 3.33 = 9.99 → 1.00 (half up), resolved once.
        data["lines"] = [["lineId": "1", "sku": "A", "quantity": 3, "unitPrice": 333, "discount": ["percentBasisPoints": 1_000]]]
        data["discounts"] = nil
        #expect((try? OrderSubmission(data: .object(data)))?.lines.first?.discount.minorUnits == 100)
    }

    @Test("the handler refuses a subject that disagrees with the order id")
    func subjectMismatch() throws {
        var event = BergUndBeutelOrders.orderCreated(index: 3)
        event.subject = "BB-SOMETHING-ELSE"
        let handler = CaptureHandler(maximumEventBytes: 262_144,
                                     ruleVersions: try RuleVersions([.init(file: "capture.json", validFrom: .distantPast, rules: shippedRules)]))
        let message = ConsumedMessage(topic: Topic.shopOrders, partition: 0, offset: 0, key: nil, value: event.serialized())
        let error = #expect(throws: PermanentFailure.self) { try handler.decode(message) }
        #expect(error?.reason.contains("does not match data.orderId") == true)
    }
}
