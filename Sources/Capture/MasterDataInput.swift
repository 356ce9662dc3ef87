import Foundation
import Shared

/// `Customer.Changed`: the customer's full current state, as of the event time.
struct CustomerUpdate: Sendable, Equatable {
    let account: CustomerAccount
    let vatID: String?
    let changedAt: String
    let data: String

    init(event: CloudEvent) throws(PermanentFailure) {
        let data = event.data
        guard let customerID = data["customerId"]?.stringValue, let type = data["type"]?.stringValue else {
            throw .schemaViolation("data: customerId and type are required")
        }
        var buyers: [CustomerAccount.Buyer] = []
        for (index, buyer) in (data["buyers"]?.arrayValue ?? []).enumerated() {
            guard let buyerID = buyer["buyerId"]?.stringValue else { throw .schemaViolation("data.buyers[\(index)].buyerId: required string is missing") }
            buyers.append(CustomerAccount.Buyer(buyerID: buyerID, approvalLimit: buyer["approvalLimit"]?.int64Value,
                                                approvers: (buyer["approvers"]?.arrayValue ?? []).compactMap(\.stringValue)))
        }
        if Set(buyers.map(\.buyerID)).count != buyers.count {
            throw .schemaViolation("data.buyers: buyerId values must be unique within a customer")
        }
        account = CustomerAccount(customerID: customerID, type: type, group: data["group"]?.stringValue,
                                  creditLimit: data["creditLimit"]?["amount"]?.int64Value,
                                  creditCurrency: data["creditLimit"]?["currency"]?.stringValue,
                                  paymentTerms: PaymentTerms(data["paymentTerms"]), buyers: buyers)
        vatID = data["vatId"]?.stringValue
        changedAt = event.time ?? EventTime.format(Date())
        self.data = data.serializedString
    }
}

/// `Receivables.Changed`: a customer's unpaid invoices as the ledger sees them.
struct ReceivablesUpdate: Sendable, Equatable {
    let customerID: String
    let unpaidAmount: Int64
    let currency: String
    let changedAt: String

    init(event: CloudEvent) throws(PermanentFailure) {
        guard let customerID = event.data["customerId"]?.stringValue, let amount = event.data["unpaidAmount"]?.int64Value,
              let currency = event.data["currency"]?.stringValue else {
            throw .schemaViolation("data: customerId, unpaidAmount and currency are required")
        }
        self.customerID = customerID
        unpaidAmount = amount
        self.currency = currency
        changedAt = event.data["asOf"]?.stringValue ?? event.time ?? EventTime.format(Date())
    }
}

/// `Order.Invoiced` from Billing: the gross invoiced so far (a running total, so the order of arrival does not matter).
struct InvoicedUpdate: Sendable, Equatable {
    let orderID: String
    let invoicedGross: Int64
    let currency: String
    let complete: Bool

    init(event: CloudEvent) throws(PermanentFailure) {
        guard let orderID = event.data["orderId"]?.stringValue, let gross = event.data["invoicedGross"]?.int64Value,
              let currency = event.data["currency"]?.stringValue, let complete = event.data["complete"]?.boolValue else {
            throw .schemaViolation("data: orderId, invoicedGross, currency and complete are required")
        }
        self.orderID = orderID
        invoicedGross = gross
        self.currency = currency
        self.complete = complete
    }
}

/// `Availability.Changed` from the Router: available quantity per SKU as of `asOf`.
struct AvailabilityUpdate: Sendable, Equatable {
    struct Item: Sendable, Equatable {
        let sku: String
        let available: Int64
        let nextETA: String?
    }

    let asOf: String
    let items: [Item]

    init(event: CloudEvent) throws(PermanentFailure) {
        guard let asOf = event.data["asOf"]?.stringValue else { throw .schemaViolation("data.asOf: required string is missing") }
        var items: [Item] = []
        for (index, item) in (event.data["items"]?.arrayValue ?? []).enumerated() {
            guard let sku = item["sku"]?.stringValue, let available = item["available"]?.int64Value else {
                throw .schemaViolation("data.items[\(index)]: sku and available are required")
            }
            items.append(Item(sku: sku, available: available, nextETA: item["nextEta"]?.stringValue))
        }
        if Set(items.map(\.sku)).count != items.count {
            throw .schemaViolation("data.items: each SKU may appear once per event")
        }
        self.asOf = asOf
        self.items = items
    }
}
