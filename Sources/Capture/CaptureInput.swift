import Foundation
import Shared

/// What Capture consumes, decoded and validated.
enum CaptureInput: Sendable {
    case orderCreated(CloudEvent, OrderSubmission)
    case payment(CloudEvent, PaymentUpdate)
    /// Cancellation, approval or denial of an existing order.
    case request(CloudEvent, OrderRequest)
    /// A catalog update for the replica.
    case product(CloudEvent, ProductUpdate)
    /// A CRM update for the customer replica.
    case customer(CloudEvent, CustomerUpdate)
    /// Unpaid invoices of a customer, for the credit limit.
    case receivables(CloudEvent, ReceivablesUpdate)
    /// How much of an order Billing invoiced (it is then a receivable, no longer an open order).
    case invoiced(CloudEvent, InvoicedUpdate)
    /// Availability the Router published.
    case availability(CloudEvent, AvailabilityUpdate)
    /// A person asked to be forgotten (GDPR Art. 17): customer id, who asked.
    case erasure(CloudEvent, customerID: String, requestedBy: String)
    /// Belongs on the topic but needs nothing from Capture (e.g. `Payment.Authorized`).
    case ignored(String)
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
    /// Captured minor units per ISO 4217 code: money in one currency never pays for another.
    var capturedByCurrency: [String: Int64] = [:]
    var failedReason: String?

    static let empty = PaymentLedger()

    init(capturedByCurrency: [String: Int64] = [:], failedReason: String? = nil) {
        self.capturedByCurrency = capturedByCurrency
        self.failedReason = failedReason
    }

    /// A ledger of captures in one currency.
    init(captured: Money) {
        self.init(capturedByCurrency: [captured.currency.code: captured.minorUnits])
    }

    func captured(in currency: Currency) -> Money {
        Money(minorUnits: capturedByCurrency[currency.code] ?? 0, currency: currency)
    }
}

/// `Product.Changed`: the product's full current state, as of `changedAt`.
struct ProductUpdate: Sendable, Equatable {
    let info: ProductInfo
    let name: String
    let taxClass: String
    let minimumAge: Int64?
    let changedAt: String
    let data: String

    /// Net unit prices per customer group and currency (B2B price lists).
    let groupPrices: [(group: String, currency: String, unitPrice: Int64)]

    static func == (a: ProductUpdate, b: ProductUpdate) -> Bool { a.info == b.info && a.data == b.data && a.changedAt == b.changedAt }

    var changedInstant: Date { EventTime.parse(changedAt) }

    init(event: CloudEvent) throws(PermanentFailure) {
        let data = event.data
        guard let sku = data["sku"]?.stringValue, let name = data["name"]?.stringValue,
              let sellable = data["sellable"]?.boolValue, let taxClass = data["taxClass"]?.stringValue else {
            throw .schemaViolation("data: sku, name, sellable and taxClass are required")
        }
        info = ProductInfo(sku: sku, sellable: sellable, discontinued: data["discontinued"]?.boolValue ?? false,
                           bulky: data["bulky"]?.boolValue ?? false, dangerousGoodsClass: data["dangerousGoodsClass"]?.stringValue)
        self.name = name
        self.taxClass = taxClass
        minimumAge = data["minimumAge"]?.int64Value
        changedAt = event.time ?? EventTime.format(Date())
        self.data = data.serializedString
        var prices: [(group: String, currency: String, unitPrice: Int64)] = []
        for (index, entry) in (data["groupPrices"]?.arrayValue ?? []).enumerated() {
            guard let group = entry["group"]?.stringValue, let currency = entry["currency"]?.stringValue,
                  let price = entry["unitPrice"]?.int64Value else {
                throw .schemaViolation("data.groupPrices[\(index)]: group, currency and unitPrice are required")
            }
            prices.append((group, currency, price))
        }
        if Set(prices.map { "\($0.group)|\($0.currency)" }).count != prices.count {
            throw .schemaViolation("data.groupPrices: one price per group and currency")
        }
        groupPrices = prices
    }
}
