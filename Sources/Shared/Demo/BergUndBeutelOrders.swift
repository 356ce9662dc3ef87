import Foundation

/// Order events of the Berg&Beutel example shop (SPEC §1), for the demo, the
/// benchmark and the tests.
public enum BergUndBeutelOrders {
    public struct Item: Sendable {
        public let sku: String
        public let unitPrice: Int64
    }

    public static let catalog: [Item] = [
        Item(sku: "TENT-2P", unitPrice: 19990), Item(sku: "STOVE-GAS", unitPrice: 2995),
        Item(sku: "BAG-DOWN-M", unitPrice: 24900), Item(sku: "PACK-45L", unitPrice: 13990),
        Item(sku: "LAMP-HEAD", unitPrice: 3990), Item(sku: "POLES-CARBON", unitPrice: 8990),
        Item(sku: "MAT-INFL", unitPrice: 7490), Item(sku: "BOTTLE-1L", unitPrice: 1990),
    ]

    static let customers: [(id: String, name: String, email: String, street: String, postalCode: String, city: String, country: String)] = [
        ("C-1001", "Anna Berg", "anna@example.org", "Hauptstr. 5", "80331", "München", "DE"),
        ("C-1002", "Jonas Fels", "jonas@example.org", "Talweg 12", "6020", "Innsbruck", "AT"),
        ("C-1003", "Mia Grat", "mia@example.org", "Seestrasse 8", "8002", "Zürich", "CH"),
        ("C-1004", "Lukas Hütte", "lukas@example.org", "Bergstr. 1", "87561", "Oberstdorf", "DE"),
    ]

    /// The `index`-th order: deterministic content, its own event id.
    public static func orderCreated(index: Int, orderID: String? = nil, eventID: String? = nil, placedAt: Date = Date()) -> CloudEvent {
        let id = orderID ?? "BB-\(100_000 + index)"
        // Many distinct customers (as in a real shop), each living at one of the sample addresses.
        let place = customers[index % customers.count]
        let number = 1_000 + index % 20_000
        let customer = (id: "C-\(number)", name: place.name, email: "kunde\(number)@example.org", street: place.street,
                        postalCode: place.postalCode, city: place.city, country: place.country)
        let lineCount = 1 + index % 3
        var lines: [JSONValue] = []
        var total: Int64 = 0
        for line in 0..<lineCount {
            let item = catalog[(index + line * 3) % catalog.count]
            let quantity = Int64(1 + (index + line) % 2)
            total += quantity * item.unitPrice
            lines.append(["lineId": .string(String(line + 1)), "sku": .string(item.sku), "quantity": .integer(quantity),
                          "unitPrice": .integer(item.unitPrice)])
        }
        let shipping: Int64 = total >= 5000 ? 0 : 495
        let address: JSONValue = ["name": .string(customer.name), "street": .string(customer.street),
                                  "postalCode": .string(customer.postalCode), "city": .string(customer.city),
                                  "country": .string(customer.country)]
        let data: JSONValue = [
            "orderId": .string(id), "placedAt": .string(EventTime.format(placedAt)), "currency": "EUR",
            "pricesIncludeTax": true,
            "customer": ["id": .string(customer.id), "type": "b2c", "email": .string(customer.email),
                         "phone": "+491511234567", "group": "retail"],
            "billingAddress": address, "shippingAddress": address, "shippingMethod": "standard", "shipComplete": false,
            "payment": ["method": "paypal", "status": "authorized", "reference": .string("PAY-\(index)"),
                        "amount": .integer(total + shipping)],
            "lines": .array(lines), "shippingCharge": .integer(shipping),
            "gift": ["wrap": .bool(index % 7 == 0), "message": "Alles Gute!"], "clientIp": "203.0.113.7",
        ]
        return CloudEvent(id: eventID ?? UUID().uuidString.lowercased(), source: "shop/berg-und-beutel", type: "Order.Created",
                          subject: id, time: EventTime.format(placedAt), data: data)
    }

    public static func message(_ event: CloudEvent) -> OutgoingMessage {
        OutgoingMessage(topic: Topic.shopOrders, key: event.subject, value: event.serialized(),
                        headers: [("content-type", CloudEvent.contentType)])
    }
}
