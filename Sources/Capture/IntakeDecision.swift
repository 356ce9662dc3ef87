import Shared

/// The pure core of Capture: values in, a decision with reasons out.
enum IntakeDecision {
    static func decide(_ order: OrderSubmission, existing: ExistingOrder?, history: CustomerHistory,
                       ledger: PaymentLedger = .empty, products: [String: ProductInfo] = [:], rules: CaptureRules) -> IntakeOutcome {
        decide(order, existing: existing, context: IntakeContext(history: history, ledger: ledger, products: products), rules: rules)
    }

    /// Runs every check on a new order (or recognises a repeat or a conflict).
    static func decide(_ order: OrderSubmission, existing: ExistingOrder?, context: IntakeContext, rules: CaptureRules) -> IntakeOutcome {
        if let existing {
            guard existing.contentHash == OrderFingerprint.of(order) else {
                return .conflict(.conflict(
                    "order \(order.orderID) already exists with different content (first created by event \(existing.sourceEventID))"))
            }
            return .repeatOfExisting
        }
        let findings = TotalCheck.evaluate(order)
            + PaymentCheck.evaluate(order, ledger: context.ledger, rules: rules.payment)
            + AddressCheck.evaluate(order, rules: rules)
            + CatalogCheck.evaluate(order, products: context.products, rules: rules)
            + AvailabilityCheck.evaluate(lines: order.lines.map { ($0.sku, $0.quantity) }, shipComplete: order.shipComplete,
                                         availability: context.availability, policy: rules.shipCompleteShortfall)
            + B2BCheck.evaluate(order, account: context.account, exposure: context.exposure, groupPrices: context.groupPrices)
            + FraudScore.evaluate(order, history: context.history, rules: rules.fraud)
        if findings.contains(where: { $0.effect == .reject }) { return .reject(findings) }
        let holds = findings.compactMap { finding -> HoldReason? in
            if case .hold(let reason) = finding.effect { return reason } else { return nil }
        }
        if !holds.isEmpty { return .hold(Set(holds), findings) }
        return .accept(findings)
    }
}

/// Everything besides the order that the checks look at, read by the worker.
struct IntakeContext: Sendable {
    var history: CustomerHistory = .none
    var ledger: PaymentLedger = .empty
    var products: [String: ProductInfo] = [:]
    /// The CRM replica's record of the customer (B2B checks).
    var account: CustomerAccount?
    var exposure: CreditExposure = .none
    var groupPrices: [GroupPriceKey: Int64] = [:]
    /// Network-wide available quantity per SKU, as the Router last published it.
    var availability: [String: Int64] = [:]
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

    /// The payment is for this order but can never count (e.g. another currency): a dead letter.
    case refuse(String)

    /// `capturedSoFar`: every capture recorded for the order in the order's currency, this one included.
    static func decide(_ update: PaymentUpdate, status: OrderStatus, holds: Set<HoldReason>, paymentAmount: Money,
                       capturedSoFar: Money) -> PaymentDecision {
        switch update.kind {
        case .captured:
            if let currency = update.currency, currency != paymentAmount.currency.code {
                return .refuse("Payment.Captured in \(currency.prefix(3)) for order \(update.orderID), which is in \(paymentAmount.currency); not counted")
            }
            guard status == .onHold, holds.contains(.payment) else {
                return .recordOnly("payment captured; order is \(status.rawValue), not waiting for payment")
            }
            guard capturedSoFar.minorUnits >= paymentAmount.minorUnits else {
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
    /// These holds are lifted; others remain.
    case liftHolds(lifted: Set<HoldReason>, remaining: Set<HoldReason>)
    /// The order went on to the Router, which owns it now: pass the request on.
    case forwardToRouter
    /// Not possible in this status: a permanent error with this reason.
    case refuse(String)

    /// `approvers`: who may decide the order's `approval` hold (see `ApprovalAuthority`).
    static func decide(_ request: OrderRequest, status: OrderStatus, holds: Set<HoldReason>, approvers: [String] = []) -> RequestDecision {
        switch (request.kind, status) {
        case (.cancel, .onHold):
            return .move(to: .cancelled, reason: "cancelled by \(request.by): \(request.reason)")
        case (.cancel, .accepted):
            return .forwardToRouter
        case (.cancel, _):
            return .refuse("order \(request.orderID) is already \(status.rawValue); cancellation by \(request.by) refused")
        case (.approve, _), (.deny, _):
            let names = Set(holds.map(\.rawValue))
            let decidable = status == .onHold
                ? Set(ApprovalAuthority.decidableHolds(names, actor: request.by, approvers: approvers).compactMap(HoldReason.init(rawValue:)))
                : []
            guard !decidable.isEmpty else {
                return .refuse(ApprovalAuthority.refusal(orderID: request.orderID, status: status.rawValue, holds: names, actor: request.by,
                                                         approvers: approvers, action: request.kind.rawValue))
            }
            let comment = request.reason.isEmpty ? "" : ": \(request.reason)"
            if request.kind == .deny {
                return .move(to: .rejected, reason: "denied by \(request.by) (held for \(decidable.listed))\(request.reason.isEmpty ? ": no reason given" : comment)")
            }
            let remaining = holds.subtracting(decidable)
            return remaining.isEmpty
                ? .move(to: .accepted, reason: "approved by \(request.by) (held for \(decidable.listed))\(comment)")
                : .liftHolds(lifted: decidable, remaining: remaining)
        }
    }
}
