import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Shared
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Raises the alerts that the handler committed: an error-level log line, and
/// a JSON POST to `OMS_ALERT_WEBHOOK_URL` when set, retried with backoff.
/// Runs on its own thread (libpq blocks).
struct AlertDispatcher: Service {
    let databaseURL: String
    let webhookURL: URL?
    let logger: Logger
    /// Tries per alert before it is marked failed (`OMS_ALERT_WEBHOOK_ATTEMPTS`, default 8: about half a minute of backoff on average).
    var maximumAttempts = 8

    func run() async throws {
        let this = self
        try await DedicatedThread.run(name: "oms-alerting-dispatcher") { stop in this.loop(stop: stop) }
    }

    private func loop(stop: StopSignal) {
        let backoff = Backoff(baseMillis: 500, capMillis: 60_000)
        var attempts: [Int64: Int] = [:]
        // A failing webhook waits for its next try without holding up the alerts behind it.
        var notBefore: [Int64: Date] = [:]
        var database: PostgresConnection?
        while !stop.isRequested {
            do {
                if database == nil { database = try PostgresConnection(url: databaseURL, applicationName: "oms-alerting-dispatcher", logger: logger) }
                guard let connection = database else { continue }
                let now = Date()
                let waiting = notBefore.filter { $0.value > now }.map(\.key)
                let pending = try connection.query("""
                    SELECT a.id, a.stage, a.error_class, d.reason, d.original_topic, d.original_partition, d.original_offset,
                           coalesce(d.original_event_id, '') AS event_id, d.id AS dead_letter_id,
                           (SELECT count(*) FROM alerting.alerts b WHERE b.stage = a.stage AND b.error_class = a.error_class
                              AND b.raised_at >= a.raised_at AND NOT b.notified) AS folded
                    FROM alerting.alerts a JOIN alerting.dead_letters d ON d.id = a.dead_letter_id
                    WHERE a.webhook_status = 'pending' AND NOT (a.id = ANY(\(waiting)::bigint[])) ORDER BY a.id LIMIT 100
                    """)
                for row in pending {
                    let id: Int64 = try row.decode("id")
                    let alert: JSONValue = [
                        "alert": "dead-letter", "stage": .string(try row.decode("stage")),
                        "errorClass": .string(try row.decode("error_class")), "reason": .string(try row.decode("reason")),
                        "topic": .string(try row.decode("original_topic")), "partition": .integer(try row.decode("original_partition")),
                        "offset": .integer(try row.decode("original_offset")), "eventId": .string(try row.decode("event_id")),
                        "deadLetterId": .integer(try row.decode("dead_letter_id")),
                        "hint": .string("omsctl dlq show \(try row.decode("dead_letter_id", as: Int64.self))"),
                    ]
                    if attempts[id] == nil {
                        let stage: String = try row.decode("stage")
                        let errorClass: String = try row.decode("error_class")
                        let reason: String = try row.decode("reason")
                        let deadLetterID: Int64 = try row.decode("dead_letter_id")
                        logger.error("ALERT dead letter", metadata: [
                            "stage": "\(stage)", "error_class": "\(errorClass)", "reason": "\(reason.prefix(300))",
                            "dead_letter_id": "\(deadLetterID)",
                        ])
                    }
                    let status: String
                    if let webhookURL {
                        if post(alert, to: webhookURL) {
                            status = "sent"
                        } else {
                            let attempt = (attempts[id] ?? 0) + 1
                            attempts[id] = attempt
                            if attempt < maximumAttempts {
                                notBefore[id] = Date().addingTimeInterval(Double(backoff.delayMillis(attempt: attempt)) / 1000)
                                continue
                            }
                            logger.error("alert webhook failed for good", metadata: ["alert": "\(id)", "attempts": "\(attempt)"])
                            status = "failed"
                        }
                    } else {
                        status = "logged"
                    }
                    attempts[id] = nil
                    notBefore[id] = nil
                    try connection.query("UPDATE alerting.alerts SET webhook_status = \(status) WHERE id = \(id)")
                }
                if pending.count == 0 { stop.sleep(millis: waiting.isEmpty ? 500 : 200) }
            } catch {
                logger.warning("alert dispatcher: \(error)")
                database = nil
                stop.sleep(millis: 2_000)
            }
        }
    }

    private func post(_ alert: JSONValue, to url: URL) -> Bool {
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(alert.serialized())
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        URLSession.shared.dataTask(with: request) { _, response, _ in
            result.set(((response as? HTTPURLResponse)?.statusCode).map { (200..<300).contains($0) } ?? false)
            done.signal()
        }.resume()
        done.wait()
        return result.value
    }
}

private final class ResultBox: Sendable {
    private let stored = Mutex(false)
    func set(_ value: Bool) { stored.withLock { $0 = value } }
    var value: Bool { stored.withLock { $0 } }
}
