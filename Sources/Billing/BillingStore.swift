import BillingDocuments
import Foundation
import Shared

/// Billing's tables: replicas, number ranges, documents and the archive chain.
struct BillingStore {
    let database: PostgresConnection

    func upsertProducts(_ rows: [(sku: String, name: String, taxClass: String, service: Bool, changedAt: String)]) throws {
        guard !rows.isEmpty else { return }
        let r = rows.newestPerKey({ $0.sku }, time: { EventTime.parse($0.changedAt) })
        try database.query("""
            INSERT INTO billing.products AS p (sku, name, tax_class, service, changed_at)
            SELECT s, n, t, v, c::timestamptz FROM unnest(\(r.map(\.sku))::text[], \(r.map(\.name))::text[], \(r.map(\.taxClass))::text[],
                                                        \(r.map(\.service))::boolean[], \(r.map(\.changedAt))::text[]) AS u(s, n, t, v, c)
            ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, tax_class = EXCLUDED.tax_class, service = EXCLUDED.service, changed_at = EXCLUDED.changed_at
            WHERE p.changed_at <= EXCLUDED.changed_at
            """)
    }

    func products(_ skus: Set<String>) throws -> [String: (name: String, taxClass: String, service: Bool)] {
        guard !skus.isEmpty else { return [:] }
        var result: [String: (name: String, taxClass: String, service: Bool)] = [:]
        for row in try database.query("SELECT sku, name, tax_class, service FROM billing.products WHERE sku = ANY(\(Array(skus))::text[])") {
            result[try row.decode("sku")] = (try row.decode("name"), try row.decode("tax_class"), try row.decode("service"))
        }
        return result
    }

    /// What the invoice rule needs of the products the orders name (tax class, name, service), from the catalog replica.
    func catalog(of orders: [OrderRow]) throws -> [String: InvoicePlanner.Product] {
        let skus = Set(orders.flatMap { ($0.data["lines"]?.arrayValue ?? []).compactMap { $0["sku"]?.stringValue } })
        return try products(skus).mapValues { InvoicePlanner.Product(name: $0.name, taxClass: $0.taxClass, service: $0.service) }
    }

    func insertOrders(_ orders: [(id: String, data: JSONValue, status: String)]) throws {
        guard !orders.isEmpty else { return }
        try database.query("""
            INSERT INTO billing.orders (order_id, data, status)
            SELECT DISTINCT ON (i) i, d::json, s FROM unnest(\(orders.map(\.id))::text[], \(orders.map(\.data.storableJSON))::text[],
                                                          \(orders.map(\.status))::text[]) AS u(i, d, s) ORDER BY i
            ON CONFLICT (order_id) DO NOTHING
            """)
    }

    /// Records the documents that are an order's deposits.
    func addDepositNumbers(_ entries: [(orderID: String, number: String)]) throws {
        guard !entries.isEmpty else { return }
        try database.query("""
            UPDATE billing.orders o SET deposit_numbers = o.deposit_numbers || u.n FROM unnest(\(entries.map(\.orderID))::text[], \(entries.map(\.number))::text[]) AS u(i, n)
            WHERE o.order_id = u.i
            """)
    }

    func markFinalInvoiced(_ orderIDs: [String]) throws {
        guard !orderIDs.isEmpty else { return }
        try database.query("UPDATE billing.orders SET final_invoiced = true WHERE order_id = ANY(\(orderIDs)::text[])")
    }

    /// The invoices among `numbers` that a credit note corrects already.
    func creditedInvoices(_ numbers: [String]) throws -> Set<String> {
        guard !numbers.isEmpty else { return [] }
        return Set(try database.query("SELECT DISTINCT preceding_invoice FROM billing.documents WHERE type_code = '381' AND preceding_invoice = ANY(\(numbers)::text[])")
            .map { try $0.decode("preceding_invoice", as: String.self) })
    }

    /// Issued documents by number, as data.
    func documents(numbers: [String]) throws -> [InvoiceDocument] {
        guard !numbers.isEmpty else { return [] }
        return try database.query("SELECT content::text AS content FROM billing.documents WHERE number = ANY(\(numbers)::text[]) ORDER BY number").compactMap {
            InvoiceDocument(json: try JSONParser.parse(try $0.decode("content", as: String.self)))
        }
    }

    /// Moves the replica's status along its transition table; returns the status before (nil: order unknown).
    func setStatus(_ orderID: String, to status: OrderReplicaStatus) throws -> OrderReplicaStatus? {
        guard let row = try database.query("SELECT status FROM billing.orders WHERE order_id = \(orderID) FOR UPDATE").first else { return nil }
        guard let before = OrderReplicaStatus(rawValue: try row.decode("status")) else { return nil }
        if OrderReplicaStatus.transitions[before]?.contains(status) == true {
            try database.query("UPDATE billing.orders SET status = \(status.rawValue) WHERE order_id = \(orderID)")
        }
        return before
    }

    struct OrderRow {
        let data: JSONValue
        let shippingInvoiced: Bool
        let status: OrderReplicaStatus
        let shippingRefunded: Int64
        let vouchersApplied: Int64
        let depositNumbers: [String]
        let finalInvoiced: Bool
        var customerID: String { data["customerId"]?.stringValue ?? "" }
        /// Every unit the order asked for (to tell when it is invoiced completely).
        var orderedUnits: Int64 {
            (data["lines"]?.arrayValue ?? []).reduce(Int64(0)) { sum, line in
                let (s, overflow) = sum.addingReportingOverflow(line["quantity"]?.int64Value ?? 0)
                return overflow ? .max : s
            }
        }
    }

    func lockOrders(_ ids: Set<String>) throws -> [String: OrderRow] {
        guard !ids.isEmpty else { return [:] }
        var result: [String: OrderRow] = [:]
        for row in try database.query("""
            SELECT order_id, data::text AS data, shipping_invoiced, status, shipping_refunded, vouchers_applied,
                   array_to_string(deposit_numbers, ',') AS deposits, final_invoiced FROM billing.orders
            WHERE order_id = ANY(\(ids.sorted())::text[]) ORDER BY order_id FOR UPDATE
            """) {
            result[try row.decode("order_id")] = OrderRow(data: try JSONParser.parse(try row.decode("data", as: String.self)),
                                                          shippingInvoiced: try row.decode("shipping_invoiced"),
                                                          status: OrderReplicaStatus(rawValue: try row.decode("status")) ?? .accepted,
                                                          shippingRefunded: try row.decode("shipping_refunded"),
                                                          vouchersApplied: try row.decode("vouchers_applied"),
                                                          depositNumbers: try row.decode("deposits", as: String.self).split(separator: ",").map(String.init),
                                                          finalInvoiced: try row.decode("final_invoiced"))
        }
        return result
    }

    func addVouchersApplied(_ orderID: String, _ amount: Int64) throws {
        guard amount > 0 else { return }
        try database.query("UPDATE billing.orders SET vouchers_applied = vouchers_applied + \(amount) WHERE order_id = \(orderID)")
    }

    /// Per order and line, the units invoiced so far (deliveries already on an invoice).
    func invoicedUnits(_ orderIDs: Set<String>) throws -> [String: [String: Int64]] {
        guard !orderIDs.isEmpty else { return [:] }
        var result: [String: [String: Int64]] = [:]
        for row in try database.query("""
            SELECT d.order_id, l->>'lineId' AS line_id, sum((l->>'quantity')::bigint)::bigint AS units
            FROM billing.deliveries d, json_array_elements(d.lines) AS l
            WHERE d.order_id = ANY(\(orderIDs.sorted())::text[]) AND d.invoice_number IS NOT NULL GROUP BY 1, 2
            """) {
            result[try row.decode("order_id"), default: [:]][try row.decode("line_id")] = try row.decode("units")
        }
        return result
    }

    func addShippingRefunded(_ orderID: String, _ amount: Int64) throws {
        try database.query("UPDATE billing.orders SET shipping_refunded = shipping_refunded + \(amount) WHERE order_id = \(orderID)")
    }

    /// The refunds that have their credit notes already.
    func refunded(_ refundIDs: [String]) throws -> Set<String> {
        guard !refundIDs.isEmpty else { return [] }
        return Set(try database.query("SELECT DISTINCT refund_id FROM billing.documents WHERE refund_id = ANY(\(refundIDs)::text[])")
            .map { try $0.decode("refund_id", as: String.self) })
    }

    /// The orders' issued documents as data, oldest first.
    func documents(ofOrders ids: Set<String>) throws -> [String: [(document: InvoiceDocument, number: String?)]] {
        guard !ids.isEmpty else { return [:] }
        var result: [String: [(document: InvoiceDocument, number: String?)]] = [:]
        for row in try database.query("""
            SELECT coalesce(p.order_id, d.order_id) AS order_id, d.number, d.content::text AS content
            FROM billing.documents d JOIN billing.archive a USING (number) LEFT JOIN billing.invoiced_parts p ON p.number = d.number AND d.type_code <> '381'
            WHERE d.order_id = ANY(\(ids.sorted())::text[]) OR p.order_id = ANY(\(ids.sorted())::text[]) ORDER BY a.seq
            """) {
            guard let document = InvoiceDocument(json: try JSONParser.parse(try row.decode("content", as: String.self))) else { continue }
            result[try row.decode("order_id"), default: []].append((document, try row.decode("number")))
        }
        return result
    }

    func markShippingInvoiced(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try database.query("UPDATE billing.orders SET shipping_invoiced = true WHERE order_id = ANY(\(ids)::text[])")
    }

    /// The shipments Billing has seen already (as deliveries, or invoiced before deliveries were recorded).
    /// Keeps a shipment that came before its order (see migration 0031).
    func parkShipment(fulfillmentOrderID: String, orderID: String, lines: [(lineID: String, quantity: Int64)], shippedAt: Date) throws {
        let linesJSON = JSONValue.array(lines.map { ["lineId": .string($0.lineID), "quantity": .integer($0.quantity)] }).serializedString
        try database.query("""
            INSERT INTO billing.early_shipments (fulfillment_order_id, order_id, lines, shipped_at)
            VALUES (\(fulfillmentOrderID), \(orderID), \(linesJSON)::json, \(EventTime.format(shippedAt))::timestamptz) ON CONFLICT DO NOTHING
            """)
    }

    /// Parked shipments whose order has not come within `hours`, not alerted yet: marked as alerted and returned.
    func takeLongParked(hours: Int, limit: Int) throws -> [(fo: String, order: String, receivedAt: String)] {
        try database.query("""
            UPDATE billing.early_shipments SET alerted_at = now()
            WHERE fulfillment_order_id IN (
                SELECT fulfillment_order_id FROM billing.early_shipments
                WHERE alerted_at IS NULL AND received_at < now() - make_interval(hours => \(hours)::int)
                ORDER BY received_at LIMIT \(limit)::int FOR UPDATE SKIP LOCKED)
            RETURNING fulfillment_order_id, order_id, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS received_at
            """).map { (try $0.decode("fulfillment_order_id"), try $0.decode("order_id"), try $0.decode("received_at")) }
    }

    /// The parked shipments of orders that have just arrived, taken out of the waiting room.
    func takeEarlyShipments(_ orderIDs: [String]) throws -> [(fo: String, order: String, lines: [(lineID: String, quantity: Int64)], at: Date)] {
        guard !orderIDs.isEmpty else { return [] }
        return try database.query("""
            DELETE FROM billing.early_shipments WHERE order_id = ANY(\(orderIDs)::text[])
            RETURNING fulfillment_order_id, order_id, lines::text AS lines,
                      to_char(shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS shipped_at
            """).map { row in
            let lines = (try JSONParser.parse(Array(try row.decode("lines", as: String.self).utf8)).arrayValue ?? []).compactMap { line -> (lineID: String, quantity: Int64)? in
                guard let id = line["lineId"]?.stringValue, let quantity = line["quantity"]?.int64Value else { return nil }
                return (id, quantity)
            }
            return (try row.decode("fulfillment_order_id"), try row.decode("order_id"), lines, EventTime.parse(try row.decode("shipped_at", as: String.self)))
        }
    }

    func recordedDeliveries(_ fulfillmentOrderIDs: [String]) throws -> Set<String> {
        guard !fulfillmentOrderIDs.isEmpty else { return [] }
        return Set(try database.query("""
            SELECT fulfillment_order_id FROM billing.deliveries WHERE fulfillment_order_id = ANY(\(fulfillmentOrderIDs)::text[])
            UNION SELECT fulfillment_order_id FROM billing.documents WHERE fulfillment_order_id = ANY(\(fulfillmentOrderIDs)::text[]) AND type_code = '380'
            """).map { try $0.decode("fulfillment_order_id", as: String.self) })
    }

    struct Delivery {
        let fulfillmentOrderID: String
        let orderID: String
        let customerID: String
        let mode: String
        let shippedAt: Date
        let lines: [(lineID: String, quantity: Int64)]
    }

    func recordDeliveries(_ deliveries: [Delivery]) throws {
        guard !deliveries.isEmpty else { return }
        let d = deliveries
        let lines = d.map { delivery in
            JSONValue.array(delivery.lines.map { ["lineId": .string($0.lineID), "quantity": .integer($0.quantity)] }).storableJSON
        }
        try database.query("""
            INSERT INTO billing.deliveries (fulfillment_order_id, order_id, customer_id, mode, shipped_at, lines)
            SELECT f, o, c, m, s::timestamptz, l::json FROM unnest(\(d.map(\.fulfillmentOrderID))::text[], \(d.map(\.orderID))::text[], \(d.map(\.customerID))::text[],
                                                              \(d.map(\.mode))::text[], \(d.map { EventTime.format($0.shippedAt) })::text[], \(lines)::text[])
                 AS u(f, o, c, m, s, l)
            """)
    }

    static func delivery(_ row: PostgresRow) throws -> Delivery {
        let lines = (try JSONParser.parse(try row.decode("lines", as: String.self)).arrayValue ?? []).compactMap { line -> (lineID: String, quantity: Int64)? in
            guard let id = line["lineId"]?.stringValue, let quantity = line["quantity"]?.int64Value else { return nil }
            return (id, quantity)
        }
        return Delivery(fulfillmentOrderID: try row.decode("fulfillment_order_id"), orderID: try row.decode("order_id"), customerID: try row.decode("customer_id"),
                        mode: try row.decode("mode"), shippedAt: EventTime.parse(try row.decode("shipped_at", as: String.self)), lines: lines)
    }

    /// The order's deliveries not yet invoiced, locked, oldest first.
    func openDeliveries(order: String) throws -> [Delivery] {
        try database.query("""
            SELECT fulfillment_order_id, order_id, customer_id, mode, to_char(shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS shipped_at,
                   lines::text AS lines
            FROM billing.deliveries WHERE order_id = \(order) AND invoice_number IS NULL ORDER BY shipped_at, fulfillment_order_id FOR UPDATE
            """).map(Self.delivery)
    }

    /// Every unit of the order that shipped (invoiced or not).
    func shippedUnits(order: String) throws -> Int64 {
        try database.query("""
            SELECT coalesce(sum((SELECT sum((l->>'quantity')::bigint) FROM json_array_elements(lines) AS l)), 0)::bigint AS n
            FROM billing.deliveries WHERE order_id = \(order)
            """).first?.decode("n", as: Int64.self) ?? 0
    }

    /// Deliveries collected for collective invoices and shipped before `end`, locked (a racing run skips what this one holds
    /// and finds it invoiced afterwards).
    func collectDeliveries(shippedBefore end: Date) throws -> [Delivery] {
        try database.query("""
            SELECT fulfillment_order_id, order_id, customer_id, mode, to_char(shipped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS shipped_at,
                   lines::text AS lines
            FROM billing.deliveries WHERE mode = 'monthlyCollective' AND invoice_number IS NULL AND shipped_at < \(EventTime.format(end))::timestamptz
            ORDER BY customer_id, shipped_at, fulfillment_order_id FOR UPDATE SKIP LOCKED
            """).map(Self.delivery)
    }

    func markDeliveriesInvoiced(_ entries: [(number: String, fulfillmentOrders: [String])]) throws {
        let pairs = entries.flatMap { entry in entry.fulfillmentOrders.map { (entry.number, $0) } }
        guard !pairs.isEmpty else { return }
        try database.query("""
            UPDATE billing.deliveries d SET invoice_number = u.n FROM unnest(\(pairs.map(\.0))::text[], \(pairs.map(\.1))::text[]) AS u(n, f)
            WHERE d.fulfillment_order_id = u.f
            """)
    }

    func insertParts(_ parts: [(number: String, part: CollectivePlanner.Part)]) throws {
        guard !parts.isEmpty else { return }
        try database.query("""
            INSERT INTO billing.invoiced_parts (number, order_id, gross, units)
            SELECT * FROM unnest(\(parts.map(\.number))::text[], \(parts.map(\.part.orderID))::text[], \(parts.map(\.part.gross))::bigint[],
                                 \(parts.map(\.part.units))::bigint[])
            """)
    }

    // MARK: Collective runs

    /// The schedule's run for `month` (once; a second copy's insert changes nothing).
    func scheduleCollectiveRun(month: Date) throws {
        try database.query("""
            INSERT INTO billing.collective_runs (month, requested_by) VALUES (\(String(EventTime.format(month).prefix(10)))::date, 'schedule')
            ON CONFLICT (month) WHERE requested_by = 'schedule' DO NOTHING
            """)
    }

    /// The oldest requested run not done, locked for this transaction.
    func takeCollectiveRun() throws -> (id: Int64, month: Date, requestedBy: String)? {
        guard let row = try database.query("""
            SELECT run_id, month::text AS month, requested_by FROM billing.collective_runs WHERE done_at IS NULL ORDER BY run_id LIMIT 1 FOR UPDATE SKIP LOCKED
            """).first else { return nil }
        return (try row.decode("run_id"), EventTime.parse(try row.decode("month", as: String.self) + "T00:00:00Z"), try row.decode("requested_by"))
    }

    func finishCollectiveRun(_ id: Int64, issued: [String]) throws {
        try database.query("UPDATE billing.collective_runs SET done_at = now(), issued = \(issued)::text[] WHERE run_id = \(id)")
    }

    /// The next `count` numbers of a range, gapless: the counter row is locked until this transaction ends.
    func takeNumbers(range: String, count: Int) throws -> [Int64] {
        guard count > 0 else { return [] }
        guard let row = try database.query("""
            INSERT INTO billing.number_ranges (range_id, next) VALUES (\(range), \(Int64(count) + 1))
            ON CONFLICT (range_id) DO UPDATE SET next = billing.number_ranges.next + \(Int64(count))
            RETURNING next - \(Int64(count)) AS first
            """).first else { throw PostgresError(kind: .server, serverMessage: "number range \(range) returned nothing") }
        let first: Int64 = try row.decode("first")
        return (0..<Int64(count)).map { first + $0 }
    }

    func distanceSales(year: Int) throws -> Int64 {
        try database.query("SELECT coalesce(sum(net), 0)::bigint AS n FROM billing.distance_sales WHERE year IN (\(year), \(year - 1))")
            .first?.decode("n", as: Int64.self) ?? 0
    }

    func addDistanceSales(year: Int, currency: String, net: Int64) throws {
        guard net != 0 else { return }
        try database.query("""
            INSERT INTO billing.distance_sales (year, currency, net) VALUES (\(year), \(currency), \(net))
            ON CONFLICT (year) DO UPDATE SET net = billing.distance_sales.net + EXCLUDED.net
            """)
    }

    /// The newest link of the archive chain, locked so that copies append one after the other.
    func lastHash() throws -> String {
        try database.query("SELECT pg_advisory_xact_lock(hashtext('billing.archive'))")
        return try database.query("SELECT hash FROM billing.archive ORDER BY seq DESC LIMIT 1").first?.decode("hash", as: String.self)
            ?? ArchiveChain.genesis
    }

    struct Document {
        let number: String
        let typeCode: String
        let orderID: String
        let fulfillmentOrderID: String?
        let customerID: String
        let currency: String
        let net: Int64
        let tax: Int64
        let gross: Int64
        let breakdown: JSONValue
        let xml: String
        let content: JSONValue
        let previousHash: String
        let hash: String
        let retainUntil: String
        let refundID: String?
        let precedingInvoice: String?
    }

    func insert(_ documents: [Document]) throws {
        guard !documents.isEmpty else { return }
        let d = documents
        try database.query("""
            INSERT INTO billing.documents (number, type_code, order_id, fulfillment_order_id, customer_id, currency, net, tax, gross, breakdown, xml, content,
                                           refund_id, preceding_invoice)
            SELECT n, t, o, f, c, cu, ne, ta, g, b::json, x, co::json, rf, pr
            FROM unnest(\(d.map(\.number))::text[], \(d.map(\.typeCode))::text[], \(d.map(\.orderID))::text[], \(d.map(\.fulfillmentOrderID))::text[],
                        \(d.map(\.customerID))::text[], \(d.map(\.currency))::text[], \(d.map(\.net))::bigint[], \(d.map(\.tax))::bigint[],
                        \(d.map(\.gross))::bigint[], \(d.map(\.breakdown.storableJSON))::text[], \(d.map(\.xml))::text[],
                        \(d.map(\.content.storableJSON))::text[], \(d.map(\.refundID))::text[], \(d.map(\.precedingInvoice))::text[])
                 AS u(n, t, o, f, c, cu, ne, ta, g, b, x, co, rf, pr)
            """)
        // In chain order: one statement keeps the order of the array.
        try database.query("""
            INSERT INTO billing.archive (number, previous_hash, hash, retain_until)
            SELECT n, p, h, r::date FROM unnest(\(d.map(\.number))::text[], \(d.map(\.previousHash))::text[], \(d.map(\.hash))::text[],
                                                \(d.map(\.retainUntil))::text[]) WITH ORDINALITY AS u(n, p, h, r, i) ORDER BY i
            """)
    }

    // MARK: Receivables

    /// Customers' ledgers change one transaction at a time (two copies may book for the same customer).
    func lockCustomers(_ ids: Set<String>) throws {
        guard !ids.isEmpty else { return }
        try database.query("SELECT pg_advisory_xact_lock(hashtext('billing.customer:' || c)) FROM unnest(\(ids.sorted())::text[]) AS c ORDER BY c")
    }

    struct Receivable {
        let number: String
        let customerID: String
        let orderID: String
        let currency: String
        let amount: Int64
        let open: Int64
        let due: Date?
    }

    func insertReceivables(_ rows: [Receivable]) throws {
        guard !rows.isEmpty else { return }
        let r = rows
        try database.query("""
            INSERT INTO billing.receivables (number, customer_id, order_id, currency, amount, open, due_date)
            SELECT n, c, o, cu, a, op, d::date FROM unnest(\(r.map(\.number))::text[], \(r.map(\.customerID))::text[], \(r.map(\.orderID))::text[],
                                                        \(r.map(\.currency))::text[], \(r.map(\.amount))::bigint[], \(r.map(\.open))::bigint[],
                                                        \(r.map { $0.due.map { String(EventTime.format($0).prefix(10)) } })::text[])
                 AS u(n, c, o, cu, a, op, d)
            """)
    }

    /// Lowers what is open of an invoice by up to `amount`; returns the part it could not take.
    func reduceOpen(_ number: String, by amount: Int64) throws -> Int64 {
        guard amount > 0 else { return 0 }
        guard let row = try database.query("""
            WITH r AS (SELECT number, open FROM billing.receivables WHERE number = \(number) FOR UPDATE)
            UPDATE billing.receivables b SET open = r.open - least(r.open, \(amount)), changed_at = now() FROM r WHERE b.number = r.number
            RETURNING least(r.open, \(amount)) AS taken
            """).first else { return amount }
        return amount - (try row.decode("taken", as: Int64.self))
    }

    func openItems(customer: String, currency: String, order: String?) throws -> [Settlement.OpenItem] {
        try database.query("""
            SELECT number, open, due_date::text AS due FROM billing.receivables
            WHERE customer_id = \(customer) AND currency = \(currency) AND open > 0 AND (\(order)::text IS NULL OR order_id = \(order))
            ORDER BY number FOR UPDATE
            """).map { row in
            Settlement.OpenItem(number: try row.decode("number"), open: try row.decode("open"),
                                dueDate: try row.decodeIfPresent("due", as: String.self).map { EventTime.parse($0 + "T00:00:00Z") })
        }
    }

    func addCredit(customer: String, currency: String, amount: Int64) throws {
        guard amount > 0 else { return }
        try database.query("""
            INSERT INTO billing.customer_credit (customer_id, currency, amount) VALUES (\(customer), \(currency), \(amount))
            ON CONFLICT (customer_id, currency) DO UPDATE SET amount = billing.customer_credit.amount + EXCLUDED.amount
            """)
    }

    /// Takes up to `limit` of the customer's credit; returns what it took.
    func takeCredit(customer: String, currency: String, upTo limit: Int64) throws -> Int64 {
        guard limit > 0, let row = try database.query("""
            UPDATE billing.customer_credit c SET amount = c.amount - least(c.amount, \(limit))
            FROM (SELECT amount FROM billing.customer_credit WHERE customer_id = \(customer) AND currency = \(currency) FOR UPDATE) AS before
            WHERE c.customer_id = \(customer) AND c.currency = \(currency)
            RETURNING least(before.amount, \(limit)) AS taken
            """).first else { return 0 }
        return try row.decode("taken")
    }

    func addOrderPayment(_ orderID: String, amount: Int64) throws {
        try database.query("UPDATE billing.orders SET paid = paid + \(amount) WHERE order_id = \(orderID)")
    }

    /// Takes up to `limit` of what was captured for the order and not yet applied.
    func takeOrderPayment(_ orderID: String, upTo limit: Int64) throws -> Int64 {
        guard limit > 0, let row = try database.query("""
            UPDATE billing.orders o SET paid = o.paid - least(before.paid, \(limit))
            FROM (SELECT paid FROM billing.orders WHERE order_id = \(orderID) FOR UPDATE) AS before
            WHERE o.order_id = \(orderID) RETURNING least(before.paid, \(limit)) AS taken
            """).first else { return 0 }
        return try row.decode("taken")
    }

    /// Records a payment once; false when it was counted before.
    func recordPayment(_ payment: PaymentIn, customer: String?) throws -> Bool {
        !(try database.query("""
            INSERT INTO billing.payments (payment_id, kind, customer_id, order_id, currency, amount)
            VALUES (\(payment.paymentID), \(payment.kind.rawValue), \(customer), \(payment.orderID), \(payment.amount.currency.code), \(payment.amount.minorUnits))
            ON CONFLICT (payment_id) DO NOTHING RETURNING payment_id
            """).first == nil)
    }

    /// Per order: gross invoiced so far, units invoiced, the newest invoice.
    func invoicedSummary(_ orderIDs: [String]) throws -> [String: (gross: Int64, units: Int64, currency: String, last: String)] {
        guard !orderIDs.isEmpty else { return [:] }
        var result: [String: (gross: Int64, units: Int64, currency: String, last: String)] = [:]
        for row in try database.query("""
            SELECT p.order_id, least(sum(p.gross), 1000000000000)::bigint AS gross, min(d.currency) AS currency, max(p.number) AS last,
                   coalesce(sum(p.units), 0)::bigint AS units
            FROM billing.invoiced_parts p JOIN billing.documents d USING (number) WHERE p.order_id = ANY(\(orderIDs)::text[]) GROUP BY p.order_id
            """) {
            result[try row.decode("order_id")] = (try row.decode("gross"), try row.decode("units"), try row.decode("currency"), try row.decode("last"))
        }
        return result
    }

    struct ReceivablesSummary {
        let customerID: String
        let currency: String
        let unpaid: Int64
        let overdue: Int64
        let openInvoices: Int64
    }

    /// Per customer and currency: what is open, what of it is past due, how many invoices.
    func receivablesSummary(_ customers: [String], today: Date) throws -> [ReceivablesSummary] {
        guard !customers.isEmpty else { return [] }
        let day = String(EventTime.format(today).prefix(10))
        return try database.query("""
            SELECT c.id AS customer_id, coalesce(r.currency, 'EUR') AS currency,
                   least(coalesce(sum(r.open), 0), 1000000000000)::bigint AS unpaid,
                   least(coalesce(sum(r.open) FILTER (WHERE r.due_date < \(day)::date), 0), 1000000000000)::bigint AS overdue,
                   count(r.number) FILTER (WHERE r.open > 0) AS open_invoices
            FROM unnest(\(customers)::text[]) AS c(id)
            LEFT JOIN billing.receivables r ON r.customer_id = c.id AND r.open > 0
            GROUP BY c.id, r.currency ORDER BY c.id
            """).map { row in
            ReceivablesSummary(customerID: try row.decode("customer_id"), currency: try row.decode("currency"), unpaid: try row.decode("unpaid"),
                               overdue: try row.decode("overdue"), openInvoices: try row.decode("open_invoices"))
        }
    }

    /// Open invoices past their due date not yet reported, marked as reported (skipping rows another copy holds).
    func takeOverdue(today: Date, limit: Int) throws -> [(number: String, orderID: String, customerID: String, open: Int64, currency: String, dueDate: String)] {
        let day = String(EventTime.format(today).prefix(10))
        return try database.query("""
            UPDATE billing.receivables r SET overdue_notified = true
            FROM (SELECT number FROM billing.receivables WHERE open > 0 AND NOT overdue_notified AND due_date < \(day)::date
                  ORDER BY due_date, number LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED) AS due
            WHERE r.number = due.number
            RETURNING r.number, r.order_id, r.customer_id, r.open, r.currency, r.due_date::text AS due_date
            """).map { row in
            (try row.decode("number"), try row.decode("order_id"), try row.decode("customer_id"), try row.decode("open"), try row.decode("currency"),
             try row.decode("due_date"))
        }
    }

    /// Billing's copy of the person's data: the order as received (bill-to, ship-to, VAT ID), the deliveries' lines,
    /// audit details. Issued documents and their archive stay as issued — tax law requires them (§147 AO, §14b UStG) —
    /// and are marked restricted until the end of their retention; returns how many were marked.
    func erasePersonalData(_ erasure: ErasureOrder, retentionYears: Int) throws -> (rows: Int, restricted: Int) {
        var eraser = try PersonalDataStore(database: database)
        let orders = erasure.orderIDs
        try eraser.scrubJSON("billing.orders", "data", key: "t.order_id", in: orders)
        try eraser.scrubJSON("billing.deliveries", "lines", key: "t.order_id", in: orders)
        try eraser.eraseRuntimeCopies(schema: "billing", keys: erasure.keys)
        let restricted = try database.query("""
            INSERT INTO billing.restricted_documents (number, customer_id, erasure_id, retain_until)
            SELECT number, customer_id, \(erasure.erasureID),
                   make_date(extract(year FROM issued_at AT TIME ZONE 'Europe/Berlin')::int + \(retentionYears), 12, 31)
            FROM billing.documents WHERE customer_id = \(erasure.customerID) OR order_id = ANY(\(orders)::text[])
            ON CONFLICT (number) DO NOTHING
            RETURNING 1
            """).count
        return (eraser.rows + restricted, restricted)
    }
}
