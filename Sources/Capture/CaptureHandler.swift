import Foundation
import Shared

/// Capture's I/O around the intake decision: reads existing orders, writes
/// new ones set-based, and says what to emit.
struct CaptureHandler: StageHandler {
    let definition = StageDefinition(name: "capture", schema: "capture", consumerGroup: "oms-capture", topics: [Topic.shopOrders])
    let maximumEventBytes: Int

    static let handledTypes: Set<String> = ["Order.Created"]

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<(event: CloudEvent, order: OrderSubmission)> {
        let event = try CloudEvent.decode(message.value, maximumBytes: maximumEventBytes)
        try EventContracts.validateData(of: event, accepted: Self.handledTypes)
        let order = try OrderSubmission(data: event.data)
        if let subject = event.subject, subject != order.orderID {
            throw .schemaViolation("event.subject \"\(subject.prefix(64))\" does not match data.orderId \"\(order.orderID)\"")
        }
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: (event, order))
    }

    func apply(_ batch: [DecodedMessage<(event: CloudEvent, order: OrderSubmission)>], database: PostgresConnection) throws -> [MessageOutcome] {
        let orderIDs = Array(Set(batch.map(\.input.order.orderID)))
        var known: [String: ExistingOrder] = [:]
        for row in try database.query("""
            SELECT order_id, content_hash, source_event_id FROM capture.orders WHERE order_id = ANY(\(orderIDs)::text[])
            """) {
            known[try row.decode("order_id")] = ExistingOrder(contentHash: try row.decode("content_hash"),
                                                              sourceEventID: try row.decode("source_event_id"))
        }
        var outcomes: [MessageOutcome] = []
        var newOrders: [(DecodedMessage<(event: CloudEvent, order: OrderSubmission)>, String)] = []
        for message in batch {
            let order = message.input.order
            switch IntakeDecision.decide(order, existing: known[order.orderID]) {
            case .accept:
                let hash = OrderFingerprint.of(order)
                // A second event for the same new order later in this batch compares against this one.
                known[order.orderID] = ExistingOrder(contentHash: hash, sourceEventID: message.idempotencyKey)
                newOrders.append((message, hash))
                outcomes.append(.processed(emit: [accepted(order)], audit: [
                    AuditRecord(subject: order.orderID, action: "Order.Accepted", actor: "oms-capture",
                                reason: "received from \(message.input.event.source); all intake checks passed",
                                details: ["total": .integer(order.linesTotal! + order.shippingCharge), "currency": .string(order.currency),
                                          "sourceEventId": .string(message.idempotencyKey)])
                ]))
            case .repeatOfExisting:
                outcomes.append(.processed(emit: [], audit: [
                    AuditRecord(subject: order.orderID, action: "Order.Created.Repeated", actor: "shop:\(message.input.event.source)",
                                reason: "identical order content under another event id; no effect",
                                details: ["eventId": .string(message.idempotencyKey)])
                ]))
            case .conflict(let failure):
                outcomes.append(.deadLetter(failure))
            }
        }
        try insert(newOrders, database: database)
        return outcomes
    }

    private func accepted(_ order: OrderSubmission) -> Emission {
        let lines: [JSONValue] = order.lines.map {
            ["lineId": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity), "unitPrice": .integer($0.unitPrice)]
        }
        return Emission(topic: Topic.omsOrders, key: order.orderID, type: "Order.Accepted", subject: order.orderID, data: [
            "orderId": .string(order.orderID), "customerId": .string(order.customer.id),
            "customerType": .string(order.customer.type), "currency": .string(order.currency),
            "total": .integer(order.linesTotal! + order.shippingCharge), "shipComplete": .bool(order.shipComplete),
            "shippingMethod": .string(order.shippingMethod), "shippingCountry": .string(order.shippingAddress.country),
            "acceptedAt": .string(EventTime.format(Date())), "lines": .array(lines),
        ])
    }

    private func insert(_ orders: [(DecodedMessage<(event: CloudEvent, order: OrderSubmission)>, String)], database: PostgresConnection) throws {
        guard !orders.isEmpty else { return }
        let submissions = orders.map(\.0.input.order)
        try database.query("""
            INSERT INTO capture.orders (order_id, status, customer_id, customer_type, customer_group, currency,
                prices_include_tax, shipping_method, ship_complete, payment_method, payment_status, payment_reference,
                payment_amount, shipping_charge, lines_total, placed_at, source_event_id, correlation_id, content_hash, data)
            SELECT o, 'accepted', ci, ct, cg, cu, pit, sm, sc, pm, ps, pr, pa, sh, lt, pl::timestamptz, se, co, ch, d::jsonb
            FROM unnest(\(submissions.map(\.orderID))::text[], \(submissions.map(\.customer.id))::text[],
                        \(submissions.map(\.customer.type))::text[], \(submissions.map(\.customer.group))::text[],
                        \(submissions.map(\.currency))::text[], \(submissions.map(\.pricesIncludeTax))::boolean[],
                        \(submissions.map(\.shippingMethod))::text[], \(submissions.map(\.shipComplete))::boolean[],
                        \(submissions.map(\.paymentMethod))::text[], \(submissions.map(\.paymentStatus))::text[],
                        \(submissions.map(\.paymentReference))::text[], \(submissions.map(\.paymentAmount))::bigint[],
                        \(submissions.map(\.shippingCharge))::bigint[], \(submissions.map { $0.linesTotal! })::bigint[],
                        \(submissions.map(\.placedAt))::text[], \(orders.map(\.0.idempotencyKey))::text[],
                        \(orders.map(\.0.correlationID))::text[], \(orders.map(\.1))::text[],
                        \(submissions.map(\.recordData))::text[])
                 AS t(o, ci, ct, cg, cu, pit, sm, sc, pm, ps, pr, pa, sh, lt, pl, se, co, ch, d)
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
                unitPrice.append(line.unitPrice)
            }
        }
        try database.query("""
            INSERT INTO capture.order_lines (order_id, line_id, position, sku, quantity, unit_price)
            SELECT * FROM unnest(\(lineOrder)::text[], \(lineID)::text[], \(position)::int[], \(sku)::text[],
                                 \(quantity)::int[], \(unitPrice)::bigint[])
            """)
        var partyOrder: [String] = [], role: [String] = [], name: [String?] = [], street: [String?] = []
        var postal: [String?] = [], city: [String?] = [], country: [String?] = [], email: [String?] = [], phone: [String?] = []
        for order in submissions {
            partyOrder.append(order.orderID); role.append("customer"); name.append(nil); street.append(nil)
            postal.append(nil); city.append(nil); country.append(nil); email.append(order.customer.email); phone.append(order.customer.phone)
            for (kind, address) in [("billing", order.billingAddress), ("shipping", order.shippingAddress)] {
                partyOrder.append(order.orderID); role.append(kind); name.append(address.name); street.append(address.street)
                postal.append(address.postalCode); city.append(address.city); country.append(address.country)
                email.append(nil); phone.append(nil)
            }
        }
        try database.query("""
            INSERT INTO capture.order_parties (order_id, role, name, street, postal_code, city, country, email, phone)
            SELECT * FROM unnest(\(partyOrder)::text[], \(role)::text[], \(name)::text[], \(street)::text[],
                                 \(postal)::text[], \(city)::text[], \(country)::text[], \(email)::text[], \(phone)::text[])
            """)
    }
}
