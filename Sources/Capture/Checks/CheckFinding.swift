/// Why an order is held; stored with the order and named in `Order.OnHold`.
enum HoldReason: String, Sendable, CaseIterable, Comparable {
    /// The fraud score asks for a human look.
    case review
    /// Lines and shipping do not add up to the payment amount.
    case total
    /// A fixable address problem (postal code format, parcel locker number).
    case address
    /// Waiting for the money (prepayment) or for a payment state that lets us go on.
    case payment
    /// Waiting for the catalog to tell us about an SKU.
    case catalog
    /// A B2B line price differs from the customer group's price.
    case price
    /// A B2B order would exceed the customer's credit limit (or the customer is unknown).
    case credit
    /// A B2B order above the buyer's approval limit waits for an approver.
    case approval
    /// A ship-complete order that the published availability cannot serve now.
    case stock

    static func < (a: HoldReason, b: HoldReason) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

extension Set where Element == HoldReason {
    /// "review, payment", for people.
    var listed: String { sorted().map(\.rawValue).joined(separator: ", ") }
    /// "review,payment", as stored (`string_to_array(…, ',')`).
    var csv: String { sorted().map(\.rawValue).joined(separator: ",") }
}

/// One result of one check: what it found and what that means for the order.
struct CheckFinding: Sendable, Equatable {
    enum Effect: Sendable, Equatable {
        case hold(HoldReason)
        case reject
        /// Fraud points; the score decides.
        case points(Int)
        /// Worth knowing, changes nothing (e.g. a back-order).
        case note
    }

    let check: String
    let code: String
    let effect: Effect
    let message: String

    var points: Int { if case .points(let p) = effect { return p } else { return 0 } }

    /// The fraud score of these findings (points come from the rule file; summed without trapping).
    static func score(_ findings: [CheckFinding]) -> Int {
        findings.reduce(0) { total, finding in
            let (sum, overflow) = total.addingReportingOverflow(finding.points)
            return overflow ? Int.max : sum
        }
    }
}

/// What Capture knows about a customer's earlier orders, for the fraud rules.
struct CustomerHistory: Sendable, Equatable {
    /// Orders of the same customer id before this one.
    var previousOrders: Int
    /// Orders with the same e-mail address within the velocity window.
    var recentOrdersSameEmail: Int
    /// Orders to the same shipping address within the velocity window.
    var recentOrdersSameAddress = 0
    /// Orders from the same client IP within the velocity window.
    var recentOrdersSameIP = 0
    /// Orders with the same payment reference (card token, account) within the velocity window.
    var recentOrdersSamePaymentReference = 0

    static let none = CustomerHistory(previousOrders: 0, recentOrdersSameEmail: 0)
}
