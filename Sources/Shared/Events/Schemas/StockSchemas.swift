extension EventContracts {
    /// `Availability.Changed` on `oms.stock`, published by the Router (the owner of
    /// stock) per transaction: what can be promised per SKU, network-wide and per
    /// warehouse, with the next inbound ETA. Per SKU, the newest `asOf` counts.
    static let availabilityChangedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/availability.changed.v1.schema.json",
      "title": "Availability.Changed data (v1)",
      "type": "object",
      "required": ["asOf", "items"],
      "properties": {
        "asOf": { "type": "string", "format": "date-time" },
        "items": {
          "type": "array", "minItems": 1, "maxItems": 10000,
          "items": {
            "type": "object",
            "required": ["sku", "available"],
            "properties": {
              "sku": { "type": "string", "minLength": 1, "maxLength": 64 },
              "available": { "type": "integer", "minimum": 0, "maximum": 100000000 },
              "nextEta": { "type": "string", "format": "date-time" },
              "warehouses": {
                "type": "array", "maxItems": 500,
                "items": {
                  "type": "object",
                  "required": ["warehouseId", "available"],
                  "properties": {
                    "warehouseId": { "type": "string", "minLength": 1, "maxLength": 32 },
                    "available": { "type": "integer", "minimum": 0, "maximum": 100000000 }
                  }
                }
              }
            }
          }
        }
      }
    }
    """#
}
