import ArgumentParser
import Foundation
import Shared
import Foundation

/// The demo's order stream: valid Berg&Beutel orders plus the usual accidents.
struct PublishDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish-demo",
        abstract: "Publish the demo order stream: valid orders, a duplicate, malformed and conflicting events.")

    @Option(help: "Valid orders to publish.") var orders: Int = 40
    @Option(help: "Number of the first order (BB-100000 + start), so that repeated demos add new orders.") var start: Int = 0

    func validate() throws {
        guard (1...100_000).contains(orders) else { throw ValidationError("--orders must be between 1 and 100000") }
        guard (0...800_000).contains(start) else { throw ValidationError("--start must be between 0 and 800000") }
    }

    func run() throws {
        let producer = try KafkaProducer(configuration: try BenchEnvironment.kafka, logger: BenchEnvironment.logger)
        // The WMS reports what the two warehouses hold (a newer sequence than any earlier demo run).
        let sequence = Int64(Date().timeIntervalSince1970 * 1000)
        // The PIM's product data (sizes, weights, customs data) first: packing and customs need it.
        try producer.publish(BergUndBeutelOrders.productsChanged())
        try producer.publish([BergUndBeutelOrders.stockChanged(warehouse: "A", sequence: sequence, onHand: 30),
                              BergUndBeutelOrders.stockChanged(warehouse: "B", sequence: sequence, onHand: 10)])
        var messages = (start..<start + orders).map { BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: $0)) }
        // The shop's retry sends the very same event again.
        messages.append(messages[0])
        // Broken JSON, as from a crashed shop plugin.
        messages.append(OutgoingMessage(topic: Topic.shopOrders, key: "BB-BROKEN", value: Array(#"{"specversion":"1.0","id":"#.utf8)))
        // A negative quantity.
        var negative = BergUndBeutelOrders.orderCreated(index: 900, orderID: "BB-NEGATIVE-\(start)")
        var data = negative.data.objectValue!
        data["lines"] = [["lineId": "1", "sku": "TENT-2P", "quantity": -1, "unitPrice": 19990]]
        negative.data = .object(data)
        messages.append(BergUndBeutelOrders.message(negative))
        // The same order id with different content.
        messages.append(BergUndBeutelOrders.message(BergUndBeutelOrders.orderCreated(index: start + 5, orderID: "BB-\(100_001 + start)")))
        // Orders the intake checks stop: paid in advance (the money follows), a
        // fraud suspect, a consumer asking to pay on account, a postal code typo.
        let prepaid = Self.variant(start + orders, "PREPAID") { data in
            data.set("payment", "method", "prepayment")
            data.set("payment", "status", "pending")
        }
        let suspect = Self.variant(start + orders + 1, "SUSPECT") { data in
            data.set("customer", "email", "bargain@mailinator.com")
            data["lines"] = [["lineId": "1", "sku": "GIFTCARD-100", "quantity": 1, "unitPrice": 10000]]
            data.set("payment", "amount", .integer(10000 + (data["shippingCharge"]?.int64Value ?? 0)))
        }
        let onAccount = Self.variant(start + orders + 2, "ONACCOUNT") { data in
            data.set("payment", "method", "on-account")
            data.set("payment", "status", "pending")
        }
        let typo = Self.variant(start + orders + 3, "TYPO") { data in data.set("shippingAddress", "postalCode", "12") }
        // A business customer from the CRM, and its buyer ordering above their approval limit.
        let customer = BergUndBeutelOrders.businessCustomer(id: "BC-DEMO", approvalLimit: 50_000)
        let business = BergUndBeutelOrders.business(Self.variant(start + orders + 4, "B2B") { data in
            data["lines"] = [["lineId": "1", "sku": "PACK-45L", "quantity": 5, "unitPrice": 11_000]]
            data["shippingCharge"] = 0
            data.set("payment", "amount", 55_000)
        }, customerID: "BC-DEMO")
        // A club ordering 60 tents: more than A and B hold together, so it is split and partly back-ordered.
        let club = Self.variant(start + orders + 5, "CLUB") { data in
            data["lines"] = [["lineId": "1", "sku": "TENT-2P", "quantity": 60, "unitPrice": 19_990]]
            data["shippingCharge"] = 0
            data.set("payment", "amount", 1_199_400)
            data.set("customer", "id", .string("C-CLUB-\(start)"))
        }
        try producer.publish([BergUndBeutelOrders.message(customer)])
        messages += [prepaid, suspect, onAccount, typo, business, club].map(BergUndBeutelOrders.message)
        try producer.publish(messages)
        // The bank transfer for the prepaid order arrives once the order waits for it.
        let database = try PostgresConnection(url: try BenchEnvironment.value("OMS_DATABASE_URL"), logger: BenchEnvironment.logger)
        for _ in 0..<120 {
            let status = try database.query("SELECT status FROM capture.orders WHERE order_id = \(prepaid.subject!)").first?
                .decode("status", as: String.self)
            if status == "on_hold" { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let payment = CloudEvent(
            id: UUID().uuidString.lowercased(), source: "shop/berg-und-beutel", type: "Payment.Captured", subject: prepaid.subject,
            time: EventTime.format(Date()),
            data: ["orderId": .string(prepaid.subject!), "amount": prepaid.data["payment"]!["amount"]!, "currency": "EUR",
                   "reference": "SEPA-4711"])
        try producer.publish([OutgoingMessage(topic: Topic.shopPayments, key: prepaid.subject, value: payment.serialized())])
        print("published \(messages.count + 1) events: \(orders) valid orders, 1 duplicate, 1 malformed JSON, 1 schema violation, 1 conflicting order, 5 orders the checks stop (prepayment + its Payment.Captured, fraud suspect, on-account consumer, postal-code typo, B2B order above the buyer's approval limit), a 60-tent club order, 1 CRM record and the stock of warehouses A and B")
    }

    static func variant(_ index: Int, _ name: String, _ change: (inout [String: JSONValue]) -> Void) -> CloudEvent {
        var event = BergUndBeutelOrders.orderCreated(index: index, orderID: "BB-\(name)-\(index)")
        var data = event.data.objectValue!
        change(&data)
        event.data = .object(data)
        return event
    }
}
