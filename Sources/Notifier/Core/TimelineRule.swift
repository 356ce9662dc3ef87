import Foundation
import Shared

/// The timeline rule: what one event says about an order — its order id, who or what did it (staff name,
/// customer, warehouse, a stage) and why, in one line a person reads in `omsctl order show`.
public enum TimelineRule {
    public struct Entry: Sendable, Equatable {
        public let orderID: String
        public let stage: String
        public let actor: String
        public let reason: String
        /// The few facts the KPIs need (ship-by, hold reasons, return reasons and units, the fulfillment order).
        public let facts: JSONValue

        public init(orderID: String, stage: String, actor: String, reason: String, facts: JSONValue = .object([:])) {
            self.orderID = orderID
            self.stage = stage
            self.actor = actor
            self.reason = reason
            self.facts = facts
        }
    }

    /// Data fields that name a person or system acting, most specific first.
    static let actorFields = ["decidedBy", "authorizedBy", "rejectedBy", "approvedBy", "requestedBy", "cancelledBy", "by"]

    /// The timeline rows of one event: one for an event about an order; one per order for an erasure confirmation.
    public static func entries(_ event: CloudEvent) -> [Entry] {
        guard event.type == "Customer.Erased" else { return entry(event).map { [$0] } ?? [] }
        let d = event.data
        let stage = String((d["stage"]?.stringValue ?? event.source).prefix(64))
        let rows = d["rows"]?.int64Value ?? 0
        let reason = "personal data erased (\(rows) record(s))" + (d["retained"]?.stringValue.map { "; kept: \($0)" } ?? "")
        return (d["orderIds"]?.arrayValue ?? []).prefix(10_000).compactMap(\.stringValue).filter { !$0.isEmpty }.map {
            Entry(orderID: String($0.prefix(200)), stage: stage, actor: stage, reason: String(reason.prefix(1000)),
                  facts: ["erasureId": .string(String((d["erasureId"]?.stringValue ?? "").prefix(200)))])
        }
    }

    public static func entry(_ event: CloudEvent) -> Entry? {
        let data = event.data
        // Only events that name their order (a customer's receivables or a wave's pick list are not an order's history).
        guard let orderID = data["orderId"]?.stringValue, !orderID.isEmpty else { return nil }
        let stage = event.source.hasPrefix("oms/") ? String(event.source.dropFirst(4)) : event.source
        let actor = actorFields.lazy.compactMap { data[$0]?.stringValue }.first ?? stage
        return Entry(orderID: String(orderID.prefix(200)), stage: String(stage.prefix(64)), actor: String(actor.prefix(200)),
                     reason: String(reason(event).prefix(1000)), facts: facts(event))
    }

    static func facts(_ event: CloudEvent) -> JSONValue {
        let d = event.data
        var facts: [String: JSONValue] = [:]
        if let fo = d["fulfillmentOrderId"]?.stringValue { facts["fulfillmentOrderId"] = .string(String(fo.prefix(200))) }
        if let shipBy = d["shipBy"]?.stringValue { facts["shipBy"] = .string(String(shipBy.prefix(40))) }
        if let holds = d["holdReasons"]?.arrayValue { facts["holdReasons"] = .array(Array(holds.prefix(20))) }
        if event.type == "Return.Authorized" {
            var units: [String: Int64] = [:]
            for line in (d["lines"]?.arrayValue ?? []).prefix(500) {
                let reason = String((line["reason"]?.stringValue ?? "unknown").prefix(64))
                units[reason] = (units[reason] ?? 0).addingReportingOverflow(max(0, line["quantity"]?.int64Value ?? 0)).partialValue
            }
            facts["returnedUnits"] = .object(units.mapValues { .integer($0) })
        }
        return .object(facts)
    }

    static func reason(_ event: CloudEvent) -> String {
        let d = event.data
        if let reason = d["reason"]?.stringValue, !reason.isEmpty { return reason }
        switch event.type {
        case "Invoice.Issued", "CreditNote.Issued", "CollectiveInvoice.Issued", "DepositInvoice.Issued":
            let amount = d["gross"]?.int64Value.map { Money.format($0, d["currency"]?.stringValue ?? "EUR") } ?? ""
            return "\(d["number"]?.stringValue ?? "") \(amount)".trimmingCharacters(in: .whitespaces)
        case "Shipment.Shipped", "Shipment.Delivered":
            let parcels = (d["parcels"]?.arrayValue ?? []).compactMap { p in p["trackingNumber"]?.stringValue.map { "\(p["carrier"]?.stringValue ?? "") \($0)" } }
            return ([d["fulfillmentOrderId"]?.stringValue].compactMap { $0 } + parcels).joined(separator: ", ")
        case "Return.Authorized", "Return.Held", "Return.Inspected":
            return d["rma"]?.stringValue ?? ""
        case "Return.Rejected", "Order.Rejected":
            return (d["reasons"]?.arrayValue ?? []).prefix(20).compactMap { $0["message"]?.stringValue }.joined(separator: "; ")
        case "Order.OnHold":
            let holds = (d["holdReasons"]?.arrayValue ?? []).prefix(20).compactMap(\.stringValue).joined(separator: ", ")
            let findings = (d["findings"]?.arrayValue ?? []).prefix(20).compactMap { $0["message"]?.stringValue }.joined(separator: "; ")
            return "held for \(holds)" + (findings.isEmpty ? "" : ": \(findings)")
        case "Order.Accepted":
            let total = d["total"]?.int64Value.map { ", total \(Money.format($0, d["currency"]?.stringValue ?? "EUR"))" } ?? ""
            return "accepted\(total)"
        case "Refund.Approved", "Refund.Requested":
            let lines = d["lines"]?.arrayValue ?? []
            let total = lines.reduce(Int64(0)) { $0.addingReportingOverflow($1["amount"]?.int64Value ?? 0).partialValue }
                .addingReportingOverflow(d["shippingAmount"]?.int64Value ?? d["amount"]?.int64Value ?? 0).partialValue
            return "\(d["refundId"]?.stringValue ?? "") \(Money.format(total, d["currency"]?.stringValue ?? "EUR"))"
        case "FulfillmentOrder.Created":
            return [d["fulfillmentOrderId"]?.stringValue, d["warehouseId"]?.stringValue ?? d["supplierId"]?.stringValue].compactMap { $0 }.joined(separator: " from ")
        case "Customer.NotificationRequested":
            return "notification \(d["template"]?.stringValue ?? "")"
        default:
            return d["fulfillmentOrderId"]?.stringValue ?? ""
        }
    }
}
