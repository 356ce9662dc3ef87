import Foundation

/// The territory rule shared by Fulfillment (customs declarations) and Billing (VAT treatment):
/// which places belong to the EU customs and VAT territory, decided from country AND postal code.
/// A country list with validity dates (the United Kingdom left on 2021-01-01), the areas of member
/// states outside (Heligoland, Büsingen, Livigno, Campione d'Italia, Canary Islands, Ceuta,
/// Melilla, Åland, Mount Athos, the French overseas departments, …) and areas of other countries
/// inside for goods (Northern Ireland), all data in `$OMS_CONFIG_DIR/territory.json`.
public struct EUTerritory: Sendable {
    public struct Member: Sendable {
        public let country: String
        public let validFrom: Date
        public let validTo: Date?
    }

    /// An area of a country by postal-code prefixes (outside the territory, or inside for goods).
    public struct Area: Sendable {
        public let name: String
        public let country: String
        /// Postal-code prefixes ("27498", "35", "971").
        public let postalCodePrefixes: [String]
        public let validFrom: Date
        public let validTo: Date?
    }

    public let members: [Member]
    public let exclusions: [Area]
    /// Areas of other countries inside for goods (Northern Ireland under the Windsor Framework).
    public let inclusions: [Area]

    public init(members: [Member], exclusions: [Area], inclusions: [Area] = []) {
        self.members = members
        self.exclusions = exclusions
        self.inclusions = inclusions
    }

    public enum Verdict: Sendable, Equatable {
        case inside
        /// Outside, with the reason a person reads ("CH is not in the EU customs territory", "Heligoland (DE 27498) …").
        case outside(String)
    }

    public func verdict(country: String, postalCode: String, at instant: Date) -> Verdict {
        func valid(_ from: Date, _ to: Date?) -> Bool { from <= instant && (to.map { instant < $0 } ?? true) }
        let code = postalCode.uppercased().filter { !$0.isWhitespace && $0 != "-" }
        if inclusions.contains(where: { $0.country == country && valid($0.validFrom, $0.validTo) && $0.postalCodePrefixes.contains { code.hasPrefix($0) } }) {
            return .inside
        }
        guard members.contains(where: { $0.country == country && valid($0.validFrom, $0.validTo) }) else {
            return .outside("\(country) is not in the EU customs territory")
        }
        if let area = exclusions.first(where: { $0.country == country && valid($0.validFrom, $0.validTo) && $0.postalCodePrefixes.contains { code.hasPrefix($0) } }) {
            return .outside("\(area.name) (\(country) \(postalCode)) is outside the EU customs or VAT territory")
        }
        return .inside
    }

    /// Reads `territory.json` in `directory`.
    public static func load(directory: String) throws -> EUTerritory {
        try ConfigurationFileError.load("territory.json", directory: directory) { try parse(RuleReader($0, path: "")) }
    }

    public static func parse(_ reader: RuleReader) throws -> EUTerritory {
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
        func areas(_ key: String) throws -> [Area] {
            var result: [Area] = []
            for (i, value) in (reader.optional(key)?.arrayValue ?? []).enumerated() {
                let r = RuleReader(value, path: reader.pathOf("\(key)[\(i)]"))
                let prefixes = try r.strings("postalCodePrefixes")
                guard !prefixes.isEmpty, prefixes.allSatisfy({ !$0.isEmpty }) else {
                    throw RuleFileProblem(path: r.pathOf("postalCodePrefixes"), key: "postalCodePrefixes", problem: "must list at least one non-empty prefix")
                }
                result.append(Area(name: try r.string("name"), country: try r.string("country"), postalCodePrefixes: prefixes.map { $0.uppercased() },
                                        validFrom: try date(r, "validFrom") ?? .distantPast, validTo: try date(r, "validTo")))
            }
            return result
        }
        return EUTerritory(members: members, exclusions: try areas("excludedAreas"), inclusions: try areas("includedAreas"))
    }
}

