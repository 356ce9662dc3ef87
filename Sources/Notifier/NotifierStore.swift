import Foundation
import NotifierCore
import Shared

/// The notifier's tables: the timeline and the webhook deliveries.
struct NotifierStore {
    let database: PostgresConnection

    func record(timeline: [(entry: TimelineRule.Entry, event: CloudEvent, topic: String)],
                deliveries: [(endpoint: String, event: CloudEvent, orderID: String?, body: [UInt8])]) throws {
        if !timeline.isEmpty {
            let times = timeline.map { item -> String in
                let parsed = item.event.time.map(EventTime.parse) ?? .distantPast
                return EventTime.format(parsed == .distantPast ? Date() : parsed)
            }
            try database.query("""
                INSERT INTO notifier.timeline (order_id, event_id, event_type, topic, stage, actor, reason, occurred_at)
                SELECT o, e, t, tp, s, a, r, at::timestamptz FROM unnest(\(timeline.map(\.entry.orderID))::text[], \(timeline.map(\.event.id))::text[],
                    \(timeline.map(\.event.type))::text[], \(timeline.map(\.topic))::text[], \(timeline.map(\.entry.stage))::text[],
                    \(timeline.map(\.entry.actor.storable))::text[], \(timeline.map(\.entry.reason.storable))::text[], \(times)::text[])
                    AS u(o, e, t, tp, s, a, r, at)
                ON CONFLICT (event_id) DO NOTHING
                """)
        }
        if !deliveries.isEmpty {
            try database.query("""
                INSERT INTO notifier.webhook_deliveries (endpoint_id, event_id, event_type, order_id, body)
                SELECT * FROM unnest(\(deliveries.map(\.endpoint))::text[], \(deliveries.map(\.event.id))::text[], \(deliveries.map(\.event.type))::text[],
                                     \(deliveries.map(\.orderID))::text[], \(deliveries.map { Data($0.body) })::bytea[])
                ON CONFLICT (endpoint_id, event_id) DO NOTHING
                """)
        }
    }
}
