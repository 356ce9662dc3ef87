import Foundation
import Shared

/// EN 16931 VAT category codes (BT-118 / BT-151).
public enum VATCategory: String, Sendable, Equatable {
    case standard = "S", zero = "Z", exempt = "E", reverseCharge = "AE", intraCommunity = "K", export = "G", outOfScope = "O"
}

/// The tax rule: how one supply is taxed — where, at which rate, with which code and legal note.
///
/// - outside the EU VAT territory (country and postal code, the shared `EUTerritory` table): goods are a
///   tax-exempt export (G); services to a business are not taxable here (O), to a consumer taxed at home;
/// - at home: the seller's rate (S);
/// - another EU state, business with a verified VAT ID: goods an exempt intra-Community supply (K), services
///   reverse charge (AE). A VAT ID that fails its check, or one only plausible in format without a stored VIES
///   confirmation, never yields 0 %: the supply is taxed as to a consumer, and the document says why;
/// - another EU state, consumer: the seller's VAT while the EU-wide distance sales (this and last calendar
///   year, this supply included) stay within the threshold, else — or from the first euro when opted in —
///   the destination's VAT under the One-Stop-Shop.
public enum TaxTreatment {
    public enum BuyerType: String, Sendable { case consumer = "b2c", business = "b2b" }
    public enum SupplyKind: String, Sendable { case goods, service }

    public struct Buyer: Sendable {
        public let type: BuyerType
        public let vatID: String?
        /// A VIES confirmation of `vatID` is stored (the optional online step).
        public let vatIDConfirmed: Bool
        public let country: String
        public let postalCode: String
        public init(type: BuyerType, vatID: String?, vatIDConfirmed: Bool = false, country: String, postalCode: String) {
            self.type = type
            self.vatID = vatID
            self.vatIDConfirmed = vatIDConfirmed
            self.country = country
            self.postalCode = postalCode
        }
    }

    public struct Decision: Sendable, Equatable {
        public let category: VATCategory
        /// Whose VAT (ISO country; "XI" for Northern Ireland); nil for exempt and out-of-scope supplies.
        public let taxCountry: String?
        public let rateBasisPoints: Int
        /// VATEX code (BT-121) for exempt and zero categories.
        public let exemptionCode: String?
        /// Our reason code (for finance and accounting exports).
        public let reason: String
        /// What the document must say.
        public let legalNote: String?
        public init(category: VATCategory, taxCountry: String?, rateBasisPoints: Int, exemptionCode: String?, reason: String, legalNote: String?) {
            self.category = category
            self.taxCountry = taxCountry
            self.rateBasisPoints = rateBasisPoints
            self.exemptionCode = exemptionCode
            self.reason = reason
            self.legalNote = legalNote
        }
    }

    /// `distanceSalesSoFar`: EU-wide B2C distance sales of this and the previous calendar year before this supply, in the threshold's currency.
    public static func decide(kind: SupplyKind, taxClass: String, buyer: Buyer, supplyDate: Date, supplyNet: Money, distanceSalesSoFar: Money,
                              rules: TaxRules, territory: EUTerritory) throws(TaxRules.Problem) -> Decision {
        let seller = rules.seller
        func taxed(in country: String, reason: String, note: String?) throws(TaxRules.Problem) -> Decision {
            let rate = try rules.rate(country: country, taxClass: taxClass, on: supplyDate)
            return Decision(category: rate == 0 ? .zero : .standard, taxCountry: country, rateBasisPoints: rate, exemptionCode: nil, reason: reason, legalNote: note)
        }
        if case .outside = territory.verdict(country: buyer.country, postalCode: buyer.postalCode, at: supplyDate) {
            switch (kind, buyer.type) {
            case (.goods, _):
                return Decision(category: .export, taxCountry: nil, rateBasisPoints: 0, exemptionCode: "VATEX-EU-G", reason: "export",
                                legalNote: "Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1 Buchst. a i. V. m. § 6 UStG)")
            case (.service, .business):
                return Decision(category: .outOfScope, taxCountry: nil, rateBasisPoints: 0, exemptionCode: "VATEX-EU-O", reason: "service-abroad",
                                legalNote: "Nicht im Inland steuerbare Leistung (§ 3a Abs. 2 UStG)")
            case (.service, .consumer):
                return try taxed(in: seller.country, reason: "domestic", note: nil)
            }
        }
        // Northern Ireland: inside for goods, with its own VAT ("XI").
        let destination = buyer.country == "GB" ? "XI" : buyer.country
        if destination == seller.country { return try taxed(in: seller.country, reason: "domestic", note: nil) }

        var unverified: String?
        if buyer.type == .business {
            let verdict = buyer.vatID.map(VATID.check) ?? .invalid("no VAT ID given")
            let prefix = buyer.vatID.map { String($0.uppercased().filter { !$0.isWhitespace }.prefix(2)) }
            let expected = destination == "GR" ? "EL" : destination
            let verified = (verdict == .valid || (verdict == .formatOnly && buyer.vatIDConfirmed)) && prefix == expected
            if verified, let id = buyer.vatID {
                switch kind {
                case .goods:
                    return Decision(category: .intraCommunity, taxCountry: nil, rateBasisPoints: 0, exemptionCode: "VATEX-EU-IC", reason: "intra-community",
                                    legalNote: "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1 Buchst. b, § 6a UStG); USt-IdNr. des Leistenden \(seller.vatID), des Empfängers \(id)")
                case .service:
                    return Decision(category: .reverseCharge, taxCountry: nil, rateBasisPoints: 0, exemptionCode: "VATEX-EU-AE", reason: "reverse-charge",
                                    legalNote: "Steuerschuldnerschaft des Leistungsempfängers (§ 13b UStG, Art. 196 MwStSystRL); USt-IdNr. des Empfängers \(id)")
                }
            }
            switch verdict {
            case .invalid(let why): unverified = "VAT ID not valid (\(why)): VAT charged"
            case .formatOnly: unverified = "VAT ID \(buyer.vatID ?? "") not confirmed (no VIES result): VAT charged"
            case .valid: unverified = "VAT ID \(buyer.vatID ?? "") is not one of \(expected): VAT charged"
            }
        }
        if kind == .service { return try taxed(in: seller.country, reason: unverified == nil ? "domestic" : "vat-id-unverified", note: unverified) }
        // Distance sales to consumers (and to businesses whose VAT ID could not be verified).
        let total = (try? distanceSalesSoFar.adding(supplyNet)) ?? distanceSalesSoFar
        let above = rules.destinationTaxFromFirstEuro || ((try? total.isGreater(than: rules.distanceSalesThreshold)) ?? true)
        if above {
            let note = "Steuer des Bestimmungslands \(destination) im One-Stop-Shop-Verfahren (§ 18j UStG)" + (unverified.map { "; \($0)" } ?? "")
            return try taxed(in: destination, reason: unverified == nil ? "oss" : "vat-id-unverified", note: note)
        }
        return try taxed(in: seller.country, reason: unverified == nil ? "distance-sales-below-threshold" : "vat-id-unverified",
                         note: unverified ?? "Fernverkauf unterhalb der Lieferschwelle von \(rules.distanceSalesThreshold) (§ 3c Abs. 4 UStG)")
    }
}
