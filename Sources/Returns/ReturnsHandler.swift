import FulfillmentCore
import Foundation
import ReturnsCore
import Shared

/// Returns' I/O around its rules: a request (gather the order, its shipments and earlier returns → the return rule
/// decides → RMA, label, `Return.Authorized` / `Return.Held` / `Return.Rejected`); a receipt (gather the return →
/// the disposition rule and the refund rule decide → `Return.Inspected`, `Stock.Returned` for the Router,
/// `Refund.Approved` for Billing and `Refund.Requested` for the payment provider); customer service's decisions.
struct ReturnsHandler: StageHandler {
    let definition = StageDefinition(name: "returns", schema: "returns", consumerGroup: "oms-returns",
                                     topics: [Topic.omsOrders, Topic.omsShipments, Topic.catalogProducts, Topic.returnsRequests, Topic.warehouseEvents])
    let maximumEventBytes: Int
    let rules: RuleVersions<ReturnRules>
    let admission: TopicAdmission
    /// Where the portal stores return photos (OMS_RETURNS_UPLOAD_DIR), so that an erasure removes the files too.
    var photoDirectory: String?

    static let handledTypes: [String: Set<String>] = [
        Topic.omsOrders: ["Order.Accepted", "Order.OnHold"],
        Topic.omsShipments: ["Shipment.Shipped", "Shipment.Delivered"],
        Topic.catalogProducts: ["Product.Changed"],
        Topic.returnsRequests: ["Return.Requested", "Return.Decided"],
        Topic.warehouseEvents: ["Return.Received"],
    ]

    init(maximumEventBytes: Int, rules: RuleVersions<ReturnRules>, topicSources: [String: [String]] = [:]) {
        self.maximumEventBytes = maximumEventBytes
        self.rules = rules
        admission = TopicAdmission(handled: Self.handledTypes, sources: topicSources)
    }

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<ReturnsInput> {
        let (event, skip) = try admission.read(message, maximumBytes: maximumEventBytes, ownSource: definition.eventSource)
        let input: ReturnsInput
        if let skip { input = .ignored(skip) } else { input = try ReturnsInput.decode(event) }
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: input, skipped: skip != nil)
    }

    func apply(_ batch: [DecodedMessage<ReturnsInput>], database: PostgresConnection) throws -> [MessageOutcome] {
        let store = ReturnsStore(database: database)
        var outcomes: [MessageOutcome] = []
        for message in batch {
            let now = Date()
            let rules = self.rules.rules(at: now)
            switch message.input {
            case .product(let sku, let product, let at):
                try store.upsertProduct(sku: sku, product: product, changedAt: at)
                outcomes.append(.processed(emit: [], audit: []))
            case .order(let id, let data, let email, let postalCode):
                try store.insertOrder(id, data: data, email: email, postalCode: postalCode)
                outcomes.append(.processed(emit: [], audit: []))
            case .shipped(let shipment):
                try store.insertShipment(shipment)
                outcomes.append(.processed(emit: [], audit: []))
            case .delivered(let fo, let at):
                try store.markDelivered(fo, at: at)
                outcomes.append(.processed(emit: [], audit: []))
            case .requested(let request):
                outcomes.append(try handleRequest(request, store: store, rules: rules, now: now))
            case .received(let receipt):
                outcomes.append(try handleReceipt(receipt, store: store, rules: rules, now: now))
            case .decided(let decision):
                outcomes.append(try handleDecision(decision, store: store, rules: rules, now: now))
            case .ignored:
                outcomes.append(.processed(emit: [], audit: []))
            }
        }
        return outcomes
    }

    // MARK: - Requests

    func handleRequest(_ request: ReturnsInput.Request, store: ReturnsStore, rules: ReturnRules, now: Date) throws -> MessageOutcome {
        let at = EventTime.format(now)
        try store.lockOrder(request.orderID)
        // Gather.
        if let existing = try store.returnByRequest(request.requestID) {
            return .processed(emit: [], audit: [AuditRecord(subject: request.orderID, action: "Return.DuplicateRequest", actor: actor(request),
                                                             reason: "request \(request.requestID) is already \(existing.rma ?? existing.status.rawValue)")])
        }
        guard let data = try store.order(request.orderID) else {
            let refusal = ReturnPolicy.Refusal(lineID: nil, code: "unknown-order", english: "This order is not known (yet).",
                                               german: "Diese Bestellung ist (noch) nicht bekannt.")
            try store.insertReturn(request, rma: nil, status: .rejected, reasons: ReturnsEvents.reasonsJSON([refusal]), holdReason: nil,
                                   labelSSCC: nil, labelPDF: nil, shopPaysReturnShipping: false, skus: [:])
            return .processed(emit: ReturnsEvents.rejected(requestID: request.requestID, rma: nil, orderID: request.orderID, refusals: [refusal],
                                                           by: nil, at: at),
                              audit: [AuditRecord(subject: request.orderID, action: "Return.Rejected", actor: "returns", reason: "unknown order")])
        }
        let order = ReturnsInput.order(data, shipments: try store.shipments(of: request.orderID), returned: try store.returnedUnits(of: request.orderID))
        let products = try store.products(order.lines.map(\.sku))
        let skus = Dictionary(order.lines.map { ($0.lineID, $0.sku) }, uniquingKeysWith: { a, _ in a })
        // Decide.
        let decision = ReturnPolicy.decide(request.lines, order: order, products: products, rules: rules, now: now)
        let shopPays = request.lines.contains { rules.reason($0.reason)?.shopPaysReturnShipping == true }
        let lines = ReturnsEvents.lines(request.lines, skus: skus)
        // Write.
        switch decision {
        case .reject(let refusals):
            try store.insertReturn(request, rma: nil, status: .rejected, reasons: ReturnsEvents.reasonsJSON(refusals), holdReason: nil,
                                   labelSSCC: nil, labelPDF: nil, shopPaysReturnShipping: shopPays, skus: skus)
            return .processed(emit: ReturnsEvents.rejected(requestID: request.requestID, rma: nil, orderID: request.orderID, refusals: refusals, by: nil, at: at),
                              audit: [AuditRecord(subject: request.orderID, action: "Return.Rejected", actor: actor(request),
                                                  reason: refusals.map(\.english).joined(separator: "; "))])
        case .hold(let reason):
            let rma = RMANumber(prefix: rules.rmaPrefix, serial: try store.nextSerial()).text
            try store.insertReturn(request, rma: rma, status: .held, reasons: .array([]), holdReason: reason, labelSSCC: nil, labelPDF: nil,
                                   shopPaysReturnShipping: shopPays, skus: skus)
            return .processed(emit: ReturnsEvents.held(rma: rma, requestID: request.requestID, orderID: request.orderID, lines: lines, reason: reason, at: at),
                              audit: [AuditRecord(subject: request.orderID, action: "Return.Held", actor: actor(request), reason: "\(rma): \(reason)")])
        case .authorize:
            let serial = try store.nextSerial()
            let rma = RMANumber(prefix: rules.rmaPrefix, serial: serial).text
            let (sscc, pdf) = try label(rma: rma, serial: serial, data: data, rules: rules)
            try store.insertReturn(request, rma: rma, status: .authorized, reasons: .array([]), holdReason: nil, labelSSCC: sscc, labelPDF: pdf,
                                   shopPaysReturnShipping: shopPays, skus: skus)
            return .processed(emit: ReturnsEvents.authorized(rma: rma, requestID: request.requestID, orderID: request.orderID, lines: lines, sscc: sscc,
                                                             rules: rules, shopPays: shopPays, by: nil, at: at),
                              audit: [AuditRecord(subject: request.orderID, action: "Return.Authorized", actor: actor(request),
                                                  reason: "\(rma): " + request.lines.map { "line \($0.lineID) × \($0.quantity) (\($0.reason))" }.joined(separator: ", "))])
        }
    }

    func actor(_ request: ReturnsInput.Request) -> String {
        request.requestedBy.map { "\(request.channel):\($0)" } ?? request.channel
    }

    func label(rma: String, serial: Int64, data: JSONValue, rules: ReturnRules) throws -> (String, [UInt8]) {
        let shipTo = data["shipTo"]
        let customer = PostalAddress(name: shipTo?["name"]?.stringValue ?? "", street: shipTo?["street"]?.stringValue ?? "",
                                     postalCode: shipTo?["postalCode"]?.stringValue ?? "", city: shipTo?["city"]?.stringValue ?? "",
                                     country: shipTo?["country"]?.stringValue ?? "")
        let made = try ReturnLabel.make(rma: rma, serial: serial, orderID: data["orderId"]?.stringValue ?? "", customer: customer, rules: rules)
        return (made.sscc.digits, ReturnLabel.pdf(made.label))
    }

    // MARK: - Receipt and inspection

    func handleReceipt(_ receipt: ReturnsInput.Receipt, store: ReturnsStore, rules: ReturnRules, now: Date) throws -> MessageOutcome {
        guard let found = try store.returnByRMA(receipt.rma) else {
            return .deadLetter(.businessRule("Return.Received for \(receipt.rma): no such return"))
        }
        try store.lockOrder(found.orderID)
        guard let ret = try store.returnByRMA(receipt.rma, lock: true), let data = try store.order(ret.orderID) else {
            return .deadLetter(.businessRule("Return.Received for \(receipt.rma): the return's order is gone"))
        }
        guard ret.status == .authorized else {
            return .deadLetter(.businessRule("Return.Received for \(receipt.rma): the return is \(ret.status.rawValue), only an authorized return can be received"))
        }
        let lines = try store.lines(ret.requestID)
        let byID = Dictionary(lines.map { ($0.lineID, $0) }, uniquingKeysWith: { a, _ in a })
        guard Set(receipt.lines.map(\.lineID)).count == receipt.lines.count else {
            return .deadLetter(.businessRule("Return.Received for \(receipt.rma) names a line twice"))
        }
        for line in receipt.lines {
            guard byID[line.lineID] != nil else {
                return .deadLetter(.businessRule("Return.Received for \(receipt.rma): line \(line.lineID) is not part of the return"))
            }
            guard rules.refundBasisPointsByGrade[line.grade] != nil else {
                return .deadLetter(.businessRule("Return.Received for \(receipt.rma): line \(line.lineID) has grade \(line.grade); known grades are \(rules.grades.joined(separator: ", "))"))
            }
        }
        let products = try store.products(lines.map(\.sku))
        // Decide: per line what arrived (never more than authorized), its disposition (a preset manual one wins).
        var inspected: [(line: ReturnsStore.LineRow, received: Int64, grade: String, notes: String?, decision: DispositionRule.Decision, by: String)] = []
        var audit: [AuditRecord] = []
        for entry in receipt.lines {
            guard let line = byID[entry.lineID] else { continue }
            let received = min(entry.quantity, line.quantity)
            if entry.quantity > line.quantity {
                audit.append(AuditRecord(subject: ret.orderID, action: "Return.Excess", actor: "warehouse:\(receipt.warehouseID)",
                                         reason: "\(receipt.rma) line \(line.lineID): \(entry.quantity) received, \(line.quantity) authorized; the excess needs a person"))
            }
            let decision: DispositionRule.Decision
            let by: String
            if let preset = line.disposition, let rule = line.rule {
                decision = DispositionRule.decision(preset, rule: rule, sku: line.sku, rules: rules)
                by = line.decidedBy ?? "customer-service"
            } else {
                decision = DispositionRule.decide(sku: line.sku, reason: line.reason, grade: entry.grade, product: products[line.sku], rules: rules)
                by = "returns"
            }
            inspected.append((line, received, entry.grade, entry.notes, decision, by))
        }
        let waiting = inspected.contains { $0.decision.disposition == .manualInspection && $0.received > 0 }
        let status = waiting ? ReturnStatus.awaitingDecision : .completed
        do { _ = try ret.status.transition(to: status) } catch { return .deadLetter(.businessRule(error.description)) }
        // Write.
        for item in inspected {
            try store.recordInspection(ret.requestID, lineID: item.line.lineID, received: item.received, grade: item.grade, notes: item.notes,
                                       decision: item.decision, decidedBy: item.by)
        }
        try store.setStatus(ret.requestID, status, receivedIn: receipt.warehouseID)
        let at = EventTime.format(now)
        var emit = [ReturnsEvents.inspected(rma: receipt.rma, orderID: ret.orderID, warehouseID: receipt.warehouseID,
                                            lines: inspected.map { inspectedJSON($0.line, received: $0.received, grade: $0.grade, notes: $0.notes,
                                                                                 decision: $0.decision, products: products) },
                                            by: "returns", at: at)]
        var stock: [String: Int64] = [:]
        for item in inspected where item.received > 0 {
            if let sku = item.decision.stockSKU { stock[sku] = (stock[sku] ?? 0) + item.received }
        }
        if let event = ReturnsEvents.stockReturned(rma: receipt.rma, orderID: ret.orderID, warehouseID: receipt.warehouseID, items: stock, at: at) {
            emit.append(event)
        }
        let refundable = inspected.filter { $0.received > 0 && $0.decision.disposition != .manualInspection }
            .map { RefundRule.Inspected(lineID: $0.line.lineID, quantity: $0.received, grade: $0.grade, reason: $0.line.reason) }
        let (refundEvents, refundAudit) = try refund(refundable, ret: ret, data: data, store: store, rules: rules, at: at)
        emit += refundEvents
        audit.append(AuditRecord(subject: ret.orderID, action: "Return.Inspected", actor: "warehouse:\(receipt.warehouseID)",
                                 reason: "\(receipt.rma): " + inspected.map { "line \($0.line.lineID) × \($0.received) grade \($0.grade) → \($0.decision.disposition.rawValue) (\($0.decision.rule))" }
                                    .joined(separator: "; ")))
        audit += refundAudit
        return .processed(emit: emit, audit: audit)
    }

    func inspectedJSON(_ line: ReturnsStore.LineRow, received: Int64, grade: String, notes: String?, decision: DispositionRule.Decision,
                       products: [String: ReturnPolicy.Product]) -> JSONValue {
        var v: [String: JSONValue] = ["lineId": .string(line.lineID), "sku": .string(line.sku), "quantity": .integer(received), "grade": .string(grade),
                                      "disposition": .string(decision.disposition.rawValue), "rule": .string(decision.rule)]
        if let sku = decision.stockSKU { v["stockSku"] = .string(sku) }
        if decision.disposition == .returnToSupplier, let supplier = products[line.sku]?.dropShipSupplier { v["supplierId"] = .string(supplier) }
        if let notes { v["notes"] = .string(notes) }
        return .object(v)
    }

    /// The refund for what was decided: the refund rule, then Refund.Approved (Billing's credit note) and Refund.Requested (the provider).
    func refund(_ inspected: [RefundRule.Inspected], ret: ReturnsStore.ReturnRow, data: JSONValue, store: ReturnsStore, rules: ReturnRules,
                at: String) throws -> ([Emission], [AuditRecord]) {
        guard !inspected.isEmpty, let rma = ret.rma else { return ([], []) }
        let order = ReturnsInput.order(data, shipments: try store.shipments(of: ret.orderID), returned: [:])
        let paid = ReturnsInput.paid(data)
        let before = try store.refundLedger(ret.orderID)
        let ledger = RefundRule.Ledger(shippingCharge: paid.shipping, orderTotal: paid.total, vouchers: paid.vouchers, unitsRefunded: before.units,
                                       refundedBefore: before.total, shippingRefunded: before.shipping)
        let refund: RefundRule.Refund
        do { refund = try RefundRule.refund(inspected, order: order, ledger: ledger, rules: rules) } catch {
            return ([], [AuditRecord(subject: ret.orderID, action: "Refund.NotApproved", actor: "returns", reason: "\(rma): \(error.description)")])
        }
        let count = try store.database.query("SELECT count(*)::bigint AS n FROM returns.refunds WHERE request_id = \(ret.requestID)").first?
            .decode("n", as: Int64.self) ?? 0
        let refundID = "\(rma)/\(count + 1)"
        try store.insertRefund(refundID, requestID: ret.requestID, orderID: ret.orderID, currency: order.currency, refund: refund)
        try store.markRefunded(ret.requestID, lines: refund.lines)
        let payment = (data["payment"]?["method"]?.stringValue, data["payment"]?["reference"]?.stringValue)
        let events = ReturnsEvents.refund(refund, refundID: refundID, rma: rma, orderID: ret.orderID, currency: order.currency, payment: payment,
                                          voucherCodes: paid.voucherCodes, at: at)
        let money = { (v: Int64) in Money.format(v, order.currency) }
        return (events, [AuditRecord(subject: ret.orderID, action: "Refund.Approved", actor: "returns",
                                     reason: "\(refundID): \(money(refund.total)) (" + refund.lines.map { "line \($0.lineID) × \($0.quantity) \(money($0.amount)): \($0.basis)" }
                                        .joined(separator: "; ") + (refund.shipping > 0 ? "; shipping \(money(refund.shipping)): \(refund.shippingReason ?? "")" : "")
                                        + "); to the payment \(money(refund.toPayment)), to vouchers \(money(refund.toVoucher))")])
    }

    // MARK: - Customer service's decisions

    func handleDecision(_ decision: ReturnsInput.Decision, store: ReturnsStore, rules: ReturnRules, now: Date) throws -> MessageOutcome {
        guard let found = try store.returnByRMA(decision.rma) else {
            return .deadLetter(.businessRule("Return.Decided for \(decision.rma): no such return"))
        }
        try store.lockOrder(found.orderID)
        guard let ret = try store.returnByRMA(decision.rma, lock: true), let data = try store.order(ret.orderID) else {
            return .deadLetter(.businessRule("Return.Decided for \(decision.rma): the return's order is gone"))
        }
        let at = EventTime.format(now)
        let by = "customer-service:\(decision.decidedBy)"
        if let authorize = decision.authorize {
            guard ret.status == .held else {
                return .deadLetter(.businessRule("Return.Decided for \(decision.rma): only a held return can be authorized or refused; it is \(ret.status.rawValue)"))
            }
            let lines = try store.lines(ret.requestID)
            let linesJSON = JSONValue.array(lines.map { ["lineId": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity), "reason": .string($0.reason)] })
            if authorize {
                let labelSerial = try store.nextSerial()
                let (sscc, pdf) = try label(rma: decision.rma, serial: labelSerial, data: data, rules: rules)
                try store.setStatus(ret.requestID, .authorized, labelSSCC: sscc, labelPDF: pdf)
                let shopPays = lines.contains { rules.reason($0.reason)?.shopPaysReturnShipping == true }
                return .processed(emit: ReturnsEvents.authorized(rma: decision.rma, requestID: ret.requestID, orderID: ret.orderID, lines: linesJSON, sscc: sscc,
                                                                 rules: rules, shopPays: shopPays, by: decision.decidedBy, at: at),
                                  audit: [AuditRecord(subject: ret.orderID, action: "Return.Authorized", actor: by, reason: "\(decision.rma): \(decision.reason)")])
            }
            let refusal = ReturnPolicy.Refusal(lineID: nil, code: "refused-by-customer-service", english: decision.reason, german: decision.reason)
            try store.setStatus(ret.requestID, .rejected, reasons: ReturnsEvents.reasonsJSON([refusal]))
            return .processed(emit: ReturnsEvents.rejected(requestID: ret.requestID, rma: decision.rma, orderID: ret.orderID, refusals: [refusal],
                                                           by: decision.decidedBy, at: at),
                              audit: [AuditRecord(subject: ret.orderID, action: "Return.Rejected", actor: by, reason: "\(decision.rma): \(decision.reason)")])
        }
        guard !decision.lines.isEmpty else {
            return .deadLetter(.businessRule("Return.Decided for \(decision.rma) decides nothing (neither authorize nor lines)"))
        }
        let lines = try store.lines(ret.requestID)
        let byID = Dictionary(lines.map { ($0.lineID, $0) }, uniquingKeysWith: { a, _ in a })
        let rule = "manual: \(decision.reason)"
        switch ret.status {
        case .authorized:
            // Before receipt: the decision is kept and applied when the parcel arrives (it overrides the table).
            for entry in decision.lines {
                guard byID[entry.lineID] != nil else {
                    return .deadLetter(.businessRule("Return.Decided for \(decision.rma): line \(entry.lineID) is not part of the return"))
                }
            }
            for entry in decision.lines {
                try store.database.query("""
                    UPDATE returns.return_lines SET disposition = \(entry.disposition.rawValue), rule = \(rule), decided_by = \(by)
                    WHERE request_id = \(ret.requestID) AND line_id = \(entry.lineID)
                    """)
            }
            return .processed(emit: [], audit: [AuditRecord(subject: ret.orderID, action: "Return.DispositionPreset", actor: by,
                                                            reason: "\(decision.rma): " + decision.lines.map { "line \($0.lineID) → \($0.disposition.rawValue)" }.joined(separator: ", ")
                                                                + " (\(decision.reason))")])
        case .awaitingDecision:
            var decided: [(line: ReturnsStore.LineRow, decision: DispositionRule.Decision, points: Int64?)] = []
            for entry in decision.lines {
                guard let line = byID[entry.lineID], line.disposition == .manualInspection, let received = line.received, received > 0 else {
                    return .deadLetter(.businessRule("Return.Decided for \(decision.rma): line \(entry.lineID) is not waiting for a decision"))
                }
                decided.append((line, DispositionRule.decision(entry.disposition, rule: rule, sku: line.sku, rules: rules), entry.refundBasisPoints))
            }
            let stillWaiting = lines.contains { line in
                line.disposition == .manualInspection && (line.received ?? 0) > 0 && !decided.contains { $0.line.lineID == line.lineID }
            }
            let status: ReturnStatus = stillWaiting ? .awaitingDecision : .completed
            for item in decided {
                try store.recordInspection(ret.requestID, lineID: item.line.lineID, received: item.line.received ?? 0, grade: item.line.grade ?? "",
                                           notes: item.line.notes, decision: item.decision, decidedBy: by)
            }
            if status != ret.status { try store.setStatus(ret.requestID, status) }
            let products = try store.products(decided.map(\.line.sku))
            var emit = [ReturnsEvents.inspected(rma: decision.rma, orderID: ret.orderID, warehouseID: nil,
                                                lines: decided.map { inspectedJSON($0.line, received: $0.line.received ?? 0, grade: $0.line.grade ?? "",
                                                                                   notes: $0.line.notes, decision: $0.decision, products: products) },
                                                by: by, at: at)]
            var stock: [String: Int64] = [:]
            for item in decided { if let sku = item.decision.stockSKU { stock[sku] = (stock[sku] ?? 0) + (item.line.received ?? 0) } }
            if let event = ReturnsEvents.stockReturned(rma: decision.rma, orderID: ret.orderID, warehouseID: ret.receivedIn ?? rules.returnWarehouseID, items: stock, at: at) {
                emit.append(event)
            }
            let refundable = decided.map { RefundRule.Inspected(lineID: $0.line.lineID, quantity: $0.line.received ?? 0, grade: $0.line.grade ?? "",
                                                                reason: $0.line.reason, basisPointsOverride: $0.points) }
            let (events, refundAudit) = try refund(refundable, ret: ret, data: data, store: store, rules: rules, at: at)
            emit += events
            return .processed(emit: emit, audit: [AuditRecord(subject: ret.orderID, action: "Return.Decided", actor: by,
                                                              reason: "\(decision.rma): " + decided.map { "line \($0.line.lineID) → \($0.decision.disposition.rawValue)" }
                                                                .joined(separator: ", ") + " (\(decision.reason))")] + refundAudit)
        case .held, .rejected, .completed:
            return .deadLetter(.businessRule("Return.Decided for \(decision.rma): the return is \(ret.status.rawValue); there is no line to decide"))
        }
    }
}

extension ReturnsHandler: PersonalDataHolder {
    func erasePersonalData(_ erasure: ErasureOrder, database: PostgresConnection) throws -> (rows: Int, retained: String?) {
        let (rows, photos) = try ReturnsStore(database: database).erasePersonalData(erasure)
        if let photoDirectory, !photos.isEmpty {
            // Files are named <photo id>.<extension>; removed before the commit — a retried erasure finds nothing left to remove.
            let ids = Set(photos)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: photoDirectory)) ?? [] {
                guard let id = file.split(separator: ".").first.map(String.init), ids.contains(id) else { continue }
                try? FileManager.default.removeItem(atPath: (photoDirectory as NSString).appendingPathComponent(file))
            }
        }
        return (rows, nil)
    }
}
