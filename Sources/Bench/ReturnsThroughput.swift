import ArgumentParser
import Foundation
import Shared

/// Publishes N shipped consumer orders to Returns' replicas (Order.Accepted, Shipment.Shipped), then N
/// `Return.Requested` at the chosen rate, and measures returns/s from the request to its decision — the return
/// rule, RMA number, label PDF and durable commit included — and the latency of each.
struct ReturnsThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "returns",
        abstract: "Measure return requests decided per second and their latency through oms-returns (rules, RMA, label PDF, commit).",
        discussion: "Needs OMS_KAFKA_BROKERS, OMS_DATABASE_URL and OMS_CONFIG_DIR (make bench-returns sets up its own environment).")

    @OptionGroup var options: StageBenchOptions

    func run() throws {
        let count = options.orders
        try StageBenchmark(
            name: "returns", executable: "oms-returns", label: "Berg&Beutel consumer orders, shipped; one line of each asked back",
            outputTopic: Topic.omsReturns, decisions: ["Return.Authorized", "Return.Held", "Return.Rejected"],
            latencyLabel: "Return.Requested published → decision consumed", statusTable: "returns.returns", options: options,
            prepare: { kafka, database, runID in
                let producer = try KafkaProducer(configuration: kafka, logger: BenchEnvironment.logger)
                try producer.publish(BergUndBeutelOrders.productsChanged())
                let shippedAt = EventTime.format(Date())
                for chunk in stride(from: 0, to: count, by: 2_000) {
                    var messages: [OutgoingMessage] = []
                    for index in chunk..<min(count, chunk + 2_000) {
                        let orderID = "BENCH-\(runID)-\(index)"
                        let accepted = BergUndBeutelOrders.orderAccepted(index: index, orderID: orderID, eventID: "oa-\(runID)-\(index)")
                        messages.append(OutgoingMessage(topic: Topic.omsOrders, key: orderID, value: accepted.serialized(),
                                                        headers: [("content-type", CloudEvent.contentType)]))
                        let lines = (accepted.data["lines"]?.arrayValue ?? []).map { line in
                            JSONValue.object(["lineId": line["lineId"] ?? "1", "sku": line["sku"] ?? "X", "quantity": line["quantity"] ?? 1])
                        }
                        let shipped = CloudEvent(id: "sh-\(runID)-\(index)", source: "oms/fulfillment", type: "Shipment.Shipped", subject: orderID,
                                                 time: shippedAt, data: [
                                                     "fulfillmentOrderId": .string("FO-\(orderID)"), "orderId": .string(orderID), "warehouseId": "A",
                                                     "shippedAt": .string(shippedAt), "parcels": [["trackingNumber": "00340434", "carrier": "DHL"]],
                                                     "lines": .array(lines),
                                                 ])
                        messages.append(OutgoingMessage(topic: Topic.omsShipments, key: orderID, value: shipped.serialized(),
                                                        headers: [("content-type", CloudEvent.contentType)]))
                    }
                    try producer.publish(messages)
                }
                let deadline = Date().addingTimeInterval(600)
                while try database.query("SELECT count(*) AS n FROM returns.shipments WHERE order_id LIKE \("BENCH-\(runID)-%")").first
                    .map({ try $0.decode("n", as: Int.self) < count }) ?? true, Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.2)
                }
            },
            makeMessage: { index, runID, now in
                let orderID = "BENCH-\(runID)-\(index)"
                let event = CloudEvent(id: "bench-\(runID)-\(index)", source: "portal/returns", type: "Return.Requested", subject: orderID,
                                       time: EventTime.format(now), data: [
                                           "requestId": .string("B-\(runID)-\(index)"), "orderId": .string(orderID), "channel": "portal",
                                           "requestedAt": .string(EventTime.format(now)),
                                           "lines": [["lineId": "1", "quantity": 1, "reason": "wrong-size"]],
                                       ])
                return OutgoingMessage(topic: Topic.returnsRequests, key: orderID, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
            }
        ).run()
    }
}
