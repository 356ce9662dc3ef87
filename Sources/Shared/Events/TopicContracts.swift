/// Which event types may travel on which topic (the AsyncAPI document in
/// `contracts/asyncapi.yaml` says the same for people).
///
/// A consumer binds each topic to these lists: an event of another type is
/// dead-lettered as `wrong-topic`, so that whoever may write to `shop.orders`
/// cannot change catalog data or credit limits by sending a `Product.Changed` there.
public enum TopicContract {
    public static let eventTypes: [String: Set<String>] = [
        Topic.shopOrders: ["Order.Created", "Order.CancellationRequested", "Order.ApprovalGiven", "Order.ApprovalDenied"],
        Topic.shopPayments: ["Payment.Authorized", "Payment.Captured", "Payment.Failed", "Payment.Received"],
        Topic.catalogProducts: ["Product.Changed"],
        Topic.crmCustomers: ["Customer.Changed", "Receivables.Changed", "Customer.ErasureRequested"],
        Topic.inventoryStock: ["Stock.Changed", "Inbound.Expected"],
        Topic.warehouseEvents: ["FulfillmentOrder.Confirmed", "Pick.Confirmed", "Pack.Confirmed", "Return.Received", "Service.Completed"],
        Topic.carrierShipments: ["Shipment.Confirmed", "Shipment.Delivered"],
        Topic.returnsRequests: ["Return.Requested", "Return.Decided"],
        Topic.omsOrders: [
            "Order.Accepted", "Order.OnHold", "Order.Rejected", "Order.Released", "Order.Cancelled", "Order.CancellationRequested",
            "Order.RoutingOnHold", "Order.CancellationRefused", "Backorder.Created", "Appointment.Scheduled",
        ],
        Topic.omsStock: ["Availability.Changed"],
        Topic.omsFulfillment: ["FulfillmentOrder.Created", "FulfillmentOrder.ShortPicked", "FulfillmentOrder.PackingProblem", "DeliveryNote.Prepared"],
        Topic.omsShipments: ["PickList.Created", "Shipment.Packed", "Shipment.Shipped", "Shipment.Delivered"],
        Topic.omsLabels: ["Label.PrintRequested"],
        Topic.omsBilling: ["Invoice.Issued", "CollectiveInvoice.Issued", "DepositInvoice.Issued", "CreditNote.Issued", "Order.Invoiced", "Receivables.Changed"],
        Topic.omsReturns: [
            "Return.Authorized", "Return.Rejected", "Return.Held", "Return.Inspected", "Stock.Returned", "Refund.Approved", "Refund.Requested",
        ],
        Topic.omsNotifications: ["Customer.NotificationRequested", "FulfillmentOrder.SlaBreached", "Order.ApprovalRequested"],
        Topic.omsPrivacy: ["Customer.ErasureOrdered", "Customer.Erased"],
    ]
}

/// A stage's binding of its topics: what it acts on per topic, and which
/// `source`s may publish there (from `OMS_TOPIC_SOURCES`).
public struct TopicAdmission: Sendable {
    public enum Verdict: Sendable, Equatable {
        case handle
        /// Belongs on the topic but is for another stage (shared topics such as oms.orders).
        case ignore(String)
    }

    /// Topic → event types this stage acts on.
    public let handled: [String: Set<String>]
    /// Topic → allowed `source` prefixes; a topic not listed accepts every source.
    public let sources: [String: [String]]

    public init(handled: [String: Set<String>], sources: [String: [String]] = [:]) {
        self.handled = handled
        self.sources = sources
    }

    /// A consumed message read, admitted and validated — every stage's first step: the event, and the reason
    /// to skip it when it is this stage's own event (`ownSource`) or a type of the topic meant for another stage.
    public func read(_ message: ConsumedMessage, maximumBytes: Int, ownSource: String? = nil) throws(PermanentFailure) -> (event: CloudEvent, skip: String?) {
        let event = try CloudEvent.decode(message.value, maximumBytes: maximumBytes)
        if let ownSource, event.source == ownSource { return (event, "own event") }
        if case .ignore(let why) = try admit(event, topic: message.topic) { return (event, why) }
        try EventContracts.validateData(of: event, accepted: handled[message.topic] ?? [])
        return (event, nil)
    }

    public func admit(_ event: CloudEvent, topic: String) throws(PermanentFailure) -> Verdict {
        let allowed = TopicContract.eventTypes[topic] ?? []
        guard allowed.contains(event.type) else {
            throw .wrongTopic("event type \"\(event.type.prefix(80))\" does not belong on \(topic) (its contract lists \(allowed.sorted().joined(separator: ", ")))")
        }
        if let prefixes = sources[topic], !prefixes.contains(where: { event.source.hasPrefix($0) }) {
            throw .wrongTopic("source \"\(event.source.prefix(120))\" may not publish to \(topic) (allowed: \(prefixes.joined(separator: ", ")))")
        }
        guard handled[topic]?.contains(event.type) == true else { return .ignore("\(event.type) on \(topic) is not for this stage") }
        return .handle
    }
}
