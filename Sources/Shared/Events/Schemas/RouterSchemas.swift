extension EventContracts {
    /// `Stock.Changed` on `inventory.stock` (key: warehouse id), from the WMS:
    /// absolute on-hand quantities of many SKUs, with the WMS's sequence number.
    static let stockChangedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/stock.changed.v1.schema.json",
      "title": "Stock.Changed data (v1)",
      "type": "object",
      "required": ["warehouseId", "sequence", "items"],
      "properties": {
        "warehouseId": { "type": "string", "minLength": 1, "maxLength": 32 },
        "sequence": { "type": "integer", "minimum": 0, "maximum": 9007199254740991 },
        "items": {
          "type": "array", "minItems": 1, "maxItems": 10000,
          "items": {
            "type": "object",
            "required": ["sku", "onHand"],
            "properties": {
              "sku": { "type": "string", "minLength": 1, "maxLength": 64 },
              "onHand": { "type": "integer", "minimum": 0, "maximum": 100000000 }
            }
          }
        }
      }
    }
    """#

    /// `Inbound.Expected` on `inventory.stock` (key: warehouse id): a delivery's
    /// expected quantities per SKU and its ETA; quantity 0 withdraws a SKU.
    static let inboundExpectedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/inbound.expected.v1.schema.json",
      "title": "Inbound.Expected data (v1)",
      "type": "object",
      "required": ["inboundId", "warehouseId", "eta", "items"],
      "properties": {
        "inboundId": { "type": "string", "minLength": 1, "maxLength": 64 },
        "warehouseId": { "type": "string", "minLength": 1, "maxLength": 32 },
        "eta": { "type": "string", "format": "date-time" },
        "items": {
          "type": "array", "minItems": 1, "maxItems": 10000,
          "items": {
            "type": "object",
            "required": ["sku", "quantity"],
            "properties": {
              "sku": { "type": "string", "minLength": 1, "maxLength": 64 },
              "quantity": { "type": "integer", "minimum": 0, "maximum": 100000000 }
            }
          }
        }
      }
    }
    """#

    /// `FulfillmentOrder.Created` on `oms.fulfillment` (key: order id): what one
    /// warehouse (or drop-ship supplier) ships for an order.
    static let fulfillmentOrderCreatedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/fulfillment-order.created.v1.schema.json",
      "title": "FulfillmentOrder.Created data (v1)",
      "type": "object",
      "required": ["fulfillmentOrderId", "orderId", "lines"],
      "properties": {
        "fulfillmentOrderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "warehouseId": { "type": "string", "maxLength": 200 },
        "supplierId": { "type": "string", "maxLength": 200 },
        "carrierService": { "type": "string", "maxLength": 200 },
        "shipBy": { "type": "string", "format": "date-time" },
        "slaDue": { "type": "string", "format": "date-time" },
        "shippingMethod": { "type": "string", "maxLength": 200 },
        "shippingCountry": { "type": "string", "pattern": "^[A-Z]{2}$" },
        "branding": { "type": "object" },
        "gift": { "type": "object" },
        "lines": {
          "type": "array", "minItems": 1, "maxItems": 500,
          "items": {
            "type": "object",
            "required": ["lineId", "sku", "quantity"],
            "properties": {
              "lineId": { "type": "string", "maxLength": 200 }, "sku": { "type": "string", "maxLength": 200 }, "quantity": { "type": "integer", "minimum": 1, "maximum": 100000000 },
              "personalization": { "type": "object" }
            }
          }
        }
      }
    }
    """#

    /// `Backorder.Created` on `oms.orders`: lines that wait for stock, with the ETA when inbound stock is known.
    static let backorderCreatedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/backorder.created.v1.schema.json",
      "title": "Backorder.Created data (v1)",
      "type": "object",
      "required": ["orderId", "lines"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "eta": { "type": "string", "format": "date-time" },
        "lines": {
          "type": "array", "minItems": 1, "maxItems": 500,
          "items": {
            "type": "object",
            "required": ["lineId", "sku", "quantity"],
            "properties": {
              "lineId": { "type": "string", "maxLength": 200 }, "sku": { "type": "string", "maxLength": 200 }, "quantity": { "type": "integer", "minimum": 1, "maximum": 100000000 },
              "eta": { "type": "string", "format": "date-time" }
            }
          }
        }
      }
    }
    """#

    /// `Appointment.Scheduled` on `oms.orders`: a technician's visit for a service or assembly line.
    static let appointmentScheduledSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/appointment.scheduled.v1.schema.json",
      "title": "Appointment.Scheduled data (v1)",
      "type": "object",
      "required": ["orderId", "lineId", "sku", "technicianId", "date"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "lineId": { "type": "string", "maxLength": 200 },
        "sku": { "type": "string", "maxLength": 200 },
        "technicianId": { "type": "string", "maxLength": 200 },
        "date": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" }
      }
    }
    """#

    /// `Order.RoutingOnHold` on `oms.orders`: lines the rules cannot route (no
    /// permitted warehouse or carrier, no service slot), each with its reason.
    /// `Order.CancellationRefused` on `oms.orders` uses `reasons` with one entry.
    static let orderRoutingProblemSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.routing-problem.v1.schema.json",
      "title": "Order.RoutingOnHold / Order.CancellationRefused data (v1)",
      "type": "object",
      "required": ["orderId", "reasons"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "reasons": {
          "type": "array", "minItems": 1, "maxItems": 500,
          "items": {
            "type": "object", "required": ["code", "message"],
            "properties": { "lineId": { "type": "string", "maxLength": 200 }, "code": { "type": "string", "maxLength": 200 }, "message": { "type": "string", "maxLength": 2000 } }
          }
        }
      }
    }
    """#

    /// `Customer.NotificationRequested` on `oms.notifications`: the notifier tells the customer (template + facts).
    static let customerNotificationSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/customer.notification-requested.v1.schema.json",
      "title": "Customer.NotificationRequested data (v1)",
      "type": "object",
      "required": ["orderId", "template", "facts"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "template": { "enum": ["backorder", "dropship-delayed", "appointment"] },
        "facts": { "type": "object" }
      }
    }
    """#

    /// `FulfillmentOrder.SlaBreached` on `oms.notifications`: a drop-ship supplier did not confirm in time.
    static let slaBreachedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/fulfillment-order.sla-breached.v1.schema.json",
      "title": "FulfillmentOrder.SlaBreached data (v1)",
      "type": "object",
      "required": ["fulfillmentOrderId", "orderId", "supplierId", "slaDue"],
      "properties": {
        "fulfillmentOrderId": { "type": "string", "maxLength": 200 }, "orderId": { "type": "string", "maxLength": 200 }, "supplierId": { "type": "string", "maxLength": 200 },
        "slaDue": { "type": "string", "format": "date-time" }
      }
    }
    """#

    /// `FulfillmentOrder.Confirmed` on `warehouse.events` (key: order id): the warehouse or drop-ship supplier confirmed the fulfillment order.
    static let fulfillmentOrderConfirmedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/fulfillment-order.confirmed.v1.schema.json",
      "title": "FulfillmentOrder.Confirmed data (v1)",
      "type": "object",
      "required": ["fulfillmentOrderId", "orderId"],
      "properties": {
        "fulfillmentOrderId": { "type": "string", "minLength": 1, "maxLength": 200 }, "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "trackingNumber": { "type": "string", "maxLength": 200 }
      }
    }
    """#
}
