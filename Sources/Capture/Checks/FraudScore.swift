import Shared

/// Explainable fraud rules: each hit adds points and a sentence; the sum
/// against the configured thresholds decides.
enum FraudScore {
    static func evaluate(_ order: OrderSubmission, history: CustomerHistory, rules: CaptureRules.Fraud) -> [CheckFinding] {
        var hits: [CheckFinding] = []
        func hit(_ code: String, _ points: Int, _ message: String) {
            if points > 0 { hits.append(CheckFinding(check: "fraud", code: code, effect: .points(points), message: message)) }
        }
        if order.billingAddress.country != order.shippingAddress.country {
            hit("fraud.country-mismatch", rules.countryMismatchPoints,
                "billing country \(order.billingAddress.country) differs from shipping country \(order.shippingAddress.country)")
        }
        let total = order.orderTotal
        // The threshold of the order's own currency; a currency the file names no amount for is never compared with another's.
        if history.previousOrders == 0, let limit = rules.firstOrderAbove[order.currency], total.minorUnits > limit {
            hit("fraud.first-order-high-value", rules.firstOrderAbovePoints,
                "first order of this customer and worth \(total) (above \(Money(minorUnits: limit, currency: total.currency)))")
        }
        if let domain = order.customer.email.split(separator: "@").last.map({ $0.lowercased() }),
           rules.disposableEmailDomains.contains(domain) {
            hit("fraud.disposable-email", rules.disposableEmailPoints, "e-mail domain \(domain) is a disposable-address service")
        }
        let risky = Set(order.lines.map(\.sku)).intersection(rules.highRiskSkus)
        if !risky.isEmpty {
            hit("fraud.high-risk-sku", rules.highRiskSkuPoints, "contains high-risk item(s) \(risky.sorted().joined(separator: ", "))")
        }
        if normalized(order.billingAddress.name) != normalized(order.shippingAddress.name) {
            hit("fraud.name-mismatch", rules.nameMismatchPoints,
                "billing name \"\(order.billingAddress.name)\" differs from shipping name \"\(order.shippingAddress.name)\"")
        }
        let counts: [(CaptureRules.VelocityDimension, String, Int)] = [
            (.email, "e-mail", history.recentOrdersSameEmail), (.address, "shipping address", history.recentOrdersSameAddress),
            (.ip, "client IP", history.recentOrdersSameIP), (.paymentReference, "payment reference", history.recentOrdersSamePaymentReference),
        ]
        let fast = counts.filter { rules.velocityDimensions.contains($0.0) && $0.2 >= rules.velocityMaxOrders }
        if !fast.isEmpty {
            // One hit however many dimensions agree: they usually describe the same burst.
            hit("fraud.velocity", rules.velocityPoints,
                fast.map { "\($0.2) earlier orders from this \($0.1)" }.joined(separator: ", ")
                    + " within \(rules.velocityWindowMinutes) min (limit \(rules.velocityMaxOrders))")
        }
        let score = CheckFinding.score(hits)
        if score >= rules.rejectThreshold {
            hits.append(CheckFinding(check: "fraud", code: "fraud.score-reject", effect: .reject,
                                     message: "fraud score \(score) reaches the reject threshold \(rules.rejectThreshold)"))
        } else if score >= rules.holdThreshold {
            hits.append(CheckFinding(check: "fraud", code: "fraud.score-review", effect: .hold(.review),
                                     message: "fraud score \(score) reaches the review threshold \(rules.holdThreshold)"))
        }
        return hits
    }

    private static func normalized(_ name: String) -> String {
        name.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
