import ArgumentParser
import Foundation
import Shared

/// Publishes N orders to Billing's replica (Order.Accepted with its billing block) and the catalog,
/// then N `Shipment.Shipped` at the chosen rate, and measures invoicing: invoices/s from the
/// shipment to `Invoice.Issued` — tax decision, EN 16931 totals, CII XML, gapless number, archive
/// hash, receivable and durable commit included — and the latency of each.
struct BillingThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "Measure invoices/s and latency through Billing (XML, numbering and archive hashing, durable commits).",
        discussion: "Needs OMS_KAFKA_BROKERS, OMS_DATABASE_URL and OMS_CONFIG_DIR (make bench-billing sets up its own environment).")

    @OptionGroup var options: StageBenchOptions

    func run() throws {
        let count = options.orders
        try StageBenchmark(
            name: "billing", executable: "oms-billing", label: "Berg&Beutel consumer orders, one shipment each: DE, AT (distance sales), CH (export)",
            outputTopic: Topic.omsBilling, decisions: ["Invoice.Issued"],
            latencyLabel: "Shipment.Shipped published → Invoice.Issued consumed", statusTable: "billing.orders", options: options,
            prepare: { kafka, database, runID in
                let producer = try KafkaProducer(configuration: kafka, logger: BenchEnvironment.logger)
                try producer.publish(BergUndBeutelOrders.productsChanged())
                for chunk in stride(from: 0, to: count, by: 2_000) {
                    try producer.publish((chunk..<min(count, chunk + 2_000)).map { index in
                        let orderID = "BENCH-\(runID)-\(index)"
                        let created = BergUndBeutelOrders.orderCreated(index: index, orderID: orderID, eventID: "oc-\(runID)-\(index)").data
                        var accepted = BergUndBeutelOrders.orderAccepted(index: index, orderID: orderID, eventID: "oa-\(runID)-\(index)")
                        var data = accepted.data.objectValue ?? [:]
                        data["billing"] = ["pricesIncludeTax": true, "shippingCharge": created["shippingCharge"] ?? 0,
                                           "billTo": created["billingAddress"] ?? data["shipTo"] ?? .null]
                        accepted.data = .object(data)
                        return OutgoingMessage(topic: Topic.omsOrders, key: orderID, value: accepted.serialized(), headers: [("content-type", CloudEvent.contentType)])
                    })
                }
                let deadline = Date().addingTimeInterval(600)
                while try database.query("""
                    SELECT (SELECT count(*) FROM billing.orders WHERE order_id LIKE \("BENCH-\(runID)-%")) AS o, (SELECT count(*) FROM billing.products) AS p
                    """).first.map({ try $0.decode("o", as: Int.self) < count || $0.decode("p", as: Int.self) < BergUndBeutelOrders.catalog.count }) ?? true,
                      Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.2)
                }
            },
            makeMessage: { index, runID, now in
                let orderID = "BENCH-\(runID)-\(index)"
                let lines = (BergUndBeutelOrders.orderCreated(index: index, orderID: orderID, eventID: "x").data["lines"]?.arrayValue ?? []).map { line in
                    JSONValue.object(["lineId": line["lineId"] ?? "1", "sku": line["sku"] ?? "X", "quantity": line["quantity"] ?? 1])
                }
                let event = CloudEvent(id: "bench-\(runID)-\(index)", source: "oms/fulfillment", type: "Shipment.Shipped", subject: orderID,
                                       time: EventTime.format(now), data: [
                                           "fulfillmentOrderId": .string("FO-\(orderID)"), "orderId": .string(orderID), "warehouseId": "A",
                                           "shippedAt": .string(EventTime.format(now)), "parcels": [["trackingNumber": "00340434", "carrier": "DHL"]],
                                           "lines": .array(lines),
                                       ])
                return OutgoingMessage(topic: Topic.omsShipments, key: orderID, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
            }
        ).run()
    }
}
