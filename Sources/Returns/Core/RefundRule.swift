import Foundation
import Shared

/// The refund rule: per inspected line what was paid for those units (net of its own discount and its share of the
/// order's discounts), reduced by the grade unless the shop was at fault; the outbound shipping charge when the whole
/// order has come back or the reason says the shop was at fault; the voucher-paid part back to the voucher.
public enum RefundRule {
    public struct Inspected: Sendable, Equatable {
        public let lineID: String
        public let quantity: Int64
        public let grade: String
        public let reason: String
        /// Customer service's share (basis points) for this line, instead of the grade's.
        public let basisPointsOverride: Int64?

        public init(lineID: String, quantity: Int64, grade: String, reason: String, basisPointsOverride: Int64? = nil) {
            self.lineID = lineID
            self.quantity = quantity
            self.grade = grade
            self.reason = reason
            self.basisPointsOverride = basisPointsOverride
        }
    }

    /// What the order paid and what was refunded before.
    public struct Ledger: Sendable, Equatable {
        public let shippingCharge: Int64
        /// Everything the customer paid (goods after discounts plus shipping).
        public let orderTotal: Int64
        /// Paid with vouchers (part of `orderTotal`).
        public let vouchers: Int64
        /// Units per line refunded by earlier returns.
        public let unitsRefunded: [String: Int64]
        /// Sum of earlier refunds, and whether one of them paid back the shipping.
        public let refundedBefore: Int64
        public let shippingRefunded: Bool

        public init(shippingCharge: Int64, orderTotal: Int64, vouchers: Int64, unitsRefunded: [String: Int64], refundedBefore: Int64, shippingRefunded: Bool) {
            self.shippingCharge = shippingCharge
            self.orderTotal = orderTotal
            self.vouchers = vouchers
            self.unitsRefunded = unitsRefunded
            self.refundedBefore = refundedBefore
            self.shippingRefunded = shippingRefunded
        }
    }

    public struct Line: Sendable, Equatable {
        public let lineID: String
        public let quantity: Int64
        public let amount: Int64
        /// Share of the paid amount refunded (10000 = all) and why.
        public let basisPoints: Int64
        public let basis: String
    }

    public struct Refund: Sendable, Equatable {
        public let lines: [Line]
        public let shipping: Int64
        public let total: Int64
        public let toVoucher: Int64
        public let toPayment: Int64
        public let shippingReason: String?
    }

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// "50%", "12.5%" from basis points.
    static func percent(_ points: Int64) -> String {
        let whole = points / 100, rest = points % 100
        return rest == 0 ? "\(whole)%" : "\(whole).\(rest % 10 == 0 ? "\(rest / 10)" : (rest < 10 ? "0\(rest)" : "\(rest)"))%"
    }

    public static func refund(_ inspected: [Inspected], order: ReturnPolicy.Order, ledger: Ledger, rules: ReturnRules) throws(Problem) -> Refund {
        let byID = Dictionary(order.lines.map { ($0.lineID, $0) }, uniquingKeysWith: { a, _ in a })
        let goodsTotal = PaidShare.goodsTotal(order.lines.map(ReturnPolicy.paidLine))
        var lines: [Line] = []
        var total: Int64 = 0
        var refundedUnits = ledger.unitsRefunded
        var shopAtFault = false
        for item in inspected {
            guard let line = byID[item.lineID] else { throw Problem(description: "line \(item.lineID) is not a line of order \(order.orderID)") }
            let before = refundedUnits[item.lineID] ?? 0
            guard item.quantity > 0, before <= line.quantity, item.quantity <= line.quantity - before else {
                throw Problem(description: "line \(item.lineID): \(item.quantity) unit(s) to refund, but \(line.quantity - min(before, line.quantity)) of \(line.quantity) are left")
            }
            guard let paid = PaidShare.paid(units: item.quantity, of: ReturnPolicy.paidLine(line), orderDiscount: order.orderDiscount, goodsTotal: goodsTotal) else {
                throw Problem(description: "line \(item.lineID): the amount paid cannot be computed")
            }
            let reason = rules.reason(item.reason)
            let points: Int64
            let basis: String
            if let override = item.basisPointsOverride {
                points = min(max(override, 0), 10_000)
                basis = "customer service decided \(percent(points)) of the price paid"
                if reason?.shopAtFault == true { shopAtFault = true }
            } else if reason?.shopAtFault == true {
                points = 10_000
                basis = "reason \(item.reason): the shop was at fault, refunded in full"
                shopAtFault = true
            } else if let gradePoints = rules.refundBasisPointsByGrade[item.grade] {
                points = gradePoints
                basis = "grade \(item.grade): \(percent(gradePoints)) of the price paid"
            } else {
                throw Problem(description: "line \(item.lineID): grade \(item.grade) is not one of \(rules.grades.joined(separator: ", "))")
            }
            let amount = PaidShare.multiplyDivide(paid, points, 10_000)
            guard !total.addingReportingOverflow(amount).overflow else { throw Problem(description: "the refund overflows") }
            total += amount
            refundedUnits[item.lineID] = before + item.quantity
            lines.append(Line(lineID: item.lineID, quantity: item.quantity, amount: amount, basisPoints: points, basis: basis))
        }
        guard !lines.isEmpty else { throw Problem(description: "nothing to refund") }
        // § 357 (2) BGB: a withdrawal of the whole order gets the standard delivery charge back; a shop's fault always does.
        let wholeOrder = order.lines.allSatisfy { (refundedUnits[$0.lineID] ?? 0) >= $0.quantity }
        var shipping: Int64 = 0
        var shippingReason: String?
        if !ledger.shippingRefunded, ledger.shippingCharge > 0, wholeOrder || shopAtFault {
            shipping = ledger.shippingCharge
            shippingReason = wholeOrder ? "the whole order came back" : "the shop was at fault"
            guard !total.addingReportingOverflow(shipping).overflow else { throw Problem(description: "the refund overflows") }
            total += shipping
        }
        // Vouchers get back their share of what is refunded, cumulatively over the order's refunds (no cent drifts).
        let after = ledger.refundedBefore.addingReportingOverflow(total)
        guard !after.overflow else { throw Problem(description: "the refund overflows") }
        let paidTotal = max(ledger.orderTotal, 1)
        let voucher = min(ledger.vouchers, PaidShare.multiplyDivide(after.partialValue, ledger.vouchers, paidTotal))
            - min(ledger.vouchers, PaidShare.multiplyDivide(ledger.refundedBefore, ledger.vouchers, paidTotal))
        let toVoucher = min(max(voucher, 0), total)
        return Refund(lines: lines, shipping: shipping, total: total, toVoucher: toVoucher, toPayment: total - toVoucher, shippingReason: shippingReason)
    }
}
