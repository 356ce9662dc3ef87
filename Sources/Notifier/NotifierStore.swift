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
                INSERT INTO notifier.timeline (order_id, event_id, event_type, topic, stage, actor, reason, occurred_at, facts)
                SELECT o, e, t, tp, s, a, r, at::timestamptz, f::json FROM unnest(\(timeline.map(\.entry.orderID))::text[], \(timeline.map(\.event.id))::text[],
                    \(timeline.map(\.event.type))::text[], \(timeline.map(\.topic))::text[], \(timeline.map(\.entry.stage))::text[],
                    \(timeline.map(\.entry.actor.storable))::text[], \(timeline.map(\.entry.reason.storable))::text[], \(times)::text[],
                    \(timeline.map(\.entry.facts.storableJSON))::text[])
                    AS u(o, e, t, tp, s, a, r, at, f)
                ON CONFLICT (event_id, order_id) DO NOTHING
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

    struct Contact {
        let orderID: String
        let email: String
        let name: String
        let language: String
        let phone: String?
    }

    func upsertContacts(_ contacts: [Contact]) throws {
        guard !contacts.isEmpty else { return }
        try database.query("""
            INSERT INTO notifier.contacts (order_id, email, name, language, phone)
            SELECT DISTINCT ON (o) o, e, n, l, p FROM unnest(\(contacts.map(\.orderID))::text[], \(contacts.map(\.email.storable))::text[],
                                                        \(contacts.map(\.name.storable))::text[], \(contacts.map(\.language))::text[],
                                                        \(contacts.map(\.phone))::text[]) AS u(o, e, n, l, p) ORDER BY o
            ON CONFLICT (order_id) DO NOTHING
            """)
    }

    func contacts(_ orderIDs: [String]) throws -> [String: Contact] {
        guard !orderIDs.isEmpty else { return [:] }
        var result: [String: Contact] = [:]
        for row in try database.query("SELECT order_id, email, name, language, phone FROM notifier.contacts WHERE order_id = ANY(\(orderIDs)::text[])") {
            let id: String = try row.decode("order_id")
            result[id] = Contact(orderID: id, email: try row.decode("email"), name: try row.decode("name"), language: try row.decode("language"),
                                 phone: try row.decodeIfPresent("phone", as: String.self))
        }
        return result
    }

    func insertSMS(_ messages: [(eventID: String, orderID: String, phone: String, text: String)]) throws {
        guard !messages.isEmpty else { return }
        try database.query("""
            INSERT INTO notifier.sms (event_id, order_id, phone, text_body)
            SELECT * FROM unnest(\(messages.map(\.eventID))::text[], \(messages.map(\.orderID))::text[], \(messages.map(\.phone))::text[],
                                 \(messages.map(\.text.storable))::text[])
            ON CONFLICT (event_id) DO NOTHING
            """)
    }

    func insertMails(_ mails: [(eventID: String, orderID: String, template: String, language: String, recipient: String, subject: String, text: String, html: String)]) throws {
        guard !mails.isEmpty else { return }
        try database.query("""
            INSERT INTO notifier.mails (event_id, order_id, template, language, recipient, subject, text_body, html_body)
            SELECT * FROM unnest(\(mails.map(\.eventID))::text[], \(mails.map(\.orderID))::text[], \(mails.map(\.template))::text[],
                                 \(mails.map(\.language))::text[], \(mails.map(\.recipient))::text[], \(mails.map(\.subject.storable))::text[],
                                 \(mails.map(\.text.storable))::text[], \(mails.map(\.html.storable))::text[])
            ON CONFLICT (event_id) DO NOTHING
            """)
    }

    /// The status documents of these orders, locked for this transaction.
    func lockStatus(_ orderIDs: [String]) throws -> [String: JSONValue] {
        guard !orderIDs.isEmpty else { return [:] }
        var result: [String: JSONValue] = [:]
        for row in try database.query("""
            SELECT order_id, document::text AS document FROM notifier.order_status WHERE order_id = ANY(\(orderIDs.sorted())::text[]) ORDER BY order_id FOR UPDATE
            """) {
            result[try row.decode("order_id")] = try? JSONParser.parse(try row.decode("document", as: String.self))
        }
        return result
    }

    func saveStatus(_ documents: [String: JSONValue]) throws {
        guard !documents.isEmpty else { return }
        let ids = documents.keys.sorted()
        try database.query("""
            INSERT INTO notifier.order_status AS s (order_id, customer_id, document, updated_at)
            SELECT o, c, d::json, now() FROM unnest(\(ids)::text[], \(ids.map { documents[$0]?["customerId"]?.stringValue })::text[],
                                                  \(ids.map { documents[$0]?.storableJSON ?? "{}" })::text[]) AS u(o, c, d)
            ON CONFLICT (order_id) DO UPDATE SET customer_id = coalesce(EXCLUDED.customer_id, s.customer_id), document = EXCLUDED.document, updated_at = now()
            """)
    }

    /// The notifier's copy of the person's data: the contacts (deleted), the e-mails and SMS written to them (addresses
    /// and texts erased; one still waiting is not sent), the webhook bodies, the status documents, the timeline's facts.
    /// The timeline rows themselves stay: they say what happened, not to whom.
    func erasePersonalData(_ erasure: ErasureOrder) throws -> Int {
        var eraser = try PersonalDataStore(database: database)
        let orders = erasure.orderIDs
        try eraser.delete("notifier.contacts", key: "t.order_id", in: orders)
        for table in ["notifier.mails", "notifier.sms"] {
            try database.query("""
                UPDATE \(unescaped: table) SET status = 'dead', last_error = \("not sent: the customer's data was erased")
                WHERE order_id = ANY(\(orders)::text[]) AND status = 'pending'
                """)
        }
        try eraser.mark("notifier.mails", columns: ["recipient", "subject", "text_body", "html_body"], key: "t.order_id", in: orders)
        try eraser.mark("notifier.sms", columns: ["phone", "text_body"], key: "t.order_id", in: orders)
        // Events filed under no order (a wave's pick list) name the orders' fulfillment orders, which the timeline knows.
        let fulfillmentOrders: [String] = try database.query("""
            SELECT DISTINCT facts->>'fulfillmentOrderId' AS fo FROM notifier.timeline
            WHERE order_id = ANY(\(orders)::text[]) AND facts->>'fulfillmentOrderId' IS NOT NULL
            """).map { try $0.decode("fo") }
        try eraser.scrubBytes("notifier.webhook_deliveries", "body", key: "t.order_id", in: orders + fulfillmentOrders, orMentioning: true)
        try eraser.scrubJSON("notifier.order_status", "document", key: "t.order_id", in: orders)
        try eraser.scrubJSON("notifier.timeline", "facts", key: "t.order_id", in: orders)
        try eraser.eraseRuntimeCopies(schema: "notifier", keys: erasure.keys)
        return eraser.rows
    }

    /// The timeline of the orders accepted (or held) in [since, until), for the KPIs.
    func kpiEvents(since: Date, until: Date) throws -> [KPIReport.Event] {
        try database.query("""
            WITH period AS (
                SELECT DISTINCT order_id FROM notifier.timeline
                WHERE event_type IN ('Order.Accepted', 'Order.OnHold') AND occurred_at >= \(since) AND occurred_at < \(until))
            SELECT t.order_id, t.event_type, t.occurred_at, t.actor, t.stage, t.facts::text AS facts
            FROM notifier.timeline t JOIN period USING (order_id) ORDER BY t.occurred_at, t.id
            """).map { row in
            KPIReport.Event(orderID: try row.decode("order_id"), type: try row.decode("event_type"), at: try row.decode("occurred_at"),
                            actor: try row.decode("actor"), stage: try row.decode("stage"),
                            facts: (try? JSONParser.parse(try row.decode("facts", as: String.self))) ?? .object([:]))
        }
    }

    /// True for the one notifier copy that may raise this KPI's alert in this alert period.
    func claimKPIAlert(_ kpi: String, period: Int) throws -> Bool {
        try database.query("""
            INSERT INTO notifier.kpi_alerts (kpi, period) VALUES (\(kpi), \(period)) ON CONFLICT DO NOTHING RETURNING 1
            """).count == 1
    }
}
