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
    ])
    func dateTimes(text: String, valid: Bool) {
        #expect(RFC3339.isValid(text) == valid)
    }
}
