import Foundation
import Shared
import Testing

/// Invoicing modes end to end: the month's collective invoice per B2B customer, one invoice when the order is complete.
@Suite("Billing collective invoices and invoicing when complete", .serialized)
struct BillingCollectiveFlowTests {
    static let monthly: JSONValue = ["code": "NET30-MONTHLY", "netDays": 30]

    @Test("a B2B customer's month → one collective invoice naming each delivery; re-running the month issues nothing; a refund corrects it")
    func collectiveInvoice() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let billing = try rig.start("oms-billing", name: "billing-collective", ["OMS_HOUSEKEEPING_SECONDS": "1"])
        defer { _ = billing.terminate(waitSeconds: 5) }
        let documents = try TopicReader(broker: broker, topic: Topic.omsBilling)
        try producer.publish([
            RouterFixtures.product("TENT-2P", ["taxClass": "standard", "name": "Zelt Gipfel 2P"]),
            RouterFixtures.product("BOOK-MAPS", ["taxClass": "reduced", "name": "Wanderkarten"]),
        ])
        try eventually(timeout: 30, "catalog replica") {
            try database.query("SELECT count(*) AS n FROM billing.products").first!.decode("n", as: Int.self) == 2
        }
        let customer = "CB-MONTH"
        try producer.publish([
            BillingFlowTests.accepted("ORD-M1", customerType: "b2b", lines: [("TENT-2P", 3, 15_000), ("BOOK-MAPS", 2, 1_200)], shipping: 900, gross: false,
                                      customerID: customer, paymentTerms: Self.monthly),
            BillingFlowTests.accepted("ORD-M2", customerType: "b2b", lines: [("TENT-2P", 1, 15_000)], shipping: 900, gross: false,
                                      customerID: customer, paymentTerms: Self.monthly),
        ])
        try eventually(timeout: 30, "orders replicated") {
            try database.query("SELECT count(*) AS n FROM billing.orders").first!.decode("n", as: Int.self) == 2
        }
        try producer.publish([
            BillingFlowTests.shipped("FO-M1-1", order: "ORD-M1", [("1", 2), ("2", 2)]),
            BillingFlowTests.shipped("FO-M1-2", order: "ORD-M1", [("1", 1)]),
            BillingFlowTests.shipped("FO-M2-1", order: "ORD-M2", [("1", 1)]),
        ])
        try eventually(timeout: 30, "three deliveries collected") {
            try database.query("SELECT count(*) AS n FROM billing.deliveries WHERE invoice_number IS NULL").first!.decode("n", as: Int.self) == 3
        }
        #expect(try database.query("SELECT count(*) AS n FROM billing.documents").first!.decode("n", as: Int.self) == 0, "no invoice per shipment")

        let month = String(EventTime.format(Date()).prefix(7))
        let run = try runOmsctl(["billing", "run-collective", "--month", month, "--by", "Petra Buchhaltung"], environment: rig.environment())
        #expect(run.status == 0 && run.output.contains("1 invoice(s)") && run.output.contains("3 deliveries"), "\(run.output)")
        let issued = try documents.events(ofType: "CollectiveInvoice.Issued", atLeast: 1, timeout: 30)
        #expect(issued.count == 1)
        let invoice = try #require(issued.first)
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let number = try #require(invoice.data["number"]?.stringValue)
        #expect(number == String(format: "SR-%d-000001", year))
        // Net prices: 3×150.00 + 2×12.00 + 150.00, shipping 9.00 twice (once per order); 19 % and 7 %.
        #expect(invoice.data["net"]?.int64Value == Int64(45_000 + 2_400 + 15_000 + 1_800))
        #expect(Set(invoice.data["fulfillmentOrderIds"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["FO-M1-1", "FO-M1-2", "FO-M2-1"])
        #expect(Set(invoice.data["orderIds"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["ORD-M1", "ORD-M2"])
        #expect(invoice.data["period"]?["from"]?.stringValue == "\(month)-01")
        let xml: String = try database.query("SELECT xml FROM billing.documents WHERE number = \(number)").first!.decode("xml")
        let verdict = try EInvoiceJudge.judge(xml)
        #expect(verdict.isEmpty, "\(verdict.prefix(5))")
        #expect(xml.contains("Lieferschein FO-M1-2 vom") && xml.contains("<ram:BillingSpecifiedPeriod>"))
        // Both orders are invoiced completely (Order.Invoiced for each, their parts adding up to the total).
        let invoiced = try documents.events(ofType: "Order.Invoiced", atLeast: 2, timeout: 30)
        #expect(Set(invoiced.filter { $0.data["complete"]?.boolValue == true }.compactMap { $0.data["orderId"]?.stringValue }) == ["ORD-M1", "ORD-M2"])
        #expect(invoiced.compactMap { $0.data["invoicedGross"]?.int64Value }.reduce(0, +) == invoice.data["gross"]?.int64Value)

        // Re-running the month issues nothing twice.
        let again = try runOmsctl(["billing", "run-collective", "--month", month], environment: rig.environment())
        #expect(again.status == 0 && again.output.contains("nothing collected to invoice"), "\(again.output)")
        #expect(try database.query("SELECT count(*) AS n FROM billing.documents").first!.decode("n", as: Int.self) == 1)
        let bad = try runOmsctl(["billing", "run-collective", "--month", "November"], environment: rig.environment())
        #expect(bad.status != 0 && bad.output.contains("YYYY-MM"))

        // A tent of the second order comes back: the credit note corrects the collective invoice.
        try producer.publish([BillingLedgerFlowTests.refund("RF-M2", order: "ORD-M2", lines: [("1", 1, 15_000)])])
        let note = try #require(try documents.events(ofType: "CreditNote.Issued", atLeast: 1, timeout: 30).first)
        #expect(note.data["precedingInvoice"]?.stringValue == number)
        #expect(note.data["net"]?.int64Value == 15_000)
        let verify = try runOmsctl(["archive", "verify"], environment: rig.environment())
        #expect(verify.status == 0 && verify.output.contains("2 document(s)"), "\(verify.output)")
        // What Billing published matches its contracts.
        let receivables = try documents.events(ofType: "Receivables.Changed", atLeast: 1, timeout: 10)
        for event in issued + invoiced + [note] + receivables {
            #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true, "\(event.type): \(event.data)")
        }
    }

    @Test("an order invoiced when complete: the first partial shipment waits, the second brings one invoice over both")
    func invoiceWhenComplete() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let billing = try rig.start("oms-billing", name: "billing-complete")
        defer { _ = billing.terminate(waitSeconds: 5) }
        let documents = try TopicReader(broker: broker, topic: Topic.omsBilling)
        try producer.publish([RouterFixtures.product("TENT-2P", ["taxClass": "standard", "name": "Zelt Gipfel 2P"])])
        try eventually(timeout: 30, "catalog replica") {
            try database.query("SELECT count(*) AS n FROM billing.products").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([BillingFlowTests.accepted("ORD-W1", lines: [("TENT-2P", 3, 19_990)], paymentTerms: ["code": "ON-COMPLETION", "netDays": 14])])
        try eventually(timeout: 30, "order replicated") {
            try database.query("SELECT count(*) AS n FROM billing.orders").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([BillingFlowTests.shipped("FO-W1-1", order: "ORD-W1", [("1", 2)])])
        try eventually(timeout: 30, "first delivery recorded") {
            try database.query("SELECT count(*) AS n FROM billing.deliveries").first!.decode("n", as: Int.self) == 1
        }
        Thread.sleep(forTimeInterval: 1)
        #expect(try database.query("SELECT count(*) AS n FROM billing.documents").first!.decode("n", as: Int.self) == 0)
        try producer.publish([BillingFlowTests.shipped("FO-W1-2", order: "ORD-W1", [("1", 1)])])
        let invoice = try #require(try documents.events(ofType: "Invoice.Issued", atLeast: 1, timeout: 30).first)
        #expect(invoice.data["gross"]?.int64Value == Int64(3 * 19_990 + 495))
        #expect(Set(invoice.data["fulfillmentOrderIds"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["FO-W1-1", "FO-W1-2"])
        #expect(try database.query("SELECT count(*) AS n FROM billing.deliveries WHERE invoice_number IS NULL").first!.decode("n", as: Int.self) == 0)
        let verdict = try EInvoiceJudge.judge(try database.query("SELECT xml FROM billing.documents").first!.decode("xml"))
        #expect(verdict.isEmpty, "\(verdict.prefix(5))")
    }

    @Test("an order with assembly: a 30 % deposit invoice when accepted, the shipment waits, Service.Completed → the final invoice deducting the deposit and its VAT")
    func depositAndFinalInvoice() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let billing = try rig.start("oms-billing", name: "billing-deposit")
        defer { _ = billing.terminate(waitSeconds: 5) }
        let documents = try TopicReader(broker: broker, topic: Topic.omsBilling)
        try producer.publish([
            RouterFixtures.product("SAUNA-BARREL", ["taxClass": "standard", "name": "Fasssauna"]),
            RouterFixtures.product("SAUNA-ASSEMBLY", ["taxClass": "standard", "name": "Aufbau Fasssauna", "serviceSkill": "assembly"]),
        ])
        try eventually(timeout: 30, "catalog replica") {
            try database.query("SELECT count(*) AS n FROM billing.products").first!.decode("n", as: Int.self) == 2
        }
        try producer.publish([BillingFlowTests.accepted("ORD-S1", lines: [("SAUNA-BARREL", 1, 499_000), ("SAUNA-ASSEMBLY", 1, 59_000)], shipping: 9_900,
                                                        paymentTerms: ["code": "NET14", "netDays": 14])])
        let deposit = try #require(try documents.events(ofType: "DepositInvoice.Issued", atLeast: 1, timeout: 30).first)
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let depositNumber = try #require(deposit.data["number"]?.stringValue)
        #expect(depositNumber == String(format: "AR-%d-000001", year))
        #expect(deposit.data["typeCode"]?.stringValue == "386")
        // 30 % of 4,990.00 + 590.00 gross, no shipping: 1,674.00.
        #expect(deposit.data["gross"]?.int64Value == 167_400)

        try producer.publish([BillingFlowTests.shipped("FO-S1-1", order: "ORD-S1", [("1", 1)])])
        try eventually(timeout: 30, "the shipment recorded") {
            try database.query("SELECT count(*) AS n FROM billing.deliveries WHERE order_id = 'ORD-S1'").first!.decode("n", as: Int.self) == 1
        }
        #expect(try database.query("SELECT count(*) AS n FROM billing.documents WHERE type_code = '380'").first!.decode("n", as: Int.self) == 0,
                "no invoice before the service is done")
        try producer.publish([RouterFixtures.message(Topic.warehouseEvents, key: "ORD-S1", type: "Service.Completed", source: "techs/berg-und-beutel",
                                                     data: ["orderId": "ORD-S1", "completedAt": .string(EventTime.format(Date())), "technicianId": "T-3"])])
        let final = try #require(try documents.events(ofType: "Invoice.Issued", atLeast: 1, timeout: 30).first)
        #expect(final.data["gross"]?.int64Value == Int64(499_000 + 59_000 + 9_900))
        #expect(final.data["prepaid"]?.int64Value == 167_400)
        #expect(final.data["precedingInvoice"]?.stringValue == depositNumber)
        for number in [depositNumber, final.data["number"]?.stringValue ?? ""] {
            let xml: String = try database.query("SELECT xml FROM billing.documents WHERE number = \(number)").first!.decode("xml")
            let verdict = try EInvoiceJudge.judge(xml)
            #expect(verdict.isEmpty, "\(number): \(verdict.prefix(5))")
        }
        let finalXML: String = try database.query("SELECT xml FROM billing.documents WHERE type_code = '380'").first!.decode("xml")
        // The deposit's net and VAT are named: 1,674.00 gross at 19 % = 1,406.72 net + 267.28 VAT.
        #expect(finalXML.contains("Abzüglich Anzahlung \(depositNumber)") && finalXML.contains("netto 1,406.72 EUR, USt 267.28 EUR"),
                "\(finalXML.components(separatedBy: "<ram:IncludedNote>").dropFirst().prefix(3))")
        #expect(finalXML.contains("<ram:TotalPrepaidAmount>1674.00</ram:TotalPrepaidAmount>") && finalXML.contains("<ram:DuePayableAmount>4005.00</ram:DuePayableAmount>"))
        // Only what is left is open: 5,679.00 − 1,674.00 (the deposit is a receivable of its own).
        let open = try database.query("SELECT number, open FROM billing.receivables ORDER BY number").map { (try $0.decode("number", as: String.self), try $0.decode("open", as: Int64.self)) }
        #expect(open.map(\.1) == [167_400, 400_500], "\(open)")
        // Capture's credit check hears how much of the order is invoiced: the deposit (not complete; before, nothing — the deposit
        // counted twice, as open order and as receivable), then all of it once the final invoice is issued.
        let invoiced = try documents.events(ofType: "Order.Invoiced", atLeast: 2, timeout: 30).filter { $0.data["orderId"]?.stringValue == "ORD-S1" }
        #expect(invoiced.map { $0.data["invoicedGross"]?.int64Value } == [167_400, Int64(499_000 + 59_000 + 9_900)], "\(invoiced.map(\.data))")
        #expect(invoiced.map { $0.data["complete"]?.boolValue } == [false, true])
        // A second Service.Completed issues nothing.
        try producer.publish([RouterFixtures.message(Topic.warehouseEvents, key: "ORD-S1", type: "Service.Completed", source: "techs/berg-und-beutel",
                                                     data: ["orderId": "ORD-S1", "completedAt": .string(EventTime.format(Date()))])])
        Thread.sleep(forTimeInterval: 2)
        #expect(try database.query("SELECT count(*) AS n FROM billing.documents").first!.decode("n", as: Int.self) == 2)
        for event in [deposit, final] { #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true, "\(event.type)") }

        // Another assembly order is cancelled after its deposit invoice: the deposit is corrected in full, and no final invoice follows.
        try producer.publish([BillingFlowTests.accepted("ORD-S2", lines: [("SAUNA-BARREL", 1, 499_000), ("SAUNA-ASSEMBLY", 1, 59_000)], shipping: 9_900,
                                                        paymentTerms: ["code": "NET14", "netDays": 14])])
        let secondDeposit = try #require(try documents.events(ofType: "DepositInvoice.Issued", atLeast: 2, timeout: 30).first { $0.data["orderId"]?.stringValue == "ORD-S2" })
        try producer.publish([RouterFixtures.message(Topic.omsOrders, key: "ORD-S2", type: "Order.Cancelled", source: "oms/router",
                                                     data: ["orderId": "ORD-S2", "reason": "Kunde storniert", "at": .string(EventTime.format(Date()))])])
        let storno = try #require(try documents.events(ofType: "CreditNote.Issued", atLeast: 1, timeout: 30).first)
        #expect(storno.data["precedingInvoice"]?.stringValue == secondDeposit.data["number"]?.stringValue)
        #expect(storno.data["gross"]?.int64Value == secondDeposit.data["gross"]?.int64Value)
        #expect(EventContracts.dataSchemas["CreditNote.Issued"]?.validate(storno.data).isEmpty == true, "\(storno.data)")
        let stornoXML: String = try database.query("SELECT xml FROM billing.documents WHERE type_code = '381'").first!.decode("xml")
        #expect(try EInvoiceJudge.judge(stornoXML).isEmpty)
        try producer.publish([RouterFixtures.message(Topic.warehouseEvents, key: "ORD-S2", type: "Service.Completed", source: "techs/berg-und-beutel",
                                                     data: ["orderId": "ORD-S2", "completedAt": .string(EventTime.format(Date()))])])
        Thread.sleep(forTimeInterval: 2)
        #expect(try database.query("SELECT count(*) AS n FROM billing.documents WHERE order_id = 'ORD-S2'").first!.decode("n", as: Int.self) == 2,
                "deposit and its correction, no final invoice")
        let depositOpen = try database.query("SELECT open FROM billing.receivables WHERE number = \(secondDeposit.data["number"]?.stringValue ?? "")").first?
            .decode("open", as: Int64.self)
        #expect(depositOpen == 0, "the correction cleared the deposit's receivable")
    }
}
