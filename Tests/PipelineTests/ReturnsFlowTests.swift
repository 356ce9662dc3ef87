import Foundation
import Shared
import Testing

/// Returns end to end: real oms-returns, oms-billing and oms-router processes, PostgreSQL and broker.
@Suite("Returns end to end", .serialized)
struct ReturnsFlowTests {
    /// Order.Accepted as Capture sends it, with the e-mail the portal looks the order up by and an order discount.
    static func accepted(_ id: String, lines: [(sku: String, quantity: Int64, price: Int64)], shipping: Int64 = 495, discount: Int64 = 0,
                         customerType: String = "b2c", email: String = "lena@example.org", personalizedLine: Int? = nil) -> OutgoingMessage {
        var billing: [String: JSONValue] = [
            "pricesIncludeTax": true, "shippingCharge": .integer(shipping),
            "billTo": ["name": "Lena Müller", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"],
        ]
        if discount > 0 { billing["discounts"] = [["amount": .integer(discount), "code": "HERBST10"]] }
        let goods = lines.reduce(Int64(0)) { $0 + $1.quantity * $1.price }
        let data: [String: JSONValue] = [
            "orderId": .string(id), "customerId": "C-7", "customerType": .string(customerType), "currency": "EUR",
            "total": .integer(goods + shipping - discount), "acceptedAt": .string(EventTime.format(Date())), "shippingCountry": "DE",
            "shippingMethod": "standard", "payment": ["method": "paypal", "reference": .string("PAY-\(id)")], "salesChannel": "shop/berg-und-beutel",
            "shipTo": ["name": "Lena Müller", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE", "email": .string(email)],
            "billing": .object(billing),
            "lines": .array(lines.enumerated().map { index, line in
                var v: [String: JSONValue] = ["lineId": .string(String(index + 1)), "sku": .string(line.sku), "quantity": .integer(line.quantity),
                                              "unitPrice": .integer(line.price)]
                if personalizedLine == index + 1 { v["personalization"] = ["engraving": "Für Lena"] }
                return .object(v)
            }),
        ]
        return RouterFixtures.message(Topic.omsOrders, key: id, type: "Order.Accepted", source: "oms/capture", data: .object(data))
    }

    static func shipped(_ fo: String, order: String, warehouse: String = "A", _ lines: [(lineID: String, sku: String, quantity: Int64)],
                        at: Date = Date()) -> OutgoingMessage {
        RouterFixtures.message(Topic.omsShipments, key: order, type: "Shipment.Shipped", source: "oms/fulfillment", data: [
            "fulfillmentOrderId": .string(fo), "orderId": .string(order), "warehouseId": .string(warehouse), "shippedAt": .string(EventTime.format(at)),
            "parcels": [["trackingNumber": .string("T-\(fo)"), "carrier": "DHL"]],
            "lines": .array(lines.map { ["lineId": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity)] }),
        ])
    }

    static func request(_ id: String, order: String, _ lines: [(String, Int64, String)], channel: String = "customer-service") -> OutgoingMessage {
        RouterFixtures.message(Topic.returnsRequests, key: order, type: "Return.Requested", source: "omsctl", data: [
            "requestId": .string(id), "orderId": .string(order), "channel": .string(channel), "requestedBy": "anna",
            "lines": .array(lines.map { ["lineId": .string($0.0), "quantity": .integer($0.1), "reason": .string($0.2)] }),
        ])
    }

    static func received(_ rma: String, order: String, warehouse: String = "A", _ lines: [(String, Int64, String)]) -> OutgoingMessage {
        RouterFixtures.message(Topic.warehouseEvents, key: order, type: "Return.Received", source: "wms/berg-und-beutel", data: [
            "rma": .string(rma), "warehouseId": .string(warehouse), "receivedAt": .string(EventTime.format(Date())),
            "lines": .array(lines.map { ["lineId": .string($0.0), "quantity": .integer($0.1), "grade": .string($0.2), "notes": "geprüft"] }),
        ])
    }

    static func onHand(_ database: PostgresConnection, _ sku: String, _ warehouse: String = "A") throws -> Int64? {
        try database.query("SELECT on_hand FROM router.stock WHERE sku = \(sku) AND warehouse_id = \(warehouse)").first?.decode("on_hand", as: Int64.self)
    }

    @Test("shipped order → request → Return.Authorized → received (grade A restock, grade C scrap) → stock back in the Router → credit note")
    func wholeFlow() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let returns = try rig.start("oms-returns", name: "returns-flow")
        defer { _ = returns.terminate(waitSeconds: 5) }
        let billing = try rig.start("oms-billing", name: "returns-billing")
        defer { _ = billing.terminate(waitSeconds: 5) }
        let router = try rig.start("oms-router", name: "returns-router")
        defer { _ = router.terminate(waitSeconds: 5) }
        let decisions = try TopicReader(broker: broker, topic: Topic.omsReturns)
        let documents = try TopicReader(broker: broker, topic: Topic.omsBilling)
        let notifications = try TopicReader(broker: broker, topic: Topic.omsNotifications)
        let dlq = try TopicReader(broker: broker, topic: Topic.omsDLQ)

        try producer.publish([
            RouterFixtures.product("TENT-2P", ["name": "Zelt Gipfel 2P"]), RouterFixtures.product("STOVE-GAS", ["name": "Gaskocher"]),
            RouterFixtures.product("SOAP", ["name": "Seife", "category": "hygiene"]),
            RouterFixtures.stock("A", sequence: 10, [("TENT-2P", 5), ("STOVE-GAS", 5), ("SOAP", 5)]),
        ])
        try eventually(timeout: 30, "replicas") {
            try database.query("SELECT count(*) AS n FROM returns.products").first!.decode("n", as: Int.self) == 3
                && (try Self.onHand(database, "TENT-2P")) == 5
        }
        // 199.90 + 2 × 29.95 + 3.50 of goods, 10.00 off the order, 4.95 shipping.
        try producer.publish([Self.accepted("RT-1", lines: [("TENT-2P", 1, 19_990), ("STOVE-GAS", 2, 2_995), ("SOAP", 1, 350)], discount: 1000)])
        try eventually(timeout: 30, "order replicated") {
            try database.query("SELECT count(*) AS n FROM returns.orders").first!.decode("n", as: Int.self) == 1
                && (try database.query("SELECT count(*) AS n FROM billing.orders").first!.decode("n", as: Int.self)) == 1
        }
        try producer.publish([Self.shipped("FO-RT-1", order: "RT-1", [("1", "TENT-2P", 1), ("2", "STOVE-GAS", 2), ("3", "SOAP", 1)])])
        _ = try documents.events(ofType: "Invoice.Issued", atLeast: 1, timeout: 30)
        try eventually(timeout: 30, "shipment replicated") {
            try database.query("SELECT count(*) AS n FROM returns.shipments").first!.decode("n", as: Int.self) == 1
        }

        // The soap is a hygiene article: refused with the reason; then the tent and one stove, submitted twice (one return).
        try producer.publish([Self.request("REQ-0", order: "RT-1", [("3", 1, "changed-mind")])])
        let rejected = try decisions.events(ofType: "Return.Rejected", atLeast: 1, timeout: 30)
        #expect(rejected.first?.data["reasons"]?.arrayValue?.first?["code"]?.stringValue == "category-hygiene")
        let again = Self.request("REQ-1", order: "RT-1", [("1", 1, "changed-mind"), ("2", 1, "changed-mind")])
        let againID = try #require(try JSONParser.parse(again.value)["id"]?.stringValue)
        try producer.publish([Self.request("REQ-1", order: "RT-1", [("1", 1, "changed-mind"), ("2", 1, "changed-mind")]), again])
        let authorized = try decisions.events(ofType: "Return.Authorized", atLeast: 1, timeout: 30)
        let rma = try #require(authorized.first?.data["rma"]?.stringValue)
        #expect(rma.hasPrefix("R-"))
        #expect(authorized.first?.data["label"]?["sscc"]?.stringValue?.count == 18)
        try eventually(timeout: 30, "the second submit handled") {
            try database.query("SELECT 1 FROM returns.processed_messages WHERE idempotency_key = \(againID)").first != nil
        }
        #expect(try database.query("SELECT count(*) AS n FROM returns.returns WHERE status <> 'rejected'").first!.decode("n", as: Int.self) == 1,
                "a double submit is one return")
        // The label is a real PDF naming the RMA.
        let pdf: Data = try database.query("SELECT label_pdf FROM returns.returns WHERE rma = \(rma)").first!.decode("label_pdf")
        let path = NSTemporaryDirectory() + "return-label-\(UUID().uuidString.prefix(8)).pdf"
        try pdf.write(to: URL(fileURLWithPath: path))
        #expect(try runProgram("/usr/bin/qpdf", ["--check", path]).status == 0)
        let text = try runProgram("/usr/bin/pdftotext", ["-layout", path, "-"]).output
        #expect(text.contains(rma) && text.contains("Retourenannahme") && text.contains("Lena Müller"), "\(text)")

        // The tent as new (restock), the stove damaged (scrap).
        let before = try #require(try Self.onHand(database, "TENT-2P"))
        try producer.publish([Self.received(rma, order: "RT-1", [("1", 1, "A"), ("2", 1, "C")])])
        let inspected = try decisions.events(ofType: "Return.Inspected", atLeast: 1, timeout: 30)
        let lines = inspected.first?.data["lines"]?.arrayValue ?? []
        #expect(lines.map { $0["disposition"]?.stringValue } == ["restock", "scrap"])
        #expect(lines.map { $0["rule"]?.stringValue } == ["as new: sellable again", "damaged beyond sale"])
        let stock = try decisions.events(ofType: "Stock.Returned", atLeast: 1, timeout: 30)
        #expect(stock.first?.data["items"]?.arrayValue?.map { $0["sku"]?.stringValue } == ["TENT-2P"])
        try eventually(timeout: 30, "the tent back on hand in the Router") { (try Self.onHand(database, "TENT-2P")) == before + 1 }
        #expect(try Self.onHand(database, "STOVE-GAS") == 5, "scrapped units are not stock")

        // Refund: tent 199.90 less its share of the 10.00 discount (⌈10.00 × 199.90 / 263.30⌉ = 7.60) = 192.30;
        // the stove at grade C: half of (29.95 − ⌈10.00 × 29.95 / 263.30⌉ = 1.14) = 14.40.
        let approved = try decisions.events(ofType: "Refund.Approved", atLeast: 1, timeout: 30)
        #expect(approved.first?.data["lines"]?.arrayValue?.map { $0["amount"]?.int64Value } == [19_230, 1_440])
        #expect(approved.first?.data["shippingAmount"] == nil, "not the whole order, not the shop's fault")
        let requested = try decisions.events(ofType: "Refund.Requested", atLeast: 1, timeout: 30)
        #expect(requested.first?.data["amount"]?.int64Value == 20_670)
        #expect(requested.first?.data["paymentReference"]?.stringValue == "PAY-RT-1")
        let notes = try documents.events(ofType: "CreditNote.Issued", atLeast: 1, timeout: 30)
        #expect(notes.first?.data["gross"]?.int64Value == 20_670)
        #expect(notes.first?.data["refundId"]?.stringValue == "\(rma)/1")
        for event in rejected + authorized + inspected + stock + approved + requested {
            #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true, "\(event.type): \(event.data)")
        }
        let templates = try notifications.events(ofType: "Customer.NotificationRequested", atLeast: 3, timeout: 30).compactMap { $0.data["template"]?.stringValue }
        #expect(Set(templates).isSuperset(of: ["return-rejected", "return-authorized", "refund-approved"]), "\(templates)")

        // The WMS's next count includes the returned tent: it replaces the figure, nothing is counted twice.
        try producer.publish([RouterFixtures.stock("A", sequence: 11, [("TENT-2P", 6)])])
        try eventually(timeout: 30, "the absolute count wins") { (try Self.onHand(database, "TENT-2P")) == 6 }

        // A second receipt of the same RMA is refused with the reason, nothing refunded twice.
        try producer.publish([Self.received(rma, order: "RT-1", [("1", 1, "A")])])
        dlq.read(atLeast: 1, timeout: 30)
        let reasons = dlq.messages.flatMap { $0.headers.filter { $0.0 == DeadLetterHeader.errorMessage }.map { String(decoding: $0.1, as: UTF8.self) } }
        #expect(reasons.contains { $0.contains(rma) && $0.contains("only an authorized return can be received") }, "\(reasons)")
        #expect(try database.query("SELECT count(*) AS n FROM returns.refunds").first!.decode("n", as: Int.self) == 1)
    }

    @Test("a held return authorized by customer service, B-stock with the shipping back; a line waiting for a technician decided by a person, audited")
    func manualDecisions() throws {
        let rig = try PipelineRig(partitions: 1)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let httpPort = try TestPostgresCluster.freePort()
        let returns = try rig.start("oms-returns", name: "returns-manual", ["OMS_HTTP_PORT": String(httpPort)])
        defer { _ = returns.terminate(waitSeconds: 5) }
        let decisions = try TopicReader(broker: broker, topic: Topic.omsReturns)
        try producer.publish([RouterFixtures.product("TENT-2P", ["name": "Zelt"]),
                              Self.accepted("RT-2", lines: [("TENT-2P", 2, 19_990)]),
                              Self.shipped("FO-RT-2", order: "RT-2", [("1", "TENT-2P", 2)])])
        try eventually(timeout: 30, "replicas") {
            try database.query("SELECT count(*) AS n FROM returns.shipments").first!.decode("n", as: Int.self) == 1
        }
        // "other" is held for customer service.
        try producer.publish([Self.request("REQ-2", order: "RT-2", [("1", 2, "other")])])
        let held = try decisions.events(ofType: "Return.Held", atLeast: 1, timeout: 30)
        let rma = try #require(held.first?.data["rma"]?.stringValue)
        try producer.publish([RouterFixtures.message(Topic.returnsRequests, key: "RT-2", type: "Return.Decided", source: "omsctl", data: [
            "rma": .string(rma), "decidedBy": "anna", "reason": "Kunde hat angerufen", "authorize": true,
        ])])
        let authorized = try decisions.events(ofType: "Return.Authorized", atLeast: 1, timeout: 30)
        #expect(authorized.first?.data["authorizedBy"]?.stringValue == "anna")
        // Grade B of a tent: B-stock (TENT-2P-B) per the table; grade X is not a grade.
        try producer.publish([Self.received(rma, order: "RT-2", [("1", 2, "B")])])
        let inspected = try decisions.events(ofType: "Return.Inspected", atLeast: 1, timeout: 30)
        #expect(inspected.first?.data["lines"]?.arrayValue?.first?["disposition"]?.stringValue == "refurbish")
        #expect(inspected.first?.data["lines"]?.arrayValue?.first?["stockSku"]?.stringValue == "TENT-2P-B")
        let stock = try decisions.events(ofType: "Stock.Returned", atLeast: 1, timeout: 30)
        #expect(stock.first?.data["items"]?.arrayValue?.first?["sku"]?.stringValue == "TENT-2P-B")
        // Both tents back: the whole order, so the shipping is refunded too.
        let approved = try decisions.events(ofType: "Refund.Approved", atLeast: 1, timeout: 30)
        #expect(approved.first?.data["shippingAmount"]?.int64Value == 495)
        #expect(approved.first?.data["lines"]?.arrayValue?.first?["amount"]?.int64Value == 39_980)

        // A claimed defect with damage waits for a technician; customer service decides scrap with a full refund.
        try producer.publish([Self.accepted("RT-3", lines: [("TENT-2P", 1, 19_990)]), Self.shipped("FO-RT-3", order: "RT-3", [("1", "TENT-2P", 1)])])
        try eventually(timeout: 30, "second order") {
            try database.query("SELECT count(*) AS n FROM returns.shipments").first!.decode("n", as: Int.self) == 2
        }
        // Customer service asks through omsctl (the portal's path); a malformed line is refused before anything is sent.
        let environment = rig.environment()
        let bad = try runOmsctl(["return", "request", "RT-3", "--line", "1:x:defective"], environment: environment)
        #expect(bad.status != 0 && bad.output.contains("--line must be LINE:QUANTITY:REASON"), "\(bad.output)")
        let asked = try runOmsctl(["return", "request", "RT-3", "--line", "1:1:defective", "--by", "tom"], environment: environment)
        #expect(asked.status == 0 && asked.output.contains("authorized"), "\(asked.output)")
        let second = try decisions.events(ofType: "Return.Authorized", atLeast: 2, timeout: 30)
        let rma3 = try #require(second.compactMap { $0.data["rma"]?.stringValue }.first { $0 != rma })
        #expect(asked.output.contains(rma3))
        try producer.publish([Self.received(rma3, order: "RT-3", [("1", 1, "C")])])
        try eventually(timeout: 30, "waiting for a person") {
            try database.query("SELECT status FROM returns.returns WHERE rma = \(rma3)").first?.decode("status", as: String.self) == "awaiting-decision"
        }
        let open = try runOmsctl(["return", "list", "--open"], environment: environment)
        #expect(open.output.contains("\(rma3)  RT-3  awaiting-decision"), "\(open.output)")
        let wrong = try runOmsctl(["return", "decide", String(rma3.dropLast()) + (rma3.last == "0" ? "1" : "0"), "--line", "1:scrap", "--reason", "x"],
                                  environment: environment)
        #expect(wrong.status != 0 && wrong.output.contains("is not an RMA number"), "\(wrong.output)")
        let decided = try runOmsctl(["return", "decide", rma3.lowercased(), "--line", "1:scrap:10000", "--reason", "Stange gebrochen, Garantiefall", "--by", "tom"],
                                    environment: environment)
        #expect(decided.status == 0 && decided.output.contains("\(rma3) is now completed"), "\(decided.output)")
        let refunds = try decisions.events(ofType: "Refund.Approved", atLeast: 2, timeout: 30)
        let manual = try #require(refunds.first { $0.data["returnId"]?.stringValue == rma3 })
        // The shop was at fault (defective): the price in full and the shipping.
        #expect(manual.data["lines"]?.arrayValue?.first?["amount"]?.int64Value == 19_990)
        #expect(manual.data["shippingAmount"]?.int64Value == 495)
        let audit = try database.query("SELECT action, actor, reason FROM returns.audit_trail ORDER BY id").map {
            "\(try $0.decode("action", as: String.self)) \(try $0.decode("actor", as: String.self))"
        }
        #expect(audit.contains("Return.Authorized customer-service:anna"), "\(audit)")
        #expect(audit.contains("Return.Decided customer-service:tom"), "\(audit)")
        let shown = try runOmsctl(["return", "show", rma3], environment: environment)
        #expect(shown.output.contains("status: completed") && shown.output.contains("→ scrap [manual: Stange gebrochen, Garantiefall] by customer-service:tom"),
                "\(shown.output)")
        #expect(shown.output.contains("Refund \(rma3)/1: 204.85 EUR (shipping 4.95 EUR)"), "\(shown.output)")
        // The worker's operations endpoint, served from its own process.
        let health = try runProgram("/usr/bin/curl", ["-s", "http://127.0.0.1:\(httpPort)/healthz"], separateErrors: true).output
        #expect((try? JSONParser.parse(Array(health.utf8)))?["status"]?.stringValue == "ok", "\(health)")
        let metrics = try runProgram("/usr/bin/curl", ["-s", "http://127.0.0.1:\(httpPort)/metrics"], separateErrors: true).output
        #expect(metrics.contains("oms_messages_processed_total") && metrics.contains("stage=\"returns\""), "\(metrics.prefix(300))")
    }
}
