import Foundation
import Shared
import Testing

/// No input may crash oms-returns: ≥ 1,000 hostile events on each topic it reads, with valid ones in between.
@Suite("Returns hostile input fuzz", .serialized)
struct ReturnsFuzzTests {
    static let perTopic = 1_000

    static var shapes: [TopicShape] { [
        TopicShape(topic: Topic.omsOrders, valid: { i in
            HostileEvents.envelope(type: "Order.Accepted", id: "fz-accepted-\(i)", subject: "FZR-\(i)", data: [
                "orderId": .string("FZR-\(i)"), "customerId": "C-1", "customerType": "b2c", "currency": "EUR", "total": 1_000,
                "acceptedAt": "2026-11-27T09:14:03Z", "shippingCountry": "DE", "shippingMethod": "standard",
                "shipTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE", "email": "a@example.org"],
                "billing": ["pricesIncludeTax": true, "shippingCharge": 495, "discounts": [["amount": 100]],
                            "billTo": ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"]],
                "lines": [["lineId": "1", "sku": "FZ-SKU", "quantity": 1, "unitPrice": 1_000]],
            ])
        }, integerPaths: [["total"], ["lines", "0", "quantity"], ["lines", "0", "unitPrice"]], requiredStrings: ["orderId", "customerId", "acceptedAt"],
                   patternPath: ["currency"], array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1, "unitPrice": 1]),
                   freeText: ["shipTo", "email"], ignored: { i in
            HostileEvents.envelope(type: "Backorder.Created", id: "fz-backorder-\(i)", subject: "FZR-\(i)", data: ["orderId": .string("FZR-\(i)")])
        }),
        TopicShape(topic: Topic.catalogProducts, valid: { i in
            HostileEvents.envelope(type: "Product.Changed", id: "fz-product-\(i)", subject: "FZ-SKU-\(i)",
                                   data: ["sku": .string("FZ-SKU-\(i)"), "name": "Zelt", "sellable": true, "taxClass": "standard", "returnable": true,
                                          "category": "outdoor"])
        }, integerPaths: [["weightGrams"]], requiredStrings: ["sku", "name", "taxClass"], patternPath: nil,
                   array: (["groupPrices"], 500, ["group": "g", "currency": "EUR", "unitPrice": 1]), freeText: ["name"], ignored: nil),
        TopicShape(topic: Topic.omsShipments, valid: { i in
            HostileEvents.envelope(type: "Shipment.Shipped", id: "fz-shipped-\(i)", subject: "FZR-\(i)", data: [
                "fulfillmentOrderId": .string("FO-FZR-\(i)"), "orderId": .string("FZR-\(i)"), "shippedAt": "2026-11-27T09:14:03Z",
                "parcels": [["trackingNumber": "T", "carrier": "DHL"]], "lines": [["lineId": "1", "sku": "X", "quantity": 1]],
            ])
        }, integerPaths: [["lines", "0", "quantity"]], requiredStrings: ["fulfillmentOrderId", "orderId"], patternPath: nil,
                   array: (["lines"], 500, ["lineId": "1", "sku": "X", "quantity": 1]), freeText: nil, ignored: { i in
            HostileEvents.envelope(type: "PickList.Created", id: "fz-picklist-\(i)", subject: "W-\(i)", data: ["waveId": .string("W-\(i)")])
        }),
        // A request for an order Returns does not know is refused (Return.Rejected), not a dead letter.
        TopicShape(topic: Topic.returnsRequests, valid: { i in
            HostileEvents.envelope(type: "Return.Requested", id: "fz-request-\(i)", subject: "FZR-\(i)", data: [
                "requestId": .string("FZ-REQ-\(i)"), "orderId": .string("FZR-UNKNOWN-\(i)"), "channel": "portal", "comment": "kaputt",
                "lines": [["lineId": "1", "quantity": 1, "reason": "changed-mind"]],
            ])
        }, integerPaths: [["lines", "0", "quantity"]], requiredStrings: ["requestId", "orderId", "channel"], patternPath: nil,
                   array: (["lines"], 500, ["lineId": "1", "quantity": 1, "reason": "x"]), freeText: ["comment"], ignored: nil),
    ] }

    /// Receipts and decisions only as hostile events: a valid one for an RMA that does not exist is itself a dead letter.
    static var receipts: TopicShape { TopicShape(topic: Topic.warehouseEvents, valid: { i in
        HostileEvents.envelope(type: "Return.Received", id: "fz-received-\(i)", subject: "FZR-\(i)", data: [
            "rma": .string("R-\(String(format: "%07d", i))"), "warehouseId": "A", "receivedAt": "2026-11-27T09:14:03Z",
            "lines": [["lineId": "1", "quantity": 1, "grade": "A", "notes": "ok"]],
        ])
    }, integerPaths: [["lines", "0", "quantity"]], requiredStrings: ["rma", "warehouseId"], patternPath: ["rma"],
       array: (["lines"], 500, ["lineId": "1", "quantity": 1, "grade": "A"]), freeText: ["lines", "0", "notes"], ignored: nil) }

    static func hostileShapes() -> [TopicShape] { [receipts] + shapes }

    @Test("≥ 1,000 hostile events per topic of Returns: no crash, each dead-lettered with its reason, each valid one processed")
    func fuzz() throws {
        try StageFuzz.run(executable: "oms-returns", stage: "returns", hostileShapes: Self.hostileShapes(), validShapes: Self.shapes,
                          perTopic: Self.perTopic, seed: 20_261_211)
    }
}
