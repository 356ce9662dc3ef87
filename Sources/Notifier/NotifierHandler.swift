import Foundation
import NotifierCore
import Shared

/// The notifier's I/O: every event on the OMS's own topics goes into the order timeline (the timeline rule says
/// what it means), and into the webhook outbox of each endpoint that wants its type, in the event's transaction.
struct NotifierHandler: StageHandler {
    static let topics = [Topic.omsOrders, Topic.omsFulfillment, Topic.omsShipments, Topic.omsBilling, Topic.omsReturns, Topic.omsNotifications]
    let definition = StageDefinition(name: "notifier", schema: "notifier", consumerGroup: "oms-notifier", topics: Self.topics)
    let maximumEventBytes: Int
    let webhooks: RuleVersions<WebhookRules>
    let admission: TopicAdmission

    /// Every type the contract allows on these topics: the timeline shows them all.
    static let handledTypes: [String: Set<String>] = Dictionary(uniqueKeysWithValues: topics.map { ($0, TopicContract.eventTypes[$0] ?? []) })

    init(maximumEventBytes: Int, webhooks: RuleVersions<WebhookRules>, topicSources: [String: [String]] = [:]) {
        self.maximumEventBytes = maximumEventBytes
        self.webhooks = webhooks
        admission = TopicAdmission(handled: Self.handledTypes, sources: topicSources)
    }

    struct Received: Sendable {
        let event: CloudEvent
        let topic: String
        let bytes: [UInt8]
    }

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<Received?> {
        let (event, skip) = try admission.read(message, maximumBytes: maximumEventBytes, ownSource: definition.eventSource)
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id,
                              input: skip == nil ? Received(event: event, topic: message.topic, bytes: message.value) : nil)
    }

    func apply(_ batch: [DecodedMessage<Received?>], database: PostgresConnection) throws -> [MessageOutcome] {
        let endpoints = webhooks.rules(at: Date()).endpoints
        var timeline: [(entry: TimelineRule.Entry, event: CloudEvent, topic: String)] = []
        var deliveries: [(endpoint: String, event: CloudEvent, orderID: String?, body: [UInt8])] = []
        for message in batch {
            guard let input = message.input else { continue }
            let entry = TimelineRule.entry(input.event)
            if let entry { timeline.append((entry, input.event, input.topic)) }
            for endpoint in endpoints where endpoint.wants(input.event.type) {
                deliveries.append((endpoint.id, input.event, entry?.orderID, input.bytes))
            }
        }
        try NotifierStore(database: database).record(timeline: timeline, deliveries: deliveries)
        return batch.map { _ in .processed(emit: [], audit: []) }
    }
}
