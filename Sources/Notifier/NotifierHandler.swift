import Foundation
import Metrics
import NotifierCore
import Shared
import Synchronization

/// The notifier's I/O: every event on the OMS's own topics goes into the order timeline (the timeline rule says
/// what it means), and into the webhook outbox of each endpoint that wants its type, in the event's transaction.
struct NotifierHandler: StageHandler {
    static let topics = [Topic.omsOrders, Topic.omsFulfillment, Topic.omsShipments, Topic.omsBilling, Topic.omsReturns, Topic.omsNotifications,
                         Topic.omsPrivacy]
    let definition = StageDefinition(name: "notifier", schema: "notifier", consumerGroup: "oms-notifier", topics: Self.topics)
    let maximumEventBytes: Int
    let webhooks: RuleVersions<WebhookRules>
    /// Customer e-mail is written only when an SMTP server is configured, SMS only when a gateway is.
    let mailEnabled: Bool
    let smsEnabled: Bool
    let admission: TopicAdmission
    /// How the KPIs are watched (kpi.json); nil: not watched.
    var kpi: RuleVersions<KPIRules>?
    let lastKPIRun = KPIClock()

    /// Every type the contract allows on these topics: the timeline shows them all.
    static let handledTypes: [String: Set<String>] = Dictionary(uniqueKeysWithValues: topics.map { ($0, TopicContract.eventTypes[$0] ?? []) })

    init(maximumEventBytes: Int, webhooks: RuleVersions<WebhookRules>, mailEnabled: Bool, smsEnabled: Bool = false, topicSources: [String: [String]] = [:]) {
        self.maximumEventBytes = maximumEventBytes
        self.webhooks = webhooks
        self.mailEnabled = mailEnabled
        self.smsEnabled = smsEnabled
        admission = TopicAdmission(handled: Self.handledTypes, sources: topicSources)
    }

    struct Received: Sendable {
        let event: CloudEvent
        let topic: String
        let bytes: [UInt8]
    }

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<Received?> {
        // Its own events are skipped, except its erasure confirmation: the timeline records every stage's.
        let own = message.topic == Topic.omsPrivacy ? nil : definition.eventSource
        let (event, skip) = try admission.read(message, maximumBytes: maximumEventBytes, ownSource: own)
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id,
                              input: skip == nil ? Received(event: event, topic: message.topic, bytes: message.value) : nil, skipped: skip != nil)
    }

    func apply(_ batch: [DecodedMessage<Received?>], database: PostgresConnection) throws -> [MessageOutcome] {
        let endpoints = webhooks.rules(at: Date()).endpoints
        var timeline: [(entry: TimelineRule.Entry, event: CloudEvent, topic: String)] = []
        var deliveries: [(endpoint: String, event: CloudEvent, orderID: String?, body: [UInt8])] = []
        for message in batch {
            guard let input = message.input else { continue }
            let entries = TimelineRule.entries(input.event)
            timeline += entries.map { ($0, input.event, input.topic) }
            let entry = entries.first
            for endpoint in endpoints where endpoint.wants(input.event.type) {
                deliveries.append((endpoint.id, input.event, entry?.orderID, input.bytes))
            }
        }
        let store = NotifierStore(database: database)
        try store.record(timeline: timeline, deliveries: deliveries)
        try foldStatus(batch.compactMap { $0.input?.event }, store: store)
        if mailEnabled || smsEnabled { try mail(batch.compactMap { $0.input?.event }, store: store) }
        return batch.map { _ in .processed(emit: [], audit: []) }
    }

    /// The KPIs of the last window, every few minutes: Prometheus gauges, and an alert through oms-alerting (a dead
    /// letter of class kpi-threshold, not replayable) for each KPI out of its bounds — once per KPI and alert period,
    /// however many notifier copies there are.
    func housekeeping(database: PostgresConnection, now: Date) throws -> [TimedChange] {
        guard let kpi else { return [] }
        let rules = kpi.rules(at: now)
        guard lastKPIRun.due(now, every: Double(rules.evaluateEverySeconds)) else { return [] }
        let store = NotifierStore(database: database)
        let report = KPIReport.compute(try store.kpiEvents(since: now.addingTimeInterval(-Double(rules.windowHours) * 3600), until: now))
        KPIGauges.record(report)
        let period = Int(now.timeIntervalSince1970) / (rules.alertEveryHours * 3600)
        var changes: [TimedChange] = []
        for breach in KPIAlertRule.breaches(report, rules: rules) where try store.claimKPIAlert(breach.kpi.rawValue, period: period) {
            let key = "kpi:\(breach.kpi.rawValue):\(period)"
            let figures: JSONValue = ["kpi": .string(breach.kpi.rawValue), "percent": .number(breach.value), "orders": .integer(Int64(report.orders)),
                                      "windowHours": .integer(Int64(rules.windowHours)), "at": .string(EventTime.format(now))]
            changes.append(TimedChange(key: key, correlationID: key, emit: [], audit: [
                AuditRecord(subject: "kpi:\(breach.kpi.rawValue)", action: "KPI.ThresholdBreached", actor: definition.name, reason: breach.message, details: figures)
            ], deadLetters: [
                TimedDeadLetter(failure: PermanentFailure("kpi-threshold", breach.message), originalTopic: "notifier.timeline", originalEventID: nil,
                                key: "kpi:\(breach.kpi.rawValue)", payload: figures)
            ]))
        }
        return changes
    }

    /// The status API's documents: each event folded into its order's document by the order status rule, in batch order.
    func foldStatus(_ events: [CloudEvent], store: NotifierStore) throws {
        let orderIDs = Set(events.compactMap { $0.data["orderId"]?.stringValue })
        guard !orderIDs.isEmpty else { return }
        var documents = try store.lockStatus(Array(orderIDs))
        var changed: [String: JSONValue] = [:]
        for event in events {
            guard let orderID = event.data["orderId"]?.stringValue, let next = OrderStatusRule.fold(documents[orderID], event) else { continue }
            documents[orderID] = next
            changed[orderID] = next
        }
        try store.saveStatus(changed)
    }

    /// The customer's e-mails: contacts from Capture's announcements first (this batch's too), then one rendered mail per
    /// event the mail rule picks; an order without a deliverable address gets none.
    func mail(_ events: [CloudEvent], store: NotifierStore) throws {
        var contacts: [NotifierStore.Contact] = []
        for event in events where event.type == "Order.Accepted" || event.type == "Order.OnHold" {
            guard let orderID = event.data["orderId"]?.stringValue, let shipTo = event.data["shipTo"],
                  let email = shipTo["email"]?.stringValue?.trimmingCharacters(in: .whitespaces), MailMessage.isDeliverable(email) else { continue }
            let phone = shipTo["phone"]?.stringValue.flatMap { MailRule.isMobileNumber($0) ? $0 : nil }
            contacts.append(.init(orderID: orderID, email: email, name: String((shipTo["name"]?.stringValue ?? "").prefix(200)),
                                  language: MailRule.language(country: shipTo["country"]?.stringValue), phone: phone))
        }
        try store.upsertContacts(contacts)
        let wanted = events.compactMap { event in MailRule.mail(for: event).map { (event, $0) } }
        guard !wanted.isEmpty else { return }
        let known = try store.contacts(Array(Set(wanted.compactMap { $0.0.data["orderId"]?.stringValue })))
        var mails: [(eventID: String, orderID: String, template: String, language: String, recipient: String, subject: String, text: String, html: String)] = []
        var sms: [(eventID: String, orderID: String, phone: String, text: String)] = []
        for (event, mail) in wanted {
            guard let orderID = event.data["orderId"]?.stringValue, let contact = known[orderID],
                  let rendered = MailRenderer.render(mail, name: contact.name, language: contact.language) else { continue }
            if mailEnabled { mails.append((event.id, orderID, mail.template, contact.language, contact.email, rendered.subject, rendered.text, rendered.html)) }
            if smsEnabled, MailRule.smsTemplates.contains(mail.template), let phone = contact.phone,
               let text = MailRenderer.sms(mail, name: contact.name, language: contact.language) {
                sms.append((event.id, orderID, phone, text))
            }
        }
        try store.insertMails(mails)
        try store.insertSMS(sms)
    }
}

extension NotifierHandler: PersonalDataHolder {
    func erasePersonalData(_ erasure: ErasureOrder, database: PostgresConnection) throws -> (rows: Int, retained: String?) {
        (try NotifierStore(database: database).erasePersonalData(erasure), nil)
    }
}

/// When the KPIs were last computed in this process.
final class KPIClock: Sendable {
    private let last = Mutex<Date>(.distantPast)

    /// True (and now is the last run) when `seconds` passed since the last run.
    func due(_ now: Date, every seconds: Double) -> Bool {
        last.withLock { last in
            guard now.timeIntervalSince(last) >= seconds else { return false }
            last = now
            return true
        }
    }
}

/// The KPIs as Prometheus gauges on the notifier's /metrics: percents per KPI, cycle times in hours, orders in the window.
enum KPIGauges {
    static func record(_ report: KPIReport) {
        for kpi in KPIRules.KPI.allCases {
            if let value = kpi.value(in: report) { Gauge(label: "oms_kpi_percent", dimensions: [("kpi", kpi.rawValue)]).record(value) }
        }
        let cycles: [(String, KPIReport.Durations)] = [("created_to_shipped", report.createdToShipped), ("created_to_delivered", report.createdToDelivered)]
        for (name, durations) in cycles {
            if let p50 = durations.p50Hours { Gauge(label: "oms_kpi_cycle_hours", dimensions: [("span", name), ("quantile", "0.5")]).record(p50) }
            if let p90 = durations.p90Hours { Gauge(label: "oms_kpi_cycle_hours", dimensions: [("span", name), ("quantile", "0.9")]).record(p90) }
        }
        Gauge(label: "oms_kpi_orders", dimensions: [("scope", "window")]).record(Double(report.orders))
        Gauge(label: "oms_kpi_orders", dimensions: [("scope", "shipped")]).record(Double(report.shippedOrders))
    }
}
