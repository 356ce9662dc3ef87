import Foundation
import NotifierCore
import Shared
import Testing

@Suite("Standard Webhooks signing and subscriptions")
struct StandardWebhookTests {
    @Test("the specification's example signs as the reference library does; two secrets give two signatures")
    func referenceVector() throws {
        // The example of the Standard Webhooks specification (the PyPI reference library prints the same).
        let keys = try StandardWebhook.keys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let headers = StandardWebhook.headers(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                              body: Array("{\"test\": 2432232314}".utf8), keys: keys)
        #expect(headers.first { $0.0 == "webhook-signature" }?.1 == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(headers.first { $0.0 == "webhook-timestamp" }?.1 == "1614265330")
        let rotated = try StandardWebhook.keys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_\(Data(repeating: 7, count: 24).base64EncodedString())")
        let two = StandardWebhook.headers(id: "m", timestamp: 1, body: [], keys: rotated).first { $0.0 == "webhook-signature" }?.1 ?? ""
        #expect(two.split(separator: " ").count == 2 && two.split(separator: " ").allSatisfy { $0.hasPrefix("v1,") })
    }

    @Test("a malformed secret is refused without repeating it")
    func badSecret() {
        #expect(throws: StandardWebhook.SecretProblem(description: "secret 2 is not whsec_ followed by base64 of at least 16 bytes")) {
            try StandardWebhook.keys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw hunter2")
        }
        #expect(throws: StandardWebhook.SecretProblem.self) { try StandardWebhook.keys("  ") }
    }

    @Test("filters: exact types, prefixes ending in .*, everything")
    func filters() throws {
        let rules = try WebhookRules.parse([
            "validFrom": "2026-01-01T00:00:00Z",
            "endpoints": [
                ["id": "shop", "url": "https://shop.example/hooks", "types": ["Shipment.*", "Order.Cancelled"], "secretVariable": "S"],
                ["id": "erp", "url": "http://erp.example/in", "types": ["*"], "secretVariable": "E", "maximumAttempts": 3],
            ],
        ])
        let shop = try #require(rules.endpoints.first)
        #expect(shop.wants("Shipment.Shipped") && shop.wants("Order.Cancelled"))
        #expect(!shop.wants("Order.Accepted") && !shop.wants("ShipmentX"))
        #expect(rules.endpoints[1].wants("Invoice.Issued") && rules.endpoints[1].maximumAttempts == 3)
        #expect(throws: RuleFileProblem.self) {
            try WebhookRules.parse(["validFrom": "2026-01-01T00:00:00Z", "endpoints": [["id": "x", "url": "ftp://x", "types": ["*"], "secretVariable": "S"]]])
        }
    }
}

@Suite("The timeline rule")
struct TimelineRuleTests {
    @Test("order, stage, actor and reason from an event")
    func entries() throws {
        let decided = CloudEvent(id: "e1", source: "oms/returns", type: "Return.Rejected", subject: "BB-1", time: nil, data: [
            "requestId": "P-1", "orderId": "BB-1", "rejectedBy": "anna", "rejectedAt": "2026-12-01T10:00:00Z",
            "reasons": [["code": "window-closed", "message": "The return period ended on 2026-11-30."]],
        ])
        #expect(TimelineRule.entry(decided) == .init(orderID: "BB-1", stage: "returns", actor: "anna", reason: "The return period ended on 2026-11-30."))
        let invoice = CloudEvent(id: "e2", source: "oms/billing", type: "Invoice.Issued", subject: "BB-2", time: nil,
                                 data: ["orderId": "BB-2", "number": "RE-2026-000007", "gross": 25_980, "currency": "EUR"])
        #expect(TimelineRule.entry(invoice)?.reason == "RE-2026-000007 259.80 EUR")
        let shipped = CloudEvent(id: "e3", source: "oms/fulfillment", type: "Shipment.Shipped", subject: "BB-3", time: nil, data: [
            "orderId": "BB-3", "fulfillmentOrderId": "FO-BB-3-1", "parcels": [["trackingNumber": "00340434", "carrier": "DHL"]],
        ])
        #expect(TimelineRule.entry(shipped) == .init(orderID: "BB-3", stage: "fulfillment", actor: "fulfillment", reason: "FO-BB-3-1, DHL 00340434",
                                                    facts: ["fulfillmentOrderId": "FO-BB-3-1"]))
        let noOrder = CloudEvent(id: "e4", source: "oms/billing", type: "Receivables.Changed", subject: "C-1", time: nil, data: ["customerId": "C-1"])
        #expect(TimelineRule.entry(noOrder) == nil)
    }
}

@Suite("Mail messages")
struct MailMessageTests {
    @Test("headers cannot be split by input; non-ASCII subjects are RFC 2047 encoded; bodies are base64 in 76-character lines")
    func rendering() {
        let message = MailMessage(from: "service@shop.example", to: "lena@example.org", subject: "Grüße\r\nBcc: victim@example.org",
                                  text: String(repeating: "Zelt ", count: 40), html: "<p>Zelt</p>", messageID: "e1@oms", date: Date(timeIntervalSince1970: 0))
        let rendered = message.rendered(boundary: "b1")
        let headerBlock = rendered.components(separatedBy: "\r\n\r\n")[0]
        #expect(!headerBlock.contains("\r\nBcc:"))
        #expect(headerBlock.contains("Subject: =?UTF-8?B?\(Data("GrüßeBcc: victim@example.org".utf8).base64EncodedString())?="))
        #expect(headerBlock.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        #expect(rendered.components(separatedBy: "\r\n").allSatisfy { $0.count <= 998 })
        #expect(rendered.components(separatedBy: "\r\n").filter { $0.count == 76 }.count >= 3)
        #expect(MailMessage.isDeliverable("lena@example.org"))
        #expect(!MailMessage.isDeliverable("lena@example.org>\r\nRCPT TO:<x@y.z") && !MailMessage.isDeliverable("no-at") && !MailMessage.isDeliverable("a b@c.de"))
    }
}

@Suite("KPI report")
struct KPIReportTests {
    static let t0 = EventTime.parse("2026-11-02T08:00:00Z")
    func at(_ hours: Double) -> Date { Self.t0.addingTimeInterval(hours * 3600) }
    func e(_ order: String, _ type: String, _ hours: Double, actor: String? = nil, stage: String = "router", facts: JSONValue = .object([:])) -> KPIReport.Event {
        KPIReport.Event(orderID: order, type: type, at: at(hours), actor: actor ?? stage, stage: stage, facts: facts)
    }

    @Test("a fixed event set, figures computed by hand")
    func fixedSet() {
        let events: [KPIReport.Event] = [
            // A: accepted, shipped after 20 h within its ship-by (24 h), delivered after 44 h; first time right.
            e("A", "Order.Accepted", 0, stage: "capture"),
            e("A", "FulfillmentOrder.Created", 0.1, facts: ["fulfillmentOrderId": "FO-A", "shipBy": .string(EventTime.format(at(24)))]),
            e("A", "Shipment.Shipped", 20, stage: "fulfillment", facts: ["fulfillmentOrderId": "FO-A"]),
            e("A", "Shipment.Delivered", 44, stage: "fulfillment", facts: ["fulfillmentOrderId": "FO-A"]),
            // B: held for payment, back-ordered, shipped late (30 h, ship-by 26 h), two units back for wrong-size.
            e("B", "Order.OnHold", 1, stage: "capture", facts: ["holdReasons": ["payment"]]),
            e("B", "Backorder.Created", 2),
            e("B", "FulfillmentOrder.Created", 2, facts: ["fulfillmentOrderId": "FO-B", "shipBy": .string(EventTime.format(at(26)))]),
            e("B", "Shipment.Shipped", 31, stage: "fulfillment", facts: ["fulfillmentOrderId": "FO-B"]),
            e("B", "Return.Authorized", 100, stage: "returns", facts: ["returnedUnits": ["wrong-size": 2]]),
            // C: cancelled before shipping by a person.
            e("C", "Order.Accepted", 2, stage: "capture"),
            e("C", "Order.Cancelled", 3, actor: "anna", stage: "capture"),
            // D: shipped after 4 h, then cancelled (after shipping); one unit back, defective, authorized by staff.
            e("D", "Order.Accepted", 3, stage: "capture"),
            e("D", "Shipment.Shipped", 7, stage: "fulfillment", facts: ["fulfillmentOrderId": "FO-D"]),
            e("D", "Order.Cancelled", 8, stage: "capture"),
            e("D", "Return.Authorized", 50, actor: "tom", stage: "returns", facts: ["returnedUnits": ["defective": 1]]),
            // An event of an order accepted outside the period: not counted.
            e("Z", "Shipment.Shipped", 5, stage: "fulfillment"),
        ]
        let report = KPIReport.compute(events)
        #expect(report.orders == 4)
        #expect(report.shippedOrders == 3)
        // Created → shipped: A 20 h, B 30 h, D 4 h → p50 20 h, p90 30 h.
        #expect(report.createdToShipped == .init(count: 3, p50Hours: 20, p90Hours: 30))
        #expect(report.createdToDelivered == .init(count: 1, p50Hours: 44, p90Hours: 44))
        #expect(report.shippedWithDeadline == 2 && report.shippedOnTime == 1 && report.onTimeRate == 50)
        #expect(report.backorderRate == 25)
        #expect(report.cancelledBeforeShipping == 1 && report.cancelledAfterShipping == 1 && report.cancellationRate == 50)
        #expect(report.returnedUnitsByReason == ["wrong-size": 2, "defective": 1])
        // 2 of 3 shipped orders had a return.
        #expect(report.returnRate == 66.7)
        // Only A: B was held, C and D were touched by a person.
        #expect(report.firstTimeRight == 1 && report.firstTimeRightRate == 25)
    }

    @Test("the KPI alert rule: bounds from kpi.json, breaches only with enough orders")
    func kpiAlertRule() throws {
        let rules = try KPIRules.parse(try JSONParser.parse("""
            {"validFrom": "2026-01-01T00:00:00Z", "windowHours": 24, "evaluateEverySeconds": 60, "alertEveryHours": 6, "minimumOrders": 4,
             "thresholds": [{"kpi": "on-time-shipping", "minimumPercent": 95}, {"kpi": "cancellation-rate", "maximumPercent": 5}]}
            """))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var events: [KPIReport.Event] = []
        for n in 1...4 {
            let id = "K-\(n)"
            events.append(.init(orderID: id, type: "Order.Accepted", at: start, actor: "capture", stage: "capture"))
            events.append(.init(orderID: id, type: "FulfillmentOrder.Created", at: start, actor: "router", stage: "router",
                                facts: ["fulfillmentOrderId": .string("F-\(n)"), "shipBy": .string(EventTime.format(start.addingTimeInterval(3600)))]))
            // Three of four ship late: on time 25 %.
            events.append(.init(orderID: id, type: "Shipment.Shipped", at: start.addingTimeInterval(n == 1 ? 600 : 7200), actor: "fulfillment", stage: "fulfillment",
                                facts: ["fulfillmentOrderId": .string("F-\(n)")]))
        }
        let report = KPIReport.compute(events)
        #expect(report.onTimeRate == 25)
        let breaches = KPIAlertRule.breaches(report, rules: rules)
        #expect(breaches.map(\.kpi) == [.onTimeShipping])
        #expect(breaches.first?.message == "on-time-shipping is 25.0 %, below its minimum of 95 % over the orders of the last 24 h")
        // Three orders are too few to alert on.
        #expect(KPIAlertRule.breaches(KPIReport.compute(events.filter { $0.orderID != "K-4" }), rules: rules).isEmpty)
        #expect(throws: RuleFileProblem.self) {
            try KPIRules.parse(try JSONParser.parse("""
                {"validFrom": "2026-01-01T00:00:00Z", "windowHours": 24, "evaluateEverySeconds": 60, "alertEveryHours": 6, "minimumOrders": 4,
                 "thresholds": [{"kpi": "happiness", "minimumPercent": 95}]}
                """))
        }
    }
}
