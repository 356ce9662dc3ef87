import Crypto
import Foundation
import Shared
import Testing

/// oms-ingest end to end: real HTTP requests (curl), real broker and PostgreSQL; the accepted event is read back
/// from its topic and oms-capture takes the order.
@Suite("Inbound HTTP", .serialized)
struct IngestTests {
    static let secret = "shop-secret-0123456789abcdef"

    static func signature(_ body: [UInt8], secret: String = secret) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }

    static func post(_ url: String, body: [UInt8], headers: [String]) throws -> (status: Int, body: JSONValue?) {
        let file = NSTemporaryDirectory() + "oms-ingest-\(UUID().uuidString.prefix(8)).json"
        try Data(body).write(to: URL(fileURLWithPath: file))
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "--data-binary", "@\(file)", url]
        for header in headers { arguments += ["-H", header] }
        let run = try runProgram("/usr/bin/curl", arguments, separateErrors: true)
        let lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, try? JSONParser.parse(Array(lines.dropLast().joined(separator: "\n").utf8)))
    }

    @Test("a signed event accepted once (202 after the delivery report, on shop.orders, taken by Capture); a replay, a bad signature, a wrong type and a contract violation refused with problems; binary mode")
    func ingest() throws {
        let rig = try PipelineRig(partitions: 2)
        let port = try TestPostgresCluster.freePort()
        let ingest = try rig.start("oms-ingest", name: "ingest", ["OMS_INGEST_PORT": String(port), "OMS_INGEST_SECRET_BERG_UND_BEUTEL": Self.secret])
        defer { _ = ingest.terminate(waitSeconds: 5) }
        let capture = try rig.start("oms-capture", name: "ingest-capture")
        defer { _ = capture.terminate(waitSeconds: 5) }
        let orders = try TopicReader(broker: rig.broker, topic: Topic.shopOrders)
        let url = "http://127.0.0.1:\(port)/v1/shops/berg-und-beutel/events"
        try eventually(timeout: 15, "oms-ingest listening") {
            (try? Self.post(url, body: [], headers: []).status) == 401
        }
        try rig.producer.publish(BergUndBeutelOrders.productsChanged())
        let order = BergUndBeutelOrders.orderCreated(index: 3, orderID: "IN-1", eventID: "ingest-order-1")
        let body = order.serialized()
        let structured = ["Content-Type: application/cloudevents+json", "X-Shopify-Hmac-Sha256: \(Self.signature(body))", "X-Shopify-Webhook-Id: wh-1"]

        let first = try Self.post(url, body: body, headers: structured)
        #expect(first.status == 202 && first.body?["topic"]?.stringValue == Topic.shopOrders, "\(String(describing: first.body))")
        // Durably on its topic by the time 202 came back.
        let published = try orders.events(ofType: "Order.Created", atLeast: 1, timeout: 10)
        #expect(published.first?.id == "ingest-order-1")
        try eventually(timeout: 30, "Capture took the order") {
            try rig.database.query("SELECT count(*) AS n FROM capture.orders WHERE order_id = 'IN-1'").first!.decode("n", as: Int.self) == 1
        }
        // The same webhook again: a replay.
        let replay = try Self.post(url, body: body, headers: structured)
        #expect(replay.status == 409 && replay.body?["detail"]?.stringValue?.contains("replay") == true, "\(String(describing: replay.body))")
        // A signature made with another secret, and none at all.
        let forged = try Self.post(url, body: body, headers: ["Content-Type: application/cloudevents+json", "X-Shopify-Hmac-Sha256: \(Self.signature(body, secret: "wrong-secret-0123456789"))"])
        #expect(forged.status == 401 && forged.body?["status"]?.int64Value == 401)
        #expect(try Self.post(url, body: body, headers: ["Content-Type: application/cloudevents+json"]).status == 401)
        // A type the shop may not send (catalog data), and an order that breaks its contract.
        let product = RouterFixtures.product("X-1").value
        let wrongType = try Self.post(url, body: product, headers: ["Content-Type: application/cloudevents+json", "X-OMS-Signature: \(Self.signature(product))"])
        #expect(wrongType.status == 422 && wrongType.body?["detail"]?.stringValue?.contains("Product.Changed") == true, "\(String(describing: wrongType.body))")
        var broken = order.json.objectValue ?? [:]
        broken["id"] = "ingest-order-broken"
        var data = broken["data"]?.objectValue ?? [:]
        data["currency"] = "EURO"
        broken["data"] = .object(data)
        let brokenBody = Array(JSONValue.object(broken).serializedString.utf8)
        let violation = try Self.post(url, body: brokenBody, headers: ["Content-Type: application/cloudevents+json", "X-OMS-Signature: \(Self.signature(brokenBody))"])
        #expect(violation.status == 422 && violation.body?["detail"]?.stringValue?.contains("data.currency") == true, "\(String(describing: violation.body))")
        // Binary mode: ce-* headers, the body is the data.
        let second = BergUndBeutelOrders.orderCreated(index: 4, orderID: "IN-2", eventID: "ingest-order-2")
        let dataBody = Array(second.data.serializedString.utf8)
        let binary = try Self.post(url, body: dataBody, headers: [
            "Content-Type: application/json", "ce-id: ingest-order-2", "ce-source: shop/berg-und-beutel", "ce-type: Order.Created", "ce-specversion: 1.0",
            "ce-subject: IN-2", "ce-time: \(second.time ?? EventTime.format(Date()))", "X-OMS-Signature: \(Self.signature(dataBody))",
        ])
        #expect(binary.status == 202, "\(String(describing: binary.body))")
        _ = try orders.events(ofType: "Order.Created", atLeast: 2, timeout: 10)
        #expect(try rig.database.query("SELECT count(*) AS n FROM ingest.received").first!.decode("n", as: Int.self) == 2)
        // An unknown shop.
        #expect(try Self.post("http://127.0.0.1:\(port)/v1/shops/nobody/events", body: body, headers: structured).status == 404)
    }
}
