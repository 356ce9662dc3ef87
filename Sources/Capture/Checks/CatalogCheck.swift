/// What Capture's catalog replica says about one SKU.
struct ProductInfo: Sendable, Equatable {
    let sku: String
    let sellable: Bool
    let discontinued: Bool
    let bulky: Bool
    let dangerousGoodsClass: String?
}

/// Every line's SKU must be sellable and not discontinued; bulky and dangerous
/// goods cannot go to a parcel locker. SKUs the replica does not know yet pass
/// (waiting for the catalog is not built yet).
enum CatalogCheck {
    static func evaluate(_ order: OrderSubmission, products: [String: ProductInfo], rules: CaptureRules) -> [CheckFinding] {
        var findings: [CheckFinding] = []
        let skus = Array(Set(order.lines.map(\.sku))).sorted()
        for sku in skus {
            guard let product = products[sku] else { continue }
            if product.discontinued {
                findings.append(CheckFinding(check: "catalog", code: "sku.discontinued", effect: .reject, message: "\(sku) is discontinued"))
            } else if !product.sellable {
                findings.append(CheckFinding(check: "catalog", code: "sku.not-sellable", effect: .reject, message: "\(sku) is not sellable"))
            }
        }
        let toLocker = rules.parcelLockerPatterns.contains { $0.matches(order.shippingAddress.street) }
        if toLocker {
            let unsuitable = skus.compactMap { products[$0] }.filter { $0.bulky || $0.dangerousGoodsClass != nil }.map(\.sku)
            if !unsuitable.isEmpty {
                findings.append(CheckFinding(
                    check: "address", code: "address.locker-not-allowed", effect: .hold(.address),
                    message: "\(unsuitable.joined(separator: ", ")) cannot be sent to a parcel locker (bulky or dangerous goods); a home address is needed"))
            }
        }
        return findings
    }
}
