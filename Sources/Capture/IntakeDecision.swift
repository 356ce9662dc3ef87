import Shared

/// The pure core of Capture: values in, a decision with reasons out.
enum IntakeDecision {
    /// Runs every check on a new order (or recognises a repeat or a conflict).
    static func decide(_ order: OrderSubmission, existing: ExistingOrder?, history: CustomerHistory,
                       ledger: PaymentLedger = .empty, products: [String: ProductInfo] = [:], rules: CaptureRules) -> IntakeOutcome {
        if let existing {
            guard existing.contentHash == OrderFingerprint.of(order) else {
                return .conflict(.conflict(
                    "order \(order.orderID) already exists with different content (first created by event \(existing.sourceEventID))"))
            }
            return .repeatOfExisting
        }
        guard order.linesTotal != nil else {
            return .conflict(.businessRule("order \(order.orderID): line totals overflow 64-bit minor units"))
        }
        let findings = TotalCheck.evaluate(order)
            + PaymentCheck.evaluate(order, ledger: ledger, rules: rules.payment)
            + AddressCheck.evaluate(order, rules: rules)
            + CatalogCheck.evaluate(order, products: products, rules: rules)
            + FraudScore.evaluate(order, history: history, rules: rules.fraud)
        if findings.contains(where: { $0.effect == .reject }) { return .reject(findings) }
        let holds = findings.compactMap { finding -> HoldReason? in
            if case .hold(let reason) = finding.effect { return reason } else { return nil }
        }
        if !holds.isEmpty { return .hold(Set(holds), findings) }
        return .accept(findings)
    }
}

/// What Capture already knows about an order id.
struct ExistingOrder: Sendable, Equatable {
    let contentHash: String
    let sourceEventID: String
}

enum IntakeOutcome: Sendable, Equatable {
    /// New order, every check passed (findings may hold fraud points below the thresholds).
    case accept([CheckFinding])
    /// New order that waits: for money, a fixed address, a review.
    case hold(Set<HoldReason>, [CheckFinding])
    /// New order that can never go on.
    case reject([CheckFinding])
    /// The same order content again under another event id: no second effect.
    case repeatOfExisting
    /// Can never be processed: dead letter with this reason.
    case conflict(PermanentFailure)
}

/// Identical content ⇔ identical fingerprint (keys sorted, compact JSON).
enum OrderFingerprint {
    static func of(_ order: OrderSubmission) -> String {
        EventID.derived("order-content", order.recordData, order.personalData)
    }
}

/// What a payment report does to an order Capture already has.
enum PaymentDecision: Sendable, Equatable {
    /// Recorded; nothing else changes (e.g. the order was not waiting for it).
    case recordOnly(String)
    /// The payment hold is lifted; other holds remain.
    case liftPaymentHold(remaining: Set<HoldReason>)
    /// No hold remains: the order goes on.
    case release
    /// The money will not come: the held order is cancelled.
    case cancel(String)

    static func decide(_ update: PaymentUpdate, status: OrderStatus, holds: Set<HoldReason>, paymentAmount: Int64,
                       capturedSoFar: Int64) -> PaymentDecision {
        switch update.kind {
        case .captured:
            guard status == .onHold, holds.contains(.payment) else {
                return .recordOnly("payment captured; order is \(status.rawValue), not waiting for payment")
            }
            guard capturedSoFar >= paymentAmount else {
                return .recordOnly("captured \(capturedSoFar) of \(paymentAmount); still waiting for the rest")
            }
            let remaining = holds.subtracting([.payment])
            return remaining.isEmpty ? .release : .liftPaymentHold(remaining: remaining)
        case .failed:
            guard status == .onHold, holds.contains(.payment) else {
                return .recordOnly("payment failed while the order is \(status.rawValue); customer service decides")
            }
            return .cancel("payment failed: \(update.reason ?? "no reason given")")
        }
    }
}

/// What a cancellation, approval or denial does to an order, by its status.
enum RequestDecision: Sendable, Equatable {
    /// Capture changes the status itself.
    case move(to: OrderStatus, reason: String)
    /// The review hold is lifted; other holds remain.
    case liftReviewHold(remaining: Set<HoldReason>)
    /// The order went on to the Router, which owns it now: pass the request on.
    case forwardToRouter
    /// Not possible in this status: a permanent error with this reason.
    case refuse(String)

    static func decide(_ request: OrderRequest, status: OrderStatus, holds: Set<HoldReason>) -> RequestDecision {
        switch (request.kind, status) {
        case (.cancel, .onHold):
            return .move(to: .cancelled, reason: "cancelled by \(request.by): \(request.reason)")
        case (.cancel, .accepted):
            return .forwardToRouter
        case (.approve, .onHold) where holds.contains(.review):
            let remaining = holds.subtracting([.review])
            return remaining.isEmpty
                ? .move(to: .accepted, reason: "approved by \(request.by)\(request.reason.isEmpty ? "" : ": \(request.reason)")")
                : .liftReviewHold(remaining: remaining)
        case (.deny, .onHold) where holds.contains(.review):
            return .move(to: .rejected, reason: "denied by \(request.by): \(request.reason.isEmpty ? "no reason given" : request.reason)")
        case (.approve, _), (.deny, _):
            return .refuse("order \(request.orderID) is \(status.rawValue)\(holds.isEmpty ? "" : " (held for \(holds.listed))"), not waiting for a review; \(request.kind.rawValue) by \(request.by) refused")
        case (.cancel, _):
            return .refuse("order \(request.orderID) is already \(status.rawValue); cancellation by \(request.by) refused")
        }
    }
}
