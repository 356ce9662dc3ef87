import Foundation
import Shared

/// The Router's rules, from `$OMS_CONFIG_DIR/router.json` (versioned by
/// `validFrom`, reloaded on SIGHUP): warehouses, carriers, calendars, zones,
/// split limit, drop-ship suppliers, technicians. Never literals in the logic.
public struct RouterRules: VersionedRules {
    public struct Warehouse: Sendable, Equatable {
        public let id: String
        public let country: String
        /// "dangerous-goods", "age-check", "bulky".
        public let capabilities: Set<String>
        /// Local time ("14:00") after which today's pickup is missed.
        public let cutoffMinutes: Int
        /// ISO weekdays 1 (Monday) … 7 with a carrier pickup.
        public let pickupWeekdays: Set<Int>
        /// Local dates ("2026-12-24") without pickup.
        public let holidays: Set<String>
        public let carrierServices: [String]
        /// Days from hand-over to the carrier to delivery, for appointment planning.
        public let transitDays: Int
    }

    public struct CarrierService: Sendable, Equatable {
        public let id: String
        public let carrier: String
        /// Shipping methods ("standard", "express") this service fulfils.
        public let methods: Set<String>
        public let dangerousGoods: Bool
        public let ageCheck: Bool
        public let freight: Bool
        /// Cost per shipment in minor units, to choose among suitable services.
        public let cost: Int64
    }

    public struct Supplier: Sendable, Equatable {
        public let id: String
        public let slaHours: Int
        public let branding: JSONValue
    }

    public struct Technician: Sendable, Equatable {
        public let id: String
        public let skills: Set<String>
        public let countries: Set<String>
        public let capacityPerDay: Int
        public let workdays: Set<Int>
    }

    public let validFrom: String
    public let timeZone: TimeZone
    /// Most shipments an order may be split into, minus one.
    public let maxSplits: Int
    /// Held orders whose stock is reserved while they wait (e.g. payment, approval, credit).
    public let reserveHeldFor: Set<String>
    /// Shipping methods routed before others within a batch.
    public let priorityMethods: [String]
    public let warehouses: [Warehouse]
    public let services: [String: CarrierService]
    /// Destination country → warehouse ids in order of preference ("*" for the rest).
    public let zones: [String: [String]]
    public let suppliers: [String: Supplier]
    public let technicians: [Technician]
    public let appointmentHorizonDays: Int
    /// Minutes a warehouse fulfillment order waits before it is released to the
    /// warehouse: the window in which a cancellation still succeeds (0: at once).
    public let releaseDelayMinutes: Int
    /// How often orders the rules could not route are tried again.
    public let heldRetryMinutes: Int

    public static let fileName = "router.json"

    public static func load(directory: String) throws -> RouterRules {
        try ConfigurationFileError.load(fileName, directory: directory, build: RouterRules.init)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> RouterRules {
        try ConfigurationFileError.parse(bytes, path: path, build: RouterRules.init)
    }

    public func warehouse(_ id: String) -> Warehouse? { warehouses.first { $0.id == id } }

    /// Warehouses for a destination, most preferred first.
    public func preference(for country: String) -> [Warehouse] {
        (zones[country] ?? zones["*"] ?? warehouses.map(\.id)).compactMap(warehouse)
    }

    static let weekdays = ["Mon": 1, "Tue": 2, "Wed": 3, "Thu": 4, "Fri": 5, "Sat": 6, "Sun": 7]

    public init(_ document: JSONValue) throws {
        let reader = RuleReader(document, path: "")
        validFrom = try reader.string("validFrom")
        guard RFC3339.isValid(validFrom) else { throw RuleFileProblem(path: "validFrom", key: "validFrom", problem: "must be an RFC 3339 date-time") }
        let zoneName = try reader.string("timeZone")
        guard let zone = TimeZone(identifier: zoneName) else {
            throw RuleFileProblem(path: "timeZone", key: "timeZone", problem: "\"\(zoneName)\" is not a known time zone")
        }
        timeZone = zone
        maxSplits = try reader.integer("maxSplits", minimum: 0)
        reserveHeldFor = Set(try reader.strings("reserveHeldOrdersFor"))
        priorityMethods = try reader.strings("priorityMethods")
        appointmentHorizonDays = try reader.integer("appointmentHorizonDays", minimum: 1)
        releaseDelayMinutes = try reader.integer("releaseDelayMinutes", minimum: 0)
        heldRetryMinutes = try reader.integer("heldRetryMinutes", minimum: 1)

        var services: [String: CarrierService] = [:]
        for (index, carrier) in (try Self.list(reader, "carriers")).enumerated() {
            let carrierReader = RuleReader(carrier, path: "carriers[\(index)]")
            let carrierID = try carrierReader.string("id")
            for (serviceIndex, service) in (try Self.list(carrierReader, "services")).enumerated() {
                let s = RuleReader(service, path: "carriers[\(index)].services[\(serviceIndex)]")
                let id = try s.string("id")
                guard services[id] == nil else { throw RuleFileProblem(path: s.pathOf("id"), key: id, problem: "service \"\(id)\" is defined twice") }
                services[id] = CarrierService(
                    id: id, carrier: carrierID, methods: Set(try s.strings("methods")),
                    dangerousGoods: s.optional("dangerousGoods")?.boolValue ?? false, ageCheck: s.optional("ageCheck")?.boolValue ?? false,
                    freight: s.optional("freight")?.boolValue ?? false, cost: Int64(try s.integer("cost", minimum: 0)))
            }
        }
        self.services = services

        var warehouses: [Warehouse] = []
        for (index, entry) in (try Self.list(reader, "warehouses")).enumerated() {
            let w = RuleReader(entry, path: "warehouses[\(index)]")
            let id = try w.string("id")
            let cutoff = try w.string("cutoff")
            let parts = cutoff.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                throw RuleFileProblem(path: w.pathOf("cutoff"), key: "cutoff", problem: "must be a local time like \"14:00\", found \"\(cutoff)\"")
            }
            let days = try w.strings("pickupDays")
            let weekdays = try days.map { day in
                guard let number = Self.weekdays[day] else {
                    throw RuleFileProblem(path: w.pathOf("pickupDays"), key: "pickupDays", problem: "\"\(day)\" is not one of Mon … Sun")
                }
                return number
            }
            let holidays = try w.strings("holidays")
            for holiday in holidays where !Self.isLocalDate(holiday) {
                throw RuleFileProblem(path: w.pathOf("holidays"), key: "holidays", problem: "\"\(holiday)\" is not a date like 2026-12-24")
            }
            let carrierServices = try w.strings("carrierServices")
            for service in carrierServices where services[service] == nil {
                throw RuleFileProblem(path: w.pathOf("carrierServices"), key: "carrierServices", problem: "unknown carrier service \"\(service)\"")
            }
            let capabilities = Set(try w.strings("capabilities"))
            let known: Set<String> = ["dangerous-goods", "age-check", "bulky"]
            if let unknown = capabilities.subtracting(known).first {
                throw RuleFileProblem(path: w.pathOf("capabilities"), key: "capabilities",
                                      problem: "\"\(unknown)\" is not one of \(known.sorted().joined(separator: ", "))")
            }
            warehouses.append(Warehouse(id: id, country: try w.string("country"), capabilities: capabilities,
                                        cutoffMinutes: parts[0] * 60 + parts[1], pickupWeekdays: Set(weekdays), holidays: Set(holidays),
                                        carrierServices: carrierServices, transitDays: try w.integer("transitDays", minimum: 0)))
        }
        guard !warehouses.isEmpty else { throw RuleFileProblem(path: "warehouses", key: "warehouses", problem: "must name at least one warehouse") }
        guard Set(warehouses.map(\.id)).count == warehouses.count else {
            throw RuleFileProblem(path: "warehouses", key: "warehouses", problem: "warehouse ids must be unique")
        }
        self.warehouses = warehouses

        var zones: [String: [String]] = [:]
        for (country, value) in try reader.object("zones") {
            guard let ids = value.arrayValue?.compactMap(\.stringValue), ids.count == value.arrayValue?.count else {
                throw RuleFileProblem(path: "zones.\(country)", key: country, problem: "must be a list of warehouse ids")
            }
            if let unknown = ids.first(where: { id in !warehouses.contains { $0.id == id } }) {
                throw RuleFileProblem(path: "zones.\(country)", key: country, problem: "unknown warehouse \"\(unknown)\"")
            }
            zones[country] = ids
        }
        self.zones = zones

        var suppliers: [String: Supplier] = [:]
        for (index, entry) in (try Self.list(reader, "suppliers")).enumerated() {
            let s = RuleReader(entry, path: "suppliers[\(index)]")
            let id = try s.string("id")
            suppliers[id] = Supplier(id: id, slaHours: try s.integer("slaHours", minimum: 1), branding: s.optional("branding") ?? .object([:]))
        }
        self.suppliers = suppliers

        technicians = try Self.list(reader, "technicians").enumerated().map { index, entry in
            let t = RuleReader(entry, path: "technicians[\(index)]")
            return Technician(id: try t.string("id"), skills: Set(try t.strings("skills")), countries: Set(try t.strings("countries")),
                              capacityPerDay: try t.integer("capacityPerDay", minimum: 1),
                              workdays: Set(try t.strings("workdays").map { day in
                                  guard let number = Self.weekdays[day] else {
                                      throw RuleFileProblem(path: t.pathOf("workdays"), key: "workdays", problem: "\"\(day)\" is not one of Mon … Sun")
                                  }
                                  return number
                              }))
        }
    }

    private static func list(_ reader: RuleReader, _ key: String) throws -> [JSONValue] {
        guard let list = reader.optional(key)?.arrayValue else {
            throw RuleFileProblem(path: reader.pathOf(key), key: key, problem: reader.optional(key) == nil ? "is missing" : "must be a list")
        }
        return list
    }

    static func isLocalDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-")
        return text.count == 10 && parts.count == 3 && parts.allSatisfy { $0.allSatisfy(\.isNumber) }
    }
}
