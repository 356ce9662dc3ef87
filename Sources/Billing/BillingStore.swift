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

    func insertOrders(_ orders: [(id: String, data: JSONValue)]) throws {
        guard !orders.isEmpty else { return }
        try database.query("""
            INSERT INTO billing.orders (order_id, data)
            SELECT DISTINCT ON (i) i, d::json FROM unnest(\(orders.map(\.id))::text[], \(orders.map(\.data.storableJSON))::text[]) AS u(i, d) ORDER BY i
            ON CONFLICT (order_id) DO NOTHING
            """)
    }

    func lockOrders(_ ids: Set<String>) throws -> [String: (data: JSONValue, shippingInvoiced: Bool)] {
        guard !ids.isEmpty else { return [:] }
        var result: [String: (data: JSONValue, shippingInvoiced: Bool)] = [:]
        for row in try database.query("""
            SELECT order_id, data::text AS data, shipping_invoiced FROM billing.orders WHERE order_id = ANY(\(ids.sorted())::text[]) ORDER BY order_id FOR UPDATE
            """) {
            result[try row.decode("order_id")] = (try JSONParser.parse(try row.decode("data", as: String.self)), try row.decode("shipping_invoiced"))
        }
        return result
    }

    func markShippingInvoiced(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try database.query("UPDATE billing.orders SET shipping_invoiced = true WHERE order_id = ANY(\(ids)::text[])")
    }

    func invoiced(_ fulfillmentOrderIDs: [String]) throws -> Set<String> {
        guard !fulfillmentOrderIDs.isEmpty else { return [] }
        return Set(try database.query("""
            SELECT fulfillment_order_id FROM billing.documents WHERE fulfillment_order_id = ANY(\(fulfillmentOrderIDs)::text[]) AND type_code = '380'
            """).map { try $0.decode("fulfillment_order_id", as: String.self) })
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
            ?? String(repeating: "0", count: 64)
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
    }

    func insert(_ documents: [Document]) throws {
        guard !documents.isEmpty else { return }
        let d = documents
        try database.query("""
            INSERT INTO billing.documents (number, type_code, order_id, fulfillment_order_id, customer_id, currency, net, tax, gross, breakdown, xml, content)
            SELECT n, t, o, f, c, cu, ne, ta, g, b::json, x, co::json
            FROM unnest(\(d.map(\.number))::text[], \(d.map(\.typeCode))::text[], \(d.map(\.orderID))::text[], \(d.map(\.fulfillmentOrderID))::text[],
                        \(d.map(\.customerID))::text[], \(d.map(\.currency))::text[], \(d.map(\.net))::bigint[], \(d.map(\.tax))::bigint[],
                        \(d.map(\.gross))::bigint[], \(d.map(\.breakdown.storableJSON))::text[], \(d.map(\.xml))::text[],
                        \(d.map(\.content.storableJSON))::text[])
                 AS u(n, t, o, f, c, cu, ne, ta, g, b, x, co)
            """)
        // In chain order: one statement keeps the order of the array.
        try database.query("""
            INSERT INTO billing.archive (number, previous_hash, hash, retain_until)
            SELECT n, p, h, r::date FROM unnest(\(d.map(\.number))::text[], \(d.map(\.previousHash))::text[], \(d.map(\.hash))::text[],
                                                \(d.map(\.retainUntil))::text[]) WITH ORDINALITY AS u(n, p, h, r, i) ORDER BY i
            """)
    }
}
