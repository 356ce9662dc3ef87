internal import CRdKafka
import Foundation
import Logging

/// A consumer-group member whose offsets move only when the caller commits them.
///
/// Rebalances are handled inside `poll`: assigned partitions are taken over,
/// revoked ones are dropped from `assignment` (a caller must never commit them,
/// see `isAssigned`). Meant to be driven by one thread.
public final class KafkaConsumer {
    private let handle: RDKafkaPointer
    private let context: RDKafkaCallbackContext
    private var closed = false
    /// Where offset-commit results arrive (see `awaitCommit`).
    private let commitQueue: OpaquePointer
    public let groupID: String

    public init(configuration: KafkaConfiguration, groupID: String, topics: [String], logger: Logger) throws {
        self.groupID = groupID
        context = RDKafkaCallbackContext(logger: logger)
        let conf = try RDKafka.makeConf(configuration.consumerProperties(groupID: groupID), context: context)
        rd_kafka_conf_set_rebalance_cb(conf, consumerRebalanceCallback)
        let raw = try RDKafka.makeHandle(type: RD_KAFKA_CONSUMER, conf: conf)
        guard let queue = rd_kafka_queue_new(raw) else {
            rd_kafka_destroy(raw)
            throw KafkaError.configuration("librdkafka could not create a queue")
        }
        handle = RDKafkaPointer(raw: raw)
        commitQueue = queue
        rd_kafka_poll_set_consumer(raw)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let result = rd_kafka_subscribe(raw, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_queue_destroy(commitQueue)
            rd_kafka_destroy(raw)
            throw RDKafka.error(result, "subscribing to \(topics.joined(separator: ","))")
        }
    }

    deinit {
        close()
        rd_kafka_queue_destroy(commitQueue)
        // A close given up on (broker unreachable) must not be retried by destroy,
        // which would block for up to session.timeout.ms.
        rd_kafka_destroy_flags(handle.raw, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
    }

    /// Leaves the group (revoking partitions) so that others take over at once.
    /// librdkafka's own close may block for up to session.timeout.ms when the broker
    /// is unreachable; here the close runs in the background and `abandon` is asked
    /// between short waits. Returns false if it was given up (the group then notices
    /// the member's absence after its session timeout, as after a crash).
    @discardableResult
    public func close(abandon: () -> Bool = { false }) -> Bool {
        guard !closed else { return true }
        closed = true
        guard let queue = rd_kafka_queue_new(handle.raw) else { return false }
        defer { rd_kafka_queue_destroy(queue) }
        if let error = rd_kafka_consumer_close_queue(handle.raw, queue) {
            context.logger.warning("leaving the consumer group failed", metadata: ["error": "\(RDKafka.error(from: error))"])
            rd_kafka_error_destroy(error)
            return false
        }
        while rd_kafka_consumer_closed(handle.raw) == 0 {
            if let event = rd_kafka_queue_poll(queue, KafkaProducer.waitSliceMillis) {
                if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE {
                    // Served here only if librdkafka did not call the rebalance callback itself.
                    consumerRebalanceCallback(handle.raw, rd_kafka_event_error(event), rd_kafka_event_topic_partition_list(event), nil)
                }
                rd_kafka_event_destroy(event)
            } else if abandon() {
                return false
            }
        }
        return true
    }

    public var assignment: Set<TopicPartition> { context.assignment.withLock { $0 } }
    public var revocationCount: Int { context.revocations.load(ordering: .relaxed) }
    public func isAssigned(_ partition: TopicPartition) -> Bool { context.assignment.withLock { $0.contains(partition) } }

    /// Waits up to `timeoutMillis` for a first message, then takes whatever else
    /// is already fetched, up to `maxMessages`. Consumer errors that are not
    /// about a message are logged and skipped (librdkafka recovers by itself).
    public func poll(maxMessages: Int, timeoutMillis: Int32) -> [ConsumedMessage] {
        var messages: [ConsumedMessage] = []
        var wait = timeoutMillis
        while messages.count < maxMessages {
            guard let raw = rd_kafka_consumer_poll(handle.raw, wait) else { break }
            wait = 0
            defer { rd_kafka_message_destroy(raw) }
            let message = raw.pointee
            if message.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let error = RDKafka.error(message.err, message.payload.map {
                    String(decoding: UnsafeRawBufferPointer(start: $0, count: message.len), as: UTF8.self)
                })
                context.logger.warning("consumer error", metadata: ["error": "\(error.debugDescription)"])
                continue
            }
            messages.append(Self.copy(raw))
        }
        return messages
    }

    private static func copy(_ raw: UnsafeMutablePointer<rd_kafka_message_t>) -> ConsumedMessage {
        let message = raw.pointee
        let topic = String(cString: rd_kafka_topic_name(message.rkt))
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        var headers: [(String, [UInt8])] = []
        var headerList: OpaquePointer?
        if rd_kafka_message_headers(raw, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(headerList, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append((name.map { String(cString: $0) } ?? "", bytes))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(raw, &timestampType)
        return ConsumedMessage(topic: topic, partition: message.partition, offset: message.offset, key: key,
                               value: value, headers: headers,
                               timestampMillis: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }

    /// Commits "next offset to read" per partition, synchronously, skipping
    /// partitions that are no longer assigned to this member.
    public func commit(_ nextOffsets: [TopicPartition: Int64], abandon: () -> Bool = { false }) throws {
        let owned = nextOffsets.filter { isAssigned($0.key) }
        guard !owned.isEmpty else { return }
        let list = RDKafka.partitionList(owned.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let result = try awaitCommit(list, abandon: abandon)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR && result != RD_KAFKA_RESP_ERR__NO_OFFSET {
            // A failed commit only means re-delivery, which deduplication absorbs: retry later.
            let error = RDKafka.error(result, "committing offsets")
            throw KafkaError(code: error.code, name: error.name, message: error.message, isRetriable: true)
        }
    }

    /// A synchronous commit whose wait can be given up: the commit's result arrives
    /// as an event on a queue of our own, polled in short slices. A result that comes
    /// after a give-up is left in that queue and dropped before the next commit.
    private func awaitCommit(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
                             abandon: () -> Bool) throws -> rd_kafka_resp_err_t {
        while let stale = rd_kafka_queue_poll(commitQueue, 0) { rd_kafka_event_destroy(stale) }
        let queued = rd_kafka_commit_queue(handle.raw, list, commitQueue, nil, nil)
        if queued != RD_KAFKA_RESP_ERR_NO_ERROR { return queued }
        while true {
            if let event = rd_kafka_queue_poll(commitQueue, KafkaProducer.waitSliceMillis) {
                defer { rd_kafka_event_destroy(event) }
                if rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT { return rd_kafka_event_error(event) }
            } else if abandon() {
                throw KafkaError.abandoned("offset commit not confirmed")
            }
        }
    }

    public func pause(_ partitions: Set<TopicPartition>) { setPaused(partitions, paused: true) }
    public func resume(_ partitions: Set<TopicPartition>) { setPaused(partitions, paused: false) }

    private func setPaused(_ partitions: Set<TopicPartition>, paused: Bool) {
        guard !partitions.isEmpty else { return }
        let list = RDKafka.partitionList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = paused ? rd_kafka_pause_partitions(handle.raw, list) : rd_kafka_resume_partitions(handle.raw, list)
    }

    /// Messages behind the high watermark, per assigned partition, from
    /// librdkafka's cached watermarks (no broker round trip).
    public func lag() -> [TopicPartition: Int64] {
        let assigned = assignment
        guard !assigned.isEmpty else { return [:] }
        let list = RDKafka.partitionList(assigned.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_position(handle.raw, list)
        var result: [TopicPartition: Int64] = [:]
        for (tp, position) in RDKafka.topicPartitions(list) {
            var low: Int64 = 0
            var high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(handle.raw, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  high >= 0 else { continue }
            result[tp] = position >= 0 ? max(0, high - position) : max(0, high - low)
        }
        return result
    }
}

private let consumerRebalanceCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { handle, event, partitions, _ in
    guard let handle, let context = RDKafka.context(of: handle) else { return }
    let changed = Set(partitions.map { RDKafka.topicPartitions($0).map(\.0) } ?? [])
    if event == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
        context.assignment.withLock { $0 = changed }
        context.logger.info("partitions assigned", metadata: ["partitions": "\(changed.map(\.description).sorted())"])
        rd_kafka_assign(handle, partitions)
        // librdkafka keeps a partition's pause flag across revoke and re-assign; a
        // partition paused during a backoff must not come back paused.
        if let partitions { rd_kafka_resume_partitions(handle, partitions) }
    } else {
        context.revocations.add(1, ordering: .relaxed)
        context.assignment.withLock { $0.subtract(changed) }
        context.logger.info("partitions revoked", metadata: ["partitions": "\(changed.map(\.description).sorted())"])
        context.onRevoke?(changed)
        rd_kafka_assign(handle, nil)
    }
}
