import Foundation
import RouterCore
import Shared

/// The Router's I/O around the routing core: the stock ledger, orders and
/// their reservations, fulfillment orders, availability.
struct RouterHandler: StageHandler {
    let definition = StageDefinition(name: "router", schema: "router", consumerGroup: "oms-router",
                                     topics: [Topic.omsOrders, Topic.inventoryStock, Topic.catalogProducts, Topic.warehouseEvents, Topic.omsFulfillment,
                                              Topic.omsReturns])
    let maximumEventBytes: Int
    let book: RuleBook
    /// Each topic carries only its own types: a `Stock.Changed` on oms.orders is `wrong-topic`, never applied.
    let admission: TopicAdmission

    static let handledTypes: [String: Set<String>] = [
        Topic.omsOrders: ["Order.Accepted", "Order.OnHold", "Order.Released", "Order.Cancelled", "Order.Rejected", "Order.CancellationRequested"],
        Topic.inventoryStock: ["Stock.Changed", "Inbound.Expected"],
        Topic.catalogProducts: ["Product.Changed"],
        Topic.warehouseEvents: ["FulfillmentOrder.Confirmed"],
        Topic.omsFulfillment: ["FulfillmentOrder.ShortPicked"],
        Topic.omsReturns: ["Stock.Returned"],
    ]

    init(maximumEventBytes: Int, book: RuleBook, topicSources: [String: [String]] = [:]) {
        self.maximumEventBytes = maximumEventBytes
        self.book = book
        admission = TopicAdmission(handled: Self.handledTypes, sources: topicSources)
    }
    /// Back-orders routed again per transaction when stock arrives (the rest follow in the next ones).
    let rerouteLimit = 200

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<RouterInput> {
        let (event, skip) = try admission.read(message, maximumBytes: maximumEventBytes, ownSource: definition.eventSource)
        let input: RouterInput
        if let skip { input = .ignored(skip) } else { input = try RouterInput.decode(event) }
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: input, skipped: skip != nil)
    }

    func apply(_ batch: [DecodedMessage<RouterInput>], database: PostgresConnection) throws -> [MessageOutcome] {
        let now = Date()
        let rules = book.rules(at: now)
        let store = RouterOrderStore(database: database)
        let ledger = StockLedger(database: database)
        var touched = Set<String>()

        // Master data and stock first, so that orders of this batch see them.
        var products: [(sku: String, traits: ProductTraits, changedAt: String)] = []
        var stockReports: [StockReport] = [], inboundReports: [InboundReport] = [], returnedStock: [ReturnedStock] = []
        var announcements: [(announcement: OrderAnnouncement, correlationID: String)] = []
        var orderIDs = Set<String>()
        for message in batch {
            switch message.input {
            case .product(let sku, let traits, let changedAt): products.append((sku, traits, changedAt))
            case .stock(let report): stockReports.append(report)
            case .inbound(let report): inboundReports.append(report)
            case .order(let announcement):
                announcements.append((announcement, message.correlationID))
                orderIDs.insert(announcement.orderID)
            case .released(let id), .ended(let id, _, _), .cancellationRequested(let id, _, _), .confirmed(_, let id): orderIDs.insert(id)
            case .shortPicked(let pick): orderIDs.insert(pick.orderID)
            case .returned(let report): returnedStock.append(report)
            case .ignored: break
            }
        }
        try store.upsertProducts(products)
        var skus = Set(stockReports.flatMap { $0.items.map(\.sku) } + returnedStock.flatMap { $0.items.map(\.sku) })
        skus.formUnion(announcements.flatMap { $0.announcement.lines.map(\.sku) })
        skus.formUnion(try store.skus(of: Array(orderIDs.subtracting(announcements.map(\.announcement.orderID)))))
        try ledger.lockRows(skus: skus)
        let stock = try ledger.applyStock(stockReports)
        touched.formUnion(stock.changed)
        let returnedSKUs = try ledger.applyReturned(returnedStock)
        touched.formUnion(returnedSKUs)
        touched.formUnion(try ledger.applyInbound(inboundReports))
        // New orders are written once, after routing; only orders the Router already has are locked and read.
        let known = try store.known(announcements.map(\.announcement.orderID))
        var fresh: [String: (announcement: OrderAnnouncement, correlationID: String)] = [:]
        for entry in announcements where !known.contains(entry.announcement.orderID) && fresh[entry.announcement.orderID] == nil {
            fresh[entry.announcement.orderID] = (entry.announcement, entry.correlationID)
        }
        let existingIDs = Array(orderIDs.subtracting(fresh.keys)).sorted()
        var orders = try store.lock(existingIDs)
        for (id, entry) in fresh {
            let a = entry.announcement
            orders[id] = .init(orderID: id, status: .new, holdReasons: a.holdReasons, country: a.shippingCountry, method: a.shippingMethod,
                               shipComplete: a.shipComplete, correlationID: entry.correlationID, data: a.data)
        }
        let fulfillment = try store.fulfillmentOrders(of: existingIDs)

        // Decide: the lifecycle rules over this batch's messages, from values only.
        var plan = OrderLifecycle.decide(batch.map { ($0.input, $0.correlationID) }, orders: &orders, fresh: &fresh,
                                         fulfillment: fulfillment, reserveHeldFor: rules.reserveHeldFor)
        var jobs = plan.jobs, jobOutcome = plan.jobOutcome
        var emissions = plan.emissions, audits = plan.audits
        let dead = plan.dead
        let toFree = plan.toFree, releasedFOs = plan.releasedFulfillmentOrders

        // Write.
        for (orderID, waiting) in try store.waitingKinds(plan.releasedHeld) where orders[orderID]?.status != .cancelled {
            plan.statuses.append((orderID, OrderLifecycle.statusAfterRelease(waitingFor: waiting)))
        }
        let statuses = plan.statuses, confirmed = plan.confirmed, consumed = plan.consumed
        let waitingOrders = plan.unrouted
        try store.insert(waitingOrders)
        // Freed stock first, so that orders routed in this transaction can use it.
        touched.formUnion(try ledger.free(orders: toFree, kinds: ["hard", "soft"]))
        try store.setFulfillmentStatus((fulfillment.filter { toFree.contains($0.key) }.values.flatMap { $0 })
                                        .filter { $0.status.canMove(to: .cancelled) }.map(\.id), to: .cancelled)
        try store.deleteAppointments(of: toFree)
        try store.setFulfillmentStatus(confirmed, to: .confirmed)
        touched.formUnion(try ledger.consume(fulfillmentOrders: consumed))
        touched.formUnion(try ledger.writeOffShortPicks(plan.shortPicks))
        try store.setFulfillmentStatus(releasedFOs.map(\.fo.id), to: .released)
        for (index, fo) in releasedFOs {
            guard let order = orders[fo.orderID] else { continue }
            emissions[index].append(RouterEvents.released(fo, order: order, rules: rules, now: now))
        }
        try store.setStatus(statuses)

        // The WMS counts less than is reserved: the youngest unreleased fulfillment orders are taken back and routed again.
        let stockIndex = batch.indices.first {
            switch batch[$0].input { case .stock, .returned: return true; default: return false }
        } ?? 0
        let withdrawn = try ledger.withdrawForShortfall(skus: stock.changed)
        if !withdrawn.isEmpty {
            let affected = try store.lock(Array(Set(withdrawn.map(\.orderID))).sorted())
            for withdrawal in withdrawn {
                touched.formUnion(withdrawal.lines.map(\.sku))
                audits[stockIndex].append(AuditRecord(
                    subject: withdrawal.orderID, action: "FulfillmentOrder.Withdrawn", actor: "oms-router",
                    reason: "\(withdrawal.warehouseID) counts less than is reserved (\(withdrawal.lines.map { "\($0.quantity)×\($0.sku)" }.joined(separator: ", "))); \(withdrawal.fulfillmentOrderID) taken back before release"))
            }
            for (id, order) in affected where order.status != .reserved && orders[id] == nil && !jobs.contains(where: { $0.orderID == id }) {
                orders[id] = order
                jobs.append(.init(orderID: id, mode: .ship))
                jobOutcome[id] = stockIndex
            }
        }
        // Stock arrived: the oldest back-orders waiting for it are routed again.
        let increased = stock.increased.union(returnedSKUs)
        if !increased.isEmpty {
            let candidates = try store.backorderCandidates(skus: increased, excluding: Set(orders.keys), limit: rerouteLimit)
            if !candidates.isEmpty {
                let lockedCandidates = try store.lock(candidates)
                orders.merge(lockedCandidates) { current, _ in current }
                for id in candidates where !jobs.contains(where: { $0.orderID == id }) {
                    jobs.append(.init(orderID: id, mode: .ship))
                    jobOutcome[id] = stockIndex
                }
            }
        }
        let run = RoutingRun(store: store, ledger: ledger, rules: rules, now: now)
        let result = try run.route(jobs, orders: orders, fresh: fresh)
        touched.formUnion(result.touchedSkus)
        for (orderID, index) in jobOutcome {
            emissions[index] += result.emissions[orderID] ?? []
            audits[index] += result.audits[orderID] ?? []
        }

        // One availability event per transaction for everything that changed.
        if !touched.isEmpty, let last = batch.indices.last(where: { dead[$0] == nil }) {
            emissions[last] += RouterEvents.availability(try ledger.availability(skus: Array(touched)), at: now)
        }
        return batch.indices.map { index in
            if let failure = dead[index] { return .deadLetter(failure) }
            return .processed(emit: emissions[index], audit: audits[index])
        }
    }

    /// Time-driven: pre-orders reaching their release date are routed; drop-ship
    /// fulfillment orders past their SLA without confirmation raise an alert and tell the customer.
    func housekeeping(database: PostgresConnection, now: Date) throws -> [TimedChange] {
        let rules = book.rules(at: now)
        let store = RouterOrderStore(database: database)
        let ledger = StockLedger(database: database)
        var changes: [TimedChange] = []
        // Pre-orders at their release date, orders the rules could not route, and back-orders whose stock is there (a stock
        // increase re-routes only the oldest `rerouteLimit`; without this the rest would wait for the next delivery) are routed again.
        for (kind, due) in [("preorder-release", try store.preordersDue(limit: rerouteLimit)),
                            ("held-retry", try store.heldDue(minutes: rules.heldRetryMinutes, limit: rerouteLimit)),
                            ("backorder-retry", try store.backordersWithStock(limit: rerouteLimit))] where !due.isEmpty {
            let orders = try store.lock(due)
            let result = try RoutingRun(store: store, ledger: ledger, rules: rules, now: now)
                .route(due.map { .init(orderID: $0, mode: .ship) }, orders: orders)
            var availability = RouterEvents.availability(try ledger.availability(skus: Array(result.touchedSkus)), at: now)
            for orderID in due {
                changes.append(TimedChange(key: "\(kind):\(orderID):\(EventTime.format(now))", correlationID: orders[orderID]?.correlationID ?? orderID,
                                           emit: (result.emissions[orderID] ?? []) + availability, audit: result.audits[orderID] ?? []))
                availability = []
            }
        }
        // Fulfillment orders whose cancellation window has passed go to their warehouse.
        let released = try store.releaseDue(limit: 500)
        if !released.isEmpty {
            let orders = try store.lock(Array(Set(released.map(\.orderID))))
            for fo in released {
                guard let order = orders[fo.orderID] else { continue }
                let emission = RouterEvents.released(fo, order: order, rules: rules, now: now)
                changes.append(TimedChange(key: "release:\(fo.id)", correlationID: order.correlationID, emit: [emission],
                                           audit: [AuditRecord(subject: fo.orderID, action: "FulfillmentOrder.Released", actor: "oms-router",
                                                               reason: "\(fo.id) released to \(fo.warehouseID ?? "?") after the cancellation window")]))
            }
        }
        for row in try database.query("""
            UPDATE router.fulfillment_orders SET sla_alerted_at = now()
            WHERE fulfillment_order_id IN (SELECT fulfillment_order_id FROM router.fulfillment_orders
                                           WHERE supplier_id IS NOT NULL AND status = 'released' AND sla_alerted_at IS NULL AND sla_due <= now()
                                           ORDER BY sla_due LIMIT 500 FOR UPDATE SKIP LOCKED)
            RETURNING fulfillment_order_id, order_id, supplier_id, sla_due,
                      (SELECT correlation_id FROM router.orders o WHERE o.order_id = router.fulfillment_orders.order_id) AS correlation_id
            """) {
            let foID: String = try row.decode("fulfillment_order_id")
            let orderID: String = try row.decode("order_id")
            let supplier: String = try row.decode("supplier_id")
            let due = EventTime.format(try row.decode("sla_due", as: Date.self))
            let facts: JSONValue = ["fulfillmentOrderId": .string(foID), "orderId": .string(orderID), "supplierId": .string(supplier), "slaDue": .string(due)]
            let why = "drop-ship supplier \(supplier) did not confirm \(foID) by \(due)"
            changes.append(TimedChange(
                key: "sla-breach:\(foID)", correlationID: try row.decodeIfPresent("correlation_id") ?? orderID,
                emit: [Emission(topic: Topic.omsNotifications, key: orderID, type: "FulfillmentOrder.SlaBreached", subject: orderID, data: facts),
                       RouterEvents.notification(orderID: orderID, template: "dropship-delayed", facts: facts)],
                audit: [AuditRecord(subject: orderID, action: "FulfillmentOrder.SlaBreached", actor: "oms-router", reason: why)],
                deadLetters: [TimedDeadLetter(failure: PermanentFailure("dropship-sla-breach", why), originalTopic: Topic.omsFulfillment,
                                              originalEventID: nil, key: orderID, payload: facts)]))
        }
        return changes
    }
}

extension RouterHandler: PersonalDataHolder {
    func erasePersonalData(_ erasure: ErasureOrder, database: PostgresConnection) throws -> (rows: Int, retained: String?) {
        (try RouterOrderStore(database: database).erasePersonalData(erasure), nil)
    }
}
