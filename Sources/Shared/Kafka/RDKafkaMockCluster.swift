internal import CRdKafka
import Foundation
import Logging

/// librdkafka's in-process mock cluster (`rdkafka_mock.h`): a real Kafka
/// protocol endpoint on loopback, in memory, for development and tests only.
public final class DevKafkaCluster {
    private let owner: RDKafkaPointer
    private let cluster: RDKafkaPointer
    private let context: RDKafkaCallbackContext
    public let bootstrapServers: String

    public init(brokerCount: Int, logger: Logger) throws {
        context = RDKafkaCallbackContext(logger: logger)
        // The mock cluster lives inside a client instance; this one is never used to produce.
        // The mock brokers' sockets take their options from this handle's configuration:
        // without TCP_NODELAY every response split over two segments waited for the
        // client's delayed ACK (40 ms on Linux), which was most of a batch's publish time.
        let conf = try RDKafka.makeConf(["client.id": "oms-devkafka", "socket.nagle.disable": "true"], context: context)
        let raw = try RDKafka.makeHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        guard let mock = rd_kafka_mock_cluster_new(raw, Int32(brokerCount)) else {
            rd_kafka_destroy(raw)
            throw KafkaError.configuration("rd_kafka_mock_cluster_new failed")
        }
        owner = RDKafkaPointer(raw: raw)
        cluster = RDKafkaPointer(raw: mock)
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(mock))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster.raw)
        rd_kafka_destroy(owner.raw)
    }

    public func createTopic(_ name: String, partitions: Int) throws {
        let result = rd_kafka_mock_topic_create(cluster.raw, name, Int32(partitions), 1)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafka.error(result, "creating topic \(name)") }
    }

    /// Takes every broker down (connections refused) or brings them back, for outage tests.
    public func setBrokersUp(_ up: Bool, brokerCount: Int) {
        for id in 1...max(1, brokerCount) {
            if up {
                rd_kafka_mock_broker_set_up(cluster.raw, Int32(id))
            } else {
                rd_kafka_mock_broker_set_down(cluster.raw, Int32(id))
            }
        }
    }

    /// Makes the next requests fail as a real cluster's do during a leader change or an overloaded
    /// coordinator (librdkafka's mock error injection): `count` Produce requests with "not leader",
    /// Fetch requests with "not leader", OffsetCommit requests with "coordinator not available" and
    /// "request timed out" — all errors a client must retry, never lose or double a message over.
    public func injectRequestErrors(count: Int) {
        let apiProduce: Int16 = 0, apiFetch: Int16 = 1, apiOffsetCommit: Int16 = 8
        let plans: [(Int16, [rd_kafka_resp_err_t])] = [
            (apiProduce, [RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT]),
            (apiFetch, [RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION]),
            (apiOffsetCommit, [RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT]),
        ]
        for (apiKey, kinds) in plans {
            let errors = (0..<max(1, count)).map { kinds[$0 % kinds.count] }
            errors.withUnsafeBufferPointer { buffer in
                rd_kafka_mock_push_request_errors_array(cluster.raw, apiKey, buffer.count, buffer.baseAddress)
            }
        }
    }
}
