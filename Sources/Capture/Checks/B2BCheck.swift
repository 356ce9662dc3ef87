import Shared

/// Capture's replica of one CRM customer (`Customer.Changed`).
struct CustomerAccount: Sendable, Equatable {
    struct Buyer: Sendable, Equatable {
        let buyerID: String
        /// Orders above this amount (gross, minor units) need an approver; nil: no limit.
        let approvalLimit: Int64?
        let approvers: [String]
    }

    let customerID: String
    let type: String
    let group: String?
    let creditLimit: Int64?
    let creditCurrency: String?
    let paymentTerms: PaymentTerms?
    let buyers: [Buyer]
    /// The line discount agreed with the customer at most (CRM), in basis points; nil: none agreed.
    var agreedDiscountBasisPoints: Int64? = nil
}

/// Payment terms as agreed with a business customer, copied onto each order.
struct PaymentTerms: Sendable, Equatable {
    let code: String
    let netDays: Int64
    let discountDays: Int64?
    let discountPercent: Double?

    var json: JSONValue {
        var value: [String: JSONValue] = ["code": .string(code), "netDays": .integer(netDays)]
        if let discountDays { value["discountDays"] = .integer(discountDays) }
        if let discountPercent { value["discountPercent"] = .number(discountPercent) }
        return .object(value)
    }

    init(code: String, netDays: Int64, discountDays: Int64? = nil, discountPercent: Double? = nil) {
        self.code = code
        self.netDays = netDays
        self.discountDays = discountDays
        self.discountPercent = discountPercent
    }

    init?(_ value: JSONValue?) {
        guard let code = value?["code"]?.stringValue, let netDays = value?["netDays"]?.int64Value else { return nil }
        self.init(code: code, netDays: netDays, discountDays: value?["discountDays"]?.int64Value,
                  discountPercent: value?["discountPercent"]?.doubleValue)
    }
}

/// What a business customer owes or has ordered and not yet been invoiced for,
/// in minor units of the credit limit's currency.
struct CreditExposure: Sendable, Equatable {
    /// Accepted or held orders not yet invoiced, gross, in the credit currency.
    var openOrders: Int64
    /// Unpaid invoices as the ledger last reported them (`Receivables.Changed`).
    var unpaidInvoices: Int64
    /// Currencies other than the limit's in which open orders or unpaid invoices exist:
    /// they cannot be counted against the limit, so the order waits for a person.
    var otherCurrencies: Set<String> = []

    static let none = CreditExposure(openOrders: 0, unpaidInvoices: 0)

    /// Counts an order of this batch for the ones after it (saturating: a sum beyond
    /// Int64 is above every limit anyway).
    mutating func add(openOrder amount: Money, creditCurrency: String?) {
        guard creditCurrency == nil || creditCurrency == amount.currency.code else {
            otherCurrencies.insert(amount.currency.code)
            return
        }
        let (sum, overflow) = openOrders.addingReportingOverflow(amount.minorUnits)
        openOrders = overflow ? .max : sum
    }
}

/// A customer group's net unit price for an SKU in a currency.
struct GroupPriceKey: Hashable, Sendable {
    let sku: String
    let group: String
    let currency: String
}

/// The B2B rules: group prices, credit limit, approval limit. Only for
/// orders with `customer.type = b2b`.
enum B2BCheck {
    static func evaluate(_ order: OrderSubmission, account: CustomerAccount?, exposure: CreditExposure,
                         groupPrices: [GroupPriceKey: Int64]) -> [CheckFinding] {
        guard order.customer.type == "b2b" else { return [] }
        guard let account else {
            return [CheckFinding(check: "credit", code: "credit.customer-unknown", effect: .hold(.credit),
                                 message: "business customer \(order.customer.id) is not in the CRM replica; credit limit and terms unknown")]
        }
        return priceFindings(order, group: account.group ?? order.customer.group, groupPrices: groupPrices)
            + discountFindings(order, account: account)
            + creditFindings(order, account: account, exposure: exposure)
            + approvalFindings(order, account: account)
    }

    /// A business customer's line discount may not exceed what the CRM says was agreed (none agreed: no discount).
    static func discountFindings(_ order: OrderSubmission, account: CustomerAccount) -> [CheckFinding] {
        let agreed = account.agreedDiscountBasisPoints ?? 0
        return order.lines.compactMap { line in
            guard line.discount.minorUnits > 0 else { return nil }
            let (amount, overflow) = line.unitPrice.minorUnits.multipliedReportingOverflow(by: line.quantity)
            let (scaled, overflow2) = amount.multipliedReportingOverflow(by: agreed)
            // The agreed percentage of the line, rounded half up as the shop resolves percentages to amounts.
            let allowed = (scaled + 5_000) / 10_000
            guard overflow || overflow2 || line.discount.minorUnits > allowed else { return nil }
            return CheckFinding(check: "price", code: "price.discount-above-agreement", effect: .hold(.price),
                                message: "line \(line.lineID) (\(line.sku)) discounted by \(line.discount), more than the agreed \(agreed / 100).\(String(format: "%02lld", agreed % 100)) %")
        }
    }

    /// Group prices are net; they are compared with net-priced lines only.
    static func priceFindings(_ order: OrderSubmission, group: String?, groupPrices: [GroupPriceKey: Int64]) -> [CheckFinding] {
        guard let group, !order.pricesIncludeTax else { return [] }
        return order.lines.compactMap { line in
            guard let listed = groupPrices[GroupPriceKey(sku: line.sku, group: group, currency: order.currency)],
                  listed != line.unitPrice.minorUnits else { return nil }
            return CheckFinding(check: "price", code: "price.group-mismatch", effect: .hold(.price),
                                message: "line \(line.lineID) (\(line.sku)) at \(line.unitPrice) but the \(group) price is \(Money(minorUnits: listed, currency: line.unitPrice.currency))")
        }
    }

    static func creditFindings(_ order: OrderSubmission, account: CustomerAccount, exposure: CreditExposure) -> [CheckFinding] {
        guard let limitMinor = account.creditLimit else { return [] }
        if let currency = account.creditCurrency, currency != order.currency {
            return [CheckFinding(check: "credit", code: "credit.currency-mismatch", effect: .hold(.credit),
                                 message: "credit limit is kept in \(currency), the order is in \(order.currency)")]
        }
        if !exposure.otherCurrencies.isEmpty {
            return [CheckFinding(check: "credit", code: "credit.currency-mismatch", effect: .hold(.credit),
                                 message: "open orders or unpaid invoices in \(exposure.otherCurrencies.sorted().joined(separator: ", ")) cannot be counted against a limit in \(order.currency)")]
        }
        let unit = order.paymentAmount.currency
        let limit = Money(minorUnits: limitMinor, currency: unit)
        let open = Money(minorUnits: exposure.openOrders, currency: unit)
        let unpaid = Money(minorUnits: exposure.unpaidInvoices, currency: unit)
        let total: Money
        do {
            total = try open.adding(unpaid).adding(order.paymentAmount)
        } catch {
            return [CheckFinding(check: "credit", code: "credit.limit-exceeded", effect: .hold(.credit),
                                 message: "open orders \(open) + unpaid invoices \(unpaid) + this order \(order.paymentAmount) exceed any credit limit (\(error))")]
        }
        guard total.minorUnits > limit.minorUnits else { return [] }
        return [CheckFinding(check: "credit", code: "credit.limit-exceeded", effect: .hold(.credit),
                             message: "open orders \(open) + unpaid invoices \(unpaid) + this order \(order.paymentAmount) = \(total) exceeds the credit limit \(limit)")]
    }

    static func approvalFindings(_ order: OrderSubmission, account: CustomerAccount) -> [CheckFinding] {
        guard let buyerID = order.buyerID else { return [] }
        guard let buyer = account.buyers.first(where: { $0.buyerID == buyerID }) else {
            return [CheckFinding(check: "approval", code: "approval.buyer-unknown", effect: .hold(.approval),
                                 message: "buyer \(buyerID) is not registered for customer \(account.customerID); approval by \(approvers(of: order, account: account).listedOrStaff) needed")]
        }
        // The approval limit is kept in the customer's currency, which is the order's (else the credit check holds it).
        guard let limitMinor = buyer.approvalLimit, order.paymentAmount.minorUnits > limitMinor else { return [] }
        let limit = Money(minorUnits: limitMinor, currency: order.paymentAmount.currency)
        return [CheckFinding(check: "approval", code: "approval.required", effect: .hold(.approval),
                             message: "order total \(order.paymentAmount) is above buyer \(buyerID)'s approval limit \(limit); approval by \(buyer.approvers.listedOrStaff) needed")]
    }

    /// Who may approve this order: the buyer's approvers, or for a buyer not on
    /// record every approver of the customer.
    static func approvers(of order: OrderSubmission, account: CustomerAccount?) -> [String] {
        guard let account, let buyerID = order.buyerID else { return [] }
        if let buyer = account.buyers.first(where: { $0.buyerID == buyerID }) { return buyer.approvers }
        return Array(Set(account.buyers.flatMap(\.approvers))).sorted()
    }
}

extension [String] {
    fileprivate var listedOrStaff: String { isEmpty ? "the shop's staff (no approver on record)" : joined(separator: " or ") }
}
