import Foundation
import Shared
import Testing

/// oms-notifier end to end: the order timeline from the OMS topics, and webhooks signed per Standard Webhooks,
/// verified by the reference library (PyPI standardwebhooks) in a local receiver.
@Suite("Notifier end to end", .serialized)
struct NotifierFlowTests {
    static let secret = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
    static let oldSecret = "whsec_" + Data(repeating: 9, count: 32).base64EncodedString()

    @Test("timeline per order; webhooks verified, retried after a 503 with a fresh signature, a rotated secret, a slow endpoint delaying nobody, dead letters replayed")
    func webhooksAndTimeline() throws {
        let received = NSTemporaryDirectory() + "oms-standard-webhooks-\(UUID().uuidString.prefix(8)).jsonl"
        let portFile = received + ".port"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/standard_webhook_receiver.py").path
        let receiver = try ManagedProcess(executable: "/bin/sh",
                                          arguments: ["-c", "exec '\(EInvoiceJudge.python)' '\(script)' '\(received)' '\(Self.secret)' > '\(portFile)'"],
                                          environment: ProcessInfo.processInfo.environment, name: "standard-webhooks")
        defer { _ = receiver.terminate(waitSeconds: 2) }
        try eventually(timeout: 10, "the receiver's port") {
            !((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        let port = try String(contentsOfFile: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let config = try TestEnvironment.configCopy("returns.json", replacing: [])
        try """
            {"validFrom": "2026-01-01T00:00:00Z", "endpoints": [
              {"id": "shop", "url": "http://127.0.0.1:\(port)/flaky", "types": ["Order.*"], "secretVariable": "OMS_WEBHOOK_SECRET_SHOP"},
              {"id": "crm", "url": "http://127.0.0.1:\(port)/slow", "types": ["Order.Cancelled"], "secretVariable": "OMS_WEBHOOK_SECRET_CRM",
               "timeoutSeconds": 3, "maximumAttempts": 2},
              {"id": "accounting", "url": "http://127.0.0.1:\(port)/ok", "types": ["Return.*"], "secretVariable": "OMS_WEBHOOK_SECRET_ACCOUNTING"}
            ]}
            """.write(toFile: config + "/webhooks.json", atomically: true, encoding: .utf8)
        let rig = try PipelineRig(partitions: 2)
        let database = rig.database
        let notifier = try rig.start("oms-notifier", name: "notifier", [
            "OMS_CONFIG_DIR": config, "OMS_WEBHOOK_SECRET_SHOP": Self.secret, "OMS_WEBHOOK_SECRET_CRM": Self.secret,
            // During a rotation both secrets sign; the receiver knows only the new one.
            "OMS_WEBHOOK_SECRET_ACCOUNTING": "\(Self.oldSecret) \(Self.secret)",
        ])
        defer { _ = notifier.terminate(waitSeconds: 5) }
        let at = EventTime.format(Date())
        try rig.producer.publish([
            RouterFixtures.orderEvent("Order.Released", "NT-1", ["reason": "payment captured", "at": .string(at)]),
            RouterFixtures.orderEvent("Order.Cancelled", "NT-2", ["reason": "customer asked", "at": .string(at)]),
            RouterFixtures.message(Topic.omsReturns, key: "NT-1", type: "Return.Held", source: "oms/returns", data: [
                "rma": "R-0000011", "requestId": "P-1", "orderId": "NT-1", "reason": "business customer", "heldAt": .string(at),
            ]),
            RouterFixtures.message(Topic.omsReturns, key: "NT-1", type: "Return.Rejected", source: "oms/returns", data: [
                "requestId": "P-2", "orderId": "NT-1", "rejectedAt": .string(at), "rejectedBy": "anna",
                "reasons": [["code": "window-closed", "message": "The return period ended on 2026-11-30."]],
            ]),
        ])
        // The accounting endpoint gets both returns events at once, while the slow CRM endpoint is still trying.
        try eventually(timeout: 20, "accounting delivered") {
            try database.query("SELECT count(*) AS n FROM notifier.webhook_deliveries WHERE endpoint_id = 'accounting' AND status = 'delivered'")
                .first!.decode("n", as: Int.self) == 2
        }
        let crmNow: String? = try database.query("SELECT status FROM notifier.webhook_deliveries WHERE endpoint_id = 'crm'").first?.decode("status")
        #expect(crmNow == "pending", "a slow endpoint must not hold up the others")
        try eventually(timeout: 30, "shop delivered after its retries") {
            try database.query("SELECT count(*) AS n FROM notifier.webhook_deliveries WHERE endpoint_id = 'shop' AND status = 'delivered'")
                .first!.decode("n", as: Int.self) == 2
        }
        try eventually(timeout: 40, "the CRM delivery is a dead letter after its 2 tries") {
            try database.query("SELECT status FROM notifier.webhook_deliveries WHERE endpoint_id = 'crm'").first?.decode("status", as: String.self) == "dead"
        }

        let lines = try String(contentsOfFile: received, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        // Every request carried a signature the reference library accepts.
        for line in lines where line["path"]?.stringValue != "/slow" { #expect(line["verified"] == .bool(true), "\(line)") }
        let accounting = lines.filter { $0["path"]?.stringValue == "/ok" }
        #expect(accounting.count == 2)
        #expect(accounting.allSatisfy { ($0["signature"]?.stringValue ?? "").split(separator: " ").count == 2 }, "two signatures during the rotation")
        #expect(Set(accounting.compactMap { $0["body"]?["type"]?.stringValue }) == ["Return.Held", "Return.Rejected"])
        // The shop's first try got a 503; the retry is the same message id with a fresh timestamp and signature.
        let shop = lines.filter { $0["path"]?.stringValue == "/flaky" }
        #expect(shop.count == 4, "\(shop.map { "\($0["id"]?.stringValue ?? "") \($0["status"]?.int64Value ?? 0)" })")
        for id in Set(shop.compactMap { $0["id"]?.stringValue }) {
            let tries = shop.filter { $0["id"]?.stringValue == id }
            #expect(tries.map { $0["status"]?.int64Value } == [503, 204], "\(id)")
            #expect(tries.count == 2 && tries[0]["signature"] != tries[1]["signature"] && tries[0]["timestamp"] != tries[1]["timestamp"],
                    "re-signed with a fresh timestamp on retry")
        }
        let attempts: Int32 = try database.query("SELECT attempts FROM notifier.webhook_deliveries WHERE endpoint_id = 'crm'").first!.decode("attempts")
        #expect(attempts == 2)

        // The timeline: one row per event, with who and why.
        let timeline = try database.query("SELECT event_type, stage, actor, reason FROM notifier.timeline WHERE order_id = 'NT-1' ORDER BY id").map {
            "\(try $0.decode("event_type", as: String.self)) \(try $0.decode("stage", as: String.self)) \(try $0.decode("actor", as: String.self)): \(try $0.decode("reason", as: String.self))"
        }
        #expect(Set(timeline) == ["Order.Released capture capture: payment captured", "Return.Held returns returns: business customer",
                                  "Return.Rejected returns anna: The return period ended on 2026-11-30."], "\(timeline)")

        // omsctl: the dead letter is listed and replayed (pending again, tries from zero).
        let environment = rig.environment()
        let dead = try runOmsctl(["webhooks", "list", "--dead"], environment: environment)
        #expect(dead.status == 0 && dead.output.contains("crm") && dead.output.contains("Order.Cancelled"), "\(dead.output)")
        #expect(!dead.output.contains(Self.secret) && !dead.output.contains(String(Self.secret.dropFirst(6))))
        let id: Int64 = try database.query("SELECT id FROM notifier.webhook_deliveries WHERE endpoint_id = 'crm'").first!.decode("id")
        let shown = try runOmsctl(["webhooks", "show", String(id)], environment: environment)
        #expect(shown.output.contains("timed out"), "\(shown.output)")
        let replay = try runOmsctl(["webhooks", "replay", String(id)], environment: environment)
        #expect(replay.status == 0, "\(replay.output)")
        let after = try database.query("SELECT status, attempts FROM notifier.webhook_deliveries WHERE id = \(id)").first!
        #expect(try after.decode("status", as: String.self) == "pending" && (try after.decode("attempts", as: Int32.self)) <= 1)
        #expect(!((try? String(contentsOfFile: notifier.logPath, encoding: .utf8)) ?? "").contains(String(Self.secret.dropFirst(6))), "no secret in the log")

        // The KPI report reads the timeline: one accepted order, shipped after its acceptance.
        try rig.producer.publish([
            ReturnsFlowTests.accepted("NT-9", lines: [("TENT-2P", 1, 19_990)]),
            ReturnsFlowTests.shipped("FO-NT-9", order: "NT-9", [("1", "TENT-2P", 1)], at: Date().addingTimeInterval(7200)),
        ])
        try eventually(timeout: 20, "NT-9 in the timeline") {
            try database.query("SELECT count(*) AS n FROM notifier.timeline WHERE order_id = 'NT-9'").first!.decode("n", as: Int.self) == 2
        }
        let kpi = try runOmsctl(["kpi", "--json", "--until", EventTime.format(Date().addingTimeInterval(86_400))], environment: environment)
        let figures = try JSONParser.parse(Array(kpi.output.utf8))
        #expect(figures["orders"]?.int64Value == 1 && figures["shippedOrders"]?.int64Value == 1, "\(kpi.output)")
        #expect(figures["firstTimeRightPercent"]?.int64Value == 100, "\(kpi.output)")
        let page = NSTemporaryDirectory() + "oms-kpi-\(UUID().uuidString.prefix(8)).html"
        #expect(try runOmsctl(["kpi", "--html", page], environment: environment).status == 0)
        #expect(((try? String(contentsOfFile: page, encoding: .utf8)) ?? "").contains("<svg role=\"img\""))
        let badKPI = try runOmsctl(["kpi", "--since", "last tuesday"], environment: environment)
        #expect(badKPI.status != 0 && badKPI.output.contains("--since must be an RFC 3339 instant or YYYY-MM-DD"), "\(badKPI.output)")

        // The rule file the notifier loaded is on record with its hash and validFrom.
        let digest = try runProgram("/usr/bin/sha256sum", [config + "/webhooks.json"]).output.prefix(16)
        let history = try runOmsctl(["rules", "history", "--stage", "notifier"], environment: environment)
        #expect(history.output.contains("notifier  \(config)/webhooks.json  sha256 \(digest)…  validFrom 2026-01-01T00:00:00Z"), "\(history.output)")
    }

    @Test("KPIs as Prometheus gauges; a KPI out of its bounds raises one kpi-threshold alert through oms-alerting")
    func kpiGaugesAndAlert() throws {
        let config = try TestEnvironment.configCopy("kpi.json", replacing: [
            ("\"evaluateEverySeconds\": 300", "\"evaluateEverySeconds\": 1"), ("\"minimumOrders\": 50", "\"minimumOrders\": 2"),
        ])
        try FileManager.default.copyItem(atPath: TestEnvironment.configDirectory + "/webhooks.json", toPath: config + "/webhooks.json")
        let rig = try PipelineRig(partitions: 2)
        let port = try TestPostgresCluster.freePort()
        let settings = ["OMS_CONFIG_DIR": config, "OMS_HOUSEKEEPING_SECONDS": "1", "OMS_HTTP_PORT": String(port)]
        let notifier = try rig.start("oms-notifier", name: "kpi-notifier", settings)
        let alerting = try rig.start("oms-alerting", name: "kpi-alerting")
        defer { _ = notifier.terminate(waitSeconds: 5); _ = alerting.terminate(waitSeconds: 5) }
        // Two orders, one of them back-ordered: a back-order rate of 50 % against a maximum of 10 %.
        try rig.producer.publish([
            ReturnsFlowTests.accepted("KP-1", lines: [("TENT-2P", 1, 19_990)]),
            ReturnsFlowTests.accepted("KP-2", lines: [("STOVE-GAS", 1, 2_995)]),
            RouterFixtures.message(Topic.omsOrders, key: "KP-2", type: "Backorder.Created", source: "oms/router", data: [
                "orderId": "KP-2", "lines": [["lineId": "1", "sku": "STOVE-GAS", "quantity": 1, "eta": "2026-12-09T00:00:00Z"]], "eta": "2026-12-09T00:00:00Z",
            ]),
        ])
        try eventually(timeout: 30, "the kpi-threshold alert in alerting") {
            try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE error_class = 'kpi-threshold'").first!.decode("n", as: Int.self) >= 1
        }
        let reason: String = try rig.database.query("SELECT reason FROM alerting.dead_letters WHERE error_class = 'kpi-threshold'").first!.decode("reason")
        #expect(reason.contains("backorder-rate is 50.0 %, above its maximum of 10 %"), "\(reason)")
        let metrics = try runProgram("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"]).output
        #expect(metrics.contains("oms_kpi_percent{kpi=\"backorder-rate\"} 50.0"), "\(metrics.split(separator: "\n").filter { $0.contains("oms_kpi") })")
        #expect(metrics.contains("oms_kpi_orders{scope=\"window\"} 2.0"))
        // Once per KPI and alert period, however often the KPIs are evaluated.
        Thread.sleep(forTimeInterval: 3)
        let alerts: Int = try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE error_class = 'kpi-threshold'").first!.decode("n")
        #expect(alerts == 1)
    }
}
