import Shared

/// What Capture consumes, decoded and validated.
enum CaptureInput: Sendable {
    case orderCreated(CloudEvent, OrderSubmission)
    case payment(CloudEvent, PaymentUpdate)
    /// Cancellation, approval or denial of an existing order.
    case request(CloudEvent, OrderRequest)

    var event: CloudEvent {
        switch self {
        case .orderCreated(let event, _), .payment(let event, _), .request(let event, _): return event
        }
    }
}

/// A request about an order Capture already has.
struct OrderRequest: Sendable, Equatable {
    enum Kind: String, Sendable {
        case cancel = "Order.CancellationRequested"
        case approve = "Order.ApprovalGiven"
        case deny = "Order.ApprovalDenied"
    }
    let kind: Kind
    let orderID: String
    let by: String
    let reason: String

    init(type: String, data: JSONValue) throws(PermanentFailure) {
        guard let kind = Kind(rawValue: type) else { throw .unknownEventType("\(type) is not an order request") }
        guard let orderID = data["orderId"]?.stringValue else { throw .schemaViolation("data.orderId: required string is missing") }
        self.kind = kind
        self.orderID = orderID
        by = data["by"]?.stringValue ?? data["requestedBy"]?.stringValue ?? "shop"
        reason = data["reason"]?.stringValue ?? ""
    }
}

/// `Payment.Captured` or `Payment.Failed` from the shop.
struct PaymentUpdate: Sendable, Equatable {
    enum Kind: String, Sendable { case captured, failed }
    let kind: Kind
    let orderID: String
    let amount: Int64?
    let currency: String?
    let reference: String?
    let reason: String?

    init(type: String, data: JSONValue) throws(PermanentFailure) {
        guard let orderID = data["orderId"]?.stringValue else { throw .schemaViolation("data.orderId: required string is missing") }
        self.orderID = orderID
        kind = type == "Payment.Captured" ? .captured : .failed
        amount = data["amount"]?.int64Value
        currency = data["currency"]?.stringValue
        reference = data["reference"]?.stringValue
        reason = data["reason"]?.stringValue
    }
}

/// Payments the shop reported for one order so far (they may come before the order).
struct PaymentLedger: Sendable, Equatable {
    var capturedAmount: Int64 = 0
    var failedReason: String?

    static let empty = PaymentLedger()
}
