import Foundation
import Shared

/// The KPIs of a period, computed from the order timeline: the orders accepted in the period and everything that
/// happened to them. Values in, figures out — `omsctl kpi` prints them, as text, JSON or an HTML page.
public struct KPIReport: Sendable, Equatable {
    public struct Event: Sendable, Equatable {
        public let orderID: String
        public let type: String
        public let at: Date
        public let actor: String
        public let stage: String
        public let facts: JSONValue

        public init(orderID: String, type: String, at: Date, actor: String, stage: String, facts: JSONValue = .object([:])) {
            self.orderID = orderID
            self.type = type
            self.at = at
            self.actor = actor
            self.stage = stage
            self.facts = facts
        }
    }

    public struct Durations: Sendable, Equatable {
        public let count: Int
        /// Hours, rounded to a tenth.
        public let p50Hours: Double?
        public let p90Hours: Double?

        public init(count: Int, p50Hours: Double?, p90Hours: Double?) {
            self.count = count
            self.p50Hours = p50Hours
            self.p90Hours = p90Hours
        }
    }

    public let orders: Int
    public let shippedOrders: Int
    public let createdToShipped: Durations
    public let createdToDelivered: Durations
    /// Fulfillment orders with a ship-by that shipped, and how many of them by it.
    public let shippedWithDeadline: Int
    public let shippedOnTime: Int
    public let backorderedOrders: Int
    public let cancelledBeforeShipping: Int
    public let cancelledAfterShipping: Int
    /// Returned units per reason.
    public let returnedUnitsByReason: [String: Int64]
    public let returnsOrders: Int
    /// No hold, no routing problem, no short pick or packing problem, no decision by a person.
    public let firstTimeRight: Int

    public static func rate(_ part: Int, of whole: Int) -> Double? { whole > 0 ? (Double(part) * 1000 / Double(whole)).rounded() / 10 : nil }

    public var onTimeRate: Double? { Self.rate(shippedOnTime, of: shippedWithDeadline) }
    public var backorderRate: Double? { Self.rate(backorderedOrders, of: orders) }
    public var cancellationRate: Double? { Self.rate(cancelledBeforeShipping + cancelledAfterShipping, of: orders) }
    public var returnRate: Double? { Self.rate(returnsOrders, of: shippedOrders) }
    public var firstTimeRightRate: Double? { Self.rate(firstTimeRight, of: orders) }

    static let touched: Set<String> = ["Order.OnHold", "Order.RoutingOnHold", "FulfillmentOrder.ShortPicked", "FulfillmentOrder.PackingProblem",
                                       "Order.CancellationRefused"]
    /// Actors that are the system itself; anything else (a staff name, a customer) is a person's touch.
    static let systemActors: Set<String> = ["capture", "router", "fulfillment", "billing", "returns", "notifier", "alerting"]

    public static func compute(_ events: [Event]) -> KPIReport {
        let byOrder = Dictionary(grouping: events, by: \.orderID).mapValues { $0.sorted { $0.at < $1.at } }
        var toShipped: [Double] = [], toDelivered: [Double] = []
        var withDeadline = 0, onTime = 0, backordered = 0, cancelledBefore = 0, cancelledAfter = 0, returnsOrders = 0, right = 0, shipped = 0
        var returned: [String: Int64] = [:]
        for (_, list) in byOrder {
            guard let start = list.first(where: { $0.type == "Order.Accepted" || $0.type == "Order.OnHold" })?.at else { continue }
            let firstShipped = list.first { $0.type == "Shipment.Shipped" }?.at
            if let firstShipped {
                shipped += 1
                toShipped.append(firstShipped.timeIntervalSince(start) / 3600)
            }
            if let delivered = list.first(where: { $0.type == "Shipment.Delivered" })?.at { toDelivered.append(delivered.timeIntervalSince(start) / 3600) }
            var shipBy: [String: Date] = [:]
            for event in list where event.type == "FulfillmentOrder.Created" {
                if let fo = event.facts["fulfillmentOrderId"]?.stringValue, let due = event.facts["shipBy"]?.stringValue {
                    let date = EventTime.parse(due)
                    if date != .distantPast { shipBy[fo] = date }
                }
            }
            for event in list where event.type == "Shipment.Shipped" {
                guard let fo = event.facts["fulfillmentOrderId"]?.stringValue, let due = shipBy[fo] else { continue }
                withDeadline += 1
                if event.at <= due { onTime += 1 }
            }
            if list.contains(where: { $0.type == "Backorder.Created" }) { backordered += 1 }
            if let cancelled = list.first(where: { $0.type == "Order.Cancelled" })?.at {
                if let firstShipped, firstShipped <= cancelled { cancelledAfter += 1 } else { cancelledBefore += 1 }
            }
            let authorized = list.filter { $0.type == "Return.Authorized" }
            if !authorized.isEmpty { returnsOrders += 1 }
            for event in authorized {
                for (reason, units) in event.facts["returnedUnits"]?.objectValue ?? [:] {
                    returned[reason] = (returned[reason] ?? 0).addingReportingOverflow(units.int64Value ?? 0).partialValue
                }
            }
            let personTouched = list.contains { !systemActors.contains($0.actor) && $0.actor != $0.stage }
            if !list.contains(where: { touched.contains($0.type) }) && !personTouched { right += 1 }
        }
        return KPIReport(orders: byOrder.values.filter { $0.contains { $0.type == "Order.Accepted" || $0.type == "Order.OnHold" } }.count,
                         shippedOrders: shipped, createdToShipped: durations(toShipped), createdToDelivered: durations(toDelivered),
                         shippedWithDeadline: withDeadline, shippedOnTime: onTime, backorderedOrders: backordered,
                         cancelledBeforeShipping: cancelledBefore, cancelledAfterShipping: cancelledAfter, returnedUnitsByReason: returned,
                         returnsOrders: returnsOrders, firstTimeRight: right)
    }

    static func durations(_ hours: [Double]) -> Durations {
        let sorted = hours.sorted()
        func percentile(_ p: Double) -> Double? {
            guard !sorted.isEmpty else { return nil }
            let index = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
            return (sorted[index] * 10).rounded() / 10
        }
        return Durations(count: sorted.count, p50Hours: percentile(0.5), p90Hours: percentile(0.9))
    }
}
