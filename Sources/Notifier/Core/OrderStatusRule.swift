import Foundation
import Shared

/// The order status rule: folds each event about an order into the document the status API answers with —
/// state, lines, shipments with tracking, back-order ETAs, invoices and credit notes, returns. Values in, document out.
public enum OrderStatusRule {
    public enum State: String, Sendable, CaseIterable {
        case accepted, onHold = "on-hold", rejected, cancelled, partiallyShipped = "partially-shipped", shipped, delivered
    }

    /// The document after `event`; nil when the event says nothing a customer or shop asks about.
    public static func fold(_ current: JSONValue?, _ event: CloudEvent) -> JSONValue? {
        let d = event.data
        guard let orderID = d["orderId"]?.stringValue, !orderID.isEmpty else { return nil }
        var doc = current?.objectValue ?? ["orderId": .string(orderID), "state": .string(State.accepted.rawValue), "lines": [], "shipments": [],
                                           "backorders": [], "invoices": [], "returns": []]
        let at = event.time ?? EventTime.format(Date())
        func list(_ key: String) -> [JSONValue] { doc[key]?.arrayValue ?? [] }
        func set(_ state: State) { doc["state"] = .string(state.rawValue) }
        switch event.type {
        case "Order.Accepted", "Order.OnHold":
            if let customer = d["customerId"]?.stringValue { doc["customerId"] = .string(customer) }
            if let currency = d["currency"]?.stringValue { doc["currency"] = .string(currency) }
            if let shop = d["salesChannel"]?.stringValue { doc["shop"] = .string(shop) }
            if let total = d["total"]?.int64Value { doc["total"] = .integer(total) }
            doc["lines"] = .array((d["lines"]?.arrayValue ?? []).prefix(500).map {
                ["lineId": $0["lineId"] ?? "", "sku": $0["sku"] ?? "", "quantity": $0["quantity"] ?? 0]
            })
            if doc["placedAt"] == nil { doc["placedAt"] = .string(d["acceptedAt"]?.stringValue ?? d["heldAt"]?.stringValue ?? at) }
            if isOpen(doc) { set(event.type == "Order.OnHold" ? .onHold : .accepted) } else if isShippingState(doc) { set(shippingState(doc)) }
        case "Order.Released":
            if doc["state"]?.stringValue == State.onHold.rawValue { set(.accepted) }
        case "Order.Cancelled": set(.cancelled)
        case "Order.Rejected": set(.rejected)
        case "Backorder.Created":
            doc["backorders"] = .array((d["lines"]?.arrayValue ?? []).prefix(500).map { line in
                var v: [String: JSONValue] = ["lineId": line["lineId"] ?? "", "sku": line["sku"] ?? "", "quantity": line["quantity"] ?? 0]
                if let eta = line["eta"]?.stringValue { v["eta"] = .string(eta) }
                return .object(v)
            })
        case "Shipment.Shipped", "Shipment.Delivered":
            guard let fo = d["fulfillmentOrderId"]?.stringValue else { return nil }
            var shipments = list("shipments")
            let index = shipments.firstIndex { $0["fulfillmentOrderId"]?.stringValue == fo }
            var shipment = index.map { shipments[$0].objectValue ?? [:] } ?? ["fulfillmentOrderId": .string(fo), "status": "shipped"]
            if let parcels = d["parcels"]?.arrayValue, !parcels.isEmpty {
                shipment["parcels"] = .array(parcels.prefix(500).map { p in
                    var v: [String: JSONValue] = ["carrier": p["carrier"] ?? "", "trackingNumber": p["trackingNumber"] ?? ""]
                    if let url = p["trackingUrl"]?.stringValue { v["trackingUrl"] = .string(url) }
                    return .object(v)
                })
            }
            if event.type == "Shipment.Shipped" {
                shipment["shippedAt"] = .string(d["shippedAt"]?.stringValue ?? at)
                if let lines = d["lines"]?.arrayValue { shipment["lines"] = .array(Array(lines.prefix(500))) }
            } else {
                shipment["status"] = "delivered"
                shipment["deliveredAt"] = .string(d["deliveredAt"]?.stringValue ?? at)
            }
            if let index { shipments[index] = .object(shipment) } else if shipments.count < 500 { shipments.append(.object(shipment)) }
            doc["shipments"] = .array(shipments)
            if isOpen(doc) || isShippingState(doc) { set(shippingState(doc)) }
        case "Invoice.Issued", "CreditNote.Issued", "DepositInvoice.Issued":
            guard let number = d["number"]?.stringValue else { return nil }
            var invoices = list("invoices").filter { $0["number"]?.stringValue != number }
            let kind = event.type == "CreditNote.Issued" ? "credit-note" : event.type == "DepositInvoice.Issued" ? "deposit-invoice" : "invoice"
            var v: [String: JSONValue] = ["number": .string(number), "kind": .string(kind), "issuedAt": .string(d["issuedAt"]?.stringValue ?? at)]
            if let gross = d["gross"]?.int64Value { v["gross"] = .integer(gross) }
            if let currency = d["currency"]?.stringValue { v["currency"] = .string(currency) }
            if invoices.count < 500 { invoices.append(.object(v)) }
            doc["invoices"] = .array(invoices)
        case "Return.Authorized", "Return.Held", "Return.Rejected", "Return.Inspected":
            guard let key = d["rma"]?.stringValue ?? d["requestId"]?.stringValue else { return nil }
            var returns = list("returns").filter { $0["rma"]?.stringValue != key }
            let status = ["Return.Authorized": "authorized", "Return.Held": "held", "Return.Rejected": "rejected", "Return.Inspected": "inspected"][event.type] ?? "open"
            if returns.count < 500 { returns.append(["rma": .string(key), "status": .string(status), "updatedAt": .string(at)]) }
            doc["returns"] = .array(returns)
        default:
            return nil
        }
        doc["updatedAt"] = .string(at)
        return .object(doc)
    }

    static func isOpen(_ doc: [String: JSONValue]) -> Bool {
        [State.accepted.rawValue, State.onHold.rawValue].contains(doc["state"]?.stringValue ?? "")
    }

    static func isShippingState(_ doc: [String: JSONValue]) -> Bool {
        [State.partiallyShipped.rawValue, State.shipped.rawValue, State.delivered.rawValue].contains(doc["state"]?.stringValue ?? "")
    }

    /// Shipped when every ordered unit left, delivered when moreover every shipment arrived; else partially shipped.
    static func shippingState(_ doc: [String: JSONValue]) -> State {
        var shipped: [String: Int64] = [:]
        let shipments = doc["shipments"]?.arrayValue ?? []
        for shipment in shipments {
            for line in shipment["lines"]?.arrayValue ?? [] {
                guard let id = line["lineId"]?.stringValue else { continue }
                shipped[id] = (shipped[id] ?? 0).addingReportingOverflow(line["quantity"]?.int64Value ?? 0).partialValue
            }
        }
        let lines = doc["lines"]?.arrayValue ?? []
        let complete = !lines.isEmpty && lines.allSatisfy { line in (shipped[line["lineId"]?.stringValue ?? ""] ?? 0) >= (line["quantity"]?.int64Value ?? 0) }
        guard complete else { return .partiallyShipped }
        return shipments.allSatisfy { $0["status"]?.stringValue == "delivered" } ? .delivered : .shipped
    }
}
