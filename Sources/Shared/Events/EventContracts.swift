/// The JSON Schemas of every event we read or write, by CloudEvents `type`.
public enum EventContracts {
    /// Schema source by file name, for `omsctl schemas export` and the docs.
    public static let schemaFiles: [String: String] = [
        "cloudevent-envelope.schema.json": envelopeSchemaText,
        "order.created.v1.schema.json": orderCreatedSchemaText,
        "order.accepted.v1.schema.json": orderAcceptedSchemaText,
        "order.on-hold.v1.schema.json": orderOnHoldSchemaText,
        "order.rejected.v1.schema.json": orderRejectedSchemaText,
        "order.status-change.v1.schema.json": orderStatusChangeSchemaText,
        "payment.captured.v1.schema.json": paymentCapturedSchemaText,
        "payment.failed.v1.schema.json": paymentFailedSchemaText,
        "order.cancellation-requested.v1.schema.json": orderCancellationRequestedSchemaText,
        "order.approval.v1.schema.json": orderApprovalSchemaText,
        "product.changed.v1.schema.json": productChangedSchemaText,
        "customer.changed.v1.schema.json": customerChangedSchemaText,
        "receivables.changed.v1.schema.json": receivablesChangedSchemaText,
        "availability.changed.v1.schema.json": availabilityChangedSchemaText,
        "order.approval-requested.v1.schema.json": orderApprovalRequestedSchemaText,
        "stock.changed.v1.schema.json": stockChangedSchemaText,
        "inbound.expected.v1.schema.json": inboundExpectedSchemaText,
        "fulfillment-order.created.v1.schema.json": fulfillmentOrderCreatedSchemaText,
        "fulfillment-order.confirmed.v1.schema.json": fulfillmentOrderConfirmedSchemaText,
        "fulfillment-order.sla-breached.v1.schema.json": slaBreachedSchemaText,
        "backorder.created.v1.schema.json": backorderCreatedSchemaText,
        "appointment.scheduled.v1.schema.json": appointmentScheduledSchemaText,
        "order.routing-problem.v1.schema.json": orderRoutingProblemSchemaText,
        "customer.notification-requested.v1.schema.json": customerNotificationSchemaText,
    ]

    // Schemas are compiled once; a broken schema is a programming error caught by the tests.
    static let envelope = try! JSONSchema(json: envelopeSchemaText)

    public static let dataSchemas: [String: JSONSchema] = [
        "Order.Created": try! JSONSchema(json: orderCreatedSchemaText),
        "Order.Accepted": try! JSONSchema(json: orderAcceptedSchemaText),
        "Order.OnHold": try! JSONSchema(json: orderOnHoldSchemaText),
        "Order.Rejected": try! JSONSchema(json: orderRejectedSchemaText),
        "Order.Released": try! JSONSchema(json: orderStatusChangeSchemaText),
        "Order.Cancelled": try! JSONSchema(json: orderStatusChangeSchemaText),
        "Payment.Captured": try! JSONSchema(json: paymentCapturedSchemaText),
        "Payment.Failed": try! JSONSchema(json: paymentFailedSchemaText),
        "Order.CancellationRequested": try! JSONSchema(json: orderCancellationRequestedSchemaText),
        "Order.ApprovalGiven": try! JSONSchema(json: orderApprovalSchemaText),
        "Order.ApprovalDenied": try! JSONSchema(json: orderApprovalSchemaText),
        "Product.Changed": try! JSONSchema(json: productChangedSchemaText),
        "Customer.Changed": try! JSONSchema(json: customerChangedSchemaText),
        "Receivables.Changed": try! JSONSchema(json: receivablesChangedSchemaText),
        "Availability.Changed": try! JSONSchema(json: availabilityChangedSchemaText),
        "Order.ApprovalRequested": try! JSONSchema(json: orderApprovalRequestedSchemaText),
        "Stock.Changed": try! JSONSchema(json: stockChangedSchemaText),
        "Inbound.Expected": try! JSONSchema(json: inboundExpectedSchemaText),
        "FulfillmentOrder.Created": try! JSONSchema(json: fulfillmentOrderCreatedSchemaText),
        "FulfillmentOrder.Confirmed": try! JSONSchema(json: fulfillmentOrderConfirmedSchemaText),
        "FulfillmentOrder.SlaBreached": try! JSONSchema(json: slaBreachedSchemaText),
        "Backorder.Created": try! JSONSchema(json: backorderCreatedSchemaText),
        "Appointment.Scheduled": try! JSONSchema(json: appointmentScheduledSchemaText),
        "Order.RoutingOnHold": try! JSONSchema(json: orderRoutingProblemSchemaText),
        "Order.CancellationRefused": try! JSONSchema(json: orderRoutingProblemSchemaText),
        "Customer.NotificationRequested": try! JSONSchema(json: customerNotificationSchemaText),
    ]

    /// Checks `event.data` against its type's schema; `accepted` limits which
    /// types this consumer handles at all.
    public static func validateData(of event: CloudEvent, accepted: Set<String>) throws(PermanentFailure) {
        guard accepted.contains(event.type), let schema = dataSchemas[event.type] else {
            throw .unknownEventType("event type \"\(event.type.prefix(80))\" is not handled here (expected \(accepted.sorted().joined(separator: ", ")))")
        }
        let violations = schema.validate(event.data, at: "data")
        if !violations.isEmpty {
            throw .schemaViolation(violations.prefix(10).map(\.description).joined(separator: "; "))
        }
    }
}
