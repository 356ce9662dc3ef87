import Foundation
import ReturnsCore
import Shared

/// The events Returns emits, built in one place.
enum ReturnsEvents {
    static func lines(_ request: [ReturnPolicy.RequestLine], skus: [String: String]) -> JSONValue {
        .array(request.map { ["lineId": .string($0.lineID), "sku": .string(skus[$0.lineID] ?? ""), "quantity": .integer($0.quantity), "reason": .string($0.reason)] })
    }

    static func authorized(rma: String, requestID: String, orderID: String, lines: JSONValue, sscc: String, rules: ReturnRules,
                           shopPays: Bool, by: String?, at now: String) -> [Emission] {
        var data: [String: JSONValue] = [
            "rma": .string(rma), "requestId": .string(requestID), "orderId": .string(orderID), "lines": lines, "authorizedAt": .string(now),
            "shopPaysReturnShipping": .bool(shopPays), "label": ["sscc": .string(sscc), "carrierService": .string(rules.labelCarrierService)],
        ]
        if let by { data["authorizedBy"] = .string(by) }
        return [
            Emission(topic: Topic.omsReturns, key: orderID, type: "Return.Authorized", subject: orderID, data: .object(data)),
            notification(orderID: orderID, template: "return-authorized", facts: ["rma": .string(rma), "shopPaysReturnShipping": .bool(shopPays)]),
        ]
    }

    static func held(rma: String, requestID: String, orderID: String, lines: JSONValue, reason: String, at now: String) -> [Emission] {
        [
            Emission(topic: Topic.omsReturns, key: orderID, type: "Return.Held", subject: orderID, data: [
                "rma": .string(rma), "requestId": .string(requestID), "orderId": .string(orderID), "reason": .string(reason), "heldAt": .string(now),
                "lines": lines,
            ]),
            notification(orderID: orderID, template: "return-held", facts: ["rma": .string(rma)]),
        ]
    }

    static func rejected(requestID: String, rma: String?, orderID: String, refusals: [ReturnPolicy.Refusal], by: String?, at now: String) -> [Emission] {
        let reasons = reasonsJSON(refusals)
        var data: [String: JSONValue] = ["requestId": .string(requestID), "orderId": .string(orderID), "reasons": reasons, "rejectedAt": .string(now)]
        if let rma { data["rma"] = .string(rma) }
        if let by { data["rejectedBy"] = .string(by) }
        return [
            Emission(topic: Topic.omsReturns, key: orderID, type: "Return.Rejected", subject: orderID, data: .object(data)),
            notification(orderID: orderID, template: "return-rejected", facts: ["requestId": .string(requestID), "reasons": reasons]),
        ]
    }

    static func reasonsJSON(_ refusals: [ReturnPolicy.Refusal]) -> JSONValue {
        .array(refusals.map { r in
            var v: [String: JSONValue] = ["code": .string(r.code), "message": .string(r.english), "messageDe": .string(r.german)]
            if let line = r.lineID { v["lineId"] = .string(line) }
            return .object(v)
        })
    }

    static func inspected(rma: String, orderID: String, warehouseID: String?, lines: [JSONValue], by: String, at now: String) -> Emission {
        var data: [String: JSONValue] = ["rma": .string(rma), "orderId": .string(orderID), "lines": .array(lines), "inspectedAt": .string(now),
                                         "decidedBy": .string(by)]
        if let warehouseID { data["warehouseId"] = .string(warehouseID) }
        return Emission(topic: Topic.omsReturns, key: orderID, type: "Return.Inspected", subject: orderID, data: .object(data))
    }

    static func stockReturned(rma: String, orderID: String, warehouseID: String, items: [String: Int64], at now: String) -> Emission? {
        guard !items.isEmpty else { return nil }
        return Emission(topic: Topic.omsReturns, key: orderID, type: "Stock.Returned", subject: rma, data: [
            "returnId": .string(rma), "warehouseId": .string(warehouseID), "returnedAt": .string(now),
            "items": .array(items.keys.sorted().map { ["sku": .string($0), "quantity": .integer(items[$0] ?? 0)] }),
        ])
    }

    static func refund(_ refund: RefundRule.Refund, refundID: String, rma: String, orderID: String, currency: String,
                       payment: (method: String?, reference: String?), voucherCodes: [String], at now: String) -> [Emission] {
        var approved: [String: JSONValue] = [
            "refundId": .string(refundID), "returnId": .string(rma), "orderId": .string(orderID), "currency": .string(currency),
            "approvedAt": .string(now), "reason": .string("return \(rma)"),
            "lines": .array(refund.lines.map { ["lineId": .string($0.lineID), "quantity": .integer($0.quantity), "amount": .integer($0.amount)] }),
        ]
        if refund.shipping > 0 { approved["shippingAmount"] = .integer(refund.shipping) }
        var requested: [String: JSONValue] = [
            "refundId": .string(refundID), "returnId": .string(rma), "orderId": .string(orderID), "currency": .string(currency),
            "amount": .integer(refund.toPayment), "requestedAt": .string(now),
        ]
        if let method = payment.method { requested["paymentMethod"] = .string(method) }
        if let reference = payment.reference { requested["paymentReference"] = .string(reference) }
        if refund.toVoucher > 0 { requested["voucher"] = ["amount": .integer(refund.toVoucher), "codes": .array(voucherCodes.map { .string($0) })] }
        return [
            Emission(topic: Topic.omsReturns, key: orderID, type: "Refund.Approved", subject: orderID, data: .object(approved)),
            Emission(topic: Topic.omsReturns, key: orderID, type: "Refund.Requested", subject: orderID, data: .object(requested)),
            notification(orderID: orderID, template: "refund-approved", facts: [
                "rma": .string(rma), "refundId": .string(refundID), "amount": .integer(refund.total), "currency": .string(currency),
                "toVoucher": .integer(refund.toVoucher),
            ]),
        ]
    }

    static func notification(orderID: String, template: String, facts: JSONValue) -> Emission {
        Emission(topic: Topic.omsNotifications, key: orderID, type: "Customer.NotificationRequested", subject: orderID,
                 data: ["orderId": .string(orderID), "template": .string(template), "facts": facts])
    }
}
