import Foundation
import Shared

/// Capture's replicas of data other systems own (CRM customers, receivables,
/// group prices, the Router's availability): written newest-wins, read per batch.
struct MasterDataStore {
    let database: PostgresConnection

    func upsertCustomers(_ updates: [(key: String, update: CustomerUpdate)]) throws {
        guard !updates.isEmpty else { return }
        let rows = updates.newestPerKey({ $0.update.account.customerID }, time: { EventTime.parse($0.update.changedAt) })
        let accounts = rows.map(\.update.account)
        try database.query("""
            INSERT INTO capture.customers (customer_id, customer_type, customer_group, vat_id, credit_limit, credit_currency,
                                           payment_terms, buyers, data, changed_at, source_event_id)
            SELECT c, t, g, v, cl, cc, pt::json, b::json, d::json, ca::timestamptz, ev
            FROM unnest(\(accounts.map(\.customerID))::text[], \(accounts.map(\.type))::text[], \(accounts.map(\.group))::text[],
                        \(rows.map(\.update.vatID))::text[], \(accounts.map(\.creditLimit))::bigint[],
                        \(accounts.map(\.creditCurrency))::text[], \(accounts.map { $0.paymentTerms?.json.serializedString })::text[],
                        \(accounts.map { Self.buyersJSON($0.buyers).serializedString })::text[], \(rows.map(\.update.data))::text[],
                        \(rows.map(\.update.changedAt))::text[], \(rows.map(\.key))::text[])
                 AS u(c, t, g, v, cl, cc, pt, b, d, ca, ev)
            ON CONFLICT (customer_id) DO UPDATE SET
                customer_type = EXCLUDED.customer_type, customer_group = EXCLUDED.customer_group, vat_id = EXCLUDED.vat_id,
                credit_limit = EXCLUDED.credit_limit, credit_currency = EXCLUDED.credit_currency,
                payment_terms = EXCLUDED.payment_terms, buyers = EXCLUDED.buyers, data = EXCLUDED.data,
                changed_at = EXCLUDED.changed_at, source_event_id = EXCLUDED.source_event_id
            WHERE capture.customers.changed_at <= EXCLUDED.changed_at
            """)
    }

    func upsertReceivables(_ updates: [(key: String, update: ReceivablesUpdate)]) throws {
        guard !updates.isEmpty else { return }
        let rows = updates.newestPerKey({ $0.update.customerID }, time: { EventTime.parse($0.update.changedAt) })
        try database.query("""
            INSERT INTO capture.receivables (customer_id, unpaid_amount, currency, changed_at, source_event_id)
            SELECT c, a, cu, ca::timestamptz, ev
            FROM unnest(\(rows.map(\.update.customerID))::text[], \(rows.map(\.update.unpaidAmount))::bigint[],
                        \(rows.map(\.update.currency))::text[], \(rows.map(\.update.changedAt))::text[], \(rows.map(\.key))::text[])
                 AS u(c, a, cu, ca, ev)
            ON CONFLICT (customer_id) DO UPDATE SET
                unpaid_amount = EXCLUDED.unpaid_amount, currency = EXCLUDED.currency,
                changed_at = EXCLUDED.changed_at, source_event_id = EXCLUDED.source_event_id
            WHERE capture.receivables.changed_at <= EXCLUDED.changed_at
            """)
    }

    /// Replaces the group prices of the products whose update won (`products`: the newest update per SKU).
    func replaceGroupPrices(_ products: [ProductUpdate]) throws {
        guard !products.isEmpty else { return }
        try database.query("""
            DELETE FROM capture.product_group_prices WHERE sku = ANY(\(products.map(\.info.sku))::text[])
            """)
        let prices = products.flatMap { product in product.groupPrices.map { (product.info.sku, $0) } }
        guard !prices.isEmpty else { return }
        try database.query("""
            INSERT INTO capture.product_group_prices (sku, customer_group, currency, unit_price)
            SELECT * FROM unnest(\(prices.map(\.0))::text[], \(prices.map(\.1.group))::text[], \(prices.map(\.1.currency))::text[],
                                 \(prices.map(\.1.unitPrice))::bigint[])
            """)
    }

    /// Returns the SKUs whose availability changed.
    func upsertAvailability(_ updates: [AvailabilityUpdate]) throws -> [String] {
        var items: [(sku: String, available: Int64, eta: String?, asOf: String)] = []
        for update in updates { for item in update.items { items.append((item.sku, item.available, item.nextETA, update.asOf)) } }
        guard !items.isEmpty else { return [] }
        let rows = items.newestPerKey({ $0.sku }, time: { EventTime.parse($0.asOf) })
        return try database.query("""
            INSERT INTO capture.availability (sku, available, next_eta, as_of)
            SELECT s, a, e::timestamptz, t::timestamptz
            FROM unnest(\(rows.map(\.sku))::text[], \(rows.map(\.available))::bigint[], \(rows.map(\.eta))::text[],
                        \(rows.map(\.asOf))::text[]) AS u(s, a, e, t)
            ON CONFLICT (sku) DO UPDATE SET available = EXCLUDED.available, next_eta = EXCLUDED.next_eta, as_of = EXCLUDED.as_of
            WHERE capture.availability.as_of <= EXCLUDED.as_of
            RETURNING sku
            """).map { try $0.decode("sku") }
    }

    func accounts(_ customerIDs: [String]) throws -> [String: CustomerAccount] {
        guard !customerIDs.isEmpty else { return [:] }
        var accounts: [String: CustomerAccount] = [:]
        for row in try database.query("""
            SELECT customer_id, customer_type, customer_group, credit_limit, credit_currency,
                   payment_terms::text AS terms, buyers::text AS buyers,
                   CASE WHEN json_typeof(data->'agreedDiscount'->'percentBasisPoints') = 'number'
                        THEN (data->'agreedDiscount'->>'percentBasisPoints')::bigint END AS agreed_discount
            FROM capture.customers WHERE customer_id = ANY(\(customerIDs)::text[])
            """) {
            let id: String = try row.decode("customer_id")
            let terms = try row.decodeIfPresent("terms", as: String.self).flatMap { try? JSONParser.parse(Array($0.utf8)) }
            let buyers = (try? JSONParser.parse(Array(try row.decode("buyers", as: String.self).utf8)))?.arrayValue ?? []
            var account = CustomerAccount(
                customerID: id, type: try row.decode("customer_type"), group: try row.decodeIfPresent("customer_group"),
                creditLimit: try row.decodeIfPresent("credit_limit"), creditCurrency: try row.decodeIfPresent("credit_currency"),
                paymentTerms: PaymentTerms(terms),
                buyers: buyers.compactMap { buyer in
                    buyer["buyerId"]?.stringValue.map {
                        CustomerAccount.Buyer(buyerID: $0, approvalLimit: buyer["approvalLimit"]?.int64Value,
                                              approvers: (buyer["approvers"]?.arrayValue ?? []).compactMap(\.stringValue))
                    }
                })
            account.agreedDiscountBasisPoints = try row.decodeIfPresent("agreed_discount")
            accounts[id] = account
        }
        return accounts
    }

    static func buyersJSON(_ buyers: [CustomerAccount.Buyer]) -> JSONValue {
        .array(buyers.map { buyer in
            var value: [String: JSONValue] = ["buyerId": .string(buyer.buyerID), "approvers": .array(buyer.approvers.map { .string($0) })]
            if let limit = buyer.approvalLimit { value["approvalLimit"] = .integer(limit) }
            return .object(value)
        })
    }

    /// Open (accepted or held, not invoiced) order value and unpaid invoices per customer.
    func exposures(_ customerIDs: [String]) throws -> [String: CreditExposure] {
        guard !customerIDs.isEmpty else { return [:] }
        var exposures: [String: CreditExposure] = [:]
        for row in try database.query("""
            SELECT c.id AS customer_id,
                   least(coalesce((SELECT sum(greatest(o.payment_amount - o.invoiced_amount, 0)) FROM capture.orders o
                                   WHERE o.customer_id = c.id AND o.status IN ('accepted', 'on_hold') AND o.invoiced_at IS NULL
                                     AND o.currency = cu.credit_currency), 0), 9223372036854775807)::bigint AS open_orders,
                   coalesce((SELECT r.unpaid_amount FROM capture.receivables r
                             WHERE r.customer_id = c.id AND r.currency = cu.credit_currency), 0) AS unpaid,
                   coalesce(array_to_string(ARRAY(
                       SELECT DISTINCT o.currency::text FROM capture.orders o
                       WHERE o.customer_id = c.id AND o.status IN ('accepted', 'on_hold') AND o.invoiced_at IS NULL
                         AND o.currency <> cu.credit_currency
                       UNION SELECT r.currency::text FROM capture.receivables r
                       WHERE r.customer_id = c.id AND r.currency <> cu.credit_currency AND r.unpaid_amount > 0), ','), '') AS other_currencies
            FROM unnest(\(customerIDs)::text[]) AS c(id) LEFT JOIN capture.customers cu ON cu.customer_id = c.id
            """) {
            // Amounts in another currency than the limit's are never added to it; they are named instead.
            exposures[try row.decode("customer_id")] = CreditExposure(
                openOrders: try row.decode("open_orders"), unpaidInvoices: try row.decode("unpaid"),
                otherCurrencies: Set(try row.decode("other_currencies", as: String.self).split(separator: ",").map(String.init)))
        }
        return exposures
    }

    func groupPrices(skus: [String], groups: [String]) throws -> [GroupPriceKey: Int64] {
        guard !skus.isEmpty, !groups.isEmpty else { return [:] }
        var prices: [GroupPriceKey: Int64] = [:]
        for row in try database.query("""
            SELECT sku, customer_group, currency, unit_price FROM capture.product_group_prices
            WHERE sku = ANY(\(skus)::text[]) AND customer_group = ANY(\(groups)::text[])
            """) {
            prices[GroupPriceKey(sku: try row.decode("sku"), group: try row.decode("customer_group"),
                                 currency: try row.decode("currency"))] = try row.decode("unit_price")
        }
        return prices
    }

    func availability(_ skus: [String]) throws -> [String: Int64] {
        guard !skus.isEmpty else { return [:] }
        var available: [String: Int64] = [:]
        for row in try database.query("SELECT sku, available FROM capture.availability WHERE sku = ANY(\(skus)::text[])") {
            available[try row.decode("sku")] = try row.decode("available")
        }
        return available
    }
}
