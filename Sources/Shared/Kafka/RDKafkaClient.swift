internal import CRdKafka
import Foundation
import Logging
import Synchronization

/// The one place that lets a librdkafka handle pointer cross into Sendable types.
struct RDKafkaPointer: @unchecked Sendable {
    let raw: OpaquePointer
}

/// State shared with librdkafka's callbacks through the instance's opaque pointer.
final class RDKafkaCallbackContext: Sendable {
    let logger: Logger
    let deliveryFailures = Mutex<[KafkaError]>([])
    let deliveredCount = Atomic<Int>(0)
    let assignment = Mutex<Set<TopicPartition>>([])
    /// Increases whenever partitions are revoked, so a holder of in-flight
    /// messages can tell that it must re-check its assignment.
    let revocations = Atomic<Int>(0)
    let onRevoke: (@Sendable (Set<TopicPartition>) -> Void)?

    init(logger: Logger, onRevoke: (@Sendable (Set<TopicPartition>) -> Void)? = nil) {
        self.logger = logger
        self.onRevoke = onRevoke
    }
}

enum RDKafka {
    /// A NUL-terminated error buffer filled by librdkafka.
    static func text(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func error(_ code: rd_kafka_resp_err_t, _ detail: String? = nil) -> KafkaError {
        let name = String(cString: rd_kafka_err2name(code))
        let text = String(cString: rd_kafka_err2str(code))
        return KafkaError(code: code.rawValue, name: name, message: detail.map { "\(text): \($0)" } ?? text,
                          isRetriable: false)
    }

    static func error(from errorObject: OpaquePointer) -> KafkaError {
        defer { rd_kafka_error_destroy(errorObject) }
        let code = rd_kafka_error_code(errorObject)
        return KafkaError(code: code.rawValue, name: String(cString: rd_kafka_error_name(errorObject)),
                          message: String(cString: rd_kafka_error_string(errorObject)),
                          isRetriable: rd_kafka_error_is_retriable(errorObject) != 0,
                          isFatal: rd_kafka_error_is_fatal(errorObject) != 0)
    }

    /// Builds a configuration object; unknown properties or values are a configuration error.
    static func makeConf(_ properties: [String: String], context: RDKafkaCallbackContext) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError.configuration("rd_kafka_conf_new failed") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError.configuration("property \(key): \(RDKafka.text(errorText))")
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdkafkaLogCallback)
        return conf
    }

    static func makeHandle(type: rd_kafka_type_t, conf: OpaquePointer) throws -> OpaquePointer {
        var errorText = [CChar](repeating: 0, count: 512)
        // rd_kafka_new takes ownership of conf only on success.
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.configuration(RDKafka.text(errorText))
        }
        return handle
    }

    static func context(of handle: OpaquePointer?) -> RDKafkaCallbackContext? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<RDKafkaCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    }

    static func partitionList(_ partitions: some Collection<(TopicPartition, Int64)>) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for (tp, offset) in partitions {
            rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset
        }
        return list
    }

    static func topicPartitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, Int64)] {
        (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            return (TopicPartition(topic: String(cString: element.topic), partition: element.partition), element.offset)
        }
    }
}

/// librdkafka logs through swift-log; syslog levels map onto Logger levels.
private let rdkafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, text in
    guard let context = RDKafka.context(of: handle) else { return }
    let logLevel: Logger.Level
    switch level {
    case ...3: logLevel = .error
    case 4: logLevel = .warning
    case 5, 6: logLevel = .info
    default: logLevel = .debug
    }
    let facilityText = facility.map { String(cString: $0) } ?? "?"
    context.logger.log(level: logLevel, "\(text.map { String(cString: $0) } ?? "")",
                       metadata: ["librdkafka": "\(facilityText)"])
}
