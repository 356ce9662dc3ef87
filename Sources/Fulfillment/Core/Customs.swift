import Foundation
import Shared

/// The customs rule: does a parcel leave the EU customs (or VAT) territory, and
/// then which declaration travels with it.
///
/// Decided from country AND postal code: a country list with validity dates (the
/// United Kingdom left on 2021-01-01) and the areas of member states outside the
/// customs or VAT territory (Heligoland, Büsingen, Livigno, Campione d'Italia,
/// Canary Islands, Ceuta, Melilla, Åland, Mount Athos, the French overseas
/// departments, …), all data in the fulfillment rule file.
public struct CustomsTerritory: Sendable {
    public struct Member: Sendable {
        public let country: String
        public let validFrom: Date
        public let validTo: Date?
    }

    public struct Exclusion: Sendable {
        public let name: String
        public let country: String
        /// Postal-code prefixes ("27498", "35", "971").
        public let postalCodePrefixes: [String]
        public let validFrom: Date
        public let validTo: Date?
    }

    public let members: [Member]
    public let exclusions: [Exclusion]

    public init(members: [Member], exclusions: [Exclusion]) {
        self.members = members
        self.exclusions = exclusions
    }

    public enum Verdict: Sendable, Equatable {
        case inside
        /// Outside, with the reason a person reads ("CH is not in the EU customs territory", "Heligoland (DE 27498) …").
        case outside(String)
    }

    public func verdict(country: String, postalCode: String, at instant: Date) -> Verdict {
        func valid(_ from: Date, _ to: Date?) -> Bool { from <= instant && (to.map { instant < $0 } ?? true) }
        guard members.contains(where: { $0.country == country && valid($0.validFrom, $0.validTo) }) else {
            return .outside("\(country) is not in the EU customs territory")
        }
        let code = postalCode.filter { !$0.isWhitespace && $0 != "-" }
        if let area = exclusions.first(where: { $0.country == country && valid($0.validFrom, $0.validTo) && $0.postalCodePrefixes.contains { code.hasPrefix($0) } }) {
            return .outside("\(area.name) (\(country) \(postalCode)) is outside the EU customs or VAT territory")
        }
        return .inside
    }

    public static func parse(_ reader: RuleReader) throws -> CustomsTerritory {
        func date(_ r: RuleReader, _ key: String) throws -> Date? {
            guard let text = r.optional(key) else { return nil }
            guard let string = text.stringValue, let instant = Optional(EventTime.parse(string)), instant != .distantPast else {
                throw RuleFileProblem(path: r.pathOf(key), key: key, problem: "must be an RFC 3339 date-time")
            }
            return instant
        }
        var members: [Member] = []
        for (i, value) in (reader.optional("members")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: reader.pathOf("members[\(i)]"))
            let country = try r.string("country")
            guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw RuleFileProblem(path: r.pathOf("country"), key: "country", problem: "must be an ISO 3166-1 alpha-2 code")
            }
            members.append(Member(country: country, validFrom: try date(r, "validFrom") ?? .distantPast, validTo: try date(r, "validTo")))
        }
        guard !members.isEmpty else { throw RuleFileProblem(path: reader.pathOf("members"), key: "members", problem: "must list the member states") }
        var exclusions: [Exclusion] = []
        for (i, value) in (reader.optional("excludedAreas")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: reader.pathOf("excludedAreas[\(i)]"))
            let prefixes = try r.strings("postalCodePrefixes")
            guard !prefixes.isEmpty, prefixes.allSatisfy({ !$0.isEmpty }) else {
                throw RuleFileProblem(path: r.pathOf("postalCodePrefixes"), key: "postalCodePrefixes", problem: "must list at least one non-empty prefix")
            }
            exclusions.append(Exclusion(name: try r.string("name"), country: try r.string("country"), postalCodePrefixes: prefixes,
                                        validFrom: try date(r, "validFrom") ?? .distantPast, validTo: try date(r, "validTo")))
        }
        return CustomsTerritory(members: members, exclusions: exclusions)
    }
}

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
