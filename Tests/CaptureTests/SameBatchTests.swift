import Foundation
import Logging
@testable import Capture
import Shared
import Testing

/// Capture's handler against the real test PostgreSQL, batch by batch (no broker):
/// interactions of messages that arrive in the same poll batch.
@Suite("Capture: messages of one batch", .serialized)
struct SameBatchTests {
    static var logger: Logger {
        var logger = Logger(label: "capture-tests")
        logger.logLevel = .warning
        return logger
    }

    /// A fresh, migrated database of its own.
    static func database() throws -> PostgresConnection {
        guard let admin = ProcessInfo.processInfo.environment["OMS_TEST_DATABASE_URL"] else {
            throw TestFailure("OMS_TEST_DATABASE_URL is not set: run through `make test`")
        }
        let name = "c_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try PostgresConnection(url: admin, logger: logger).execute(script: "CREATE DATABASE \(name)")
        let slash = admin.range(of: "/", options: .backwards)!
        let query = admin[slash.upperBound...].firstIndex(of: "?").map { String(admin[$0...]) } ?? ""
        let database = try PostgresConnection(url: String(admin[..<slash.upperBound]) + name + query, logger: logger)
        let migrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/migrations").path
        _ = try Migrator(directory: migrations).apply(on: database, logger: logger)
        return database
    }

    static func handler() throws -> CaptureHandler {
        let text = try String(contentsOfFile: repositoryConfig + "/capture.json", encoding: .utf8)
            .replacingOccurrences(of: "\"unknownSku\": \"accept\"", with: "\"unknownSku\": \"wait\"")
        let rules = try ConfigurationFileError.parse(Array(text.utf8), path: "capture.json", build: CaptureRules.init)
        return CaptureHandler(maximumEventBytes: 262_144,
                              ruleVersions: try RuleVersions([.init(file: "capture.json", validFrom: .distantPast, rules: rules)]))
    }

    static func message(_ topic: String, _ event: CloudEvent) -> ConsumedMessage {
        ConsumedMessage(topic: topic, partition: 0, offset: 0, key: nil, value: event.serialized())
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test("held for catalog and payment; Product.Changed and Payment.Captured in one batch release it (it was wrongly rejected later)")
    func catalogAndPaymentInOneBatch() throws {
        let database = try Self.database()
        let handler = try Self.handler()
        var order = BergUndBeutelOrders.orderCreated(index: 7, orderID: "SB-1", eventID: "sb-order-1")
        var data = order.data.objectValue!
        data["lines"] = [["lineId": "1", "sku": "NEW-SKU", "quantity": 1, "unitPrice": 5_000]]
        data["shippingCharge"] = 0
        data["payment"] = ["method": "prepayment", "status": "pending", "reference": "PRE-1", "amount": 5_000]
        order.data = .object(data)
        let first = try handler.decode(Self.message(Topic.shopOrders, order))
        _ = try database.transaction { try handler.apply([first], database: $0) }
        let held = try database.query("SELECT status, array_to_string(hold_reasons, ',') AS holds FROM capture.orders WHERE order_id = 'SB-1'")
        #expect(try held.first?.decode("status", as: String.self) == "on_hold")
        #expect(Set(try held.first?.decode("holds", as: String.self).split(separator: ",").map(String.init) ?? []) == ["catalog", "payment"])

        let product = CloudEvent(id: "sb-product-1", source: "pim/test", type: "Product.Changed", subject: "NEW-SKU", time: "2026-11-27T09:00:00Z",
                                 data: ["sku": "NEW-SKU", "name": "Neu", "sellable": true, "taxClass": "standard"])
        let payment = CloudEvent(id: "sb-payment-1", source: "shop/test", type: "Payment.Captured", subject: "SB-1", time: "2026-11-27T09:00:01Z",
                                 data: ["orderId": "SB-1", "amount": 5_000, "currency": "EUR", "reference": "PRE-1"])
        let batch = [try handler.decode(Self.message(Topic.catalogProducts, product)), try handler.decode(Self.message(Topic.shopPayments, payment))]
        let outcomes = try database.transaction { try handler.apply(batch, database: $0) }
        var emitted: [String] = []
        for outcome in outcomes {
            guard case .processed(let emit, _) = outcome else {
                Issue.record("no dead letter expected: \(outcome)")
                continue
            }
            emitted += emit.filter { $0.subject == "SB-1" }.map(\.type)
        }
        #expect(emitted == ["Order.Released"])
        // The release goes with the later message (the payment), so the order's events keep their order.
        if case .processed(let emit, _) = outcomes[1] { #expect(emit.map(\.type) == ["Order.Released"]) }
        let after = try database.query("SELECT status, array_to_string(hold_reasons, ',') AS holds, catalog_deadline FROM capture.orders WHERE order_id = 'SB-1'")
        #expect(try after.first?.decode("status", as: String.self) == "accepted")
        #expect(try after.first?.decode("holds", as: String.self) == "")
    }

    @Test("a stored status this version does not know fails loudly with the order and the value, never reads as accepted")
    func unknownStoredStatus() throws {
        let database = try Self.database()
        let handler = try Self.handler()
        var order = BergUndBeutelOrders.orderCreated(index: 7, orderID: "SB-9", eventID: "sb-order-9")
        var data = order.data.objectValue!
        data["payment"] = ["method": "prepayment", "status": "pending", "reference": "PRE-9", "amount": 5_000]
        order.data = .object(data)
        _ = try database.transaction { try handler.apply([try handler.decode(Self.message(Topic.shopOrders, order))], database: $0) }
        #expect(try database.query("SELECT status FROM capture.orders WHERE order_id = 'SB-9'").first?.decode("status", as: String.self) == "on_hold")
        // What a newer version (or a broken row) could leave: the CHECK constraint keeps this out, so it is lifted here.
        try database.execute(script: """
            ALTER TABLE capture.orders DROP CONSTRAINT orders_status_check;
            UPDATE capture.orders SET status = 'teleported' WHERE order_id = 'SB-9';
            """)
        let payment = CloudEvent(id: "sb-payment-9", source: "shop/test", type: "Payment.Captured", subject: "SB-9", time: "2026-11-27T09:00:01Z",
                                 data: ["orderId": "SB-9", "amount": 5_000, "currency": "EUR", "reference": "PRE-9"])
        let batch = [try handler.decode(Self.message(Topic.shopPayments, payment))]
        do {
            let outcomes = try database.transaction { try handler.apply(batch, database: $0) }
            Issue.record("an unknown status must not be read: \(outcomes)")
        } catch let failure as PermanentFailure {
            #expect(failure.errorClass == "database-rejected", "\(failure)")
            #expect(failure.reason.contains("SB-9") && failure.reason.contains("\"teleported\"") && failure.reason.contains("does not know"), "\(failure)")
        }
        #expect(try database.query("SELECT status FROM capture.orders WHERE order_id = 'SB-9'").first?.decode("status", as: String.self) == "teleported")
    }

    @Test("a public buyer's Leitweg-ID: its check digits are checked at the door, and it goes on to Billing in Order.Accepted")
    func leitwegID() throws {
        func submission(_ leitwegID: String) throws(PermanentFailure) -> OrderSubmission {
            var data = BergUndBeutelOrders.orderCreated(index: 3, orderID: "SB-LW", eventID: "sb-lw").data.objectValue!
            var customer = data["customer"]!.objectValue!
            customer["leitwegId"] = .string(leitwegID)
            data["customer"] = .object(customer)
            return try OrderSubmission(data: .object(data))
        }
        let summary = OrderEvents.summary(try submission("90000000-03083-72"))
        #expect(summary["billing"]?["leitwegId"]?.stringValue == "90000000-03083-72")
        #expect(throws: PermanentFailure.schemaViolation("data.customer.leitwegId: its check digits are 73, but 72 follow from the rest (ISO/IEC 7064 MOD 97-10)")) {
            try submission("90000000-03083-73")
        }
    }
}
