import Foundation
import FulfillmentCore
import Logging
import ServiceLifecycle
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// `oms-fulfillment print-agent`: takes the label jobs of oms.labels and sends
/// their ZPL to the packing station's thermal printer the way Zebra printers take
/// it (raw TCP, port 9100). Printing never blocks packing: jobs are queued
/// exactly once per `Label.PrintRequested` (the shared processing loop), and a
/// sender sends them, retrying a printer that is off or out of paper with backoff.
/// After the last try the job is failed and dead-lettered (alerted). A job whose
/// sending a crash interrupted is never sent again on its own — it may have
/// printed — but alerted for a person to reprint (`omsctl label reprint SSCC`).
struct PrintJobHandler: StageHandler {
    let definition = StageDefinition(name: "print-agent", schema: "printing", consumerGroup: "oms-print-agent", topics: [Topic.omsLabels])
    let maximumEventBytes: Int
    let printers: Set<String>

    struct Job: Sendable {
        let jobID: String
        let printerID: String
        let sscc: String
        let zpl: String
    }

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<Job?> {
        let event = try CloudEvent.decode(message.value, maximumBytes: maximumEventBytes)
        guard event.type == "Label.PrintRequested" else {
            throw .wrongTopic("event type \"\(event.type.prefix(80))\" does not belong on oms.labels")
        }
        try EventContracts.validateData(of: event, accepted: ["Label.PrintRequested"])
        let data = event.data
        guard let id = data["jobId"]?.stringValue, let printer = data["printerId"]?.stringValue, let sscc = data["sscc"]?.stringValue,
              let zpl = data["zpl"]?.stringValue else { throw .schemaViolation("data: jobId, printerId, sscc and zpl are required") }
        guard printers.contains(printer) else {
            throw .businessRule("printer \(printer) is not configured (fulfillment.json printers); the label for \(sscc) cannot be printed")
        }
        guard zpl.hasPrefix("^XA"), zpl.contains("^XZ") else { throw .schemaViolation("data.zpl: a label starts with ^XA and ends with ^XZ") }
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id,
                              input: Job(jobID: id, printerID: printer, sscc: sscc, zpl: zpl))
    }

    func apply(_ batch: [DecodedMessage<Job?>], database: PostgresConnection) throws -> [MessageOutcome] {
        let jobs = batch.compactMap(\.input)
        try PrintJobStore(database: database).queue(jobs)
        return batch.map { message in
            .processed(emit: [], audit: message.input.map {
                [AuditRecord(subject: $0.sscc, action: "Label.Queued", actor: "print-agent", reason: "job \($0.jobID) for printer \($0.printerID)")]
            } ?? [])
        }
    }
}

struct PrintJobStore {
    let database: PostgresConnection

    struct Claimed {
        let jobID: String
        let printerID: String
        let sscc: String
        let zpl: String
        let attempts: Int
    }

    func queue(_ jobs: [PrintJobHandler.Job]) throws {
        guard !jobs.isEmpty else { return }
        try database.query("""
            INSERT INTO printing.print_jobs (job_id, sscc, printer_id, zpl, status)
            SELECT DISTINCT ON (j) j, s, p, z, 'queued' FROM unnest(\(jobs.map(\.jobID))::text[], \(jobs.map(\.sscc))::text[],
                                                                  \(jobs.map(\.printerID))::text[], \(jobs.map(\.zpl))::text[]) AS u(j, s, p, z)
            ORDER BY j
            ON CONFLICT (job_id) DO NOTHING
            """)
    }

    /// Jobs a crash left half-sent: never sent again, alerted instead.
    func interruptSending() throws -> [Claimed] {
        try database.query("""
            UPDATE printing.print_jobs SET status = 'interrupted', updated_at = now() WHERE status = 'sending'
            RETURNING job_id, printer_id, sscc, zpl, attempts
            """).map(Self.claimed)
    }

    /// Takes the next due job (committed as `sending` before a byte leaves).
    func claim() throws -> Claimed? {
        try database.transaction { db in
            try db.query("""
                UPDATE printing.print_jobs SET status = 'sending', attempts = attempts + 1, updated_at = now()
                WHERE job_id = (SELECT job_id FROM printing.print_jobs WHERE status = 'queued' AND next_attempt_at <= now()
                                ORDER BY next_attempt_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING job_id, printer_id, sscc, zpl, attempts
                """).first.map(Self.claimed)
        }
    }

    func printed(_ jobID: String) throws {
        // A printed label's ZPL holds the recipient's address and is not needed again (a reprint is rendered anew).
        try database.query("UPDATE printing.print_jobs SET status = 'printed', zpl = '', last_error = NULL, updated_at = now() WHERE job_id = \(jobID)")
    }

    func retryLater(_ jobID: String, afterMillis delay: Int, error: String) throws {
        try database.query("""
            UPDATE printing.print_jobs SET status = 'queued', last_error = \(error), updated_at = now(),
                next_attempt_at = now() + make_interval(secs => \(Double(delay) / 1000))
            WHERE job_id = \(jobID)
            """)
    }

    func failed(_ jobID: String, error: String) throws {
        try database.query("UPDATE printing.print_jobs SET status = 'failed', last_error = \(error), updated_at = now() WHERE job_id = \(jobID)")
    }

    /// Failed or interrupted jobs not yet alerted (an alert that could not be published is tried again).
    func unalerted() throws -> [(claimed: Claimed, status: String, error: String?)] {
        try database.query("""
            SELECT job_id, printer_id, sscc, zpl, attempts, status, last_error FROM printing.print_jobs
            WHERE status IN ('failed', 'interrupted') AND alerted_at IS NULL ORDER BY updated_at LIMIT 100
            """).map { (try Self.claimed($0), try $0.decode("status"), try $0.decodeIfPresent("last_error")) }
    }

    func alerted(_ jobID: String) throws {
        try database.query("UPDATE printing.print_jobs SET alerted_at = now() WHERE job_id = \(jobID)")
    }

    static func claimed(_ row: PostgresRow) throws -> Claimed {
        Claimed(jobID: try row.decode("job_id"), printerID: try row.decode("printer_id"), sscc: try row.decode("sscc"), zpl: try row.decode("zpl"),
                attempts: try row.decode("attempts"))
    }
}

/// Sends queued jobs to their printers; one job at a time per agent (a printer is a serial device anyway).
struct LabelSender: Service {
    let settings: WorkerSettings
    let printers: [String: FulfillmentRules.Printer]
    let logger: Logger
    let maximumAttempts: Int
    let timeoutMillis: Int
    let backoff: Backoff

    init(settings: WorkerSettings, printers: [String: FulfillmentRules.Printer], logger: Logger) throws {
        self.settings = settings
        self.printers = printers
        self.logger = logger
        let env = settings.environment
        maximumAttempts = try Self.setting("OMS_PRINT_ATTEMPTS", env, 1...100, 5)
        timeoutMillis = try Self.setting("OMS_PRINT_TIMEOUT_MS", env, 100...120_000, 3_000)
        backoff = Backoff(baseMillis: try Self.setting("OMS_PRINT_RETRY_BASE_MS", env, 10...600_000, 500),
                          capMillis: try Self.setting("OMS_PRINT_RETRY_MAX_MS", env, 10...3_600_000, 30_000))
    }

    static func setting(_ name: String, _ env: [String: String], _ range: ClosedRange<Int>, _ fallback: Int) throws -> Int {
        guard let text = env[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(setting: name, problem: "must be a whole number in \(range.lowerBound)…\(range.upperBound), found \"\(text)\"")
        }
        return value
    }

    func run() async throws {
        try await DedicatedThread.run(name: "label-sender") { stop in
            var database: PostgresConnection?
            var producer: KafkaProducer?
            while !stop.isRequested {
                do {
                    if database == nil { database = try PostgresConnection(url: settings.databaseURL, applicationName: "oms-print-agent", logger: logger) }
                    if producer == nil {
                        producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: settings.kafkaBrokers, overrides: settings.kafkaOverrides), logger: logger)
                    }
                    guard let db = database, let producer else { continue }
                    let store = PrintJobStore(database: db)
                    for job in try store.interruptSending() {
                        logger.error("label job interrupted while sending; not sent again", metadata: ["job": "\(job.jobID)", "sscc": "\(job.sscc)"])
                    }
                    while !stop.isRequested {
                        try alert(store, producer)
                        guard let job = try store.claim() else {
                            _ = stop.sleep(millis: 100)
                            continue
                        }
                        send(job, store: store)
                    }
                } catch {
                    logger.warning("print agent: database or broker unavailable; will try again", metadata: ["error": "\(error)"])
                    database = nil
                    _ = stop.sleep(millis: 1_000)
                }
            }
        }
    }

    func send(_ job: PrintJobStore.Claimed, store: PrintJobStore) {
        guard let printer = printers[job.printerID] else {
            try? store.failed(job.jobID, error: "printer \(job.printerID) is no longer configured")
            return
        }
        do {
            try PrinterConnection.send(Array(job.zpl.utf8), host: printer.host, port: printer.port, timeoutMillis: timeoutMillis)
            try store.printed(job.jobID)
            logger.info("label printed", metadata: ["job": "\(job.jobID)", "printer": "\(printer.id)"])
        } catch let error as PrinterConnection.Failure {
            let why = "printer \(printer.id) at \(printer.host):\(printer.port): \(error.description) (attempt \(job.attempts) of \(maximumAttempts))"
            logger.warning("label not printed", metadata: ["job": "\(job.jobID)", "error": "\(why)"])
            if job.attempts >= maximumAttempts {
                try? store.failed(job.jobID, error: why)
            } else {
                try? store.retryLater(job.jobID, afterMillis: backoff.delayMillis(attempt: job.attempts), error: why)
            }
        } catch {
            logger.error("print job bookkeeping failed", metadata: ["job": "\(job.jobID)", "error": "\(error)"])
        }
    }

    /// Failed and interrupted jobs go to the dead-letter topic (alerting raises them), once.
    func alert(_ store: PrintJobStore, _ producer: KafkaProducer) throws {
        for (job, status, error) in try store.unalerted() {
            let reason = status == "interrupted"
                ? "label \(job.sscc) for printer \(job.printerID): sending was interrupted by a restart; check the printer and reprint with `omsctl label reprint \(job.sscc)` if it did not come out"
                : "label \(job.sscc) not printed after \(job.attempts) attempts: \(error ?? "unknown error"); reprint with `omsctl label reprint \(job.sscc)`"
            let id = EventID.derived("print-dead-letter", job.jobID, status)
            let headers: [(String, String)] = [
                (DeadLetterHeader.id, id), (DeadLetterHeader.stage, "print-agent"),
                (DeadLetterHeader.errorClass, status == "interrupted" ? "print-interrupted" : "printer-unreachable"),
                (DeadLetterHeader.errorMessage, String(reason.prefix(2_000))), (DeadLetterHeader.attempts, String(job.attempts)),
                (DeadLetterHeader.originalTopic, Topic.omsLabels), (DeadLetterHeader.failedAt, EventTime.format(Date())),
                (DeadLetterHeader.replayable, "false"),
            ]
            let payload: JSONValue = ["jobId": .string(job.jobID), "sscc": .string(job.sscc), "printerId": .string(job.printerID), "status": .string(status)]
            try producer.publish([OutgoingMessage(topic: Topic.omsDLQ, key: job.sscc, value: Array(payload.serializedString.utf8), headers: headers)])
            try store.alerted(job.jobID)
        }
    }
}

/// Raw TCP to a label printer (Zebra "port 9100"): connect, write every byte, close.
enum PrinterConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func send(_ bytes: [UInt8], host: String, port: Int, timeoutMillis: Int) throws(Failure) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { throw Failure(description: "cannot resolve \(host)") }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "no socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutMillis / 1000, tv_usec: (timeoutMillis % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Non-blocking connect bounded by the timeout (a printer that is off does not answer at all).
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw Failure(description: "connection refused (\(String(cString: strerror(errno))))") }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, Int32(timeoutMillis)) == 1 else { throw Failure(description: "no answer within \(timeoutMillis) ms") }
            var problem: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &problem, &length)
            guard problem == 0 else { throw Failure(description: "connection failed (\(String(cString: strerror(problem))))") }
        }
        _ = fcntl(fd, F_SETFL, flags)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "connection lost after \(sent) of \(bytes.count) bytes (\(String(cString: strerror(errno))))") }
            sent += n
        }
        shutdown(fd, Int32(SHUT_WR))
    }
}

enum PrintAgentMain {
    static func run() async -> Never {
        await WorkerMain.run(stage: "print-agent") { settings in
            let printers = try FulfillmentMain.rules(settings).versions.flatMap { $0.rules.printers.keys }
            return PrintJobHandler(maximumEventBytes: settings.maximumEventBytes, printers: Set(printers))
        } additionalServices: { settings, logger in
            let printers = try FulfillmentMain.rules(settings).versions.reduce(into: [String: FulfillmentRules.Printer]()) { all, version in
                all.merge(version.rules.printers) { _, newer in newer }
            }
            return [try LabelSender(settings: settings, printers: printers, logger: logger)]
        }
    }
}
