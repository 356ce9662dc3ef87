import BillingTax
import Foundation
import Shared

/// The collective-invoice rule: one invoice for a customer's deliveries of a month. Each delivery's lines are
/// decided by the invoice rule as if invoiced alone (the tax of each supply by its own date), then listed
/// with their delivery note and date; shipping charges follow the lines as on a single invoice; the totals
/// are computed once over everything (EN 16931). Each order's part of the total is kept for the ledger.
public enum CollectivePlanner {
    public struct Delivery: Sendable {
        public let fulfillmentOrderID: String
        public let shippedAt: Date
        public let order: InvoicePlanner.Order
        public let lines: [(lineID: String, quantity: Int64)]
        public let includeShipping: Bool
        /// Units per line of this order invoiced before this delivery (for the discounts' shares).
        public let invoicedBefore: [String: Int64]
        public init(fulfillmentOrderID: String, shippedAt: Date, order: InvoicePlanner.Order, lines: [(lineID: String, quantity: Int64)], includeShipping: Bool,
                    invoicedBefore: [String: Int64] = [:]) {
            self.invoicedBefore = invoicedBefore
            self.fulfillmentOrderID = fulfillmentOrderID
            self.shippedAt = shippedAt
            self.order = order
            self.lines = lines
            self.includeShipping = includeShipping
        }
    }

    public struct Part: Sendable, Equatable {
        public let orderID: String
        public let gross: Int64
        public let units: Int64
        public init(orderID: String, gross: Int64, units: Int64) {
            self.orderID = orderID
            self.gross = gross
            self.units = units
        }
    }

    public struct Draft: Sendable {
        public let lines: [InvoiceDocument.Line]
        public let calculation: TaxCalculation.Result
        public let reasons: [VATCategory: (code: String, text: String)]
        public let notes: [String]
        public let deliveryDate: Date
        public let taxCountry: String?
        public let parts: [Part]
        public let distanceSales: Money
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func plan(_ deliveries: [Delivery], period: (start: Date, end: Date), products: [String: InvoicePlanner.Product], distanceSalesSoFar: Money,
                            rules: TaxRules, territory: EUTerritory) throws(Problem) -> Draft {
        guard let first = deliveries.first else { throw Problem(description: "no deliveries to invoice") }
        let currency = first.order.currency, gross = first.order.pricesIncludeTax
        var calcLines: [TaxCalculation.Line] = [], docLines: [(line: InvoiceDocument.Line, orderID: String)] = []
        var reasons: [VATCategory: (code: String, text: String)] = [:]
        var notes = Set<String>()
        var shipping: Int64 = 0, discount: Int64 = 0, distance = Money.zero(currency)
        var taxCountry: String?
        for delivery in deliveries {
            let order = delivery.order
            guard order.currency == currency, order.pricesIncludeTax == gross else {
                throw Problem(description: "\(delivery.fulfillmentOrderID): one collective invoice holds one currency and one price basis")
            }
            let draft: InvoicePlanner.Draft
            do {
                draft = try InvoicePlanner.plan(order, shipped: delivery.lines, includeShipping: false, products: products, distanceSalesSoFar: distanceSalesSoFar,
                                                supplyDate: delivery.shippedAt, rules: rules, territory: territory, invoicedBefore: delivery.invoicedBefore,
                                                vouchersUsed: .max)
            } catch { throw Problem(description: "\(delivery.fulfillmentOrderID): \(error.description)") }
            if delivery.includeShipping {
                let (sum, overflow) = shipping.addingReportingOverflow(order.shippingCharge)
                guard !overflow else { throw Problem(description: "shipping charges overflow") }
                shipping = sum
            }
            let orderLines = Dictionary(order.lines.map { ($0.lineID, $0) }, uniquingKeysWith: { a, _ in a })
            let orderDiscount = draft.calculation.allowances.reduce(Int64(0)) { $0 + $1.taxable.minorUnits }
            if orderDiscount != 0 {
                // The order discount's share of this delivery, in the order's price basis (gross allowances for gross orders).
                var goods: Int64 = 0
                for line in delivery.lines {
                    guard let l = orderLines[line.lineID] else { continue }
                    let (amount, overflow) = l.unitPrice.multipliedReportingOverflow(by: line.quantity)
                    guard !overflow else { throw Problem(description: "\(delivery.fulfillmentOrderID): line \(line.lineID) overflows") }
                    let share = InvoicePlanner.lineDiscount(l, before: delivery.invoicedBefore[line.lineID] ?? 0, units: line.quantity)
                    goods = goods.addingReportingOverflow(amount - share).partialValue
                }
                let before = InvoicePlanner.goods(order, units: delivery.invoicedBefore)
                discount = discount.addingReportingOverflow(InvoicePlanner.orderDiscount(order, goodsBefore: before, goods: goods)).partialValue
            }
            let note = "Lieferschein \(delivery.fulfillmentOrderID) vom \(InvoiceDocument.germanDay(delivery.shippedAt)), Bestellung \(order.orderID)"
            for line in draft.lines {
                let id = "\(delivery.fulfillmentOrderID)/\(line.id)"
                let orderLine = orderLines[line.id]
                let allowance = orderLine.map { InvoicePlanner.lineDiscount($0, before: delivery.invoicedBefore[line.id] ?? 0, units: line.quantity) } ?? 0
                calcLines.append(.init(id: id, quantity: line.quantity, unitPrice: Money(minorUnits: orderLine?.unitPrice ?? 0, currency: currency),
                                       category: line.category, rateBasisPoints: line.rateBasisPoints, allowance: Money(minorUnits: allowance, currency: currency)))
                docLines.append((InvoiceDocument.Line(id: id, sku: line.sku, name: line.name, quantity: line.quantity, net: line.net, category: line.category,
                                                      rateBasisPoints: line.rateBasisPoints, note: note, orderID: order.orderID, orderLineID: line.id),
                                 order.orderID))
            }
            for (category, reason) in draft.reasons { reasons[category] = reason }
            notes.formUnion(draft.notes)
            taxCountry = taxCountry ?? draft.taxCountry
            if draft.distanceSales.currency == distance.currency {
                let (sum, overflow) = distance.minorUnits.addingReportingOverflow(draft.distanceSales.minorUnits)
                guard !overflow else { throw Problem(description: "distance sales overflow") }
                distance = Money(minorUnits: sum, currency: currency)
            }
        }
        let calculation: TaxCalculation.Result
        do {
            calculation = try TaxCalculation.calculate(lines: calcLines, charge: Money(minorUnits: shipping, currency: currency),
                                                       discount: Money(minorUnits: discount, currency: currency),
                                                       gross: gross, currency: currency)
        } catch { throw Problem(description: error.description) }
        let lines = docLines.map { entry in
            InvoiceDocument.Line(id: entry.line.id, sku: entry.line.sku, name: entry.line.name, quantity: entry.line.quantity,
                                 net: calculation.lineNet[entry.line.id] ?? .zero(currency), category: entry.line.category,
                                 rateBasisPoints: entry.line.rateBasisPoints, note: entry.line.note, orderID: entry.line.orderID, orderLineID: entry.line.orderLineID)
        }
        // Each order's part of the total, in proportion to its lines' nets (the parts add up to the total).
        var orderIDs: [String] = [], weights: [String: Int64] = [:], units: [String: Int64] = [:]
        for line in lines {
            let order = line.orderID ?? ""
            if weights[order] == nil { orderIDs.append(order) }
            weights[order, default: 0] = (weights[order] ?? 0).addingReportingOverflow(max(line.net.minorUnits, 0)).partialValue
            units[order, default: 0] += line.quantity
        }
        let shares: [Money]
        do { shares = try TaxCalculation.allocate(calculation.total, over: orderIDs.map { Money(minorUnits: weights[$0] ?? 0, currency: currency) }) }
        catch { throw Problem(description: error.description) }
        return Draft(lines: lines, calculation: calculation, reasons: reasons, notes: notes.sorted(),
                     deliveryDate: deliveries.map(\.shippedAt).max() ?? period.end, taxCountry: taxCountry,
                     parts: zip(orderIDs, shares).map { Part(orderID: $0.0, gross: $0.1.minorUnits, units: units[$0.0] ?? 0) }, distanceSales: distance)
    }
}
