import Foundation
import Shared

/// Capture's I/O around the intake decisions: reads what it knows about the
/// batch's orders, writes new and changed orders set-based, says what to emit.
struct CaptureHandler: StageHandler {
    let definition = StageDefinition(name: "capture", schema: "capture", consumerGroup: "oms-capture",
                                     topics: [Topic.shopOrders, Topic.shopPayments, Topic.catalogProducts, Topic.crmCustomers, Topic.omsStock,
                                              Topic.omsBilling])
    let maximumEventBytes: Int
    /// Every version of capture.json; an order is checked by the one in force when it was placed.
    let ruleVersions: RuleVersions<CaptureRules>
    /// The rules in force now (time-driven changes, re-checks).
    var rules: CaptureRules { ruleVersions.rules(at: Date()) }
    /// Each topic carries only its own types (a `Product.Changed` on shop.orders is `wrong-topic`).
    let admission: TopicAdmission

    static let handledTypes: [String: Set<String>] = [
        Topic.shopOrders: ["Order.Created", "Order.CancellationRequested", "Order.ApprovalGiven", "Order.ApprovalDenied"],
        Topic.shopPayments: ["Payment.Captured", "Payment.Failed"],
        Topic.catalogProducts: ["Product.Changed"],
        Topic.crmCustomers: ["Customer.Changed", "Receivables.Changed", "Customer.ErasureRequested"],
        Topic.omsStock: ["Availability.Changed"],
        // Billing's ledger: open invoices per customer, and how much of each order is invoiced (no longer an open order).
        Topic.omsBilling: ["Receivables.Changed", "Order.Invoiced"],
    ]

    init(maximumEventBytes: Int, ruleVersions: RuleVersions<CaptureRules>, topicSources: [String: [String]] = [:]) {
        self.maximumEventBytes = maximumEventBytes
        self.ruleVersions = ruleVersions
        admission = TopicAdmission(handled: Self.handledTypes, sources: topicSources)
    }

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<CaptureInput> {
        let (event, skip) = try admission.read(message, maximumBytes: maximumEventBytes)
        if let skip { return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: .ignored(skip), skipped: true) }
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
        } else if event.type == "Customer.ErasureRequested" {
            guard let customerID = event.data["customerId"]?.stringValue, let by = event.data["requestedBy"]?.stringValue else {
                throw .schemaViolation("data.customerId and data.requestedBy are required")
            }
            if let subject = event.subject, subject != customerID {
                throw .schemaViolation("event.subject \"\(subject.prefix(64))\" does not match data.customerId \"\(customerID)\"")
            }
            return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id,
                                  input: .erasure(event, customerID: customerID, requestedBy: by))
        } else if event.type == "Customer.Changed" || event.type == "Receivables.Changed" {
            let input: CaptureInput
            let customerID: String
            if event.type == "Customer.Changed" {
                let update = try CustomerUpdate(event: event)
                (input, customerID) = (.customer(event, update), update.account.customerID)
            } else {
                let update = try ReceivablesUpdate(event: event)
                (input, customerID) = (.receivables(event, update), update.customerID)
            }
            if let subject = event.subject, subject != customerID {
                throw .schemaViolation("event.subject \"\(subject.prefix(64))\" does not match data.customerId \"\(customerID)\"")
            }
            return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: input)
        } else if event.type == "Order.Invoiced" {
            return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id,
                                  input: .invoiced(event, try InvoicedUpdate(event: event)))
        } else if event.type == "Availability.Changed" {
            return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id,
                                  input: .availability(event, try AvailabilityUpdate(event: event)))
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
        /// Also raise a dead letter, so that operators are alerted (the cause is missing master data).
        var deadLetterClass: String?

        func alerting(as errorClass: String) -> HoldDeadline {
            var copy = self
            copy.deadLetterClass = errorClass
            return copy
        }
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
            }.alerting(as: "catalog-timeout"),
        ]
    }

    /// Time-driven changes: prepayment deadlines cancel, catalog deadlines reject.
    func housekeeping(database: PostgresConnection, now: Date) throws -> [TimedChange] {
        try deadlines.flatMap { try expire($0, database: database, at: EventTime.format(now)) }
    }

    private func expire(_ deadline: HoldDeadline, database: PostgresConnection, at: String) throws -> [TimedChange] {
        let expired = try database.query("""
            SELECT o.order_id, o.correlation_id, o.source_event_id, o.data::text AS record, \(unescaped: deadline.detail) AS detail
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
            let deadLetters = try deadline.deadLetterClass.map { errorClass in
                [TimedDeadLetter(failure: PermanentFailure(errorClass, "order \(orderID) rejected: \(finding.message)"),
                                 originalTopic: Topic.shopOrders, originalEventID: try row.decode("source_event_id"), key: orderID,
                                 payload: (try? JSONParser.parse(Array(try row.decode("record", as: String.self).utf8))) ?? .null)]
            } ?? []
            return TimedChange(
                key: "\(deadline.key):\(orderID)", correlationID: try row.decode("correlation_id"),
                emit: [OrderEvents.outcome(transition.event, orderID: orderID, findings: [finding], at: at)],
                audit: [AuditRecord(subject: orderID, action: transition.event, actor: "oms-capture", reason: finding.message)],
                deadLetters: deadLetters)
        }
    }

    /// Re-runs the catalog and availability rules for an order that waited for master data.
    private func recheckWaiting(_ held: CaptureStore.WaitingOrder, products: [String: ProductInfo], availability: [String: Int64],
                                at now: String) throws -> (status: OrderStatus, holds: Set<HoldReason>, emit: [Emission], audit: [AuditRecord]) {
        let findings = CatalogCheck.evaluate(skus: held.skus, shippingStreet: held.shippingStreet, products: products, rules: rules)
            + AvailabilityCheck.evaluate(lines: held.lines, shipComplete: held.shipComplete, availability: availability,
                                         policy: rules.shipCompleteShortfall)
        if findings.contains(where: { $0.effect == .reject }) {
            let transition = try OrderStatus.transition(from: .onHold, to: .rejected, orderID: held.orderID)
            let reasons = findings.filter { $0.effect == .reject }
            return (.rejected, [], [OrderEvents.outcome(transition.event, orderID: held.orderID, findings: reasons, at: now)],
                    [AuditRecord(subject: held.orderID, action: transition.event, actor: "oms-capture",
                                 reason: "master data now known: " + reasons.map(\.message).joined(separator: "; "))])
        }
        var holds = held.holds.subtracting([.catalog, .stock])
        for finding in findings { if case .hold(let reason) = finding.effect { holds.insert(reason) } }
        if holds.isEmpty {
            let transition = try OrderStatus.transition(from: .onHold, to: .accepted, orderID: held.orderID)
            let notes = findings.filter { $0.effect == .note }.map(\.message)
            let reason = (["all SKUs known to the catalog and available as required"] + notes).joined(separator: "; ")
            return (.accepted, [], [OrderEvents.statusChange(transition.event, orderID: held.orderID, reason: reason, at: now)],
                    [AuditRecord(subject: held.orderID, action: transition.event, actor: "oms-capture", reason: reason)])
        }
        guard holds != held.holds else { return (.onHold, holds, [], []) }
        return (.onHold, holds, [], [AuditRecord(subject: held.orderID, action: "Order.HoldChanged", actor: "oms-capture",
                                                 reason: "catalog and availability re-checked; held for \(holds.listed)")])
    }

    /// Orders waiting for SKUs this batch brought into the catalog or whose
    /// availability changed: re-checked with three queries for the whole batch;
    /// each order's result goes with the first message that updated one of its SKUs.
    /// An order that a payment or request of this same batch already changed is re-checked
    /// in the state that message left it in, and its result goes with the later of the two
    /// messages, so that its events keep their order on the topic.
    private func recheckWaitingOrders(_ outcomeBySku: [String: Int], lastOutcomeByOrder: [String: Int], known: inout [String: KnownOrder],
                                      store: CaptureStore, master: MasterDataStore, at now: String, outcomes: inout [MessageOutcome],
                                      changes: inout [(orderID: String, status: OrderStatus, holds: Set<HoldReason>)]) throws {
        guard !outcomeBySku.isEmpty else { return }
        let waiting = try store.ordersWaitingForMasterData(skus: Array(outcomeBySku.keys)).compactMap { stored -> CaptureStore.WaitingOrder? in
            guard let current = known[stored.orderID] else { return stored }
            // Changed by this batch: still waiting for master data only if it is still held for it.
            guard current.status == .onHold, !current.holds.isDisjoint(with: [.catalog, .stock]) else { return nil }
            return CaptureStore.WaitingOrder(orderID: stored.orderID, holds: current.holds, lines: stored.lines,
                                             shipComplete: stored.shipComplete, shippingStreet: stored.shippingStreet)
        }
        guard !waiting.isEmpty else { return }
        let skus = Array(Set(waiting.flatMap(\.skus)))
        let products = try store.products(skus)
        let availability = try master.availability(skus)
        for held in waiting {
            guard let skuIndex = held.skus.compactMap({ outcomeBySku[$0] }).min() else { continue }
            var index = max(skuIndex, lastOutcomeByOrder[held.orderID] ?? skuIndex)
            if case .deadLetter = outcomes[index] { index = skuIndex }
            guard case .processed(let emit, let audit) = outcomes[index] else { continue }
            let change = try recheckWaiting(held, products: products, availability: availability, at: now)
            guard change.status != .onHold || change.holds != held.holds else { continue }
            outcomes[index] = .processed(emit: emit + change.emit, audit: audit + change.audit)
            if var current = known[held.orderID] {
                current.status = change.status
                current.holds = change.holds
                current.changed = true
                known[held.orderID] = current
            } else {
                changes.append((held.orderID, change.status, change.holds))
            }
        }
    }

    /// What this batch knows about one order id.
    struct KnownOrder {
        var status: OrderStatus
        var holds: Set<HoldReason>
        let paymentAmount: Money
        let contentHash: String
        let sourceEventID: String
        /// Who may decide the order's approval hold.
        var approvers: [String] = []
        var changed = false
    }

    func apply(_ batch: [DecodedMessage<CaptureInput>], database: PostgresConnection) throws -> [MessageOutcome] {
        let store = CaptureStore(database: database)
        let master = MasterDataStore(database: database)
        var payments: [(key: String, update: PaymentUpdate)] = []
        var productUpdates: [(key: String, update: ProductUpdate)] = []
        var customerUpdates: [(key: String, update: CustomerUpdate)] = []
        var receivablesUpdates: [(key: String, update: ReceivablesUpdate)] = []
        var availabilityUpdates: [AvailabilityUpdate] = []
        var invoicedUpdates: [InvoicedUpdate] = []
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
            case .customer(_, let update):
                customerUpdates.append((message.idempotencyKey, update))
            case .receivables(_, let update):
                receivablesUpdates.append((message.idempotencyKey, update))
            case .availability(_, let update):
                availabilityUpdates.append(update)
            case .invoiced(_, let update):
                invoicedUpdates.append(update)
            case .ignored, .erasure:
                break
            }
        }
        try store.recordInvoiced(invoicedUpdates)
        try store.upsertProducts(productUpdates)
        try master.upsertCustomers(customerUpdates)
        try master.upsertReceivables(receivablesUpdates)
        let availabilityChanged = Set(try master.upsertAvailability(availabilityUpdates))
        try store.recordPayments(payments)
        var known = try store.existingOrders(Array(orderIDs))
        let ledgers = try store.ledgers(Array(orderIDs))
        let newOrders = batch.compactMap { message -> OrderSubmission? in
            if case .orderCreated(_, let order) = message.input, known[order.orderID] == nil { return order }
            return nil
        }
        var histories = try store.histories(newOrders, velocity: rules.fraud)
        let newSkus = Array(Set(newOrders.flatMap { $0.lines.map(\.sku) }))
        let products = try store.products(newSkus)
        let availability = try master.availability(newSkus)
        let businessOrders = newOrders.filter { $0.customer.type == "b2b" }
        let accounts = try master.accounts(Array(Set(businessOrders.map(\.customer.id))))
        var exposures = try master.exposures(Array(accounts.keys))
        let groupPrices = try master.groupPrices(skus: Array(Set(businessOrders.flatMap { $0.lines.map(\.sku) })),
                                                 groups: Array(Set(accounts.values.compactMap(\.group) + businessOrders.compactMap(\.customer.group))))

        var outcomes: [MessageOutcome] = []
        var inserts: [CaptureStore.NewOrder] = []
        var masterDataChanges: [(orderID: String, status: OrderStatus, holds: Set<HoldReason>)] = []
        /// For each SKU whose product or availability changed in this batch, the outcome of the first message that changed it.
        var outcomeBySku: [String: Int] = [:]
        let now = EventTime.format(Date())
        for message in batch {
            switch message.input {
            case .orderCreated(let event, let order):
                // The version in force when the order was placed (never one from the future).
                let rules = ruleVersions.rules { min(EventTime.parse(order.placedAt), Date()) }
                let existing = known[order.orderID].map { ExistingOrder(contentHash: $0.contentHash, sourceEventID: $0.sourceEventID) }
                let account = accounts[order.customer.id]
                let context = IntakeContext(
                    history: histories.history(for: order), ledger: ledgers[order.orderID] ?? .empty, products: products,
                    account: account, exposure: exposures[order.customer.id] ?? .none, groupPrices: groupPrices,
                    availability: availability)
                let outcome = IntakeDecision.decide(order, existing: existing, context: context, rules: rules)
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
                    let approvers = B2BCheck.approvers(of: order, account: account)
                    let terms = order.customer.type == "b2b" ? account?.paymentTerms : nil
                    known[order.orderID] = KnownOrder(status: status, holds: holds, paymentAmount: order.paymentAmount,
                                                      contentHash: hash, sourceEventID: message.idempotencyKey, approvers: approvers)
                    histories.record(order)
                    if status != .rejected, let account {
                        exposures[order.customer.id, default: .none].add(openOrder: order.paymentAmount, creditCurrency: account.creditCurrency)
                    }
                    var emit = [OrderEvents.announce(transition.event, order: order, holds: holds, findings: findings, terms: terms,
                                                          salesChannel: event.source, at: now)]
                    if holds.contains(.approval) {
                        let limit = account?.buyers.first { $0.buyerID == order.buyerID }?.approvalLimit
                        emit.append(OrderEvents.approvalRequested(order, approvers: approvers, approvalLimit: limit, findings: findings, at: now))
                    }
                    let awaitingFunds = findings.contains { $0.code == "payment.awaiting-funds" }
                    inserts.append(CaptureStore.NewOrder(
                        order: order, status: status, holds: holds, findings: findings, contentHash: hash,
                        sourceEventID: message.idempotencyKey, correlationID: message.correlationID,
                        holdExpiresInHours: awaitingFunds ? rules.payment.prepaymentTimeoutHours : nil,
                        catalogWaitMinutes: holds.contains(.catalog) ? rules.unknownSkuWaitMinutes : nil,
                        approvers: approvers, paymentTerms: terms))
                    outcomes.append(.processed(
                        emit: emit,
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
                                                      capturedSoFar: (ledgers[update.orderID] ?? .empty).captured(in: order.paymentAmount.currency))
                var emit: [Emission] = []
                var action = event.type
                var reason: String
                switch decision {
                case .refuse(let why):
                    outcomes.append(.deadLetter(.businessRule(why)))
                    continue
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
                if outcomeBySku[update.info.sku] == nil { outcomeBySku[update.info.sku] = outcomes.count }
                outcomes.append(.processed(emit: [], audit: [
                    AuditRecord(subject: "sku:\(update.info.sku)", action: event.type, actor: "pim:\(event.source)",
                                reason: "catalog replica updated (as of \(update.changedAt))")
                ]))
            case .customer(let event, let update):
                outcomes.append(.processed(emit: [], audit: [
                    AuditRecord(subject: "customer:\(update.account.customerID)", action: event.type, actor: "crm:\(event.source)",
                                reason: "customer replica updated (as of \(update.changedAt))")
                ]))
            case .receivables(let event, let update):
                outcomes.append(.processed(emit: [], audit: [
                    AuditRecord(subject: "customer:\(update.customerID)", action: event.type, actor: "ledger:\(event.source)",
                                reason: "unpaid invoices now \(Money.format(update.unpaidAmount, update.currency)) (as of \(update.changedAt))")
                ]))
            case .invoiced(let event, let update):
                outcomes.append(.processed(emit: [], audit: [
                    AuditRecord(subject: update.orderID, action: event.type, actor: "billing:\(event.source)",
                                reason: "\(Money.format(update.invoicedGross, update.currency)) invoiced\(update.complete ? ", completely" : " so far"); no longer counted as an open order")
                ]))
            case .availability(let event, let update):
                // Availability arrives often and in bulk: audited once per event, not per SKU.
                for item in update.items where availabilityChanged.contains(item.sku) && outcomeBySku[item.sku] == nil {
                    outcomeBySku[item.sku] = outcomes.count
                }
                outcomes.append(.processed(emit: [], audit: [
                    AuditRecord(subject: "availability", action: event.type, actor: "router:\(event.source)",
                                reason: "availability of \(update.items.count) SKU(s) as of \(update.asOf)")
                ]))
            case .ignored:
                outcomes.append(.processed(emit: [], audit: []))
            case .erasure:
                // Decided after this batch's orders are written, so that an order of the same batch is erased too.
                outcomes.append(.processed(emit: [], audit: []))
            case .request(let event, let request):
                guard var order = known[request.orderID] else {
                    outcomes.append(.deadLetter(.businessRule("order \(request.orderID) is unknown; \(request.kind.rawValue) cannot apply")))
                    continue
                }
                let actor = "\(request.by) via \(event.source)"
                switch RequestDecision.decide(request, status: order.status, holds: order.holds, approvers: order.approvers) {
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
                case .liftHolds(let lifted, let remaining):
                    order.holds = remaining
                    order.changed = true
                    known[request.orderID] = order
                    outcomes.append(.processed(emit: [], audit: [
                        AuditRecord(subject: request.orderID, action: request.kind.rawValue, actor: actor,
                                    reason: "\(lifted.listed) hold lifted; still held for \(remaining.listed)")
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
                            findings: [CheckFinding(check: "review", code: order.approvers.contains(request.by) ? "approval.denied" : "review.denied",
                                                    effect: .reject, message: reason)], at: now)
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
        var lastOutcomeByOrder: [String: Int] = [:]
        for (index, message) in batch.enumerated() {
            switch message.input {
            case .payment(_, let update): lastOutcomeByOrder[update.orderID] = index
            case .request(_, let request): lastOutcomeByOrder[request.orderID] = index
            default: break
            }
        }
        try recheckWaitingOrders(outcomeBySku, lastOutcomeByOrder: lastOutcomeByOrder, known: &known, store: store, master: master,
                                 at: now, outcomes: &outcomes, changes: &masterDataChanges)
        try store.insert(inserts)
        // After the insert: a new order changed by a later message of this batch is written with its final state.
        try store.update(masterDataChanges + known.filter(\.value.changed).map { ($0.key, $0.value.status, $0.value.holds) })
        for (index, message) in batch.enumerated() {
            guard case .erasure(let event, let customerID, let by) = message.input else { continue }
            outcomes[index] = try erase(customerID: customerID, requestedBy: by, erasureID: event.id, store: store, at: now)
        }
        return outcomes
    }

    /// Erasure: Capture knows the customer's orders; it erases its own copy and orders every stage to erase theirs.
    static let erasurePartSize = 1_000

    private func erase(customerID: String, requestedBy: String, erasureID: String, store: CaptureStore, at now: String) throws -> MessageOutcome {
        let orderIDs = try store.orderIDs(customer: customerID)
        let erasure = ErasureOrder(erasureID: erasureID, customerID: customerID, orderIDs: orderIDs, requestedBy: requestedBy)
        let rows = try store.erasePersonalData(erasure)
        // The contracts carry at most 10,000 order ids per event: a customer with more gets one order per part (same erasure id).
        var emit: [Emission] = []
        for start in stride(from: 0, to: max(orderIDs.count, 1), by: Self.erasurePartSize) {
            let part = ErasureOrder(erasureID: erasureID, customerID: customerID,
                                    orderIDs: Array(orderIDs[start..<min(orderIDs.count, start + Self.erasurePartSize)]), requestedBy: requestedBy)
            emit.append(Emission(topic: Topic.omsPrivacy, key: customerID, type: "Customer.ErasureOrdered", subject: customerID, data: [
                "erasureId": .string(erasureID), "customerId": .string(customerID), "orderIds": .array(part.orderIDs.map { .string($0) }),
                "requestedBy": .string(requestedBy), "requestedAt": .string(now),
            ]))
            emit.append(part.confirmation(stage: definition.name, rows: start == 0 ? rows : 0, at: now))
        }
        return .processed(emit: emit, audit: [erasure.audit(rows: rows)])
    }
}
