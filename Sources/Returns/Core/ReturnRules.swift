import FulfillmentCore
import Foundation
import Shared

/// `$OMS_CONFIG_DIR/returns.json` (and dated versions `returns.<label>.json`): every rule of after-sales is
/// data — windows, what cannot come back, reasons, review thresholds, refund per grade, the disposition table,
/// B-stock SKUs, the portal's limits and where returns go.
public struct ReturnRules: VersionedRules, Sendable {
    public struct Reason: Sendable, Equatable {
        public let code: String
        public let german: String
        public let english: String
        /// The shop caused it (wrong item, arrived damaged): the grade does not reduce the refund and shipping is paid back.
        public let shopAtFault: Bool
        /// The shop pays the return label.
        public let shopPaysReturnShipping: Bool
        /// Held for customer service instead of being authorized at once.
        public let review: Bool

        public func label(_ language: PortalLanguage) -> String { language == .german ? german : english }
    }

    public enum B2BHandling: String, Sendable {
        case allowed, review, refused
    }

    /// What becomes of returned units.
    public enum Disposition: String, Sendable, CaseIterable {
        /// Back to sellable stock in the receiving warehouse.
        case restock
        /// Sold as B-stock under the configured SKU.
        case refurbish
        /// Customer service decides (`omsctl return decide`).
        case manualInspection = "manual-inspection"
        case scrap
        /// Drop-ship lines go back to their supplier.
        case returnToSupplier = "return-to-supplier"
    }

    /// One row of the disposition table; the first row whose conditions all hold decides. An absent condition matches anything.
    public struct DispositionRow: Sendable, Equatable {
        public let rule: String
        public let reasons: Set<String>?
        public let categories: Set<String>?
        public let grades: Set<String>?
        public let dropShip: Bool?
        public let disposition: Disposition
    }

    public struct Portal: Sendable, Equatable {
        public let maxPhotos: Int
        public let maxPhotoBytes: Int
        public let lookupsPerMinutePerClient: Int
        public let lookupsPerHourPerOrder: Int
    }

    public let validFrom: String
    /// Days from delivery a consumer may withdraw by law (§ 355 BGB: 14).
    public let consumerStatutoryDays: Int
    /// The shop's own, longer policy for consumers (never shorter than the statutory window).
    public let consumerPolicyDays: Int
    /// When no delivery was reported, the window starts this many days after shipping.
    public let assumedTransitDays: Int
    public let b2bHandling: B2BHandling
    public let b2bWindowDays: Int
    public let personalizedReturnable: Bool
    public let nonReturnableCategories: Set<String>
    public let reasons: [Reason]
    /// A request worth more than this (per currency, in the order's price basis) is held for customer service.
    public let reviewAbove: [String: Int64]
    /// Share of the paid amount refunded per inspection grade, in basis points (10000 = all).
    public let refundBasisPointsByGrade: [String: Int64]
    public let dispositions: [DispositionRow]
    /// SKU → the SKU its B-stock is sold under.
    public let bStockSKUs: [String: String]
    public let portal: Portal
    public let rmaPrefix: String
    /// Where returned parcels go (the return label's recipient) and the warehouse that receives them.
    public let returnWarehouseID: String
    public let returnAddress: PostalAddress
    public let labelCarrierService: String
    public let ssccExtensionDigit: Int
    public let ssccCompanyPrefix: String

    public var grades: [String] { refundBasisPointsByGrade.keys.sorted() }

    public func reason(_ code: String) -> Reason? { reasons.first { $0.code == code } }

    public static func load(directory: String) throws -> RuleVersions<ReturnRules> {
        try RuleVersions.load("returns", directory: directory) { try parse($0) }
    }

    public static func parse(_ document: JSONValue) throws -> ReturnRules {
        let root = RuleReader(document, path: "")
        let window = try root.child("window")
        let statutory = try window.integer("consumerStatutoryDays", minimum: 14)
        let policy = try window.integer("consumerPolicyDays", minimum: 0)
        guard policy >= statutory, policy <= 3650 else {
            throw RuleFileProblem(path: "window.consumerPolicyDays", key: "consumerPolicyDays",
                                  problem: "must be between consumerStatutoryDays (\(statutory)) and 3650")
        }
        let b2b = try root.child("b2b")
        guard let handling = B2BHandling(rawValue: try b2b.string("handling")) else {
            throw RuleFileProblem(path: "b2b.handling", key: "handling", problem: "must be allowed, review or refused")
        }
        let nonReturnable = try root.child("nonReturnable")
        guard case .bool(let personalizedReturnable)? = nonReturnable.optional("personalizedReturnable") else {
            throw RuleFileProblem(path: "nonReturnable.personalizedReturnable", key: "personalizedReturnable", problem: "must be true or false")
        }
        var reasons: [Reason] = []
        for (i, value) in (root.optional("reasons")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: "reasons[\(i)]")
            func flag(_ key: String) throws -> Bool {
                guard let v = r.optional(key) else { return false }
                guard case .bool(let b) = v else { throw RuleFileProblem(path: r.pathOf(key), key: key, problem: "must be true or false") }
                return b
            }
            let reason = Reason(code: try r.string("code"), german: try r.string("de"), english: try r.string("en"),
                                shopAtFault: try flag("shopAtFault"), shopPaysReturnShipping: try flag("shopPaysReturnShipping"), review: try flag("review"))
            guard !reasons.contains(where: { $0.code == reason.code }) else {
                throw RuleFileProblem(path: r.pathOf("code"), key: "code", problem: "\(reason.code) is listed twice")
            }
            reasons.append(reason)
        }
        guard !reasons.isEmpty else { throw RuleFileProblem(path: "reasons", key: "reasons", problem: "must list at least one reason") }
        var reviewAbove: [String: Int64] = [:]
        for (code, value) in (root.optional("reviewAbove")?.objectValue ?? [:]) {
            guard Currency(code) != nil, let amount = value.int64Value, amount >= 0 else {
                throw RuleFileProblem(path: "reviewAbove.\(code)", key: code, problem: "must map an ISO 4217 code to an amount in minor units")
            }
            reviewAbove[code] = amount
        }
        var grades: [String: Int64] = [:]
        for (grade, value) in try root.object("refundBasisPointsByGrade") {
            guard let points = value.int64Value, (0...10_000).contains(points) else {
                throw RuleFileProblem(path: "refundBasisPointsByGrade.\(grade)", key: grade, problem: "must be between 0 and 10000")
            }
            grades[grade] = points
        }
        guard !grades.isEmpty else {
            throw RuleFileProblem(path: "refundBasisPointsByGrade", key: "refundBasisPointsByGrade", problem: "must name at least one grade")
        }
        var rows: [DispositionRow] = []
        for (i, value) in (root.optional("dispositions")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: "dispositions[\(i)]")
            func set(_ key: String) throws -> Set<String>? { r.optional(key) == nil ? nil : Set(try r.strings(key)) }
            guard let disposition = Disposition(rawValue: try r.string("disposition")) else {
                throw RuleFileProblem(path: r.pathOf("disposition"), key: "disposition",
                                      problem: "must be one of \(Disposition.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let gradeSet = try set("grades")
            if let unknown = gradeSet?.subtracting(grades.keys).sorted().first {
                throw RuleFileProblem(path: r.pathOf("grades"), key: "grades", problem: "grade \(unknown) is not in refundBasisPointsByGrade")
            }
            if let unknown = try set("reasons")?.subtracting(reasons.map(\.code)).sorted().first {
                throw RuleFileProblem(path: r.pathOf("reasons"), key: "reasons", problem: "reason \(unknown) is not in reasons")
            }
            var dropShip: Bool?
            if let v = r.optional("dropShip") {
                guard case .bool(let b) = v else { throw RuleFileProblem(path: r.pathOf("dropShip"), key: "dropShip", problem: "must be true or false") }
                dropShip = b
            }
            rows.append(DispositionRow(rule: try r.string("rule"), reasons: try set("reasons"), categories: try set("categories"),
                                       grades: gradeSet, dropShip: dropShip, disposition: disposition))
        }
        // Every received unit must get a decision: the last row matches everything.
        guard let last = rows.last, last.reasons == nil, last.categories == nil, last.grades == nil, last.dropShip == nil else {
            throw RuleFileProblem(path: "dispositions", key: "dispositions", problem: "the last row must have no conditions (it decides what no other row does)")
        }
        var bStock: [String: String] = [:]
        for (sku, value) in (root.optional("bStockSkus")?.objectValue ?? [:]) {
            guard let target = value.stringValue, !target.isEmpty, target != sku else {
                throw RuleFileProblem(path: "bStockSkus.\(sku)", key: sku, problem: "must name another SKU")
            }
            bStock[sku] = target
        }
        let portal = try root.child("portal")
        let maxMiB = try portal.integer("maxPhotoMiB", minimum: 1)
        guard maxMiB <= 25 else { throw RuleFileProblem(path: "portal.maxPhotoMiB", key: "maxPhotoMiB", problem: "must be at most 25") }
        let maxPhotos = try portal.integer("maxPhotos", minimum: 0)
        guard maxPhotos <= 10 else { throw RuleFileProblem(path: "portal.maxPhotos", key: "maxPhotos", problem: "must be at most 10") }
        let rma = try root.child("rma")
        let prefix = try rma.string("prefix")
        guard (1...4).contains(prefix.count), prefix.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw RuleFileProblem(path: "rma.prefix", key: "prefix", problem: "must be 1 to 4 capital letters")
        }
        let destination = try root.child("returnTo")
        let address = try destination.child("address")
        let label = try root.child("label")
        let companyPrefix = try label.string("ssccCompanyPrefix")
        let extensionDigit = try label.integer("ssccExtensionDigit", minimum: 0)
        do { _ = try SSCC(extensionDigit: extensionDigit, companyPrefix: companyPrefix, serial: 0) } catch {
            throw RuleFileProblem(path: "label", key: "label", problem: error.description)
        }
        return ReturnRules(
            validFrom: try root.string("validFrom"), consumerStatutoryDays: statutory, consumerPolicyDays: policy,
            assumedTransitDays: try window.integer("assumedTransitDays", minimum: 0), b2bHandling: handling,
            b2bWindowDays: try b2b.integer("windowDays", minimum: 0), personalizedReturnable: personalizedReturnable,
            nonReturnableCategories: Set(try nonReturnable.strings("categories")), reasons: reasons, reviewAbove: reviewAbove,
            refundBasisPointsByGrade: grades, dispositions: rows, bStockSKUs: bStock,
            portal: Portal(maxPhotos: maxPhotos, maxPhotoBytes: maxMiB * 1_048_576,
                           lookupsPerMinutePerClient: try portal.integer("lookupsPerMinutePerClient", minimum: 1),
                           lookupsPerHourPerOrder: try portal.integer("lookupsPerHourPerOrder", minimum: 1)),
            rmaPrefix: prefix, returnWarehouseID: try destination.string("warehouseId"),
            returnAddress: PostalAddress(name: try address.string("name"), street: try address.string("street"),
                                         postalCode: try address.string("postalCode"), city: try address.string("city"),
                                         country: try address.string("country")),
            labelCarrierService: try label.string("carrierService"), ssccExtensionDigit: extensionDigit, ssccCompanyPrefix: companyPrefix)
    }
}

/// The portal's languages (German first: the shop's home market).
public enum PortalLanguage: String, Sendable, CaseIterable {
    case german = "de"
    case english = "en"
}
