import ArgumentParser
import Foundation
import Logging
import Shared
import Synchronization

/// Publishes N orders to shop.orders with oms-capture running, and measures
/// from the first publish to the last Order.Accepted consumed.
struct CaptureThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Measure orders/s and latency through Capture (durable commits).",
        discussion: "Needs OMS_KAFKA_BROKERS and OMS_DATABASE_URL (make bench sets up its own environment).")

    @OptionGroup var options: StageBenchOptions
    @Option(help: "Order mix: plain (all clean B2C) or realistic (20 % B2B on account with CRM records, credit and approval limits, 5 % fraud-suspicious, 10 % prepayment).")
    var mix: String = "plain"

    func validate() throws {
        guard ["plain", "realistic"].contains(mix) else { throw ValidationError("--mix must be plain or realistic, got \(mix)") }
    }

    func run() throws {
        let realistic = mix == "realistic"
        try StageBenchmark(
            name: "capture", executable: "oms-capture", label: "\(mix) mix", outputTopic: Topic.omsOrders, decisions: Self.decisions,
            latencyLabel: "event published → Order.Accepted/OnHold/Rejected consumed", statusTable: "capture.orders",
            options: options,
            prepare: { kafka, database, _ in
                guard realistic else { return }
                // The CRM replica first: B2B orders of unknown customers would be held for credit.
                let customers = stride(from: 0, to: min(options.orders, 20_000), by: 5).map {
                    BergUndBeutelOrders.message(BergUndBeutelOrders.businessCustomer(id: Self.businessCustomerID(index: $0)))
                }
                BenchEnvironment.progress("publishing \(customers.count) business customers to crm.customers…")
                try KafkaProducer(configuration: kafka, logger: BenchEnvironment.logger).publish(customers)
                let settle = Date().addingTimeInterval(120)
                while try database.query("SELECT count(*) AS n FROM capture.customers WHERE customer_id LIKE 'BC-%'").first!
                    .decode("n", as: Int.self) < customers.count && Date() < settle {
                    Thread.sleep(forTimeInterval: 0.5)
                }
            },
            makeMessage: { index, runID, now in
                var event = BergUndBeutelOrders.orderCreated(index: index, orderID: "BENCH-\(runID)-\(index)", eventID: "bench-\(runID)-\(index)",
                                                             placedAt: now)
                if realistic { event = Self.realistic(event, index: index) }
                return BergUndBeutelOrders.message(event)
            }
        ).run()
    }

    /// Shapes order `index` of the realistic mix: every 5th a B2B order on
    /// account with net prices, every 20th fraud-suspicious, every 10th prepaid.
    static func realistic(_ event: CloudEvent, index: Int) -> CloudEvent {
        var event = event
        var data = event.data.objectValue!
        if index % 5 == 0 {
            return BergUndBeutelOrders.business(event, customerID: businessCustomerID(index: index))
        } else if index % 20 == 1 {
            // Disposable e-mail and a billing country no customer of the sample ships to: 55 points, a review hold.
            data.set("customer", "email", .string("deal\(index)@mailinator.com"))
            data.set("billingAddress", "country", "NL")
            data.set("billingAddress", "postalCode", "1012 AB")
        } else if index % 10 == 3 {
            data.set("payment", "method", "prepayment")
            data.set("payment", "status", "pending")
        }
        event.data = .object(data)
        return event
    }

    /// The B2B customers of the realistic mix (one per 5th order's customer number).
    static func businessCustomerID(index: Int) -> String { "BC-\(1_000 + index % 20_000)" }

    /// Every first decision Capture can take on an order counts as "through Capture".
    static let decisions: Set<String> = ["Order.Accepted", "Order.OnHold", "Order.Rejected"]

}
