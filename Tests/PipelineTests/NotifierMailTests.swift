import Foundation
import Shared
import Testing

/// Customer e-mail end to end: oms-notifier renders German and English mails and sends them over SMTP with
/// STARTTLS to a real SMTP server (PyPI aiosmtpd) that refuses mail without TLS.
@Suite("Notifier e-mail end to end", .serialized)
struct NotifierMailTests {
    static func accepted(_ id: String, email: String?, country: String, name: String, phone: String? = nil) -> OutgoingMessage {
        var shipTo: [String: JSONValue] = ["name": .string(name), "street": "Hauptstr. 5", "postalCode": "80331", "city": "Stadt", "country": .string(country)]
        if let email { shipTo["email"] = .string(email) }
        if let phone { shipTo["phone"] = .string(phone) }
        return RouterFixtures.message(Topic.omsOrders, key: id, type: "Order.Accepted", source: "oms/capture", data: [
            "orderId": .string(id), "customerId": "C-1", "customerType": "b2c", "currency": "EUR", "total": 25_980,
            "acceptedAt": .string(EventTime.format(Date())), "shippingCountry": .string(country), "shippingMethod": "standard",
            "shipTo": .object(shipTo), "lines": [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 25_980]],
        ])
    }

    static func notification(_ id: String, template: String, facts: JSONValue) -> OutgoingMessage {
        RouterFixtures.message(Topic.omsNotifications, key: id, type: "Customer.NotificationRequested", source: "oms/fulfillment",
                               data: ["orderId": .string(id), "template": .string(template), "facts": facts])
    }

    @Test("order received, shipped with tracking link, return authorized, refund: German and English, text + HTML, over STARTTLS, once per event; SMS through the gateway")
    func mails() throws {
        let directory = NSTemporaryDirectory() + "oms-smtp-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let (cert, key) = (directory + "/cert.pem", directory + "/key.pem")
        let made = try runProgram("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                                                       "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert])
        #expect(made.status == 0, "\(made.output)")
        let received = directory + "/received.jsonl"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/smtp_receiver.py").path
        let server = try ManagedProcess(executable: "/bin/sh", arguments: ["-c", "exec '\(EInvoiceJudge.python)' '\(script)' '\(received)' '\(cert)' '\(key)' > '\(directory)/port'"],
                                        environment: ProcessInfo.processInfo.environment, name: "smtp")
        defer { _ = server.terminate(waitSeconds: 2) }
        try eventually(timeout: 15, "the SMTP server's port") {
            !((try? String(contentsOfFile: directory + "/port", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        let port = try String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The SMS gateway: a local endpoint that fails the first request (retried) and logs the rest.
        let (gateway, gatewayPort, smsLog) = try AlertWebhookTests.startReceiver(failFirst: 1, alwaysFailing: "no-such-class")
        defer { _ = gateway.terminate(waitSeconds: 2) }
        let rig = try PipelineRig(partitions: 2)
        let notifier = try rig.start("oms-notifier", name: "notifier-mail", [
            "OMS_SMS_GATEWAY_URL": "http://127.0.0.1:\(gatewayPort)/sms", "OMS_SMS_GATEWAY_TOKEN": "sms-token",
            "OMS_SMTP_HOST": "localhost", "OMS_SMTP_PORT": port, "OMS_SMTP_FROM": "service@berg-und-beutel.example", "OMS_SMTP_TLS": "require",
            "OMS_SMTP_CA_FILE": cert,
        ])
        defer { _ = notifier.terminate(waitSeconds: 5) }
        let refund = Self.notification("NM-1", template: "refund-approved", facts: ["rma": "R-0000011", "refundId": "R-0000011/1", "amount": 19_990, "currency": "EUR"])
        try rig.producer.publish([
            Self.accepted("NM-1", email: "lena@example.org", country: "DE", name: "Lena Müller", phone: "+491511234567"),
            Self.accepted("NM-2", email: "jane@example.co.uk", country: "GB", name: "Jane <Doe>"),
            Self.accepted("NM-3", email: nil, country: "DE", name: "Ohne Adresse"),
        ])
        try eventually(timeout: 30, "contacts") {
            try rig.database.query("SELECT count(*) AS n FROM notifier.contacts").first!.decode("n", as: Int.self) == 2
        }
        try rig.producer.publish([
            Self.notification("NM-1", template: "shipped", facts: ["fulfillmentOrderId": "FO-NM-1-1", "parcels": [
                ["trackingNumber": "00340434", "carrier": "DHL", "trackingUrl": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434"],
            ]]),
            Self.notification("NM-2", template: "return-authorized", facts: ["rma": "R-0000012", "shopPaysReturnShipping": false]),
            Self.notification("NM-3", template: "shipped", facts: ["parcels": []]),
            refund, refund,
        ])
        try eventually(timeout: 60, "five mails sent") {
            try rig.database.query("SELECT count(*) AS n FROM notifier.mails WHERE status = 'sent'").first!.decode("n", as: Int.self) == 5
        }
        let mails = try String(contentsOfFile: received, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(mails.count == 5, "\(mails.map { $0["subject"]?.stringValue ?? "" })")
        #expect(mails.allSatisfy { $0["tls"] == .bool(true) && $0["from"]?.stringValue == "service@berg-und-beutel.example" })
        func mail(_ subject: String) -> JSONValue? { mails.first { $0["subject"]?.stringValue == subject } }
        let received1 = try #require(mail("Ihre Bestellung NM-1 ist eingegangen"), "\(mails.map { $0["subject"]?.stringValue ?? "" })")
        #expect(received1["to"]?.arrayValue?.first?.stringValue == "lena@example.org")
        #expect(received1["text"]?.stringValue?.contains("Hallo Lena Müller,") == true)
        #expect(mail("We received your order NM-2")?["text"]?.stringValue?.contains("Hello Jane <Doe>,") == true)
        // HTML is escaped; the text part is not.
        #expect(mail("We received your order NM-2")?["html"]?.stringValue?.contains("Hello Jane &lt;Doe&gt;,") == true)
        let shipped = try #require(mail("Bestellung NM-1 ist unterwegs"))
        #expect(shipped["text"]?.stringValue?.contains("Sendungsverfolgung (DHL): https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434") == true,
                "\(shipped)")
        #expect(shipped["html"]?.stringValue?.contains("<p>Ihr Paket ist unterwegs.</p>") == true)
        #expect(mail("Your return R-0000012 is registered")?["text"]?.stringValue?.contains("return number R-0000012") == true)
        #expect(mail("Erstattung zu Ihrer Rücksendung R-0000011")?["text"]?.stringValue?.contains("wir erstatten Ihnen 199.90 EUR") == true)
        // No address, no mail; the same event twice, one mail.
        #expect(try rig.database.query("SELECT count(*) AS n FROM notifier.mails WHERE order_id = 'NM-3'").first!.decode("n", as: Int.self) == 0)
        #expect(mails.filter { $0["subject"]?.stringValue == "Erstattung zu Ihrer Rücksendung R-0000011" }.count == 1)

        // SMS only for the templates that have one and only to a mobile number: NM-1's shipment, once, after a retry.
        do {
            try eventually(timeout: 30, "the SMS sent") {
                try rig.database.query("SELECT count(*) AS n FROM notifier.sms WHERE status = 'sent'").first!.decode("n", as: Int.self) == 1
            }
        } catch {
            let rows = try rig.database.query("SELECT status, attempts, coalesce(last_error, '') AS e FROM notifier.sms").map {
                "\(try $0.decode("status", as: String.self)) \(try $0.decode("attempts", as: Int32.self)) \(try $0.decode("e", as: String.self))"
            }
            let phones = try rig.database.query("SELECT order_id, coalesce(phone, '-') AS p FROM notifier.contacts").map { "\(try $0.decode("order_id", as: String.self)) \(try $0.decode("p", as: String.self))" }
            Issue.record("SMS rows: \(rows); contacts: \(phones)")
            throw error
        }
        let sms = try String(contentsOfFile: smsLog, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        #expect(sms.count == 1, "\(sms)")
        #expect(sms.first?["to"]?.stringValue == "+491511234567")
        #expect(sms.first?["text"]?.stringValue == "Bestellung NM-1 ist unterwegs https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434")
        #expect(try rig.database.query("SELECT attempts FROM notifier.sms").first!.decode("attempts", as: Int32.self) == 2)
    }
}
