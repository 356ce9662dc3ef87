import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Sends the pending SMS through the configured HTTP gateway (`OMS_SMS_GATEWAY_URL`, JSON `{to, text, reference}`,
/// bearer `OMS_SMS_GATEWAY_TOKEN`) on a thread of its own; a failure waits with backoff, a 4xx other than 429 (or the
/// 8th failure) ends the message as dead.
struct SMSSender: Service {
    let databaseURL: String
    let gateway: URL
    let token: String?
    let logger: Logger
    var maximumAttempts = 8

    static func read(_ environment: [String: String]) throws -> (URL, String?)? {
        guard let text = environment["OMS_SMS_GATEWAY_URL"], !text.isEmpty else { return nil }
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigurationError(setting: "OMS_SMS_GATEWAY_URL", problem: "must be an http(s) URL")
        }
        return (url, environment["OMS_SMS_GATEWAY_TOKEN"])
    }

    func run() async throws {
        let this = self
        try await DedicatedThread.run(name: "oms-sms-sender") { stop in this.loop(stop: stop) }
    }

    private func loop(stop: StopSignal) {
        let backoff = Backoff(baseMillis: 1_000, capMillis: 600_000)
        var database: PostgresConnection?
        while !stop.isRequested {
            do {
                if database == nil { database = try PostgresConnection(url: databaseURL, applicationName: "oms-sms-sender", logger: logger) }
                guard let connection = database else { continue }
                let due = try connection.query("""
                    SELECT id, event_id, phone, text_body, attempts FROM notifier.sms WHERE status = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id LIMIT 100
                    """)
                var sent = 0
                for row in due {
                    sent += 1
                    let id: Int64 = try row.decode("id")
                    let body = JSONValue.object(["to": .string(try row.decode("phone")), "text": .string(try row.decode("text_body")),
                                                 "reference": .string(try row.decode("event_id"))]).serializedString
                    var headers = [("Content-Type", "application/json")]
                    if let token { headers.append(("Authorization", "Bearer \(token)")) }
                    let outcome = HTTPPost.send(gateway, body: Array(body.utf8), headers: headers, timeoutSeconds: 10)
                    if outcome.delivered {
                        try connection.query("UPDATE notifier.sms SET status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = NULL WHERE id = \(id)")
                        continue
                    }
                    let tries = Int(try row.decode("attempts", as: Int32.self)) + 1
                    let refused = outcome.status.map { (400..<500).contains($0) && $0 != 429 } ?? false
                    let dead = refused || tries >= maximumAttempts
                    try connection.query("""
                        UPDATE notifier.sms SET attempts = \(Int32(tries)), last_error = \(outcome.error), status = \(dead ? "dead" : "pending"),
                            next_attempt_at = now() + make_interval(secs => \(Double(backoff.delayMillis(attempt: tries)) / 1000))
                        WHERE id = \(id) AND status = 'pending'  -- an erasure meanwhile wins
                        """)
                }
                if sent == 0 { _ = stop.sleep(millis: 500) }
            } catch {
                logger.warning("SMS sender failed; reconnecting", metadata: ["error": "\(error)"])
                database = nil
                _ = stop.sleep(millis: 1_000)
            }
        }
    }
}
