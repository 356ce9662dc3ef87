import Foundation

/// What the Router knows about a product from the catalog, as far as routing cares.
public struct ProductTraits: Sendable, Equatable, Codable {
    public var dangerousGoods: Bool
    public var minimumAge: Int
    public var bulky: Bool
    public var preorderReleaseDate: Date?
    public var dropShipSupplier: String?
    /// Set for service and assembly items: the skill a technician needs.
    public var serviceSkill: String?

    public init(dangerousGoods: Bool = false, minimumAge: Int = 0, bulky: Bool = false, preorderReleaseDate: Date? = nil,
                dropShipSupplier: String? = nil, serviceSkill: String? = nil) {
        self.dangerousGoods = dangerousGoods
        self.minimumAge = minimumAge
        self.bulky = bulky
        self.preorderReleaseDate = preorderReleaseDate
        self.dropShipSupplier = dropShipSupplier
        self.serviceSkill = serviceSkill
    }

    public static let plain = ProductTraits()

    /// Age-restricted goods need an age-check delivery service (German Jugendschutz: 18).
    public var needsAgeCheck: Bool { minimumAge >= 18 }
}

public struct RoutingLine: Sendable, Equatable, Codable {
    public let lineID: String
    public let sku: String
    /// What is still to be routed of this line.
    public let quantity: Int64
    public let traits: ProductTraits

    public init(lineID: String, sku: String, quantity: Int64, traits: ProductTraits = .plain) {
        self.lineID = lineID
        self.sku = sku
        self.quantity = quantity
        self.traits = traits
    }
}

public struct RoutingOrder: Sendable, Equatable, Codable {
    public let orderID: String
    public let shippingCountry: String
    public let shippingMethod: String
    public let shipComplete: Bool
    public let lines: [RoutingLine]

    public init(orderID: String, shippingCountry: String, shippingMethod: String, shipComplete: Bool, lines: [RoutingLine]) {
        self.orderID = orderID
        self.shippingCountry = shippingCountry
        self.shippingMethod = shippingMethod
        self.shipComplete = shipComplete
        self.lines = lines
    }
}

/// Expected inbound stock of one SKU in one warehouse, not yet claimed by back-orders.
public struct InboundLot: Sendable, Equatable, Codable {
    public let inboundID: String
    public let warehouseID: String
    public let eta: Date
    public var unclaimed: Int64

    public init(inboundID: String, warehouseID: String, eta: Date, unclaimed: Int64) {
        self.inboundID = inboundID
        self.warehouseID = warehouseID
        self.eta = eta
        self.unclaimed = unclaimed
    }
}

/// Stock as the planner sees it: available (on hand − hard reservations) per
/// SKU and warehouse, and unclaimed inbound. Planning an order consumes from it,
/// so that the next order of the same batch sees what is left.
public struct StockPosition: Sendable, Equatable, Codable {
    public var available: [String: [String: Int64]]
    public var inbound: [String: [InboundLot]]

    public init(available: [String: [String: Int64]] = [:], inbound: [String: [InboundLot]] = [:]) {
        self.available = available
        self.inbound = inbound.mapValues { $0.sorted { ($0.eta, $0.inboundID) < ($1.eta, $1.inboundID) } }
    }

    public func available(_ sku: String, in warehouse: String) -> Int64 { available[sku]?[warehouse] ?? 0 }

    mutating func take(_ quantity: Int64, of sku: String, in warehouse: String) {
        available[sku, default: [:]][warehouse, default: 0] -= quantity
    }
}

/// Appointments already booked: technician → local day ("2026-12-03") → count.
public typealias TechnicianBookings = [String: [String: Int]]

/// What the planner saw for one decision; stored with the decision and replayed
/// by `omsctl rules simulate` against other rules.
public struct RoutingLogEntry: Codable, Sendable {
    public let order: RoutingOrder
    public let position: StockPosition
    public let now: Date

    public init(order: RoutingOrder, position: StockPosition, now: Date) {
        self.order = order
        self.position = position
        self.now = now
    }
}
