import Foundation

/// What a rule change would change about one routing decision, aspect by aspect,
/// for `omsctl rules simulate`.
public enum PlanComparison {
    public struct Difference: Sendable, Equatable {
        public let aspect: String
        public let before: String
        public let after: String
    }

    /// One line per aspect that differs: warehouses, shipments (splits), carrier services,
    /// ship-by days, back-orders, pre-orders, drop-ship, appointments, problems.
    public static func differences(_ before: RoutingPlan, _ after: RoutingPlan, timeZone: TimeZone) -> [Difference] {
        let calendar = ShipCalendar.calendar(timeZone)
        func day(_ date: Date?) -> String { date.map { ShipCalendar.localDate($0, calendar) } ?? "no ETA" }
        let aspects: [(String, (RoutingPlan) -> String)] = [
            ("warehouses", { $0.shipments.map(\.warehouseID).joined(separator: "+").nilIfEmpty ?? "none" }),
            ("shipments", { String($0.shipments.count) }),
            ("services", { $0.shipments.map(\.carrierService).joined(separator: "+").nilIfEmpty ?? "none" }),
            ("ship-by", { $0.shipments.map { day($0.shipBy) }.joined(separator: "+").nilIfEmpty ?? "none" }),
            ("back-orders", { $0.backorders.map { "\($0.quantity)×\($0.sku) (\(day($0.eta)))" }.joined(separator: ", ").nilIfEmpty ?? "none" }),
            ("pre-orders", { $0.preorders.map { "\($0.quantity)×\($0.sku)" }.joined(separator: ", ").nilIfEmpty ?? "none" }),
            ("drop-ship", { $0.dropShips.map(\.supplierID).joined(separator: "+").nilIfEmpty ?? "none" }),
            ("appointments", { $0.appointments.map { "\($0.technicianID) \($0.day)" }.joined(separator: ", ").nilIfEmpty ?? "none" }),
            ("problems", { $0.problems.map(\.code).joined(separator: ", ").nilIfEmpty ?? "none" }),
        ]
        return aspects.compactMap { name, describe in
            let (was, will) = (describe(before), describe(after))
            return was == will ? nil : Difference(aspect: name, before: was, after: will)
        }
    }
}
