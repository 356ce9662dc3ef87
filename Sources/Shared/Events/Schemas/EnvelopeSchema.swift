extension EventContracts {
    static let envelopeSchemaText = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://oms.example/schemas/cloudevent-envelope.schema.json",
      "title": "CloudEvents 1.0 envelope (structured JSON mode) with correlationid/causationid",
      "type": "object",
      "required": ["specversion", "id", "source", "type", "data"],
      "properties": {
        "specversion": { "const": "1.0" },
        "id": { "type": "string", "minLength": 1, "maxLength": 200 },
        "source": { "type": "string", "minLength": 1, "maxLength": 500 },
        "type": { "type": "string", "pattern": "^[A-Z][A-Za-z]*\\.[A-Z][A-Za-z]*$" },
        "subject": { "type": "string", "minLength": 1, "maxLength": 200 },
        "time": { "type": "string", "format": "date-time" },
        "datacontenttype": { "enum": ["application/json"] },
        "correlationid": { "type": "string", "minLength": 1, "maxLength": 200 },
        "causationid": { "type": "string", "minLength": 1, "maxLength": 200 },
        "data": { "type": "object" }
      }
    }
    """#
}
