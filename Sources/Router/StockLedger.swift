import Foundation
import RouterCore
import Shared

/// The Router's stock ledger: on hand, hard reservations, inbound and soft
/// claims. Every statement is set-based; a reservation is only added by a
/// conditional update that keeps `on_hand − reserved ≥ 0`.
struct StockLedger {
    let database: PostgresConnection

    /// A hard reservation to write: stock bound in a warehouse for an order line.
    struct Hard {
        let orderID: String
        let lineID: String
        let sku: String
        let warehouseID: String
        let quantity: Int64
        let fulfillmentOrderID: String
    }

    /// Locks the stock rows of these SKUs in one global order (SKU, warehouse), before
    /// anything else in the transaction touches them: two Router copies then queue
    /// for shared SKUs instead of deadlocking.
    func lockRows(skus: Set<String>) throws {
        guard !skus.isEmpty else { return }
        try database.query("""
            SELECT 1 FROM router.stock WHERE sku = ANY(\(skus.sorted())::text[]) ORDER BY sku, warehouse_id FOR UPDATE
            """)
    }

    /// Applies WMS reports; per SKU and warehouse only a higher sequence counts.
    /// Returns the SKUs whose on-hand quantity went up (back-orders may now ship) and all changed SKUs.
    func applyStock(_ reports: [StockReport]) throws -> (increased: Set<String>, changed: Set<String>) {
        var newest: [String: (sku: String, warehouse: String, onHand: Int64, sequence: Int64)] = [:]
        for report in reports {
            for item in report.items {
                let key = "\(item.sku)\u{1F}\(report.warehouseID)"
                if let kept = newest[key], kept.sequence >= report.sequence { continue }
                newest[key] = (item.sku, report.warehouseID, item.onHand, report.sequence)
            }
        }
        guard !newest.isEmpty else { return ([], []) }
        let rows = newest.values.sorted { ($0.sku, $0.warehouse) < ($1.sku, $1.warehouse) }
        // xmax = 0 tells an insert from an update; old_on_hand is read before the update in the same statement.
        let changed = try database.query("""
            WITH incoming AS (
                SELECT * FROM unnest(\(rows.map(\.sku))::text[], \(rows.map(\.warehouse))::text[], \(rows.map(\.onHand))::bigint[],
                                     \(rows.map(\.sequence))::bigint[]) AS u(sku, warehouse_id, on_hand, wms_sequence)
            ), previous AS (
                SELECT s.sku, s.warehouse_id, s.on_hand FROM router.stock s JOIN incoming i USING (sku, warehouse_id)
            )
            INSERT INTO router.stock AS s (sku, warehouse_id, on_hand, wms_sequence)
            SELECT sku, warehouse_id, on_hand, wms_sequence FROM incoming ORDER BY sku, warehouse_id
            ON CONFLICT (sku, warehouse_id) DO UPDATE SET on_hand = EXCLUDED.on_hand, wms_sequence = EXCLUDED.wms_sequence, updated_at = now()
            WHERE s.wms_sequence < EXCLUDED.wms_sequence
            RETURNING s.sku, s.on_hand > coalesce((SELECT p.on_hand FROM previous p WHERE p.sku = s.sku AND p.warehouse_id = s.warehouse_id), 0) AS increased
            """)
        var increased = Set<String>(), all = Set<String>()
        for row in changed {
            let sku: String = try row.decode("sku")
            all.insert(sku)
            if try row.decode("increased", as: Bool.self) { increased.insert(sku) }
        }
        return (increased, all)
    }

    /// Upserts expected inbound; per delivery and SKU the newest event time counts. Returns the SKUs touched.
    /// Returned units add to on-hand in the receiving warehouse. The WMS's next absolute count (a higher sequence)
    /// replaces the figure, returned units included, so they are never counted twice; a SKU the warehouse never
    /// reported starts at sequence -1, below any real count.
    func applyReturned(_ reports: [ReturnedStock]) throws -> Set<String> {
        var added: [String: (sku: String, warehouse: String, quantity: Int64)] = [:]
        for report in reports {
            for item in report.items where item.quantity > 0 {
                let key = "\(item.sku)\u{1F}\(report.warehouseID)"
                let before = added[key]?.quantity ?? 0
                added[key] = (item.sku, report.warehouseID, before.addingReportingOverflow(item.quantity).overflow ? .max : before + item.quantity)
            }
        }
        guard !added.isEmpty else { return [] }
        let rows = added.values.sorted { ($0.sku, $0.warehouse) < ($1.sku, $1.warehouse) }
        try database.query("""
            INSERT INTO router.stock AS s (sku, warehouse_id, on_hand, wms_sequence)
            SELECT sku, warehouse_id, quantity, -1 FROM unnest(\(rows.map(\.sku))::text[], \(rows.map(\.warehouse))::text[], \(rows.map(\.quantity))::bigint[])
                AS u(sku, warehouse_id, quantity)
            ON CONFLICT (sku, warehouse_id) DO UPDATE SET on_hand = least(s.on_hand + EXCLUDED.on_hand, 100000000000), updated_at = now()
            """)
        return Set(rows.map(\.sku))
    }

    func applyInbound(_ reports: [InboundReport]) throws -> Set<String> {
        let rows = reports.flatMap { report in
            report.items.map { (inbound: report.inboundID, sku: $0.sku, warehouse: report.warehouseID, quantity: $0.quantity,
                                eta: report.eta, changedAt: report.changedAt) }
        }.newestPerKey({ "\($0.inbound)\u{1F}\($0.sku)" }, time: { EventTime.parse($0.changedAt) })
        guard !rows.isEmpty else { return [] }
        return Set(try database.query("""
            INSERT INTO router.inbound AS i (inbound_id, sku, warehouse_id, quantity, eta, changed_at)
            SELECT * FROM (SELECT ib, s, w, q, e::timestamptz, c::timestamptz
                           FROM unnest(\(rows.map(\.inbound))::text[], \(rows.map(\.sku))::text[], \(rows.map(\.warehouse))::text[],
                                       \(rows.map(\.quantity))::bigint[], \(rows.map(\.eta))::text[], \(rows.map(\.changedAt))::text[])
                                AS u(ib, s, w, q, e, c) ORDER BY ib, s) sorted
            ON CONFLICT (inbound_id, sku) DO UPDATE SET quantity = EXCLUDED.quantity, eta = EXCLUDED.eta,
                warehouse_id = EXCLUDED.warehouse_id, changed_at = EXCLUDED.changed_at
            WHERE i.changed_at <= EXCLUDED.changed_at
            RETURNING i.sku
            """).map { try $0.decode("sku", as: String.self) })
    }

    /// A fulfillment order taken back because the WMS counts less than is reserved.
    struct Withdrawal {
        let fulfillmentOrderID: String
        let orderID: String
        let lines: [(lineID: String, sku: String, quantity: Int64)]
        let warehouseID: String
    }

    /// Where the WMS now counts less than is reserved, takes back the youngest
    /// fulfillment orders not yet released to the warehouse (pending, or held
    /// orders' reservations) until available is ≥ 0 again. Orders another copy
    /// is working on are left for the next report. Returns what was withdrawn.
    func withdrawForShortfall(skus: Set<String>) throws -> [Withdrawal] {
        guard !skus.isEmpty else { return [] }
        let candidates = try database.query("""
            WITH short AS (SELECT sku, warehouse_id, reserved - on_hand AS missing FROM router.stock
                           WHERE sku = ANY(\(skus.sorted())::text[]) AND reserved > on_hand),
                 movable AS (
                     SELECT r.fulfillment_order_id, r.order_id, s.missing,
                            sum(r.quantity) OVER (PARTITION BY r.sku, r.warehouse_id ORDER BY r.created_at DESC, r.id DESC) - r.quantity AS before
                     FROM router.reservations r JOIN short s USING (sku, warehouse_id)
                     JOIN router.fulfillment_orders f ON f.fulfillment_order_id = r.fulfillment_order_id
                     WHERE r.kind = 'hard' AND f.status IN ('pending', 'reserved'))
            SELECT DISTINCT fulfillment_order_id, order_id FROM movable WHERE before < missing
            """)
        guard candidates.count > 0 else { return [] }
        let orderIDs = Set(try candidates.map { try $0.decode("order_id", as: String.self) })
        let locked = Set(try database.query("""
            SELECT order_id FROM router.orders WHERE order_id = ANY(\(orderIDs.sorted())::text[]) ORDER BY order_id FOR UPDATE SKIP LOCKED
            """).map { try $0.decode("order_id", as: String.self) })
        let chosen = try candidates.compactMap { row -> String? in
            locked.contains(try row.decode("order_id")) ? try row.decode("fulfillment_order_id") : nil
        }
        guard !chosen.isEmpty else { return [] }
        let freed = try database.query("""
            DELETE FROM router.reservations WHERE fulfillment_order_id = ANY(\(chosen)::text[]) AND kind = 'hard'
            RETURNING fulfillment_order_id, order_id, line_id, sku, warehouse_id, kind, inbound_id, quantity
            """)
        var byFulfillmentOrder: [String: Withdrawal] = [:]
        var lineChanges: [(order: String, line: String, quantity: Int64)] = []
        for row in freed {
            let id: String = try row.decode("fulfillment_order_id")
            let line = (lineID: try row.decode("line_id", as: String.self), sku: try row.decode("sku", as: String.self),
                        quantity: try row.decode("quantity", as: Int64.self))
            let previous = byFulfillmentOrder[id]
            byFulfillmentOrder[id] = Withdrawal(fulfillmentOrderID: id, orderID: try row.decode("order_id"), lines: (previous?.lines ?? []) + [line],
                                                warehouseID: try row.decode("warehouse_id"))
            lineChanges.append((try row.decode("order_id"), line.lineID, line.quantity))
        }
        _ = try release(freed)
        try database.query("UPDATE router.fulfillment_orders SET status = 'cancelled' WHERE fulfillment_order_id = ANY(\(chosen)::text[])")
        try database.query("""
            UPDATE router.order_lines l SET routed = l.routed - c.quantity, waiting_for = 'stock'
            FROM (SELECT order_id, line_id, sum(quantity) AS quantity
                  FROM unnest(\(lineChanges.map(\.order))::text[], \(lineChanges.map(\.line))::text[], \(lineChanges.map(\.quantity))::bigint[])
                       AS u(order_id, line_id, quantity) GROUP BY 1, 2) c
            WHERE l.order_id = c.order_id AND l.line_id = c.line_id
            """)
        return byFulfillmentOrder.values.sorted { $0.fulfillmentOrderID < $1.fulfillmentOrderID }
    }

    /// Locks the stock and inbound rows of these SKUs (in one order, so that Router
    /// copies queue instead of deadlocking) and returns what the planner may use.
    func lockPosition(skus: [String]) throws -> StockPosition {
        guard !skus.isEmpty else { return StockPosition() }
        var available: [String: [String: Int64]] = [:]
        for row in try database.query("""
            SELECT sku, warehouse_id, on_hand - reserved AS available FROM router.stock
            WHERE sku = ANY(\(skus)::text[]) ORDER BY sku, warehouse_id FOR UPDATE
            """) {
            // A WMS count below the reservations (goods picked but not yet confirmed) is no stock, not negative stock.
            available[try row.decode("sku"), default: [:]][try row.decode("warehouse_id")] = max(0, try row.decode("available", as: Int64.self))
        }
        var inbound: [String: [InboundLot]] = [:]
        for row in try database.query("""
            SELECT inbound_id, sku, warehouse_id, quantity - claimed AS unclaimed, eta FROM router.inbound
            WHERE sku = ANY(\(skus)::text[]) ORDER BY inbound_id, sku FOR UPDATE
            """) {
            let unclaimed: Int64 = try row.decode("unclaimed")
            guard unclaimed > 0 else { continue }
            inbound[try row.decode("sku"), default: []].append(InboundLot(
                inboundID: try row.decode("inbound_id"), warehouseID: try row.decode("warehouse_id"), eta: try row.decode("eta"), unclaimed: unclaimed))
        }
        return StockPosition(available: available, inbound: inbound)
    }

    /// Binds stock. Fails (and the batch is retried) if any warehouse would go below zero.
    func reserve(_ reservations: [Hard]) throws {
        guard !reservations.isEmpty else { return }
        var totals: [String: (sku: String, warehouse: String, quantity: Int64)] = [:]
        for r in reservations { totals["\(r.sku)\u{1F}\(r.warehouseID)", default: (r.sku, r.warehouseID, 0)].quantity += r.quantity }
        let rows = totals.values.sorted { ($0.sku, $0.warehouse) < ($1.sku, $1.warehouse) }
        let updated = try database.query("""
            UPDATE router.stock s SET reserved = s.reserved + d.quantity, updated_at = now()
            FROM unnest(\(rows.map(\.sku))::text[], \(rows.map(\.warehouse))::text[], \(rows.map(\.quantity))::bigint[]) AS d(sku, warehouse_id, quantity)
            WHERE s.sku = d.sku AND s.warehouse_id = d.warehouse_id AND s.on_hand - s.reserved >= d.quantity
            RETURNING s.sku
            """).count
        guard updated == rows.count else {
            // Cannot happen while the rows are locked; if it does, treat it like a serialization failure: roll back, retry.
            throw PostgresError(kind: .server, sqlState: "40001",
                                serverMessage: "reservation of \(rows.count) stock rows found only \(updated) with enough available stock")
        }
        try database.query("""
            INSERT INTO router.reservations (order_id, line_id, sku, warehouse_id, kind, quantity, fulfillment_order_id)
            SELECT o, l, s, w, 'hard', q, f
            FROM unnest(\(reservations.map(\.orderID))::text[], \(reservations.map(\.lineID))::text[], \(reservations.map(\.sku))::text[],
                        \(reservations.map(\.warehouseID))::text[], \(reservations.map(\.quantity))::bigint[],
                        \(reservations.map(\.fulfillmentOrderID))::text[]) AS u(o, l, s, w, q, f)
            """)
    }

    /// Soft reservations: back-orders claim inbound stock.
    func claim(_ claims: [(orderID: String, claim: RoutingPlan.SoftClaim)]) throws {
        guard !claims.isEmpty else { return }
        var totals: [String: (inbound: String, sku: String, quantity: Int64)] = [:]
        for entry in claims {
            totals["\(entry.claim.inboundID)\u{1F}\(entry.claim.sku)", default: (entry.claim.inboundID, entry.claim.sku, 0)].quantity += entry.claim.quantity
        }
        let rows = totals.values.sorted { ($0.inbound, $0.sku) < ($1.inbound, $1.sku) }
        try database.query("""
            UPDATE router.inbound i SET claimed = i.claimed + d.quantity
            FROM unnest(\(rows.map(\.inbound))::text[], \(rows.map(\.sku))::text[], \(rows.map(\.quantity))::bigint[]) AS d(inbound_id, sku, quantity)
            WHERE i.inbound_id = d.inbound_id AND i.sku = d.sku
            """)
        let c = claims.map(\.claim)
        try database.query("""
            INSERT INTO router.reservations (order_id, line_id, sku, warehouse_id, kind, inbound_id, quantity)
            SELECT o, l, s, w, 'soft', i, q
            FROM unnest(\(claims.map(\.orderID))::text[], \(c.map(\.lineID))::text[], \(c.map(\.sku))::text[], \(c.map(\.warehouseID))::text[],
                        \(c.map(\.inboundID))::text[], \(c.map(\.quantity))::bigint[]) AS u(o, l, s, w, i, q)
            """)
    }

    /// Frees reservations of these orders: `kinds` says which (soft only when a back-order is routed again).
    /// `keepReleased`: reservations of fulfillment orders already released to a warehouse stay.
    /// Returns the SKUs whose availability changed.
    @discardableResult
    func free(orders orderIDs: [String], kinds: [String], keepReleased: Bool = true) throws -> Set<String> {
        guard !orderIDs.isEmpty else { return [] }
        let freed = try database.query("""
            DELETE FROM router.reservations r
            WHERE r.order_id = ANY(\(orderIDs)::text[]) AND r.kind = ANY(\(kinds)::text[])
              AND (NOT \(keepReleased) OR r.fulfillment_order_id IS NULL OR NOT EXISTS (
                   SELECT 1 FROM router.fulfillment_orders f
                   WHERE f.fulfillment_order_id = r.fulfillment_order_id AND f.status IN ('released', 'confirmed')))
            RETURNING r.sku, r.warehouse_id, r.kind, r.inbound_id, r.quantity
            """)
        return try release(freed)
    }

    /// Frees the hard reservations of confirmed (shipped) fulfillment orders: the goods left the warehouse.
    @discardableResult
    /// Units a picker did not find in a released fulfillment order: the WMS's word is taken — its stock is written
    /// down by them, their reservation freed, and the order lines opened again for routing.
    func writeOffShortPicks(_ picks: [ShortPick]) throws -> Set<String> {
        var touched = Set<String>()
        for pick in picks {
            for line in pick.lines {
                // One hard reservation per fulfillment order line; freed in full or in part.
                var freed: Int64 = 0
                for row in try database.query("""
                    DELETE FROM router.reservations WHERE fulfillment_order_id = \(pick.fulfillmentOrderID) AND line_id = \(line.lineID)
                        AND kind = 'hard' AND quantity <= \(line.missing) RETURNING quantity
                    """) { freed += try row.decode("quantity", as: Int64.self) }
                if freed == 0 {
                    for row in try database.query("""
                        UPDATE router.reservations SET quantity = quantity - \(line.missing)
                        WHERE id = (SELECT id FROM router.reservations WHERE fulfillment_order_id = \(pick.fulfillmentOrderID) AND line_id = \(line.lineID)
                                    AND kind = 'hard' AND quantity > \(line.missing) ORDER BY id LIMIT 1)
                        RETURNING \(line.missing)::bigint AS freed
                        """) { freed += try row.decode("freed", as: Int64.self) }
                }
                // Nothing left to free: the fulfillment order was confirmed and its reservation consumed; the WMS's next
                // count shows the missing units, so only the order line opens again.
                if freed > 0 {
                    try database.query("""
                        UPDATE router.stock SET reserved = greatest(0, reserved - \(freed)), on_hand = greatest(0, on_hand - \(line.missing)), updated_at = now()
                        WHERE sku = \(line.sku) AND warehouse_id = \(pick.warehouseID)
                        """)
                }
                try database.query("""
                    UPDATE router.order_lines SET routed = greatest(0, routed - \(line.missing)), waiting_for = 'stock'
                    WHERE order_id = \(pick.orderID) AND line_id = \(line.lineID)
                    """)
                touched.insert(line.sku)
            }
        }
        return touched
    }

    func consume(fulfillmentOrders ids: [String]) throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let freed = try database.query("""
            DELETE FROM router.reservations WHERE fulfillment_order_id = ANY(\(ids)::text[]) AND kind = 'hard'
            RETURNING sku, warehouse_id, kind, inbound_id, quantity
            """)
        return try release(freed)
    }

    private func release(_ freed: PostgresRows) throws -> Set<String> {
        var hard: [String: (sku: String, warehouse: String, quantity: Int64)] = [:]
        var soft: [String: (inbound: String, sku: String, quantity: Int64)] = [:]
        for row in freed {
            let sku: String = try row.decode("sku")
            let quantity: Int64 = try row.decode("quantity")
            if try row.decode("kind", as: String.self) == "hard" {
                let warehouse: String = try row.decode("warehouse_id")
                hard["\(sku)\u{1F}\(warehouse)", default: (sku, warehouse, 0)].quantity += quantity
            } else if let inbound = try row.decodeIfPresent("inbound_id", as: String.self) {
                soft["\(inbound)\u{1F}\(sku)", default: (inbound, sku, 0)].quantity += quantity
            }
        }
        if !hard.isEmpty {
            let rows = hard.values.sorted { ($0.sku, $0.warehouse) < ($1.sku, $1.warehouse) }
            try database.query("""
                UPDATE router.stock s SET reserved = greatest(0, s.reserved - d.quantity), updated_at = now()
                FROM unnest(\(rows.map(\.sku))::text[], \(rows.map(\.warehouse))::text[], \(rows.map(\.quantity))::bigint[]) AS d(sku, warehouse_id, quantity)
                WHERE s.sku = d.sku AND s.warehouse_id = d.warehouse_id
                """)
        }
        if !soft.isEmpty {
            let rows = soft.values.sorted { ($0.inbound, $0.sku) < ($1.inbound, $1.sku) }
            try database.query("""
                UPDATE router.inbound i SET claimed = greatest(0, i.claimed - d.quantity)
                FROM unnest(\(rows.map(\.inbound))::text[], \(rows.map(\.sku))::text[], \(rows.map(\.quantity))::bigint[]) AS d(inbound_id, sku, quantity)
                WHERE i.inbound_id = d.inbound_id AND i.sku = d.sku
                """)
        }
        return Set(hard.values.map(\.sku))
    }

    /// Availability per SKU: network-wide, per warehouse, and the next inbound ETA with unclaimed stock.
    func availability(skus: [String]) throws -> [JSONValue] {
        guard !skus.isEmpty else { return [] }
        return try database.query("""
            SELECT k.sku,
                   coalesce((SELECT sum(greatest(0, s.on_hand - s.reserved)) FROM router.stock s WHERE s.sku = k.sku), 0)::bigint AS available,
                   coalesce((SELECT json_agg(json_build_object('warehouseId', s.warehouse_id, 'available', greatest(0, s.on_hand - s.reserved))
                                             ORDER BY s.warehouse_id)::text
                             FROM router.stock s WHERE s.sku = k.sku), '[]') AS warehouses,
                   (SELECT to_json(min(i.eta))#>>'{}' FROM router.inbound i WHERE i.sku = k.sku AND i.quantity > i.claimed AND i.eta > now()) AS next_eta
            FROM unnest(\(skus.sorted())::text[]) AS k(sku)
            """).map { row in
            var item: [String: JSONValue] = ["sku": .string(try row.decode("sku")), "available": .integer(try row.decode("available")),
                                             "warehouses": (try? JSONParser.parse(try row.decode("warehouses", as: String.self))) ?? .array([])]
            if let eta = try row.decodeIfPresent("next_eta", as: String.self) { item["nextEta"] = .string(EventTime.format(EventTime.parse(eta))) }
            return .object(item)
        }
    }
}
