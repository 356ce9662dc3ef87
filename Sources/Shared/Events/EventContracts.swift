/// The JSON Schemas of every event we read or write, by CloudEvents `type`.
///
/// The one source of truth is the JSON files in `Sources/Shared/Events/Schemas/json`
/// (`contracts/schemas` points there): they are compiled into the binaries
/// (SwiftPM `embedInCode`), so a person changing a contract edits one file, and
/// a new contract is a new file plus its line below.
public enum EventContracts {
    /// Schema file name → bytes, as embedded at build time.
    private static let embedded: [String: [UInt8]] = [
        "cloudevent-envelope.schema.json": PackageResources.cloudevent_envelope_schema_json,
        "order.created.v1.schema.json": PackageResources.order_created_v1_schema_json,
        "order.accepted.v1.schema.json": PackageResources.order_accepted_v1_schema_json,
        "order.on-hold.v1.schema.json": PackageResources.order_on_hold_v1_schema_json,
        "order.rejected.v1.schema.json": PackageResources.order_rejected_v1_schema_json,
        "order.status-change.v1.schema.json": PackageResources.order_status_change_v1_schema_json,
        "payment.captured.v1.schema.json": PackageResources.payment_captured_v1_schema_json,
        "payment.failed.v1.schema.json": PackageResources.payment_failed_v1_schema_json,
        "order.cancellation-requested.v1.schema.json": PackageResources.order_cancellation_requested_v1_schema_json,
        "order.approval.v1.schema.json": PackageResources.order_approval_v1_schema_json,
        "product.changed.v1.schema.json": PackageResources.product_changed_v1_schema_json,
        "customer.changed.v1.schema.json": PackageResources.customer_changed_v1_schema_json,
        "receivables.changed.v1.schema.json": PackageResources.receivables_changed_v1_schema_json,
        "availability.changed.v1.schema.json": PackageResources.availability_changed_v1_schema_json,
        "order.approval-requested.v1.schema.json": PackageResources.order_approval_requested_v1_schema_json,
        "stock.changed.v1.schema.json": PackageResources.stock_changed_v1_schema_json,
        "inbound.expected.v1.schema.json": PackageResources.inbound_expected_v1_schema_json,
        "fulfillment-order.created.v1.schema.json": PackageResources.fulfillment_order_created_v1_schema_json,
        "fulfillment-order.confirmed.v1.schema.json": PackageResources.fulfillment_order_confirmed_v1_schema_json,
        "fulfillment-order.sla-breached.v1.schema.json": PackageResources.fulfillment_order_sla_breached_v1_schema_json,
        "backorder.created.v1.schema.json": PackageResources.backorder_created_v1_schema_json,
        "appointment.scheduled.v1.schema.json": PackageResources.appointment_scheduled_v1_schema_json,
        "order.routing-problem.v1.schema.json": PackageResources.order_routing_problem_v1_schema_json,
        "customer.notification-requested.v1.schema.json": PackageResources.customer_notification_requested_v1_schema_json,
        "pick-list.created.v1.schema.json": PackageResources.pick_list_created_v1_schema_json,
        "pick.confirmed.v1.schema.json": PackageResources.pick_confirmed_v1_schema_json,
        "fulfillment-order.short-picked.v1.schema.json": PackageResources.fulfillment_order_short_picked_v1_schema_json,
        "fulfillment-order.problem.v1.schema.json": PackageResources.fulfillment_order_problem_v1_schema_json,
        "shipment.packed.v1.schema.json": PackageResources.shipment_packed_v1_schema_json,
        "label.print-requested.v1.schema.json": PackageResources.label_print_requested_v1_schema_json,
        "shipment.confirmed.v1.schema.json": PackageResources.shipment_confirmed_v1_schema_json,
        "shipment.shipped.v1.schema.json": PackageResources.shipment_shipped_v1_schema_json,
        "shipment.delivered.v1.schema.json": PackageResources.shipment_delivered_v1_schema_json,
        "delivery-note.prepared.v1.schema.json": PackageResources.delivery_note_prepared_v1_schema_json,
        "invoice.issued.v1.schema.json": PackageResources.invoice_issued_v1_schema_json,
        "credit-note.issued.v1.schema.json": PackageResources.credit_note_issued_v1_schema_json,
        "order.invoiced.v1.schema.json": PackageResources.order_invoiced_v1_schema_json,
        "refund.approved.v1.schema.json": PackageResources.refund_approved_v1_schema_json,
        "return.requested.v1.schema.json": PackageResources.return_requested_v1_schema_json,
        "return.decided.v1.schema.json": PackageResources.return_decided_v1_schema_json,
        "return.received.v1.schema.json": PackageResources.return_received_v1_schema_json,
        "return.authorized.v1.schema.json": PackageResources.return_authorized_v1_schema_json,
        "return.rejected.v1.schema.json": PackageResources.return_rejected_v1_schema_json,
        "return.held.v1.schema.json": PackageResources.return_held_v1_schema_json,
        "return.inspected.v1.schema.json": PackageResources.return_inspected_v1_schema_json,
        "stock.returned.v1.schema.json": PackageResources.stock_returned_v1_schema_json,
        "refund.requested.v1.schema.json": PackageResources.refund_requested_v1_schema_json,
        "payment.received.v1.schema.json": PackageResources.payment_received_v1_schema_json,
        "service.completed.v1.schema.json": PackageResources.service_completed_v1_schema_json,
        "customer.erasure-requested.v1.schema.json": PackageResources.customer_erasure_requested_v1_schema_json,
        "customer.erasure-ordered.v1.schema.json": PackageResources.customer_erasure_ordered_v1_schema_json,
        "customer.erased.v1.schema.json": PackageResources.customer_erased_v1_schema_json,
    ]

    /// Schema text by file name, for `omsctl schemas export` and the docs.
    public static let schemaFiles: [String: String] = embedded.mapValues { String(decoding: $0, as: UTF8.self) }

    /// Which schema checks which event type's `data`.
    static let schemaFileByType: [String: String] = [
        "Order.Created": "order.created.v1.schema.json",
        "Order.Accepted": "order.accepted.v1.schema.json",
        "Order.OnHold": "order.on-hold.v1.schema.json",
        "Order.Rejected": "order.rejected.v1.schema.json",
        "Order.Released": "order.status-change.v1.schema.json",
        "Order.Cancelled": "order.status-change.v1.schema.json",
        "Payment.Captured": "payment.captured.v1.schema.json",
        "Payment.Failed": "payment.failed.v1.schema.json",
        "Payment.Received": "payment.received.v1.schema.json",
        "CreditNote.Issued": "credit-note.issued.v1.schema.json",
        "CollectiveInvoice.Issued": "invoice.issued.v1.schema.json",
        "DepositInvoice.Issued": "invoice.issued.v1.schema.json",
        "Service.Completed": "service.completed.v1.schema.json",
        "Order.Invoiced": "order.invoiced.v1.schema.json",
        "Refund.Approved": "refund.approved.v1.schema.json",
        "Return.Requested": "return.requested.v1.schema.json",
        "Return.Decided": "return.decided.v1.schema.json",
        "Return.Received": "return.received.v1.schema.json",
        "Return.Authorized": "return.authorized.v1.schema.json",
        "Return.Rejected": "return.rejected.v1.schema.json",
        "Return.Held": "return.held.v1.schema.json",
        "Return.Inspected": "return.inspected.v1.schema.json",
        "Stock.Returned": "stock.returned.v1.schema.json",
        "Refund.Requested": "refund.requested.v1.schema.json",
        "Order.CancellationRequested": "order.cancellation-requested.v1.schema.json",
        "Order.ApprovalGiven": "order.approval.v1.schema.json",
        "Order.ApprovalDenied": "order.approval.v1.schema.json",
        "Product.Changed": "product.changed.v1.schema.json",
        "Customer.Changed": "customer.changed.v1.schema.json",
        "Receivables.Changed": "receivables.changed.v1.schema.json",
        "Availability.Changed": "availability.changed.v1.schema.json",
        "Order.ApprovalRequested": "order.approval-requested.v1.schema.json",
        "Stock.Changed": "stock.changed.v1.schema.json",
        "Inbound.Expected": "inbound.expected.v1.schema.json",
        "FulfillmentOrder.Created": "fulfillment-order.created.v1.schema.json",
        "FulfillmentOrder.Confirmed": "fulfillment-order.confirmed.v1.schema.json",
        "FulfillmentOrder.SlaBreached": "fulfillment-order.sla-breached.v1.schema.json",
        "Backorder.Created": "backorder.created.v1.schema.json",
        "Appointment.Scheduled": "appointment.scheduled.v1.schema.json",
        "Order.RoutingOnHold": "order.routing-problem.v1.schema.json",
        "Order.CancellationRefused": "order.routing-problem.v1.schema.json",
        "Customer.NotificationRequested": "customer.notification-requested.v1.schema.json",
        "PickList.Created": "pick-list.created.v1.schema.json",
        "Pick.Confirmed": "pick.confirmed.v1.schema.json",
        "FulfillmentOrder.ShortPicked": "fulfillment-order.short-picked.v1.schema.json",
        "FulfillmentOrder.PackingProblem": "fulfillment-order.problem.v1.schema.json",
        "Shipment.Packed": "shipment.packed.v1.schema.json",
        "Label.PrintRequested": "label.print-requested.v1.schema.json",
        "Shipment.Confirmed": "shipment.confirmed.v1.schema.json",
        "Shipment.Shipped": "shipment.shipped.v1.schema.json",
        "Shipment.Delivered": "shipment.delivered.v1.schema.json",
        "DeliveryNote.Prepared": "delivery-note.prepared.v1.schema.json",
        "Invoice.Issued": "invoice.issued.v1.schema.json",
        "Customer.ErasureRequested": "customer.erasure-requested.v1.schema.json",
        "Customer.ErasureOrdered": "customer.erasure-ordered.v1.schema.json",
        "Customer.Erased": "customer.erased.v1.schema.json",
    ]

    // Schemas are compiled once; a broken schema file is a programming error caught by the tests.
    static let envelope = try! JSONSchema(json: schemaFiles["cloudevent-envelope.schema.json"]!)

    public static let dataSchemas: [String: JSONSchema] = schemaFileByType.mapValues { try! JSONSchema(json: schemaFiles[$0]!) }

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
