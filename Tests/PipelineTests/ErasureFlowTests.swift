import Foundation
import Shared
import Testing

/// One order through every stage as separate processes (Capture, Router, Fulfillment with a simulated WMS and carrier,
/// Billing, Returns, the notifier, alerting): its timeline across all stages; then the customer's erasure (GDPR Art. 17),
/// after which a query over every column of every table finds the person's data only in the retained invoices.
@Suite("Erasure across all stages", .serialized)
struct ErasureFlowTests {
    @Test("one order's timeline across all stages; omsctl customer erase leaves personal data only in the restricted invoices")
    func eraseEverywhere() throws {
        let run = String(UUID().uuidString.prefix(6))
        let (orderID, customerID) = ("BB-ERASE-\(run)", "C-ERASE-\(run)")
        // Strings that occur nowhere else: if any survives outside the invoices, the erasure missed a copy.
        let personal = ["Zacharias Vergessen", "Loeschweg 17", "Vergessenhausen", "zacharias.vergessen.\(run.lowercased())@example.org",
                        "+4917012398765", "203.0.113.77", "Fuer Tante Erna"]
        let rig = try PipelineRig(partitions: 2)
        let database = rig.database
        let config = try TestEnvironment.configCopy("returns.json", replacing: [])
        try """
            {"validFrom": "2026-01-01T00:00:00Z", "endpoints": [
              {"id": "crm", "url": "http://127.0.0.1:9/hook", "types": ["*"], "secretVariable": "OMS_WEBHOOK_SECRET_CRM", "maximumAttempts": 50}
            ]}
            """.write(toFile: config + "/webhooks.json", atomically: true, encoding: .utf8)
        // Mail goes to a port nobody listens on: the mails stay pending with the address in them until the erasure.
        let settings = ["OMS_CONFIG_DIR": config, "OMS_WEBHOOK_SECRET_CRM": "whsec_" + Data(repeating: 7, count: 32).base64EncodedString(),
                        "OMS_SMTP_HOST": "127.0.0.1", "OMS_SMTP_PORT": "9", "OMS_SMTP_FROM": "shop@example.com"]
        let uploads = NSTemporaryDirectory() + "oms-erasure-photos-\(run)"
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        var workers: [ManagedProcess] = []
        defer { for worker in workers { _ = worker.terminate(waitSeconds: 5) } }
        for stage in ["capture", "router", "fulfillment", "billing", "returns", "notifier", "alerting"] {
            workers.append(try rig.start("oms-\(stage)", name: "erasure-\(stage)", stage == "returns" ? settings.merging(["OMS_RETURNS_UPLOAD_DIR": uploads]) { $1 } : settings))
        }
        let warehouse = try ManagedProcess.worker("oms-bench", arguments: ["simulate-warehouse", "--idle-seconds", "60", "--max-seconds", "240", "--short-picks", "0"],
                                                  environment: rig.environment(settings), name: "erasure-wms")
        workers.append(warehouse)

        try rig.producer.publish(BergUndBeutelOrders.productsChanged())
        try rig.producer.publish([BergUndBeutelOrders.stockChanged(warehouse: "A", sequence: 1, onHand: 30),
                                  BergUndBeutelOrders.stockChanged(warehouse: "B", sequence: 1, onHand: 10)])
        let order = CaptureChecksFlowTests.order(orderID, 3) { data in
            let address: JSONValue = ["name": .string(personal[0]), "street": .string(personal[1]), "postalCode": "80331",
                                      "city": .string(personal[2]), "country": "DE"]
            data["billingAddress"] = address
            data["shippingAddress"] = address
            data["customer"] = ["id": .string(customerID), "type": "b2c", "email": .string(personal[3]), "phone": .string(personal[4]), "group": "retail"]
            data["clientIp"] = .string(personal[5])
            data["gift"] = ["wrap": true, "message": .string(personal[6])]
        }
        try rig.producer.publish([BergUndBeutelOrders.message(order)])
        try eventually(timeout: 120, "\(orderID) accepted, shipped and invoiced") {
            try database.query("SELECT count(*) AS n FROM billing.documents WHERE order_id = \(orderID) AND type_code = '380'").first!.decode("n", as: Int.self) >= 1
        }
        let environment = rig.environment(settings)
        // While the order is on its way the erasure is refused (it could not be delivered any more).
        let state: String? = try database.query("SELECT document->>'state' AS s FROM notifier.order_status WHERE order_id = \(orderID)").first?.decode("s")
        if state == "accepted" || state == "partially-shipped" {
            let early = try runOmsctl(["customer", "erase", customerID, "--by", "dpo", "--wait", "0"], environment: environment)
            #expect(early.status != 0 && early.output.contains("has open orders"), "\(early.output)")
        }
        try eventually(timeout: 90, "\(orderID) shipped in the read model") {
            let state = try database.query("SELECT document->>'state' AS s FROM notifier.order_status WHERE order_id = \(orderID)").first?.decode("s", as: String.self)
            return state == "shipped" || state == "delivered"
        }
        // The simulated carrier delivers every other shipment; this one arrives for sure.
        let ssccs = try database.query("""
            SELECT p.sscc FROM fulfillment.parcels p JOIN fulfillment.fulfillment_orders f USING (fulfillment_order_id) WHERE f.order_id = \(orderID)
            """).map { try $0.decode("sscc", as: String.self) }
        try rig.producer.publish(ssccs.map { sscc in
            RouterFixtures.message(Topic.carrierShipments, key: orderID, type: "Shipment.Delivered", source: "carrier/dhl",
                                   data: ["sscc": .string(sscc), "deliveredAt": .string(EventTime.format(Date()))])
        })
        try eventually(timeout: 30, "\(orderID) delivered in the read model") {
            try database.query("SELECT document->>'state' AS s FROM notifier.order_status WHERE order_id = \(orderID)").first?.decode("s", as: String.self) == "delivered"
        }
        // A return through customer service: an RMA with its label (which shows the customer's address).
        let ret = try runOmsctl(["return", "request", orderID, "--line", "1:1:changed-mind", "--by", "service", "--wait", "30"], environment: environment)
        #expect(ret.status == 0 && ret.output.contains("R-"), "\(ret.output)")
        try eventually(timeout: 30, "the return's label") {
            try database.query("SELECT count(*) AS n FROM returns.returns WHERE order_id = \(orderID) AND label_pdf IS NOT NULL").first!.decode("n", as: Int.self) == 1
        }

        // A photo with the return, registered and stored as the portal does it (the portal's own test uploads through a browser).
        let photo = "PH\(run)"
        let photoFile = uploads + "/\(photo).jpg"
        #expect(FileManager.default.createFile(atPath: photoFile, contents: Data([0xFF, 0xD8, 0xFF, 0xD9])))
        try database.query("INSERT INTO returns.photos (photo_id, order_id, media_type, bytes) VALUES (\(photo), \(orderID), 'image/jpeg', 4)")
        try database.query("UPDATE returns.returns SET photos = json_build_array(\(photo)::text) WHERE order_id = \(orderID)")

        // The timeline: every stage's events about the order, in the notifier's read model.
        try eventually(timeout: 30, "timeline entries of every stage") {
            let stages = Set(try database.query("SELECT DISTINCT stage FROM notifier.timeline WHERE order_id = \(orderID)").map { try $0.decode("stage", as: String.self) })
            return stages.isSuperset(of: ["capture", "router", "fulfillment", "billing", "returns"])
        }
        let types = Set(try database.query("SELECT event_type FROM notifier.timeline WHERE order_id = \(orderID)").map { try $0.decode("event_type", as: String.self) })
        #expect(types.isSuperset(of: ["Order.Accepted", "FulfillmentOrder.Created", "Shipment.Shipped", "Shipment.Delivered", "Invoice.Issued", "Return.Authorized"]),
                "\(types.sorted())")
        let shown = try runOmsctl(["order", "show", orderID], environment: environment)
        #expect(shown.status == 0 && shown.output.contains("delivered") && shown.output.contains("Invoice.Issued") && shown.output.contains("Return.Authorized"),
                "\(shown.output)")

        // Before the erasure the person's data is in many tables — the scan must see it, or it proves nothing.
        let before = try Self.tablesHolding(personal, database: database)
        #expect(before.count >= 8, "\(before)")

        let erase = try runOmsctl(["customer", "erase", customerID, "--by", "dpo@berg-und-beutel.example", "--reason", "ticket 4711", "--wait", "90"],
                                  environment: environment)
        #expect(erase.status == 0, "\(erase.output)")
        for stage in ["capture", "router", "fulfillment", "billing", "returns", "notifier", "alerting"] {
            #expect(erase.output.contains("\(stage) ") && !erase.output.contains("no confirmation"), "\(stage): \(erase.output)")
        }
        // Give the workers' sent-outbox rows (published after the commit) a moment, then scan every table.
        Thread.sleep(forTimeInterval: 1)
        let after = try Self.tablesHolding(personal, database: database)
        let left = after.subtracting(["billing.documents", "billing.archive"])
        let where_ = left.isEmpty ? "" : try Self.sample(left, personal, database: database)
        #expect(left.isEmpty, "personal data left in \(left.sorted()): \(where_)")
        // The invoice keeps the buyer's name and address (tax law), marked restricted until the end of its retention.
        let restricted = try database.query("""
            SELECT r.number, extract(year FROM r.retain_until)::int - extract(year FROM d.issued_at)::int AS years
            FROM billing.restricted_documents r JOIN billing.documents d USING (number) WHERE d.order_id = \(orderID)
            """)
        let years = try restricted.map { try $0.decode("years", as: Int.self) }
        #expect(!years.isEmpty && years.allSatisfy { $0 == 8 }, "\(years)")
        let namePattern = "%" + personal[0] + "%"
        let kept: Int = try database.query("SELECT count(*) AS n FROM billing.documents WHERE order_id = \(orderID) AND content::text LIKE \(namePattern)")
            .first!.decode("n")
        #expect(kept >= 1, "the issued invoice is kept as issued")
        // The timeline records the erasure, per stage; the pending e-mails were not sent.
        let erased = Set(try database.query("SELECT stage FROM notifier.timeline WHERE order_id = \(orderID) AND event_type = 'Customer.Erased'")
            .map { try $0.decode("stage", as: String.self) })
        #expect(erased == ["capture", "router", "fulfillment", "billing", "returns", "notifier", "alerting"], "\(erased.sorted())")
        // Every stage's Customer.Erased reaches every other stage on oms.privacy, which skips it: no stage may take another's
        // confirmation for a wrong-topic message (each erasure raised 24 dead letters that way before).
        let letters = try database.query("SELECT stage, error_class, left(reason, 200) AS reason FROM alerting.dead_letters ORDER BY id")
            .map { "\(try $0.decode("stage", as: String.self)) \(try $0.decode("error_class", as: String.self)): \(try $0.decode("reason", as: String.self))" }
        #expect(letters.isEmpty, "\(letters)")
        let pending: Int = try database.query("SELECT count(*) AS n FROM notifier.mails WHERE order_id = \(orderID) AND status = 'pending'").first!.decode("n")
        #expect(pending == 0)
        // The return's photo is gone: file, register and reference.
        #expect(!FileManager.default.fileExists(atPath: photoFile), "the photo file is removed")
        let photos: Int = try database.query("SELECT count(*) AS n FROM returns.photos WHERE order_id = \(orderID)").first!.decode("n")
        let referenced: Int = try database.query("SELECT count(*) AS n FROM returns.returns WHERE order_id = \(orderID) AND json_array_length(photos) > 0").first!.decode("n")
        #expect(photos == 0 && referenced == 0)
        // The archive is still intact (documents untouched).
        let verify = try runOmsctl(["archive", "verify"], environment: environment)
        #expect(verify.status == 0, "\(verify.output)")
    }

    /// One offending row per table (shortened), to say where the erasure missed.
    static func sample(_ tables: Set<String>, _ needles: [String], database: PostgresConnection) throws -> String {
        let patterns = Self.patterns(needles)
        return try tables.sorted().map { table in
            let row: String = try database.query("""
                SELECT left(t::text, 400) AS r FROM \(unescaped: table) t WHERE t::text ILIKE ANY(\(patterns)::text[]) LIMIT 1
                """).first?.decode("r") ?? ""
            return "\(table): \(row)"
        }.joined(separator: "\n")
    }

    static func patterns(_ needles: [String]) -> [String] {
        var patterns: [String] = []
        for needle in needles {
            let hex: String = needle.utf8.map { String(format: "%02x", $0) }.joined()
            patterns.append("%\(needle)%")
            patterns.append("%\(hex)%")
        }
        return patterns
    }

    /// Every table (of every schema of ours) in which a row, cast to text, holds one of `needles` — bytea columns
    /// are compared as hex, so webhook bodies, outbox payloads and dead letters are searched too.
    static func tablesHolding(_ needles: [String], database: PostgresConnection) throws -> Set<String> {
        let tables = try database.query("""
            SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
            WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
            """).map { try $0.decode("t", as: String.self) }
        let patterns = Self.patterns(needles)
        var holding = Set<String>()
        for table in tables {
            let hits: Int = try database.query("""
                SELECT count(*) AS n FROM \(unescaped: table) t WHERE t::text ILIKE ANY(\(patterns)::text[])
                """).first!.decode("n")
            if hits > 0 { holding.insert(table) }
        }
        return holding
    }
}
