import Shared

/// Payment method and state: may the order go on, wait for the money, or never?
enum PaymentCheck {
    /// `ledger`: payments reported on shop.payments before this order arrived.
    static func evaluate(_ order: OrderSubmission, ledger: PaymentLedger = .empty, rules: CaptureRules.Payment) -> [CheckFinding] {
        let method = order.paymentMethod
        guard let accepted = rules.acceptedStatuses[method] else {
            return [CheckFinding(check: "payment", code: "payment.method-unknown", effect: .reject,
                                 message: "payment method \"\(method)\" is not offered (known: \(rules.acceptedStatuses.keys.sorted().joined(separator: ", ")))")]
        }
        var findings: [CheckFinding] = []
        if rules.businessOnlyMethods.contains(method) && order.customer.type != "b2b" {
            findings.append(CheckFinding(check: "payment", code: "payment.business-only", effect: .reject,
                                         message: "payment method \"\(method)\" is for business customers only"))
        }
        if method == "cash-on-delivery" && !rules.cashOnDeliveryCountries.contains(order.shippingAddress.country) {
            findings.append(CheckFinding(check: "payment", code: "payment.cod-country", effect: .reject,
                                         message: "cash on delivery is not available for \(order.shippingAddress.country) (only \(rules.cashOnDeliveryCountries.sorted().joined(separator: ", ")))"))
        }
        if let reason = ledger.failedReason {
            findings.append(CheckFinding(check: "payment", code: "payment.failed", effect: .reject,
                                         message: "the shop reported the payment failed: \(reason)"))
        } else if ledger.captured(in: order.paymentAmount.currency).minorUnits >= order.paymentAmount.minorUnits
                    && order.paymentAmount.minorUnits > 0 {
            // Paid already (Payment.Captured came first): nothing to wait for.
        } else if order.paymentStatus == "failed" || order.paymentStatus == "declined" {
            findings.append(CheckFinding(check: "payment", code: "payment.failed", effect: .reject,
                                         message: "payment \(order.paymentReference ?? "") was \(order.paymentStatus)"))
        } else if !accepted.contains(order.paymentStatus) {
            let waiting = rules.awaitingPaymentMethods.contains(method)
            findings.append(CheckFinding(
                check: "payment", code: waiting ? "payment.awaiting-funds" : "payment.not-authorized", effect: .hold(.payment),
                message: waiting
                    ? "\(method) not yet received; the order waits up to \(rules.prepaymentTimeoutHours) h for Payment.Captured"
                    : "payment status \"\(order.paymentStatus)\" is not enough for \(method) (needs \(accepted.sorted().joined(separator: " or ")))"))
        }
        return findings
    }
}
