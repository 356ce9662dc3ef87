import BillingTax
import Foundation
import Shared

/// The deposit rule: an order with assembly or technician work (a service line) is invoiced in two steps.
/// - When it is accepted, a prepayment invoice (type 386) for the configured share of every line: VAT is due
///   on a payment received before the supply (§ 13 (1) Nr. 1 a S. 4 UStG), so each share is taxed as its
///   line will be, on the day of the order.
/// - When the service is done (`Service.Completed`), the final invoice over the whole order, which deducts
///   every deposit and its VAT (§ 14 (5) UStG): the full amounts and tax per rate, then each deposit with
///   its net and tax per rate named, the deposits' gross as paid before (BT-113), the first deposit
///   invoice as the preceding invoice (BT-25).
public enum DepositPlanner {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Whether the order holds a service line (by the catalog replica).
    public static func needsDeposit(_ order: InvoicePlanner.Order, products: [String: InvoicePlanner.Product]) -> Bool {
        order.lines.contains { products[$0.sku]?.service == true }
    }

    /// The prepayment invoice: `basisPoints` of each line's amount (after its discount), no shipping.
    public static func deposit(_ order: InvoicePlanner.Order, basisPoints: Int64, products: [String: InvoicePlanner.Product], orderDate: Date,
                               rules: TaxRules, territory: EUTerritory) throws(Problem) -> InvoicePlanner.Draft {
        // The invoice rule decides each line's treatment and rate as for the whole order on that day.
        let whole: InvoicePlanner.Draft
        do {
            whole = try InvoicePlanner.plan(order, shipped: order.lines.map { ($0.lineID, $0.quantity) }, includeShipping: false, products: products,
                                            distanceSalesSoFar: .zero(order.currency), supplyDate: orderDate, rules: rules, territory: territory,
                                            vouchersUsed: .max)
        } catch { throw Problem(description: error.description) }
        var lines: [TaxCalculation.Line] = []
        for line in whole.lines {
            guard let orderLine = order.lines.first(where: { $0.lineID == line.id }) else { continue }
            let (amount, overflow) = orderLine.unitPrice.multipliedReportingOverflow(by: orderLine.quantity)
            guard !overflow else { throw Problem(description: "line \(line.id) overflows") }
            let share = TaxCalculation.multiplyDivide(max(0, amount - orderLine.discount), basisPoints, 10_000)
            lines.append(.init(id: line.id, quantity: 1, unitPrice: Money(minorUnits: share, currency: order.currency), category: line.category,
                               rateBasisPoints: line.rateBasisPoints))
        }
        let calculation: TaxCalculation.Result
        do {
            calculation = try TaxCalculation.calculate(lines: lines, charge: .zero(order.currency), discount: .zero(order.currency),
                                                       gross: order.pricesIncludeTax, currency: order.currency)
        } catch { throw Problem(description: error.description) }
        let percent = "\(basisPoints / 100)\(basisPoints % 100 == 0 ? "" : ",\(String(format: "%02lld", basisPoints % 100))") %"
        let docLines = whole.lines.map { line in
            InvoiceDocument.Line(id: line.id, sku: line.sku, name: "Anzahlung \(percent) auf \(line.name) (\(line.quantity) ×)", quantity: 1,
                                 net: calculation.lineNet[line.id] ?? .zero(order.currency), category: line.category, rateBasisPoints: line.rateBasisPoints)
        }
        return InvoicePlanner.Draft(lines: docLines, calculation: calculation, reasons: whole.reasons,
                                    notes: ["Anzahlungsrechnung / prepayment invoice \(percent) für Bestellung \(order.orderID)"] + whole.notes,
                                    decisions: whole.decisions, distanceSales: .zero(order.currency), prepaid: 0, discountLabel: nil)
    }

    /// What the final invoice says about each deposit: its number, date, net and VAT per rate.
    public static func deductionNotes(_ deposits: [InvoiceDocument]) -> [String] {
        deposits.map { deposit in
            let rates = deposit.calculation.breakdown.map { row in
                "\(InvoiceDocument.percent(row.rateBasisPoints).replacingOccurrences(of: ".", with: ",")) %: netto \(row.taxable), USt \(row.tax)"
            }.joined(separator: "; ")
            return "Abzüglich Anzahlung \(deposit.number) vom \(InvoiceDocument.germanDay(deposit.issueDate)): \(rates); brutto \(deposit.calculation.total)"
        }
    }

    /// The deposits' gross, deducted from what the final invoice asks for (never more than its total).
    public static func deducted(_ deposits: [InvoiceDocument], total: Money) -> Int64 {
        let sum = deposits.reduce(Int64(0)) { $0.addingReportingOverflow($1.calculation.total.minorUnits).partialValue }
        return max(0, min(sum, total.minorUnits))
    }
}
