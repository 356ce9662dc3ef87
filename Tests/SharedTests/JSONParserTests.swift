import Shared
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    @Test("values round-trip with exact integers")
    func roundTrip() throws {
        let text = #"{"a":[1,-2,3.5,true,false,null],"b":"x\"y\\z\n","c":{"d":9007199254740993}}"#
        let value = try JSONParser.parse(text)
        #expect(value["c"]?["d"]?.int64Value == 9_007_199_254_740_993)
        #expect(value["b"]?.stringValue == "x\"y\\z\n")
        #expect(try JSONParser.parse(value.serialized()) == value)
    }

    @Test("unicode escapes including surrogate pairs")
    func unicode() throws {
        #expect(try JSONParser.parse(#""M\u00fcnchen \ud83c\udfd4""#) == .string("München 🏔"))
    }

    @Test("broken documents are refused with a position",
          arguments: ["", "{", "{\"a\":1,}", "[1 2]", "\"abc", "01", "1.", "tru", "{\"a\":1}x", "{\"a\":1,\"a\":2}", "\"\\ud800\""])
    func refused(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("nesting deeper than the limit is refused, not a stack overflow")
    func deepNesting() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test("RFC 3339 date-times", arguments: [
        ("2026-11-27T09:14:03Z", true), ("2026-11-27T09:14:03.123+01:00", true), ("2026-11-27 09:14:03Z", false),
        ("2026-13-01T00:00:00Z", false), ("2026-11-27T09:14:03", false), ("yesterday", false),
        ("2026-04-31T09:14:01Z", false), ("2026-02-29T00:00:00Z", false), ("2028-02-29T00:00:00Z", true),
        ("1900-02-29T00:00:00Z", false), ("2000-02-29T00:00:00Z", true), ("0000-01-01T00:00:00Z", false),
        ("2026-12-31T23:59:60Z", false), ("2026-11-27T09:14:03Z\n", false),
    ])
    func dateTimes(text: String, valid: Bool) {
        #expect(RFC3339.isValid(text) == valid)
    }

    @Test("whole-valued decimals are integers, exactly; fractions stay numbers", arguments: [
        ("495.0", JSONValue.integer(495)), ("2995.000", .integer(2995)), ("2598e1", .integer(25980)), ("2.5e1", .integer(25)),
        ("-7.00", .integer(-7)), ("0.0", .integer(0)), ("1E2", .integer(100)), ("9223372036854775807.0", .integer(.max)),
        ("1.5", .number(1.5)), ("25e-1", .number(2.5)), ("1e19", .number(1e19)), ("123456789012345678901234567890", .number(1.2345678901234568e29)),
    ])
    func wholeValuedDecimals(text: String, value: JSONValue) throws {
        #expect(try JSONParser.parse(text) == value)
    }

    @Test("numbers beyond Double are refused, not turned into infinity", arguments: ["1e400", "-1e400", "1e99999999999999999999"])
    func hugeNumbers(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test("U+0000 is refused in values and keys: no stored text can hold it")
    func nul() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#"{"id":"a\u0000b"}"#) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#"{"a\u0000":1}"#) }
        do {
            _ = try JSONParser.parse(#"["\u0000"]"#)
        } catch {
            #expect(error.problem.contains("NUL"))
        }
    }

    @Test("keys are compared by code units; keys that differ only in normalization get their own reason")
    func normalization() {
        do {
            _ = try JSONParser.parse(#"{"caf\u00e9":1,"cafe\u0301":2}"#)
            Issue.record("must be refused (cannot be told apart after normalization)")
        } catch {
            #expect(error.problem.contains("Unicode normalization"))
            #expect(!error.problem.hasPrefix("duplicate key"))
        }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#"{"a":1,"a":2}"#) }
    }
}

@Suite("Storable JSON")
struct StorableJSONTests {
    @Test("a NUL in a string becomes U+FFFD for jsonb; an escaped backslash before u0000 stays text")
    func nulAndLookalikes() throws {
        let value: JSONValue = ["a": .string("x\u{0}y"), "b": .string("\\u0000 is text"), "c": .string("\\\u{0}")]
        let stored = value.storableJSON
        #expect(!stored.contains("\\u0000\""))
        let back = try JSONParser.parse(Array(stored.utf8))
        #expect(back["a"]?.stringValue == "x\u{FFFD}y")
        #expect(back["b"]?.stringValue == "\\u0000 is text")
        #expect(back["c"]?.stringValue == "\\\u{FFFD}")
        let plain: JSONValue = ["k": "Zoë ^XZ"]
        #expect(plain.storableJSON == plain.serializedString)
    }
}
