extension EventContracts {
    /// `Order.CancellationRequested` on `shop.orders` (from the shop) and on
    /// `oms.orders` (forwarded by Capture to the Router once an order went on).
    static let orderCancellationRequestedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.cancellation-requested.v1.schema.json",
      "title": "Order.CancellationRequested data (v1)",
      "type": "object",
      "required": ["orderId", "reason"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 64 },
        "reason": { "type": "string", "minLength": 1, "maxLength": 500 },
        "requestedBy": { "type": "string", "maxLength": 200 }
      }
    }
    """#

    /// `Order.ApprovalGiven` / `Order.ApprovalDenied` on `shop.orders` (B2B portal,
    /// customer service via `omsctl order approve|reject`).
    static let orderApprovalSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.approval.v1.schema.json",
      "title": "Order.ApprovalGiven / Order.ApprovalDenied data (v1)",
      "type": "object",
      "required": ["orderId", "by"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 64 },
        "by": { "type": "string", "minLength": 1, "maxLength": 200 },
        "reason": { "type": "string", "maxLength": 500 }
      }
    }
    """#
}
