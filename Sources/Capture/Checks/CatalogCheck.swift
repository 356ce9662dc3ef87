/// What Capture's catalog replica says about one SKU.
struct ProductInfo: Sendable, Equatable {
    let sku: String
    let sellable: Bool
    let discontinued: Bool
    let bulky: Bool
    let dangerousGoodsClass: String?
}

/// Every line's SKU must be sellable and not discontinued; bulky and dangerous
/// goods cannot go to a parcel locker. An SKU the replica does not know yet
/// passes or holds the order (`catalog`), as `catalog.unknownSku` says.
enum CatalogCheck {
    static func evaluate(_ order: OrderSubmission, products: [String: ProductInfo], rules: CaptureRules) -> [CheckFinding] {
        evaluate(skus: order.lines.map(\.sku), shippingStreet: order.shippingAddress.street, products: products, rules: rules)
    }

    static func evaluate(skus lineSkus: [String], shippingStreet: String, products: [String: ProductInfo], rules: CaptureRules) -> [CheckFinding] {
        var findings: [CheckFinding] = []
        let skus = Array(Set(lineSkus)).sorted()
        let unknown = skus.filter { products[$0] == nil }
        if !unknown.isEmpty && rules.unknownSku == .wait {
            findings.append(CheckFinding(check: "catalog", code: "sku.unknown", effect: .hold(.catalog),
                                         message: "\(unknown.joined(separator: ", ")) not in the catalog yet; waiting up to \(rules.unknownSkuWaitMinutes) min"))
        }
        for sku in skus {
            guard let product = products[sku] else { continue }
            if product.discontinued {
                findings.append(CheckFinding(check: "catalog", code: "sku.discontinued", effect: .reject, message: "\(sku) is discontinued"))
            } else if !product.sellable {
                findings.append(CheckFinding(check: "catalog", code: "sku.not-sellable", effect: .reject, message: "\(sku) is not sellable"))
            }
        }
        let toLocker = rules.parcelLockerPatterns.contains { $0.matches(shippingStreet) }
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
