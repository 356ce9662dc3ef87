extension EventContracts {
    /// `Product.Changed` on `catalog.products` (key: SKU), from the PIM: the full
    /// current state of one product.
    static let productChangedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/product.changed.v1.schema.json",
      "title": "Product.Changed data (v1)",
      "type": "object",
      "required": ["sku", "name", "sellable", "taxClass"],
      "properties": {
        "sku": { "type": "string", "minLength": 1, "maxLength": 64 },
        "name": { "type": "string", "minLength": 1, "maxLength": 300 },
        "sellable": { "type": "boolean" },
        "discontinued": { "type": "boolean" },
        "taxClass": { "type": "string", "minLength": 1, "maxLength": 32 },
        "weightGrams": { "type": "integer", "minimum": 0, "maximum": 10000000 },
        "dimensionsMm": {
          "type": "object",
          "required": ["length", "width", "height"],
          "properties": {
            "length": { "type": "integer", "minimum": 0, "maximum": 100000 },
            "width": { "type": "integer", "minimum": 0, "maximum": 100000 },
            "height": { "type": "integer", "minimum": 0, "maximum": 100000 }
          }
        },
        "hsCode": { "type": "string", "pattern": "^[0-9]{6,10}$" },
        "originCountry": { "type": "string", "pattern": "^[A-Z]{2}$" },
        "dangerousGoodsClass": { "type": "string", "maxLength": 16 },
        "minimumAge": { "type": "integer", "minimum": 0, "maximum": 21 },
        "bulky": { "type": "boolean" },
        "returnable": { "type": "boolean" },
        "personalizable": { "type": "boolean" },
        "preorderReleaseDate": { "type": "string", "format": "date-time" },
        "dropShipSupplier": { "type": "string", "maxLength": 64 },
        "serviceSkill": { "type": "string", "maxLength": 64 },
        "groupPrices": {
          "type": "array", "maxItems": 500,
          "items": {
            "type": "object",
            "required": ["group", "currency", "unitPrice"],
            "properties": {
              "group": { "type": "string", "minLength": 1, "maxLength": 64 },
              "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
              "unitPrice": { "type": "integer", "minimum": 0, "maximum": 10000000000 }
            }
          }
        }
      }
    }
    """#
}
