import Foundation
import Shared

/// The customs rule (what a parcel leaving the EU customs or VAT territory carries); which places are
/// outside is the shared territory table (`EUTerritory`, `territory.json`), the same one Billing taxes by.

/// CN23 content of one parcel (UPU form; DHL Paket International always needs it).
public struct CustomsDeclaration: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public let description: String
        public let quantity: Int64
        public let netWeightGrams: Int
        public let value: Money
        public let hsCode: String
        public let originCountry: String
    }

    public let form: String
    public let category: String
    public let reason: String
    public let sender: PostalAddress
    public let recipient: PostalAddress
    public let items: [Item]
    public let totalValue: Money
    public let invoiceReference: String
    /// An export declaration (ATLAS) is needed above the threshold.
    public let exportDeclarationRequired: Bool

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Builds the declaration; a line without HS code (≥ 6 digits) or origin is a problem, never a blank field.
    public static func make(reason: String, sender: PostalAddress, recipient: PostalAddress,
                            items: [(sku: String, description: String, quantity: Int64, netWeightGrams: Int, unitValue: Money, hsCode: String?, origin: String?)],
                            invoiceReference: String, exportThreshold: Money) throws(Problem) -> CustomsDeclaration {
        var lines: [Item] = []
        var total = Money.zero(items.first?.unitValue.currency ?? exportThreshold.currency)
        for item in items {
            guard let hs = item.hsCode, hs.count >= 6, hs.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw Problem(description: "\(item.sku) has no HS code of at least 6 digits in the catalog; a CN23 needs one")
            }
            guard let origin = item.origin, origin.count == 2 else {
                throw Problem(description: "\(item.sku) has no country of origin in the catalog; a CN23 needs one")
            }
            let value: Money
            do {
                value = try item.unitValue.multiplied(by: item.quantity)
                total = try total.adding(value)
            } catch {
                throw Problem(description: "the customs value of \(item.sku) cannot be computed: \(error)")
            }
            lines.append(Item(description: item.description, quantity: item.quantity, netWeightGrams: item.netWeightGrams,
                              value: value, hsCode: hs, originCountry: origin))
        }
        // A value in another currency than the threshold's cannot be compared here: then the declaration is asked for.
        let over = (try? total.isGreater(than: exportThreshold)) ?? true
        return CustomsDeclaration(form: "CN23", category: "sale of goods", reason: reason, sender: sender, recipient: recipient, items: lines,
                                  totalValue: total, invoiceReference: invoiceReference, exportDeclarationRequired: over)
    }
}
