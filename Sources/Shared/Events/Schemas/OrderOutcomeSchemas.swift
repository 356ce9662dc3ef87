extension EventContracts {
    // Pieces several outcome schemas share, written once.
    static let paymentTermsFragment = #"""
    { "type": "object", "required": ["code", "netDays"],
      "properties": { "code": { "type": "string", "maxLength": 200 }, "netDays": { "type": "integer", "minimum": 0, "maximum": 3650 },
                      "discountDays": { "type": "integer", "minimum": 0, "maximum": 3650 }, "discountPercent": { "type": "number", "minimum": 0, "maximum": 100 } } }
    """#
    static let findingFragment = #"""
    { "type": "object", "required": ["check", "code", "message"],
      "properties": { "check": { "type": "string", "maxLength": 200 }, "code": { "type": "string", "maxLength": 200 }, "message": { "type": "string", "maxLength": 2000 },
                      "points": { "type": "integer", "minimum": 0, "maximum": 1000 } } }
    """#
    static let outcomeLineFragment = #"""
    { "type": "object", "required": ["lineId", "sku", "quantity", "unitPrice"],
      "properties": { "lineId": { "type": "string", "maxLength": 200 }, "sku": { "type": "string", "maxLength": 200 },
                      "quantity": { "type": "integer", "minimum": 1, "maximum": 100000000 }, "unitPrice": { "type": "integer", "minimum": 0, "maximum": 10000000000 } } }
    """#

    /// `Order.OnHold` on `oms.orders`: the order as in `Order.Accepted`, plus why it waits.
    static let orderOnHoldSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.on-hold.v1.schema.json",
      "title": "Order.OnHold data (v1)",
      "type": "object",
      "required": ["orderId", "customerId", "customerType", "currency", "total", "lines", "holdReasons", "findings", "heldAt"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "customerId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "customerType": { "enum": ["b2c", "b2b"] },
        "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
        "total": { "type": "integer", "minimum": 0, "maximum": 1000000000000 },
        "shipComplete": { "type": "boolean" },
        "shippingMethod": { "type": "string", "maxLength": 200 },
        "shippingCountry": { "type": "string", "pattern": "^[A-Z]{2}$" },
        "heldAt": { "type": "string", "format": "date-time" },
        "buyerId": { "type": "string", "maxLength": 200 },
        "paymentTerms": { "$ref": "#/$defs/paymentTerms" },
        "holdReasons": { "type": "array", "minItems": 1, "maxItems": 500, "items": { "enum": ["review", "total", "address", "payment", "catalog", "price", "credit", "approval", "stock"] } },
        "findings": { "type": "array", "maxItems": 500, "items": { "$ref": "#/$defs/finding" } },
        "lines": { "type": "array", "minItems": 1, "maxItems": 500, "items": { "$ref": "#/$defs/line" } }
      },
      "$defs": {
        "paymentTerms": \#(paymentTermsFragment),
        "finding": \#(findingFragment),
        "line": \#(outcomeLineFragment)
      }
    }
    """#

    /// `Order.Rejected` on `oms.orders`.
    static let orderRejectedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.rejected.v1.schema.json",
      "title": "Order.Rejected data (v1)",
      "type": "object",
      "required": ["orderId", "reasons", "rejectedAt"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "rejectedAt": { "type": "string", "format": "date-time" },
        "reasons": {
          "type": "array", "minItems": 1, "maxItems": 500,
          "items": \#(findingFragment)
        }
      }
    }
    """#

    /// `Order.Released` and `Order.Cancelled` on `oms.orders`.
    static let orderStatusChangeSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.status-change.v1.schema.json",
      "title": "Order.Released / Order.Cancelled data (v1)",
      "type": "object",
      "required": ["orderId", "reason", "at"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "reason": { "type": "string", "minLength": 1, "maxLength": 2000 },
        "at": { "type": "string", "format": "date-time" }
      }
    }
    """#

    /// `Order.ApprovalRequested` on `oms.notifications` (key: order id): a B2B
    /// order above the buyer's approval limit waits for one of the named approvers.
    static let orderApprovalRequestedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.approval-requested.v1.schema.json",
      "title": "Order.ApprovalRequested data (v1)",
      "type": "object",
      "required": ["orderId", "customerId", "buyerId", "approvers", "total", "currency", "reason", "requestedAt"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "customerId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "buyerId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "approvers": { "type": "array", "maxItems": 500, "items": { "type": "string", "maxLength": 200 } },
        "approvalLimit": { "type": "integer", "minimum": 0, "maximum": 1000000000000 },
        "total": { "type": "integer", "minimum": 0, "maximum": 1000000000000 },
        "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
        "reason": { "type": "string", "minLength": 1, "maxLength": 2000 },
        "requestedAt": { "type": "string", "format": "date-time" }
      }
    }
    """#
}
