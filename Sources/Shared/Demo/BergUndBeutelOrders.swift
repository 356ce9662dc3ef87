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

    /// What the PIM says of the catalog: weight, size, customs data, dangerous goods (the camping gas).
    public static let productFacts: [(sku: String, name: String, grams: Int64, mm: (Int64, Int64, Int64), hsCode: String, origin: String, dangerousGoods: String?)] = [
        ("TENT-2P", "Zelt Gipfel 2P", 2_400, (550, 180, 180), "630622", "VN", nil),
        ("STOVE-GAS", "Gaskocher Flamme", 400, (150, 150, 120), "732111", "IT", "2.1"),
        ("BAG-DOWN-M", "Daunenschlafsack M", 1_100, (380, 220, 220), "940430", "CN", nil),
        ("PACK-45L", "Rucksack 45 L", 1_600, (600, 320, 220), "420292", "VN", nil),
        ("LAMP-HEAD", "Stirnlampe Lux", 120, (90, 60, 50), "851310", "CN", nil),
        ("POLES-CARBON", "Trekkingstöcke Carbon", 480, (680, 90, 90), "950699", "TW", nil),
        ("MAT-INFL", "Isomatte aufblasbar", 650, (300, 140, 140), "392690", "CN", nil),
        ("BOTTLE-1L", "Trinkflasche 1 L", 180, (80, 80, 260), "761510", "DE", nil),
    ]

    public static func productsChanged(time: Date = Date()) -> [OutgoingMessage] {
        productFacts.map { product in
            var data: [String: JSONValue] = [
                "sku": .string(product.sku), "name": .string(product.name), "sellable": true, "taxClass": "standard",
                "weightGrams": .integer(product.grams), "hsCode": .string(product.hsCode), "originCountry": .string(product.origin),
                "dimensionsMm": ["length": .integer(product.mm.0), "width": .integer(product.mm.1), "height": .integer(product.mm.2)],
            ]
            if let dg = product.dangerousGoods { data["dangerousGoodsClass"] = .string(dg) }
            let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "pim/berg-und-beutel", type: "Product.Changed", subject: product.sku,
                                   time: EventTime.format(time), data: .object(data))
            return OutgoingMessage(topic: Topic.catalogProducts, key: product.sku, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
        }
    }

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
        // Each customer at their own flat and line, so that velocity rules see one customer per address and IP.
        let customer = (id: "C-\(number)", name: place.name, email: "kunde\(number)@example.org", street: "\(place.street), Whg. \(number)",
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
            "gift": ["wrap": .bool(index % 7 == 0), "message": "Alles Gute!"],
            "clientIp": .string("198.51.\(number / 256 % 256).\(number % 256)"),
        ]
        return CloudEvent(id: eventID ?? UUID().uuidString.lowercased(), source: "shop/berg-und-beutel", type: "Order.Created",
                          subject: id, time: EventTime.format(placedAt), data: data)
    }

    /// The `index`-th order as Capture announces it on `oms.orders` (`Order.Accepted`),
    /// for exercising the Router on its own.
    public static func orderAccepted(index: Int, orderID: String, eventID: String, placedAt: Date = Date()) -> CloudEvent {
        let created = orderCreated(index: index, orderID: orderID, eventID: eventID, placedAt: placedAt).data
        let data: JSONValue = [
            "orderId": .string(orderID), "customerId": created["customer"]?["id"] ?? "C-0", "customerType": "b2c", "currency": "EUR",
            "total": created["payment"]?["amount"] ?? 0, "shipComplete": false, "shippingMethod": "standard",
            "shippingCountry": created["shippingAddress"]?["country"] ?? "DE", "acceptedAt": .string(EventTime.format(placedAt)),
            "lines": created["lines"] ?? [], "gift": created["gift"] ?? .null,
            "shipTo": created["shippingAddress"] ?? .null,
        ]
        return CloudEvent(id: eventID, source: "oms/capture", type: "Order.Accepted", subject: orderID, time: EventTime.format(placedAt), data: data)
    }

    /// The WMS's report of `onHand` units of every catalog SKU in `warehouse`.
    public static func stockChanged(warehouse: String, sequence: Int64, onHand: Int64) -> OutgoingMessage {
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "wms/berg-und-beutel", type: "Stock.Changed", subject: warehouse,
                               time: EventTime.format(Date()),
                               data: ["warehouseId": .string(warehouse), "sequence": .integer(sequence),
                                      "items": .array(catalog.map { ["sku": .string($0.sku), "onHand": .integer(onHand)] })])
        return OutgoingMessage(topic: Topic.inventoryStock, key: warehouse, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
    }

    /// The CRM record of a business customer: 30 days net, a credit limit in EUR,
    /// buyer "<id>-EK" who may order up to `approvalLimit` alone, above that "<id>-CHEF" approves.
    public static func businessCustomer(id: String, creditLimit: Int64 = 5_000_000, approvalLimit: Int64 = 100_000,
                                        group: String = "wholesale", time: Date = Date()) -> CloudEvent {
        CloudEvent(id: UUID().uuidString.lowercased(), source: "crm/berg-und-beutel", type: "Customer.Changed", subject: id,
                   time: EventTime.format(time),
                   data: ["customerId": .string(id), "type": "b2b", "group": .string(group), "vatId": "DE123456789",
                          "creditLimit": ["amount": .integer(creditLimit), "currency": "EUR"],
                          "paymentTerms": ["code": "NET30", "netDays": 30, "discountDays": 10, "discountPercent": 2],
                          "buyers": [["buyerId": .string("\(id)-EK"), "name": "Einkauf", "approvalLimit": .integer(approvalLimit),
                                      "approvers": [.string("\(id)-CHEF")]]]])
    }

    /// Turns an order into a business order of `customerID` placed by its buyer:
    /// net prices, on account, the payment amount being the net total plus 19 % VAT.
    public static func business(_ event: CloudEvent, customerID: String) -> CloudEvent {
        var event = event
        var data = event.data.objectValue!
        data.set("customer", "type", "b2b")
        data.set("customer", "id", .string(customerID))
        data.set("customer", "buyerId", .string("\(customerID)-EK"))
        data.set("customer", "group", "wholesale")
        data.set("customer", "vatId", "DE123456789")
        data.set("payment", "method", "on-account")
        data.set("payment", "status", "pending")
        data["pricesIncludeTax"] = false
        let net = data["payment"]?["amount"]?.int64Value ?? 0
        data.set("payment", "amount", .integer(net + net * 19 / 100))
        event.data = .object(data)
        return event
    }

    public static func message(_ event: CloudEvent) -> OutgoingMessage {
        if event.type == "Customer.Changed" || event.type == "Receivables.Changed" {
            return OutgoingMessage(topic: Topic.crmCustomers, key: event.subject, value: event.serialized(),
                                   headers: [("content-type", CloudEvent.contentType)])
        }
        return OutgoingMessage(topic: Topic.shopOrders, key: event.subject, value: event.serialized(),
                        headers: [("content-type", CloudEvent.contentType)])
    }
}
