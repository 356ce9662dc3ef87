import Foundation
import Shared

/// Capture's business constants, from `$OMS_CONFIG_DIR/capture.json`: served
/// countries, postal-code formats, payment methods, fraud weights and
/// thresholds. Never literals in the checks.
struct CaptureRules: VersionedRules {
    struct Payment: Sendable {
        /// Method → statuses with which an order may go on.
        let acceptedStatuses: [String: Set<String>]
        /// Methods where the order waits for the money (hold `payment`).
        let awaitingPaymentMethods: Set<String>
        let businessOnlyMethods: Set<String>
        let cashOnDeliveryCountries: Set<String>
        let prepaymentTimeoutHours: Int
    }

    struct Fraud: Sendable {
        let holdThreshold: Int
        let rejectThreshold: Int
        let countryMismatchPoints: Int
        /// Per ISO 4217 currency the amount above which a first order scores; an amount only means something in its currency.
        let firstOrderAbove: [String: Int64]
        let firstOrderAbovePoints: Int
        let disposableEmailDomains: Set<String>
        let disposableEmailPoints: Int
        let highRiskSkus: Set<String>
        let highRiskSkuPoints: Int
        let nameMismatchPoints: Int
        let velocityMaxOrders: Int
        let velocityWindowMinutes: Int
        let velocityPoints: Int
        /// What velocity counts orders by (e-mail, shipping address, client IP, payment reference).
        let velocityDimensions: Set<VelocityDimension>
    }

    enum VelocityDimension: String, Sendable, CaseIterable {
        case email, address, ip, paymentReference
    }

    /// A ship-complete order the published availability cannot serve: hold it
    /// (`stock`) or accept it as a back-order.
    enum ShortfallPolicy: String, Sendable { case hold, backorder }

    /// What to do with an SKU the catalog replica does not know: accept it, or
    /// hold the order (`catalog`) until Product.Changed arrives, rejecting it
    /// after `unknownSkuWaitMinutes`.
    enum UnknownSkuPolicy: String, Sendable { case accept, wait }

    let unknownSku: UnknownSkuPolicy
    let unknownSkuWaitMinutes: Int
    let validFrom: String
    let servedCountries: Set<String>
    let postalCodePatterns: [String: Pattern]
    let parcelLockerPatterns: [Pattern]
    let parcelLockerCustomerNumber: Pattern
    let payment: Payment
    let fraud: Fraud
    let shipCompleteShortfall: ShortfallPolicy

    /// A compiled regular expression with its source, for messages (`$` is the end of the text).
    typealias Pattern = StrictPattern

    static let fileName = "capture.json"

    /// Loads and checks the file; any problem names the file, the place and what is wrong.
    static func load(directory: String) throws -> CaptureRules {
        try ConfigurationFileError.load(fileName, directory: directory, build: CaptureRules.init)
    }

    /// `capture.json` and every `capture.<label>.json` beside it, each in force from its `validFrom`.
    static func loadVersions(directory: String) throws -> RuleVersions<CaptureRules> {
        try RuleVersions.load("capture", directory: directory, build: CaptureRules.init)
    }

    init(_ document: JSONValue) throws {
        let reader = RuleReader(document, path: "")
        validFrom = try reader.string("validFrom")
        guard RFC3339.isValid(validFrom) else { throw RuleFileProblem(path: "validFrom", key: "validFrom", problem: "must be an RFC 3339 date-time") }
        servedCountries = Set(try reader.strings("servedCountries"))
        var patterns: [String: Pattern] = [:]
        for (country, value) in try reader.object("postalCodePatterns") {
            guard let source = value.stringValue else {
                throw RuleFileProblem(path: "postalCodePatterns.\(country)", key: country, problem: "must be a string")
            }
            patterns[country] = try reader.pattern(source, at: "postalCodePatterns.\(country)", key: country)
        }
        postalCodePatterns = patterns
        parcelLockerPatterns = try reader.strings("parcelLockerPatterns").map {
            try reader.pattern($0, at: "parcelLockerPatterns", key: "parcelLockerPatterns")
        }
        parcelLockerCustomerNumber = try reader.pattern(try reader.string("parcelLockerCustomerNumberPattern"),
                                                        at: "parcelLockerCustomerNumberPattern", key: "parcelLockerCustomerNumberPattern")
        let catalog = try reader.child("catalog")
        let policy = try catalog.string("unknownSku")
        guard let unknownSku = UnknownSkuPolicy(rawValue: policy) else {
            throw RuleFileProblem(path: "catalog.unknownSku", key: "unknownSku", problem: "must be \"accept\" or \"wait\", found \"\(policy)\"")
        }
        self.unknownSku = unknownSku
        unknownSkuWaitMinutes = try catalog.integer("unknownSkuWaitMinutes", minimum: 1)
        let payment = try reader.child("payment")
        var statuses: [String: Set<String>] = [:]
        for (method, value) in try payment.object("methods") {
            guard let list = value.arrayValue?.compactMap(\.stringValue), list.count == value.arrayValue?.count else {
                throw RuleFileProblem(path: "payment.methods.\(method)", key: method, problem: "must be a list of statuses")
            }
            statuses[method] = Set(list)
        }
        self.payment = Payment(
            acceptedStatuses: statuses, awaitingPaymentMethods: Set(try payment.strings("awaitingPaymentMethods")),
            businessOnlyMethods: Set(try payment.strings("businessOnlyMethods")),
            cashOnDeliveryCountries: Set(try payment.strings("cashOnDeliveryCountries")),
            prepaymentTimeoutHours: try payment.integer("prepaymentTimeoutHours", minimum: 1))
        let fraud = try reader.child("fraud")
        let firstOrder = try fraud.child("firstOrderAbove")
        let disposable = try fraud.child("disposableEmailDomains")
        let risky = try fraud.child("highRiskSkus")
        let velocity = try fraud.child("velocity")
        self.fraud = Fraud(
            holdThreshold: try fraud.integer("holdThreshold", minimum: 1),
            rejectThreshold: try fraud.integer("rejectThreshold", minimum: 1),
            countryMismatchPoints: try fraud.integer("billingShippingCountryMismatchPoints", minimum: 0),
            firstOrderAbove: try Self.amountsPerCurrency(firstOrder, path: "fraud.firstOrderAbove"),
            firstOrderAbovePoints: try firstOrder.integer("points", minimum: 0),
            disposableEmailDomains: Set(try disposable.strings("domains").map { $0.lowercased() }),
            disposableEmailPoints: try disposable.integer("points", minimum: 0),
            highRiskSkus: Set(try risky.strings("skus")), highRiskSkuPoints: try risky.integer("points", minimum: 0),
            nameMismatchPoints: try fraud.integer("nameMismatchPoints", minimum: 0),
            velocityMaxOrders: try velocity.integer("maxOrders", minimum: 1),
            velocityWindowMinutes: try velocity.integer("windowMinutes", minimum: 1),
            velocityPoints: try velocity.integer("points", minimum: 0),
            velocityDimensions: Set(try velocity.strings("dimensions").map { name in
                guard let dimension = VelocityDimension(rawValue: name) else {
                    throw RuleFileProblem(path: "fraud.velocity.dimensions", key: "dimensions",
                                          problem: "\"\(name)\" is not one of \(VelocityDimension.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return dimension
            }))
        let availability = try reader.child("availability")
        let shortfall = try availability.string("shipCompleteShortfall")
        guard let shipCompleteShortfall = ShortfallPolicy(rawValue: shortfall) else {
            throw RuleFileProblem(path: "availability.shipCompleteShortfall", key: "shipCompleteShortfall",
                                  problem: "must be \"hold\" or \"backorder\", found \"\(shortfall)\"")
        }
        self.shipCompleteShortfall = shipCompleteShortfall
        guard self.fraud.rejectThreshold > self.fraud.holdThreshold else {
            throw RuleFileProblem(path: "fraud.rejectThreshold", key: "rejectThreshold", problem: "must be above fraud.holdThreshold")
        }
    }
}

extension RuleReader {
    func pattern(_ source: String, at path: String, key: String) throws -> CaptureRules.Pattern {
        do {
            return try CaptureRules.Pattern(source)
        } catch {
            throw RuleFileProblem(path: path, key: key, problem: "\"\(source)\" is not a valid regular expression")
        }
    }
}

extension CaptureRules {
    /// `amounts`: { "EUR": 50000, "CHF": 50000 } (minor units per currency); the older single `amount` is read with its
    /// `currency` (EUR when none is given, as the shipped file always meant).
    static func amountsPerCurrency(_ reader: RuleReader, path: String) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        if let amounts = reader.optional("amounts") {
            guard case .object(let entries) = amounts else { throw RuleFileProblem(path: "\(path).amounts", key: "amounts", problem: "must be an object of currency → amount") }
            for (code, value) in entries {
                guard Currency(code) != nil else { throw RuleFileProblem(path: "\(path).amounts.\(code)", key: code, problem: "must be an ISO 4217 code") }
                guard let amount = value.int64Value, amount >= 0 else { throw RuleFileProblem(path: "\(path).amounts.\(code)", key: code, problem: "must be an amount ≥ 0 in minor units") }
                result[code] = amount
            }
        }
        if reader.optional("amount") != nil {
            let currency = reader.optional("currency")?.stringValue ?? "EUR"
            guard Currency(currency) != nil else { throw RuleFileProblem(path: "\(path).currency", key: "currency", problem: "must be an ISO 4217 code") }
            result[currency] = Int64(try reader.integer("amount", minimum: 0))
        }
        guard !result.isEmpty else { throw RuleFileProblem(path: path, key: "amounts", problem: "name at least one currency's amount") }
        return result
    }
}
