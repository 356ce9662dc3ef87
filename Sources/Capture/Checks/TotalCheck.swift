import Shared

/// The total rule: lines × quantity less line and order discounts, plus shipping, must match what the
/// customer pays — the payment amount plus the vouchers redeemed (a voucher pays, it does not discount).
enum TotalCheck {
    static func evaluate(_ order: OrderSubmission) -> [CheckFinding] {
        // All amounts are in the order's currency (OrderSubmission builds them so); the contract's maxima keep the sum far from overflowing.
        let expected = order.orderTotal
        let paid = Money(minorUnits: order.paymentAmount.minorUnits.addingReportingOverflow(order.voucherTotal.minorUnits).partialValue,
                         currency: order.paymentAmount.currency)
        let vouchers = order.vouchers.isEmpty ? "" : " + vouchers \(order.voucherTotal)"
        let discounts = order.discounts.isEmpty && !order.lines.contains { $0.discount.minorUnits > 0 } ? "" : " (after discounts)"
        if order.pricesIncludeTax {
            guard expected == paid else {
                return [CheckFinding(check: "total", code: "total.mismatch", effect: .hold(.total),
                                     message: "lines + shipping\(discounts) = \(expected), payment amount \(order.paymentAmount)\(vouchers)")]
            }
        } else if paid.minorUnits < expected.minorUnits {
            // Net prices: tax is added by Billing, so the payment can only be higher than the net sum.
            return [CheckFinding(check: "total", code: "total.below-net", effect: .hold(.total),
                                 message: "payment amount \(order.paymentAmount)\(vouchers) is below the net total \(expected)\(discounts)")]
        }
        return []
    }
}
