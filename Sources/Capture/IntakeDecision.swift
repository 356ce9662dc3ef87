import Shared

/// The pure core of Capture: values in, a decision with reasons out.
///
/// This first version decides on structure only; the payment, address,
/// fraud, availability and B2B checks of SPEC §5 are added as rules here.
enum IntakeDecision: Sendable, Equatable {
    case accept
    case reject(PermanentFailure)

    static func decide(_ order: OrderSubmission, existing: ExistingOrder?) -> IntakeOutcome {
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
        return .accept
    }
}

/// What Capture already knows about an order id.
struct ExistingOrder: Sendable, Equatable {
    let contentHash: String
    let sourceEventID: String
}

enum IntakeOutcome: Sendable, Equatable {
    /// New order: store it and emit `Order.Accepted`.
    case accept
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
