/// What a customer paid for some units of an order line: its price less the line's own discount and its
/// share of the order-level discounts. Returns refunds by this rule and Billing caps a credit note by it,
/// so that a returned line of a discounted order never pays back more than was paid for it.
public enum PaidShare {
    /// ⌊a × b / c⌋ for a, b ≥ 0 and c > 0, without overflowing on the way; saturates at `Int64.max` when the result does
    /// not fit (128-bit product, unsigned division: no input can trap it).
    public static func multiplyDivide(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        divide(a, b, c, roundingUp: false)
    }

    /// ⌈a × b / c⌉ for a, b ≥ 0 and c > 0 (saturates at `Int64.max`).
    public static func multiplyDivideRoundingUp(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        divide(a, b, c, roundingUp: true)
    }

    static func divide(_ a: Int64, _ b: Int64, _ c: Int64, roundingUp: Bool) -> Int64 {
        guard a > 0, b > 0, c > 0 else { return 0 }
        let product = UInt64(a).multipliedFullWidth(by: UInt64(b))
        guard product.high < UInt64(c) else { return .max }
        let (quotient, remainder) = UInt64(c).dividingFullWidth(product)
        let rounded = roundingUp && remainder != 0 ? quotient.addingReportingOverflow(1).partialValue : quotient
        return rounded >= UInt64(Int64.max) || (roundingUp && remainder != 0 && rounded == 0) ? .max : Int64(rounded)
    }

    public struct Line: Sendable, Equatable {
        public let lineID: String
        public let quantity: Int64
        public let unitPrice: Int64
        /// The line's own discount for all its units.
        public let discount: Int64

        public init(lineID: String, quantity: Int64, unitPrice: Int64, discount: Int64) {
            self.lineID = lineID
            self.quantity = quantity
            self.unitPrice = unitPrice
            self.discount = discount
        }

        /// The line's goods value after its own discount (0 when it would overflow or go negative).
        public var goods: Int64 {
            let (gross, overflow) = unitPrice.multipliedReportingOverflow(by: quantity)
            return overflow ? 0 : max(0, gross - discount)
        }
    }

    /// The goods of all lines after their own discounts: what order-level discounts are shared over.
    public static func goodsTotal(_ lines: [Line]) -> Int64 {
        lines.reduce(Int64(0)) { sum, line in
            let (total, overflow) = sum.addingReportingOverflow(line.goods)
            return overflow ? .max : total
        }
    }

    /// Paid for `units` of `line`, each discount share rounded up (against the refund); nil when the units are not
    /// between 1 and the line's quantity or the price overflows.
    public static func paid(units: Int64, of line: Line, orderDiscount: Int64, goodsTotal: Int64) -> Int64? {
        guard units > 0, units <= line.quantity, line.quantity > 0 else { return nil }
        let (gross, overflow) = line.unitPrice.multipliedReportingOverflow(by: units)
        guard !overflow else { return nil }
        let lineShare = multiplyDivideRoundingUp(line.discount, units, line.quantity)
        let afterLine = gross - min(lineShare, gross)
        let orderShare = min(afterLine, multiplyDivideRoundingUp(orderDiscount, afterLine, goodsTotal))
        return afterLine - orderShare
    }
}
