import Foundation
import RouterCore
import Shared

/// The Router's orders, lines, fulfillment orders, appointments and catalog
/// replica; set-based reads and writes.
struct RouterOrderStore {
    let database: PostgresConnection

    struct OrderRow {
        let orderID: String
        var status: RouterOrderStatus
        let holdReasons: [String]
        let country: String
        let method: String
        let shipComplete: Bool
        let correlationID: String
        let data: JSONValue
    }

    struct OpenLine {
        let lineID: String
        let sku: String
        let open: Int64
    }

    struct FulfillmentOrderRow {
        let id: String
        let orderID: String
        let warehouseID: String?
        let supplierID: String?
        let carrierService: String?
        let slaDue: Date?
        let status: FulfillmentOrderStatus
        let lines: JSONValue
    }

    func upsertProducts(_ products: [(sku: String, traits: ProductTraits, changedAt: String)]) throws {
        guard !products.isEmpty else { return }
        let rows = products.newestPerKey({ $0.sku }, time: { EventTime.parse($0.changedAt) })
        let traits = rows.map(\.traits)
        try database.query("""
            INSERT INTO router.products AS p (sku, dangerous_goods, minimum_age, bulky, preorder_release_date, drop_ship_supplier, service_skill, changed_at)
            SELECT s, dg, ma, b, pr, ds, sk, c::timestamptz
            FROM unnest(\(rows.map(\.sku))::text[], \(traits.map(\.dangerousGoods))::boolean[], \(traits.map(\.minimumAge))::int[],
                        \(traits.map(\.bulky))::boolean[], \(traits.map(\.preorderReleaseDate))::timestamptz[],
                        \(traits.map(\.dropShipSupplier))::text[], \(traits.map(\.serviceSkill))::text[], \(rows.map(\.changedAt))::text[])
                 AS u(s, dg, ma, b, pr, ds, sk, c)
            ON CONFLICT (sku) DO UPDATE SET dangerous_goods = EXCLUDED.dangerous_goods, minimum_age = EXCLUDED.minimum_age,
                bulky = EXCLUDED.bulky, preorder_release_date = EXCLUDED.preorder_release_date,
                drop_ship_supplier = EXCLUDED.drop_ship_supplier, service_skill = EXCLUDED.service_skill, changed_at = EXCLUDED.changed_at
            WHERE p.changed_at <= EXCLUDED.changed_at
            """)
    }

    func traits(_ skus: [String]) throws -> [String: ProductTraits] {
        guard !skus.isEmpty else { return [:] }
        var traits: [String: ProductTraits] = [:]
        for row in try database.query("""
            SELECT sku, dangerous_goods, minimum_age, bulky, preorder_release_date, drop_ship_supplier, service_skill
            FROM router.products WHERE sku = ANY(\(skus)::text[])
            """) {
            traits[try row.decode("sku")] = ProductTraits(
                dangerousGoods: try row.decode("dangerous_goods"), minimumAge: try row.decode("minimum_age"), bulky: try row.decode("bulky"),
                preorderReleaseDate: try row.decodeIfPresent("preorder_release_date"), dropShipSupplier: try row.decodeIfPresent("drop_ship_supplier"),
                serviceSkill: try row.decodeIfPresent("service_skill"))
        }
        return traits
    }

    /// Which of these orders the Router already has.
    func known(_ orderIDs: [String]) throws -> Set<String> {
        guard !orderIDs.isEmpty else { return [] }
        return Set(try database.query("SELECT order_id FROM router.orders WHERE order_id = ANY(\(orderIDs)::text[])")
            .map { try $0.decode("order_id", as: String.self) })
    }

    /// Inserts new orders with their state and lines (routed quantity and what the rest waits for, per line id).
    /// Another copy inserting the same order first is a conflict to retry, never a silent double.
    func insert(_ orders: [(announcement: OrderAnnouncement, status: RouterOrderStatus, correlationID: String)],
                lineStates: [String: [String: (routed: Int64, waitingFor: String?)]] = [:]) throws {
        guard !orders.isEmpty else { return }
        let a = orders.map(\.announcement)
        let inserted = Set(try database.query("""
            INSERT INTO router.orders (order_id, status, hold_reasons, shipping_country, shipping_method, ship_complete, correlation_id, data)
            SELECT o, st, string_to_array(h, ','), c, m, sc, co, d::json
            FROM unnest(\(a.map(\.orderID))::text[], \(orders.map(\.status.rawValue))::text[], \(a.map { $0.holdReasons.joined(separator: ",") })::text[],
                        \(a.map(\.shippingCountry))::text[], \(a.map(\.shippingMethod))::text[], \(a.map(\.shipComplete))::boolean[],
                        \(orders.map(\.correlationID))::text[], \(a.map(\.data.serializedString))::text[]) AS u(o, st, h, c, m, sc, co, d)
            ORDER BY o
            ON CONFLICT (order_id) DO NOTHING
            RETURNING order_id
            """).map { try $0.decode("order_id", as: String.self) })
        guard inserted.count == orders.count else {
            throw PostgresError(kind: .server, sqlState: "40001", serverMessage: "\(orders.count - inserted.count) order(s) were inserted concurrently")
        }
        let lines = a.flatMap { order in order.lines.map { (order.orderID, $0, lineStates[order.orderID]?[$0.lineID]) } }
        if !lines.isEmpty {
            try database.query("""
                INSERT INTO router.order_lines (order_id, line_id, sku, quantity, routed, waiting_for)
                SELECT * FROM unnest(\(lines.map(\.0))::text[], \(lines.map(\.1.lineID))::text[], \(lines.map(\.1.sku))::text[],
                                     \(lines.map(\.1.quantity))::bigint[], \(lines.map { $0.2?.routed ?? 0 })::bigint[],
                                     \(lines.map { $0.2?.waitingFor })::text[])
                """)
        }
    }

    /// Locks and reads these orders (in id order, so that copies queue rather than deadlock).
    func lock(_ orderIDs: [String]) throws -> [String: OrderRow] {
        guard !orderIDs.isEmpty else { return [:] }
        var rows: [String: OrderRow] = [:]
        for row in try database.query("""
            SELECT order_id, status, array_to_string(hold_reasons, ',') AS holds, shipping_country, shipping_method, ship_complete,
                   correlation_id, data::text AS data
            FROM router.orders WHERE order_id = ANY(\(orderIDs)::text[]) ORDER BY order_id FOR UPDATE
            """) {
            let id: String = try row.decode("order_id")
            rows[id] = OrderRow(orderID: id, status: try RouterOrderStatus(stored: try row.decode("status"), orderID: id),
                                holdReasons: try row.decode("holds", as: String.self).split(separator: ",").map(String.init),
                                country: try row.decode("shipping_country"), method: try row.decode("shipping_method"),
                                shipComplete: try row.decode("ship_complete"), correlationID: try row.decode("correlation_id"),
                                data: (try? JSONParser.parse(try row.decode("data", as: String.self))) ?? .object([:]))
        }
        return rows
    }

    /// Every SKU on these orders' lines.
    func skus(of orderIDs: [String]) throws -> Set<String> {
        guard !orderIDs.isEmpty else { return [] }
        return Set(try database.query("SELECT DISTINCT sku FROM router.order_lines WHERE order_id = ANY(\(orderIDs)::text[])")
            .map { try $0.decode("sku", as: String.self) })
    }

    func openLines(_ orderIDs: [String]) throws -> [String: [OpenLine]] {
        guard !orderIDs.isEmpty else { return [:] }
        var lines: [String: [OpenLine]] = [:]
        for row in try database.query("""
            SELECT order_id, line_id, sku, quantity - routed AS open FROM router.order_lines
            WHERE order_id = ANY(\(orderIDs)::text[]) AND routed < quantity ORDER BY order_id, line_id
            """) {
            lines[try row.decode("order_id"), default: []].append(OpenLine(lineID: try row.decode("line_id"), sku: try row.decode("sku"),
                                                                          open: try row.decode("open")))
        }
        return lines
    }

    /// Back-ordered orders waiting for these SKUs, oldest first; orders another copy is working on are skipped.
    func backorderCandidates(skus: Set<String>, excluding: Set<String>, limit: Int) throws -> [String] {
        guard !skus.isEmpty else { return [] }
        return try database.query("""
            SELECT o.order_id FROM router.orders o
            WHERE o.status = 'backordered' AND NOT (o.order_id = ANY(\(Array(excluding))::text[]))
              AND EXISTS (SELECT 1 FROM router.order_lines l WHERE l.order_id = o.order_id AND l.waiting_for = 'stock'
                          AND l.sku = ANY(\(Array(skus))::text[]))
            ORDER BY o.received_at, o.order_id LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """).map { try $0.decode("order_id") }
    }

    /// Back-ordered orders with a line waiting for stock that some warehouse now has enough of to ship, oldest first.
    /// A stock increase re-routes at most `limit` back-orders at once; these are the rest (and any a race left behind).
    func backordersWithStock(limit: Int) throws -> [String] {
        try database.query("""
            SELECT o.order_id FROM router.orders o
            WHERE o.status = 'backordered'
              AND EXISTS (SELECT 1 FROM router.order_lines l JOIN router.stock s ON s.sku = l.sku
                          WHERE l.order_id = o.order_id AND l.waiting_for = 'stock' AND l.routed < l.quantity
                            AND s.on_hand - s.reserved >= l.quantity - l.routed)
            ORDER BY o.received_at, o.order_id LIMIT \(limit) FOR UPDATE OF o SKIP LOCKED
            """).map { try $0.decode("order_id") }
    }

    /// What the open lines of each order wait for ('stock', 'preorder', 'problem'); empty when nothing is open.
    func waitingKinds(_ orderIDs: [String]) throws -> [String: Set<String>] {
        guard !orderIDs.isEmpty else { return [:] }
        var kinds = Dictionary(uniqueKeysWithValues: orderIDs.map { ($0, Set<String>()) })
        for row in try database.query("""
            SELECT DISTINCT order_id, waiting_for FROM router.order_lines
            WHERE order_id = ANY(\(orderIDs)::text[]) AND routed < quantity AND waiting_for IS NOT NULL
            """) {
            kinds[try row.decode("order_id"), default: []].insert(try row.decode("waiting_for"))
        }
        return kinds
    }

    /// Orders the rules could not route, not tried for `minutes`.
    func heldDue(minutes: Int, limit: Int) throws -> [String] {
        try database.query("""
            SELECT o.order_id FROM router.orders o WHERE o.status = 'held' AND o.updated_at < now() - make_interval(mins => \(minutes)::int)
              -- Another copy may have committed but not yet published this order's earlier events.
              AND NOT EXISTS (SELECT 1 FROM router.outbox b WHERE b.sent_at IS NULL AND b.message_key = convert_to(o.order_id, 'UTF8'))
            ORDER BY o.updated_at, o.order_id LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """).map { try $0.decode("order_id") }
    }

    /// Releases pending fulfillment orders whose time has come, for orders no one else is working on.
    func releaseDue(limit: Int) throws -> [FulfillmentOrderRow] {
        let due: [String] = try database.query("""
            SELECT DISTINCT order_id FROM router.fulfillment_orders WHERE status = 'pending' AND release_due <= now() LIMIT \(limit)
            """).map { try $0.decode("order_id") }
        guard !due.isEmpty else { return [] }
        // Orders first, then their fulfillment orders: the same lock order as the batch path.
        let locked: [String] = try database.query("""
            SELECT o.order_id FROM router.orders o WHERE o.order_id = ANY(\(due)::text[])
              -- Another copy may have committed but not yet published this order's earlier events.
              AND NOT EXISTS (SELECT 1 FROM router.outbox b WHERE b.sent_at IS NULL AND b.message_key = convert_to(o.order_id, 'UTF8'))
            ORDER BY o.order_id FOR UPDATE SKIP LOCKED
            """).map { try $0.decode("order_id") }
        guard !locked.isEmpty else { return [] }
        return try database.query("""
            UPDATE router.fulfillment_orders SET status = 'released', released_at = now()
            WHERE status = 'pending' AND release_due <= now() AND order_id = ANY(\(locked)::text[])
            RETURNING fulfillment_order_id, order_id, warehouse_id, supplier_id, carrier_service, sla_due, status, lines::text AS lines
            """).map { row in
            FulfillmentOrderRow(
                id: try row.decode("fulfillment_order_id"), orderID: try row.decode("order_id"), warehouseID: try row.decodeIfPresent("warehouse_id"),
                supplierID: try row.decodeIfPresent("supplier_id"), carrierService: try row.decodeIfPresent("carrier_service"),
                slaDue: try row.decodeIfPresent("sla_due"),
                status: try FulfillmentOrderStatus(stored: try row.decode("status"), id: try row.decode("fulfillment_order_id")),
                lines: (try? JSONParser.parse(try row.decode("lines", as: String.self))) ?? .array([]))
        }
    }

    /// Back-ordered orders whose pre-order lines reached their release date.
    func preordersDue(limit: Int) throws -> [String] {
        try database.query("""
            SELECT o.order_id FROM router.orders o
            WHERE o.status = 'backordered'
              AND EXISTS (SELECT 1 FROM router.order_lines l JOIN router.products p USING (sku)
                          WHERE l.order_id = o.order_id AND l.waiting_for = 'preorder' AND p.preorder_release_date <= now())
              -- Another copy may have committed but not yet published this order's earlier events.
              AND NOT EXISTS (SELECT 1 FROM router.outbox b WHERE b.sent_at IS NULL AND b.message_key = convert_to(o.order_id, 'UTF8'))
            ORDER BY o.received_at, o.order_id LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """).map { try $0.decode("order_id") }
    }

    func fulfillmentOrders(of orderIDs: [String]) throws -> [String: [FulfillmentOrderRow]] {
        guard !orderIDs.isEmpty else { return [:] }
        var result: [String: [FulfillmentOrderRow]] = [:]
        for row in try database.query("""
            SELECT fulfillment_order_id, order_id, warehouse_id, supplier_id, carrier_service, sla_due, status, lines::text AS lines
            FROM router.fulfillment_orders WHERE order_id = ANY(\(orderIDs)::text[]) ORDER BY fulfillment_order_id
            """) {
            let fo = FulfillmentOrderRow(
                id: try row.decode("fulfillment_order_id"), orderID: try row.decode("order_id"), warehouseID: try row.decodeIfPresent("warehouse_id"),
                supplierID: try row.decodeIfPresent("supplier_id"), carrierService: try row.decodeIfPresent("carrier_service"),
                slaDue: try row.decodeIfPresent("sla_due"),
                status: try FulfillmentOrderStatus(stored: try row.decode("status"), id: try row.decode("fulfillment_order_id")),
                lines: (try? JSONParser.parse(try row.decode("lines", as: String.self))) ?? .array([]))
            result[fo.orderID, default: []].append(fo)
        }
        return result
    }

    struct NewFulfillmentOrder {
        let id: String
        let orderID: String
        let warehouseID: String?
        let supplierID: String?
        let carrierService: String?
        let shipBy: Date?
        let slaDue: Date?
        let status: FulfillmentOrderStatus
        let lines: JSONValue
        /// For 'pending' ones: when they are released to the warehouse.
        var releaseDue: Date? = nil
    }

    func insert(_ fulfillmentOrders: [NewFulfillmentOrder]) throws {
        guard !fulfillmentOrders.isEmpty else { return }
        let f = fulfillmentOrders
        try database.query("""
            INSERT INTO router.fulfillment_orders (fulfillment_order_id, order_id, warehouse_id, supplier_id, carrier_service, ship_by, sla_due,
                                                   status, lines, released_at, release_due)
            SELECT i, o, w, s, c, sb, sd, st, l::json, CASE WHEN st = 'released' THEN now() END, rd
            FROM unnest(\(f.map(\.id))::text[], \(f.map(\.orderID))::text[], \(f.map(\.warehouseID))::text[], \(f.map(\.supplierID))::text[],
                        \(f.map(\.carrierService))::text[], \(f.map(\.shipBy))::timestamptz[], \(f.map(\.slaDue))::timestamptz[],
                        \(f.map(\.status.rawValue))::text[], \(f.map(\.lines.serializedString))::text[], \(f.map(\.releaseDue))::timestamptz[])
                 AS u(i, o, w, s, c, sb, sd, st, l, rd)
            """)
    }

    func setFulfillmentStatus(_ ids: [String], to next: FulfillmentOrderStatus) throws {
        let status = next.rawValue
        guard !ids.isEmpty else { return }
        try database.query("""
            UPDATE router.fulfillment_orders SET status = \(status),
                   released_at = CASE WHEN \(status) = 'released' THEN now() ELSE released_at END,
                   -- A supplier's SLA runs from the release, not from when a held order was reserved.
                   sla_due = CASE WHEN \(status) = 'released' AND sla_due IS NOT NULL THEN now() + (sla_due - created_at) ELSE sla_due END
            WHERE fulfillment_order_id = ANY(\(ids)::text[])
            """)
    }

    /// Adds routed quantities and what the open rest waits for.
    func updateLines(_ changes: [(orderID: String, lineID: String, routed: Int64, waitingFor: String?)]) throws {
        guard !changes.isEmpty else { return }
        try database.query("""
            UPDATE router.order_lines l SET routed = l.routed + c.routed, waiting_for = c.waiting_for
            FROM unnest(\(changes.map(\.orderID))::text[], \(changes.map(\.lineID))::text[], \(changes.map(\.routed))::bigint[],
                        \(changes.map(\.waitingFor))::text[]) AS c(order_id, line_id, routed, waiting_for)
            WHERE l.order_id = c.order_id AND l.line_id = c.line_id
            """)
    }

    func setStatus(_ changes: [(orderID: String, status: RouterOrderStatus)]) throws {
        guard !changes.isEmpty else { return }
        try database.query("""
            UPDATE router.orders o SET status = c.status, updated_at = now()
            FROM unnest(\(changes.map(\.orderID))::text[], \(changes.map(\.status.rawValue))::text[]) AS c(order_id, status)
            WHERE o.order_id = c.order_id
            """)
    }

    /// Until the transaction ends, no other Router copy books technicians.
    func lockTechnicianCalendar() throws {
        try database.query("SELECT pg_advisory_xact_lock(\(Self.technicianCalendarLock))")
    }

    /// Advisory lock key of the technician calendar ("rtec").
    static let technicianCalendarLock: Int64 = 0x7274_6563

    func bookings(days: Int) throws -> TechnicianBookings {
        var bookings: TechnicianBookings = [:]
        for row in try database.query("""
            SELECT technician_id, to_char(day, 'YYYY-MM-DD') AS day, count(*) AS n FROM router.appointments
            WHERE day >= current_date - 1 AND day <= current_date + \(days + 2)::int GROUP BY 1, 2
            """) {
            bookings[try row.decode("technician_id"), default: [:]][try row.decode("day")] = try row.decode("n")
        }
        return bookings
    }

    func insertAppointments(_ appointments: [(orderID: String, appointment: RoutingPlan.Appointment)]) throws {
        guard !appointments.isEmpty else { return }
        let a = appointments.map(\.appointment)
        try database.query("""
            INSERT INTO router.appointments (order_id, line_id, technician_id, day)
            SELECT o, l, t, d::date FROM unnest(\(appointments.map(\.orderID))::text[], \(a.map(\.lineID))::text[],
                                                \(a.map(\.technicianID))::text[], \(a.map(\.day))::text[]) AS u(o, l, t, d)
            """)
    }

    func deleteAppointments(of orderIDs: [String]) throws {
        guard !orderIDs.isEmpty else { return }
        try database.query("DELETE FROM router.appointments WHERE order_id = ANY(\(orderIDs)::text[])")
    }

    func log(_ decisions: [(orderID: String, input: String, plan: String)]) throws {
        guard !decisions.isEmpty else { return }
        try database.query("""
            INSERT INTO router.routing_log (order_id, input, plan)
            SELECT o, i::json, p::json FROM unnest(\(decisions.map(\.orderID))::text[], \(decisions.map(\.input))::text[],
                                                   \(decisions.map(\.plan))::text[]) AS u(o, i, p)
            """)
    }

    /// The Router's copy of the person's data: the order as carried along (gift message, personalization, ship-to),
    /// the fulfillment orders' lines, the routing log's inputs, audit details.
    func erasePersonalData(_ erasure: ErasureOrder) throws -> Int {
        var eraser = try PersonalDataStore(database: database)
        let orders = erasure.orderIDs
        try eraser.scrubJSON("router.orders", "data", key: "t.order_id", in: orders)
        try eraser.scrubJSON("router.fulfillment_orders", "lines", key: "t.order_id", in: orders)
        try eraser.scrubJSON("router.routing_log", "input", key: "t.order_id", in: orders)
        try eraser.eraseRuntimeCopies(schema: "router", keys: erasure.keys)
        return eraser.rows
    }
}
