internal import CRdKafka
import Foundation
import Logging

/// An idempotent producer (`enable.idempotence`, `acks=all`, compressed).
///
/// `publish` returns only when every message has a successful delivery report,
/// which is what lets a caller mark outbox rows as sent.
public final class KafkaProducer {
    private let handle: RDKafkaPointer
    private let context: RDKafkaCallbackContext
    private let deliveryTimeoutMillis: Int32

    public init(configuration: KafkaConfiguration, logger: Logger, deliveryTimeoutMillis: Int32 = 35_000) throws {
        context = RDKafkaCallbackContext(logger: logger)
        let conf = try RDKafka.makeConf(configuration.producerProperties(), context: context)
        rd_kafka_conf_set_dr_msg_cb(conf, producerDeliveryCallback)
        handle = RDKafkaPointer(raw: try RDKafka.makeHandle(type: RD_KAFKA_PRODUCER, conf: conf))
        self.deliveryTimeoutMillis = deliveryTimeoutMillis
    }

    deinit {
        // Nothing is outstanding after a completed publish; after an abandoned one
        // the queue was purged, so this returns at once even with the broker gone.
        rd_kafka_flush(handle.raw, 5_000)
        rd_kafka_destroy(handle.raw)
    }

    /// Publishes the messages and waits for their delivery reports.
    /// Throws the first failure; on throw some messages may have been delivered
    /// (callers rely on deterministic event ids to make a retry harmless).
    ///
    /// `abandon` is asked between short waits: when it says so (a stop that must
    /// not wait for a broker that does not answer), the messages still queued or
    /// in flight are purged and `KafkaError.abandoned` is thrown; their outbox rows
    /// stay unsent and are published again by the next run.
    public func publish(_ messages: [OutgoingMessage], abandon: () -> Bool = { false }) throws {
        if messages.isEmpty { return }
        context.deliveryFailures.withLock { $0.removeAll() }
        context.deliveredCount.store(0, ordering: .relaxed)
        for message in messages {
            try produce(message)
        }
        var flushResult = RD_KAFKA_RESP_ERR__TIMED_OUT
        var waited: Int32 = 0
        while waited < deliveryTimeoutMillis {
            let slice = min(Self.waitSliceMillis, deliveryTimeoutMillis - waited)
            flushResult = rd_kafka_flush(handle.raw, slice)
            if flushResult != RD_KAFKA_RESP_ERR__TIMED_OUT { break }
            waited += slice
            if abandon() {
                let confirmed = context.deliveredCount.load(ordering: .relaxed)
                rd_kafka_purge(handle.raw, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
                throw KafkaError.abandoned("\(max(0, messages.count - confirmed)) of \(messages.count) delivery reports missing after \(waited) ms")
            }
        }
        if let failure = context.deliveryFailures.withLock({ $0.first }) { throw failure }
        if let fatal = fatalError() { throw fatal }
        if flushResult != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw RDKafka.error(flushResult, "delivery reports missing after \(deliveryTimeoutMillis) ms")
        }
    }

    /// How often a wait for the broker looks up from librdkafka to ask whether to give up.
    static let waitSliceMillis: Int32 = 100

    private func produce(_ message: OutgoingMessage) throws {
        var headers: OpaquePointer?
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for (name, value) in message.headers {
                _ = value.withUnsafeBytes { rd_kafka_header_add(headers, name, -1, $0.baseAddress, $0.count) }
            }
        }
        while true {
            let result = message.value.withUnsafeBytes { value in
                withOptionalBytes(message.key) { key in
                    oms_rdk_produce(handle.raw, message.topic, message.partition ?? RD_KAFKA_PARTITION_UA,
                                    value.baseAddress, value.count, key?.baseAddress, key?.count ?? 0, headers, nil)
                }
            }
            if result == RD_KAFKA_RESP_ERR_NO_ERROR { return }  // librdkafka now owns headers
            if result == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_poll(handle.raw, 50)
                continue
            }
            if let headers { rd_kafka_headers_destroy(headers) }
            throw RDKafka.error(result, "producing to \(message.topic)")
        }
    }

    private func fatalError() -> KafkaError? {
        var text = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle.raw, &text, text.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(code: code.rawValue, name: String(cString: rd_kafka_err2name(code)),
                          message: RDKafka.text(text), isRetriable: false, isFatal: true)
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

private let producerDeliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    handle, message, _ in
    guard let context = RDKafka.context(of: handle), let message else { return }
    let code = message.pointee.err
    if code == RD_KAFKA_RESP_ERR_NO_ERROR {
        context.deliveredCount.add(1, ordering: .relaxed)
    } else {
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        let failure = RDKafka.error(code, "delivery to \(topic) failed")
        context.deliveryFailures.withLock { $0.append(failure) }
    }
}
