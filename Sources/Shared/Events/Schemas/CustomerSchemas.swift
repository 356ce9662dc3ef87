extension EventContracts {
    /// `Customer.Changed` on `crm.customers` (key: customer id), from the CRM/ERP:
    /// the customer's full current state, including B2B terms and buyers.
    static let customerChangedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/customer.changed.v1.schema.json",
      "title": "Customer.Changed data (v1)",
      "type": "object",
      "required": ["customerId", "type"],
      "properties": {
        "customerId": { "type": "string", "minLength": 1, "maxLength": 64 },
        "type": { "enum": ["b2c", "b2b"] },
        "group": { "type": "string", "maxLength": 64 },
        "vatId": { "type": "string", "maxLength": 20 },
        "creditLimit": {
          "type": "object",
          "required": ["amount", "currency"],
          "properties": {
            "amount": { "type": "integer", "minimum": 0, "maximum": 1000000000000 },
            "currency": { "type": "string", "pattern": "^[A-Z]{3}$" }
          }
        },
        "paymentTerms": {
          "type": "object",
          "required": ["code", "netDays"],
          "properties": {
            "code": { "type": "string", "minLength": 1, "maxLength": 32 },
            "netDays": { "type": "integer", "minimum": 0, "maximum": 365 },
            "discountDays": { "type": "integer", "minimum": 0, "maximum": 365 },
            "discountPercent": { "type": "number", "minimum": 0, "maximum": 100 }
          }
        },
        "buyers": {
          "type": "array", "maxItems": 500,
          "items": {
            "type": "object",
            "required": ["buyerId", "approvers"],
            "properties": {
              "buyerId": { "type": "string", "minLength": 1, "maxLength": 64 },
              "name": { "type": "string", "maxLength": 200 },
              "approvalLimit": { "type": "integer", "minimum": 0, "maximum": 1000000000000 },
              "approvers": { "type": "array", "maxItems": 500, "items": { "type": "string", "minLength": 1, "maxLength": 200 } }
            }
          }
        }
      }
    }
    """#

    /// `Receivables.Changed` on `crm.customers` (key: customer id): the customer's
    /// unpaid invoices as the ledger sees them (the ERP today, the billing topic later).
    static let receivablesChangedSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/receivables.changed.v1.schema.json",
      "title": "Receivables.Changed data (v1)",
      "type": "object",
      "required": ["customerId", "unpaidAmount", "currency"],
      "properties": {
        "customerId": { "type": "string", "minLength": 1, "maxLength": 64 },
        "unpaidAmount": { "type": "integer", "minimum": 0, "maximum": 1000000000000 },
        "currency": { "type": "string", "pattern": "^[A-Z]{3}$" }
      }
    }
    """#
}
