import BillingDocuments
import BillingTax
import Foundation
import Shared

/// What Billing consumes, decoded and validated.
enum BillingInput: Sendable {
    case product(sku: String, product: InvoicePlanner.Product, changedAt: String)
    /// `Order.Accepted` / `Order.OnHold`: the order as Capture announced it (kept whole).
    case order(orderID: String, data: JSONValue, onHold: Bool)
    /// `Shipment.Shipped`: what left, per fulfillment order.
    case shipped(fulfillmentOrderID: String, orderID: String, lines: [(lineID: String, quantity: Int64)], shippedAt: String?)
    /// `Order.Released` / `Order.Cancelled`: the replica's status follows.
    case status(orderID: String, status: OrderReplicaStatus)
    /// `Refund.Approved` (Returns): a credit note per corrected invoice.
    case refund(CreditNotePlanner.Refund)
    /// `Service.Completed` (warehouse.events): the final invoice of an order with deposits.
    case serviceCompleted(orderID: String, completedAt: String)
    /// `Payment.Captured` (provider, per order) / `Payment.Received` (bank or ERP, per customer): settles open invoices.
    case payment(PaymentIn)
    case ignored(String)
}

/// The order replica's status; only these transitions are taken (a cancelled order stays cancelled).
enum OrderReplicaStatus: String, Sendable {
    case accepted, onHold = "on_hold", cancelled

    static let transitions: [OrderReplicaStatus: Set<OrderReplicaStatus>] = [
        .onHold: [.accepted, .cancelled],
        .accepted: [.cancelled],
        .cancelled: [],
    ]
}

struct PaymentIn: Sendable {
    enum Kind: String, Sendable { case captured, received }
    let kind: Kind
    /// The provider's or bank's id; Payment.Captured without a reference is identified by its event id.
    let paymentID: String
    let orderID: String?
    let customerID: String?
    let invoiceNumber: String?
    let amount: Money
}

extension BillingInput {
    static func decode(_ event: CloudEvent) throws(PermanentFailure) -> BillingInput {
        let data = event.data
        func string(_ key: String) throws(PermanentFailure) -> String {
            guard let value = data[key]?.stringValue else { throw .schemaViolation("data.\(key): required string is missing") }
            return value
        }
        switch event.type {
        case "Product.Changed":
            return .product(sku: try string("sku"), product: .init(name: try string("name"), taxClass: try string("taxClass"),
                                                                   service: data["serviceSkill"]?.stringValue != nil),
                            changedAt: event.time ?? EventTime.format(Date()))
        case "Order.Accepted", "Order.OnHold":
            return .order(orderID: try string("orderId"), data: data, onHold: event.type == "Order.OnHold")
        case "Shipment.Shipped":
            var lines: [(lineID: String, quantity: Int64)] = []
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let quantity = line["quantity"]?.int64Value else {
                    throw .schemaViolation("data.lines[\(index)]: lineId and quantity are required")
                }
                lines.append((id, quantity))
            }
            return .shipped(fulfillmentOrderID: try string("fulfillmentOrderId"), orderID: try string("orderId"), lines: lines,
                            shippedAt: data["shippedAt"]?.stringValue)
        case "Order.Released":
            return .status(orderID: try string("orderId"), status: .accepted)
        case "Order.Cancelled":
            return .status(orderID: try string("orderId"), status: .cancelled)
        case "Service.Completed":
            return .serviceCompleted(orderID: try string("orderId"), completedAt: try string("completedAt"))
        case "Refund.Approved":
            guard let currency = Currency(try string("currency")) else { throw .schemaViolation("data.currency: not an ISO 4217 code") }
            var lines: [CreditNotePlanner.Refund.Line] = []
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let quantity = line["quantity"]?.int64Value, let amount = line["amount"]?.int64Value else {
                    throw .schemaViolation("data.lines[\(index)]: lineId, quantity and amount are required")
                }
                lines.append(.init(lineID: id, quantity: quantity, amount: amount))
            }
            return .refund(.init(refundID: try string("refundId"), returnID: data["returnId"]?.stringValue, orderID: try string("orderId"),
                                 currency: currency, reason: data["reason"]?.stringValue, lines: lines,
                                 shippingAmount: data["shippingAmount"]?.int64Value ?? 0))
        case "Payment.Captured", "Payment.Received":
            guard let currency = Currency(try string("currency")) else { throw .schemaViolation("data.currency: not an ISO 4217 code") }
            guard let amount = data["amount"]?.int64Value else { throw .schemaViolation("data.amount: required integer is missing") }
            if event.type == "Payment.Captured" {
                let order = try string("orderId")
                return .payment(PaymentIn(kind: .captured, paymentID: data["reference"]?.stringValue.map { "\(order)/\($0)" } ?? event.id, orderID: order,
                                          customerID: nil, invoiceNumber: nil, amount: Money(minorUnits: amount, currency: currency)))
            }
            return .payment(PaymentIn(kind: .received, paymentID: try string("paymentId"), orderID: nil, customerID: try string("customerId"),
                                      invoiceNumber: data["invoiceNumber"]?.stringValue, amount: Money(minorUnits: amount, currency: currency)))
        default:
            throw .unknownEventType("event type \"\(event.type.prefix(80))\" is not handled by Billing")
        }
    }

    /// The stored `Order.Accepted` data as the invoice rule reads it; nil with the reason when it lacks what an invoice needs.
    static func order(_ data: JSONValue) -> Result<InvoicePlanner.Order, PermanentFailure> {
        guard let orderID = data["orderId"]?.stringValue, let customerID = data["customerId"]?.stringValue,
              let currency = data["currency"]?.stringValue.flatMap(Currency.init) else {
            return .failure(.schemaViolation("the order lacks orderId, customerId or currency"))
        }
        guard let billing = data["billing"], let bill = billing["billTo"], let ship = data["shipTo"] else {
            return .failure(.businessRule("order \(orderID) was announced without billing data (billTo, shipTo); Capture must send them"))
        }
        func party(_ p: JSONValue, vat: String?, address: InvoiceDocument.ElectronicAddress? = nil) -> InvoiceDocument.Party {
            InvoiceDocument.Party(name: p["name"]?.stringValue ?? "", street: p["street"]?.stringValue ?? "", postalCode: p["postalCode"]?.stringValue ?? "",
                                  city: p["city"]?.stringValue ?? "", country: p["country"]?.stringValue ?? "", vatID: vat, electronicAddress: address)
        }
        // An XRechnung names the buyer's electronic address (BT-49): a public buyer's Leitweg-ID (EAS 0204), otherwise the
        // order's e-mail address. Other documents leave it out (a consumer's e-mail has no business on its invoice).
        let leitwegID = billing["leitwegId"]?.stringValue
        let buyerReference = leitwegID ?? billing["buyerReference"]?.stringValue
        let buyerAddress = buyerReference == nil ? nil : leitwegID.map { InvoiceDocument.ElectronicAddress(id: $0, scheme: "0204") }
            ?? ship["email"]?.stringValue.map { InvoiceDocument.ElectronicAddress(id: $0, scheme: "EM") }
        let vat = billing["vatId"]?.stringValue
        func label(_ d: JSONValue?) -> String? {
            guard let d else { return nil }
            return [d["code"]?.stringValue, d["reason"]?.stringValue].compactMap { $0 }.joined(separator: " ").nilIfEmpty
        }
        let lines = (data["lines"]?.arrayValue ?? []).compactMap { line -> InvoicePlanner.Order.Line? in
            guard let id = line["lineId"]?.stringValue, let sku = line["sku"]?.stringValue, let quantity = line["quantity"]?.int64Value,
                  let price = line["unitPrice"]?.int64Value else { return nil }
            let discount = line["discount"]
            return .init(lineID: id, sku: sku, quantity: quantity, unitPrice: price, discount: max(0, discount?["amount"]?.int64Value ?? 0),
                         discountLabel: label(discount))
        }
        let discounts = billing["discounts"]?.arrayValue ?? []
        let discount = discounts.reduce(Int64(0)) { $0.addingReportingOverflow(max(0, $1["amount"]?.int64Value ?? 0)).partialValue }
        let vouchers = (billing["vouchers"]?.arrayValue ?? []).compactMap { v -> InvoicePlanner.Order.Voucher? in
            guard let code = v["code"]?.stringValue, let amount = v["amount"]?.int64Value, amount > 0 else { return nil }
            return .init(code: code, amount: amount, kind: v["kind"]?.stringValue ?? "multi-purpose")
        }
        return .success(InvoicePlanner.Order(
            orderID: orderID, customerID: customerID, buyerType: data["customerType"]?.stringValue == "b2b" ? .business : .consumer, currency: currency,
            pricesIncludeTax: billing["pricesIncludeTax"]?.boolValue ?? true, shippingCharge: billing["shippingCharge"]?.int64Value ?? 0,
            billTo: party(bill, vat: vat, address: buyerAddress), shipTo: party(ship, vat: nil), vatID: vat,
            paymentNetDays: data["paymentTerms"]?["netDays"]?.int64Value.map { Int($0) }, lines: lines, discount: discount,
            discountLabel: discounts.compactMap(label).joined(separator: ", ").nilIfEmpty, vouchers: vouchers,
            buyerReference: buyerReference))
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
