import Foundation
import Shared
import Testing

/// The order status API end to end: oms-notifier folds the events into the order's document and answers over HTTP;
/// schemathesis (PyPI) checks every operation against contracts/status-api.openapi.yaml.
@Suite("Order status API", .serialized)
struct StatusAPITests {
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("contracts/status-api.openapi.yaml").path

    static func get(_ url: String, key: String?) throws -> (status: Int, type: String, body: JSONValue?) {
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code} %{content_type}", url]
        if let key { arguments += ["-H", "Authorization: Bearer \(key)"] }
        let run = try runProgram("/usr/bin/curl", arguments, separateErrors: true)
        let lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
        let last = lines.last.map(String.init) ?? ""
        let body = lines.dropLast().joined(separator: "\n")
        let parts = last.split(separator: " ", maxSplits: 1).map(String.init)
        return (Int(parts.first ?? "") ?? 0, parts.count > 1 ? parts[1] : "", try? JSONParser.parse(Array(body.utf8)))
    }

    @Test("where is my parcel: state, shipments with tracking, back-order ETA, invoice, return; keys, problems; schemathesis finds nothing")
    func statusAPI() throws {
        let rig = try PipelineRig(partitions: 2)
        let port = try TestPostgresCluster.freePort()
        let notifier = try rig.start("oms-notifier", name: "status-api", ["OMS_STATUS_API_PORT": String(port), "OMS_STATUS_API_RATE_PER_MINUTE": "100000"])
        defer { _ = notifier.terminate(waitSeconds: 5) }
        let environment = rig.environment()
        let created = try runOmsctl(["api-keys", "create", "--client", "shop-test", "--shop", "shop/berg-und-beutel"], environment: environment)
        let key = try #require(created.output.split(separator: "\n").last.map(String.init), "\(created.output)")
        #expect(key.hasPrefix("oms_") && key.count == 68)
        let stored: String = try rig.database.query("SELECT key_sha256 FROM notifier.api_keys").first!.decode("key_sha256")
        #expect(stored.count == 64 && !stored.contains(key), "only the hash is stored")

        let at = EventTime.format(Date())
        try rig.producer.publish([
            ReturnsFlowTests.accepted("ST-1", lines: [("TENT-2P", 1, 19_990), ("STOVE-GAS", 2, 2_995)]),
            RouterFixtures.message(Topic.omsOrders, key: "ST-1", type: "Backorder.Created", source: "oms/router", data: [
                "orderId": "ST-1", "lines": [["lineId": "2", "sku": "STOVE-GAS", "quantity": 2, "eta": "2026-12-09T00:00:00Z"]], "eta": "2026-12-09T00:00:00Z",
            ]),
            RouterFixtures.message(Topic.omsShipments, key: "ST-1", type: "Shipment.Shipped", source: "oms/fulfillment", data: [
                "fulfillmentOrderId": "FO-ST-1-1", "orderId": "ST-1", "shippedAt": .string(at),
                "parcels": [["trackingNumber": "00340434", "carrier": "DHL", "trackingUrl": "https://www.dhl.de/track?piececode=00340434"]],
                "lines": [["lineId": "1", "sku": "TENT-2P", "quantity": 1]],
            ]),
            RouterFixtures.message(Topic.omsBilling, key: "ST-1", type: "Invoice.Issued", source: "oms/billing", data: [
                "number": "RE-2026-000042", "typeCode": "380", "orderId": "ST-1", "customerId": "C-7", "currency": "EUR", "issuedAt": .string(at),
                "net": 16_798, "tax": 3_192, "gross": 19_990, "breakdown": [["category": "S", "rateBasisPoints": 1900, "taxable": 16_798, "tax": 3_192]],
                "archiveHash": .string(String(repeating: "a", count: 64)),
            ]),
            RouterFixtures.message(Topic.omsReturns, key: "ST-1", type: "Return.Authorized", source: "oms/returns", data: [
                "rma": "R-0000011", "requestId": "P-1", "orderId": "ST-1", "authorizedAt": .string(at),
                "lines": [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "reason": "wrong-size"]],
            ]),
        ])
        try eventually(timeout: 30, "the status document") {
            (try rig.database.query("SELECT document->'returns' AS r FROM notifier.order_status WHERE order_id = 'ST-1'").first?
                .decode("r", as: String.self) ?? "[]") != "[]"
        }
        let base = "http://127.0.0.1:\(port)"
        let order = try Self.get("\(base)/v1/orders/ST-1", key: key)
        #expect(order.status == 200 && order.type == "application/json")
        let doc = try #require(order.body)
        #expect(doc["state"]?.stringValue == "partially-shipped", "\(doc)")
        #expect(doc["shipments"]?.arrayValue?.first?["parcels"]?.arrayValue?.first?["trackingUrl"]?.stringValue == "https://www.dhl.de/track?piececode=00340434")
        #expect(doc["backorders"]?.arrayValue?.first?["eta"]?.stringValue == "2026-12-09T00:00:00Z")
        #expect(doc["invoices"]?.arrayValue?.first?["number"]?.stringValue == "RE-2026-000042")
        #expect(doc["returns"]?.arrayValue?.first?["status"]?.stringValue == "authorized")
        let list = try Self.get("\(base)/v1/customers/C-7/orders?limit=5", key: key)
        #expect(list.status == 200 && list.body?["orders"]?.arrayValue?.first?["orderId"]?.stringValue == "ST-1", "\(String(describing: list.body))")
        // Problems: no key, a wrong key, an unknown order, a bad limit, an unknown path.
        for (url, usedKey, status) in [("\(base)/v1/orders/ST-1", nil, 401), ("\(base)/v1/orders/ST-1", "oms_wrong", 401), ("\(base)/v1/orders/NOPE", key, 404),
                                       ("\(base)/v1/customers/C-7/orders?limit=0", key, 400), ("\(base)/v2/nothing", key, 404)] as [(String, String?, Int)] {
            let answer = try Self.get(url, key: usedKey)
            #expect(answer.status == status && answer.type == "application/problem+json" && answer.body?["status"]?.int64Value == Int64(status),
                    "\(url): \(answer.status) \(answer.type) \(String(describing: answer.body))")
        }
        // A key of another shop does not see this shop's orders (404, as if there were none); a key for every shop does.
        let otherShop = try runOmsctl(["api-keys", "create", "--client", "other", "--shop", "shop/other"], environment: environment).output
            .split(separator: "\n").last.map(String.init) ?? ""
        #expect(try Self.get("\(base)/v1/orders/ST-1", key: otherShop).status == 404)
        #expect(try Self.get("\(base)/v1/customers/C-7/orders", key: otherShop).body?["orders"]?.arrayValue?.isEmpty == true)
        let service = try runOmsctl(["api-keys", "create", "--client", "service", "--all-shops"], environment: environment).output
            .split(separator: "\n").last.map(String.init) ?? ""
        #expect(try Self.get("\(base)/v1/orders/ST-1", key: service).status == 200)
        let unscoped = try runOmsctl(["api-keys", "create", "--client", "undecided"], environment: environment)
        #expect(unscoped.status != 0 && unscoped.output.contains("give exactly one of --shop SOURCE or --all-shops"), "\(unscoped.output)")
        // A revoked key is refused.
        let other = try runOmsctl(["api-keys", "create", "--client", "revoked-one", "--all-shops"], environment: environment).output.split(separator: "\n").last.map(String.init) ?? ""
        let id: Int64 = try rig.database.query("SELECT id FROM notifier.api_keys WHERE client = 'revoked-one'").first!.decode("id")
        #expect(try runOmsctl(["api-keys", "revoke", String(id)], environment: environment).status == 0)
        #expect(try Self.get("\(base)/v1/orders/ST-1", key: other).status == 401)

        // schemathesis: every operation, generated inputs, checked against the document (no 5xx, status codes,
        // content types, bodies and headers as documented, invalid input refused, auth enforced).
        let schemathesis = (EInvoiceJudge.python as NSString).deletingLastPathComponent + "/schemathesis"
        let run = try runProgram(schemathesis, [
            "run", Self.spec, "--url", base, "-H", "Authorization: Bearer \(key)", "--max-examples", "60", "--seed", "20261202",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,ignored_auth",
        ], environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 })
        #expect(run.status == 0, "\(run.output.suffix(4000))")
        print("schemathesis: " + (run.output.components(separatedBy: "SUMMARY").last ?? "").replacingOccurrences(of: "\n", with: " ").prefix(600))
    }
}
