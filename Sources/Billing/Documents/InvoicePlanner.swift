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
            public init(lineID: String, sku: String, quantity: Int64, unitPrice: Int64) {
                self.lineID = lineID
                self.sku = sku
                self.quantity = quantity
                self.unitPrice = unitPrice
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
        public init(orderID: String, customerID: String, buyerType: TaxTreatment.BuyerType, currency: Currency, pricesIncludeTax: Bool, shippingCharge: Int64,
                    billTo: InvoiceDocument.Party, shipTo: InvoiceDocument.Party, vatID: String?, paymentNetDays: Int?, lines: [Line]) {
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
        /// Whose VAT the taxed lines carry.
        public var taxCountry: String? { decisions.values.compactMap(\.taxCountry).sorted().first }
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func plan(_ order: Order, shipped: [(lineID: String, quantity: Int64)], includeShipping: Bool, products: [String: Product],
                            distanceSalesSoFar: Money, supplyDate: Date, rules: TaxRules, territory: EUTerritory) throws(Problem) -> Draft {
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
        for entry in entries {
            let decision: TaxTreatment.Decision
            do {
                decision = try TaxTreatment.decide(kind: entry.product.service ? .service : .goods, taxClass: entry.product.taxClass, buyer: buyer,
                                                   supplyDate: supplyDate, supplyNet: Money(minorUnits: goods, currency: order.currency),
                                                   distanceSalesSoFar: distanceSalesSoFar, rules: rules, territory: territory)
            } catch { throw Problem(description: error.description) }
            decisions[entry.line.lineID] = decision
            calcLines.append(.init(id: entry.line.lineID, quantity: entry.quantity, unitPrice: Money(minorUnits: entry.line.unitPrice, currency: order.currency),
                                   category: decision.category, rateBasisPoints: decision.rateBasisPoints))
        }
        let calculation: TaxCalculation.Result
        do {
            calculation = try TaxCalculation.calculate(lines: calcLines, charge: Money(minorUnits: includeShipping ? order.shippingCharge : 0, currency: order.currency),
                                                       discount: .zero(order.currency), gross: order.pricesIncludeTax, currency: order.currency)
        } catch { throw Problem(description: error.description) }
        var reasons: [VATCategory: (code: String, text: String)] = [:]
        var notes: [String] = []
        for decision in decisions.values {
            if let code = decision.exemptionCode, let note = decision.legalNote { reasons[decision.category] = (code, note) }
            else if let note = decision.legalNote, !notes.contains(note) { notes.append(note) }
        }
        let lines = entries.map { entry in
            InvoiceDocument.Line(id: entry.line.lineID, sku: entry.line.sku, name: entry.product.name, quantity: entry.quantity,
                                 net: calculation.lineNet[entry.line.lineID] ?? .zero(order.currency),
                                 category: decisions[entry.line.lineID]?.category ?? .standard, rateBasisPoints: decisions[entry.line.lineID]?.rateBasisPoints ?? 0)
        }
        let crossBorder = decisions.values.contains { ["distance-sales-below-threshold", "oss"].contains($0.reason) }
        return Draft(lines: lines, calculation: calculation, reasons: reasons, notes: notes.sorted(), decisions: decisions,
                     distanceSales: crossBorder ? calculation.totalNet : .zero(order.currency))
    }
}
