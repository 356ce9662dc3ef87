import BillingDocuments
import BillingTax
import Crypto
import Foundation
import Shared

/// Billing's I/O around its cores: an invoice per shipment (gather the order replica and the catalog's
/// tax data → the invoice rule decides → number, XML, archive link, `Invoice.Issued`).
struct BillingHandler: StageHandler {
    let definition = StageDefinition(name: "billing", schema: "billing", consumerGroup: "oms-billing",
                                     topics: [Topic.omsOrders, Topic.omsShipments, Topic.catalogProducts])
    let maximumEventBytes: Int
    let rules: RuleVersions<TaxRules>
    let territory: EUTerritory
    let admission: TopicAdmission

    static let handledTypes: [String: Set<String>] = [
        Topic.omsOrders: ["Order.Accepted", "Order.OnHold"],
        Topic.omsShipments: ["Shipment.Shipped"],
        Topic.catalogProducts: ["Product.Changed"],
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
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: input)
    }

    func apply(_ batch: [DecodedMessage<BillingInput>], database: PostgresConnection) throws -> [MessageOutcome] {
        let now = Date()
        let rules = self.rules.rules(at: { now })
        let store = BillingStore(database: database)
        var emit = Array(repeating: [Emission](), count: batch.count)
        var audit = Array(repeating: [AuditRecord](), count: batch.count)
        var dead: [Int: PermanentFailure] = [:]

        // Gather: replicas first, so that this batch's shipments see them.
        var products: [(sku: String, name: String, taxClass: String, service: Bool, changedAt: String)] = []
        var orders: [(id: String, data: JSONValue)] = []
        var shipments: [(index: Int, fo: String, order: String, lines: [(lineID: String, quantity: Int64)], at: Date)] = []
        for (index, message) in batch.enumerated() {
            switch message.input {
            case .product(let sku, let p, let at): products.append((sku, p.name, p.taxClass, p.service, at))
            case .order(let id, let data): orders.append((id, data))
            case .shipped(let fo, let order, let lines, let at): shipments.append((index, fo, order, lines, at.map(EventTime.parse) ?? now))
            case .ignored: break
            }
        }
        try store.upsertProducts(products)
        try store.insertOrders(orders)
        guard !shipments.isEmpty else { return batch.indices.map { .processed(emit: emit[$0], audit: audit[$0]) } }

        let stored = try store.lockOrders(Set(shipments.map(\.order)))
        let already = try store.invoiced(shipments.map(\.fo))
        let catalog = try store.products(Set(stored.values.flatMap { ($0.data["lines"]?.arrayValue ?? []).compactMap { $0["sku"]?.stringValue } }))
        let planned = catalog.mapValues { InvoicePlanner.Product(name: $0.name, taxClass: $0.taxClass, service: $0.service) }

        // Decide every invoice of the batch, then take their numbers in one go.
        var drafts: [(index: Int, fo: String, order: InvoicePlanner.Order, draft: InvoicePlanner.Draft, at: Date)] = []
        var shippingDone = Set<String>(), seen = Set<String>()
        var distance: [Int: Int64] = [:]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for shipment in shipments {
            guard !already.contains(shipment.fo), seen.insert(shipment.fo).inserted else {
                audit[shipment.index].append(AuditRecord(subject: shipment.order, action: "Invoice.Repeated", actor: "billing",
                                                         reason: "\(shipment.fo) is invoiced already; no second invoice"))
                continue
            }
            guard let row = stored[shipment.order] else {
                dead[shipment.index] = .businessRule("order \(shipment.order) is unknown to Billing (no Order.Accepted); the shipment cannot be invoiced")
                continue
            }
            let order: InvoicePlanner.Order
            switch BillingInput.order(row.data) {
            case .success(let o): order = o
            case .failure(let failure):
                dead[shipment.index] = failure
                continue
            }
            let year = calendar.component(.year, from: shipment.at)
            if distance[year] == nil { distance[year] = try store.distanceSales(year: year) }
            let soFar = Money(minorUnits: distance[year] ?? 0, currency: rules.distanceSalesThreshold.currency)
            do {
                let draft = try InvoicePlanner.plan(order, shipped: shipment.lines, includeShipping: !row.shippingInvoiced && !shippingDone.contains(order.orderID),
                                                    products: planned, distanceSalesSoFar: soFar, supplyDate: shipment.at, rules: rules, territory: territory)
                shippingDone.insert(order.orderID)
                if draft.distanceSales.currency == rules.distanceSalesThreshold.currency {
                    distance[year] = (distance[year] ?? 0).addingReportingOverflow(draft.distanceSales.minorUnits).partialValue
                }
                drafts.append((shipment.index, shipment.fo, order, draft, shipment.at))
            } catch {
                dead[shipment.index] = .businessRule("\(shipment.fo): \(error.description)")
            }
        }
        guard !drafts.isEmpty else { return batch.indices.map { dead[$0].map { .deadLetter($0) } ?? .processed(emit: emit[$0], audit: audit[$0]) } }

        let issueYear = calendar.component(.year, from: now)
        let numbers = try store.takeNumbers(range: "RE-\(issueYear)", count: drafts.count)
        var previous = try store.lastHash()
        var documents: [BillingStore.Document] = []
        for (i, entry) in drafts.enumerated() {
            let number = String(format: "RE-%d-%06lld", issueYear, numbers[i])
            let document = InvoiceDocument(
                number: number, type: .invoice, issueDate: now, deliveryDate: entry.at,
                seller: .init(name: rules.seller.name, street: rules.sellerStreet, postalCode: rules.sellerPostalCode, city: rules.sellerCity,
                              country: rules.seller.country, vatID: rules.seller.vatID, taxNumber: rules.seller.taxNumber),
                buyer: entry.order.billTo, shipTo: entry.order.shipTo, currency: entry.order.currency, lines: entry.draft.lines,
                calculation: entry.draft.calculation, exemptionReasons: entry.draft.reasons,
                paymentTerms: entry.order.paymentNetDays.map { "Zahlbar innerhalb von \($0) Tagen ohne Abzug" } ?? "Bereits bezahlt",
                dueDate: entry.order.paymentNetDays.map { now.addingTimeInterval(Double($0) * 86_400) }, notes: entry.draft.notes)
            let xml = document.xml()
            let hash = SHA256.hash(data: Array((previous + xml).utf8)).map { String(format: "%02x", $0) }.joined()
            let breakdown = JSONValue.array(entry.draft.calculation.breakdown.map { row in
                ["category": .string(row.category.rawValue), "rateBasisPoints": .integer(Int64(row.rateBasisPoints)),
                 "taxable": .integer(row.taxable.minorUnits), "tax": .integer(row.tax.minorUnits)]
            })
            let calc = entry.draft.calculation
            documents.append(.init(number: number, typeCode: "380", orderID: entry.order.orderID, fulfillmentOrderID: entry.fo, customerID: entry.order.customerID,
                                   currency: entry.order.currency.code, net: calc.totalNet.minorUnits, tax: calc.totalTax.minorUnits, gross: calc.total.minorUnits,
                                   breakdown: breakdown, xml: xml, content: document.json, previousHash: previous, hash: hash,
                                   retainUntil: String(format: "%04d-12-31", issueYear + rules.invoiceRetentionYears)))
            previous = hash
            emit[entry.index].append(Emission(topic: Topic.omsBilling, key: entry.order.orderID, type: "Invoice.Issued", subject: entry.order.orderID, data: [
                "number": .string(number), "typeCode": "380", "orderId": .string(entry.order.orderID), "fulfillmentOrderId": .string(entry.fo),
                "customerId": .string(entry.order.customerID), "currency": .string(entry.order.currency.code), "issuedAt": .string(EventTime.format(now)),
                "deliveredAt": .string(EventTime.format(entry.at)), "net": .integer(calc.totalNet.minorUnits), "tax": .integer(calc.totalTax.minorUnits),
                "gross": .integer(calc.total.minorUnits), "breakdown": breakdown, "archiveHash": .string(hash),
            ]))
            audit[entry.index].append(AuditRecord(subject: entry.order.orderID, action: "Invoice.Issued", actor: "billing",
                                                  reason: "\(number) for \(entry.fo): net \(calc.totalNet), tax \(calc.totalTax), total \(calc.total)",
                                                  details: ["number": .string(number), "fulfillmentOrderId": .string(entry.fo)]))
        }
        try store.insert(documents)
        try store.markShippingInvoiced(Array(shippingDone))
        for entry in drafts where entry.draft.distanceSales.minorUnits != 0 && entry.draft.distanceSales.currency == rules.distanceSalesThreshold.currency {
            try store.addDistanceSales(year: calendar.component(.year, from: entry.at), currency: entry.draft.distanceSales.currency.code,
                                       net: entry.draft.distanceSales.minorUnits)
        }
        return batch.indices.map { dead[$0].map { .deadLetter($0) } ?? .processed(emit: emit[$0], audit: audit[$0]) }
    }
}
