import Foundation
import Shared

/// Capture's tables, read and written set-based: a constant number of
/// statements per batch, whatever its size.
struct CaptureStore {
    let database: PostgresConnection

    struct NewOrder {
        let order: OrderSubmission
        let status: OrderStatus
        let holds: Set<HoldReason>
        let findings: [CheckFinding]
        let contentHash: String
        let sourceEventID: String
        let correlationID: String
        let holdExpiresInHours: Int?
        let catalogWaitMinutes: Int?
        let approvers: [String]
        let paymentTerms: PaymentTerms?
    }

    /// An order held for the catalog or for stock, with what a re-check needs.
    struct WaitingOrder {
        let orderID: String
        let holds: Set<HoldReason>
        let lines: [(sku: String, quantity: Int64)]
        let shipComplete: Bool
        let shippingStreet: String
        var skus: [String] { lines.map(\.sku) }
    }

    /// Orders held for the catalog or for stock with a line of one of these SKUs.
    /// Every order of a customer, for an erasure.
    func orderIDs(customer customerID: String) throws -> [String] {
        try database.query("SELECT order_id FROM capture.orders WHERE customer_id = \(customerID) ORDER BY order_id").map { try $0.decode("order_id") }
    }

    /// Capture's copy of the person's data: the order's parties (addresses, e-mail, phone, IP, the velocity keys derived
    /// from them), the order as received, payment references, the CRM replica of the customer, audit details.
    func erasePersonalData(_ erasure: ErasureOrder) throws -> Int {
        var eraser = try PersonalDataStore(database: database)
        let orders = erasure.orderIDs, customer = [erasure.customerID]
        try eraser.mark("capture.order_parties", columns: ["name", "street", "postal_code", "city", "email", "phone"], key: "t.order_id", in: orders)
        try eraser.clear("capture.order_parties", columns: ["address_key", "client_ip"], key: "t.order_id", in: orders)
        try eraser.scrubJSON("capture.orders", "data", key: "t.order_id", in: orders)
        try eraser.mark("capture.payments", columns: ["reference"], key: "t.order_id", in: orders)
        try eraser.scrubJSON("capture.customers", "data", key: "t.customer_id", in: customer)
        try eraser.scrubJSON("capture.customers", "buyers", key: "t.customer_id", in: customer)
        try eraser.mark("capture.customers", columns: ["vat_id"], key: "t.customer_id", in: customer)
        try eraser.eraseRuntimeCopies(schema: "capture", keys: erasure.keys + ["customer:\(erasure.customerID)"])
        return eraser.rows
    }

    func ordersWaitingForMasterData(skus: [String]) throws -> [WaitingOrder] {
        guard !skus.isEmpty else { return [] }
        return try database.query("""
            SELECT o.order_id, array_to_string(o.hold_reasons, ',') AS holds, o.ship_complete, p.street,
                   (SELECT string_agg(l.sku || E'\\x1f' || l.quantity, E'\\x1e' ORDER BY l.position)
                    FROM capture.order_lines l WHERE l.order_id = o.order_id) AS lines
            FROM capture.orders o JOIN capture.order_parties p ON p.order_id = o.order_id AND p.role = 'shipping'
            WHERE o.status = 'on_hold' AND o.hold_reasons && ARRAY['catalog', 'stock']::text[]
              AND o.order_id IN (SELECT order_id FROM capture.order_lines WHERE sku = ANY(\(skus)::text[]))
            ORDER BY o.order_id
            FOR UPDATE OF o
            """).map { row in
            WaitingOrder(
                orderID: try row.decode("order_id"),
                holds: Set(try row.decode("holds", as: String.self).split(separator: ",").compactMap { HoldReason(rawValue: String($0)) }),
                lines: try row.decode("lines", as: String.self).split(separator: "\u{1E}").map { entry in
                    let parts = entry.split(separator: "\u{1F}", omittingEmptySubsequences: false)
                    return (String(parts[0]), Int64(parts.last ?? "") ?? 0)
                },
                shipComplete: try row.decode("ship_complete"),
                shippingStreet: try row.decodeIfPresent("street") ?? "")
        }
    }

    /// Earlier orders per customer id, and per e-mail, shipping address, client IP and
    /// payment reference within the velocity window, for the fraud rules.
    struct Histories {
        var previousByCustomer: [String: Int] = [:]
        /// Velocity dimension → key → recent orders.
        var recent: [CaptureRules.VelocityDimension: [String: Int]] = [:]

        static func keys(of order: OrderSubmission) -> [CaptureRules.VelocityDimension: String] {
            var keys: [CaptureRules.VelocityDimension: String] = [.email: order.customer.email.lowercased(), .address: order.shippingAddressKey]
            if let ip = order.clientIP { keys[.ip] = ip }
            if let reference = order.paymentReference { keys[.paymentReference] = reference }
            return keys
        }

        func history(for order: OrderSubmission) -> CustomerHistory {
            let keys = Self.keys(of: order)
            func count(_ dimension: CaptureRules.VelocityDimension) -> Int { keys[dimension].flatMap { recent[dimension]?[$0] } ?? 0 }
            return CustomerHistory(previousOrders: previousByCustomer[order.customer.id] ?? 0, recentOrdersSameEmail: count(.email),
                                   recentOrdersSameAddress: count(.address), recentOrdersSameIP: count(.ip),
                                   recentOrdersSamePaymentReference: count(.paymentReference))
        }

        /// Counts an order of this batch for the ones after it.
        mutating func record(_ order: OrderSubmission) {
            previousByCustomer[order.customer.id, default: 0] += 1
            for (dimension, key) in Self.keys(of: order) { recent[dimension, default: [:]][key, default: 0] += 1 }
        }
    }

    /// Billing's running invoiced totals: never lowered (a late, older event changes nothing), complete once.
    func recordInvoiced(_ updates: [InvoicedUpdate]) throws {
        guard !updates.isEmpty else { return }
        try database.query("""
            UPDATE capture.orders o SET invoiced_amount = greatest(o.invoiced_amount, u.g),
                   invoiced_at = CASE WHEN u.c THEN coalesce(o.invoiced_at, now()) ELSE o.invoiced_at END
            FROM (SELECT i, max(g) AS g, bool_or(c) AS c FROM unnest(\(updates.map(\.orderID))::text[], \(updates.map(\.invoicedGross))::bigint[],
                                                                    \(updates.map(\.complete))::boolean[]) AS x(i, g, c) GROUP BY i) AS u
            WHERE o.order_id = u.i AND o.currency = ANY(\(updates.map(\.currency))::text[])
            """)
    }

    func recordPayments(_ payments: [(key: String, update: PaymentUpdate)]) throws {
        guard !payments.isEmpty else { return }
        try database.query("""
            INSERT INTO capture.payments (event_id, order_id, kind, amount, currency, reference, reason)
            SELECT * FROM unnest(\(payments.map(\.key))::text[], \(payments.map(\.update.orderID))::text[],
                                 \(payments.map(\.update.kind.rawValue))::text[], \(payments.map(\.update.amount))::bigint[],
                                 \(payments.map(\.update.currency))::text[], \(payments.map(\.update.reference))::text[],
                                 \(payments.map(\.update.reason))::text[])
            ON CONFLICT (event_id) DO NOTHING
            """)
    }

    /// Upserts the replica; per SKU only the newest update counts, in the batch and against the table.
    /// Group prices follow the product record they came with.
    func upsertProducts(_ updates: [(key: String, update: ProductUpdate)]) throws {
        guard !updates.isEmpty else { return }
        let rows = updates.newestPerKey({ $0.update.info.sku }, time: { $0.update.changedInstant })
        let written: [String] = try database.query("""
            INSERT INTO capture.products (sku, name, sellable, discontinued, bulky, dangerous_goods_class, minimum_age,
                                          tax_class, data, changed_at, source_event_id)
            SELECT s, n, se, di, bu, dg, ma, tc, d::json, ca::timestamptz, ev
            FROM unnest(\(rows.map(\.update.info.sku))::text[], \(rows.map(\.update.name))::text[],
                        \(rows.map(\.update.info.sellable))::boolean[], \(rows.map(\.update.info.discontinued))::boolean[],
                        \(rows.map(\.update.info.bulky))::boolean[], \(rows.map(\.update.info.dangerousGoodsClass))::text[],
                        \(rows.map(\.update.minimumAge))::int[], \(rows.map(\.update.taxClass))::text[],
                        \(rows.map(\.update.data))::text[], \(rows.map(\.update.changedAt))::text[], \(rows.map(\.key))::text[])
                 AS u(s, n, se, di, bu, dg, ma, tc, d, ca, ev)
            ON CONFLICT (sku) DO UPDATE SET
                name = EXCLUDED.name, sellable = EXCLUDED.sellable, discontinued = EXCLUDED.discontinued,
                bulky = EXCLUDED.bulky, dangerous_goods_class = EXCLUDED.dangerous_goods_class,
                minimum_age = EXCLUDED.minimum_age, tax_class = EXCLUDED.tax_class, data = EXCLUDED.data,
                changed_at = EXCLUDED.changed_at, source_event_id = EXCLUDED.source_event_id
            WHERE capture.products.changed_at <= EXCLUDED.changed_at
            RETURNING sku
            """).map { try $0.decode("sku") }
        let winners = Set(written)
        try MasterDataStore(database: database).replaceGroupPrices(rows.map(\.update).filter { winners.contains($0.info.sku) })
    }

    func products(_ skus: [String]) throws -> [String: ProductInfo] {
        guard !skus.isEmpty else { return [:] }
        var products: [String: ProductInfo] = [:]
        for row in try database.query("""
            SELECT sku, sellable, discontinued, bulky, dangerous_goods_class FROM capture.products WHERE sku = ANY(\(skus)::text[])
            """) {
            let sku: String = try row.decode("sku")
            products[sku] = ProductInfo(sku: sku, sellable: try row.decode("sellable"), discontinued: try row.decode("discontinued"),
                                        bulky: try row.decode("bulky"), dangerousGoodsClass: try row.decodeIfPresent("dangerous_goods_class"))
        }
        return products
    }

    func existingOrders(_ orderIDs: [String]) throws -> [String: CaptureHandler.KnownOrder] {
        var known: [String: CaptureHandler.KnownOrder] = [:]
        for row in try database.query("""
            SELECT order_id, status, array_to_string(hold_reasons, ',') AS holds, payment_amount, currency, content_hash, source_event_id,
                   array_to_string(approvers, E'\\x1f') AS approvers
            FROM capture.orders WHERE order_id = ANY(\(orderIDs)::text[])
            """) {
            let orderID: String = try row.decode("order_id")
            // A value this code does not know means a newer version or a broken row: fail loudly, never guess.
            let statusText: String = try row.decode("status")
            guard let status = OrderStatus(rawValue: statusText) else {
                throw PermanentFailure.database("order \(orderID) has status \"\(statusText)\", which this version does not know")
            }
            var holds: Set<HoldReason> = []
            for name in try row.decode("holds", as: String.self).split(separator: ",") {
                guard let reason = HoldReason(rawValue: String(name)) else {
                    throw PermanentFailure.database("order \(orderID) has hold reason \"\(name)\", which this version does not know")
                }
                holds.insert(reason)
            }
            let currencyCode = try row.decode("currency", as: String.self)
            guard let currency = Currency(currencyCode) else {
                throw PermanentFailure.database("order \(orderID) has currency \"\(currencyCode)\", which is no ISO 4217 code")
            }
            known[orderID] = CaptureHandler.KnownOrder(
                status: status, holds: holds,
                paymentAmount: Money(minorUnits: try row.decode("payment_amount"), currency: currency), contentHash: try row.decode("content_hash"),
                sourceEventID: try row.decode("source_event_id"),
                approvers: try row.decode("approvers", as: String.self).split(separator: "\u{1F}").map(String.init))
        }
        return known
    }

    func ledgers(_ orderIDs: [String]) throws -> [String: PaymentLedger] {
        var ledgers: [String: PaymentLedger] = [:]
        for row in try database.query("""
            SELECT order_id, coalesce(currency, '') AS currency,
                   least(coalesce(sum(amount) FILTER (WHERE kind = 'captured'), 0), 9223372036854775807)::bigint AS captured,
                   max(reason) FILTER (WHERE kind = 'failed') AS failed
            FROM capture.payments WHERE order_id = ANY(\(orderIDs)::text[]) GROUP BY order_id, currency
            """) {
            let orderID: String = try row.decode("order_id")
            var ledger = ledgers[orderID] ?? .empty
            let currency: String = try row.decode("currency")
            if !currency.isEmpty { ledger.capturedByCurrency[currency] = try row.decode("captured") }
            if let failed: String = try row.decodeIfPresent("failed") { ledger.failedReason = failed }
            ledgers[orderID] = ledger
        }
        return ledgers
    }

    func histories(_ orders: [OrderSubmission], velocity: CaptureRules.Fraud) throws -> Histories {
        var histories = Histories()
        guard !orders.isEmpty else { return histories }
        for row in try database.query("""
            SELECT customer_id, count(*) AS n FROM capture.orders
            WHERE customer_id = ANY(\(orders.map(\.customer.id))::text[]) GROUP BY customer_id
            """) {
            histories.previousByCustomer[try row.decode("customer_id")] = try row.decode("n")
        }
        func keys(_ dimension: CaptureRules.VelocityDimension) -> [String] {
            velocity.velocityDimensions.contains(dimension) ? Array(Set(orders.compactMap { Histories.keys(of: $0)[dimension] })) : []
        }
        // One round trip for all dimensions; each branch uses its own index.
        for row in try database.query("""
            WITH recent AS (SELECT now() - make_interval(mins => \(velocity.velocityWindowMinutes)) AS since)
            SELECT 'email' AS dimension, lower(p.email) AS key, count(*) AS n
            FROM capture.order_parties p JOIN capture.orders o USING (order_id), recent
            WHERE p.role = 'customer' AND lower(p.email) = ANY(\(keys(.email))::text[]) AND o.placed_at > recent.since
            GROUP BY lower(p.email)
            UNION ALL
            SELECT 'address', p.address_key, count(*)
            FROM capture.order_parties p JOIN capture.orders o USING (order_id), recent
            WHERE p.role = 'shipping' AND p.address_key = ANY(\(keys(.address))::text[]) AND o.placed_at > recent.since
            GROUP BY p.address_key
            UNION ALL
            SELECT 'ip', p.client_ip, count(*)
            FROM capture.order_parties p JOIN capture.orders o USING (order_id), recent
            WHERE p.role = 'customer' AND p.client_ip = ANY(\(keys(.ip))::text[]) AND o.placed_at > recent.since
            GROUP BY p.client_ip
            UNION ALL
            SELECT 'paymentReference', o.payment_reference, count(*)
            FROM capture.orders o, recent
            WHERE o.payment_reference = ANY(\(keys(.paymentReference))::text[]) AND o.placed_at > recent.since
            GROUP BY o.payment_reference
            """) {
            guard let dimension = CaptureRules.VelocityDimension(rawValue: try row.decode("dimension")) else { continue }
            histories.recent[dimension, default: [:]][try row.decode("key")] = try row.decode("n")
        }
        return histories
    }

    func update(_ changes: [(orderID: String, status: OrderStatus, holds: Set<HoldReason>)]) throws {
        guard !changes.isEmpty else { return }
        try database.query("""
            UPDATE capture.orders o
            SET status = c.status, hold_reasons = string_to_array(c.holds, ',')::text[], updated_at = now(),
                hold_expires_at = CASE WHEN 'payment' = ANY(string_to_array(c.holds, ',')) THEN o.hold_expires_at END,
                catalog_deadline = CASE WHEN 'catalog' = ANY(string_to_array(c.holds, ',')) THEN o.catalog_deadline END
            FROM unnest(\(changes.map(\.orderID))::text[], \(changes.map(\.status.rawValue))::text[],
                        \(changes.map(\.holds.csv))::text[]) AS c(order_id, status, holds)
            WHERE o.order_id = c.order_id
            """)
    }

    func insert(_ orders: [NewOrder]) throws {
        guard !orders.isEmpty else { return }
        let submissions = orders.map(\.order)
        try database.query("""
            INSERT INTO capture.orders (order_id, status, customer_id, customer_type, customer_group, currency,
                prices_include_tax, shipping_method, ship_complete, payment_method, payment_status, payment_reference,
                payment_amount, shipping_charge, lines_total, placed_at, source_event_id, correlation_id, content_hash, data,
                hold_reasons, fraud_score, hold_expires_at, catalog_deadline, buyer_id, approvers, payment_terms)
            SELECT o, st, ci, ct, cg, cu, pit, sm, sc, pm, ps, pr, pa, sh, lt, pl::timestamptz, se, co, ch, d::json,
                   string_to_array(hr, ',')::text[], fs, CASE WHEN he IS NULL THEN NULL ELSE now() + make_interval(hours => he) END,
                   CASE WHEN cw IS NULL THEN NULL ELSE now() + make_interval(mins => cw) END,
                   bi, CASE WHEN ap = '' THEN '{}' ELSE string_to_array(ap, E'\\x1f')::text[] END, pt::json
            FROM unnest(\(submissions.map(\.orderID))::text[], \(orders.map(\.status.rawValue))::text[],
                        \(submissions.map(\.customer.id))::text[],
                        \(submissions.map(\.customer.type))::text[], \(submissions.map(\.customer.group))::text[],
                        \(submissions.map(\.currency))::text[], \(submissions.map(\.pricesIncludeTax))::boolean[],
                        \(submissions.map(\.shippingMethod))::text[], \(submissions.map(\.shipComplete))::boolean[],
                        \(submissions.map(\.paymentMethod))::text[], \(submissions.map(\.paymentStatus))::text[],
                        \(submissions.map(\.paymentReference))::text[], \(submissions.map(\.paymentAmount.minorUnits))::bigint[],
                        \(submissions.map(\.shippingCharge.minorUnits))::bigint[], \(submissions.map(\.linesTotal.minorUnits))::bigint[],
                        \(submissions.map(\.placedAt))::text[], \(orders.map(\.sourceEventID))::text[],
                        \(orders.map(\.correlationID))::text[], \(orders.map(\.contentHash))::text[],
                        \(submissions.map(\.recordData))::text[],
                        \(orders.map(\.holds.csv))::text[],
                        \(orders.map { CheckFinding.score($0.findings) })::int[],
                        \(orders.map(\.holdExpiresInHours))::int[], \(orders.map(\.catalogWaitMinutes))::int[],
                        \(submissions.map(\.buyerID))::text[], \(orders.map { $0.approvers.joined(separator: "\u{1F}") })::text[],
                        \(orders.map { $0.paymentTerms?.json.serializedString })::text[])
                 AS t(o, st, ci, ct, cg, cu, pit, sm, sc, pm, ps, pr, pa, sh, lt, pl, se, co, ch, d, hr, fs, he, cw, bi, ap, pt)
            """)
        var lineOrder: [String] = [], lineID: [String] = [], position: [Int] = [], sku: [String] = []
        var quantity: [Int64] = [], unitPrice: [Int64] = []
        for order in submissions {
            for (index, line) in order.lines.enumerated() {
                lineOrder.append(order.orderID)
                lineID.append(line.lineID)
                position.append(index + 1)
                sku.append(line.sku)
                quantity.append(line.quantity)
                unitPrice.append(line.unitPrice.minorUnits)
            }
        }
        try database.query("""
            INSERT INTO capture.order_lines (order_id, line_id, position, sku, quantity, unit_price)
            SELECT * FROM unnest(\(lineOrder)::text[], \(lineID)::text[], \(position)::int[], \(sku)::text[],
                                 \(quantity)::int[], \(unitPrice)::bigint[])
            """)
        var partyOrder: [String] = [], role: [String] = [], name: [String?] = [], street: [String?] = []
        var postal: [String?] = [], city: [String?] = [], country: [String?] = [], email: [String?] = [], phone: [String?] = []
        var addressKey: [String?] = [], clientIP: [String?] = []
        for order in submissions {
            partyOrder.append(order.orderID); role.append("customer"); name.append(nil); street.append(nil)
            postal.append(nil); city.append(nil); country.append(nil); email.append(order.customer.email); phone.append(order.customer.phone)
            addressKey.append(nil); clientIP.append(order.clientIP)
            for (kind, address) in [("billing", order.billingAddress), ("shipping", order.shippingAddress)] {
                partyOrder.append(order.orderID); role.append(kind); name.append(address.name); street.append(address.street)
                postal.append(address.postalCode); city.append(address.city); country.append(address.country)
                email.append(nil); phone.append(nil)
                addressKey.append(kind == "shipping" ? order.shippingAddressKey : nil); clientIP.append(nil)
            }
        }
        try database.query("""
            INSERT INTO capture.order_parties (order_id, role, name, street, postal_code, city, country, email, phone, address_key, client_ip)
            SELECT * FROM unnest(\(partyOrder)::text[], \(role)::text[], \(name)::text[], \(street)::text[],
                                 \(postal)::text[], \(city)::text[], \(country)::text[], \(email)::text[], \(phone)::text[],
                                 \(addressKey)::text[], \(clientIP)::text[])
            """)
        var checkOrder: [String] = [], checkPosition: [Int] = [], checkName: [String] = [], code: [String] = []
        var effect: [String] = [], points: [Int] = [], message: [String] = []
        for order in orders {
            for (index, finding) in order.findings.enumerated() {
                checkOrder.append(order.order.orderID)
                checkPosition.append(index + 1)
                checkName.append(finding.check)
                code.append(finding.code)
                switch finding.effect {
                case .hold: effect.append("hold")
                case .reject: effect.append("reject")
                case .points: effect.append("points")
                case .note: effect.append("note")
                }
                points.append(finding.points)
                message.append(finding.message)
            }
        }
        if !checkOrder.isEmpty {
            try database.query("""
                INSERT INTO capture.order_checks (order_id, position, check_name, code, effect, points, message)
                SELECT * FROM unnest(\(checkOrder)::text[], \(checkPosition)::int[], \(checkName)::text[], \(code)::text[],
                                     \(effect)::text[], \(points)::int[], \(message)::text[])
                """)
        }
    }
}
