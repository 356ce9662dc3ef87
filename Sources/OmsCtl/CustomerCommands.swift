import ArgumentParser
import Foundation
import Shared

/// `omsctl customer erase ID`: a person's erasure request (GDPR Art. 17), sent through crm.customers like the CRM would.
struct CustomerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "customer", abstract: "A customer's personal data: erase it (GDPR Art. 17).",
                                                    subcommands: [Erase.self])

    /// Every stage that holds personal data confirms its part with Customer.Erased.
    static let erasingStages = ["capture", "router", "fulfillment", "billing", "returns", "notifier", "alerting"]

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a customer's personal data in every stage (names, e-mail, phone, addresses, IPs, photos); issued invoices keep what tax law requires, marked restricted.")
        @Argument(help: "The customer id.") var customerID: String
        @Option(help: "Who asks (recorded in every stage's audit trail).") var by: String
        @Option(help: "Why (e.g. the ticket of the request).") var reason: String = ""
        @Flag(help: "Erase even while orders are still open (not yet shipped); they can then no longer be shipped to the person.")
        var includingOpenOrders = false
        @Option(help: "Seconds to wait for every stage's confirmation (0: do not wait).") var wait: Int = 60

        func validate() throws {
            guard (1...200).contains(customerID.count), !customerID.contains("\u{0}") else { throw ValidationError("the customer id must be 1 to 200 characters") }
            guard (1...200).contains(by.count) else { throw ValidationError("--by must be 1 to 200 characters") }
            guard reason.count <= 1000 else { throw ValidationError("--reason must be at most 1000 characters") }
            guard (0...3600).contains(wait) else { throw ValidationError("--wait must be 0 to 3600 seconds") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            // The notifier's read model says which orders are still on their way (no stage's own tables are read).
            let open: [String] = try database.query("""
                SELECT order_id FROM notifier.order_status
                WHERE customer_id = \(customerID) AND document->>'state' IN ('accepted', 'on-hold', 'partially-shipped') ORDER BY order_id
                """).map { try $0.decode("order_id") }
            if !open.isEmpty && !includingOpenOrders {
                throw CLIError("customer \(customerID) has open orders (\(open.prefix(10).joined(separator: ", "))\(open.count > 10 ? ", …" : "")); "
                               + "erase after they shipped or were cancelled, or pass --including-open-orders")
            }
            var data: [String: JSONValue] = ["customerId": .string(customerID), "requestedBy": .string(by), "requestedAt": .string(EventTime.format(Date()))]
            if !reason.isEmpty { data["reason"] = .string(reason) }
            let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "omsctl", type: "Customer.ErasureRequested", subject: customerID,
                                   time: EventTime.format(Date()), data: .object(data))
            try CLIError.detailed {
                try KafkaProducer(configuration: try CLIEnvironment.kafka(), logger: CLIEnvironment.logger).publish([
                    OutgoingMessage(topic: Topic.crmCustomers, key: customerID, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
                ])
            }
            print("erasure \(event.id) for customer \(customerID) sent")
            guard wait > 0 else { return }
            // Each stage's Customer.Erased lands in the timeline of every order it names.
            let deadline = Date().addingTimeInterval(Double(wait))
            var confirmed: [String: String] = [:]
            repeat {
                for row in try database.query("""
                    SELECT DISTINCT ON (stage) stage, reason FROM notifier.timeline
                    WHERE event_type = 'Customer.Erased' AND facts->>'erasureId' = \(event.id) ORDER BY stage, id
                    """) {
                    confirmed[try row.decode("stage")] = try row.decode("reason")
                }
                if Set(confirmed.keys).isSuperset(of: CustomerCommand.erasingStages) { break }
                Thread.sleep(forTimeInterval: 0.5)
            } while Date() < deadline
            for stage in CustomerCommand.erasingStages {
                print("  \(stage.padding(toLength: 12, withPad: " ", startingAt: 0)) \(confirmed[stage] ?? "no confirmation yet")")
            }
            let missing = CustomerCommand.erasingStages.filter { confirmed[$0] == nil }
            if !missing.isEmpty {
                // Without orders there is no timeline to confirm in; the stages' audit trails still record it.
                throw CLIError("not confirmed within \(wait) s by: \(missing.joined(separator: ", ")) (is each worker running? the customer may have no orders)")
            }
        }
    }
}
