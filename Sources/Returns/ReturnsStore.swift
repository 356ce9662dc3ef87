import Foundation
import ReturnsCore
import Shared

/// Returns' tables: replicas, returns and their lines, refunds, the photo register.
struct ReturnsStore {
    let database: PostgresConnection

    struct ShipmentRow: Sendable {
        let fulfillmentOrderID: String
        let warehouseID: String?
        let supplierID: String?
        let lines: [(lineID: String, sku: String, quantity: Int64)]
        let shippedAt: Date
        let deliveredAt: Date?
    }

    struct ReturnRow: Sendable {
        let requestID: String
        let rma: String?
        let orderID: String
        let status: ReturnStatus
        let channel: String
        let requestedBy: String?
        let language: PortalLanguage
        let reasons: JSONValue
        let holdReason: String?
        let labelSSCC: String?
        /// The warehouse that received the parcel.
        let receivedIn: String?
        let createdAt: Date
        let updatedAt: Date
    }

    struct LineRow: Sendable {
        let lineID: String
        let sku: String
        let quantity: Int64
        let reason: String
        let comment: String?
        let received: Int64?
        let grade: String?
        let notes: String?
        let disposition: ReturnRules.Disposition?
        let rule: String?
        let stockSKU: String?
        let decidedBy: String?
        let refunded: Bool
        let refundAmount: Int64?
    }

    // MARK: Replicas

    func upsertProduct(sku: String, product: ReturnPolicy.Product, changedAt: String) throws {
        try database.query("""
            INSERT INTO returns.products AS p (sku, name, returnable, category, drop_ship_supplier, changed_at)
            VALUES (\(sku), \(product.name), \(product.returnable), \(product.category), \(product.dropShipSupplier), \(changedAt)::timestamptz)
            ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, returnable = EXCLUDED.returnable, category = EXCLUDED.category,
                drop_ship_supplier = EXCLUDED.drop_ship_supplier, changed_at = EXCLUDED.changed_at
            WHERE p.changed_at <= EXCLUDED.changed_at
            """)
    }

    func products(_ skus: [String]) throws -> [String: ReturnPolicy.Product] {
        guard !skus.isEmpty else { return [:] }
        var result: [String: ReturnPolicy.Product] = [:]
        for row in try database.query("""
            SELECT sku, name, returnable, category, drop_ship_supplier FROM returns.products WHERE sku = ANY(\(skus)::text[])
            """) {
            result[try row.decode("sku")] = ReturnPolicy.Product(
                name: try row.decodeIfPresent("name", as: String.self), returnable: try row.decode("returnable"),
                category: try row.decodeIfPresent("category", as: String.self), dropShipSupplier: try row.decodeIfPresent("drop_ship_supplier", as: String.self))
        }
        return result
    }

    func insertOrder(_ orderID: String, data: JSONValue, email: String, postalCode: String) throws {
        try database.query("""
            INSERT INTO returns.orders (order_id, data, email, postal_code) VALUES (\(orderID), \(data.storableJSON)::json, \(email), \(postalCode))
            ON CONFLICT (order_id) DO NOTHING
            """)
    }

    func order(_ orderID: String) throws -> JSONValue? {
        guard let row = try database.query("SELECT data::text AS data FROM returns.orders WHERE order_id = \(orderID)").first else { return nil }
        return try? JSONParser.parse(Array(try row.decode("data", as: String.self).utf8))
    }

    /// The order whose number and e-mail or postal code match (already normalized); nil for a wrong pair and an unknown order alike.
    func lookup(orderID: String, email: String?, postalCode: String?) throws -> String? {
        let rows = try database.query("""
            SELECT order_id FROM returns.orders
            WHERE order_id = \(orderID) AND ((\(email)::text IS NOT NULL AND email = \(email)) OR (\(postalCode)::text IS NOT NULL AND postal_code = \(postalCode)))
            """)
        return try rows.first?.decode("order_id")
    }

    func insertShipment(_ s: ReturnsInput.Shipment) throws {
        let lines = JSONValue.array(s.lines.map { ["lineId": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity)] })
        try database.query("""
            INSERT INTO returns.shipments (fulfillment_order_id, order_id, warehouse_id, supplier_id, lines, shipped_at)
            VALUES (\(s.fulfillmentOrderID), \(s.orderID), \(s.warehouseID), \(s.supplierID), \(lines.storableJSON)::json, \(s.shippedAt)::timestamptz)
            ON CONFLICT (fulfillment_order_id) DO NOTHING
            """)
    }

    func markDelivered(_ fulfillmentOrderID: String, at: String) throws {
        try database.query("""
            UPDATE returns.shipments SET delivered_at = \(at)::timestamptz WHERE fulfillment_order_id = \(fulfillmentOrderID) AND delivered_at IS NULL
            """)
    }

    func shipments(of orderID: String) throws -> [ShipmentRow] {
        try database.query("""
            SELECT fulfillment_order_id, warehouse_id, supplier_id, lines::text AS lines, shipped_at, delivered_at
            FROM returns.shipments WHERE order_id = \(orderID) ORDER BY shipped_at
            """).map { row in
            let lines = ((try? JSONParser.parse(Array(try row.decode("lines", as: String.self).utf8)))?.arrayValue ?? []).compactMap { l -> (String, String, Int64)? in
                guard let id = l["lineId"]?.stringValue, let sku = l["sku"]?.stringValue, let q = l["quantity"]?.int64Value else { return nil }
                return (id, sku, q)
            }
            return ShipmentRow(fulfillmentOrderID: try row.decode("fulfillment_order_id"), warehouseID: try row.decodeIfPresent("warehouse_id", as: String.self),
                               supplierID: try row.decodeIfPresent("supplier_id", as: String.self), lines: lines.map { (lineID: $0.0, sku: $0.1, quantity: $0.2) },
                               shippedAt: try row.decode("shipped_at"), deliveredAt: try row.decodeIfPresent("delivered_at", as: Date.self))
        }
    }

    /// Units per line asked back by the order's returns that were not refused.
    func returnedUnits(of orderID: String) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try database.query("""
            SELECT l.line_id, sum(l.quantity)::bigint AS units FROM returns.return_lines l JOIN returns.returns r USING (request_id)
            WHERE r.order_id = \(orderID) AND r.status <> 'rejected' GROUP BY l.line_id
            """) {
            result[try row.decode("line_id")] = try row.decode("units")
        }
        return result
    }

    /// Serialises everything about one order's returns (two requests for the same units must not both pass).
    func lockOrder(_ orderID: String) throws {
        try database.query("SELECT pg_advisory_xact_lock(hashtext('returns:' || \(orderID)))")
    }

    // MARK: Returns

    func nextSerial() throws -> Int64 {
        try database.query("SELECT nextval('returns.rma_serial') AS n").first?.decode("n") ?? 0
    }

    func requestExists(_ requestID: String) throws -> Bool {
        try database.query("SELECT 1 FROM returns.returns WHERE request_id = \(requestID)").first != nil
    }

    func insertReturn(_ r: ReturnsInput.Request, rma: String?, status: ReturnStatus, reasons: JSONValue, holdReason: String?,
                      labelSSCC: String?, labelPDF: [UInt8]?, shopPaysReturnShipping: Bool, skus: [String: String]) throws {
        try database.query("""
            INSERT INTO returns.returns (request_id, rma, order_id, status, channel, requested_by, language, comment, photos, reasons, hold_reason,
                                         label_sscc, label_pdf, shop_pays_return_shipping)
            VALUES (\(r.requestID), \(rma), \(r.orderID), \(status.rawValue), \(r.channel), \(r.requestedBy), \(r.language.rawValue), \(r.comment),
                    \(JSONValue.array(r.photos).storableJSON)::json, \(reasons.storableJSON)::json, \(holdReason), \(labelSSCC),
                    \(labelPDF.map { Data($0) }), \(shopPaysReturnShipping))
            """)
        guard status != .rejected else { return }
        try database.query("""
            INSERT INTO returns.return_lines (request_id, line_id, sku, quantity, reason, comment)
            SELECT \(r.requestID), l, s, q, why, c FROM unnest(\(r.lines.map(\.lineID))::text[], \(r.lines.map { skus[$0.lineID] ?? "" })::text[],
                                                            \(r.lines.map(\.quantity))::bigint[], \(r.lines.map(\.reason))::text[],
                                                            \(r.lines.map { r.comments[$0.lineID] })::text[]) AS u(l, s, q, why, c)
            """)
    }

    static let returnColumns = """
        request_id, rma, order_id, status, channel, requested_by, language, reasons::text AS reasons, hold_reason, label_sscc, received_in, created_at, updated_at
        """

    func decodeReturn(_ row: PostgresRow) throws -> ReturnRow {
        ReturnRow(requestID: try row.decode("request_id"), rma: try row.decodeIfPresent("rma", as: String.self), orderID: try row.decode("order_id"),
                  status: ReturnStatus(rawValue: try row.decode("status")) ?? .held, channel: try row.decode("channel"),
                  requestedBy: try row.decodeIfPresent("requested_by", as: String.self),
                  language: PortalLanguage(rawValue: try row.decode("language")) ?? .german,
                  reasons: (try? JSONParser.parse(Array(try row.decode("reasons", as: String.self).utf8))) ?? .array([]),
                  holdReason: try row.decodeIfPresent("hold_reason", as: String.self), labelSSCC: try row.decodeIfPresent("label_sscc", as: String.self),
                  receivedIn: try row.decodeIfPresent("received_in", as: String.self), createdAt: try row.decode("created_at"), updatedAt: try row.decode("updated_at"))
    }

    func returnByRMA(_ rma: String, lock: Bool = false) throws -> ReturnRow? {
        try database.query("SELECT \(unescaped: Self.returnColumns) FROM returns.returns WHERE rma = \(rma) \(unescaped: lock ? "FOR UPDATE" : "")")
            .first.map(decodeReturn)
    }

    func returnByRequest(_ requestID: String) throws -> ReturnRow? {
        try database.query("SELECT \(unescaped: Self.returnColumns) FROM returns.returns WHERE request_id = \(requestID)").first.map(decodeReturn)
    }

    func returns(ofOrder orderID: String) throws -> [ReturnRow] {
        try database.query("SELECT \(unescaped: Self.returnColumns) FROM returns.returns WHERE order_id = \(orderID) ORDER BY created_at").map(decodeReturn)
    }

    func lines(_ requestID: String) throws -> [LineRow] {
        try database.query("""
            SELECT line_id, sku, quantity, reason, comment, received, grade, notes, disposition, rule, stock_sku, decided_by, refunded, refund_amount
            FROM returns.return_lines WHERE request_id = \(requestID) ORDER BY line_id
            """).map { row in
            LineRow(lineID: try row.decode("line_id"), sku: try row.decode("sku"), quantity: try row.decode("quantity"), reason: try row.decode("reason"),
                    comment: try row.decodeIfPresent("comment", as: String.self), received: try row.decodeIfPresent("received", as: Int64.self),
                    grade: try row.decodeIfPresent("grade", as: String.self), notes: try row.decodeIfPresent("notes", as: String.self),
                    disposition: try row.decodeIfPresent("disposition", as: String.self).flatMap(ReturnRules.Disposition.init),
                    rule: try row.decodeIfPresent("rule", as: String.self), stockSKU: try row.decodeIfPresent("stock_sku", as: String.self),
                    decidedBy: try row.decodeIfPresent("decided_by", as: String.self), refunded: try row.decode("refunded"),
                    refundAmount: try row.decodeIfPresent("refund_amount", as: Int64.self))
        }
    }

    func labelPDF(rma: String) throws -> [UInt8]? {
        guard let row = try database.query("SELECT label_pdf FROM returns.returns WHERE rma = \(rma)").first,
              let data = try row.decodeIfPresent("label_pdf", as: Data.self) else { return nil }
        return Array(data)
    }

    func setStatus(_ requestID: String, _ status: ReturnStatus, rma: String? = nil, labelSSCC: String? = nil, labelPDF: [UInt8]? = nil,
                   reasons: JSONValue? = nil, receivedIn: String? = nil) throws {
        try database.query("""
            UPDATE returns.returns SET status = \(status.rawValue), updated_at = now(), rma = coalesce(\(rma), rma),
                label_sscc = coalesce(\(labelSSCC), label_sscc), label_pdf = coalesce(\(labelPDF.map { Data($0) }), label_pdf),
                reasons = coalesce(\(reasons?.storableJSON)::json, reasons), received_in = coalesce(\(receivedIn), received_in)
            WHERE request_id = \(requestID)
            """)
    }

    func recordInspection(_ requestID: String, lineID: String, received: Int64, grade: String, notes: String?,
                          decision: DispositionRule.Decision, decidedBy: String) throws {
        try database.query("""
            UPDATE returns.return_lines SET received = \(received), grade = \(grade), notes = \(notes), disposition = \(decision.disposition.rawValue),
                rule = \(decision.rule), stock_sku = \(decision.stockSKU), decided_by = \(decidedBy)
            WHERE request_id = \(requestID) AND line_id = \(lineID)
            """)
    }

    func markRefunded(_ requestID: String, lines: [RefundRule.Line]) throws {
        guard !lines.isEmpty else { return }
        try database.query("""
            UPDATE returns.return_lines l SET refunded = true, refund_amount = u.a
            FROM unnest(\(lines.map(\.lineID))::text[], \(lines.map(\.amount))::bigint[]) AS u(i, a)
            WHERE l.request_id = \(requestID) AND l.line_id = u.i
            """)
    }

    // MARK: Refunds

    /// What earlier refunds of the order paid back: units per line, the sum, whether shipping was among it.
    func refundLedger(_ orderID: String) throws -> (units: [String: Int64], total: Int64, shipping: Bool) {
        var units: [String: Int64] = [:]
        var total: Int64 = 0
        var shipping = false
        for row in try database.query("SELECT total, shipping, lines::text AS lines FROM returns.refunds WHERE order_id = \(orderID)") {
            total = total.addingReportingOverflow(try row.decode("total", as: Int64.self)).partialValue
            if try row.decode("shipping", as: Int64.self) > 0 { shipping = true }
            for line in (try? JSONParser.parse(Array(try row.decode("lines", as: String.self).utf8)))?.arrayValue ?? [] {
                guard let id = line["lineId"]?.stringValue, let q = line["quantity"]?.int64Value else { continue }
                units[id] = (units[id] ?? 0).addingReportingOverflow(q).partialValue
            }
        }
        return (units, total, shipping)
    }

    func insertRefund(_ refundID: String, requestID: String, orderID: String, currency: String, refund: RefundRule.Refund) throws {
        let lines = JSONValue.array(refund.lines.map { ["lineId": .string($0.lineID), "quantity": .integer($0.quantity), "amount": .integer($0.amount)] })
        try database.query("""
            INSERT INTO returns.refunds (refund_id, request_id, order_id, currency, total, shipping, to_voucher, to_payment, lines)
            VALUES (\(refundID), \(requestID), \(orderID), \(currency), \(refund.total), \(refund.shipping), \(refund.toVoucher), \(refund.toPayment),
                    \(lines.storableJSON)::json)
            """)
    }

    // MARK: Photos

    func registerPhoto(id: String, orderID: String, mediaType: String, bytes: Int, removed: [String]) throws {
        try database.query("""
            INSERT INTO returns.photos (photo_id, order_id, media_type, bytes, removed) VALUES (\(id), \(orderID), \(mediaType), \(Int64(bytes)), \(removed)::text[])
            """)
    }

    /// Returns' copy of the person's data: the order as received (ship-to, e-mail and postal code the portal checks),
    /// the shipments' lines, the customer's comments and the warehouse's notes, the return labels (they show the
    /// sender's address; rendered again never), the photos (their register; the files are the caller's), audit details.
    /// Returns the erased photos' ids, so that the files go too.
    func erasePersonalData(_ erasure: ErasureOrder) throws -> (rows: Int, photos: [String]) {
        var eraser = try PersonalDataStore(database: database)
        let orders = erasure.orderIDs
        try eraser.mark("returns.orders", columns: ["email", "postal_code"], key: "t.order_id", in: orders)
        try eraser.scrubJSON("returns.orders", "data", key: "t.order_id", in: orders)
        try eraser.scrubJSON("returns.shipments", "lines", key: "t.order_id", in: orders)
        try eraser.scrubJSON("returns.returns", "reasons", key: "t.order_id", in: orders)
        try eraser.clear("returns.returns", columns: ["label_pdf"], key: "t.order_id", in: orders)
        let orderOfLine = "(SELECT r.order_id FROM returns.returns r WHERE r.request_id = t.request_id)"
        try eraser.mark("returns.return_lines", columns: ["comment", "notes"], key: orderOfLine, in: orders)
        let photos: [String] = try database.query("""
            DELETE FROM returns.photos WHERE order_id = ANY(\(orders)::text[]) RETURNING photo_id
            """).map { try $0.decode("photo_id") }
        let cleared = try database.query("""
            UPDATE returns.returns SET photos = '[]' WHERE order_id = ANY(\(orders)::text[]) AND json_array_length(photos) > 0 RETURNING 1
            """).count
        try eraser.eraseRuntimeCopies(schema: "returns", keys: erasure.keys)
        return (eraser.rows + photos.count + cleared, photos)
    }
}
