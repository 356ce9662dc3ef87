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
            abstract: "Show an order, its lines and its timeline from the audit trail.")

        @Argument(help: "The order id, e.g. BB-100042.") var orderID: String
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() throws {
            let database = try CLIEnvironment.database()
            guard let order = try database.query("""
                SELECT order_id, status, customer_id, customer_type, currency, payment_method, payment_status,
                       payment_amount, shipping_charge, lines_total, shipping_method, ship_complete,
                       to_json(placed_at)#>>'{}' AS placed_at, source_event_id, correlation_id,
                       array_to_string(hold_reasons, ', ') AS hold_reasons, fraud_score,
                       to_json(hold_expires_at)#>>'{}' AS hold_expires_at, buyer_id,
                       array_to_string(approvers, ', ') AS approvers, payment_terms::text AS payment_terms
                FROM capture.orders WHERE order_id = \(orderID)
                """).first else {
                throw CLIError("no order with id \(orderID)")
            }
            let lines = try database.query("""
                SELECT line_id, sku, quantity, unit_price FROM capture.order_lines
                WHERE order_id = \(orderID) ORDER BY position
                """)
            let checks = try database.query("""
                SELECT check_name, code, effect, points, message FROM capture.order_checks
                WHERE order_id = \(orderID) ORDER BY position
                """)
            // One timeline across the stages' audit trails.
            let timeline = try database.query("""
                SELECT to_json(occurred_at)#>>'{}' AS at, action, actor, reason, details::text AS details, event_id, stage
                FROM (SELECT occurred_at, id, action, actor, reason, details, event_id, 'capture' AS stage
                      FROM capture.audit_trail WHERE subject = \(orderID)
                      UNION ALL
                      SELECT occurred_at, id, action, actor, reason, details, event_id, 'router'
                      FROM router.audit_trail WHERE subject = \(orderID)
                      UNION ALL
                      SELECT occurred_at, id, action, actor, reason, details, event_id, 'fulfillment'
                      FROM fulfillment.audit_trail WHERE subject = \(orderID)
                      UNION ALL
                      SELECT occurred_at, id, action, actor, reason, details, event_id, 'billing'
                      FROM billing.audit_trail WHERE subject = \(orderID)
                      UNION ALL
                      SELECT occurred_at, id, action, actor, reason, details, event_id, 'returns'
                      FROM returns.audit_trail WHERE subject = \(orderID)) t
                ORDER BY occurred_at, stage, id
                """)
            let routing = try database.query("SELECT status FROM router.orders WHERE order_id = \(orderID)").first
            let fulfillment = try database.query("""
                SELECT fulfillment_order_id, coalesce(warehouse_id, 'supplier ' || supplier_id) AS place, coalesce(carrier_service, '') AS service,
                       coalesce(to_json(ship_by)#>>'{}', to_json(sla_due)#>>'{}', '') AS due, status, lines::text AS lines
                FROM router.fulfillment_orders WHERE order_id = \(orderID) ORDER BY fulfillment_order_id
                """)
            // What the OMS announced about the order, as oms-notifier's timeline recorded it (empty without the notifier).
            let events = try database.query("""
                SELECT to_json(occurred_at)#>>'{}' AS at, event_type, stage, actor, reason FROM notifier.timeline WHERE order_id = \(orderID)
                ORDER BY occurred_at, id
                """)
            let returns = try database.query("""
                SELECT coalesce(rma, request_id) AS rma, status, to_json(created_at)#>>'{}' AS at FROM returns.returns WHERE order_id = \(orderID) ORDER BY created_at
                """)
            let waiting = try database.query("""
                SELECT line_id, sku, quantity - routed AS open, waiting_for FROM router.order_lines
                WHERE order_id = \(orderID) AND waiting_for IS NOT NULL ORDER BY line_id
                """)
            if json {
                let document: JSONValue = [
                    "orderId": .string(try order.decode("order_id")), "status": .string(try order.decode("status")),
                    "customerId": .string(try order.decode("customer_id")), "customerType": .string(try order.decode("customer_type")),
                    "currency": .string(try order.decode("currency")),
                    "payment": ["method": .string(try order.decode("payment_method")), "status": .string(try order.decode("payment_status")),
                                "amount": .integer(try order.decode("payment_amount"))],
                    "linesTotal": .integer(try order.decode("lines_total")), "shippingCharge": .integer(try order.decode("shipping_charge")),
                    "placedAt": .string(try order.decode("placed_at")), "correlationId": .string(try order.decode("correlation_id")),
                    "holdReasons": .array(try order.decode("hold_reasons", as: String.self).split(separator: ",")
                        .map { .string($0.trimmingCharacters(in: .whitespaces)) }),
                    "fraudScore": .integer(try order.decode("fraud_score")),
                    "buyerId": try order.decodeIfPresent("buyer_id", as: String.self).map { .string($0) } ?? .null,
                    "approvers": .array(try order.decode("approvers", as: String.self).split(separator: ",")
                        .map { .string($0.trimmingCharacters(in: .whitespaces)) }),
                    "paymentTerms": try order.decodeIfPresent("payment_terms", as: String.self).flatMap { try? JSONParser.parse($0) } ?? .null,
                    "checks": .array(try checks.map { row in
                        ["check": .string(try row.decode("check_name")), "code": .string(try row.decode("code")),
                         "effect": .string(try row.decode("effect")), "points": .integer(try row.decode("points")),
                         "message": .string(try row.decode("message"))]
                    }),
                    "lines": .array(try lines.map { ["lineId": .string(try $0.decode("line_id")), "sku": .string(try $0.decode("sku")),
                                                     "quantity": .integer(try $0.decode("quantity")), "unitPrice": .integer(try $0.decode("unit_price"))] }),
                    "routing": try routing.map { row -> JSONValue in
                        ["status": .string(try row.decode("status")),
                         "fulfillmentOrders": .array(try fulfillment.map { fo in
                             ["id": .string(try fo.decode("fulfillment_order_id")), "place": .string(try fo.decode("place")),
                              "carrierService": .string(try fo.decode("service")), "due": .string(try fo.decode("due")),
                              "status": .string(try fo.decode("status")),
                              "lines": (try? JSONParser.parse(try fo.decode("lines", as: String.self))) ?? .null]
                         }),
                         "waiting": .array(try waiting.map { line in
                             ["lineId": .string(try line.decode("line_id")), "sku": .string(try line.decode("sku")),
                              "open": .integer(try line.decode("open")), "for": .string(try line.decode("waiting_for"))]
                         })]
                    } ?? .null,
                    "events": .array(try events.map { ["at": .string(try $0.decode("at")), "type": .string(try $0.decode("event_type")),
                                                       "stage": .string(try $0.decode("stage")), "actor": .string(try $0.decode("actor")),
                                                       "reason": .string(try $0.decode("reason"))] }),
                    "returns": .array(try returns.map { ["rma": .string(try $0.decode("rma")), "status": .string(try $0.decode("status")),
                                                         "requestedAt": .string(try $0.decode("at"))] }),
                    "timeline": .array(try timeline.map { row in
                        ["at": .string(try row.decode("at")), "stage": .string(try row.decode("stage")), "action": .string(try row.decode("action")),
                         "actor": .string(try row.decode("actor")), "reason": .string(try row.decode("reason")),
                         "details": (try? JSONParser.parse(try row.decode("details", as: String.self))) ?? .null]
                    }),
                ]
                print(document.serializedString)
                return
            }
            let currency: String = try order.decode("currency")
            print("Order \(try order.decode("order_id", as: String.self))  status: \(try order.decode("status", as: String.self))")
            let holdReasons: String = try order.decode("hold_reasons")
            if !holdReasons.isEmpty {
                let expires = try order.decodeIfPresent("hold_expires_at", as: String.self).map { ", payment deadline \($0)" } ?? ""
                print("  held for   \(holdReasons)\(expires)")
            }
            print("  customer   \(try order.decode("customer_id", as: String.self)) (\(try order.decode("customer_type", as: String.self)))")
            if let buyer = try order.decodeIfPresent("buyer_id", as: String.self) {
                let approvers: String = try order.decode("approvers")
                print("  buyer      \(buyer)\(approvers.isEmpty ? "" : ", approvers: \(approvers)")")
            }
            if let terms = try order.decodeIfPresent("payment_terms", as: String.self).flatMap({ try? JSONParser.parse($0) }),
               let code = terms["code"]?.stringValue, let days = terms["netDays"]?.int64Value {
                print("  terms      \(code) (net \(days) days)")
            }
            print("  placed     \(try order.decode("placed_at", as: String.self))")
            print("  payment    \(try order.decode("payment_method", as: String.self)), \(try order.decode("payment_status", as: String.self)), \(Money.format(try order.decode("payment_amount"), currency))")
            print("  shipping   \(try order.decode("shipping_method", as: String.self))\(try order.decode("ship_complete", as: Bool.self) ? " (ship complete)" : ""), charge \(Money.format(try order.decode("shipping_charge"), currency))")
            let linesTotal: Int64 = try order.decode("lines_total"), shippingCharge: Int64 = try order.decode("shipping_charge")
            let (total, overflow) = linesTotal.addingReportingOverflow(shippingCharge)
            print("  total      \(overflow ? "beyond 64-bit minor units" : Money.format(total, currency))")
            print("Lines")
            for line in lines {
                let quantity: Int64 = try line.decode("quantity")
                let unitPrice: Int64 = try line.decode("unit_price")
                let (lineTotal, overflow) = quantity.multipliedReportingOverflow(by: unitPrice)
                print("  \(try line.decode("line_id", as: String.self))  \(try line.decode("sku", as: String.self))  \(quantity) × \(Money.format(unitPrice, currency)) = \(overflow ? "beyond 64-bit minor units" : Money.format(lineTotal, currency))")
            }
            print("Checks (fraud score \(try order.decode("fraud_score", as: Int.self)))")
            if checks.count == 0 { print("  all passed, no fraud indicators") }
            for row in checks {
                let points: Int = try row.decode("points")
                print("  \(try row.decode("code", as: String.self))  [\(try row.decode("effect", as: String.self))\(points > 0 ? " +\(points)" : "")]  \(try row.decode("message", as: String.self))")
            }
            if let routing {
                print("Routing (\(try routing.decode("status", as: String.self)))")
                for fo in fulfillment {
                    let lines = (try? JSONParser.parse(try fo.decode("lines", as: String.self)))?.arrayValue?
                        .map { "\($0["quantity"]?.int64Value ?? 0)×\($0["sku"]?.stringValue ?? "?")" }.joined(separator: ", ") ?? ""
                    let service: String = try fo.decode("service")
                    print("  \(try fo.decode("fulfillment_order_id", as: String.self))  \(try fo.decode("place", as: String.self))\(service.isEmpty ? "" : " via \(service)")  \(try fo.decode("status", as: String.self)), due \(try fo.decode("due", as: String.self))  \(lines)")
                }
                for line in waiting {
                    print("  line \(try line.decode("line_id", as: String.self)): \(try line.decode("open", as: Int64.self))×\(try line.decode("sku", as: String.self)) waiting for \(try line.decode("waiting_for", as: String.self))")
                }
            }
            for (index, row) in returns.enumerated() {
                if index == 0 { print("Returns") }
                print("  \(try row.decode("rma", as: String.self))  \(try row.decode("status", as: String.self))  requested \(try row.decode("at", as: String.self))  (omsctl return show)")
            }
            for (index, row) in events.enumerated() {
                if index == 0 { print("Events (oms-notifier's timeline)") }
                print("  \(try row.decode("at", as: String.self))  \(try row.decode("event_type", as: String.self))  [\(try row.decode("stage", as: String.self))] by \(try row.decode("actor", as: String.self))"
                      + ": \(try row.decode("reason", as: String.self))")
            }
            print("Timeline")
            for row in timeline {
                print("  \(try row.decode("at", as: String.self))  [\(try row.decode("stage", as: String.self))] \(try row.decode("action", as: String.self))  by \(try row.decode("actor", as: String.self)): \(try row.decode("reason", as: String.self))")
            }
        }
    }
}
