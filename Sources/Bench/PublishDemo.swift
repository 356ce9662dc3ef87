import ArgumentParser
import Foundation
import Shared

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
        try producer.publish(messages)
        print("published \(messages.count) events to \(Topic.shopOrders): \(orders) valid orders, 1 duplicate, 1 malformed JSON, 1 schema violation, 1 conflicting order")
    }
}
