import Foundation
import Shared

/// The Berg&Beutel order mix of the whole-pipeline benchmark and the chaos run, order by order
/// (deterministic in the index, so that a run knows what to expect of every order):
/// - consumers in DE, AT and CH (every 4th customer lives in Zürich: an export), every 20th lives in London;
/// - every 10th a B2B order on account (CRM record with payment terms and a credit limit), every
///   100th of those above the buyer's approval limit, approved by the simulated boss when it is held;
/// - every 7th gift-wrapped; warehouse A holds no down bags, so orders with one are split between A and B
///   (partial deliveries, one invoice per shipment);
/// - every 200th asks for a solar lantern nobody has yet: a back-order, filled when the stock arrives;
/// - every 20th consumer order is partly returned once it is invoiced (a credit note follows).
struct PipelineMix: Sendable {
    let runID: String
    let orders: Int

    /// The bench-only product of the back-orders.
    static let backorderSKU = "LANTERN-SOLAR"
    static let businessCustomers = 50

    /// One byte of the run id, for client addresses of this run's own.
    var runByte: Int { Int(runID.utf8.reduce(UInt8(0)) { $0 &+ $1 }) }

    func orderID(_ index: Int) -> String { "PB-\(runID)-\(index)" }
    func eventID(_ index: Int) -> String { "pb-\(runID)-\(index)" }
    func businessCustomerID(_ index: Int) -> String { "PBC-\(runID)-\(index % Self.businessCustomers)" }

    /// The index of one of this run's order ids, nil for anything else.
    func index(ofOrder orderID: String) -> Int? {
        let prefix = "PB-\(runID)-"
        guard orderID.hasPrefix(prefix), let index = Int(orderID.dropFirst(prefix.count)), index >= 0, index < orders else { return nil }
        return index
    }

    func isBusiness(_ index: Int) -> Bool { index % 10 == 3 }
    func needsApproval(_ index: Int) -> Bool { index % 1000 == 3 }
    func isBackordered(_ index: Int) -> Bool { index % 200 == 11 }
    func isReturned(_ index: Int) -> Bool { index % 20 == 5 }

    /// The shop's Order.Created of order `index`, and the units it orders.
    func order(_ index: Int, placedAt: Date) -> (message: OutgoingMessage, units: Int64) {
        var event = BergUndBeutelOrders.orderCreated(index: index, orderID: orderID(index), eventID: eventID(index), placedAt: placedAt)
        var data = event.data.objectValue ?? [:]
        // This run's own customers: a rerun within the hour would otherwise trip the fraud velocity rule
        // (the same e-mail, address, client address and payment reference again).
        let number = 1_000 + index % 20_000
        data.set("customer", "email", .string("kunde\(number)-\(runID)@example.org"))
        data.set("payment", "reference", .string("PAY-\(runID)-\(index)"))
        data["clientIp"] = .string("10.\(runByte).\(number / 256 % 256).\(number % 256)")
        for key in ["billingAddress", "shippingAddress"] {
            data.set(key, "street", .string((data[key]?["street"]?.stringValue ?? "") + "-\(runID.prefix(4))"))
        }
        if index % 20 == 7 {
            // A customer living in London (billing and shipping there: no country mismatch for the fraud score).
            let london: JSONValue = ["name": "Oliver Stone", "street": .string("\(index) Baker Street"), "postalCode": "NW1 6XE",
                                     "city": "London", "country": "GB"]
            data["shippingAddress"] = london
            data["billingAddress"] = london
        }
        if isBackordered(index) {
            var lines = data["lines"]?.arrayValue ?? []
            lines.append(["lineId": .string(String(lines.count + 1)), "sku": .string(Self.backorderSKU), "quantity": 1, "unitPrice": 4990])
            data["lines"] = .array(lines)
            data.set("payment", "amount", .integer((data["payment"]?["amount"]?.int64Value ?? 0) + 4990))
        }
        if needsApproval(index) {
            // Eight tents: above the buyer's approval limit of 1,000.00 EUR.
            data["lines"] = [["lineId": "1", "sku": "TENT-2P", "quantity": 8, "unitPrice": 19990]]
            data["shippingCharge"] = 0
            data.set("payment", "amount", .integer(8 * 19990))
        }
        event.data = .object(data)
        if isBusiness(index) { event = BergUndBeutelOrders.business(event, customerID: businessCustomerID(index)) }
        let units = (event.data["lines"]?.arrayValue ?? []).reduce(Int64(0)) { $0 + ($1["quantity"]?.int64Value ?? 0) }
        return (BergUndBeutelOrders.message(event), units)
    }

    /// Master data before the clock starts: the PIM's products (with the lantern), the CRM's business customers,
    /// and the WMS's counts — A without down bags and lanterns, B with everything but lanterns.
    func masterData(sequence: Int64) -> [OutgoingMessage] {
        var messages = BergUndBeutelOrders.productsChanged()
        let lantern = CloudEvent(id: UUID().uuidString.lowercased(), source: "pim/berg-und-beutel", type: "Product.Changed", subject: Self.backorderSKU,
                                 time: EventTime.format(Date()),
                                 data: ["sku": .string(Self.backorderSKU), "name": "Solarlaterne", "sellable": true, "taxClass": "standard",
                                        "weightGrams": 300, "hsCode": "940510", "originCountry": "CN",
                                        "dimensionsMm": ["length": 150, "width": 100, "height": 100]])
        messages.append(OutgoingMessage(topic: Topic.catalogProducts, key: Self.backorderSKU, value: lantern.serialized(),
                                        headers: [("content-type", CloudEvent.contentType)]))
        for customer in 0..<Self.businessCustomers {
            messages.append(BergUndBeutelOrders.message(BergUndBeutelOrders.businessCustomer(
                id: "PBC-\(runID)-\(customer)", creditLimit: 100_000_000_000, approvalLimit: 100_000)))
        }
        messages.append(stock(warehouse: "A", sequence: sequence, except: ["BAG-DOWN-M", Self.backorderSKU]))
        messages.append(stock(warehouse: "B", sequence: sequence, except: [Self.backorderSKU]))
        return messages
    }

    /// The lanterns arrive in warehouse B (a newer absolute count of B).
    func replenishment(sequence: Int64) -> OutgoingMessage { stock(warehouse: "B", sequence: sequence, except: []) }

    private func stock(warehouse: String, sequence: Int64, except missing: Set<String>) -> OutgoingMessage {
        let skus = BergUndBeutelOrders.catalog.map(\.sku) + [Self.backorderSKU]
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "wms/berg-und-beutel", type: "Stock.Changed", subject: warehouse,
                               time: EventTime.format(Date()),
                               data: ["warehouseId": .string(warehouse), "sequence": .integer(sequence),
                                      "items": .array(skus.map { ["sku": .string($0), "onHand": .integer(missing.contains($0) ? 0 : 1_000_000)] })])
        return OutgoingMessage(topic: Topic.inventoryStock, key: warehouse, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
    }
}
