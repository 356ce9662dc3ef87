import Foundation
import Shared

/// Rates and settings the tax rule decides by: `$OMS_CONFIG_DIR/tax.json` (versions
/// `tax.<label>.json` with their own `validFrom`). Every rate has its own validity: the
/// date of supply (delivery), not the invoice date, decides which one applies.
public struct TaxRules: VersionedRules {
    public struct CountryRates: Sendable {
        public let country: String
        /// Basis points: 1900 = 19 %.
        public let standard: Int
        public let reduced: [Int]
        public let validFrom: Date
        public let validTo: Date?
    }

    public struct Seller: Sendable {
        public let name: String
        public let country: String
        public let vatID: String
        public let taxNumber: String?
        /// BG-6 (XRechnung requires it): who answers questions about an invoice.
        public var contact: (name: String, phone: String, email: String)? = nil
        /// Where customers pay by transfer (BG-16/17); printed on every document when given.
        public var iban: String? = nil
        public var bic: String? = nil
    }

    public let validFrom: String
    public let seller: Seller
    /// The EU-wide distance-sales threshold (10,000 EUR over the current and the previous calendar year).
    public let distanceSalesThreshold: Money
    /// Opt-in: destination VAT under the One-Stop-Shop from the first euro.
    public let destinationTaxFromFirstEuro: Bool
    /// Product tax class → "standard", "reduced-N" or "zero".
    public let taxClasses: [String: String]
    public let rates: [CountryRates]
    public let sellerStreet: String
    public let sellerPostalCode: String
    public let sellerCity: String
    /// How long issued invoices are kept (Germany: 8 years since 2025, counted from the end of the year).
    public var invoiceRetentionYears: Int { series(.invoice).retentionYears }
    /// Number prefix and retention per kind of document (`documents` in tax.json).
    public let documentSeries: [DocumentKind: DocumentSeries]
    /// When goods flows are invoiced (`invoicing` in tax.json).
    public let invoicing: InvoicingPolicy

    /// The invoicing rule: a customer's own setting beats its payment terms' code (the CRM's flag), which beats
    /// its customer type's, which beats the default.
    public struct InvoicingPolicy: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable {
            /// An invoice per shipment (partial invoices for partial deliveries).
            case perShipment
            /// One invoice once every unit of the order has shipped.
            case whenComplete
            /// Deliveries collected into one invoice per customer and month.
            case monthlyCollective
        }
        public let defaultMode: Mode
        public let customerTypes: [String: Mode]
        public let paymentTermsCodes: [String: Mode]
        public let customers: [String: Mode]
        /// Orders with assembly or technician work: this share of every line as a prepayment invoice when the order is accepted,
        /// the final invoice after Service.Completed; nil: no deposits.
        public let depositBasisPoints: Int64?
        /// A shipment that arrived before its order is parked; after this many hours without the order an operator is
        /// alerted (a dead letter), since nothing would ever invoice it.
        public let earlyShipmentAlertHours: Int
        public init(defaultMode: Mode, customerTypes: [String: Mode] = [:], paymentTermsCodes: [String: Mode] = [:], customers: [String: Mode] = [:],
                    depositBasisPoints: Int64? = nil, earlyShipmentAlertHours: Int = 4) {
            self.depositBasisPoints = depositBasisPoints
            self.earlyShipmentAlertHours = earlyShipmentAlertHours
            self.defaultMode = defaultMode
            self.customerTypes = customerTypes
            self.paymentTermsCodes = paymentTermsCodes
            self.customers = customers
        }

        public func mode(customerID: String, customerType: String?, paymentTermsCode: String?) -> Mode {
            if let mode = customers[customerID] { return mode }
            if let code = paymentTermsCode, let mode = paymentTermsCodes[code] { return mode }
            if let type = customerType, let mode = customerTypes[type] { return mode }
            return defaultMode
        }
    }

    /// The kinds of documents Billing issues, each with its own gapless number range per year.
    public enum DocumentKind: String, Sendable, CaseIterable {
        case invoice, creditNote, collectiveInvoice, prepaymentInvoice
        var defaultPrefix: String {
            switch self {
            case .invoice: return "RE"
            case .creditNote: return "RK"
            case .collectiveInvoice: return "SR"
            case .prepaymentInvoice: return "AR"
            }
        }
    }

    public struct DocumentSeries: Sendable, Equatable {
        /// "RE" → numbers RE-2026-000001.
        public let prefix: String
        /// Years after the end of the issue year that the document is kept.
        public let retentionYears: Int
        public init(prefix: String, retentionYears: Int) {
            self.prefix = prefix
            self.retentionYears = retentionYears
        }
    }

    public func series(_ kind: DocumentKind) -> DocumentSeries {
        documentSeries[kind] ?? DocumentSeries(prefix: kind.defaultPrefix, retentionYears: 8)
    }

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// The rate of `taxClass` in `country` on `date`, in basis points.
    public func rate(country: String, taxClass: String, on date: Date) throws(Problem) -> Int {
        guard let kind = taxClasses[taxClass] else { throw Problem(description: "tax class \(taxClass) is not in tax.json taxClasses") }
        guard let row = rates.first(where: { $0.country == country && $0.validFrom <= date && ($0.validTo.map { date < $0 } ?? true) }) else {
            throw Problem(description: "tax.json has no rates for \(country) on \(EventTime.format(date))")
        }
        switch kind {
        case "standard": return row.standard
        case "zero": return 0
        default:
            guard kind.hasPrefix("reduced-"), let n = Int(kind.dropFirst("reduced-".count)), n >= 1 else {
                throw Problem(description: "tax class \(taxClass) maps to \(kind), which is not standard, reduced-N or zero")
            }
            guard n <= row.reduced.count else { throw Problem(description: "\(country) has no reduced rate no. \(n) (tax class \(taxClass))") }
            return row.reduced[n - 1]
        }
    }

    public static func load(directory: String) throws -> RuleVersions<TaxRules> {
        try RuleVersions.load("tax", directory: directory, build: parse)
    }

    public static func parse(_ document: JSONValue) throws -> TaxRules {
        let root = RuleReader(document, path: "")
        let seller = try root.child("seller")
        let sellerVAT = try seller.string("vatId")
        guard case .valid = VATID.check(sellerVAT) else {
            throw RuleFileProblem(path: "seller.vatId", key: "vatId", problem: "\(sellerVAT) is not a valid VAT ID")
        }
        let threshold = try root.child("distanceSales").child("threshold")
        guard let currency = Currency(try threshold.string("currency")) else {
            throw RuleFileProblem(path: "distanceSales.threshold.currency", key: "currency", problem: "must be an ISO 4217 code")
        }
        func date(_ r: RuleReader, _ key: String) throws -> Date? {
            guard let value = r.optional(key) else { return nil }
            guard let text = value.stringValue, EventTime.parse(text) != .distantPast else {
                throw RuleFileProblem(path: r.pathOf(key), key: key, problem: "must be an RFC 3339 date-time")
            }
            return EventTime.parse(text)
        }
        var rates: [CountryRates] = []
        for (i, value) in (root.optional("rates")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: "rates[\(i)]")
            let standard = try r.integer("standard", minimum: 0)
            let reduced = (r.optional("reduced")?.arrayValue ?? []).compactMap(\.int64Value).map { Int($0) }
            guard standard <= 10_000, reduced.allSatisfy({ (0...10_000).contains($0) }) else {
                throw RuleFileProblem(path: r.path, key: "standard", problem: "rates are basis points between 0 and 10000")
            }
            let from = try date(r, "validFrom") ?? .distantPast, to = try date(r, "validTo")
            if let to, to <= from { throw RuleFileProblem(path: r.pathOf("validTo"), key: "validTo", problem: "must lie after validFrom") }
            rates.append(CountryRates(country: try r.string("country"), standard: standard, reduced: reduced, validFrom: from, validTo: to))
        }
        // Two rows of one country must not overlap: the date would not decide.
        for (i, a) in rates.enumerated() {
            for b in rates[(i + 1)...] where a.country == b.country {
                let aEnd = a.validTo ?? .distantFuture, bEnd = b.validTo ?? .distantFuture
                if a.validFrom < bEnd && b.validFrom < aEnd {
                    throw RuleFileProblem(path: "rates", key: "rates", problem: "two rate rows of \(a.country) overlap in time")
                }
            }
        }
        var classes: [String: String] = [:]
        for (key, value) in try root.object("taxClasses") {
            guard let kind = value.stringValue else { throw RuleFileProblem(path: "taxClasses.\(key)", key: key, problem: "must be a string") }
            classes[key] = kind
        }
        var sellerRecord = Seller(name: try seller.string("name"), country: try seller.string("country"), vatID: sellerVAT,
                                  taxNumber: seller.optional("taxNumber")?.stringValue)
        if let contact = seller.optional("contact") {
            let c = RuleReader(contact, path: "seller.contact")
            let email = try c.string("email")
            guard email.split(separator: "@").count == 2 else { throw RuleFileProblem(path: "seller.contact.email", key: "email", problem: "must be an e-mail address") }
            sellerRecord.contact = (try c.string("name"), try c.string("phone"), email)
        }
        if let iban = seller.optional("iban") {
            guard let text = iban.stringValue, IBAN.isValid(text) else {
                throw RuleFileProblem(path: "seller.iban", key: "iban", problem: "must be an IBAN with valid check digits, without spaces")
            }
            sellerRecord.iban = text
            sellerRecord.bic = seller.optional("bic")?.stringValue
        }
        return TaxRules(validFrom: try root.string("validFrom"),
                        seller: sellerRecord,
                        distanceSalesThreshold: Money(minorUnits: Int64(try threshold.integer("amount", minimum: 0)), currency: currency),
                        destinationTaxFromFirstEuro: root.optional("distanceSales")?["destinationTaxFromFirstEuro"]?.boolValue ?? false,
                        taxClasses: classes, rates: rates, sellerStreet: try seller.string("street"), sellerPostalCode: try seller.string("postalCode"),
                        sellerCity: try seller.string("city"), documentSeries: try documentSeries(root), invoicing: try invoicing(root))
    }

    static func invoicing(_ root: RuleReader) throws -> InvoicingPolicy {
        guard let value = root.optional("invoicing") else { return InvoicingPolicy(defaultMode: .perShipment) }
        let r = RuleReader(value, path: "invoicing")
        func mode(_ v: JSONValue, _ path: String) throws -> InvoicingPolicy.Mode {
            guard let text = v.stringValue, let mode = InvoicingPolicy.Mode(rawValue: text) else {
                throw RuleFileProblem(path: path, key: path, problem: "one of \(InvoicingPolicy.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return mode
        }
        func table(_ key: String) throws -> [String: InvoicingPolicy.Mode] {
            guard let object = r.optional(key) else { return [:] }
            guard case .object(let entries) = object else { throw RuleFileProblem(path: "invoicing.\(key)", key: key, problem: "must be an object") }
            var result: [String: InvoicingPolicy.Mode] = [:]
            for (name, v) in entries { result[name] = try mode(v, "invoicing.\(key).\(name)") }
            return result
        }
        return InvoicingPolicy(defaultMode: try r.optional("default").map { try mode($0, "invoicing.default") } ?? .perShipment,
                               customerTypes: try table("customerTypes"), paymentTermsCodes: try table("paymentTermsCodes"), customers: try table("customers"),
                               depositBasisPoints: try r.optional("deposit").map { value in
                                   let d = RuleReader(value, path: "invoicing.deposit")
                                   let bp = try d.integer("percentBasisPoints", minimum: 1)
                                   guard bp <= 10_000 else {
                                       throw RuleFileProblem(path: "invoicing.deposit.percentBasisPoints", key: "percentBasisPoints", problem: "1 to 10000 (100 %)")
                                   }
                                   return Int64(bp)
                               },
                               earlyShipmentAlertHours: try r.optional("earlyShipmentAlertHours").map { _ in
                                   let hours = try r.integer("earlyShipmentAlertHours", minimum: 1)
                                   guard hours <= 720 else {
                                       throw RuleFileProblem(path: "invoicing.earlyShipmentAlertHours", key: "earlyShipmentAlertHours", problem: "1 to 720 hours")
                                   }
                                   return hours
                               } ?? 4)
    }

    /// `documents`: { "invoice": { "prefix": "RE", "retentionYears": 8 }, … }; a kind left out gets its default.
    static func documentSeries(_ root: RuleReader) throws -> [DocumentKind: DocumentSeries] {
        var result: [DocumentKind: DocumentSeries] = [:]
        let legacyRetention = root.optional("retention")?["invoiceYears"]?.int64Value.map { Int($0) }
        for kind in DocumentKind.allCases {
            guard let value = root.optional("documents")?[kind.rawValue] else {
                result[kind] = DocumentSeries(prefix: kind.defaultPrefix, retentionYears: legacyRetention ?? 8)
                continue
            }
            let r = RuleReader(value, path: "documents.\(kind.rawValue)")
            let prefix = try r.string("prefix")
            guard (1...8).contains(prefix.count), prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw RuleFileProblem(path: r.pathOf("prefix"), key: "prefix", problem: "1 to 8 ASCII letters or digits")
            }
            let years = try r.integer("retentionYears", minimum: 1)
            guard years <= 30 else { throw RuleFileProblem(path: r.pathOf("retentionYears"), key: "retentionYears", problem: "at most 30") }
            result[kind] = DocumentSeries(prefix: prefix, retentionYears: years)
        }
        let prefixes = result.values.map(\.prefix)
        guard Set(prefixes).count == prefixes.count else {
            throw RuleFileProblem(path: "documents", key: "prefix", problem: "every kind of document needs its own prefix (ranges must not mix)")
        }
        return result
    }
}
