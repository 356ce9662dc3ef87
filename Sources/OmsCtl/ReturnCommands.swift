import ArgumentParser
import Foundation
import ReturnsCore
import Shared

/// `omsctl return …`: customer service's side of Returns — the same path as the portal (Return.Requested on
/// returns.requests), decisions (Return.Decided), and what stands.
struct ReturnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "return",
        abstract: "Returns: request one for a customer, decide held returns and lines waiting for a person, show and list them.",
        subcommands: [Request.self, Decide.self, Show.self, List.self, LabelPDF.self])

    static func publish(type: String, orderID: String, data: JSONValue) throws -> String {
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "omsctl", type: type, subject: orderID, time: EventTime.format(Date()), data: data)
        let violations = EventContracts.dataSchemas[type]?.validate(data, at: "data") ?? []
        guard violations.isEmpty else { throw CLIError(violations.prefix(3).map(\.description).joined(separator: "; ")) }
        let configuration = try CLIEnvironment.kafka()
        try CLIError.detailed {
            try KafkaProducer(configuration: configuration, logger: CLIEnvironment.logger).publish([
                OutgoingMessage(topic: Topic.returnsRequests, key: orderID, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)]),
            ])
        }
        return event.id
    }

    /// An RMA number as typed (any case, look-alikes forgiven); nil when its check symbol does not match.
    static func rma(_ text: String) -> RMANumber? {
        RMANumber(parsing: text, prefix: String(text.uppercased().prefix { $0 != "-" }))
    }

    /// "1:2:wrong-size" → line 1, 2 units, reason wrong-size.
    static func requestLine(_ text: String) throws -> (String, Int64, String) {
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].count <= 200, let quantity = Int64(parts[1]), (1...100_000).contains(quantity),
              !parts[2].isEmpty, parts[2].count <= 64 else {
            throw ValidationError("--line must be LINE:QUANTITY:REASON (e.g. 1:2:wrong-size, quantity 1–100000), not \"\(text.prefix(60))\"")
        }
        return (parts[0], quantity, parts[2])
    }

    struct Request: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask for a return on a customer's behalf (customer service); prints the RMA or why it is refused.")
        @Argument(help: "The order id.") var orderID: String
        @Option(name: .customLong("line"), help: "LINE:QUANTITY:REASON, once per line (reasons as in returns.json, e.g. wrong-size).") var lines: [String] = []
        @Option(help: "Who asks (kept with the return).") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "omsctl"
        @Option(help: "A comment for the warehouse.") var comment: String?
        @Option(help: "Seconds to wait for oms-returns' decision (0: do not wait).") var wait: Int = 30

        func validate() throws {
            guard !orderID.isEmpty, orderID.count <= 200 else { throw ValidationError("the order id must be 1 to 200 characters") }
            guard !lines.isEmpty else { throw ValidationError("name at least one --line LINE:QUANTITY:REASON") }
            for line in lines { _ = try ReturnCommand.requestLine(line) }
            guard (0...600).contains(wait) else { throw ValidationError("--wait must be between 0 and 600 seconds") }
            guard !by.isEmpty, by.count <= 100 else { throw ValidationError("--by must be 1 to 100 characters") }
            if let comment, comment.count > 1000 { throw ValidationError("--comment must be at most 1000 characters") }
        }

        func run() throws {
            let requestID = "CS-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(24)
            var data: [String: JSONValue] = [
                "requestId": .string(String(requestID)), "orderId": .string(orderID), "channel": "customer-service", "requestedBy": .string(by),
                "requestedAt": .string(EventTime.format(Date())),
                "lines": .array(try lines.map { let (id, q, reason) = try ReturnCommand.requestLine($0)
                    return ["lineId": .string(id), "quantity": .integer(q), "reason": .string(reason)] }),
            ]
            if let comment { data["comment"] = .string(comment) }
            _ = try ReturnCommand.publish(type: "Return.Requested", orderID: orderID, data: .object(data))
            print("return request \(requestID) for \(orderID) sent")
            guard wait > 0 else { return }
            let database = try CLIEnvironment.database()
            let deadline = Date().addingTimeInterval(Double(wait))
            while Date() < deadline {
                if let row = try database.query("""
                    SELECT rma, status, hold_reason, reasons::text AS reasons FROM returns.returns WHERE request_id = \(String(requestID))
                    """).first {
                    let status: String = try row.decode("status")
                    let rma = try row.decodeIfPresent("rma", as: String.self)
                    switch status {
                    case "rejected":
                        let reasons = (try? JSONParser.parse(try row.decode("reasons", as: String.self)))?.arrayValue ?? []
                        print("refused: " + reasons.compactMap { $0["message"]?.stringValue }.joined(separator: "; "))
                        throw ExitCode(3)
                    case "held": print("\(rma ?? "?") held for customer service: \(try row.decodeIfPresent("hold_reason", as: String.self) ?? "")")
                    default: print("\(rma ?? "?") authorized; label: omsctl return label \(rma ?? "") --output label.pdf")
                    }
                    return
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
            throw CLIError("oms-returns has not decided request \(requestID) within \(wait) s (is it running?)")
        }
    }

    struct Decide: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Customer service's decision: authorize or refuse a held return, or set the disposition of lines (overrides the table; audited).")
        @Argument(help: "The RMA number, e.g. R-00004K7.") var rma: String
        @Flag(help: "Authorize a held return.") var authorize = false
        @Flag(help: "Refuse a held return.") var refuse = false
        @Option(name: .customLong("line"), help: "LINE:DISPOSITION[:REFUND-BASIS-POINTS] (restock, refurbish, scrap, return-to-supplier; 10000 = full refund).")
        var lines: [String] = []
        @Option(help: "Who decides.") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "omsctl"
        @Option(help: "Why (kept in the audit trail; shown to the customer when refusing).") var reason: String

        func validate() throws {
            guard ReturnCommand.rma(rma) != nil else {
                throw ValidationError("\"\(rma.prefix(40))\" is not an RMA number (its check symbol does not match)")
            }
            guard [authorize, refuse, !lines.isEmpty].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --authorize, --refuse or --line")
            }
            for line in lines { _ = try Self.line(line) }
            guard !reason.isEmpty, reason.count <= 500 else { throw ValidationError("--reason must be 1 to 500 characters") }
            guard !by.isEmpty, by.count <= 100 else { throw ValidationError("--by must be 1 to 100 characters") }
        }

        static func line(_ text: String) throws -> JSONValue {
            let parts = text.split(separator: ":").map(String.init)
            let dispositions = ["restock", "refurbish", "scrap", "return-to-supplier"]
            guard (2...3).contains(parts.count), !parts[0].isEmpty, dispositions.contains(parts[1]) else {
                throw ValidationError("--line must be LINE:DISPOSITION[:BASIS-POINTS] with a disposition of \(dispositions.joined(separator: ", ")), not \"\(text.prefix(60))\"")
            }
            var value: [String: JSONValue] = ["lineId": .string(parts[0]), "disposition": .string(parts[1])]
            if parts.count == 3 {
                guard let points = Int64(parts[2]), (0...10_000).contains(points) else { throw ValidationError("refund basis points must be 0–10000") }
                value["refundBasisPoints"] = .integer(points)
            }
            return .object(value)
        }

        func run() throws {
            let normalized = ReturnCommand.rma(rma)?.text ?? rma
            let database = try CLIEnvironment.database()
            guard let row = try database.query("SELECT order_id, status FROM returns.returns WHERE rma = \(normalized)").first else {
                throw CLIError("no return \(normalized)")
            }
            let orderID: String = try row.decode("order_id")
            let before: String = try row.decode("status")
            var data: [String: JSONValue] = ["rma": .string(normalized), "decidedBy": .string(by), "reason": .string(reason)]
            if authorize || refuse { data["authorize"] = .bool(authorize) } else { data["lines"] = .array(try lines.map(Self.line)) }
            _ = try ReturnCommand.publish(type: "Return.Decided", orderID: orderID, data: .object(data))
            print("decision for \(normalized) sent; waiting for oms-returns…")
            for _ in 0..<120 {
                if let now = try database.query("SELECT status FROM returns.returns WHERE rma = \(normalized)").first?.decode("status", as: String.self), now != before {
                    print("\(normalized) is now \(now)")
                    return
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
            print("the return is still \(before) (a preset disposition applies at receipt); check with: omsctl return show \(normalized)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a return: its lines, inspection, dispositions, refunds and timeline.")
        @Argument(help: "The RMA number.") var rma: String
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() throws {
            let normalized = ReturnCommand.rma(rma)?.text ?? rma
            let database = try CLIEnvironment.database()
            guard let ret = try database.query("""
                SELECT request_id, rma, order_id, status, channel, coalesce(requested_by, '') AS requested_by, coalesce(hold_reason, '') AS hold_reason,
                       coalesce(label_sscc, '') AS sscc, to_json(created_at)#>>'{}' AS created, coalesce(received_in, '') AS received_in
                FROM returns.returns WHERE rma = \(normalized)
                """).first else { throw CLIError("no return \(normalized)") }
            let requestID: String = try ret.decode("request_id")
            let lines = try database.query("""
                SELECT line_id, sku, quantity, reason, coalesce(received, -1) AS received, coalesce(grade, '') AS grade, coalesce(disposition, '') AS disposition,
                       coalesce(rule, '') AS rule, coalesce(stock_sku, '') AS stock_sku, coalesce(decided_by, '') AS decided_by, coalesce(refund_amount, -1) AS refund
                FROM returns.return_lines WHERE request_id = \(requestID) ORDER BY line_id
                """)
            let refunds = try database.query("""
                SELECT refund_id, currency, total, shipping, to_voucher, to_payment FROM returns.refunds WHERE request_id = \(requestID) ORDER BY refund_id
                """)
            let orderID: String = try ret.decode("order_id")
            let timeline = try database.query("""
                SELECT to_json(occurred_at)#>>'{}' AS at, action, actor, reason FROM returns.audit_trail
                WHERE subject = \(orderID) AND (reason LIKE \(normalized + "%") OR reason LIKE \("%" + requestID + "%")) ORDER BY id
                """)
            if json {
                print(JSONValue.object([
                    "rma": .string(normalized), "orderId": .string(orderID), "status": .string(try ret.decode("status")),
                    "channel": .string(try ret.decode("channel")), "requestedBy": .string(try ret.decode("requested_by")),
                    "labelSscc": .string(try ret.decode("sscc")), "createdAt": .string(try ret.decode("created")),
                    "lines": .array(try lines.map { l in
                        ["lineId": .string(try l.decode("line_id")), "sku": .string(try l.decode("sku")), "quantity": .integer(try l.decode("quantity")),
                         "reason": .string(try l.decode("reason")), "received": .integer(try l.decode("received")), "grade": .string(try l.decode("grade")),
                         "disposition": .string(try l.decode("disposition")), "rule": .string(try l.decode("rule")), "decidedBy": .string(try l.decode("decided_by")),
                         "refund": .integer(try l.decode("refund"))]
                    }),
                    "refunds": .array(try refunds.map { r in
                        ["refundId": .string(try r.decode("refund_id")), "total": .integer(try r.decode("total")), "shipping": .integer(try r.decode("shipping")),
                         "toVoucher": .integer(try r.decode("to_voucher")), "toPayment": .integer(try r.decode("to_payment"))]
                    }),
                ]).serializedString)
                return
            }
            print("Return \(normalized)  order \(orderID)  status: \(try ret.decode("status", as: String.self))")
            print("  requested via \(try ret.decode("channel", as: String.self)) by \(try ret.decode("requested_by", as: String.self)) at \(try ret.decode("created", as: String.self))")
            let hold: String = try ret.decode("hold_reason")
            if !hold.isEmpty { print("  held: \(hold)") }
            let sscc: String = try ret.decode("sscc")
            if !sscc.isEmpty { print("  label SSCC \(sscc)") }
            print("Lines:")
            for l in lines {
                let received: Int64 = try l.decode("received")
                var text = "  \(try l.decode("line_id", as: String.self))  \(try l.decode("sku", as: String.self)) × \(try l.decode("quantity", as: Int64.self))  (\(try l.decode("reason", as: String.self)))"
                if received >= 0 { text += "  received \(received) grade \(try l.decode("grade", as: String.self))" }
                let disposition: String = try l.decode("disposition")
                if !disposition.isEmpty { text += "  → \(disposition) [\(try l.decode("rule", as: String.self))] by \(try l.decode("decided_by", as: String.self))" }
                print(text)
            }
            for r in refunds {
                let currency: String = try r.decode("currency")
                print("Refund \(try r.decode("refund_id", as: String.self)): \(Money.format(try r.decode("total"), currency)) "
                      + "(shipping \(Money.format(try r.decode("shipping"), currency))); to the payment \(Money.format(try r.decode("to_payment"), currency)), "
                      + "to vouchers \(Money.format(try r.decode("to_voucher"), currency))")
            }
            print("Timeline:")
            for row in timeline {
                print("  \(try row.decode("at", as: String.self))  \(try row.decode("action", as: String.self))  \(try row.decode("actor", as: String.self))  \(try row.decode("reason", as: String.self))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List returns, oldest first: the open ones (--open) or those of an order.")
        @Flag(help: "Only returns not yet completed or refused.") var open = false
        @Option(help: "Only this order's returns.") var order: String?

        func run() throws {
            let database = try CLIEnvironment.database()
            let rows = try database.query("""
                SELECT coalesce(rma, '(' || request_id || ')') AS rma, order_id, status, channel, to_json(created_at)#>>'{}' AS created,
                       (SELECT coalesce(sum(quantity), 0) FROM returns.return_lines l WHERE l.request_id = r.request_id)::bigint AS units
                FROM returns.returns r
                WHERE (\(open) = false OR status NOT IN ('rejected', 'completed')) AND (\(order)::text IS NULL OR order_id = \(order))
                ORDER BY created_at LIMIT 1000
                """)
            var count = 0
            for row in rows {
                count += 1
                print("\(try row.decode("rma", as: String.self))  \(try row.decode("order_id", as: String.self))  \(try row.decode("status", as: String.self))  "
                      + "\(try row.decode("units", as: Int64.self)) unit(s)  via \(try row.decode("channel", as: String.self))  \(try row.decode("created", as: String.self))")
            }
            if count == 0 { print(open ? "no open returns" : "no returns") }
        }
    }

    struct LabelPDF: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "label", abstract: "Write a return's label PDF.")
        @Argument(help: "The RMA number.") var rma: String
        @Option(help: "Where to write it.") var output: String

        func run() throws {
            let normalized = ReturnCommand.rma(rma)?.text ?? rma
            let database = try CLIEnvironment.database()
            guard let row = try database.query("SELECT label_pdf FROM returns.returns WHERE rma = \(normalized)").first,
                  let pdf = try row.decodeIfPresent("label_pdf", as: Data.self) else {
                throw CLIError("no label for \(normalized) (unknown, or not authorized yet)")
            }
            do { try pdf.write(to: URL(fileURLWithPath: output)) } catch { throw CLIError("cannot write \(output): \(error.localizedDescription)") }
            print("label of \(normalized) written to \(output) (\(pdf.count) bytes)")
        }
    }
}
