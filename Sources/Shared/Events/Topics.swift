/// Topic names of SPEC §8 (v1).
public enum Topic {
    public static let shopOrders = "shop.orders"
    public static let shopPayments = "shop.payments"
    public static let inventoryStock = "inventory.stock"
    public static let carrierShipments = "carrier.shipments"
    public static let warehouseEvents = "warehouse.events"
    public static let returnsRequests = "returns.requests"
    public static let catalogProducts = "catalog.products"
    public static let crmCustomers = "crm.customers"
    public static let omsOrders = "oms.orders"
    public static let omsFulfillment = "oms.fulfillment"
    public static let omsShipments = "oms.shipments"
    public static let omsLabels = "oms.labels"
    public static let omsBilling = "oms.billing"
    public static let omsReturns = "oms.returns"
    public static let omsStock = "oms.stock"
    public static let omsNotifications = "oms.notifications"
    /// Erasure orders and confirmations (GDPR Art. 17): every stage consumes it.
    public static let omsPrivacy = "oms.privacy"
    public static let omsDLQ = "oms.dlq"

    public static let all = [
        shopOrders, shopPayments, inventoryStock, carrierShipments, warehouseEvents, returnsRequests,
        catalogProducts, crmCustomers, omsOrders, omsFulfillment, omsShipments, omsLabels, omsBilling,
        omsReturns, omsStock, omsNotifications, omsPrivacy, omsDLQ,
    ]
}

/// Header names on `oms.dlq` messages.
public enum DeadLetterHeader {
    public static let id = "oms-dlq-id"
    public static let stage = "oms-stage"
    public static let errorClass = "oms-error-class"
    public static let errorMessage = "oms-error-message"
    public static let attempts = "oms-attempts"
    public static let originalTopic = "oms-original-topic"
    public static let originalPartition = "oms-original-partition"
    public static let originalOffset = "oms-original-offset"
    public static let originalEventID = "oms-original-event-id"
    public static let failedAt = "oms-failed-at"
    /// "false" when the payload is not an original message (nothing to replay).
    public static let replayable = "oms-replayable"
}
