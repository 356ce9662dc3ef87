import Foundation

/// The Router's decision for one order: what ships from where, what waits and why.
public struct RoutingPlan: Sendable, Equatable, Codable {
    public struct PlannedLine: Sendable, Equatable, Codable {
        public let lineID: String
        public let sku: String
        public let quantity: Int64
    }

    public struct Shipment: Sendable, Equatable, Codable {
        public let warehouseID: String
        public let carrierService: String
        public let lines: [PlannedLine]
        public let shipBy: Date
    }

    public struct Backorder: Sendable, Equatable, Codable {
        public let lineID: String
        public let sku: String
        public let quantity: Int64
        /// When inbound stock should cover it; nil when no inbound is known.
        public let eta: Date?
    }

    /// Inbound stock claimed by a back-order (a soft reservation).
    public struct SoftClaim: Sendable, Equatable, Codable {
        public let lineID: String
        public let sku: String
        public let inboundID: String
        public let warehouseID: String
        public let quantity: Int64
    }

    public struct Preorder: Sendable, Equatable, Codable {
        public let lineID: String
        public let sku: String
        public let quantity: Int64
        public let releaseDate: Date
    }

    public struct DropShip: Sendable, Equatable, Codable {
        public let supplierID: String
        public let lines: [PlannedLine]
        public let slaDue: Date
    }

    public struct Appointment: Sendable, Equatable, Codable {
        public let lineID: String
        public let sku: String
        public let technicianID: String
        /// Local date of the visit.
        public let day: String
    }

    /// A line that cannot be routed under the rules: the order waits with this reason.
    public struct Problem: Sendable, Equatable, Codable {
        public let lineID: String
        public let code: String
        public let message: String
    }

    public var shipments: [Shipment] = []
    public var backorders: [Backorder] = []
    public var softClaims: [SoftClaim] = []
    public var preorders: [Preorder] = []
    public var dropShips: [DropShip] = []
    public var appointments: [Appointment] = []
    public var problems: [Problem] = []

    public init() {}

    /// Nothing left to wait for: every line ships, is drop-shipped or has its appointment.
    public var isComplete: Bool { backorders.isEmpty && preorders.isEmpty && problems.isEmpty }

    /// The latest of the back-orders' ETAs, when every back-order has one.
    public var backorderETA: Date? {
        guard !backorders.isEmpty, backorders.allSatisfy({ $0.eta != nil }) else { return nil }
        return backorders.compactMap(\.eta).max()
    }
}
