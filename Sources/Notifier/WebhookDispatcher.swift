import Foundation
import Logging
import NotifierCore
import ServiceLifecycle
import Shared
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends the webhook outbox: one thread and one database connection per endpoint, so that a slow or failing
/// endpoint never delays another. Each try is signed afresh (Standard Webhooks: a new timestamp, every current
/// secret); a failure waits with exponential backoff and full jitter; after the endpoint's last try the delivery
/// is that endpoint's dead letter (`omsctl webhooks list --dead`, `replay`). Secrets never reach a log line.
struct WebhookDispatcher: Service {
    let databaseURL: String
    let endpoint: WebhookRules.Endpoint
    let keys: [[UInt8]]
    let logger: Logger

    func run() async throws {
        let this = self
        try await DedicatedThread.run(name: "oms-webhooks-\(endpoint.id)") { stop in this.loop(stop: stop) }
    }

    private func loop(stop: StopSignal) {
        let backoff = Backoff(baseMillis: 500, capMillis: 300_000)
        var database: PostgresConnection?
        var logger = self.logger
        logger[metadataKey: "endpoint"] = "\(endpoint.id)"
        while !stop.isRequested {
            do {
                if database == nil { database = try PostgresConnection(url: databaseURL, applicationName: "oms-webhooks-\(endpoint.id)", logger: logger) }
                guard let connection = database else { continue }
                let due = try connection.query("""
                    SELECT id, event_id, body, attempts FROM notifier.webhook_deliveries
                    WHERE endpoint_id = \(endpoint.id) AND status = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id LIMIT 50
                    """)
                var sent = 0
                for row in due {
                    guard !stop.isRequested else { break }
                    let id: Int64 = try row.decode("id")
                    let eventID: String = try row.decode("event_id")
                    let body = Array(try row.decode("body", as: Data.self))
                    let attempts: Int32 = try row.decode("attempts")
                    let outcome = post(messageID: eventID, body: body)
                    sent += 1
                    if outcome.delivered {
                        try connection.query("""
                            UPDATE notifier.webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = \(outcome.status),
                                last_error = NULL, delivered_at = now() WHERE id = \(id)
                            """)
                        continue
                    }
                    let tries = Int(attempts) + 1
                    let dead = tries >= endpoint.maximumAttempts
                    let wait = backoff.delayMillis(attempt: tries)
                    try connection.query("""
                        UPDATE notifier.webhook_deliveries SET attempts = \(Int32(tries)), last_status = \(outcome.status), last_error = \(outcome.error),
                            status = \(dead ? "dead" : "pending"), next_attempt_at = now() + make_interval(secs => \(Double(wait) / 1000))
                        WHERE id = \(id)
                        """)
                    if dead {
                        logger.error("webhook delivery gave up", metadata: ["delivery": "\(id)", "event": "\(eventID)", "attempts": "\(tries)",
                                                                           "lastStatus": "\(outcome.status.map(String.init) ?? "none")"])
                    } else {
                        logger.notice("webhook delivery failed; will retry", metadata: ["delivery": "\(id)", "attempt": "\(tries)", "inMs": "\(wait)",
                                                                                       "error": "\(outcome.error ?? "")"])
                    }
                }
                if sent == 0 { _ = stop.sleep(millis: 200) }
            } catch {
                logger.warning("webhook dispatcher failed; reconnecting", metadata: ["error": "\(error)"])
                database = nil
                _ = stop.sleep(millis: 1000)
            }
        }
    }

    /// One signed POST; a 2xx is delivered, anything else (or no answer within the timeout) is a failure.
    func post(messageID: String, body: [UInt8]) -> (delivered: Bool, status: Int32?, error: String?) {
        var headers = [("Content-Type", "application/cloudevents+json"), ("User-Agent", "oms-notifier")]
        headers += StandardWebhook.headers(id: messageID, timestamp: Int64(Date().timeIntervalSince1970), body: body, keys: keys)
        return HTTPPost.send(endpoint.url, body: body, headers: headers, timeoutSeconds: endpoint.timeoutSeconds)
    }
}

/// A blocking POST for the notifier's sender threads (webhooks, the SMS gateway): 2xx is success; the deadline is strict.
enum HTTPPost {
    static func send(_ url: URL, body: [UInt8], headers: [(String, String)], timeoutSeconds: Int) -> (delivered: Bool, status: Int32?, error: String?) {
        var request = URLRequest(url: url, timeoutInterval: Double(timeoutSeconds))
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        let task = URLSession.shared.dataTask(with: request) { _, response, error in
            if let http = response as? HTTPURLResponse {
                result.set(status: Int32(http.statusCode), error: (200..<300).contains(http.statusCode) ? nil : "HTTP \(http.statusCode)")
            } else {
                result.set(status: nil, error: error.map { String(describing: type(of: $0)) + ": " + $0.localizedDescription } ?? "no response")
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + .seconds(timeoutSeconds)) == .timedOut {
            task.cancel()
            return (false, nil, "timed out after \(timeoutSeconds) s")
        }
        let (status, error) = result.get()
        return (error == nil, status, error.map { String($0.prefix(500)) })
    }
}

/// The answer of one request, handed from URLSession's queue to the dispatcher's thread.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var status: Int32?
    private var error: String? = "no response"

    func set(status: Int32?, error: String?) {
        lock.lock()
        self.status = status
        self.error = error
        lock.unlock()
    }

    func get() -> (Int32?, String?) {
        lock.lock()
        defer { lock.unlock() }
        return (status, error)
    }
}
