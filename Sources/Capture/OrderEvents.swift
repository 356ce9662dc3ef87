import Shared

/// The events and audit texts Capture writes about an order.
enum OrderEvents {
    static func announce(_ type: String, order: OrderSubmission, holds: Set<HoldReason>, findings: [CheckFinding],
                         terms: PaymentTerms? = nil, salesChannel: String? = nil, at now: String) -> Emission {
        if type == "Order.Rejected" {
            return outcome(type, orderID: order.orderID, findings: findings.filter { $0.effect == .reject }, at: now)
        }
        var data = summary(order)
        if let salesChannel { data["salesChannel"] = .string(String(salesChannel.prefix(200))) }
        if let terms { data["paymentTerms"] = terms.json }
        if let buyer = order.buyerID { data["buyerId"] = .string(buyer) }
        if type == "Order.OnHold" {
            data["heldAt"] = .string(now)
            data["holdReasons"] = .array(holds.sorted().map { .string($0.rawValue) })
            data["findings"] = .array(findings.map(json))
        } else {
            data["acceptedAt"] = .string(now)
        }
        return Emission(topic: Topic.omsOrders, key: order.orderID, type: type, subject: order.orderID, data: .object(data))
    }

    /// A later status change of an order: `Order.Rejected` carries its reasons,
    /// `Order.Released` / `Order.Cancelled` one reason sentence.
    static func outcome(_ type: String, orderID: String, findings: [CheckFinding], at now: String) -> Emission {
        guard type == "Order.Rejected" else {
            return statusChange(type, orderID: orderID, reason: findings.map(\.message).joined(separator: "; "), at: now)
        }
        return Emission(topic: Topic.omsOrders, key: orderID, type: type, subject: orderID,
                        data: ["orderId": .string(orderID), "rejectedAt": .string(now), "reasons": .array(findings.map(json))])
    }

    /// `Order.ApprovalRequested` on `oms.notifications`: the notifier tells the approvers.
    static func approvalRequested(_ order: OrderSubmission, approvers: [String], approvalLimit: Int64?, findings: [CheckFinding],
                                  at now: String) -> Emission {
        var data: [String: JSONValue] = [
            "orderId": .string(order.orderID), "customerId": .string(order.customer.id), "buyerId": .string(order.buyerID ?? order.customer.id),
            "approvers": .array(approvers.map { .string($0) }), "total": .integer(order.paymentAmount.minorUnits),
            "currency": .string(order.currency), "requestedAt": .string(now),
            "reason": .string(findings.filter { $0.effect == .hold(.approval) }.map(\.message).joined(separator: "; ")),
        ]
        if let approvalLimit { data["approvalLimit"] = .integer(approvalLimit) }
        return Emission(topic: Topic.omsNotifications, key: order.orderID, type: "Order.ApprovalRequested", subject: order.orderID,
                        data: .object(data))
    }

    static func statusChange(_ type: String, orderID: String, reason: String, at now: String) -> Emission {
        Emission(topic: Topic.omsOrders, key: orderID, type: type, subject: orderID,
                 data: ["orderId": .string(orderID), "reason": .string(reason), "at": .string(now)])
    }

    static func summary(_ order: OrderSubmission) -> [String: JSONValue] {
        let received = order.data["lines"]?.arrayValue ?? []
        let lines: [JSONValue] = order.lines.enumerated().map { index, line in
            var value: [String: JSONValue] = ["lineId": .string(line.lineID), "sku": .string(line.sku), "quantity": .integer(line.quantity),
                                              "unitPrice": .integer(line.unitPrice.minorUnits)]
            // Carried along untouched for the warehouse (engraving, print text).
            if index < received.count, let personalization = received[index]["personalization"] { value["personalization"] = personalization }
            // The line's discount as an amount for all its units, in the order's price basis (Billing prints and allocates it).
            if line.discount.minorUnits > 0 {
                var discount: [String: JSONValue] = ["amount": .integer(line.discount.minorUnits)]
                if let code = line.discountCode { discount["code"] = .string(code) }
                if let reason = line.discountReason { discount["reason"] = .string(reason) }
                value["discount"] = .object(discount)
            }
            return .object(value)
        }
        var summary: [String: JSONValue] = [
            "orderId": .string(order.orderID), "customerId": .string(order.customer.id),
            "customerType": .string(order.customer.type), "currency": .string(order.currency),
            "total": .integer(order.orderTotal.minorUnits), "shipComplete": .bool(order.shipComplete),
            "shippingMethod": .string(order.shippingMethod), "shippingCountry": .string(order.shippingAddress.country),
            "lines": .array(lines),
        ]
        if let gift = order.data["gift"] { summary["gift"] = gift }
        if let note = order.data["deliveryNote"], note.objectValue != nil { summary["deliveryNote"] = note }
        // The carrier's recipient: Fulfillment prints it and decides customs by country and postal code.
        let address = order.shippingAddress
        var shipTo: [String: JSONValue] = [
            "name": .string(address.name), "street": .string(address.street), "postalCode": .string(address.postalCode),
            "city": .string(address.city), "country": .string(address.country), "email": .string(order.customer.email),
        ]
        if let phone = order.customer.phone { shipTo["phone"] = .string(phone) }
        summary["shipTo"] = .object(shipTo)
        // What Billing needs for the invoice: the bill-to party, the VAT ID, how prices are meant, the shipping charge.
        let bill = order.billingAddress
        var billing: [String: JSONValue] = [
            "pricesIncludeTax": .bool(order.pricesIncludeTax), "shippingCharge": .integer(order.shippingCharge.minorUnits),
            "billTo": ["name": .string(bill.name), "street": .string(bill.street), "postalCode": .string(bill.postalCode),
                       "city": .string(bill.city), "country": .string(bill.country)],
        ]
        if let vat = order.data["customer"]?["vatId"]?.stringValue { billing["vatId"] = .string(vat) }
        // A public buyer's Leitweg-ID or a buyer's own reference: its invoices are XRechnung (BT-10).
        for key in ["leitwegId", "buyerReference"] {
            if let value = order.data["customer"]?[key]?.stringValue { billing[key] = .string(value) }
        }
        if !order.discounts.isEmpty {
            billing["discounts"] = .array(order.discounts.map { d in
                var v: [String: JSONValue] = ["amount": .integer(d.amount.minorUnits)]
                if let code = d.code { v["code"] = .string(code) }
                if let reason = d.reason { v["reason"] = .string(reason) }
                return .object(v)
            })
        }
        if !order.vouchers.isEmpty {
            billing["vouchers"] = .array(order.vouchers.map { ["code": .string($0.code), "amount": .integer($0.amount.minorUnits), "kind": .string($0.kind)] })
        }
        summary["billing"] = .object(billing)
        return summary
    }

    static func json(_ finding: CheckFinding) -> JSONValue {
        var value: [String: JSONValue] = ["check": .string(finding.check), "code": .string(finding.code), "message": .string(finding.message)]
        if finding.points > 0 { value["points"] = .integer(Int64(finding.points)) }
        return .object(value)
    }

    static func auditReason(status: OrderStatus, holds: Set<HoldReason>, findings: [CheckFinding], source: String) -> String {
        switch status {
        case .accepted: return "received from \(source); all intake checks passed"
        case .onHold:
            let why = findings.filter { if case .hold = $0.effect { return true } else { return false } }.map(\.message)
            return "held for \(holds.listed): \(why.joined(separator: "; "))"
        case .rejected:
            return "rejected: " + findings.filter { $0.effect == .reject }.map(\.message).joined(separator: "; ")
        case .cancelled: return "cancelled"
        }
    }

    static func auditDetails(order: OrderSubmission, findings: [CheckFinding], eventID: String) -> JSONValue {
        ["sourceEventId": .string(eventID), "total": .integer(order.orderTotal.minorUnits),
         "currency": .string(order.currency), "fraudScore": .integer(Int64(CheckFinding.score(findings))),
         "findings": .array(findings.map(json))]
    }
}
