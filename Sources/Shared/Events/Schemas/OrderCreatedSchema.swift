extension EventContracts {
    /// `Order.Created` on `shop.orders` (SPEC §8). Extra fields are allowed so
    /// that shops can send more than we read.
    static let orderCreatedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.created.v1.schema.json",
      "title": "Order.Created data (v1)",
      "type": "object",
      "required": ["orderId", "placedAt", "currency", "pricesIncludeTax", "customer", "billingAddress",
                   "shippingAddress", "shippingMethod", "payment", "lines"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9._-]+$" },
        "placedAt": { "type": "string", "format": "date-time" },
        "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
        "pricesIncludeTax": { "type": "boolean" },
        "customer": {
          "type": "object",
          "required": ["id", "type", "email"],
          "properties": {
            "id": { "type": "string", "minLength": 1, "maxLength": 64 },
            "type": { "enum": ["b2c", "b2b"] },
            "email": { "type": "string", "minLength": 3, "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+$" },
            "phone": { "type": "string", "maxLength": 32 },
            "group": { "type": "string", "maxLength": 64 },
            "vatId": { "type": "string", "maxLength": 20 },
            "buyerId": { "type": "string", "maxLength": 64 }
          }
        },
        "billingAddress": { "$ref": "#/$defs/address" },
        "shippingAddress": { "$ref": "#/$defs/address" },
        "shippingMethod": { "type": "string", "minLength": 1, "maxLength": 32 },
        "shipComplete": { "type": "boolean" },
        "payment": {
          "type": "object",
          "required": ["method", "status", "amount"],
          "properties": {
            "method": { "type": "string", "minLength": 1, "maxLength": 32 },
            "status": { "type": "string", "minLength": 1, "maxLength": 32 },
            "reference": { "type": "string", "maxLength": 128 },
            "amount": { "type": "integer", "minimum": 0, "maximum": 1000000000000 }
          }
        },
        "lines": {
          "type": "array",
          "minItems": 1,
          "maxItems": 500,
          "items": {
            "type": "object",
            "required": ["lineId", "sku", "quantity", "unitPrice"],
            "properties": {
              "lineId": { "type": "string", "minLength": 1, "maxLength": 32 },
              "sku": { "type": "string", "minLength": 1, "maxLength": 64 },
              "quantity": { "type": "integer", "minimum": 1, "maximum": 100000 },
              "unitPrice": { "type": "integer", "minimum": 0, "maximum": 10000000000 }
            }
          }
        },
        "shippingCharge": { "type": "integer", "minimum": 0, "maximum": 10000000000 },
        "gift": {
          "type": "object",
          "properties": {
            "wrap": { "type": "boolean" },
            "message": { "type": "string", "maxLength": 500 }
          }
        },
        "clientIp": { "type": "string", "maxLength": 45 }
      },
      "$defs": {
        "address": {
          "type": "object",
          "required": ["name", "street", "postalCode", "city", "country"],
          "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 200 },
            "street": { "type": "string", "minLength": 1, "maxLength": 200 },
            "postalCode": { "type": "string", "minLength": 1, "maxLength": 16 },
            "city": { "type": "string", "minLength": 1, "maxLength": 100 },
            "country": { "type": "string", "pattern": "^[A-Z]{2}$" }
          }
        }
      }
    }
    """#

    /// `Order.Accepted` on `oms.orders`.
    static let orderAcceptedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/order.accepted.v1.schema.json",
      "title": "Order.Accepted data (v1)",
      "type": "object",
      "required": ["orderId", "customerId", "customerType", "currency", "total", "lines", "acceptedAt"],
      "properties": {
        "orderId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "customerId": { "type": "string", "minLength": 1, "maxLength": 200 },
        "customerType": { "enum": ["b2c", "b2b"] },
        "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
        "total": { "type": "integer", "minimum": 0, "maximum": 1000000000000 },
        "shipComplete": { "type": "boolean" },
        "shippingMethod": { "type": "string", "maxLength": 200 },
        "shippingCountry": { "type": "string", "pattern": "^[A-Z]{2}$" },
        "acceptedAt": { "type": "string", "format": "date-time" },
        "buyerId": { "type": "string", "maxLength": 200 },
        "paymentTerms": \#(paymentTermsFragment),
        "lines": { "type": "array", "minItems": 1, "maxItems": 500, "items": \#(outcomeLineFragment) }
      }
    }
    """#
}
