import Foundation
import Shared
import Testing

/// Credit notes and receivables end to end: real oms-billing (and oms-capture), PostgreSQL and broker.
@Suite("Billing credit notes and receivables end to end", .serialized)
struct BillingLedgerFlowTests {
    static func refund(_ id: String, order: String, lines: [(String, Int64, Int64)], shipping: Int64 = 0) -> OutgoingMessage {
        RouterFixtures.message(Topic.omsReturns, key: order, type: "Refund.Approved", source: "oms/returns", data: [
            "refundId": .string(id), "returnId": .string("RMA-\(id)"), "orderId": .string(order), "currency": "EUR", "reason": "passt nicht",
            "approvedAt": .string(EventTime.format(Date())), "shippingAmount": .integer(shipping),
            "lines": .array(lines.map { ["lineId": .string($0.0), "quantity": .integer($0.1), "amount": .integer($0.2)] }),
        ])
    }

    @Test("order → two partial shipments → two invoices → a return refund → a credit note referencing the first invoice")
    func refundCreditsTheFirstInvoice() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let billing = try rig.start("oms-billing", name: "billing-credit")
        defer { _ = billing.terminate(waitSeconds: 5) }
        let documents = try TopicReader(broker: broker, topic: Topic.omsBilling)
        let dlq = try TopicReader(broker: broker, topic: Topic.omsDLQ)
        try producer.publish([
            RouterFixtures.product("TENT-2P", ["taxClass": "standard", "name": "Zelt Gipfel 2P"]),
            RouterFixtures.product("BOOK-MAPS", ["taxClass": "reduced", "name": "Wanderkarten"]),
        ])
        try eventually(timeout: 30, "catalog replica") {
            try database.query("SELECT count(*) AS n FROM billing.products").first!.decode("n", as: Int.self) == 2
        }
        try producer.publish([BillingFlowTests.accepted("ORD-R1", lines: [("TENT-2P", 3, 19_990), ("BOOK-MAPS", 1, 1_490)])])
        try eventually(timeout: 30, "order replicated") {
            try database.query("SELECT count(*) AS n FROM billing.orders").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([BillingFlowTests.shipped("FO-R1-1", order: "ORD-R1", [("1", 2), ("2", 1)])])
        _ = try documents.events(ofType: "Invoice.Issued", atLeast: 1, timeout: 30)
        try producer.publish([BillingFlowTests.shipped("FO-R1-2", order: "ORD-R1", [("1", 1)])])
        let invoices = try documents.events(ofType: "Invoice.Issued", atLeast: 2, timeout: 30)
        let first = try #require(invoices.first { $0.data["fulfillmentOrderId"]?.stringValue == "FO-R1-1" }?.data["number"]?.stringValue)

        // One tent back in full with the shipping; the same refund again under a new event id; then more tents than are left.
        try producer.publish([Self.refund("RF-1", order: "ORD-R1", lines: [("1", 1, 19_990)], shipping: 495)])
        let notes = try documents.events(ofType: "CreditNote.Issued", atLeast: 1, timeout: 30)
        try producer.publish([Self.refund("RF-1", order: "ORD-R1", lines: [("1", 1, 19_990)], shipping: 495),
                              Self.refund("RF-2", order: "ORD-R1", lines: [("1", 3, 59_970)])])
        dlq.read(atLeast: 1, timeout: 30)
        try eventually(timeout: 30, "the repeated refund handled") {
            try database.query("SELECT count(*) AS n FROM billing.processed_messages").first!.decode("n", as: Int.self) >= 7
        }
        #expect(notes.count == 1)
        let note = try #require(notes.first)
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        #expect(note.data["number"]?.stringValue == String(format: "RK-%d-000001", year))
        #expect(note.data["typeCode"]?.stringValue == "381")
        #expect(note.data["precedingInvoice"]?.stringValue == first)
        #expect(note.data["refundId"]?.stringValue == "RF-1")
        #expect(note.data["gross"]?.int64Value == Int64(19_990 + 495))
        // 199.90 + 4.95 gross at 19 %: 172.14 net, 32.71 VAT.
        #expect(note.data["net"]?.int64Value == 17_214)
        #expect(note.data["tax"]?.int64Value == 3_271)
        for event in invoices + notes { #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true, "\(event.type): \(event.data)") }
        let stored = try database.query("""
            SELECT (SELECT count(*) FROM billing.documents WHERE type_code = '381') AS notes,
                   (SELECT shipping_refunded FROM billing.orders WHERE order_id = 'ORD-R1') AS shipping
            """).first!
        #expect(try stored.decode("notes", as: Int.self) == 1, "the repeated refund and the excessive one made no credit note")
        #expect(try stored.decode("shipping", as: Int64.self) == 495)
        // RF-2 asked for 3 tents when 2 are left uncredited: a dead letter with the reason, not a guess.
        dlq.read(atLeast: 1, timeout: 20)
        _ = dlq.drain(for: 1)
        let reasons = dlq.messages.flatMap { $0.headers.filter { $0.0 == DeadLetterHeader.errorMessage }.map { String(decoding: $0.1, as: UTF8.self) } }
        #expect(reasons.count == 1 && reasons.contains { $0.contains("RF-2") && $0.contains("only 2 invoiced and not yet credited") }, "\(reasons)")

        // The credit note's XML passes the EN 16931 judge; omsctl shows it; the archive chain holds all three documents.
        let xml: String = try database.query("SELECT xml FROM billing.documents WHERE type_code = '381'").first!.decode("xml")
        let verdict = try EInvoiceJudge.judge(xml)
        #expect(verdict.isEmpty, "\(verdict.prefix(5))")
        #expect(xml.contains("<ram:TypeCode>381</ram:TypeCode>") && xml.contains("<ram:IssuerAssignedID>\(first)</ram:IssuerAssignedID>"))
        let directory = NSTemporaryDirectory() + "oms-credit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let number = note.data["number"]?.stringValue ?? ""
        let show = try runOmsctl(["invoice", "show", number, "--pdf", directory + "/c.pdf"], environment: rig.environment())
        #expect(show.status == 0, "\(show.output)")
        let text = try runProgram("/usr/bin/pdftotext", [directory + "/c.pdf", "-"]).output
        #expect(text.contains("Rechnungskorrektur") && text.contains(first), "\(text.prefix(500))")
        let verify = try runOmsctl(["archive", "verify"], environment: rig.environment())
        #expect(verify.status == 0 && verify.output.contains("3 document(s)"), "\(verify.output)")

        // The month's accounting export: 19 % and 7 % of the first invoice, 19 % of the second, the credit note against 8400.
        let month = String(EventTime.format(Date()).prefix(7))
        let export = try runOmsctl(["billing", "export", "--period", month, "--format", "datev", "--output", directory + "/EXTF.csv"], environment: rig.environment())
        #expect(export.status == 0 && export.output.contains("3 document(s), 4 booking(s)"), "\(export.output)")
        let datev = String(decoding: try Data(contentsOf: URL(fileURLWithPath: directory + "/EXTF.csv")), as: UTF8.self)
        let rows = datev.components(separatedBy: "\r\n").dropFirst(2).filter { !$0.isEmpty }.map { $0.components(separatedBy: ";") }
        #expect(rows.map { "\($0[1]) \($0[7])" }.sorted() == ["\"H\" 8400", "\"S\" 8300", "\"S\" 8400", "\"S\" 8400"], "\(rows)")
        #expect(rows.contains { $0[0] == "204,85" && $0[1] == "\"H\"" })
        let csv = try runOmsctl(["billing", "export", "--period", month, "--format", "csv"], environment: rig.environment())
        let total = csv.output.split(separator: "\n").dropFirst().compactMap { line -> Double? in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return fields.count > 13 ? Double(fields[13]) : nil
        }.reduce(0, +)
        // Invoiced 199.90·2 + 14.90 + 4.95 + 199.90, corrected 199.90 + 4.95: 414.70 left.
        #expect(abs(total - 414.70) < 0.001, "\(csv.output)")
        let bad = try runOmsctl(["billing", "export", "--period", "2026-13"], environment: rig.environment())
        #expect(bad.status != 0 && bad.output.contains("YYYY-MM"), "\(bad.output)")
        // The order's documents for customer service: both invoices and the credit note naming the first.
        let list = try runOmsctl(["invoice", "list", "--order", "ORD-R1"], environment: rig.environment())
        let listed = list.output.split(separator: "\n").filter { $0.contains("ORD-R1") }
        #expect(list.status == 0 && listed.count == 3, "\(list.output)")
        #expect(listed.last?.contains("credit note (refers to \(first))") == true, "\(list.output)")
        let neither = try runOmsctl(["invoice", "list"], environment: rig.environment())
        #expect(neither.status != 0 && neither.output.contains("either --order ID or --customer ID"), "\(neither.output)")
    }

    @Test("on account: an invoiced order becomes a receivable Capture counts once; a bank payment settles it and frees the credit line")
    func receivablesReachCapture() throws {
        let run = String(UUID().uuidString.prefix(6))
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let capture = try rig.start("oms-capture", name: "capture-ledger")
        let billing = try rig.start("oms-billing", name: "billing-ledger", ["OMS_HOUSEKEEPING_SECONDS": "1"])
        defer {
            _ = capture.terminate(waitSeconds: 5)
            _ = billing.terminate(waitSeconds: 5)
        }
        let ledger = try TopicReader(broker: broker, topic: Topic.omsBilling)
        let customer = "CL-\(run)"
        let tent = CloudEvent(id: UUID().uuidString.lowercased(), source: "pim/berg-und-beutel", type: "Product.Changed", subject: "TENT-2P",
                              time: EventTime.format(Date()),
                              data: ["sku": "TENT-2P", "name": "Zelt 2P", "sellable": true, "taxClass": "standard",
                                     "groupPrices": [["group": "wholesale", "currency": "EUR", "unitPrice": 20_000]]])
        // Credit line 500.00 EUR; each order is 238.00: two fit, three do not.
        try producer.publish([
            BergUndBeutelOrders.message(BergUndBeutelOrders.businessCustomer(id: customer, creditLimit: 50_000, approvalLimit: 10_000_000)),
            OutgoingMessage(topic: Topic.catalogProducts, key: "TENT-2P", value: tent.serialized()),
        ])
        try eventually(timeout: 30, "replicas filled") {
            try database.query("SELECT (SELECT count(*) FROM capture.customers) + (SELECT count(*) FROM billing.products) AS n").first!.decode("n", as: Int.self) == 2
        }
        func order(_ name: String, _ index: Int) -> OutgoingMessage {
            BergUndBeutelOrders.message(BergUndBeutelOrders.business(CaptureChecksFlowTests.order("\(name)-\(run)", index) { data in
                data["lines"] = [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 20_000]]
                data["shippingCharge"] = 0
                data.set("payment", "amount", 20_000)
            }, customerID: customer))
        }
        func status(_ name: String) throws -> String? {
            try database.query("SELECT status FROM capture.orders WHERE order_id = \("\(name)-\(run)")").first?.decode("status")
        }
        try producer.publish([order("X1", 1)])
        try eventually(timeout: 30, "X1 decided") { try status("X1") != nil }
        let audit = try database.query("SELECT string_agg(action || ': ' || reason, ' | ') AS a FROM capture.audit_trail WHERE subject = \("X1-\(run)")").first?
            .decodeIfPresent("a", as: String.self)
        #expect(try status("X1") == "accepted", "\(audit ?? "")")
        try eventually(timeout: 30, "X1 replicated in Billing") {
            try database.query("SELECT count(*) AS n FROM billing.orders WHERE order_id = \("X1-\(run)")").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([BillingFlowTests.shipped("FO-X1-\(run)", order: "X1-\(run)", [("1", 1)])])
        let invoice = try #require(try ledger.events(ofType: "Invoice.Issued", atLeast: 1, timeout: 30).first)
        #expect(invoice.data["gross"]?.int64Value == 23_800)
        let invoiced = try #require(try ledger.events(ofType: "Order.Invoiced", atLeast: 1, timeout: 30).first)
        #expect(invoiced.data["complete"]?.boolValue == true && invoiced.data["invoicedGross"]?.int64Value == 23_800)
        let open = try #require(try ledger.events(ofType: "Receivables.Changed", atLeast: 1, timeout: 30).first)
        #expect(open.data["unpaidAmount"]?.int64Value == 23_800 && open.data["openInvoices"]?.int64Value == 1)
        try eventually(timeout: 30, "Capture counts the invoice, not the order") {
            let row = try database.query("""
                SELECT (SELECT invoiced_amount FROM capture.orders WHERE order_id = \("X1-\(run)")) AS invoiced,
                       (SELECT unpaid_amount FROM capture.receivables WHERE customer_id = \(customer)) AS unpaid
                """).first!
            return try row.decodeIfPresent("invoiced", as: Int64.self) == 23_800 && row.decodeIfPresent("unpaid", as: Int64.self) == 23_800
        }
        // X1 counts once (238.00 unpaid, no longer an open order): X2 fits (476.00 ≤ 500.00); counted twice it would not (714.00).
        try producer.publish([order("X2", 2)])
        try eventually(timeout: 30, "X2 accepted") { try status("X2") == "accepted" }

        // Past its due date: one reminder request for the customer, and the ledger says what is overdue.
        let notifications = try TopicReader(broker: broker, topic: Topic.omsNotifications)
        try database.query("UPDATE billing.receivables SET due_date = current_date - 1")
        let reminder = try #require(try notifications.events(ofType: "Customer.NotificationRequested", atLeast: 1, timeout: 30).first)
        #expect(reminder.data["template"]?.stringValue == "invoice-overdue")
        #expect(reminder.data["facts"]?["invoiceNumber"]?.stringValue == invoice.data["number"]?.stringValue)
        #expect(reminder.data["facts"]?["open"]?.int64Value == 23_800)
        let overdue = try ledger.events(ofType: "Receivables.Changed", atLeast: 2, timeout: 30)
        #expect(overdue.contains { $0.data["overdueAmount"]?.int64Value == 23_800 }, "\(overdue.map(\.data))")
        Thread.sleep(forTimeInterval: 2)
        #expect(try notifications.events(ofType: "Customer.NotificationRequested", atLeast: 1, timeout: 1).count == 1, "reminded once")

        // The bank statement: paid in full (and 10.00 more, kept as credit).
        let payment = CloudEvent(id: UUID().uuidString.lowercased(), source: "erp/berg-und-beutel", type: "Payment.Received", subject: customer,
                                 time: EventTime.format(Date()),
                                 data: ["paymentId": .string("BANK-\(run)"), "customerId": .string(customer), "amount": 24_800, "currency": "EUR",
                                        "invoiceNumber": .string(invoice.data["number"]?.stringValue ?? "")])
        try producer.publish([OutgoingMessage(topic: Topic.shopPayments, key: customer, value: payment.serialized()),
                              OutgoingMessage(topic: Topic.shopPayments, key: customer, value: payment.serialized())])
        try eventually(timeout: 30, "the invoice is settled and Capture knows") {
            let row = try database.query("""
                SELECT (SELECT open FROM billing.receivables) AS open,
                       (SELECT amount FROM billing.customer_credit WHERE customer_id = \(customer)) AS credit,
                       (SELECT unpaid_amount FROM capture.receivables WHERE customer_id = \(customer)) AS unpaid
                """).first!
            return try row.decodeIfPresent("open", as: Int64.self) == 0 && row.decodeIfPresent("credit", as: Int64.self) == 1_000
                && row.decodeIfPresent("unpaid", as: Int64.self) == 0
        }
        #expect(try database.query("SELECT count(*) AS n FROM billing.payments").first!.decode("n", as: Int.self) == 1, "the repeated payment is counted once")
        // Nothing unpaid, X2 open: X3 fits (476.00 ≤ 500.00); with X1 still unpaid it would not (714.00).
        try producer.publish([order("X3", 3)])
        try eventually(timeout: 30, "X3 accepted") { try status("X3") == "accepted" }
    }

    @Test("a discounted order paid partly by gift card, through Capture and Billing: the invoice shows the discounts per rate and the voucher paid")
    func discountsAndVoucherReachTheInvoice() throws {
        let run = String(UUID().uuidString.prefix(6))
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let capture = try rig.start("oms-capture", name: "capture-discount")
        let billing = try rig.start("oms-billing", name: "billing-discount")
        defer {
            _ = capture.terminate(waitSeconds: 5)
            _ = billing.terminate(waitSeconds: 5)
        }
        let documents = try TopicReader(broker: broker, topic: Topic.omsBilling)
        let tent = CloudEvent(id: UUID().uuidString.lowercased(), source: "pim/berg-und-beutel", type: "Product.Changed", subject: "TENT-2P",
                              time: EventTime.format(Date()), data: ["sku": "TENT-2P", "name": "Zelt 2P", "sellable": true, "taxClass": "standard"])
        let maps = CloudEvent(id: UUID().uuidString.lowercased(), source: "pim/berg-und-beutel", type: "Product.Changed", subject: "BOOK-MAPS",
                              time: EventTime.format(Date()), data: ["sku": "BOOK-MAPS", "name": "Wanderkarten", "sellable": true, "taxClass": "reduced"])
        try producer.publish([OutgoingMessage(topic: Topic.catalogProducts, key: "TENT-2P", value: tent.serialized()),
                              OutgoingMessage(topic: Topic.catalogProducts, key: "BOOK-MAPS", value: maps.serialized())])
        try eventually(timeout: 30, "catalog replicas") {
            try database.query("SELECT (SELECT count(*) FROM billing.products) + (SELECT count(*) FROM capture.products) AS n").first!.decode("n", as: Int.self) == 4
        }
        // 199.90 − 10 % (19.99) + 2 × 14.90 − order discount 10.00 + shipping 4.95 = 204.66: 154.66 by PayPal, 50.00 by gift card.
        let orderID = "DISC-\(run)"
        let created = CaptureChecksFlowTests.order(orderID, 1) { data in
            data["lines"] = [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 19_990, "discount": ["percentBasisPoints": 1_000, "code": "ZELT10"]],
                             ["lineId": "2", "sku": "BOOK-MAPS", "quantity": 2, "unitPrice": 1_490]]
            data["shippingCharge"] = 495
            data["discounts"] = [["amount": 1_000, "code": "HERBST", "reason": "Herbstaktion"]]
            data["payment"] = ["method": "paypal", "status": "authorized", "amount": 15_466, "vouchers": [["code": "GC-77", "amount": 5_000, "kind": "multi-purpose"]]]
        }
        try producer.publish([BergUndBeutelOrders.message(created)])
        try eventually(timeout: 30, "accepted by Capture and replicated in Billing") {
            try database.query("SELECT count(*) AS n FROM billing.orders WHERE order_id = \(orderID)").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([BillingFlowTests.shipped("FO-\(orderID)", order: orderID, [("1", 1), ("2", 2)])])
        let invoice = try #require(try documents.events(ofType: "Invoice.Issued", atLeast: 1, timeout: 30).first)
        #expect(invoice.data["gross"]?.int64Value == 20_466)
        #expect(invoice.data["prepaid"]?.int64Value == 5_000)
        #expect(EventContracts.dataSchemas["Invoice.Issued"]?.validate(invoice.data).isEmpty == true, "\(invoice.data)")
        let xml: String = try database.query("SELECT xml FROM billing.documents").first!.decode("xml")
        let verdict = try EInvoiceJudge.judge(xml)
        #expect(verdict.isEmpty, "\(verdict.prefix(5))")
        #expect(xml.contains("<ram:TotalPrepaidAmount>50.00</ram:TotalPrepaidAmount>") && xml.contains("<ram:DuePayableAmount>154.66</ram:DuePayableAmount>"))
        #expect(xml.contains("HERBST Herbstaktion") && xml.contains("ZELT10"))
    }
}
