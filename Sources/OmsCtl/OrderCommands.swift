import ArgumentParser
import Foundation
import Shared

struct Order: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look at orders; approve, reject or cancel held orders.",
        subcommands: [Show.self, Approve.self, Reject.self, Cancel.self])

    /// Sends a request about an order through shop.orders, so that Capture applies
    /// it exactly once like any other event; refuses early what Capture would refuse.
    static func request(_ type: String, orderID: String, data: [String: JSONValue],
                        allowed: (_ status: String, _ holds: [String], _ approvers: [String]) -> String?) throws {
        let database = try CLIEnvironment.database()
        func state() throws -> (status: String, holds: String, approvers: String) {
            guard let row = try database.query("""
                SELECT status, array_to_string(hold_reasons, ',') AS holds, array_to_string(approvers, ',') AS approvers
                FROM capture.orders WHERE order_id = \(orderID)
                """).first else {
                throw CLIError("no order with id \(orderID)")
            }
            return (try row.decode("status"), try row.decode("holds"), try row.decode("approvers"))
        }
        let before = try state()
        if let refusal = allowed(before.status, before.holds.split(separator: ",").map(String.init),
                                 before.approvers.split(separator: ",").map(String.init)) {
            throw CLIError(refusal)
        }
        var body = data
        body["orderId"] = .string(orderID)
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "omsctl", type: type, subject: orderID,
                               time: EventTime.format(Date()), data: .object(body))
        let configuration = try CLIEnvironment.kafka()
        try CLIError.detailed {
            try KafkaProducer(configuration: configuration, logger: CLIEnvironment.logger).publish([
                OutgoingMessage(topic: Topic.shopOrders, key: orderID, value: event.serialized(),
                                headers: [("content-type", CloudEvent.contentType)])
            ])
        }
        print("\(type) for \(orderID) sent (event \(event.id)); waiting for Capture…")
        for _ in 0..<60 {
            let now = try state()
            if now.status != before.status || now.holds != before.holds {
                print("order \(orderID) is now \(now.status)\(now.holds.isEmpty ? "" : " (held for \(now.holds))")")
                return
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        print("Capture has not applied it yet (is oms-capture running?); check with: omsctl order show \(orderID)")
    }

    /// What Capture would refuse, said before anything is sent.
    static func refusal(orderID: String, status: String, holds: [String], by: String, approvers: [String], action: String) -> String? {
        let decidable = status == "on_hold" ? ApprovalAuthority.decidableHolds(Set(holds), actor: by, approvers: approvers) : []
        guard decidable.isEmpty else { return nil }
        return ApprovalAuthority.refusal(orderID: orderID, status: status, holds: Set(holds), actor: by, approvers: approvers, action: action)
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a held order: staff lift review, credit, price and stock holds; a B2B buyer's approver lifts the approval hold. It goes on unless other holds remain.")
        @Argument(help: "The order id.") var orderID: String
        @Option(help: "Who approves (recorded in the audit trail).") var by: String
        @Option(help: "Optional comment.") var comment: String = ""

        func run() throws {
            var data: [String: JSONValue] = ["by": .string(by)]
            if !comment.isEmpty { data["reason"] = .string(comment) }
            try Order.request("Order.ApprovalGiven", orderID: orderID, data: data) { status, holds, approvers in
                Order.refusal(orderID: orderID, status: status, holds: holds, by: by, approvers: approvers, action: "Order.ApprovalGiven")
            }
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a held order (review, credit, price or stock by staff; approval by the buyer's approver).")
        @Argument(help: "The order id.") var orderID: String
        @Option(help: "Who rejects (recorded in the audit trail).") var by: String
        @Option(help: "Why (recorded and sent with Order.Rejected).") var reason: String

        func run() throws {
            try Order.request("Order.ApprovalDenied", orderID: orderID, data: ["by": .string(by), "reason": .string(reason)]) {
                status, holds, approvers in
                Order.refusal(orderID: orderID, status: status, holds: holds, by: by, approvers: approvers, action: "Order.ApprovalDenied")
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel an order: held orders are cancelled by Capture, accepted ones are passed on to the Router.")
        @Argument(help: "The order id.") var orderID: String
        @Option(help: "Who cancels (recorded in the audit trail).") var by: String
        @Option(help: "Why.") var reason: String

        func run() throws {
            try Order.request("Order.CancellationRequested", orderID: orderID,
                              data: ["requestedBy": .string(by), "reason": .string(reason)]) { status, _, _ in
                status == "on_hold" || status == "accepted" ? nil : "order \(orderID) is already \(status); nothing to cancel"
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an order from the OMS's read model: state, lines, shipments with tracking, back-orders with ETA, invoices, returns, and its timeline across every stage.")

        @Argument(help: "The order id, e.g. BB-100042.") var orderID: String
        @Flag(help: "Print JSON instead of text.") var json = false

        func validate() throws {
            guard (1...200).contains(orderID.count), !orderID.contains("\u{0}") else { throw ValidationError("the order id must be 1 to 200 characters") }
        }

        func run() throws {
            // oms-notifier's read model of every oms.* topic: no stage's own tables are read.
            let database = try CLIEnvironment.database()
            let status = try database.query("SELECT document::text AS d FROM notifier.order_status WHERE order_id = \(orderID)").first
                .flatMap { try? JSONParser.parse(try $0.decode("d", as: String.self)) }
            let timeline = try database.query("""
                SELECT to_json(occurred_at)#>>'{}' AS at, event_type, stage, actor, reason, event_id, facts::text AS facts
                FROM notifier.timeline WHERE order_id = \(orderID) ORDER BY occurred_at, id
                """)
            guard status != nil || timeline.count > 0 else {
                throw CLIError("no order with id \(orderID) in the timeline (is oms-notifier running? it records every stage's events)")
            }
            if json {
                let document: JSONValue = [
                    "orderId": .string(orderID), "status": status ?? .null,
                    "timeline": .array(try timeline.map { row in
                        ["at": .string(try row.decode("at")), "type": .string(try row.decode("event_type")), "stage": .string(try row.decode("stage")),
                         "actor": .string(try row.decode("actor")), "reason": .string(try row.decode("reason")), "eventId": .string(try row.decode("event_id")),
                         "facts": (try? JSONParser.parse(try row.decode("facts", as: String.self))) ?? .null]
                    }),
                ]
                print(document.serializedString)
                return
            }
            let doc = status ?? [:]
            let currency = doc["currency"]?.stringValue ?? "EUR"
            print("Order \(orderID)  state: \(doc["state"]?.stringValue ?? "unknown")")
            if let customer = doc["customerId"]?.stringValue { print("  customer   \(customer)") }
            if let placed = doc["placedAt"]?.stringValue { print("  placed     \(placed)") }
            if let total = doc["total"]?.int64Value { print("  total      \(Money.format(total, currency))") }
            if let updated = doc["updatedAt"]?.stringValue { print("  updated    \(updated)") }
            let lines = doc["lines"]?.arrayValue ?? []
            if !lines.isEmpty { print("Lines") }
            for line in lines {
                print("  \(line["lineId"]?.stringValue ?? "?")  \(line["quantity"]?.int64Value ?? 0) × \(line["sku"]?.stringValue ?? "?")")
            }
            let shipments = doc["shipments"]?.arrayValue ?? []
            if !shipments.isEmpty { print("Shipments") }
            for shipment in shipments {
                let when = shipment["deliveredAt"]?.stringValue.map { "delivered \($0)" } ?? shipment["shippedAt"]?.stringValue.map { "shipped \($0)" } ?? ""
                let contents = (shipment["lines"]?.arrayValue ?? []).map { "\($0["quantity"]?.int64Value ?? 0)×\($0["sku"]?.stringValue ?? "?")" }.joined(separator: ", ")
                print("  \(shipment["fulfillmentOrderId"]?.stringValue ?? "?")  \(shipment["status"]?.stringValue ?? "")  \(when)  \(contents)")
                for parcel in shipment["parcels"]?.arrayValue ?? [] {
                    print("    \(parcel["carrier"]?.stringValue ?? "") \(parcel["trackingNumber"]?.stringValue ?? "")  \(parcel["trackingUrl"]?.stringValue ?? "")")
                }
            }
            let backorders = doc["backorders"]?.arrayValue ?? []
            if !backorders.isEmpty { print("Back-orders") }
            for line in backorders {
                print("  line \(line["lineId"]?.stringValue ?? "?"): \(line["quantity"]?.int64Value ?? 0) × \(line["sku"]?.stringValue ?? "?"), expected \(line["eta"]?.stringValue ?? "(no date yet)")")
            }
            let invoices = doc["invoices"]?.arrayValue ?? []
            if !invoices.isEmpty { print("Invoices") }
            for invoice in invoices {
                let gross = invoice["gross"]?.int64Value.map { Money.format($0, invoice["currency"]?.stringValue ?? currency) } ?? ""
                print("  \(invoice["number"]?.stringValue ?? "?")  \(invoice["kind"]?.stringValue ?? "")  \(gross)  issued \(invoice["issuedAt"]?.stringValue ?? "")  (omsctl invoice show)")
            }
            let returns = doc["returns"]?.arrayValue ?? []
            if !returns.isEmpty { print("Returns") }
            for item in returns {
                print("  \(item["rma"]?.stringValue ?? "?")  \(item["status"]?.stringValue ?? "")  \(item["updatedAt"]?.stringValue ?? "")  (omsctl return show)")
            }
            print("Timeline")
            for row in timeline {
                let reason: String = try row.decode("reason")
                print("  \(try row.decode("at", as: String.self))  \(try row.decode("event_type", as: String.self))  [\(try row.decode("stage", as: String.self))] by \(try row.decode("actor", as: String.self))"
                      + (reason.isEmpty ? "" : ": \(reason)"))
            }
        }
    }
}
