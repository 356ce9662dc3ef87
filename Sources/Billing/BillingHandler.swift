import BillingDocuments
import BillingTax
import Foundation
import Shared

/// Billing's I/O around its cores: an invoice per shipment (gather the order replica and the catalog's
/// tax data → the invoice rule decides → number, XML, archive link, `Invoice.Issued`), a credit note per
/// refund (the credit-note rule), and the receivables ledger (the settlement rule) with
/// `Order.Invoiced` and `Receivables.Changed` for Capture's credit check.
struct BillingHandler: StageHandler {
    let definition = StageDefinition(name: "billing", schema: "billing", consumerGroup: "oms-billing",
                                     topics: [Topic.omsOrders, Topic.omsShipments, Topic.catalogProducts, Topic.omsReturns, Topic.shopPayments,
                                              Topic.warehouseEvents])
    let maximumEventBytes: Int
    let rules: RuleVersions<TaxRules>
    let territory: EUTerritory
    let admission: TopicAdmission

    static let handledTypes: [String: Set<String>] = [
        Topic.omsOrders: ["Order.Accepted", "Order.OnHold", "Order.Released", "Order.Cancelled"],
        Topic.omsShipments: ["Shipment.Shipped"],
        Topic.catalogProducts: ["Product.Changed"],
        Topic.omsReturns: ["Refund.Approved"],
        Topic.shopPayments: ["Payment.Captured", "Payment.Received"],
        Topic.warehouseEvents: ["Service.Completed"],
    ]

    init(maximumEventBytes: Int, rules: RuleVersions<TaxRules>, territory: EUTerritory, topicSources: [String: [String]] = [:]) {
        self.maximumEventBytes = maximumEventBytes
        self.rules = rules
        self.territory = territory
        admission = TopicAdmission(handled: Self.handledTypes, sources: topicSources)
    }

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<BillingInput> {
        let (event, skip) = try admission.read(message, maximumBytes: maximumEventBytes, ownSource: definition.eventSource)
        let input: BillingInput
        if let skip { input = .ignored(skip) } else { input = try BillingInput.decode(event) }
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: input, skipped: skip != nil)
    }

    static var utc: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }

    /// What one batch decides: per message its events, audit rows or dead letter.
    struct Outcomes {
        var emit: [[Emission]]
        var audit: [[AuditRecord]]
        var dead: [Int: PermanentFailure] = [:]
        init(count: Int) {
            emit = Array(repeating: [], count: count)
            audit = Array(repeating: [], count: count)
        }
        var results: [MessageOutcome] { emit.indices.map { i in dead[i].map { .deadLetter($0) } ?? .processed(emit: emit[i], audit: audit[i]) } }
    }

    func apply(_ batch: [DecodedMessage<BillingInput>], database: PostgresConnection) throws -> [MessageOutcome] {
        let now = Date()
        let rules = self.rules.rules(at: { now })
        let store = BillingStore(database: database)
        var out = Outcomes(count: batch.count)

        // Gather: replicas first, so that this batch's shipments see them.
        var products: [(sku: String, name: String, taxClass: String, service: Bool, changedAt: String)] = []
        var orders: [(id: String, data: JSONValue, status: String)] = []
        var statuses: [(index: Int, order: String, status: OrderReplicaStatus)] = []
        var shipments: [(index: Int, fo: String, order: String, lines: [(lineID: String, quantity: Int64)], at: Date)] = []
        var refunds: [(index: Int, refund: CreditNotePlanner.Refund)] = []
        var payments: [(index: Int, payment: PaymentIn)] = []
        var newOrders: [(index: Int, orderID: String)] = []
        var completions: [(index: Int, orderID: String, at: Date)] = []
        for (index, message) in batch.enumerated() {
            switch message.input {
            case .product(let sku, let p, let at): products.append((sku, p.name, p.taxClass, p.service, at))
            case .order(let id, let data, let onHold):
                orders.append((id, data, (onHold ? OrderReplicaStatus.onHold : .accepted).rawValue))
                newOrders.append((index, id))
            case .serviceCompleted(let id, let at): completions.append((index, id, EventTime.parse(at)))
            case .status(let id, let status): statuses.append((index, id, status))
            case .shipped(let fo, let order, let lines, let at): shipments.append((index, fo, order, lines, at.map(EventTime.parse) ?? now))
            case .refund(let refund): refunds.append((index, refund))
            case .payment(let payment): payments.append((index, payment))
            case .ignored: break
            }
        }
        try store.upsertProducts(products)
        try store.insertOrders(orders)
        // Shipments that came before their order (another topic, another partition) are invoiced now that it is here.
        let firstOfOrder = Dictionary(newOrders.map { ($0.orderID, $0.index) }, uniquingKeysWith: { a, _ in a })
        for early in try store.takeEarlyShipments(Array(firstOfOrder.keys)) {
            guard let index = firstOfOrder[early.order] else { continue }
            out.audit[index].append(AuditRecord(subject: early.order, action: "Shipment.Unparked", actor: "billing",
                                                reason: "\(early.fo) shipped before Billing knew the order; invoiced now"))
            shipments.append((index, early.fo, early.order, early.lines, early.at))
        }
        var cancelled: [(index: Int, orderID: String)] = []
        for change in statuses {
            let before = try store.setStatus(change.order, to: change.status)
            if let before, before != change.status {
                out.audit[change.index].append(AuditRecord(subject: change.order, action: "Order.\(change.status == .cancelled ? "Cancelled" : "Released")",
                                                           actor: "billing", reason: "replica \(before.rawValue) → \(change.status.rawValue)"))
                if change.status == .cancelled { cancelled.append((change.index, change.order)) }
            }
        }
        let depositsOn = rules.invoicing.depositBasisPoints != nil
        guard !shipments.isEmpty || !refunds.isEmpty || !payments.isEmpty || !completions.isEmpty || !cancelled.isEmpty
                || (depositsOn && !newOrders.isEmpty) else {
            return out.results
        }

        let orderIDs = Set(shipments.map(\.order) + refunds.map(\.refund.orderID) + payments.compactMap(\.payment.orderID) + completions.map(\.orderID)
                           + (depositsOn ? newOrders.map(\.orderID) : []) + cancelled.map(\.orderID))
        let stored = try store.lockOrders(orderIDs)
        var pending: [PendingDocument] = []
        pending += try planDeposits(newOrders, stored: stored, store: store, rules: rules, now: now, out: &out)
        pending += try planFinalInvoices(completions, stored: stored, store: store, rules: rules, out: &out)
        pending += try planCancellationCredits(cancelled, stored: stored, store: store, out: &out)
        pending += try planInvoices(shipments, stored: stored, store: store, rules: rules, now: now, out: &out)
        pending += try planCreditNotes(refunds, stored: stored, store: store, out: &out)
        let issued = try issue(pending, store: store, rules: rules, now: now, out: &out)

        try finish(issued, payments: payments, stored: stored, store: store, now: now, out: &out)
        return out.results
    }

    /// After issuing: the ledger (new invoices open, credit notes reduce, payments settle), then the announcements —
    /// how much of each order is invoiced, and each touched customer's open items.
    func finish(_ issued: [IssuedDocument], payments: [(index: Int, payment: PaymentIn)], stored: [String: BillingStore.OrderRow], store: BillingStore,
                now: Date, out: inout Outcomes) throws {
        var customers = Set<String>()
        var invoicedOrders: [String: Int] = [:]
        for document in issued {
            // Only an on-account customer's ledger changes (what is paid at checkout is settled when issued): no news for the others.
            if document.onAccount { customers.insert(document.customerID) }
            for part in document.parts { invoicedOrders[part.orderID] = document.index }
        }
        try store.lockCustomers(customers.union(payments.compactMap(\.payment.customerID)).union(
            payments.compactMap { $0.payment.orderID.flatMap { stored[$0]?.customerID } }))
        try book(issued, stored: stored, store: store)
        for (index, payment) in payments {
            if let customer = try settle(payment, stored: stored, store: store, index: index, out: &out) { customers.insert(customer) }
        }
        for (orderID, summary) in try store.invoicedSummary(Array(invoicedOrders.keys)) {
            guard let index = invoicedOrders[orderID], let row = stored[orderID] else { continue }
            out.emit[index].append(Emission(topic: Topic.omsBilling, key: orderID, type: "Order.Invoiced", subject: orderID, data: [
                "orderId": .string(orderID), "customerId": .string(row.customerID), "currency": .string(summary.currency),
                "invoicedGross": .integer(summary.gross), "complete": .bool(summary.units >= row.orderedUnits), "lastInvoice": .string(summary.last),
            ]))
        }
        let lastIndex = Dictionary(issued.map { ($0.customerID, $0.index) } + payments.compactMap { p in
            (p.payment.customerID ?? p.payment.orderID.flatMap { stored[$0]?.customerID }).map { ($0, p.index) }
        }, uniquingKeysWith: { a, b in max(a, b) })
        for summary in try store.receivablesSummary(Array(customers), today: now) {
            guard let index = lastIndex[summary.customerID] else { continue }
            out.emit[index].append(receivablesChanged(summary, now: now))
        }
    }

    func receivablesChanged(_ s: BillingStore.ReceivablesSummary, now: Date) -> Emission {
        Emission(topic: Topic.omsBilling, key: s.customerID, type: "Receivables.Changed", subject: s.customerID, data: [
            "customerId": .string(s.customerID), "unpaidAmount": .integer(s.unpaid), "overdueAmount": .integer(s.overdue),
            "openInvoices": .integer(s.openInvoices), "currency": .string(s.currency), "asOf": .string(EventTime.format(now)),
        ])
    }

    // MARK: Invoices

    /// A document decided but not yet numbered: the handler numbers a batch's documents in one go.
    struct PendingDocument {
        let index: Int
        let kind: TaxRules.DocumentKind
        let type: InvoiceDocument.TypeCode
        let order: InvoicePlanner.Order
        let fulfillmentOrderID: String?
        let refund: CreditNotePlanner.Refund?
        let precedingInvoice: String?
        let deliveryDate: Date
        let lines: [InvoiceDocument.Line]
        let calculation: TaxCalculation.Result
        let reasons: [VATCategory: (code: String, text: String)]
        let notes: [String]
        let taxCountry: String?
        /// The deliveries (fulfillment orders) this invoice bills.
        var deliveries: [String] = []
        /// The orders it covers with their part of the total; nil: the one order, all of it.
        var parts: [CollectivePlanner.Part]? = nil
        var billingPeriod: (start: Date, end: Date)? = nil
        /// The document's own key where it is not one order's (a collective invoice: the customer and month).
        var documentKey: String? = nil
        /// Paid with vouchers; the order discount's label.
        var prepaid: Int64 = 0
        var allowanceReason: String? = nil
        var deductedDeposits: [String] = []
    }

    struct IssuedDocument {
        let index: Int
        let kind: TaxRules.DocumentKind
        let number: String
        let orderID: String
        let customerID: String
        let currency: String
        let gross: Int64
        let dueDate: Date?
        let onAccount: Bool
        let precedingInvoice: String?
        let parts: [CollectivePlanner.Part]
        let prepaid: Int64
    }

    /// Every shipment is recorded as a delivery; the invoicing rule says whether it is invoiced now, once the order is
    /// complete, or in the month's collective invoice.
    func planInvoices(_ shipments: [(index: Int, fo: String, order: String, lines: [(lineID: String, quantity: Int64)], at: Date)],
                      stored: [String: BillingStore.OrderRow], store: BillingStore, rules: TaxRules, now: Date, out: inout Outcomes) throws -> [PendingDocument] {
        guard !shipments.isEmpty else { return [] }
        let already = try store.recordedDeliveries(shipments.map(\.fo))
        let planned = try store.catalog(of: Array(stored.values))
        var pending: [PendingDocument] = []
        var shippingDone = Set<String>(), seen = Set<String>()
        var distance: [Int: Int64] = [:], distanceAdded: [Int: Int64] = [:]
        var recorded: [BillingStore.Delivery] = []
        var completeCandidates: [(index: Int, orderID: String)] = []
        // What each order had invoiced before (units per line, vouchers used), kept up to date through the batch.
        var before = try store.invoicedUnits(Set(shipments.map(\.order)))
        var vouchersUsed = stored.mapValues(\.vouchersApplied)
        for shipment in shipments {
            guard !already.contains(shipment.fo), seen.insert(shipment.fo).inserted else {
                out.audit[shipment.index].append(AuditRecord(subject: shipment.order, action: "Invoice.Repeated", actor: "billing",
                                                             reason: "\(shipment.fo) is recorded already; no second invoice"))
                continue
            }
            guard let row = stored[shipment.order] else {
                // Order.Accepted travels on another topic and may come later (a copy restarting, a rebalance): wait for it.
                try store.parkShipment(fulfillmentOrderID: shipment.fo, orderID: shipment.order, lines: shipment.lines, shippedAt: shipment.at)
                out.audit[shipment.index].append(AuditRecord(subject: shipment.order, action: "Shipment.Parked", actor: "billing",
                                                             reason: "\(shipment.fo) shipped, but Billing has no Order.Accepted of \(shipment.order) yet; invoiced when it comes"))
                continue
            }
            let order: InvoicePlanner.Order
            switch BillingInput.order(row.data) {
            case .success(let o): order = o
            case .failure(let failure):
                out.dead[shipment.index] = failure
                continue
            }
            let mode = rules.invoicing.mode(customerID: order.customerID, customerType: row.data["customerType"]?.stringValue,
                                            paymentTermsCode: row.data["paymentTerms"]?["code"]?.stringValue)
            recorded.append(.init(fulfillmentOrderID: shipment.fo, orderID: order.orderID, customerID: order.customerID, mode: mode.rawValue,
                                  shippedAt: shipment.at, lines: shipment.lines))
            if row.status == .cancelled {
                out.audit[shipment.index].append(AuditRecord(subject: order.orderID, action: "Invoice.AfterCancellation", actor: "billing",
                                                             reason: "\(shipment.fo) shipped although the order is cancelled; the goods left, so they are invoiced"))
            }
            if !row.depositNumbers.isEmpty {
                out.audit[shipment.index].append(AuditRecord(subject: order.orderID, action: "Invoice.Deferred", actor: "billing",
                                                             reason: "\(shipment.fo): the order has deposits (\(row.depositNumbers.joined(separator: ", "))); its final invoice follows Service.Completed"))
                continue
            }
            switch mode {
            case .monthlyCollective:
                out.audit[shipment.index].append(AuditRecord(subject: order.orderID, action: "Invoice.Deferred", actor: "billing",
                                                             reason: "\(shipment.fo) goes into \(order.customerID)'s collective invoice of its month"))
                continue
            case .whenComplete:
                completeCandidates.append((shipment.index, order.orderID))
                continue
            case .perShipment:
                break
            }
            let year = Self.utc.component(.year, from: shipment.at)
            if distance[year] == nil { distance[year] = try store.distanceSales(year: year) }
            let soFar = Money(minorUnits: distance[year] ?? 0, currency: rules.distanceSalesThreshold.currency)
            let draft: InvoicePlanner.Draft
            do {
                draft = try InvoicePlanner.plan(order, shipped: shipment.lines, includeShipping: !row.shippingInvoiced && !shippingDone.contains(order.orderID),
                                                products: planned, distanceSalesSoFar: soFar, supplyDate: shipment.at, rules: rules, territory: territory,
                                                invoicedBefore: before[order.orderID] ?? [:], vouchersUsed: vouchersUsed[order.orderID] ?? 0)
            } catch {
                out.dead[shipment.index] = .businessRule("\(shipment.fo): \(error.description)")
                recorded.removeLast()
                continue
            }
            shippingDone.insert(order.orderID)
            for line in shipment.lines { before[order.orderID, default: [:]][line.lineID, default: 0] += line.quantity }
            vouchersUsed[order.orderID, default: 0] += draft.prepaid
            try store.addVouchersApplied(order.orderID, draft.prepaid)
            if draft.distanceSales.currency == rules.distanceSalesThreshold.currency, draft.distanceSales.minorUnits != 0 {
                distance[year] = (distance[year] ?? 0).addingReportingOverflow(draft.distanceSales.minorUnits).partialValue
                distanceAdded[year] = (distanceAdded[year] ?? 0).addingReportingOverflow(draft.distanceSales.minorUnits).partialValue
            }
            pending.append(PendingDocument(index: shipment.index, kind: .invoice, type: .invoice, order: order, fulfillmentOrderID: shipment.fo, refund: nil,
                                           precedingInvoice: nil, deliveryDate: shipment.at, lines: draft.lines, calculation: draft.calculation,
                                           reasons: draft.reasons, notes: draft.notes, taxCountry: draft.taxCountry, deliveries: [shipment.fo],
                                           prepaid: draft.prepaid, allowanceReason: draft.discountLabel))
        }
        try store.recordDeliveries(recorded)
        // The batch's cross-border consumer sales, one update per year (not one per invoice).
        for (year, net) in distanceAdded.sorted(by: { $0.key < $1.key }) {
            try store.addDistanceSales(year: year, currency: rules.distanceSalesThreshold.currency.code, net: net)
        }

        // One invoice when the order is complete: every unit shipped — the open deliveries together.
        var completed = Set<String>()
        for (index, orderID) in completeCandidates where completed.insert(orderID).inserted {
            guard let row = stored[orderID], case .success(let order) = BillingInput.order(row.data) else { continue }
            let deliveries = try store.openDeliveries(order: orderID)
            let shipped = try store.shippedUnits(order: orderID)
            guard shipped >= row.orderedUnits else {
                out.audit[index].append(AuditRecord(subject: orderID, action: "Invoice.Deferred", actor: "billing",
                                                    reason: "invoiced when complete: \(shipped) of \(row.orderedUnits) unit(s) shipped"))
                continue
            }
            var merged: [String: Int64] = [:], orderOfLines: [String] = []
            for delivery in deliveries {
                for line in delivery.lines {
                    if merged[line.lineID] == nil { orderOfLines.append(line.lineID) }
                    merged[line.lineID, default: 0] += line.quantity
                }
            }
            let supplied = deliveries.map(\.shippedAt).max() ?? now
            let year = Self.utc.component(.year, from: supplied)
            let soFar = Money(minorUnits: try store.distanceSales(year: year), currency: rules.distanceSalesThreshold.currency)
            let draft: InvoicePlanner.Draft
            do {
                draft = try InvoicePlanner.plan(order, shipped: orderOfLines.map { ($0, merged[$0] ?? 0) }, includeShipping: !row.shippingInvoiced,
                                                products: planned, distanceSalesSoFar: soFar, supplyDate: supplied, rules: rules, territory: territory,
                                                invoicedBefore: before[orderID] ?? [:], vouchersUsed: vouchersUsed[orderID] ?? 0)
            } catch {
                out.dead[index] = .businessRule("order \(orderID) complete, but its invoice cannot be made: \(error.description)")
                continue
            }
            shippingDone.insert(orderID)
            if draft.distanceSales.currency == rules.distanceSalesThreshold.currency, draft.distanceSales.minorUnits != 0 {
                try store.addDistanceSales(year: year, currency: draft.distanceSales.currency.code, net: draft.distanceSales.minorUnits)
            }
            let fos = deliveries.map(\.fulfillmentOrderID)
            pending.append(PendingDocument(index: index, kind: .invoice, type: .invoice, order: order, fulfillmentOrderID: fos.count == 1 ? fos[0] : nil,
                                           refund: nil, precedingInvoice: nil, deliveryDate: supplied, lines: draft.lines, calculation: draft.calculation,
                                           reasons: draft.reasons, notes: draft.notes + [InvoicePlanner.deliveriesNotePrefix + ": " + fos.joined(separator: ", ")],
                                           taxCountry: draft.taxCountry, deliveries: fos, prepaid: draft.prepaid, allowanceReason: draft.discountLabel))
            try store.addVouchersApplied(orderID, draft.prepaid)
        }
        try store.markShippingInvoiced(Array(shippingDone))
        return pending
    }

    // MARK: Deposits and final invoices

    /// A prepayment invoice for each newly accepted order with assembly or technician work (the deposit rule).
    func planDeposits(_ orders: [(index: Int, orderID: String)], stored: [String: BillingStore.OrderRow], store: BillingStore, rules: TaxRules, now: Date,
                      out: inout Outcomes) throws -> [PendingDocument] {
        guard let basisPoints = rules.invoicing.depositBasisPoints, !orders.isEmpty else { return [] }
        let planned = try store.catalog(of: orders.compactMap { stored[$0.orderID] })
        var pending: [PendingDocument] = []
        var seen = Set<String>()
        for (index, orderID) in orders where seen.insert(orderID).inserted {
            guard let row = stored[orderID], row.depositNumbers.isEmpty, !row.finalInvoiced, case .success(let order) = BillingInput.order(row.data),
                  DepositPlanner.needsDeposit(order, products: planned) else { continue }
            let accepted = row.data["acceptedAt"]?.stringValue.map(EventTime.parse) ?? now
            let draft: InvoicePlanner.Draft
            do {
                draft = try DepositPlanner.deposit(order, basisPoints: basisPoints, products: planned, orderDate: accepted, rules: rules, territory: territory)
            } catch {
                out.dead[index] = .businessRule("order \(orderID): its deposit invoice cannot be made: \(error.description)")
                continue
            }
            pending.append(PendingDocument(index: index, kind: .prepaymentInvoice, type: .prepayment, order: order, fulfillmentOrderID: nil, refund: nil,
                                           precedingInvoice: nil, deliveryDate: accepted, lines: draft.lines, calculation: draft.calculation,
                                           reasons: draft.reasons, notes: draft.notes, taxCountry: draft.taxCountry, parts: []))
        }
        return pending
    }

    /// The final invoice of an order with deposits, once its service is done: the whole order, less every deposit and its VAT.
    func planFinalInvoices(_ completions: [(index: Int, orderID: String, at: Date)], stored: [String: BillingStore.OrderRow], store: BillingStore,
                           rules: TaxRules, out: inout Outcomes) throws -> [PendingDocument] {
        guard !completions.isEmpty else { return [] }
        let planned = try store.catalog(of: completions.compactMap { stored[$0.orderID] })
        var pending: [PendingDocument] = []
        var seen = Set<String>()
        for (index, orderID, at) in completions where seen.insert(orderID).inserted {
            guard let row = stored[orderID] else {
                out.dead[index] = .businessRule("Service.Completed for order \(orderID), which Billing does not know")
                continue
            }
            guard row.status != .cancelled else {
                out.audit[index].append(AuditRecord(subject: orderID, action: "Service.Completed", actor: "billing",
                                                    reason: "the order is cancelled (its deposits were credited); no final invoice"))
                continue
            }
            guard !row.depositNumbers.isEmpty, !row.finalInvoiced else {
                out.audit[index].append(AuditRecord(subject: orderID, action: "Service.Completed", actor: "billing",
                                                    reason: row.finalInvoiced ? "the final invoice is issued already" : "no deposits: the order is invoiced per its deliveries"))
                continue
            }
            guard case .success(let order) = BillingInput.order(row.data) else {
                out.dead[index] = .businessRule("order \(orderID): the replica lacks what an invoice needs")
                continue
            }
            let deposits = try store.documents(numbers: row.depositNumbers)
            let year = Self.utc.component(.year, from: at)
            let soFar = Money(minorUnits: try store.distanceSales(year: year), currency: rules.distanceSalesThreshold.currency)
            let draft: InvoicePlanner.Draft
            do {
                draft = try InvoicePlanner.plan(order, shipped: order.lines.map { ($0.lineID, $0.quantity) }, includeShipping: !row.shippingInvoiced,
                                                products: planned, distanceSalesSoFar: soFar,
                                                supplyDate: at, rules: rules, territory: territory, vouchersUsed: row.vouchersApplied)
            } catch {
                out.dead[index] = .businessRule("order \(orderID): its final invoice cannot be made: \(error.description)")
                continue
            }
            let left = Money(minorUnits: draft.calculation.total.minorUnits - draft.prepaid, currency: order.currency)
            let deducted = DepositPlanner.deducted(deposits, total: left)
            let fos = try store.openDeliveries(order: orderID).map(\.fulfillmentOrderID)
            try store.markShippingInvoiced([orderID])
            try store.markFinalInvoiced([orderID])
            try store.addVouchersApplied(orderID, draft.prepaid)
            pending.append(PendingDocument(index: index, kind: .invoice, type: .invoice, order: order, fulfillmentOrderID: nil, refund: nil,
                                           precedingInvoice: row.depositNumbers.first, deliveryDate: at, lines: draft.lines, calculation: draft.calculation,
                                           reasons: draft.reasons, notes: ["Schlussrechnung / final invoice"] + DepositPlanner.deductionNotes(deposits) + draft.notes,
                                           taxCountry: draft.taxCountry, deliveries: fos,
                                           // The deposits were invoiced already: this document's part is the rest, so the parts add up to the order.
                                           parts: [CollectivePlanner.Part(orderID: orderID, gross: max(0, draft.calculation.total.minorUnits - deducted),
                                                                          units: draft.lines.reduce(Int64(0)) { $0 + $1.quantity })],
                                           prepaid: draft.prepaid + deducted, allowanceReason: draft.discountLabel,
                                           deductedDeposits: deposits.map(\.number)))
        }
        return pending
    }

    /// A cancellation after invoicing: each deposit of an order cancelled before its final invoice is corrected in full
    /// (a credit note per deposit invoice, its lines, rates and notes). With invoices per delivery a cancellation cannot
    /// follow an invoice — what shipped is invoiced and comes back as a return.
    func planCancellationCredits(_ orders: [(index: Int, orderID: String)], stored: [String: BillingStore.OrderRow], store: BillingStore,
                                 out: inout Outcomes) throws -> [PendingDocument] {
        var pending: [PendingDocument] = []
        for (index, orderID) in orders {
            guard let row = stored[orderID], !row.depositNumbers.isEmpty, !row.finalInvoiced, case .success(let order) = BillingInput.order(row.data) else { continue }
            let credited = try store.creditedInvoices(row.depositNumbers)
            for deposit in try store.documents(numbers: row.depositNumbers) where !credited.contains(deposit.number) {
                pending.append(PendingDocument(index: index, kind: .creditNote, type: .creditNote, order: order, fulfillmentOrderID: nil, refund: nil,
                                               precedingInvoice: deposit.number, deliveryDate: deposit.deliveryDate, lines: deposit.lines,
                                               calculation: deposit.calculation, reasons: deposit.exemptionReasons,
                                               notes: ["Storno der Anzahlungsrechnung \(deposit.number) vom \(InvoiceDocument.germanDay(deposit.issueDate)): Bestellung storniert / order cancelled"],
                                               taxCountry: deposit.taxCountry))
            }
            try store.markFinalInvoiced([orderID])
        }
        return pending
    }

    // MARK: Collective invoices

    /// A collective run: for every customer with deliveries collected up to the end of `month`, one invoice
    /// per currency and price basis. Deliveries once invoiced are never taken again, so a re-run issues nothing twice.
    func planCollective(month: Date, store: BillingStore, rules: TaxRules, out: inout Outcomes, slot: Int) throws
        -> (pending: [PendingDocument], stored: [String: BillingStore.OrderRow]) {
        var calendar = Self.utc
        calendar.firstWeekday = 2
        let end = calendar.date(byAdding: .month, value: 1, to: month) ?? month
        let open = try store.collectDeliveries(shippedBefore: end)
        guard !open.isEmpty else { return ([], [:]) }
        let stored = try store.lockOrders(Set(open.map(\.orderID)))
        let planned = try store.catalog(of: Array(stored.values))
        let soFar = Money(minorUnits: try store.distanceSales(year: calendar.component(.year, from: month)), currency: rules.distanceSalesThreshold.currency)
        struct Group: Hashable { let customer: String; let currency: String; let gross: Bool }
        var groups: [Group: [CollectivePlanner.Delivery]] = [:], order: [Group] = []
        var shippingDone = Set<String>()
        var before = try store.invoicedUnits(Set(open.map(\.orderID)))
        for delivery in open {
            guard let row = stored[delivery.orderID], case .success(let o) = BillingInput.order(row.data) else {
                out.audit[slot].append(AuditRecord(subject: delivery.orderID, action: "CollectiveInvoice.Skipped", actor: "billing",
                                                   reason: "\(delivery.fulfillmentOrderID): the order replica lacks what an invoice needs"))
                continue
            }
            let group = Group(customer: o.customerID, currency: o.currency.code, gross: o.pricesIncludeTax)
            if groups[group] == nil { order.append(group) }
            let shipping = !row.shippingInvoiced && shippingDone.insert(o.orderID).inserted
            groups[group, default: []].append(.init(fulfillmentOrderID: delivery.fulfillmentOrderID, shippedAt: delivery.shippedAt, order: o,
                                                    lines: delivery.lines, includeShipping: shipping, invoicedBefore: before[o.orderID] ?? [:]))
            for line in delivery.lines { before[o.orderID, default: [:]][line.lineID, default: 0] += line.quantity }
        }
        let period = (start: month, end: end.addingTimeInterval(-1))
        let label = String(EventTime.format(month).prefix(7))
        var pending: [PendingDocument] = []
        var invoicedShipping = Set<String>()
        for group in order {
            let deliveries = groups[group] ?? []
            let draft: CollectivePlanner.Draft
            do {
                draft = try CollectivePlanner.plan(deliveries, period: period, products: planned, distanceSalesSoFar: soFar, rules: rules, territory: territory)
            } catch {
                out.audit[slot].append(AuditRecord(subject: group.customer, action: "CollectiveInvoice.Failed", actor: "billing",
                                                   reason: "\(label): \(error.description); its deliveries stay collected"))
                continue
            }
            guard let first = deliveries.first else { continue }
            invoicedShipping.formUnion(deliveries.filter(\.includeShipping).map(\.order.orderID))
            pending.append(PendingDocument(index: slot, kind: .collectiveInvoice, type: .invoice, order: first.order, fulfillmentOrderID: nil, refund: nil,
                                           precedingInvoice: nil, deliveryDate: draft.deliveryDate, lines: draft.lines, calculation: draft.calculation,
                                           reasons: draft.reasons, notes: ["Sammelrechnung \(label) / collective invoice"] + draft.notes,
                                           taxCountry: draft.taxCountry, deliveries: deliveries.map(\.fulfillmentOrderID), parts: draft.parts,
                                           billingPeriod: period, documentKey: "collective:\(group.customer):\(label)"))
        }
        try store.markShippingInvoiced(Array(invoicedShipping))
        return (pending, stored)
    }

    // MARK: Credit notes

    func planCreditNotes(_ refunds: [(index: Int, refund: CreditNotePlanner.Refund)], stored: [String: BillingStore.OrderRow], store: BillingStore,
                         out: inout Outcomes) throws -> [PendingDocument] {
        guard !refunds.isEmpty else { return [] }
        let done = try store.refunded(refunds.map(\.refund.refundID))
        var history = try store.documents(ofOrders: Set(refunds.map(\.refund.orderID)))
        var shippingRefunded: [String: Int64] = [:]
        var pending: [PendingDocument] = []
        var seen = Set<String>()
        for (index, refund) in refunds {
            guard !done.contains(refund.refundID), seen.insert(refund.refundID).inserted else {
                out.audit[index].append(AuditRecord(subject: refund.orderID, action: "CreditNote.Repeated", actor: "billing",
                                                    reason: "refund \(refund.refundID) has its credit note already"))
                continue
            }
            guard let row = stored[refund.orderID] else {
                out.dead[index] = .businessRule("refund \(refund.refundID): order \(refund.orderID) is unknown to Billing")
                continue
            }
            let order: InvoicePlanner.Order
            switch BillingInput.order(row.data) {
            case .success(let o): order = o
            case .failure(let failure):
                out.dead[index] = failure
                continue
            }
            let documents = history[refund.orderID] ?? []
            var credited: [String: [String: Int64]] = [:]
            for note in documents where note.document.type == .creditNote {
                guard let preceding = note.document.precedingInvoice else { continue }
                for line in note.document.lines { credited[preceding, default: [:]][line.id, default: 0] += line.quantity }
            }
            let refundedSoFar = row.shippingRefunded + (shippingRefunded[refund.orderID] ?? 0)
            let drafts: [CreditNotePlanner.Draft]
            do {
                drafts = try CreditNotePlanner.plan(refund, order: order, invoices: documents.map { $0.document }.filter { $0.type == .invoice },
                                                    credited: credited, shippingRefunded: refundedSoFar)
            } catch {
                out.dead[index] = .businessRule("refund \(refund.refundID): \(error.description)")
                continue
            }
            for draft in drafts {
                pending.append(PendingDocument(index: index, kind: .creditNote, type: .creditNote, order: order, fulfillmentOrderID: nil, refund: refund,
                                               precedingInvoice: draft.precedingInvoice, deliveryDate: draft.deliveryDate, lines: draft.lines,
                                               calculation: draft.calculation, reasons: draft.reasons, notes: draft.notes, taxCountry: draft.taxCountry))
                shippingRefunded[refund.orderID, default: 0] += draft.shippingAmount
                // Later refunds of the same batch see these units as credited.
                let placeholder = InvoiceDocument(number: "pending-\(refund.refundID)-\(draft.precedingInvoice)", type: .creditNote, issueDate: Date(),
                                                  deliveryDate: draft.deliveryDate, seller: order.billTo, buyer: order.billTo, shipTo: nil,
                                                  currency: order.currency, lines: draft.lines, calculation: draft.calculation, exemptionReasons: [:],
                                                  paymentTerms: nil, dueDate: nil, precedingInvoice: draft.precedingInvoice)
                history[refund.orderID, default: []].append((document: placeholder, number: String?.none))
            }
        }
        for (orderID, amount) in shippingRefunded where amount > 0 { try store.addShippingRefunded(orderID, amount) }
        return pending
    }

    // MARK: Numbering, XML, archive

    /// Renders every pending document, then numbers it (one counter row per kind and year, taken in this transaction),
    /// links it into the archive chain and stores it; emits `Invoice.Issued` / `CreditNote.Issued`.
    /// The numbers and the chain's end stay locked until the transaction commits, so that two copies issue one after
    /// the other: everything that does not need a number (the XML, the document's data) is made before taking them.
    func issue(_ pending: [PendingDocument], store: BillingStore, rules: TaxRules, now: Date, out: inout Outcomes) throws -> [IssuedDocument] {
        guard !pending.isEmpty else { return [] }
        let year = Self.utc.component(.year, from: now)
        let contact = rules.seller.contact.map { InvoiceDocument.Contact(name: $0.name, phone: $0.phone, email: $0.email) }
        let seller = InvoiceDocument.Party(name: rules.seller.name, street: rules.sellerStreet, postalCode: rules.sellerPostalCode, city: rules.sellerCity,
                                           country: rules.seller.country, vatID: rules.seller.vatID, taxNumber: rules.seller.taxNumber,
                                           electronicAddress: contact.map { InvoiceDocument.ElectronicAddress(id: $0.email, scheme: "EM") }, contact: contact)
        let payee = rules.seller.iban.map { InvoiceDocument.PayeeAccount(iban: $0, bic: rules.seller.bic) }
        let rendered = pending.map { entry in
            let order = entry.order
            let dueDate = entry.type == .invoice || entry.type == .prepayment ? order.paymentNetDays.map { now.addingTimeInterval(Double($0) * 86_400) } : nil
            let terms: String
            switch entry.type {
            case .creditNote: terms = order.paymentNetDays != nil ? "Wird mit offenen Rechnungen verrechnet / set against open invoices" : "Wird erstattet / refunded to the original means of payment"
            default: terms = order.paymentNetDays.map { "Zahlbar innerhalb von \($0) Tagen ohne Abzug" } ?? "Bereits bezahlt"
            }
            let document = InvoiceDocument(number: "", type: entry.type, issueDate: now, deliveryDate: entry.deliveryDate, seller: seller,
                                           buyer: order.billTo, shipTo: entry.documentKey == nil ? order.shipTo : nil, currency: order.currency, lines: entry.lines,
                                           calculation: entry.calculation, exemptionReasons: entry.reasons, paymentTerms: terms, dueDate: dueDate,
                                           precedingInvoice: entry.precedingInvoice, notes: entry.notes, taxCountry: entry.taxCountry,
                                           billingPeriod: entry.billingPeriod, prepaid: entry.prepaid > 0 ? Money(minorUnits: entry.prepaid, currency: order.currency) : nil,
                                           allowanceReason: entry.allowanceReason, deductedDeposits: entry.deductedDeposits,
                                           buyerReference: order.buyerReference, payee: payee)
            return (document: document, xml: document.xmlTemplate())
        }

        var numbers: [TaxRules.DocumentKind: [Int64]] = [:]
        for kind in TaxRules.DocumentKind.allCases {
            let count = pending.filter { $0.kind == kind }.count
            if count > 0 { numbers[kind] = try store.takeNumbers(range: "\(rules.series(kind).prefix)-\(year)", count: count) }
        }
        var taken: [TaxRules.DocumentKind: Int] = [:]
        var previous = try store.lastHash()
        var documents: [BillingStore.Document] = []
        var issued: [IssuedDocument] = []
        var deliveries: [(number: String, fulfillmentOrders: [String])] = []
        for (entry, rendering) in zip(pending, rendered) {
            let series = rules.series(entry.kind)
            let position = taken[entry.kind, default: 0]
            taken[entry.kind] = position + 1
            guard let sequence = numbers[entry.kind]?[position] else { continue }
            let number = "\(series.prefix)-\(year)-\(zeroPadded(sequence, width: 6))"
            let order = entry.order
            let documentOrderID = entry.documentKey ?? order.orderID
            let onAccount = order.paymentNetDays != nil
            var document = rendering.document
            let dueDate = document.dueDate
            document.number = number
            let xml = rendering.xml.filled(number: number)
            let hash = ArchiveChain.link(previous: previous, document: xml)
            let calc = entry.calculation
            let breakdown = JSONValue.array(calc.breakdown.map { row in
                ["category": .string(row.category.rawValue), "rateBasisPoints": .integer(Int64(row.rateBasisPoints)),
                 "taxable": .integer(row.taxable.minorUnits), "tax": .integer(row.tax.minorUnits)]
            })
            documents.append(.init(number: number, typeCode: entry.type.rawValue, orderID: documentOrderID, fulfillmentOrderID: entry.fulfillmentOrderID,
                                   customerID: order.customerID, currency: order.currency.code, net: calc.totalNet.minorUnits, tax: calc.totalTax.minorUnits,
                                   gross: calc.total.minorUnits, breakdown: breakdown, xml: xml, content: document.json, previousHash: previous, hash: hash,
                                   retainUntil: "\(zeroPadded(year + series.retentionYears, width: 4))-12-31", refundID: entry.refund?.refundID,
                                   precedingInvoice: entry.precedingInvoice))
            previous = hash
            var data: [String: JSONValue] = [
                "number": .string(number), "typeCode": .string(entry.type.rawValue), "orderId": .string(documentOrderID),
                "customerId": .string(order.customerID), "currency": .string(order.currency.code), "issuedAt": .string(EventTime.format(now)),
                "deliveredAt": .string(EventTime.format(entry.deliveryDate)), "net": .integer(calc.totalNet.minorUnits), "tax": .integer(calc.totalTax.minorUnits),
                "gross": .integer(calc.total.minorUnits), "breakdown": breakdown, "archiveHash": .string(hash),
            ]
            if let fo = entry.fulfillmentOrderID { data["fulfillmentOrderId"] = .string(fo) }
            if let preceding = entry.precedingInvoice { data["precedingInvoice"] = .string(preceding) }
            if let country = entry.taxCountry { data["taxCountry"] = .string(country) }
            if entry.prepaid > 0 { data["prepaid"] = .integer(entry.prepaid) }
            let allowances = calc.allowances.reduce(Int64(0)) { $0 + $1.taxable.minorUnits }
            if allowances != 0 { data["discountNet"] = .integer(allowances) }
            if entry.deliveries.count > 1 || entry.documentKey != nil { data["fulfillmentOrderIds"] = .array(entry.deliveries.map { .string($0) }) }
            if let period = entry.billingPeriod {
                data["period"] = ["from": .string(String(EventTime.format(period.start).prefix(10))), "until": .string(String(EventTime.format(period.end).prefix(10)))]
            }
            if let parts = entry.parts { data["orderIds"] = .array(parts.map { .string($0.orderID) }) }
            if let refund = entry.refund {
                data["refundId"] = .string(refund.refundID)
                if let rma = refund.returnID { data["returnId"] = .string(rma) }
            }
            let type = entry.type == .creditNote ? "CreditNote.Issued" : entry.kind == .collectiveInvoice ? "CollectiveInvoice.Issued"
                : entry.kind == .prepaymentInvoice ? "DepositInvoice.Issued" : "Invoice.Issued"
            // A collective invoice belongs to the customer: keyed by it, so that its events stay in order with its receivables.
            let key = entry.kind == .collectiveInvoice ? order.customerID : order.orderID
            out.emit[entry.index].append(Emission(topic: Topic.omsBilling, key: key, type: type, subject: documentOrderID, data: .object(data)))
            let what = entry.precedingInvoice.map { "correcting \($0)" } ?? (entry.deliveries.isEmpty ? entry.fulfillmentOrderID : entry.deliveries.joined(separator: ", "))
                .map { "for \($0)" } ?? ""
            out.audit[entry.index].append(AuditRecord(subject: documentOrderID, action: type, actor: "billing",
                                                      reason: "\(number) \(what): net \(calc.totalNet), tax \(calc.totalTax), total \(calc.total)",
                                                      details: ["number": .string(number)]))
            let units = entry.lines.reduce(Int64(0)) { $0 + $1.quantity }
            // What of the order this document invoices (Order.Invoiced, which Capture's credit check subtracts from the open
            // order): a deposit its gross and no units, so that the deposit is not counted twice — open order and receivable.
            let parts = entry.type == .creditNote ? []
                : entry.kind == .prepaymentInvoice ? [CollectivePlanner.Part(orderID: order.orderID, gross: calc.total.minorUnits, units: 0)]
                : entry.parts ?? [CollectivePlanner.Part(orderID: order.orderID, gross: calc.total.minorUnits, units: units)]
            issued.append(IssuedDocument(index: entry.index, kind: entry.kind, number: number, orderID: documentOrderID, customerID: order.customerID,
                                         currency: order.currency.code, gross: calc.total.minorUnits, dueDate: dueDate, onAccount: onAccount,
                                         precedingInvoice: entry.precedingInvoice, parts: parts, prepaid: entry.prepaid))
            deliveries.append((number, entry.deliveries))
        }
        try store.insert(documents)
        try store.addDepositNumbers(issued.filter { $0.kind == .prepaymentInvoice }.map { ($0.orderID, $0.number) })
        try store.insertParts(issued.flatMap { document in document.parts.map { (document.number, $0) } })
        try store.markDeliveriesInvoiced(deliveries)
        return issued
    }

    // MARK: Receivables

    /// New on-account invoices are open (less the customer's credit and the order's captured payments);
    /// invoices of orders paid at checkout are settled when issued; a credit note reduces what is open of its invoice.
    func book(_ issued: [IssuedDocument], stored: [String: BillingStore.OrderRow], store: BillingStore) throws {
        // New documents first, in one statement (the hot path: most are paid at checkout and need no lookups); a credit
        // note never corrects a document of its own batch (it reads the issued ones), so the order does not matter.
        var receivables: [BillingStore.Receivable] = []
        for document in issued where document.kind != .creditNote {
            var open = document.onAccount ? max(0, document.gross - document.prepaid) : 0
            if open > 0, document.kind == .invoice {
                open -= try store.takeOrderPayment(document.orderID, upTo: open)
            }
            if open > 0 {
                open -= try store.takeCredit(customer: document.customerID, currency: document.currency, upTo: open)
            }
            receivables.append(.init(number: document.number, customerID: document.customerID, orderID: document.orderID, currency: document.currency,
                                     amount: document.gross, open: open, due: document.dueDate))
        }
        try store.insertReceivables(receivables)
        for document in issued where document.kind == .creditNote {
            guard let preceding = document.precedingInvoice else { continue }
            let left = try store.reduceOpen(preceding, by: document.gross)
            if left > 0, document.onAccount { try store.addCredit(customer: document.customerID, currency: document.currency, amount: left) }
        }
    }

    /// Returns the customer whose ledger changed.
    func settle(_ payment: PaymentIn, stored: [String: BillingStore.OrderRow], store: BillingStore, index: Int, out: inout Outcomes) throws -> String? {
        let customer = payment.customerID ?? payment.orderID.flatMap { stored[$0]?.customerID }
        guard let customer else {
            out.audit[index].append(AuditRecord(subject: payment.orderID ?? payment.paymentID, action: "Payment.Unmatched", actor: "billing",
                                                reason: "payment \(payment.paymentID) names an order Billing does not know; recorded, not applied"))
            try _ = store.recordPayment(payment, customer: nil)
            return nil
        }
        guard try store.recordPayment(payment, customer: customer) else {
            out.audit[index].append(AuditRecord(subject: customer, action: "Payment.Repeated", actor: "billing", reason: "payment \(payment.paymentID) is counted already"))
            return nil
        }
        if let orderID = payment.orderID, stored[orderID]?.data["paymentTerms"]?["netDays"] == nil {
            // Paid at checkout: its invoices are settled when issued; nothing is open to apply it to.
            out.audit[index].append(AuditRecord(subject: orderID, action: "Payment.Recorded", actor: "billing",
                                                reason: "\(payment.amount) captured for an order paid at checkout"))
            return nil
        }
        let items = try store.openItems(customer: customer, currency: payment.amount.currency.code, order: payment.orderID)
        let outcome = Settlement.apply(payment.amount.minorUnits, to: items, naming: payment.invoiceNumber)
        for (number, amount) in outcome.applied.sorted(by: { $0.key < $1.key }) { _ = try store.reduceOpen(number, by: amount) }
        if outcome.left > 0 {
            if let orderID = payment.orderID { try store.addOrderPayment(orderID, amount: outcome.left) }
            else { try store.addCredit(customer: customer, currency: payment.amount.currency.code, amount: outcome.left) }
        }
        let currency = payment.amount.currency
        let applied: [String] = outcome.applied.sorted(by: { $0.key < $1.key }).map { "\($0.key) \(Money(minorUnits: $0.value, currency: currency))" }
        var reason = "\(payment.amount) from \(payment.paymentID): " + (applied.isEmpty ? "no open invoice" : applied.joined(separator: ", "))
        if outcome.left > 0 { reason += "; \(Money(minorUnits: outcome.left, currency: currency)) kept as credit" }
        out.audit[index].append(AuditRecord(subject: customer, action: "Payment.Applied", actor: "billing", reason: reason))
        return customer
    }

    /// Time-driven work: the collective runs (the one the schedule asks for on the first of a month for the month before,
    /// and those operators asked for), then overdue invoices (once per invoice a notification, and the ledger announced again).
    func housekeeping(database: PostgresConnection, now: Date) throws -> [TimedChange] {
        let store = BillingStore(database: database)
        let rules = self.rules.rules(at: { now })
        var changes: [TimedChange] = []
        let calendar = Self.utc
        if let thisMonth = calendar.date(from: calendar.dateComponents([.year, .month], from: now)),
           let previous = calendar.date(byAdding: .month, value: -1, to: thisMonth) {
            try store.scheduleCollectiveRun(month: previous)
        }
        if let run = try store.takeCollectiveRun() {
            var out = Outcomes(count: 1)
            let (pending, stored) = try planCollective(month: run.month, store: store, rules: rules, out: &out, slot: 0)
            let issued = try issue(pending, store: store, rules: rules, now: now, out: &out)
            try finish(issued, payments: [], stored: stored, store: store, now: now, out: &out)
            try store.finishCollectiveRun(run.id, issued: issued.map(\.number))
            out.audit[0].append(AuditRecord(subject: "collective:\(String(EventTime.format(run.month).prefix(7)))", action: "CollectiveRun.Done", actor: run.requestedBy,
                                            reason: issued.isEmpty ? "nothing collected to invoice" : "issued \(issued.map(\.number).joined(separator: ", "))"))
            changes.append(TimedChange(key: "collective-run:\(run.id)", correlationID: "collective-run:\(run.id)", emit: out.emit[0], audit: out.audit[0]))
        }
        changes += try store.takeLongParked(hours: rules.invoicing.earlyShipmentAlertHours, limit: 100).map { parked in
            let why = "shipment \(parked.fo) of order \(parked.order) has waited since \(parked.receivedAt) for the order's Order.Accepted, "
                + "more than \(rules.invoicing.earlyShipmentAlertHours) h; it is invoiced as soon as the order arrives — check that the order reached oms.orders"
            return TimedChange(key: "early-shipment:\(parked.fo)", correlationID: parked.order, emit: [],
                               audit: [AuditRecord(subject: parked.order, action: "Shipment.ParkedTooLong", actor: "billing", reason: why)],
                               deadLetters: [TimedDeadLetter(failure: PermanentFailure("shipment-without-order", why), originalTopic: Topic.omsShipments,
                                                             originalEventID: nil, key: parked.order,
                                                             payload: ["fulfillmentOrderId": .string(parked.fo), "orderId": .string(parked.order),
                                                                       "parkedSince": .string(parked.receivedAt)])])
        }
        let overdue = try store.takeOverdue(today: now, limit: 500)
        guard !overdue.isEmpty else { return changes }
        changes += overdue.map { item in
            TimedChange(key: "overdue:\(item.number)", correlationID: item.orderID, emit: [
                Emission(topic: Topic.omsNotifications, key: item.orderID, type: "Customer.NotificationRequested", subject: item.orderID, data: [
                    "orderId": .string(item.orderID), "template": "invoice-overdue",
                    "facts": ["invoiceNumber": .string(item.number), "customerId": .string(item.customerID), "open": .integer(item.open),
                              "currency": .string(item.currency), "dueDate": .string(item.dueDate)],
                ]),
            ], audit: [AuditRecord(subject: item.orderID, action: "Invoice.Overdue", actor: "billing",
                                   reason: "\(item.number) was due on \(item.dueDate); \(Currency(item.currency).map { Money(minorUnits: item.open, currency: $0).description } ?? String(item.open)) open")])
        }
        for summary in try store.receivablesSummary(Array(Set(overdue.map(\.customerID))), today: now) {
            changes.append(TimedChange(key: "receivables:\(summary.customerID):\(EventTime.format(now))", correlationID: summary.customerID,
                                       emit: [receivablesChanged(summary, now: now)], audit: []))
        }
        return changes
    }
}

extension BillingHandler: PersonalDataHolder {
    func erasePersonalData(_ erasure: ErasureOrder, database: PostgresConnection) throws -> (rows: Int, retained: String?) {
        let years = rules.rules(at: { Date() }).invoiceRetentionYears
        let (rows, restricted) = try BillingStore(database: database).erasePersonalData(erasure, retentionYears: years)
        return (rows, restricted == 0 ? nil
                    : "\(restricted) issued document(s) keep the buyer's name and address for the \(years)-year retention (§147 AO); marked restricted")
    }
}
