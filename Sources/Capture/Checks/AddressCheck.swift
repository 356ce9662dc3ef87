/// Shipping and billing address: served country, postal-code format, parcel lockers.
enum AddressCheck {
    static func evaluate(_ order: OrderSubmission, rules: CaptureRules) -> [CheckFinding] {
        var findings: [CheckFinding] = []
        for (role, address) in [("shipping", order.shippingAddress), ("billing", order.billingAddress)] {
            if role == "shipping" && !rules.servedCountries.contains(address.country) {
                findings.append(CheckFinding(check: "address", code: "address.country-not-served", effect: .reject,
                                             message: "we do not ship to \(address.country)"))
                continue
            }
            if let pattern = rules.postalCodePatterns[address.country], !pattern.matches(address.postalCode) {
                findings.append(CheckFinding(check: "address", code: "address.postal-code-invalid", effect: .hold(.address),
                                             message: "\(role) postal code \"\(address.postalCode)\" does not fit the format for \(address.country)"))
            }
        }
        let shipping = order.shippingAddress
        if rules.parcelLockerPatterns.contains(where: { $0.matches(shipping.street) }) {
            if let number = shipping.lockerCustomerNumber, rules.parcelLockerCustomerNumber.matches(number) {
                // A proper parcel locker address.
            } else {
                findings.append(CheckFinding(check: "address", code: "address.locker-customer-number-missing", effect: .hold(.address),
                                             message: "parcel locker \"\(shipping.street)\" needs the customer's locker number (postNumber)"))
            }
        }
        return findings
    }
}
