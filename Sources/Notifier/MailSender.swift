import Foundation
import Logging
import NotifierCore
import ServiceLifecycle
import Shared

/// Sends the pending customer e-mails over SMTP on a thread of its own: one connection per round, STARTTLS when
/// offered (or required), each mail marked sent in its own statement; a temporary failure waits with backoff, a 5xx
/// answer (or the last try) ends the mail as dead. Each mail is sent once per event id (the table's key).
struct MailSender: Service {
    let databaseURL: String
    let smtp: SMTPSettings
    let logger: Logger
    var maximumAttempts = 8

    func run() async throws {
        let this = self
        try await DedicatedThread.run(name: "oms-mail-sender") { stop in this.loop(stop: stop) }
    }

    private func loop(stop: StopSignal) {
        let backoff = Backoff(baseMillis: 1_000, capMillis: 600_000)
        var database: PostgresConnection?
        while !stop.isRequested {
            do {
                if database == nil { database = try PostgresConnection(url: databaseURL, applicationName: "oms-mail-sender", logger: logger) }
                guard let connection = database else { continue }
                let due = try connection.query("""
                    SELECT id, event_id, recipient, subject, text_body, html_body, attempts FROM notifier.mails
                    WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 100
                    """)
                var batch: [(id: Int64, attempts: Int32, message: MailMessage)] = []
                for row in due {
                    batch.append((try row.decode("id"), try row.decode("attempts"), MailMessage(
                        from: smtp.from, to: try row.decode("recipient"), subject: try row.decode("subject"), text: try row.decode("text_body"),
                        html: try row.decode("html_body"), messageID: "\(try row.decode("event_id", as: String.self))@oms-notifier", date: Date())))
                }
                guard !batch.isEmpty else {
                    _ = stop.sleep(millis: 500)
                    continue
                }
                var smtpConnection: SMTPConnection?
                defer { smtpConnection?.close() }
                for item in batch {
                    do {
                        if smtpConnection == nil { smtpConnection = try SMTPConnection(settings: smtp) }
                        try smtpConnection?.send(item.message, boundary: "oms-\(item.id)-\(UUID().uuidString.prefix(8))")
                        try connection.query("UPDATE notifier.mails SET status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = NULL WHERE id = \(item.id)")
                    } catch {
                        let tries = Int(item.attempts) + 1
                        let permanent = (error as? SMTPError)?.permanent ?? false
                        let dead = permanent || tries >= maximumAttempts
                        let wait = backoff.delayMillis(attempt: tries)
                        try connection.query("""
                            UPDATE notifier.mails SET attempts = \(Int32(tries)), last_error = \(String(describing: error).prefix(500).description),
                                status = \(dead ? "dead" : "pending"), next_attempt_at = now() + make_interval(secs => \(Double(wait) / 1000))
                            WHERE id = \(item.id) AND status = 'pending'  -- an erasure meanwhile wins
                            """)
                        logger.warning(dead ? "e-mail given up" : "e-mail failed; will retry", metadata: ["mail": "\(item.id)", "attempt": "\(tries)", "error": "\(error)"])
                        // A broken connection is not used for the next mail.
                        smtpConnection?.close()
                        smtpConnection = nil
                        if !permanent { break }
                    }
                }
            } catch {
                logger.warning("mail sender failed; reconnecting", metadata: ["error": "\(error)"])
                database = nil
                _ = stop.sleep(millis: 1_000)
            }
        }
    }
}
