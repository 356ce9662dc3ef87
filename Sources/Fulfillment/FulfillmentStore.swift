import Foundation
import FulfillmentCore
import Shared

/// Fulfillment's tables: catalog replica, fulfillment orders and lines, waves,
/// parcels. Set-based reads and writes; rows are locked in key order.
struct FulfillmentStore {
    let database: PostgresConnection

    struct StoredOrder {
        let order: NewFulfillmentOrder
        var status: FulfillmentStatus
        let waveID: String?
        let correlationID: String
        var picked: [String: Int64]
    }

    struct ParcelRow {
        let sscc: String
        let parcelID: String
        let fulfillmentOrderID: String
        let number: Int
        let count: Int
        let carton: String?
        let grossGrams: Int
        let dangerousGoodsClass: String?
        let contents: JSONValue
        let customs: JSONValue?
        /// The label as sent on oms.labels (not stored: `omsctl` renders it again from the order and the rules).
        let zpl: String
        let printerID: String?
        var carrier: String?
        var trackingNumber: String?
        var trackingURL: String?
        var shipped: Bool
        var delivered: Bool
    }

    func upsertProducts(_ products: [(facts: ProductFacts, changedAt: String)]) throws {
        guard !products.isEmpty else { return }
        let rows = products.newestPerKey({ $0.facts.sku }, time: { EventTime.parse($0.changedAt) })
        let f = rows.map(\.facts)
        try database.query("""
            INSERT INTO fulfillment.products AS p (sku, name, weight_grams, length_mm, width_mm, height_mm, hs_code, origin_country,
                                                  dangerous_goods_class, bulky, changed_at)
            SELECT s, n, w, l, wi, h, hs, o, dg, b, c::timestamptz
            FROM unnest(\(f.map(\.sku))::text[], \(f.map(\.name))::text[], \(f.map(\.weightGrams))::int[], \(f.map { $0.dimensions?.length })::int[],
                        \(f.map { $0.dimensions?.width })::int[], \(f.map { $0.dimensions?.height })::int[], \(f.map(\.hsCode))::text[],
                        \(f.map(\.originCountry))::text[], \(f.map(\.dangerousGoodsClass))::text[], \(f.map(\.bulky))::boolean[],
                        \(rows.map(\.changedAt))::text[]) AS u(s, n, w, l, wi, h, hs, o, dg, b, c)
            ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, weight_grams = EXCLUDED.weight_grams, length_mm = EXCLUDED.length_mm,
                width_mm = EXCLUDED.width_mm, height_mm = EXCLUDED.height_mm, hs_code = EXCLUDED.hs_code, origin_country = EXCLUDED.origin_country,
                dangerous_goods_class = EXCLUDED.dangerous_goods_class, bulky = EXCLUDED.bulky, changed_at = EXCLUDED.changed_at
            WHERE p.changed_at <= EXCLUDED.changed_at
            """)
    }

    func products(_ skus: Set<String>) throws -> [String: ProductFacts] {
        guard !skus.isEmpty else { return [:] }
        var result: [String: ProductFacts] = [:]
        for row in try database.query("""
            SELECT sku, name, weight_grams, length_mm, width_mm, height_mm, hs_code, origin_country, dangerous_goods_class, bulky
            FROM fulfillment.products WHERE sku = ANY(\(Array(skus))::text[])
            """) {
            let sku: String = try row.decode("sku")
            var dimensions: Packing.Dimensions?
            if let l: Int = try row.decodeIfPresent("length_mm"), let w: Int = try row.decodeIfPresent("width_mm"), let h: Int = try row.decodeIfPresent("height_mm") {
                dimensions = Packing.Dimensions(l, w, h)
            }
            result[sku] = ProductFacts(sku: sku, name: try row.decodeIfPresent("name"), weightGrams: try row.decodeIfPresent("weight_grams"),
                                       dimensions: dimensions, hsCode: try row.decodeIfPresent("hs_code"), originCountry: try row.decodeIfPresent("origin_country"),
                                       dangerousGoodsClass: try row.decodeIfPresent("dangerous_goods_class"), bulky: try row.decode("bulky"))
        }
        return result
    }

    /// Where the WMS keeps SKUs; an older report never overwrites a newer one.
    func upsertBins(_ bins: [(warehouse: String, sku: String, bin: String, sequence: Int64)]) throws {
        guard !bins.isEmpty else { return }
        try database.query("""
            INSERT INTO fulfillment.bins AS b (warehouse_id, sku, bin, wms_sequence)
            SELECT DISTINCT ON (w, s) w, s, bi, q FROM unnest(\(bins.map(\.warehouse))::text[], \(bins.map(\.sku))::text[], \(bins.map(\.bin))::text[],
                                                          \(bins.map(\.sequence))::bigint[]) AS u(w, s, bi, q)
            ORDER BY w, s, q DESC
            ON CONFLICT (warehouse_id, sku) DO UPDATE SET bin = EXCLUDED.bin, wms_sequence = EXCLUDED.wms_sequence
            WHERE b.wms_sequence <= EXCLUDED.wms_sequence
            """)
    }

    func bins(warehouse: String, skus: Set<String>) throws -> [String: String] {
        guard !skus.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for row in try database.query("SELECT sku, bin FROM fulfillment.bins WHERE warehouse_id = \(warehouse) AND sku = ANY(\(Array(skus))::text[])") {
            result[try row.decode("sku")] = try row.decode("bin")
        }
        return result
    }

    /// Inserts fulfillment orders not seen before; returns the ids inserted (a repeat with another event id is skipped).
    func insert(_ orders: [(order: NewFulfillmentOrder, status: FulfillmentStatus, correlationID: String)]) throws -> Set<String> {
        guard !orders.isEmpty else { return [] }
        let o = orders.map(\.order)
        let inserted = Set(try database.query("""
            INSERT INTO fulfillment.fulfillment_orders (fulfillment_order_id, order_id, warehouse_id, supplier_id, carrier_service, shipping_method,
                                                       ship_by, status, data, correlation_id)
            SELECT * FROM (
                SELECT DISTINCT ON (i) i, oi, w, s, c, m, sb, st, d::json, co
                FROM unnest(\(o.map(\.facts.id))::text[], \(o.map(\.facts.orderID))::text[], \(o.map(\.facts.warehouseID))::text[],
                            \(o.map(\.supplierID))::text[], \(o.map(\.facts.carrierService))::text[], \(o.map(\.shippingMethod))::text[],
                            \(o.map(\.shipBy))::timestamptz[], \(orders.map(\.status.rawValue))::text[], \(o.map(\.data.storableJSON))::text[],
                            \(orders.map(\.correlationID))::text[]) AS u(i, oi, w, s, c, m, sb, st, d, co)
                ORDER BY i) AS fresh
            ON CONFLICT (fulfillment_order_id) DO NOTHING
            RETURNING fulfillment_order_id
            """).map { try $0.decode("fulfillment_order_id", as: String.self) })
        return inserted
    }

    /// Locks and reads fulfillment orders (in id order, so that copies queue rather than deadlock).
    func lock(_ ids: Set<String>) throws -> [String: StoredOrder] {
        guard !ids.isEmpty else { return [:] }
        var result: [String: StoredOrder] = [:]
        for row in try database.query("""
            SELECT fulfillment_order_id, status, wave_id, correlation_id, data::text AS data, picked::text AS picked FROM fulfillment.fulfillment_orders
            WHERE fulfillment_order_id = ANY(\(ids.sorted())::text[]) ORDER BY fulfillment_order_id FOR UPDATE
            """) {
            let id: String = try row.decode("fulfillment_order_id")
            let statusText: String = try row.decode("status")
            guard let status = FulfillmentStatus(rawValue: statusText) else {
                throw PostgresError(kind: .server, serverMessage: "fulfillment order \(id) has the unknown stored status \(statusText)")
            }
            let data = try JSONParser.parse(try row.decode("data", as: String.self))
            let order: NewFulfillmentOrder
            do { order = try NewFulfillmentOrder.parse(data) } catch {
                throw PostgresError(kind: .server, serverMessage: "stored fulfillment order \(id) cannot be read: \(error)")
            }
            var picked: [String: Int64] = [:]
            if let text: String = try row.decodeIfPresent("picked"), let map = try JSONParser.parse(text).objectValue {
                for (line, value) in map { if let count = value.int64Value { picked[line] = count } }
            }
            result[id] = StoredOrder(order: order, status: status, waveID: try row.decodeIfPresent("wave_id"),
                                     correlationID: try row.decode("correlation_id"), picked: picked)
        }
        return result
    }

    /// New statuses (with the problem, and the delivery note of a packed order), one row version per order.
    /// New statuses (with the problem, the picked quantities and the delivery note of a packed order), one row version per order.
    func setStatus(_ changes: [(id: String, status: FulfillmentStatus, problem: String?)], notes: [String: JSONValue] = [:],
                   picked: [String: [String: Int64]] = [:]) throws {
        guard !changes.isEmpty else { return }
        let pickedJSON = changes.map { change in
            picked[change.id].map { JSONValue.object($0.mapValues { .integer($0) }).serializedString }
        }
        try database.query("""
            UPDATE fulfillment.fulfillment_orders f SET status = u.s, problem = u.p, delivery_note = coalesce(u.n::json, f.delivery_note),
                picked = coalesce(u.k::json, f.picked), updated_at = now()
            FROM unnest(\(changes.map(\.id))::text[], \(changes.map(\.status.rawValue))::text[], \(changes.map(\.problem))::text[],
                        \(changes.map { notes[$0.id]?.storableJSON })::text[], \(pickedJSON)::text[]) AS u(i, s, p, n, k)
            WHERE f.fulfillment_order_id = u.i
            """)
    }

    func insertWaves(_ waves: [(id: String, warehouseID: String, wave: WavePlanning.Wave, routed: WarehouseLayout.RoutedList, stops: JSONValue)]) throws {
        guard !waves.isEmpty else { return }
        try database.query("""
            INSERT INTO fulfillment.waves (wave_id, warehouse_id, zone, ship_by, single_order, method, tour_length_dm, bin_order_dm, lengths, stops)
            SELECT i, w, z, sb, so, m, l, b, ls::jsonb, st::jsonb
            FROM unnest(\(waves.map(\.id))::text[], \(waves.map(\.warehouseID))::text[], \(waves.map(\.wave.zone))::text[],
                        \(waves.map(\.wave.shipBy))::timestamptz[], \(waves.map(\.wave.single))::boolean[], \(waves.map(\.routed.chosen.method.rawValue))::text[],
                        \(waves.map(\.routed.chosen.length))::int[], \(waves.map(\.routed.binNameOrderLength))::int[],
                        \(waves.map { FulfillmentEvents.lengths($0.routed).serializedString })::text[], \(waves.map(\.stops.serializedString))::text[])
                 AS u(i, w, z, sb, so, m, l, b, ls, st)
            """)
        let members = waves.flatMap { wave in wave.wave.fulfillmentOrderIDs.map { ($0, wave.id) } }
        try database.query("""
            UPDATE fulfillment.fulfillment_orders f SET wave_id = u.w, status = 'waved', updated_at = now()
            FROM unnest(\(members.map(\.0))::text[], \(members.map(\.1))::text[]) AS u(i, w) WHERE f.fulfillment_order_id = u.i
            """)
    }

    /// Serial references for `count` new SSCCs, from a sequence that never hands one out twice.
    func nextSerials(_ count: Int) throws -> [Int64] {
        guard count > 0 else { return [] }
        return try database.query("SELECT nextval('fulfillment.sscc_serial') AS n FROM generate_series(1, \(count))")
            .map { try $0.decode("n", as: Int64.self) }
    }

    func insertParcels(_ parcels: [ParcelRow]) throws {
        guard !parcels.isEmpty else { return }
        let p = parcels
        try database.query("""
            INSERT INTO fulfillment.parcels (sscc, parcel_id, fulfillment_order_id, parcel_number, parcel_count, carton, gross_grams,
                                             dangerous_goods_class, contents, customs, printer_id)
            SELECT s, pi, f, n, c, ca, g, dg, co::json, cu::json, pr
            FROM unnest(\(p.map(\.sscc))::text[], \(p.map(\.parcelID))::text[], \(p.map(\.fulfillmentOrderID))::text[], \(p.map(\.number))::int[],
                        \(p.map(\.count))::int[], \(p.map(\.carton))::text[], \(p.map(\.grossGrams))::int[], \(p.map(\.dangerousGoodsClass))::text[],
                        \(p.map(\.contents.storableJSON))::text[], \(p.map { $0.customs?.storableJSON })::text[],
                        \(p.map(\.printerID))::text[]) AS u(s, pi, f, n, c, ca, g, dg, co, cu, pr)
            """)
    }

    static let parcelColumns = """
        sscc, parcel_id, fulfillment_order_id, parcel_number, parcel_count, carton, gross_grams, dangerous_goods_class, contents::text AS contents,
        customs::text AS customs, printer_id, carrier, tracking_number, tracking_url, shipped_at IS NOT NULL AS shipped, delivered_at IS NOT NULL AS delivered
        """

    static func parcel(_ row: PostgresRow) throws -> ParcelRow {
        ParcelRow(sscc: try row.decode("sscc"), parcelID: try row.decode("parcel_id"), fulfillmentOrderID: try row.decode("fulfillment_order_id"),
                  number: try row.decode("parcel_number"), count: try row.decode("parcel_count"), carton: try row.decodeIfPresent("carton"),
                  grossGrams: try row.decode("gross_grams"), dangerousGoodsClass: try row.decodeIfPresent("dangerous_goods_class"),
                  contents: (try? JSONParser.parse(try row.decode("contents", as: String.self))) ?? .array([]),
                  customs: try row.decodeIfPresent("customs", as: String.self).flatMap { try? JSONParser.parse($0) },
                  zpl: "", printerID: try row.decodeIfPresent("printer_id"), carrier: try row.decodeIfPresent("carrier"),
                  trackingNumber: try row.decodeIfPresent("tracking_number"), trackingURL: try row.decodeIfPresent("tracking_url"),
                  shipped: try row.decode("shipped"), delivered: try row.decode("delivered"))
    }

    /// The parcels these references name, locked (a reference that names none is simply absent).
    func lockParcels(_ references: [ParcelReference]) throws -> [ParcelReference: ParcelRow] {
        guard !references.isEmpty else { return [:] }
        var ssccs: [String] = [], ids: [String] = [], tracking: [String] = []
        for reference in references {
            switch reference {
            case .sscc(let s): ssccs.append(s)
            case .parcelID(let p): ids.append(p)
            case .trackingNumber(let t): tracking.append(t)
            }
        }
        var result: [ParcelReference: ParcelRow] = [:]
        for row in try database.query("""
            SELECT \(unescaped: Self.parcelColumns) FROM fulfillment.parcels
            WHERE sscc = ANY(\(ssccs)::text[]) OR parcel_id = ANY(\(ids)::text[]) OR tracking_number = ANY(\(tracking)::text[])
            ORDER BY sscc FOR UPDATE
            """) {
            let parcel = try Self.parcel(row)
            result[.sscc(parcel.sscc)] = parcel
            result[.parcelID(parcel.parcelID)] = parcel
            if let t = parcel.trackingNumber { result[.trackingNumber(t)] = parcel }
        }
        return result
    }

    func parcels(of fulfillmentOrderIDs: Set<String>) throws -> [String: [ParcelRow]] {
        guard !fulfillmentOrderIDs.isEmpty else { return [:] }
        var result: [String: [ParcelRow]] = [:]
        for row in try database.query("""
            SELECT \(unescaped: Self.parcelColumns) FROM fulfillment.parcels
            WHERE fulfillment_order_id = ANY(\(fulfillmentOrderIDs.sorted())::text[]) ORDER BY fulfillment_order_id, parcel_number
            """) {
            let parcel = try Self.parcel(row)
            result[parcel.fulfillmentOrderID, default: []].append(parcel)
        }
        return result
    }

    func setTracking(_ updates: [(sscc: String, carrier: String, tracking: String, url: String?, shippedAt: String?)]) throws {
        guard !updates.isEmpty else { return }
        try database.query("""
            UPDATE fulfillment.parcels p SET carrier = u.c, tracking_number = u.t, tracking_url = u.url, shipped_at = coalesce(u.at::timestamptz, now())
            FROM unnest(\(updates.map(\.sscc))::text[], \(updates.map(\.carrier))::text[], \(updates.map(\.tracking))::text[],
                        \(updates.map(\.url))::text[], \(updates.map(\.shippedAt))::text[]) AS u(s, c, t, url, at)
            WHERE p.sscc = u.s
            """)
    }

    func setDelivered(_ updates: [(sscc: String, deliveredAt: String?)]) throws {
        guard !updates.isEmpty else { return }
        try database.query("""
            UPDATE fulfillment.parcels p SET delivered_at = coalesce(u.at::timestamptz, now())
            FROM unnest(\(updates.map(\.sscc))::text[], \(updates.map(\.deliveredAt))::text[]) AS u(s, at) WHERE p.sscc = u.s
            """)
    }

    /// Fulfillment's copy of the person's data: the fulfillment order as received (ship-to, gift, personalization),
    /// what was picked and the delivery note, the parcels' contents and customs data, audit details.
    func erasePersonalData(_ erasure: ErasureOrder) throws -> Int {
        var eraser = try PersonalDataStore(database: database)
        let orders = erasure.orderIDs
        for column in ["data", "picked", "delivery_note"] {
            try eraser.scrubJSON("fulfillment.fulfillment_orders", column, key: "t.order_id", in: orders)
        }
        let orderOfParcel = "(SELECT f.order_id FROM fulfillment.fulfillment_orders f WHERE f.fulfillment_order_id = t.fulfillment_order_id)"
        try eraser.scrubJSON("fulfillment.parcels", "contents", key: orderOfParcel, in: orders)
        try eraser.scrubJSON("fulfillment.parcels", "customs", key: orderOfParcel, in: orders)
        let foIDs: [String] = try database.query("""
            SELECT fulfillment_order_id FROM fulfillment.fulfillment_orders WHERE order_id = ANY(\(orders)::text[])
            """).map { try $0.decode("fulfillment_order_id") }
        try eraser.eraseRuntimeCopies(schema: "fulfillment", keys: erasure.keys + foIDs)
        return eraser.rows
    }
}
