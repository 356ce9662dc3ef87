import Foundation
import Shared
import Testing

/// No input may crash oms-billing: ≥ 1,000 hostile events on each topic it reads, with valid ones in between.
@Suite("Billing hostile input fuzz", .serialized)
struct BillingFuzzTests {
    static let perTopic = 1_000

    static var shapes: [TopicShape] { [
        TopicShape(topic: Topic.omsOrders, valid: { i in
            HostileEvents.envelope(type: "Order.Accepted", id: "fz-accepted-\(i)", subject: "FZB-\(i)", data: [
                "orderId": .string("FZB-\(i)"), "customerId": "C-1", "customerType": "b2c", "currency": "EUR", "total": 1_000,
                "acceptedAt": "2026-11-27T09:14:03Z", "shippingCountry": "DE", "shippingMethod": "standard",
                "shipTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"],
                "billing": ["pricesIncludeTax": true, "shippingCharge": 495,
                            "billTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"]],
                "lines": [["lineId": "1", "sku": "FZ-SKU", "quantity": 1, "unitPrice": 1_000]],
            ])
        }, integerPaths: [["total"], ["lines", "0", "quantity"]], requiredStrings: ["orderId", "customerId", "acceptedAt"],
                   patternPath: ["currency"], array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1, "unitPrice": 1]),
                   freeText: ["shipTo", "name"], ignored: { i in
            HostileEvents.envelope(type: "Backorder.Created", id: "fz-backorder-\(i)", subject: "FZB-\(i)", data: ["orderId": .string("FZB-\(i)")])
        }),
        TopicShape(topic: Topic.catalogProducts, valid: { i in
            HostileEvents.envelope(type: "Product.Changed", id: "fz-product-\(i)", subject: "FZ-SKU-\(i)",
                                   data: ["sku": .string("FZ-SKU-\(i)"), "name": "Zelt", "sellable": true, "taxClass": "standard", "weightGrams": 2_500])
        }, integerPaths: [["weightGrams"]], requiredStrings: ["sku", "name", "taxClass"], patternPath: nil,
                   array: (["groupPrices"], 500, ["group": "g", "currency": "EUR", "unitPrice": 1]), freeText: ["name"], ignored: nil),
        // oms.shipments: valid are shipments' neighbours Billing takes no action on; hostile ones are built from Shipment.Shipped.
        TopicShape(topic: Topic.omsShipments, valid: { i in
            HostileEvents.envelope(type: "Shipment.Delivered", id: "fz-delivered-\(i)", subject: "FZB-\(i)", data: [
                "fulfillmentOrderId": .string("FO-FZB-\(i)"), "orderId": .string("FZB-\(i)"), "deliveredAt": "2026-11-27T09:14:03Z",
                "parcels": [["trackingNumber": "T", "carrier": "DHL"]],
            ])
        }, integerPaths: [], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil, array: nil, freeText: nil, ignored: nil,
                   validIsSkipped: true),
        // shop.payments: a bank payment for a customer without open invoices is kept as credit.
        TopicShape(topic: Topic.shopPayments, valid: { i in
            HostileEvents.envelope(type: "Payment.Received", id: "fz-received-\(i)", subject: "FZC-\(i)", data: [
                "paymentId": .string("PAY-FZ-\(i)"), "customerId": .string("FZC-\(i)"), "amount": 1_000, "currency": "EUR", "reference": "RE-2026-000001",
            ])
        }, integerPaths: [["amount"]], requiredStrings: ["paymentId", "customerId"], patternPath: ["currency"], array: nil, freeText: ["reference"],
                   ignored: { i in
            HostileEvents.envelope(type: "Payment.Failed", id: "fz-failed-\(i)", subject: "FZB-\(i)", data: ["orderId": .string("FZB-\(i)"), "reason": "x"])
        }),
    ] }

    /// Returns' refunds only as hostile events: a valid refund of an order without invoice is itself a dead letter.
    static var refunds: TopicShape { TopicShape(topic: Topic.omsReturns, valid: { i in
        HostileEvents.envelope(type: "Refund.Approved", id: "fz-refund-\(i)", subject: "FZB-\(i)", data: [
            "refundId": .string("RF-FZ-\(i)"), "orderId": .string("FZB-\(i)"), "currency": "EUR", "shippingAmount": 0,
            "lines": [["lineId": "1", "quantity": 1, "amount": 1_000]],
        ])
    }, integerPaths: [["lines", "0", "quantity"], ["shippingAmount"]], requiredStrings: ["refundId", "orderId"], patternPath: ["currency"],
       array: (["lines"], 500, ["lineId": "1", "quantity": 1, "amount": 1]), freeText: nil, ignored: nil) }

    /// Service completions only as hostile events too: a valid one for an order Billing does not know is a dead letter.
    static var completions: TopicShape { TopicShape(topic: Topic.warehouseEvents, valid: { i in
        HostileEvents.envelope(type: "Service.Completed", id: "fz-service-\(i)", subject: "FZB-\(i)", data: [
            "orderId": .string("FZB-\(i)"), "completedAt": "2026-11-27T09:14:03Z", "technicianId": "T-1", "report": "ok",
        ])
    }, integerPaths: [], requiredStrings: ["orderId", "completedAt"], patternPath: nil, array: nil, freeText: ["report"], ignored: nil) }

    static func hostileShapes() -> [TopicShape] {
        [refunds, completions] + shapes.map { shape in
            guard shape.topic == Topic.omsShipments else { return shape }
            return TopicShape(topic: shape.topic, valid: { i in
                HostileEvents.envelope(type: "Shipment.Shipped", id: "fz-shipped-\(i)", subject: "FZB-\(i)", data: [
                    "fulfillmentOrderId": .string("FO-FZB-\(i)"), "orderId": .string("FZB-\(i)"),
                    "parcels": [["trackingNumber": "T", "carrier": "DHL"]], "lines": [["lineId": "1", "sku": "X", "quantity": 1]],
                ])
            }, integerPaths: [["lines", "0", "quantity"]], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil,
                              array: (["parcels"], 500, ["trackingNumber": "T", "carrier": "DHL"]), freeText: nil, ignored: nil)
        }
    }

    @Test("≥ 1,000 hostile events per topic of Billing: no crash, each dead-lettered with its reason, each valid one processed")
    func fuzz() throws {
        try StageFuzz.run(executable: "oms-billing", stage: "billing", hostileShapes: Self.hostileShapes(), validShapes: Self.shapes,
                          perTopic: Self.perTopic, seed: 20_261_205)
    }
}
