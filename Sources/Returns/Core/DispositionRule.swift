import Foundation

/// The disposition rule: at inspection, reason × product category × grade (× drop-ship) decide what becomes
/// of the returned units — the first row of the configured table whose conditions all hold.
public enum DispositionRule {
    public struct Decision: Sendable, Equatable {
        public let disposition: ReturnRules.Disposition
        /// The row that decided ("manual" for customer service's decision).
        public let rule: String
        /// The SKU the units go back to stock under: the line's own for restock, the B-stock SKU for refurbish.
        public let stockSKU: String?
    }

    public static func decide(sku: String, reason: String, grade: String, product: ReturnPolicy.Product?, rules: ReturnRules) -> Decision {
        let dropShip = product?.dropShipSupplier != nil
        for row in rules.dispositions {
            if let reasons = row.reasons, !reasons.contains(reason) { continue }
            if let grades = row.grades, !grades.contains(grade) { continue }
            if let categories = row.categories, !(product?.category.map(categories.contains) ?? false) { continue }
            if let wanted = row.dropShip, wanted != dropShip { continue }
            return decision(row.disposition, rule: row.rule, sku: sku, rules: rules)
        }
        // Unreachable with a loaded table (its last row has no conditions); a person looks rather than guessing.
        return Decision(disposition: .manualInspection, rule: "no-row", stockSKU: nil)
    }

    /// What a disposition means for stock; refurbish without a configured B-stock SKU goes to a person.
    public static func decision(_ disposition: ReturnRules.Disposition, rule: String, sku: String, rules: ReturnRules) -> Decision {
        switch disposition {
        case .restock: return Decision(disposition: .restock, rule: rule, stockSKU: sku)
        case .refurbish:
            guard let bStock = rules.bStockSKUs[sku] else {
                return Decision(disposition: .manualInspection, rule: "\(rule): no B-stock SKU configured for \(sku)", stockSKU: nil)
            }
            return Decision(disposition: .refurbish, rule: rule, stockSKU: bStock)
        case .manualInspection, .scrap, .returnToSupplier: return Decision(disposition: disposition, rule: rule, stockSKU: nil)
        }
    }
}
