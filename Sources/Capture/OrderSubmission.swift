import Shared

/// An `Order.Created` as the shop sent it, after schema validation.
///
/// A class (immutable, so Sendable): a batch passes each order through several
/// steps, and copying a struct of some thirty strings cost a retain per field each time.
final class OrderSubmission: Sendable, Equatable {
    struct Line: Sendable, Equatable {
        let lineID: String
        let sku: String
        let quantity: Int64
        let unitPrice: Money
        /// The line's discount for all its units (a percentage resolved to an amount), in the order's price basis.
        var discount: Money
        var discountPercentBasisPoints: Int64? = nil
        var discountCode: String? = nil
        var discountReason: String? = nil
    }

    /// An order-level discount, resolved to an amount.
    struct Discount: Sendable, Equatable {
        let amount: Money
        let code: String?
        let reason: String?
    }

    /// A voucher or gift card redeemed: part of the payment.
    struct Voucher: Sendable, Equatable {
        let code: String
        let amount: Money
        let kind: String
    }

    struct Address: Sendable, Equatable {
        let name: String
        let street: String
        let postalCode: String
        let city: String
        let country: String
        /// The customer's parcel-locker number (DHL "Postnummer"), when shipping to a locker.
        let lockerCustomerNumber: String?
    }

    struct Customer: Sendable, Equatable {
        let id: String
        let type: String
        let email: String
        let phone: String?
        let group: String?
    }

    let orderID: String
    let placedAt: String
    /// ISO 4217 code as sent (the schema allows three letters A–Z only).
    let currency: String
    let pricesIncludeTax: Bool
    let customer: Customer
    let billingAddress: Address
    let shippingAddress: Address
    let shippingMethod: String
    let shipComplete: Bool
    let paymentMethod: String
    let paymentStatus: String
    let paymentReference: String?
    let paymentAmount: Money
    let shippingCharge: Money
    let lines: [Line]
    /// Σ (quantity × unit price − line discount).
    let linesTotal: Money
    let discounts: [Discount]
    let vouchers: [Voucher]
    /// Σ vouchers: paid with them, on top of `paymentAmount`.
    let voucherTotal: Money
    /// Lines less order discounts plus shipping: what the customer owes (gross) or the net sum (B2B net prices).
    let orderTotal: Money
    /// The B2B buyer who placed the order (approval limits apply per buyer).
    let buyerID: String?
    let clientIP: String?
    /// The whole `data` object, kept verbatim for the record.
    let data: JSONValue
    /// The personal part of `data` as canonical JSON; with `recordData` it is
    /// fingerprinted to recognise a repeat of the same order.
    let personalData: String
    /// `data` without personal data (names, addresses, e-mail, phone, IP), as
    /// stored with the order; personal data lives in `capture.order_parties` only,
    /// so that an erasure request has one place to clear.
    let recordData: String

    /// The shipping address as one comparable key, for velocity counts (computed once).
    let shippingAddressKey: String

    static func == (a: OrderSubmission, b: OrderSubmission) -> Bool { a === b || a.data == b.data }

    static let personalFields: Set<String> = ["customer", "billingAddress", "shippingAddress", "clientIp"]

    /// Reads a document that already passed the `Order.Created` schema; a
    /// field the schema guarantees but that is missing is still reported, never trapped on.
    init(data: JSONValue) throws(PermanentFailure) {
        func string(_ value: JSONValue?, _ path: String) throws(PermanentFailure) -> String {
            guard let text = value?.stringValue else { throw .schemaViolation("\(path): required string is missing") }
            return text
        }
        func integer(_ value: JSONValue?, _ path: String) throws(PermanentFailure) -> Int64 {
            guard let number = value?.int64Value else { throw .schemaViolation("\(path): required integer is missing") }
            return number
        }
        func address(_ value: JSONValue?, _ path: String) throws(PermanentFailure) -> Address {
            Address(name: try string(value?["name"], "\(path).name"), street: try string(value?["street"], "\(path).street"),
                    postalCode: try string(value?["postalCode"], "\(path).postalCode"),
                    city: try string(value?["city"], "\(path).city"), country: try string(value?["country"], "\(path).country"),
                    lockerCustomerNumber: value?["postNumber"]?.stringValue)
        }
        self.data = data
        let members = data.objectValue ?? [:]
        recordData = JSONValue.object(members.filter { !Self.personalFields.contains($0.key) }).serializedString
        personalData = JSONValue.object(members.filter { Self.personalFields.contains($0.key) }).serializedString
        orderID = try string(data["orderId"], "data.orderId")
        placedAt = try string(data["placedAt"], "data.placedAt")
        currency = try string(data["currency"], "data.currency")
        guard let unit = Currency(currency) else { throw .schemaViolation("data.currency: must be an ISO 4217 code") }
        func money(_ value: JSONValue?, _ path: String) throws(PermanentFailure) -> Money {
            Money(minorUnits: try integer(value, path), currency: unit)
        }
        pricesIncludeTax = data["pricesIncludeTax"]?.boolValue ?? true
        let customerJSON = data["customer"]
        customer = Customer(id: try string(customerJSON?["id"], "data.customer.id"),
                            type: try string(customerJSON?["type"], "data.customer.type"),
                            email: try string(customerJSON?["email"], "data.customer.email"),
                            phone: customerJSON?["phone"]?.stringValue, group: customerJSON?["group"]?.stringValue)
        if let leitwegID = customerJSON?["leitwegId"]?.stringValue, let problem = LeitwegID.problem(leitwegID) {
            throw .schemaViolation("data.customer.leitwegId: \(problem)")
        }
        billingAddress = try address(data["billingAddress"], "data.billingAddress")
        shippingAddress = try address(data["shippingAddress"], "data.shippingAddress")
        shippingMethod = try string(data["shippingMethod"], "data.shippingMethod")
        shipComplete = data["shipComplete"]?.boolValue ?? false
        paymentMethod = try string(data["payment"]?["method"], "data.payment.method")
        paymentStatus = try string(data["payment"]?["status"], "data.payment.status")
        paymentReference = data["payment"]?["reference"]?.stringValue
        paymentAmount = try money(data["payment"]?["amount"], "data.payment.amount")
        shippingCharge = data["shippingCharge"] == nil ? .zero(unit) : try money(data["shippingCharge"], "data.shippingCharge")
        /// A discount object as an amount of `base`: exactly one of amount and percentBasisPoints, never more than `base`.
        func discount(_ value: JSONValue, of base: Money, _ path: String) throws(PermanentFailure) -> (amount: Money, percent: Int64?) {
            let amount = value["amount"]?.int64Value, percent = value["percentBasisPoints"]?.int64Value
            guard (amount == nil) != (percent == nil) else { throw .schemaViolation("\(path): give either amount or percentBasisPoints") }
            var resolved: Int64
            if let amount { resolved = amount } else {
                let (scaled, overflow) = base.minorUnits.multipliedReportingOverflow(by: percent ?? 0)
                guard !overflow else { throw .schemaViolation("\(path): the discount cannot be computed") }
                resolved = (scaled + 5_000) / 10_000
            }
            guard resolved <= base.minorUnits else { throw .schemaViolation("\(path): discount \(Money(minorUnits: resolved, currency: unit)) exceeds the \(base) it applies to") }
            return (Money(minorUnits: resolved, currency: unit), percent)
        }
        var lines: [Line] = []
        for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
            let path = "data.lines[\(index)]"
            var entry = Line(lineID: try string(line["lineId"], "\(path).lineId"), sku: try string(line["sku"], "\(path).sku"),
                             quantity: try integer(line["quantity"], "\(path).quantity"), unitPrice: try money(line["unitPrice"], "\(path).unitPrice"),
                             discount: .zero(unit))
            if let value = line["discount"] {
                let amount: Money
                do { amount = try entry.unitPrice.multiplied(by: entry.quantity) } catch { throw .schemaViolation("\(path): the line amount overflows") }
                let resolved = try discount(value, of: amount, "\(path).discount")
                entry.discount = resolved.amount
                entry.discountPercentBasisPoints = resolved.percent
                entry.discountCode = value["code"]?.stringValue
                entry.discountReason = value["reason"]?.stringValue
            }
            lines.append(entry)
        }
        self.lines = lines
        // The contract's maxima keep these far from overflowing; checked all the same.
        do {
            linesTotal = try Money.sum(lines.map { line throws(MoneyError) in try line.unitPrice.multiplied(by: line.quantity).subtracting(line.discount) }, currency: unit)
        } catch {
            throw .schemaViolation("data.lines: the order total cannot be computed: \(error)")
        }
        var discounts: [Discount] = []
        var left = linesTotal
        for (index, value) in (data["discounts"]?.arrayValue ?? []).enumerated() {
            let resolved = try discount(value, of: linesTotal, "data.discounts[\(index)]")
            guard resolved.amount.minorUnits <= left.minorUnits else {
                throw .schemaViolation("data.discounts: together they exceed the goods total \(linesTotal)")
            }
            left = Money(minorUnits: left.minorUnits - resolved.amount.minorUnits, currency: unit)
            discounts.append(Discount(amount: resolved.amount, code: value["code"]?.stringValue, reason: value["reason"]?.stringValue))
        }
        self.discounts = discounts
        var vouchers: [Voucher] = []
        for (index, value) in (data["payment"]?["vouchers"]?.arrayValue ?? []).enumerated() {
            vouchers.append(Voucher(code: try string(value["code"], "data.payment.vouchers[\(index)].code"),
                                    amount: try money(value["amount"], "data.payment.vouchers[\(index)].amount"),
                                    kind: value["kind"]?.stringValue ?? "multi-purpose"))
        }
        self.vouchers = vouchers
        do {
            voucherTotal = try Money.sum(vouchers.map(\.amount), currency: unit)
            orderTotal = try left.adding(shippingCharge)
        } catch {
            throw .schemaViolation("data: the order total cannot be computed: \(error)")
        }
        buyerID = customerJSON?["buyerId"]?.stringValue
        clientIP = data["clientIp"]?.stringValue
        shippingAddressKey = Self.addressKey(shippingAddress)
        if Set(lines.map(\.lineID)).count != lines.count {
            throw .schemaViolation("data.lines: lineId values must be unique within an order")
        }
    }

    static func addressKey(_ address: Address) -> String {
        [address.street, address.postalCode, address.city, address.country]
            .map { $0.lowercased().split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == "." }).joined(separator: " ") }
            .joined(separator: "|")
    }
}
