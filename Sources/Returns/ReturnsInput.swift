import Foundation
import ReturnsCore
import Shared

/// What Returns consumes, decoded and validated (the schema checked shapes and maxima already).
enum ReturnsInput: Sendable {
    case product(sku: String, product: ReturnPolicy.Product, changedAt: String)
    /// `Order.Accepted` / `Order.OnHold`: kept whole; e-mail and postal code for the portal's lookup.
    case order(orderID: String, data: JSONValue, email: String, postalCode: String)
    case shipped(Shipment)
    case delivered(fulfillmentOrderID: String, deliveredAt: String)
    case requested(Request)
    case received(Receipt)
    case decided(Decision)
    case ignored(String)

    struct Shipment: Sendable {
        let fulfillmentOrderID: String
        let orderID: String
        let warehouseID: String?
        let supplierID: String?
        let lines: [(lineID: String, sku: String, quantity: Int64)]
        let shippedAt: String
    }

    struct Request: Sendable {
        let requestID: String
        let orderID: String
        let channel: String
        let requestedBy: String?
        let language: PortalLanguage
        let comment: String?
        let photos: [JSONValue]
        let lines: [ReturnPolicy.RequestLine]
        let comments: [String: String]
        let requestedAt: String?
    }

    struct Receipt: Sendable {
        let rma: String
        let warehouseID: String
        let receivedAt: String?
        let lines: [(lineID: String, quantity: Int64, grade: String, notes: String?)]
    }

    struct Decision: Sendable {
        let rma: String
        let decidedBy: String
        let reason: String
        let authorize: Bool?
        let lines: [(lineID: String, disposition: ReturnRules.Disposition, refundBasisPoints: Int64?)]
    }
}

extension ReturnsInput {
    /// Lower-cased, trimmed e-mail; postal code without spaces, upper-cased: what the portal compares.
    static func normalizedEmail(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
    static func normalizedPostalCode(_ text: String) -> String { text.filter { !$0.isWhitespace && $0 != "-" }.uppercased() }

    static func decode(_ event: CloudEvent) throws(PermanentFailure) -> ReturnsInput {
        let data = event.data
        func string(_ key: String, in value: JSONValue? = nil) throws(PermanentFailure) -> String {
            guard let text = (value ?? data)[key]?.stringValue else { throw .schemaViolation("data.\(key): required string is missing") }
            return text
        }
        switch event.type {
        case "Product.Changed":
            return .product(sku: try string("sku"),
                            product: .init(name: data["name"]?.stringValue, returnable: data["returnable"]?.boolValue ?? true,
                                           category: data["category"]?.stringValue, dropShipSupplier: data["dropShipSupplier"]?.stringValue),
                            changedAt: event.time ?? EventTime.format(Date()))
        case "Order.Accepted", "Order.OnHold":
            let shipTo = data["shipTo"]
            return .order(orderID: try string("orderId"), data: data, email: normalizedEmail(shipTo?["email"]?.stringValue ?? ""),
                          postalCode: normalizedPostalCode(shipTo?["postalCode"]?.stringValue ?? ""))
        case "Shipment.Shipped":
            var lines: [(lineID: String, sku: String, quantity: Int64)] = []
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let sku = line["sku"]?.stringValue, let quantity = line["quantity"]?.int64Value else {
                    throw .schemaViolation("data.lines[\(index)]: lineId, sku and quantity are required")
                }
                lines.append((id, sku, quantity))
            }
            return .shipped(Shipment(fulfillmentOrderID: try string("fulfillmentOrderId"), orderID: try string("orderId"),
                                     warehouseID: data["warehouseId"]?.stringValue, supplierID: data["supplierId"]?.stringValue, lines: lines,
                                     shippedAt: data["shippedAt"]?.stringValue ?? event.time ?? EventTime.format(Date())))
        case "Shipment.Delivered":
            // The OMS's own delivery event names the fulfillment order; a carrier scan without it is Fulfillment's to match.
            guard let fo = data["fulfillmentOrderId"]?.stringValue else { return .ignored("delivery without fulfillmentOrderId") }
            return .delivered(fulfillmentOrderID: fo, deliveredAt: data["deliveredAt"]?.stringValue ?? event.time ?? EventTime.format(Date()))
        case "Return.Requested":
            var lines: [ReturnPolicy.RequestLine] = []
            var comments: [String: String] = [:]
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let quantity = line["quantity"]?.int64Value, let reason = line["reason"]?.stringValue else {
                    throw .schemaViolation("data.lines[\(index)]: lineId, quantity and reason are required")
                }
                lines.append(.init(lineID: id, quantity: quantity, reason: reason))
                if let comment = line["comment"]?.stringValue { comments[id] = comment }
            }
            return .requested(Request(requestID: try string("requestId"), orderID: try string("orderId"), channel: try string("channel"),
                                      requestedBy: data["requestedBy"]?.stringValue,
                                      language: data["language"]?.stringValue.flatMap(PortalLanguage.init) ?? .german,
                                      comment: data["comment"]?.stringValue, photos: data["photos"]?.arrayValue ?? [], lines: lines,
                                      comments: comments, requestedAt: data["requestedAt"]?.stringValue))
        case "Return.Received":
            var lines: [(lineID: String, quantity: Int64, grade: String, notes: String?)] = []
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let quantity = line["quantity"]?.int64Value, let grade = line["grade"]?.stringValue else {
                    throw .schemaViolation("data.lines[\(index)]: lineId, quantity and grade are required")
                }
                lines.append((id, quantity, grade, line["notes"]?.stringValue))
            }
            return .received(Receipt(rma: try string("rma"), warehouseID: try string("warehouseId"), receivedAt: data["receivedAt"]?.stringValue, lines: lines))
        case "Return.Decided":
            var lines: [(lineID: String, disposition: ReturnRules.Disposition, refundBasisPoints: Int64?)] = []
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let disposition = line["disposition"]?.stringValue.flatMap(ReturnRules.Disposition.init) else {
                    throw .schemaViolation("data.lines[\(index)]: lineId and disposition are required")
                }
                lines.append((id, disposition, line["refundBasisPoints"]?.int64Value))
            }
            return .decided(Decision(rma: try string("rma"), decidedBy: try string("decidedBy"), reason: try string("reason"),
                                     authorize: data["authorize"]?.boolValue, lines: lines))
        default:
            throw .unknownEventType("event type \"\(event.type.prefix(80))\" is not handled by Returns")
        }
    }

    /// The stored Order.Accepted data as the return and refund rules read it.
    static func order(_ data: JSONValue, shipments: [ReturnsStore.ShipmentRow], returned: [String: Int64]) -> ReturnPolicy.Order {
        let lines = (data["lines"]?.arrayValue ?? []).compactMap { line -> ReturnPolicy.OrderLine? in
            guard let id = line["lineId"]?.stringValue, let sku = line["sku"]?.stringValue, let quantity = line["quantity"]?.int64Value,
                  let price = line["unitPrice"]?.int64Value else { return nil }
            return .init(lineID: id, sku: sku, quantity: quantity, unitPrice: price, discount: max(0, line["discount"]?["amount"]?.int64Value ?? 0),
                         personalized: line["personalization"] != nil)
        }
        let discount = (data["billing"]?["discounts"]?.arrayValue ?? []).reduce(Int64(0)) {
            $0.addingReportingOverflow(max(0, $1["amount"]?.int64Value ?? 0)).partialValue
        }
        var shipped: [String: Int64] = [:]
        for shipment in shipments {
            for line in shipment.lines { shipped[line.lineID] = (shipped[line.lineID] ?? 0).addingReportingOverflow(line.quantity).partialValue }
        }
        let delivered = shipments.compactMap(\.deliveredAt)
        return ReturnPolicy.Order(
            orderID: data["orderId"]?.stringValue ?? "", customerType: data["customerType"]?.stringValue ?? "b2c",
            currency: data["currency"]?.stringValue ?? "EUR", lines: lines, orderDiscount: max(0, discount), shipped: shipped, returned: returned,
            lastShippedAt: shipments.map(\.shippedAt).max(),
            // The window starts with the last delivery, and only once every shipment arrived (§ 356 (2) 1 b BGB).
            lastDeliveredAt: delivered.count == shipments.count ? delivered.max() : nil)
    }

    /// What the order paid, for the refund rule.
    static func paid(_ data: JSONValue) -> (total: Int64, shipping: Int64, vouchers: Int64, voucherCodes: [String]) {
        let vouchers = data["billing"]?["vouchers"]?.arrayValue ?? []
        return (max(0, data["total"]?.int64Value ?? 0), max(0, data["billing"]?["shippingCharge"]?.int64Value ?? 0),
                vouchers.reduce(Int64(0)) { $0.addingReportingOverflow(max(0, $1["amount"]?.int64Value ?? 0)).partialValue },
                vouchers.compactMap { $0["code"]?.stringValue })
    }
}
