import Foundation
import RouterCore
import Shared

/// The events the Router emits.
enum RouterEvents {
    static func fulfillmentOrderCreated(_ fo: RouterOrderStore.NewFulfillmentOrder, order: RouterOrderStore.OrderRow, branding: JSONValue?) -> Emission {
        var data: [String: JSONValue] = [
            "fulfillmentOrderId": .string(fo.id), "orderId": .string(fo.orderID), "lines": fo.lines,
            "shippingMethod": .string(order.method), "shippingCountry": .string(order.country),
        ]
        if let warehouse = fo.warehouseID { data["warehouseId"] = .string(warehouse) }
        if let supplier = fo.supplierID { data["supplierId"] = .string(supplier) }
        if let service = fo.carrierService { data["carrierService"] = .string(service) }
        if let shipBy = fo.shipBy { data["shipBy"] = .string(EventTime.format(shipBy)) }
        if let slaDue = fo.slaDue { data["slaDue"] = .string(EventTime.format(slaDue)) }
        if let branding { data["branding"] = branding }
        if let gift = order.data["gift"], gift.objectValue != nil { data["gift"] = gift }
        // What the warehouse needs to pack, label and declare, carried from Capture's announcement.
        for key in ["shipTo", "customerType", "currency", "deliveryNote"] { if let value = order.data[key] { data[key] = value } }
        return Emission(topic: Topic.omsFulfillment, key: fo.orderID, type: "FulfillmentOrder.Created", subject: fo.orderID, data: .object(data))
    }

    /// `FulfillmentOrder.Created` for a fulfillment order kept back until now (a held order
    /// released, or the cancellation window over): ship-by and SLA count from now.
    static func released(_ fo: RouterOrderStore.FulfillmentOrderRow, order: RouterOrderStore.OrderRow, rules: RouterRules, now: Date) -> Emission {
        let supplier = fo.supplierID.flatMap { rules.suppliers[$0] }
        return fulfillmentOrderCreated(
            .init(id: fo.id, orderID: fo.orderID, warehouseID: fo.warehouseID, supplierID: fo.supplierID, carrierService: fo.carrierService,
                  shipBy: fo.warehouseID.flatMap { rules.warehouse($0) }.flatMap { ShipCalendar.shipBy(from: $0, at: now, timeZone: rules.timeZone) },
                  slaDue: supplier.map { now.addingTimeInterval(Double($0.slaHours) * 3600) }, status: .released, lines: fo.lines),
            order: order, branding: supplier?.branding)
    }

    /// The lines of a fulfillment order, with the personalization the shop sent carried along untouched.
    static func lines(_ planned: [RoutingPlan.PlannedLine], order: RouterOrderStore.OrderRow) -> JSONValue {
        let received = order.data["lines"]?.arrayValue ?? []
        return .array(planned.map { line in
            var value: [String: JSONValue] = ["lineId": .string(line.lineID), "sku": .string(line.sku), "quantity": .integer(line.quantity)]
            let original = received.first { $0["lineId"]?.stringValue == line.lineID }
            if let personalization = original?["personalization"] { value["personalization"] = personalization }
            if let unitPrice = original?["unitPrice"], unitPrice.int64Value != nil { value["unitPrice"] = unitPrice }
            return .object(value)
        })
    }

    static func backorderCreated(_ plan: RoutingPlan, orderID: String) -> [Emission] {
        var data: [String: JSONValue] = [
            "orderId": .string(orderID),
            "lines": .array(plan.backorders.map { backorder in
                var line: [String: JSONValue] = ["lineId": .string(backorder.lineID), "sku": .string(backorder.sku), "quantity": .integer(backorder.quantity)]
                if let eta = backorder.eta { line["eta"] = .string(EventTime.format(eta)) }
                return .object(line)
            } + plan.preorders.map { preorder in
                ["lineId": .string(preorder.lineID), "sku": .string(preorder.sku), "quantity": .integer(preorder.quantity),
                 "eta": .string(EventTime.format(preorder.releaseDate))]
            }),
        ]
        let eta = plan.preorders.isEmpty ? plan.backorderETA : ([plan.backorderETA].compactMap { $0 } + plan.preorders.map(\.releaseDate)).max()
        if let eta { data["eta"] = .string(EventTime.format(eta)) }
        return [
            Emission(topic: Topic.omsOrders, key: orderID, type: "Backorder.Created", subject: orderID, data: .object(data)),
            notification(orderID: orderID, template: "backorder", facts: .object(data)),
        ]
    }

    static func appointmentScheduled(_ appointment: RoutingPlan.Appointment, orderID: String) -> [Emission] {
        let data: JSONValue = ["orderId": .string(orderID), "lineId": .string(appointment.lineID), "sku": .string(appointment.sku),
                               "technicianId": .string(appointment.technicianID), "date": .string(appointment.day)]
        return [Emission(topic: Topic.omsOrders, key: orderID, type: "Appointment.Scheduled", subject: orderID, data: data),
                notification(orderID: orderID, template: "appointment", facts: data)]
    }

    static func problem(_ type: String, orderID: String, reasons: [(lineID: String?, code: String, message: String)]) -> Emission {
        Emission(topic: Topic.omsOrders, key: orderID, type: type, subject: orderID, data: [
            "orderId": .string(orderID),
            "reasons": .array(reasons.map { reason in
                var value: [String: JSONValue] = ["code": .string(reason.code), "message": .string(reason.message)]
                if let line = reason.lineID { value["lineId"] = .string(line) }
                return .object(value)
            }),
        ])
    }

    static func cancelled(orderID: String, reason: String) -> Emission {
        Emission(topic: Topic.omsOrders, key: orderID, type: "Order.Cancelled", subject: orderID,
                 data: ["orderId": .string(orderID), "reason": .string(reason), "at": .string(EventTime.format(Date()))])
    }

    static func notification(orderID: String, template: String, facts: JSONValue) -> Emission {
        Emission(topic: Topic.omsNotifications, key: orderID, type: "Customer.NotificationRequested", subject: orderID,
                 data: ["orderId": .string(orderID), "template": .string(template), "facts": facts])
    }

    static func availability(_ items: [JSONValue], at now: Date) -> [Emission] {
        stride(from: 0, to: items.count, by: 5_000).map { start in
            let chunk = Array(items[start..<min(items.count, start + 5_000)])
            return Emission(topic: Topic.omsStock, key: chunk.first?["sku"]?.stringValue ?? "availability", type: "Availability.Changed",
                            subject: "availability", data: ["asOf": .string(EventTime.format(now)), "items": .array(chunk)])
        }
    }
}
