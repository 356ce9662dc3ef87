import BillingTax
import Foundation
import Shared

/// The credit-note rule: a refund corrects the invoices that charged the refunded units.
/// - The refunded units of a line are taken from the order's invoices oldest first, as far as each
///   invoiced them and no earlier credit note took them back.
/// - Each corrected invoice gets its own credit note (type 381) that names it (BT-25): the VAT
///   correction belongs to the supply it corrects (§ 17 UStG), so every line keeps the category,
///   rate and exemption note of the invoice line it corrects, and the date of supply is that invoice's.
/// - A line never pays back more than was charged for those units — net of its own discount and of its share of the
///   order discount (each rounded against the refund); the amounts are in the order's
///   price basis (gross for gross-priced orders), split over the invoices in proportion to the units.
/// - Refunded shipping goes with the credit note of the invoice that charged the shipping (or the
///   first one) and follows its lines' rates, like the charge did; never more than was charged.
public enum CreditNotePlanner {
    public struct Refund: Sendable {
        public struct Line: Sendable {
            public let lineID: String
            public let quantity: Int64
            /// Paid back for these units, in the order's price basis.
            public let amount: Int64
            public init(lineID: String, quantity: Int64, amount: Int64) {
                self.lineID = lineID
                self.quantity = quantity
                self.amount = amount
            }
        }
        public let refundID: String
        public let returnID: String?
        public let orderID: String
        public let currency: Currency
        public let reason: String?
        public let lines: [Line]
        public let shippingAmount: Int64
        public init(refundID: String, returnID: String?, orderID: String, currency: Currency, reason: String?, lines: [Line], shippingAmount: Int64) {
            self.refundID = refundID
            self.returnID = returnID
            self.orderID = orderID
            self.currency = currency
            self.reason = reason
            self.lines = lines
            self.shippingAmount = shippingAmount
        }
    }

    public struct Draft: Sendable {
        public let precedingInvoice: String
        public let precedingIssueDate: Date
        public let deliveryDate: Date
        public let lines: [InvoiceDocument.Line]
        public let calculation: TaxCalculation.Result
        public let reasons: [VATCategory: (code: String, text: String)]
        public let notes: [String]
        /// Shipping paid back on this note, in the order's price basis.
        public let shippingAmount: Int64
        /// The corrected invoice's tax country.
        public let taxCountry: String?
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - invoices: the order's invoices (type 380), oldest first.
    ///   - credited: per invoice number and line, the units earlier credit notes took back.
    ///   - shippingRefunded: shipping paid back by earlier credit notes of the order.
    public static func plan(_ refund: Refund, order: InvoicePlanner.Order, invoices: [InvoiceDocument], credited: [String: [String: Int64]],
                            shippingRefunded: Int64) throws(Problem) -> [Draft] {
        guard refund.currency == order.currency else {
            throw Problem(description: "refund \(refund.refundID) is in \(refund.currency.code), order \(order.orderID) in \(order.currency.code)")
        }
        guard !invoices.isEmpty else { throw Problem(description: "order \(order.orderID) has no invoice yet; there is nothing to correct") }
        let orderLines = Dictionary(order.lines.map { ($0.lineID, $0) }, uniquingKeysWith: { a, _ in a })
        guard Set(refund.lines.map(\.lineID)).count == refund.lines.count else {
            throw Problem(description: "refund \(refund.refundID) names a line twice")
        }
        // Per invoice (in order) the parts of each refunded line it takes back.
        var parts: [String: [(line: InvoiceDocument.Line, quantity: Int64, amount: Int64)]] = [:]
        for item in refund.lines {
            guard let orderLine = orderLines[item.lineID] else { throw Problem(description: "line \(item.lineID) is not a line of order \(order.orderID)") }
            guard item.quantity > 0, item.amount >= 0 else { throw Problem(description: "line \(item.lineID): quantity must be positive, amount not negative") }
            // Net of the line's discount and of its share of the order discount, each rounded against the refund (the rule Returns refunds by).
            let paidLines = order.lines.map { PaidShare.Line(lineID: $0.lineID, quantity: $0.quantity, unitPrice: $0.unitPrice, discount: $0.discount) }
            guard let charged = PaidShare.paid(units: item.quantity, of: PaidShare.Line(lineID: orderLine.lineID, quantity: orderLine.quantity,
                                                                                  unitPrice: orderLine.unitPrice, discount: orderLine.discount),
                                               orderDiscount: order.discount, goodsTotal: PaidShare.goodsTotal(paidLines)) else {
                throw Problem(description: "line \(item.lineID): \(item.quantity) unit(s) refunded, but the order line has \(orderLine.quantity)")
            }
            guard item.amount <= charged else {
                throw Problem(description: "line \(item.lineID): refund of \(Money(minorUnits: item.amount, currency: order.currency)) exceeds the "
                              + "\(Money(minorUnits: charged, currency: order.currency)) charged for \(item.quantity) unit(s)")
            }
            var left = item.quantity
            var takes: [(invoice: InvoiceDocument, line: InvoiceDocument.Line, quantity: Int64)] = []
            for invoice in invoices where left > 0 {
                // A collective invoice's line names its order and order line; an order's own invoice uses the order line's id.
                for line in invoice.lines where (line.orderLineID ?? line.id) == item.lineID && (line.orderID ?? order.orderID) == order.orderID && left > 0 {
                    let open = line.quantity - (credited[invoice.number]?[line.id] ?? 0)
                    guard open > 0 else { continue }
                    let take = min(open, left)
                    takes.append((invoice, line, take))
                    left -= take
                }
            }
            guard left == 0 else {
                throw Problem(description: "line \(item.lineID): \(item.quantity) unit(s) refunded, but only \(item.quantity - left) invoiced and not yet credited")
            }
            let shares: [Money]
            do {
                shares = try TaxCalculation.allocate(Money(minorUnits: item.amount, currency: order.currency),
                                                     over: takes.map { Money(minorUnits: $0.quantity, currency: order.currency) })
            } catch { throw Problem(description: error.description) }
            for (take, share) in zip(takes, shares) { parts[take.invoice.number, default: []].append((take.line, take.quantity, share.minorUnits)) }
        }
        let shippingLeft = order.shippingCharge - shippingRefunded
        guard refund.shippingAmount <= max(shippingLeft, 0) else {
            throw Problem(description: "shipping refund of \(Money(minorUnits: refund.shippingAmount, currency: order.currency)) exceeds the "
                          + "\(Money(minorUnits: max(shippingLeft, 0), currency: order.currency)) charged and not yet refunded")
        }
        let corrected = invoices.filter { parts[$0.number] != nil }
        guard !corrected.isEmpty else { throw Problem(description: "refund \(refund.refundID) has no lines") }
        let shippingInvoice = corrected.first(where: { $0.calculation.charges.contains { $0.taxable.minorUnits != 0 } })?.number ?? corrected[0].number

        var drafts: [Draft] = []
        for invoice in corrected {
            let items = parts[invoice.number] ?? []
            let shipping = invoice.number == shippingInvoice ? refund.shippingAmount : 0
            // One calculation line per corrected line: the refunded amount as one price for its units.
            let lines = items.map { TaxCalculation.Line(id: $0.line.id, quantity: 1, unitPrice: Money(minorUnits: $0.amount, currency: order.currency),
                                                        category: $0.line.category, rateBasisPoints: $0.line.rateBasisPoints) }
            let calculation: TaxCalculation.Result
            do {
                calculation = try TaxCalculation.calculate(lines: lines, charge: Money(minorUnits: shipping, currency: order.currency),
                                                           discount: .zero(order.currency), gross: order.pricesIncludeTax, currency: order.currency)
            } catch { throw Problem(description: error.description) }
            let categories = Set(items.map(\.line.category))
            let reasons = invoice.exemptionReasons.filter { categories.contains($0.key) }
            let because = refund.reason.map { "; Grund / reason: \($0)" } ?? ""
            // The invoice's legal notes (reverse charge, distance sales …) hold for its correction; what it said about
            // how it was paid or which deliveries it covered does not.
            let legal = invoice.notes.filter { !$0.hasPrefix(InvoicePlanner.voucherNotePrefix) && !$0.hasPrefix(InvoicePlanner.deliveriesNotePrefix) }
            let notes = ["Rechnungskorrektur zu Rechnung \(invoice.number) vom \(InvoiceDocument.germanDay(invoice.issueDate))"
                         + (refund.returnID.map { ", Retoure \($0)" } ?? "") + because] + legal
            drafts.append(Draft(
                precedingInvoice: invoice.number, precedingIssueDate: invoice.issueDate, deliveryDate: invoice.deliveryDate,
                lines: items.map { InvoiceDocument.Line(id: $0.line.id, sku: $0.line.sku, name: $0.line.name, quantity: $0.quantity,
                                                        net: calculation.lineNet[$0.line.id] ?? .zero(order.currency), category: $0.line.category,
                                                        rateBasisPoints: $0.line.rateBasisPoints,
                                                        // A collective invoice's line names its delivery: the correction keeps that; a discount text it does not.
                                                        note: $0.line.orderLineID == nil ? nil : $0.line.note, orderID: $0.line.orderID,
                                                        orderLineID: $0.line.orderLineID) },
                calculation: calculation, reasons: reasons, notes: notes, shippingAmount: shipping, taxCountry: invoice.taxCountry))
        }
        return drafts
    }
}
