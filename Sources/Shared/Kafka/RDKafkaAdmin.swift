internal import CRdKafka
import Foundation
import Logging

/// Topic administration for `omsctl topics create`.
public final class KafkaAdmin {
    private let handle: RDKafkaPointer
    private let context: RDKafkaCallbackContext

    public init(configuration: KafkaConfiguration, logger: Logger) throws {
        context = RDKafkaCallbackContext(logger: logger)
        let conf = try RDKafka.makeConf(["bootstrap.servers": configuration.brokers], context: context)
        handle = RDKafkaPointer(raw: try RDKafka.makeHandle(type: RD_KAFKA_PRODUCER, conf: conf))
    }

    deinit { rd_kafka_destroy(handle.raw) }

    public enum TopicOutcome: Sendable, Equatable {
        case created
        case alreadyExists
    }

    /// Names and partition counts of the topics the cluster has.
    public func existingTopics(timeoutMillis: Int32 = 10_000) throws -> [String: Int] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(handle.raw, 1, nil, &metadata, timeoutMillis)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw RDKafka.error(result, "reading cluster metadata") }
        defer { rd_kafka_metadata_destroy(metadata) }
        var topics: [String: Int] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            if topic.err == RD_KAFKA_RESP_ERR_NO_ERROR { topics[String(cString: topic.topic)] = Int(topic.partition_cnt) }
        }
        return topics
    }

    /// Creates the topics that do not exist yet; an existing topic is reported, not an error.
    public func createTopics(_ names: [String], partitions: Int, replicationFactor: Int,
                             timeoutMillis: Int32 = 15_000) throws -> [String: TopicOutcome] {
        let existing = try existingTopics()
        var outcomes: [String: TopicOutcome] = [:]
        for name in names where existing[name] != nil { outcomes[name] = .alreadyExists }
        let missing = names.filter { existing[$0] == nil }
        if missing.isEmpty { return outcomes }
        return try create(missing, partitions: partitions, replicationFactor: replicationFactor, timeoutMillis: timeoutMillis)
            .merging(outcomes) { $1 }
    }

    private func create(_ names: [String], partitions: Int, replicationFactor: Int,
                        timeoutMillis: Int32) throws -> [String: TopicOutcome] {
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for name in names {
            guard let topic = rd_kafka_NewTopic_new(name, Int32(partitions), Int32(replicationFactor), &errorText, errorText.count) else {
                throw KafkaError.configuration("topic \(name): \(RDKafka.text(errorText))")
            }
            newTopics.append(topic)
        }
        let queue = rd_kafka_queue_new(handle.raw)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle.raw, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMillis, &errorText, errorText.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle.raw, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMillis + 5_000) else {
            throw RDKafka.error(RD_KAFKA_RESP_ERR__TIMED_OUT, "waiting for CreateTopics")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw RDKafka.error(eventError, rd_kafka_event_error_string(event).map { String(cString: $0) })
        }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
              let topics = rd_kafka_CreateTopics_result_topics(result, &count) else { return [:] }
        var outcomes: [String: TopicOutcome] = [:]
        for index in 0..<count {
            let topicResult = topics[index]
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let code = rd_kafka_topic_result_error(topicResult)
            switch code {
            case RD_KAFKA_RESP_ERR_NO_ERROR: outcomes[name] = .created
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: outcomes[name] = .alreadyExists
            default:
                throw RDKafka.error(code, "creating topic \(name): " + (rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""))
            }
        }
        return outcomes
    }
}
