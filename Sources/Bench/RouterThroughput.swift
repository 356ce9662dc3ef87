import ArgumentParser
import Foundation
import Shared

/// Publishes N `Order.Accepted` to oms.orders with oms-router running and plenty
/// of stock in warehouses A and B, and measures allocation: orders/s and the
/// latency from `Order.Accepted` to its first `FulfillmentOrder.Created`.
struct RouterThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Measure orders/s and latency through the Router (reservation + allocation, durable commits).",
        discussion: "Needs OMS_KAFKA_BROKERS, OMS_DATABASE_URL and OMS_CONFIG_DIR (make bench-router sets up its own environment).")

    @OptionGroup var options: StageBenchOptions

    func run() throws {
        try StageBenchmark(
            name: "router", executable: "oms-router", label: "Berg&Beutel lines, stock in A and B", outputTopic: Topic.omsFulfillment,
            decisions: ["FulfillmentOrder.Created"], latencyLabel: "Order.Accepted published → first FulfillmentOrder.Created consumed",
            statusTable: "router.orders", options: options,
            prepare: { kafka, database, _ in
                // Enough of every SKU in both warehouses that every order routes; a sequence above any earlier run's.
                let sequence = Int64(Date().timeIntervalSince1970 * 1000)
                try KafkaProducer(configuration: kafka, logger: BenchEnvironment.logger).publish(["A", "B"].map {
                    BergUndBeutelOrders.stockChanged(warehouse: $0, sequence: sequence, onHand: 100_000_000)
                })
                let settle = Date().addingTimeInterval(60)
                while try database.query("SELECT count(*) AS n FROM router.stock WHERE wms_sequence = \(sequence)").first!
                    .decode("n", as: Int.self) < 2 * BergUndBeutelOrders.catalog.count && Date() < settle {
                    Thread.sleep(forTimeInterval: 0.2)
                }
            },
            makeMessage: { index, runID, now in
                let event = BergUndBeutelOrders.orderAccepted(index: index, orderID: "BENCH-\(runID)-\(index)", eventID: "bench-\(runID)-\(index)",
                                                              placedAt: now)
                return OutgoingMessage(topic: Topic.omsOrders, key: event.subject, value: event.serialized(),
                                       headers: [("content-type", CloudEvent.contentType)])
            }
        ).run()
    }
}
