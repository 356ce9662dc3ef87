import Foundation
import RouterCore
import Shared

/// What the Router consumes, decoded and validated.
enum RouterInput: Sendable {
    /// Absolute on-hand quantities from the WMS.
    case stock(StockReport)
    case inbound(InboundReport)
    case product(sku: String, traits: ProductTraits, changedAt: String)
    /// `Order.Accepted` or `Order.OnHold` from Capture.
    case order(OrderAnnouncement)
    /// `Order.Released`: a held order goes on.
    case released(orderID: String)
    /// `Order.Cancelled` / `Order.Rejected` from Capture: reservations are freed.
    case ended(orderID: String, event: String, reason: String)
    case cancellationRequested(orderID: String, reason: String, by: String)
    /// A warehouse or supplier confirmed a fulfillment order.
    case confirmed(fulfillmentOrderID: String, orderID: String)
    /// Fulfillment: the picker found bins empty; these units of a released fulfillment order do not exist.
    case shortPicked(ShortPick)
    /// Returns: units inspected as sellable are back on hand (until the WMS's next absolute count says otherwise).
    case returned(ReturnedStock)
    /// Events on our topics that are not for the Router (e.g. its own).
    case ignored(String)
}

struct ShortPick: Sendable {
    let fulfillmentOrderID: String
    let orderID: String
    let warehouseID: String
    let lines: [(lineID: String, sku: String, missing: Int64)]
}

struct ReturnedStock: Sendable {
    let returnID: String
    let warehouseID: String
    let items: [(sku: String, quantity: Int64)]
}

struct StockReport: Sendable {
    let warehouseID: String
    let sequence: Int64
    let items: [(sku: String, onHand: Int64)]
}

struct InboundReport: Sendable {
    let inboundID: String
    let warehouseID: String
    let eta: String
    let changedAt: String
    let items: [(sku: String, quantity: Int64)]
}

struct OrderAnnouncement: Sendable {
    struct Line: Sendable {
        let lineID: String
        let sku: String
        let quantity: Int64
    }

    let orderID: String
    let held: Bool
    let holdReasons: [String]
    let shippingCountry: String
    let shippingMethod: String
    let shipComplete: Bool
    let lines: [Line]
    /// The event data, kept for what travels along (gift, personalization).
    let data: JSONValue
}

extension RouterInput {
    static func decode(_ event: CloudEvent) throws(PermanentFailure) -> RouterInput {
        let data = event.data
        func string(_ key: String) throws(PermanentFailure) -> String {
            guard let value = data[key]?.stringValue else { throw .schemaViolation("data.\(key): required string is missing") }
            return value
        }
        switch event.type {
        case "Stock.Changed":
            let items = (data["items"]?.arrayValue ?? []).compactMap { item in
                item["sku"]?.stringValue.flatMap { sku in item["onHand"]?.int64Value.map { (sku, $0) } }
            }
            guard Set(items.map(\.0)).count == items.count else { throw .schemaViolation("data.items: each SKU may appear once per event") }
            return .stock(StockReport(warehouseID: try string("warehouseId"), sequence: data["sequence"]?.int64Value ?? 0, items: items))
        case "Inbound.Expected":
            let items = (data["items"]?.arrayValue ?? []).compactMap { item in
                item["sku"]?.stringValue.flatMap { sku in item["quantity"]?.int64Value.map { (sku, $0) } }
            }
            guard Set(items.map(\.0)).count == items.count else { throw .schemaViolation("data.items: each SKU may appear once per event") }
            return .inbound(InboundReport(inboundID: try string("inboundId"), warehouseID: try string("warehouseId"), eta: try string("eta"),
                                          changedAt: event.time ?? EventTime.format(Date()), items: items))
        case "Product.Changed":
            let release = data["preorderReleaseDate"]?.stringValue.map(EventTime.parse)
            let traits = ProductTraits(dangerousGoods: data["dangerousGoodsClass"]?.stringValue != nil,
                                       minimumAge: Int(data["minimumAge"]?.int64Value ?? 0), bulky: data["bulky"]?.boolValue ?? false,
                                       preorderReleaseDate: release, dropShipSupplier: data["dropShipSupplier"]?.stringValue,
                                       serviceSkill: data["serviceSkill"]?.stringValue)
            return .product(sku: try string("sku"), traits: traits, changedAt: event.time ?? EventTime.format(Date()))
        case "Order.Accepted", "Order.OnHold":
            var lines: [OrderAnnouncement.Line] = []
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let sku = line["sku"]?.stringValue, let quantity = line["quantity"]?.int64Value else {
                    throw .schemaViolation("data.lines[\(index)]: lineId, sku and quantity are required")
                }
                lines.append(.init(lineID: id, sku: sku, quantity: quantity))
            }
            guard Set(lines.map(\.lineID)).count == lines.count else { throw .schemaViolation("data.lines: lineId values must be unique") }
            guard let country = data["shippingCountry"]?.stringValue, let method = data["shippingMethod"]?.stringValue else {
                throw .schemaViolation("data: shippingCountry and shippingMethod are needed for routing")
            }
            return .order(OrderAnnouncement(
                orderID: try string("orderId"), held: event.type == "Order.OnHold",
                holdReasons: (data["holdReasons"]?.arrayValue ?? []).compactMap(\.stringValue), shippingCountry: country,
                shippingMethod: method, shipComplete: data["shipComplete"]?.boolValue ?? false, lines: lines, data: data))
        case "Order.Released":
            return .released(orderID: try string("orderId"))
        case "Order.Cancelled", "Order.Rejected":
            let reason = data["reason"]?.stringValue
                ?? (data["reasons"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }.joined(separator: "; ")
            return .ended(orderID: try string("orderId"), event: event.type, reason: reason)
        case "Order.CancellationRequested":
            return .cancellationRequested(orderID: try string("orderId"), reason: try string("reason"),
                                          by: data["requestedBy"]?.stringValue ?? "shop")
        case "FulfillmentOrder.ShortPicked":
            var lines: [(lineID: String, sku: String, missing: Int64)] = []
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let sku = line["sku"]?.stringValue, let missing = line["missing"]?.int64Value else {
                    throw .schemaViolation("data.lines[\(index)]: lineId, sku and missing are required")
                }
                lines.append((id, sku, missing))
            }
            guard Set(lines.map(\.lineID)).count == lines.count else { throw .schemaViolation("data.lines: lineId values must be unique") }
            return .shortPicked(ShortPick(fulfillmentOrderID: try string("fulfillmentOrderId"), orderID: try string("orderId"),
                                          warehouseID: try string("warehouseId"), lines: lines))
        case "Stock.Returned":
            var items: [(sku: String, quantity: Int64)] = []
            for (index, item) in (data["items"]?.arrayValue ?? []).enumerated() {
                guard let sku = item["sku"]?.stringValue, let quantity = item["quantity"]?.int64Value else {
                    throw .schemaViolation("data.items[\(index)]: sku and quantity are required")
                }
                items.append((sku, quantity))
            }
            return .returned(ReturnedStock(returnID: try string("returnId"), warehouseID: try string("warehouseId"), items: items))
        case "FulfillmentOrder.Confirmed":
            return .confirmed(fulfillmentOrderID: try string("fulfillmentOrderId"), orderID: try string("orderId"))
        default:
            throw .unknownEventType("event type \"\(event.type.prefix(80))\" is not handled by the Router")
        }
    }
}
