import Foundation
import Shared
import Testing

@Suite("CloudEvents envelope and Order.Created schema")
struct EnvelopeValidationTests {
    static let example = BergUndBeutelOrders.orderCreated(index: 1)

    @Test("the SPEC §8 example passes", arguments: [0, 1, 2, 3, 4, 5])
    func validExamplesPass(index: Int) throws {
        let event = BergUndBeutelOrders.orderCreated(index: index)
        let decoded = try CloudEvent.decode(event.serialized(), maximumBytes: 262_144)
        #expect(decoded == event)
        try EventContracts.validateData(of: decoded, accepted: ["Order.Created"])
    }

    @Test("each required envelope field missing gives an error naming it",
          arguments: ["specversion", "id", "source", "type", "data"])
    func missingEnvelopeField(field: String) throws {
        var envelope = Self.example.json.objectValue!
        envelope[field] = nil
        #expect(throws: PermanentFailure.invalidEnvelope("event: required property \"\(field)\" is missing")) {
            try CloudEvent.decode(JSONValue.object(envelope).serialized(), maximumBytes: 262_144)
        }
    }

    @Test("each required data field missing gives an error naming it",
          arguments: ["orderId", "placedAt", "currency", "pricesIncludeTax", "customer", "billingAddress",
                      "shippingAddress", "shippingMethod", "payment", "lines"])
    func missingDataField(field: String) throws {
        var event = Self.example
        var data = event.data.objectValue!
        data[field] = nil
        event.data = .object(data)
        #expect(throws: PermanentFailure.schemaViolation("data: required property \"\(field)\" is missing")) {
            try EventContracts.validateData(of: event, accepted: ["Order.Created"])
        }
    }

    @Test("nested required fields are named by their path",
          arguments: [("customer", "email"), ("customer", "id"), ("billingAddress", "postalCode"),
                      ("shippingAddress", "country"), ("payment", "amount")])
    func missingNestedField(parent: String, field: String) throws {
        var event = Self.example
        var data = event.data.objectValue!
        var inner = data[parent]!.objectValue!
        inner[field] = nil
        data[parent] = .object(inner)
        event.data = .object(data)
        #expect(throws: PermanentFailure.schemaViolation("data.\(parent): required property \"\(field)\" is missing")) {
            try EventContracts.validateData(of: event, accepted: ["Order.Created"])
        }
    }

    @Test("unknown extra fields are allowed")
    func extraFieldsAllowed() throws {
        var event = Self.example
        var data = event.data.objectValue!
        data["loyaltyPoints"] = 120
        event.data = .object(data)
        try EventContracts.validateData(of: event, accepted: ["Order.Created"])
    }

    @Test("a type this consumer does not handle is refused with its name")
    func unknownType() throws {
        var event = Self.example
        event.type = "Order.Teleported"
        let error = #expect(throws: PermanentFailure.self) { try EventContracts.validateData(of: event, accepted: ["Order.Created"]) }
        #expect(error?.errorClass == "unknown-event-type")
        #expect(error?.reason.contains("Order.Teleported") == true)
    }

    @Test("oversized events are refused before parsing")
    func tooLarge() {
        let bytes = [UInt8](repeating: UInt8(ascii: " "), count: 300_000)
        #expect(throws: PermanentFailure.tooLarge("event is 300000 bytes, the limit is 262144")) {
            try CloudEvent.decode(bytes, maximumBytes: 262_144)
        }
    }

    @Test("every exported schema compiles")
    func schemasCompile() throws {
        for (name, text) in EventContracts.schemaFiles {
            _ = try JSONSchema(json: text)
            #expect(name.hasSuffix(".schema.json"))
        }
    }

    @Test("a schema with an unsupported keyword is refused, not half-applied")
    func unsupportedKeyword() {
        #expect(throws: (any Error).self) { try JSONSchema(json: #"{"type":"object","oneOf":[]}"#) }
    }
}

@Suite("JSON Schema subset")
struct JSONSchemaSubsetTests {
    @Test("$ in a pattern is the end of the text: a trailing newline does not match")
    func strictAnchor() throws {
        let schema = try JSONSchema(json: #"{"type":"string","pattern":"^[A-Z]{3}$"}"#)
        #expect(schema.validate("EUR").isEmpty)
        #expect(!schema.validate("EUR\n").isEmpty)
        #expect(!schema.validate("EUR\r\n").isEmpty)
        let escaped = try JSONSchema(json: #"{"type":"string","pattern":"^a\\$[$]$"}"#)
        #expect(escaped.validate("a$$").isEmpty)
    }

    @Test("additionalProperties as a schema checks every extra property")
    func additionalSchema() throws {
        let schema = try JSONSchema(json: #"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}}"#)
        #expect(schema.validate(["a": "x", "b": 1]).isEmpty)
        #expect(schema.validate(["a": "x", "b": "y"]).map(\.path) == ["$.b"])
    }

    @Test("enum and const compare numbers by value; integer is what the reader reads")
    func numericEquality() throws {
        let schema = try JSONSchema(json: #"{"enum":[1, 2.5]}"#)
        #expect(schema.validate(try JSONParser.parse("1.0")).isEmpty)
        #expect(schema.validate(.number(1.0)).isEmpty)
        #expect(!schema.validate(.integer(2)).isEmpty)
        let integer = try JSONSchema(json: #"{"type":"integer"}"#)
        #expect(integer.validate(try JSONParser.parse("495.0")).isEmpty)
        #expect(integer.validate(try JSONParser.parse("1e30")).first?.problem.contains("outside the 64-bit") == true)
    }

    @Test("what the validator does not implement is refused at load time")
    func refusesUnknown() {
        #expect(throws: (any Error).self) { try JSONSchema(json: #"{"type":"string","format":"email"}"#) }
        #expect(throws: (any Error).self) { try JSONSchema(json: #"{"oneOf":[]}"#) }
        #expect(throws: (any Error).self) { try JSONSchema(json: #"{"additionalProperties":1}"#) }
    }
}
