import Foundation
import Shared

/// Everything Fulfillment decides by, read from `fulfillment.json` in
/// `OMS_CONFIG_DIR` (versions `fulfillment.<label>.json` with their own `validFrom`).
public struct FulfillmentRules: VersionedRules {
    public struct Warehouse: Sendable {
        public let id: String
        public let address: PostalAddress
        public let layout: WarehouseLayout
        public let cart: WavePlanning.Cart
        public let cartons: [Packing.Carton]
        /// Packing station → printer id; the first station takes this warehouse's labels.
        public let stations: [(id: String, printer: String)]
    }

    public struct Printer: Sendable, Equatable {
        public let id: String
        public let host: String
        public let port: Int
    }

    public let validFrom: String
    public let ssccExtensionDigit: Int
    public let gs1CompanyPrefix: String
    public let warehouses: [String: Warehouse]
    /// Carrier service → limits; "*" for every other service.
    public let carrierLimits: [String: Packing.CarrierLimits]
    /// Carrier id → URL template with `{tracking}`.
    public let trackingURLs: [String: String]
    public let expressMethods: Set<String>
    /// Customer types whose delivery notes carry no prices ("b2b"); gifts never show prices.
    public let deliveryNoteWithoutPricesFor: Set<String>
    /// The shared EU customs/VAT territory table (`territory.json`).
    public let customs: EUTerritory
    public let exportDeclarationThreshold: Money
    public let printers: [String: Printer]

    public func limits(for service: String?) -> Packing.CarrierLimits? {
        service.flatMap { carrierLimits[$0] } ?? carrierLimits["*"]
    }

    public func trackingURL(carrier: String, tracking: String) -> String? {
        guard let template = trackingURLs[carrier] else { return nil }
        let encoded = tracking.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? tracking
        return template.replacingOccurrences(of: "{tracking}", with: encoded)
    }

    public static func load(directory: String) throws -> RuleVersions<FulfillmentRules> {
        let territory = try EUTerritory.load(directory: directory)
        return try RuleVersions.load("fulfillment", directory: directory) { try parse($0, territory: territory) }
    }

    public static func parse(_ document: JSONValue, territory: EUTerritory) throws -> FulfillmentRules {
        let root = RuleReader(document, path: "")
        let sscc = try root.child("sscc")
        let prefix = try sscc.string("companyPrefix")
        do { _ = try SSCC(extensionDigit: try sscc.integer("extensionDigit", minimum: 0), companyPrefix: prefix, serial: 0) } catch let error as SSCC.Problem {
            throw RuleFileProblem(path: "sscc", key: "sscc", problem: error.description)
        }
        var limits: [String: Packing.CarrierLimits] = [:]
        for (service, value) in try root.object("carrierLimits") {
            let r = RuleReader(value, path: "carrierLimits.\(service)")
            limits[service] = Packing.CarrierLimits(maxWeightGrams: try r.integer("maxWeightGrams", minimum: 1), maxLengthMm: try r.integer("maxLengthMm", minimum: 1),
                                                    maxLengthPlusGirthMm: try r.integer("maxLengthPlusGirthMm", minimum: 1))
        }
        var printers: [String: Printer] = [:]
        for (i, value) in (root.optional("printers")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: "printers[\(i)]")
            let port = try r.integer("port", minimum: 1)
            guard port <= 65_535 else { throw RuleFileProblem(path: r.pathOf("port"), key: "port", problem: "must be at most 65535") }
            let printer = Printer(id: try r.string("id"), host: try r.string("host"), port: port)
            printers[printer.id] = printer
        }
        var warehouses: [String: Warehouse] = [:]
        for (i, value) in (root.optional("warehouses")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: "warehouses[\(i)]")
            let warehouse = try parseWarehouse(r, printers: printers)
            warehouses[warehouse.id] = warehouse
        }
        guard !warehouses.isEmpty else { throw RuleFileProblem(path: "warehouses", key: "warehouses", problem: "must list at least one warehouse") }
        var urls: [String: String] = [:]
        for (carrier, value) in (root.optional("trackingUrls")?.objectValue ?? [:]) {
            guard let url = value.stringValue, url.contains("{tracking}") else {
                throw RuleFileProblem(path: "trackingUrls.\(carrier)", key: carrier, problem: "must be a URL containing {tracking}")
            }
            urls[carrier] = url
        }
        let threshold = try root.child("exportDeclarationThreshold")
        guard let currency = Currency(try threshold.string("currency")) else {
            throw RuleFileProblem(path: "exportDeclarationThreshold.currency", key: "currency", problem: "must be an ISO 4217 code")
        }
        return FulfillmentRules(
            validFrom: try root.string("validFrom"), ssccExtensionDigit: try sscc.integer("extensionDigit", minimum: 0), gs1CompanyPrefix: prefix,
            warehouses: warehouses, carrierLimits: limits, trackingURLs: urls,
            expressMethods: Set(try root.strings("expressMethods")),
            deliveryNoteWithoutPricesFor: Set((root.optional("deliveryNote")?["withoutPricesFor"]?.arrayValue ?? []).compactMap(\.stringValue)),
            customs: territory,
            exportDeclarationThreshold: Money(minorUnits: Int64(try threshold.integer("amount", minimum: 0)), currency: currency),
            printers: printers)
    }

    static func address(_ r: RuleReader) throws -> PostalAddress {
        PostalAddress(name: try r.string("name"), street: try r.string("street"), postalCode: try r.string("postalCode"),
                      city: try r.string("city"), country: try r.string("country"))
    }

    static func parseWarehouse(_ r: RuleReader, printers: [String: Printer]) throws -> Warehouse {
        let id = try r.string("id")
        var aisles: [WarehouseLayout.Aisle] = []
        for (i, value) in (r.optional("aisles")?.arrayValue ?? []).enumerated() {
            let a = RuleReader(value, path: r.pathOf("aisles[\(i)]"))
            aisles.append(.init(id: try a.string("id"), x: try a.integer("x", minimum: 0), zone: (a.optional("zone")?.stringValue) ?? "main"))
        }
        var slotting: [String: String] = [:]
        for (sku, bin) in try r.object("slotting") {
            guard let name = bin.stringValue else { throw RuleFileProblem(path: r.pathOf("slotting.\(sku)"), key: sku, problem: "must be a bin name") }
            slotting[sku] = name
        }
        let layout: WarehouseLayout
        do {
            layout = try WarehouseLayout(aisles: aisles, aisleLength: try r.integer("aisleLengthDm", minimum: 1),
                                         positionsPerAisle: try r.integer("positionsPerAisle", minimum: 1),
                                         depotX: try r.integer("depotX", minimum: 0),
                                         middleCrossAisle: try r.optional("middleCrossAisleDm").map { _ in try r.integer("middleCrossAisleDm", minimum: 1) },
                                         slotting: slotting)
        } catch let error as WarehouseLayout.LayoutError {
            throw RuleFileProblem(path: r.path, key: "aisles", problem: error.description)
        }
        let cart = try r.child("cart")
        var cartons: [Packing.Carton] = []
        for (i, value) in (r.optional("cartons")?.arrayValue ?? []).enumerated() {
            let c = RuleReader(value, path: r.pathOf("cartons[\(i)]"))
            let inner = try c.child("innerMm")
            let dims = Packing.Dimensions(try inner.integer("length", minimum: 1), try inner.integer("width", minimum: 1), try inner.integer("height", minimum: 1))
            var outer: Packing.Dimensions?
            if c.optional("outerMm") != nil {
                let o = try c.child("outerMm")
                outer = Packing.Dimensions(try o.integer("length", minimum: 1), try o.integer("width", minimum: 1), try o.integer("height", minimum: 1))
            }
            cartons.append(Packing.Carton(id: try c.string("id"), inner: dims, outer: outer, tareGrams: try c.integer("tareGrams", minimum: 0),
                                          maxLoadGrams: try c.integer("maxLoadGrams", minimum: 1), cost: Int64(try c.integer("cost", minimum: 0))))
        }
        guard !cartons.isEmpty else { throw RuleFileProblem(path: r.pathOf("cartons"), key: "cartons", problem: "must list at least one carton") }
        var stations: [(String, String)] = []
        for (i, value) in (r.optional("packingStations")?.arrayValue ?? []).enumerated() {
            let s = RuleReader(value, path: r.pathOf("packingStations[\(i)]"))
            let printer = try s.string("printer")
            guard printers[printer] != nil else { throw RuleFileProblem(path: s.pathOf("printer"), key: "printer", problem: "names no printer in printers") }
            stations.append((try s.string("id"), printer))
        }
        return Warehouse(id: id, address: try address(try r.child("address")), layout: layout,
                         cart: .init(maxOrders: try cart.integer("maxOrders", minimum: 1), maxVolumeCubicMm: Int64(try cart.integer("maxVolumeLitres", minimum: 1)) * 1_000_000,
                                     maxGrams: Int64(try cart.integer("maxWeightGrams", minimum: 1))),
                         cartons: cartons, stations: stations)
    }
}
