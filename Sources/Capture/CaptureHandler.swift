import Foundation
import Shared

/// Capture's I/O around the intake decisions: reads what it knows about the
/// batch's orders, writes new and changed orders set-based, says what to emit.
struct CaptureHandler: StageHandler {
    let definition = StageDefinition(name: "capture", schema: "capture", consumerGroup: "oms-capture",
                                     topics: [Topic.shopOrders, Topic.shopPayments, Topic.catalogProducts])
    let maximumEventBytes: Int
    let rules: CaptureRules

    static let handledTypes: Set<String> = [
        "Order.Created", "Payment.Captured", "Payment.Failed", "Order.CancellationRequested", "Order.ApprovalGiven", "Order.ApprovalDenied",
        "Product.Changed",
    ]

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<CaptureInput> {
        let event = try CloudEvent.decode(message.value, maximumBytes: maximumEventBytes)
        try EventContracts.validateData(of: event, accepted: Self.handledTypes)
        let input: CaptureInput
        let orderID: String
        if event.type == "Order.Created" {
            let order = try OrderSubmission(data: event.data)
            input = .orderCreated(event, order)
            orderID = order.orderID
        } else if event.type == "Product.Changed" {
            let update = try ProductUpdate(event: event)
            if let subject = event.subject, subject != update.info.sku {
                throw .schemaViolation("event.subject \"\(subject.prefix(64))\" does not match data.sku \"\(update.info.sku)\"")
            }
            return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id,
                                  input: .product(event, update))
        } else if event.type.hasPrefix("Payment.") {
            let update = try PaymentUpdate(type: event.type, data: event.data)
            input = .payment(event, update)
            orderID = update.orderID
        } else {
            let request = try OrderRequest(type: event.type, data: event.data)
            input = .request(event, request)
            orderID = request.orderID
        }
        if let subject = event.subject, subject != orderID {
            throw .schemaViolation("event.subject \"\(subject.prefix(64))\" does not match data.orderId \"\(orderID)\"")
        }
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: input)
    }

    /// A hold that ends by time: when `column` has passed, the order moves to `target`.
    private struct HoldDeadline {
        let hold: HoldReason
        let column: String
        let target: OrderStatus
        let key: String
        /// SQL giving one text detail per order (e.g. its unknown SKUs), or NULL.
        let detail: String
        let finding: (_ detail: String?) -> CheckFinding
    }

    private var deadlines: [HoldDeadline] {
        [
            HoldDeadline(hold: .payment, column: "hold_expires_at", target: .cancelled, key: "payment-timeout", detail: "NULL") { _ in
                CheckFinding(check: "payment", code: "payment.timeout", effect: .reject,
                             message: "prepayment not received within \(rules.payment.prepaymentTimeoutHours) h")
            },
            HoldDeadline(hold: .catalog, column: "catalog_deadline", target: .rejected, key: "catalog-timeout", detail: """
                (SELECT string_agg(DISTINCT l.sku, ', ') FROM capture.order_lines l
                 WHERE l.order_id = o.order_id AND NOT EXISTS (SELECT 1 FROM capture.products p WHERE p.sku = l.sku))
                """) { unknown in
                CheckFinding(check: "catalog", code: "sku.unknown", effect: .reject,
                             message: "SKU(s) \(unknown ?? "?") still unknown to the catalog after \(rules.unknownSkuWaitMinutes) min")
            },
        ]
    }

    /// Time-driven changes: prepayment deadlines cancel, catalog deadlines reject.
    func housekeeping(database: PostgresConnection, now: Date) throws -> [TimedChange] {
        try deadlines.flatMap { try expire($0, database: database, at: EventTime.format(now)) }
    }

    private func expire(_ deadline: HoldDeadline, database: PostgresConnection, at: String) throws -> [TimedChange] {
        let expired = try database.query("""
            SELECT o.order_id, o.correlation_id, \(unescaped: deadline.detail) AS detail
            FROM capture.orders o
            WHERE o.status = 'on_hold' AND \(deadline.hold.rawValue) = ANY(o.hold_reasons) AND o.\(unescaped: deadline.column) <= now()
              -- Another copy may have committed but not yet published this order's
              -- earlier events; emitting now could overtake them on the topic.
              AND NOT EXISTS (SELECT 1 FROM capture.outbox b
                              WHERE b.sent_at IS NULL AND b.message_key = convert_to(o.order_id, 'UTF8'))
            ORDER BY o.\(unescaped: deadline.column) LIMIT 500 FOR UPDATE OF o SKIP LOCKED
            """)
        guard expired.count > 0 else { return [] }
        let orderIDs: [String] = try expired.map { try $0.decode("order_id") }
        try database.query("""
            UPDATE capture.orders SET status = \(deadline.target.rawValue), hold_reasons = '{}', hold_expires_at = NULL,
                   catalog_deadline = NULL, updated_at = now()
            WHERE order_id = ANY(\(orderIDs)::text[])
            """)
        return try expired.map { row in
            let orderID: String = try row.decode("order_id")
            let transition = try OrderStatus.transition(from: .onHold, to: deadline.target, orderID: orderID)
            let finding = deadline.finding(try row.decodeIfPresent("detail"))
            return TimedChange(
                key: "\(deadline.key):\(orderID)", correlationID: try row.decode("correlation_id"),
                emit: [OrderEvents.outcome(transition.event, orderID: orderID, findings: [finding], at: at)],
                audit: [AuditRecord(subject: orderID, action: transition.event, actor: "oms-capture", reason: finding.message)])
        }
    }

    /// Re-runs the catalog rules for an order that waited for the catalog.
    private func recheckCatalog(_ held: CaptureStore.CatalogHeldOrder, products: [String: ProductInfo], at now: String) throws
        -> (status: OrderStatus, holds: Set<HoldReason>, emit: [Emission], audit: [AuditRecord])
    {
        let findings = CatalogCheck.evaluate(skus: held.skus, shippingStreet: held.shippingStreet, products: products, rules: rules)
        if findings.contains(where: { $0.effect == .reject }) {
            let transition = try OrderStatus.transition(from: .onHold, to: .rejected, orderID: held.orderID)
            let reasons = findings.filter { $0.effect == .reject }
            return (.rejected, [], [OrderEvents.outcome(transition.event, orderID: held.orderID, findings: reasons, at: now)],
                    [AuditRecord(subject: held.orderID, action: transition.event, actor: "oms-capture",
                                 reason: "catalog now known: " + reasons.map(\.message).joined(separator: "; "))])
        }
        var holds = held.holds.subtracting([.catalog])
        for finding in findings { if case .hold(let reason) = finding.effect { holds.insert(reason) } }
        if holds.isEmpty {
            let transition = try OrderStatus.transition(from: .onHold, to: .accepted, orderID: held.orderID)
            let reason = "all SKUs now in the catalog"
            return (.accepted, [], [OrderEvents.statusChange(transition.event, orderID: held.orderID, reason: reason, at: now)],
                    [AuditRecord(subject: held.orderID, action: transition.event, actor: "oms-capture", reason: reason)])
        }
        return (.onHold, holds, [], [AuditRecord(subject: held.orderID, action: "Order.HoldChanged", actor: "oms-capture",
                                                 reason: "catalog re-checked; held for \(holds.listed)")])
    }

    /// Orders waiting for SKUs this batch brought into the catalog: re-checked with
    /// two queries for the whole batch; each order's result goes with the first
    /// message that updated one of its SKUs.
    private func recheckWaitingOrders(_ productOutcomeBySku: [String: Int], known: [String: KnownOrder], store: CaptureStore,
                                      at now: String, outcomes: inout [MessageOutcome],
                                      changes: inout [(orderID: String, status: OrderStatus, holds: Set<HoldReason>)]) throws {
        guard !productOutcomeBySku.isEmpty else { return }
        let waiting = try store.ordersWaitingForCatalog(skus: Array(productOutcomeBySku.keys)).filter { known[$0.orderID] == nil }
        guard !waiting.isEmpty else { return }
        let products = try store.products(Array(Set(waiting.flatMap(\.skus))))
        for held in waiting {
            guard let index = held.skus.compactMap({ productOutcomeBySku[$0] }).min(),
                  case .processed(let emit, let audit) = outcomes[index] else { continue }
            let change = try recheckCatalog(held, products: products, at: now)
            outcomes[index] = .processed(emit: emit + change.emit, audit: audit + change.audit)
            changes.append((held.orderID, change.status, change.holds))
        }
    }

    /// What this batch knows about one order id.
    struct KnownOrder {
        var status: OrderStatus
        var holds: Set<HoldReason>
        let paymentAmount: Int64
        let contentHash: String
        let sourceEventID: String
        var changed = false
    }

    func apply(_ batch: [DecodedMessage<CaptureInput>], database: PostgresConnection) throws -> [MessageOutcome] {
        let store = CaptureStore(database: database)
        var payments: [(key: String, update: PaymentUpdate)] = []
        var productUpdates: [(key: String, update: ProductUpdate)] = []
        var orderIDs = Set<String>()
        for message in batch {
            switch message.input {
            case .orderCreated(_, let order): orderIDs.insert(order.orderID)
            case .payment(_, let update):
                orderIDs.insert(update.orderID)
                payments.append((message.idempotencyKey, update))
            case .request(_, let request):
                orderIDs.insert(request.orderID)
            case .product(_, let update):
                productUpdates.append((message.idempotencyKey, update))
            }
        }
        try store.upsertProducts(productUpdates)
        try store.recordPayments(payments)
        var known = try store.existingOrders(Array(orderIDs))
        let ledgers = try store.ledgers(Array(orderIDs))
        let newOrders = batch.compactMap { message -> OrderSubmission? in
            if case .orderCreated(_, let order) = message.input, known[order.orderID] == nil { return order }
            return nil
        }
        var histories = try store.histories(newOrders, velocityWindowMinutes: rules.fraud.velocityWindowMinutes)
        let products = try store.products(Array(Set(newOrders.flatMap { $0.lines.map(\.sku) })))

        var outcomes: [MessageOutcome] = []
        var inserts: [CaptureStore.NewOrder] = []
        var catalogChanges: [(orderID: String, status: OrderStatus, holds: Set<HoldReason>)] = []
        /// For each SKU updated in this batch, the outcome of the first message that updated it.
        var productOutcomeBySku: [String: Int] = [:]
        let now = EventTime.format(Date())
        for message in batch {
            switch message.input {
            case .orderCreated(let event, let order):
                let existing = known[order.orderID].map { ExistingOrder(contentHash: $0.contentHash, sourceEventID: $0.sourceEventID) }
                let history = histories.history(for: order)
                let outcome = IntakeDecision.decide(order, existing: existing, history: history,
                                                    ledger: ledgers[order.orderID] ?? .empty, products: products, rules: rules)
                let source = "shop:\(event.source)"
                switch outcome {
                case .repeatOfExisting:
                    outcomes.append(.processed(emit: [], audit: [
                        AuditRecord(subject: order.orderID, action: "Order.Created.Repeated", actor: source,
                                    reason: "identical order content under another event id; no effect",
                                    details: ["eventId": .string(message.idempotencyKey)])
                    ]))
                case .conflict(let failure):
                    outcomes.append(.deadLetter(failure))
                case .accept(let findings), .hold(_, let findings), .reject(let findings):
                    let (status, holds): (OrderStatus, Set<HoldReason>) = switch outcome {
                    case .hold(let reasons, _): (.onHold, reasons)
                    case .reject: (.rejected, [])
                    default: (.accepted, [])
                    }
                    let transition = try OrderStatus.transition(from: nil, to: status, orderID: order.orderID)
                    let hash = OrderFingerprint.of(order)
                    known[order.orderID] = KnownOrder(status: status, holds: holds, paymentAmount: order.paymentAmount,
                                                      contentHash: hash, sourceEventID: message.idempotencyKey)
                    histories.record(order)
                    let awaitingFunds = findings.contains { $0.code == "payment.awaiting-funds" }
                    inserts.append(CaptureStore.NewOrder(
                        order: order, status: status, holds: holds, findings: findings, contentHash: hash,
                        sourceEventID: message.idempotencyKey, correlationID: message.correlationID,
                        holdExpiresInHours: awaitingFunds ? rules.payment.prepaymentTimeoutHours : nil,
                        catalogWaitMinutes: holds.contains(.catalog) ? rules.unknownSkuWaitMinutes : nil))
                    outcomes.append(.processed(
                        emit: [OrderEvents.announce(transition.event, order: order, holds: holds, findings: findings, at: now)],
                        audit: [AuditRecord(subject: order.orderID, action: transition.event, actor: "oms-capture",
                                            reason: OrderEvents.auditReason(status: status, holds: holds, findings: findings, source: event.source),
                                            details: OrderEvents.auditDetails(order: order, findings: findings, eventID: message.idempotencyKey))]))
                }
            case .payment(let event, let update):
                guard var order = known[update.orderID] else {
                    outcomes.append(.processed(emit: [], audit: [
                        AuditRecord(subject: update.orderID, action: event.type, actor: "shop:\(event.source)",
                                    reason: "recorded before the order arrived; applied when it does")
                    ]))
                    continue
                }
                let decision = PaymentDecision.decide(update, status: order.status, holds: order.holds,
                                                      paymentAmount: order.paymentAmount,
                                                      capturedSoFar: ledgers[update.orderID]?.capturedAmount ?? 0)
                var emit: [Emission] = []
                var action = event.type
                var reason: String
                switch decision {
                case .recordOnly(let why):
                    reason = why
                case .liftPaymentHold(let remaining):
                    order.holds = remaining
                    order.changed = true
                    reason = "payment received; still held for \(remaining.sorted().map(\.rawValue).joined(separator: ", "))"
                case .release:
                    let transition = try OrderStatus.transition(from: order.status, to: .accepted, orderID: update.orderID)
                    order.status = .accepted
                    order.holds = []
                    order.changed = true
                    action = transition.event
                    reason = "payment \(update.reference ?? "") received"
                    emit.append(OrderEvents.statusChange(transition.event, orderID: update.orderID, reason: reason, at: now))
                case .cancel(let why):
                    let transition = try OrderStatus.transition(from: order.status, to: .cancelled, orderID: update.orderID)
                    order.status = .cancelled
                    order.holds = []
                    order.changed = true
                    action = transition.event
                    reason = why
                    emit.append(OrderEvents.statusChange(transition.event, orderID: update.orderID, reason: why, at: now))
                }
                known[update.orderID] = order
                outcomes.append(.processed(emit: emit, audit: [
                    AuditRecord(subject: update.orderID, action: action, actor: "shop:\(event.source)", reason: reason,
                                details: ["eventId": .string(message.idempotencyKey), "payment": .string(update.kind.rawValue)])
                ]))
            case .product(let event, let update):
                if productOutcomeBySku[update.info.sku] == nil { productOutcomeBySku[update.info.sku] = outcomes.count }
                outcomes.append(.processed(emit: [], audit: [
                    AuditRecord(subject: "sku:\(update.info.sku)", action: event.type, actor: "pim:\(event.source)",
                                reason: "catalog replica updated (as of \(update.changedAt))")
                ]))
            case .request(let event, let request):
                guard var order = known[request.orderID] else {
                    outcomes.append(.deadLetter(.businessRule("order \(request.orderID) is unknown; \(request.kind.rawValue) cannot apply")))
                    continue
                }
                let actor = "\(request.by) via \(event.source)"
                switch RequestDecision.decide(request, status: order.status, holds: order.holds) {
                case .refuse(let why):
                    outcomes.append(.deadLetter(.businessRule(why)))
                case .forwardToRouter:
                    outcomes.append(.processed(
                        emit: [Emission(topic: Topic.omsOrders, key: request.orderID, type: "Order.CancellationRequested",
                                        subject: request.orderID,
                                        data: ["orderId": .string(request.orderID), "reason": .string(request.reason),
                                               "requestedBy": .string(request.by)])],
                        audit: [AuditRecord(subject: request.orderID, action: "Order.CancellationRequested", actor: actor,
                                            reason: "order already went on; forwarded to the Router: \(request.reason)")]))
                case .liftReviewHold(let remaining):
                    order.holds = remaining
                    order.changed = true
                    known[request.orderID] = order
                    outcomes.append(.processed(emit: [], audit: [
                        AuditRecord(subject: request.orderID, action: request.kind.rawValue, actor: actor,
                                    reason: "review passed; still held for \(remaining.listed)")
                    ]))
                case .move(let target, let reason):
                    do {
                        let transition = try OrderStatus.transition(from: order.status, to: target, orderID: request.orderID)
                        order.status = target
                        order.holds = []
                        order.changed = true
                        known[request.orderID] = order
                        let emission = OrderEvents.outcome(
                            transition.event, orderID: request.orderID,
                            findings: [CheckFinding(check: "review", code: "review.denied", effect: .reject, message: reason)], at: now)
                        outcomes.append(.processed(emit: [emission], audit: [
                            AuditRecord(subject: request.orderID, action: transition.event, actor: actor, reason: reason,
                                        details: ["eventId": .string(message.idempotencyKey), "request": .string(request.kind.rawValue)])
                        ]))
                    } catch {
                        outcomes.append(.deadLetter(error))
                    }
                }
            }
        }
        try recheckWaitingOrders(productOutcomeBySku, known: known, store: store, at: now, outcomes: &outcomes, changes: &catalogChanges)
        try store.insert(inserts)
        // After the insert: a new order changed by a later message of this batch is written with its final state.
        try store.update(catalogChanges + known.filter(\.value.changed).map { ($0.key, $0.value.status, $0.value.holds) })
        return outcomes
    }
}
