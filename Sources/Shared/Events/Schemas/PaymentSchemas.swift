extension EventContracts {
    /// `Payment.Captured` / `Payment.Failed` on `shop.payments` (key: order id).
    static let paymentCapturedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/payment.captured.v1.schema.json",
      "title": "Payment.Captured data (v1): the money for an order arrived",
      "type": "object",
      "required": ["orderId", "amount", "currency"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 64 },
        "reference": { "type": "string", "maxLength": 128 },
        "amount": { "type": "integer", "minimum": 1, "maximum": 1000000000000 },
        "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
        "capturedAt": { "type": "string", "format": "date-time" }
      }
    }
    """#

    static let paymentFailedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/payment.failed.v1.schema.json",
      "title": "Payment.Failed data (v1): the payment for an order will not come",
      "type": "object",
      "required": ["orderId", "reason"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 64 },
        "reference": { "type": "string", "maxLength": 128 },
        "reason": { "type": "string", "minLength": 1, "maxLength": 500 }
      }
    }
    """#
}
