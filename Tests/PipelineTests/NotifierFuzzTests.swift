import Foundation
import Shared
import Testing

/// No input may crash oms-notifier: ≥ 1,000 hostile events on each topic it reads (it handles every type there),
/// with valid ones in between; e-mail on, so that contacts and the mail rule meet hostile data too.
@Suite("Notifier hostile input fuzz", .serialized)
struct NotifierFuzzTests {
    static let perTopic = 1_000

    static var shapes: [TopicShape] { [
        TopicShape(topic: Topic.omsOrders, valid: { i in
            HostileEvents.envelope(type: "Order.Accepted", id: "fz-accepted-\(i)", subject: "FZN-\(i)", data: [
                "orderId": .string("FZN-\(i)"), "customerId": "C-1", "customerType": "b2c", "currency": "EUR", "total": 1_000,
                "acceptedAt": "2026-11-27T09:14:03Z", "shippingCountry": "DE", "shippingMethod": "standard",
                "shipTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE", "email": "a@example.org"],
                "lines": [["lineId": "1", "sku": "FZ-SKU", "quantity": 1, "unitPrice": 1_000]],
            ])
        }, integerPaths: [["total"], ["lines", "0", "quantity"]], requiredStrings: ["orderId", "customerId", "acceptedAt"],
                   patternPath: ["currency"], array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1, "unitPrice": 1]),
                   freeText: ["shipTo", "name"], ignored: nil),
        TopicShape(topic: Topic.omsNotifications, valid: { i in
            HostileEvents.envelope(type: "Customer.NotificationRequested", id: "fz-notification-\(i)", subject: "FZN-\(i)", data: [
                "orderId": .string("FZN-\(i)"), "template": "shipped",
                "facts": ["parcels": [["trackingNumber": "T", "carrier": "DHL", "trackingUrl": "https://t.example/T"]]],
            ])
        }, integerPaths: [], requiredStrings: ["orderId", "template"], patternPath: nil, array: nil, freeText: ["orderId"], ignored: nil),
        TopicShape(topic: Topic.omsReturns, valid: { i in
            HostileEvents.envelope(type: "Return.Held", id: "fz-held-\(i)", subject: "FZN-\(i)", data: [
                "rma": "R-0000011", "requestId": .string("P-\(i)"), "orderId": .string("FZN-\(i)"), "reason": "check", "heldAt": "2026-11-27T09:14:03Z",
            ])
        }, integerPaths: [], requiredStrings: ["rma", "requestId", "orderId", "reason", "heldAt"], patternPath: ["rma"], array: nil, freeText: ["reason"],
                   ignored: nil),
    ] }

    @Test("≥ 1,000 hostile events per topic of the notifier: no crash, each dead-lettered with its reason, each valid one processed")
    func fuzz() throws {
        try StageFuzz.run(executable: "oms-notifier", stage: "notifier", hostileShapes: Self.shapes, validShapes: Self.shapes,
                          perTopic: Self.perTopic, seed: 20_261_221, extraEnvironment: [
                              "OMS_SMTP_HOST": "127.0.0.1", "OMS_SMTP_PORT": "9", "OMS_SMTP_FROM": "service@shop.example", "OMS_SMTP_TLS": "off",
                          ])
    }
}
