import BillingTax
import Foundation
import Shared

/// The invoice rule: what one shipment's invoice contains — the shipped lines at the order's prices,
/// the shipping charge on the first invoice of the order, each line taxed by the tax rule on the
/// date of delivery, the totals by EN 16931.
public enum InvoicePlanner {
    public struct Order: Sendable {
        public struct Line: Sendable {
            public let lineID: String
            public let sku: String
            public let quantity: Int64
            public let unitPrice: Int64
            /// The line's discount for all its ordered units, in the order's price basis.
            public let discount: Int64
            public let discountLabel: String?
            public init(lineID: String, sku: String, quantity: Int64, unitPrice: Int64, discount: Int64 = 0, discountLabel: String? = nil) {
                self.lineID = lineID
                self.sku = sku
                self.quantity = quantity
                self.unitPrice = unitPrice
                self.discount = discount
                self.discountLabel = discountLabel
            }
            /// The line after its discount.
            var amount: Int64 { unitPrice.multipliedReportingOverflow(by: quantity).partialValue - discount }
        }

        /// A voucher or gift card redeemed: paid with it.
        public struct Voucher: Sendable {
            public let code: String
            public let amount: Int64
            public let kind: String
            public init(code: String, amount: Int64, kind: String) {
                self.code = code
                self.amount = amount
                self.kind = kind
            }
        }
        public let orderID: String
        public let customerID: String
        public let buyerType: TaxTreatment.BuyerType
        public let currency: Currency
        public let pricesIncludeTax: Bool
        public let shippingCharge: Int64
        public let billTo: InvoiceDocument.Party
        public let shipTo: InvoiceDocument.Party
        public let vatID: String?
        public let paymentNetDays: Int?
        public let lines: [Line]
        /// Order-level discounts, summed, in the order's price basis; shared by the invoices in proportion to their goods.
        public let discount: Int64
        public let discountLabel: String?
        public let vouchers: [Voucher]
        /// BT-10: the public buyer's Leitweg-ID or the buyer's own reference; its documents are XRechnung.
        public let buyerReference: String?
        public init(orderID: String, customerID: String, buyerType: TaxTreatment.BuyerType, currency: Currency, pricesIncludeTax: Bool, shippingCharge: Int64,
                    billTo: InvoiceDocument.Party, shipTo: InvoiceDocument.Party, vatID: String?, paymentNetDays: Int?, lines: [Line],
                    discount: Int64 = 0, discountLabel: String? = nil, vouchers: [Voucher] = [], buyerReference: String? = nil) {
            self.buyerReference = buyerReference
            self.discount = discount
            self.discountLabel = discountLabel
            self.vouchers = vouchers
            self.orderID = orderID
            self.customerID = customerID
            self.buyerType = buyerType
            self.currency = currency
            self.pricesIncludeTax = pricesIncludeTax
            self.shippingCharge = shippingCharge
            self.billTo = billTo
            self.shipTo = shipTo
            self.vatID = vatID
            self.paymentNetDays = paymentNetDays
            self.lines = lines
        }
    }

    public struct Product: Sendable {
        public let name: String
        public let taxClass: String
        /// Assembly / technician work: a service for VAT.
        public let service: Bool
        public init(name: String, taxClass: String, service: Bool) {
            self.name = name
            self.taxClass = taxClass
            self.service = service
        }
    }

    public struct Draft: Sendable {
        public let lines: [InvoiceDocument.Line]
        public let calculation: TaxCalculation.Result
        public let reasons: [VATCategory: (code: String, text: String)]
        public let notes: [String]
        public let decisions: [String: TaxTreatment.Decision]
        /// Net added to the EU-wide distance sales (consumer goods to other member states).
        public let distanceSales: Money
        /// Paid with vouchers (BT-113), in minor units.
        public let prepaid: Int64
        /// The order discount's code and reason, when this invoice carries a share of it.
        public let discountLabel: String?
        /// Whose VAT the taxed lines carry.
        public var taxCountry: String? { decisions.values.compactMap(\.taxCountry).sorted().first }
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// How notes about payment and deliveries begin (a credit note leaves them out).
    public static let voucherNotePrefix = "Bezahlt mit Gutschein"
    public static let deliveriesNotePrefix = "Lieferungen / deliveries"

    /// The line discount of `units` after `before` units of a line were invoiced: the discount follows the units, and the
    /// shares of all the line's invoices add up to it exactly (each invoice takes the cumulative share less what came before).
    public static func lineDiscount(_ line: Order.Line, before: Int64, units: Int64) -> Int64 {
        guard line.discount > 0, line.quantity > 0 else { return 0 }
        let upTo = min(before + units, line.quantity)
        return TaxCalculation.multiplyDivide(line.discount, upTo, line.quantity) - TaxCalculation.multiplyDivide(line.discount, min(before, line.quantity), line.quantity)
    }

    /// The order discount's share of an invoice whose goods come after `goodsBefore` of the order's `goodsTotal` (same cumulative rule).
    public static func orderDiscount(_ order: Order, goodsBefore: Int64, goods: Int64) -> Int64 {
        guard order.discount > 0 else { return 0 }
        let total = order.lines.reduce(Int64(0)) { $0.addingReportingOverflow(max($1.amount, 0)).partialValue }
        guard total > 0 else { return 0 }
        let upTo = min(goodsBefore.addingReportingOverflow(goods).partialValue, total)
        return TaxCalculation.multiplyDivide(order.discount, upTo, total) - TaxCalculation.multiplyDivide(order.discount, min(goodsBefore, total), total)
    }

    /// The goods value (after line discounts) of `units` per line invoiced before.
    public static func goods(_ order: Order, units: [String: Int64]) -> Int64 {
        order.lines.reduce(Int64(0)) { sum, line in
            let before = units[line.lineID] ?? 0
            let value = line.unitPrice.multipliedReportingOverflow(by: min(before, line.quantity)).partialValue - lineDiscount(line, before: 0, units: before)
            return sum.addingReportingOverflow(value).partialValue
        }
    }

    public static func plan(_ order: Order, shipped: [(lineID: String, quantity: Int64)], includeShipping: Bool, products: [String: Product],
                            distanceSalesSoFar: Money, supplyDate: Date, rules: TaxRules, territory: EUTerritory,
                            invoicedBefore before: [String: Int64] = [:], vouchersUsed: Int64 = 0) throws(Problem) -> Draft {
        let byID = Dictionary(order.lines.map { ($0.lineID, $0) }, uniquingKeysWith: { a, _ in a })
        var entries: [(line: Order.Line, quantity: Int64, product: Product)] = []
        for item in shipped {
            guard let line = byID[item.lineID] else { throw Problem(description: "line \(item.lineID) is not a line of order \(order.orderID)") }
            guard let product = products[line.sku] else {
                throw Problem(description: "\(line.sku) has no tax class in Billing's catalog replica; an invoice cannot be made without it")
            }
            entries.append((line, item.quantity, product))
        }
        guard !entries.isEmpty else { throw Problem(description: "nothing shipped to invoice") }
        // The threshold question is asked once for the whole invoice (its goods' net, estimated from the prices).
        var goods: Int64 = 0
        for entry in entries {
            let (amount, overflow) = entry.line.unitPrice.multipliedReportingOverflow(by: entry.quantity)
            guard !overflow else { throw Problem(description: "line \(entry.line.lineID) overflows") }
            goods = goods.addingReportingOverflow(amount).overflow ? Int64.max : goods + amount
        }
        let buyer = TaxTreatment.Buyer(type: order.buyerType, vatID: order.vatID, country: order.shipTo.country, postalCode: order.shipTo.postalCode)
        var decisions: [String: TaxTreatment.Decision] = [:]
        var calcLines: [TaxCalculation.Line] = []
        var lineDiscounts: [String: Int64] = [:]
        var goodsHere: Int64 = 0
        for entry in entries {
            let decision: TaxTreatment.Decision
            do {
                decision = try TaxTreatment.decide(kind: entry.product.service ? .service : .goods, taxClass: entry.product.taxClass, buyer: buyer,
                                                   supplyDate: supplyDate, supplyNet: Money(minorUnits: goods, currency: order.currency),
                                                   distanceSalesSoFar: distanceSalesSoFar, rules: rules, territory: territory)
            } catch { throw Problem(description: error.description) }
            decisions[entry.line.lineID] = decision
            let lineShare = lineDiscount(entry.line, before: before[entry.line.lineID] ?? 0, units: entry.quantity)
            lineDiscounts[entry.line.lineID] = lineShare
            calcLines.append(.init(id: entry.line.lineID, quantity: entry.quantity, unitPrice: Money(minorUnits: entry.line.unitPrice, currency: order.currency),
                                   category: decision.category, rateBasisPoints: decision.rateBasisPoints,
                                   allowance: Money(minorUnits: lineShare, currency: order.currency)))
            let value = entry.line.unitPrice.multipliedReportingOverflow(by: entry.quantity).partialValue - lineShare
            goodsHere = goodsHere.addingReportingOverflow(value).partialValue
        }
        let discountShare = orderDiscount(order, goodsBefore: Self.goods(order, units: before), goods: goodsHere)
        let calculation: TaxCalculation.Result
        do {
            calculation = try TaxCalculation.calculate(lines: calcLines, charge: Money(minorUnits: includeShipping ? order.shippingCharge : 0, currency: order.currency),
                                                       discount: Money(minorUnits: discountShare, currency: order.currency), gross: order.pricesIncludeTax,
                                                       currency: order.currency)
        } catch { throw Problem(description: error.description) }
        // Vouchers pay the invoices in order until used up.
        let voucherTotal = order.vouchers.reduce(Int64(0)) { $0.addingReportingOverflow($1.amount).partialValue }
        let prepaid = max(0, min(voucherTotal - vouchersUsed, calculation.total.minorUnits))
        var reasons: [VATCategory: (code: String, text: String)] = [:]
        var notes: [String] = []
        for decision in decisions.values {
            if let code = decision.exemptionCode, let note = decision.legalNote { reasons[decision.category] = (code, note) }
            else if let note = decision.legalNote, !notes.contains(note) { notes.append(note) }
        }
        let lines = entries.map { entry in
            let share = lineDiscounts[entry.line.lineID] ?? 0
            return InvoiceDocument.Line(id: entry.line.lineID, sku: entry.line.sku, name: entry.product.name, quantity: entry.quantity,
                                        net: calculation.lineNet[entry.line.lineID] ?? .zero(order.currency),
                                        category: decisions[entry.line.lineID]?.category ?? .standard,
                                        rateBasisPoints: decisions[entry.line.lineID]?.rateBasisPoints ?? 0,
                                        note: share > 0 ? "Rabatt / discount \(entry.line.discountLabel ?? "") −\(Money(minorUnits: share, currency: order.currency))"
                                            .replacingOccurrences(of: "  ", with: " ") : nil)
        }
        if prepaid > 0 {
            let codes = order.vouchers.map { "\($0.code) (\($0.kind == "single-purpose" ? "Einzweck" : "Mehrzweck")-Gutschein)" }.joined(separator: ", ")
            notes.append("\(voucherNotePrefix) / paid by voucher \(codes): \(Money(minorUnits: prepaid, currency: order.currency))")
        }
        let crossBorder = decisions.values.contains { ["distance-sales-below-threshold", "oss"].contains($0.reason) }
        return Draft(lines: lines, calculation: calculation, reasons: reasons, notes: notes.sorted(), decisions: decisions,
                     distanceSales: crossBorder ? calculation.totalNet : .zero(order.currency), prepaid: prepaid,
                     discountLabel: discountShare > 0 ? order.discountLabel : nil)
    }
}
