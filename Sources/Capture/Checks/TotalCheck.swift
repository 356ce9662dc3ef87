import Shared

/// Lines × quantity + shipping must match what the customer pays.
enum TotalCheck {
    static func evaluate(_ order: OrderSubmission) -> [CheckFinding] {
        // Both amounts are in the order's currency (OrderSubmission builds them so).
        let expected = order.orderTotal
        if order.pricesIncludeTax {
            guard expected == order.paymentAmount else {
                return [CheckFinding(check: "total", code: "total.mismatch", effect: .hold(.total),
                                     message: "lines + shipping = \(expected), payment amount = \(order.paymentAmount)")]
            }
        } else if order.paymentAmount.minorUnits < expected.minorUnits {
            // Net prices: tax is added by Billing, so the payment can only be higher than the net sum.
            return [CheckFinding(check: "total", code: "total.below-net", effect: .hold(.total),
                                 message: "payment amount \(order.paymentAmount) is below the net total \(expected)")]
        }
        return []
    }
}
