/// Lines × quantity + shipping must match what the customer pays.
enum TotalCheck {
    static func evaluate(_ order: OrderSubmission) -> [CheckFinding] {
        // IntakeDecision refuses an order whose totals overflow before any check runs.
        guard let lines = order.linesTotal else { return [] }
        let expected = lines + order.shippingCharge
        if order.pricesIncludeTax {
            guard expected == order.paymentAmount else {
                return [CheckFinding(check: "total", code: "total.mismatch", effect: .hold(.total),
                                     message: "lines + shipping = \(expected), payment amount = \(order.paymentAmount) (\(order.currency) minor units)")]
            }
        } else if order.paymentAmount < expected {
            // Net prices: tax is added by Billing, so the payment can only be higher than the net sum.
            return [CheckFinding(check: "total", code: "total.below-net", effect: .hold(.total),
                                 message: "payment amount \(order.paymentAmount) is below the net total \(expected) (\(order.currency) minor units)")]
        }
        return []
    }
}
