import Foundation
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

    @Test("objects nested in objects and arrays keep their own members; a duplicate deep inside is named where it stands")
    func nestedMembers() throws {
        let text = #"{"a":{"b":{"c":1,"d":[{"e":2},{"e":3,"f":{}}]},"g":"é"},"h":[],"i":{"j":"k"}}"#
        let value = try JSONParser.parse(text)
        #expect(value["a"]?.objectValue?.count == 2)
        #expect(value["a"]?["b"]?.objectValue?.keys.sorted() == ["c", "d"])
        #expect(value["a"]?["b"]?["d"]?.arrayValue?.map { $0.objectValue?.count } == [1, 2])
        #expect(value["a"]?["b"]?["d"]?.arrayValue?[1]["f"] == .object([:]))
        #expect(value["a"]?["g"]?.stringValue == "é")
        #expect(value["i"]?["j"]?.stringValue == "k")
        #expect(value.objectValue?.keys.sorted() == ["a", "h", "i"])
        #expect(value.serializedString == text)
        let duplicate = #"{"x":1,"y":{"z":[1,2],"w":true,"z":3},"v":2}"#
        do {
            _ = try JSONParser.parse(duplicate)
            Issue.record("a duplicate key in a nested object must be refused")
        } catch {
            #expect(error.problem == #"duplicate key "z""#)
            // After the repeated member's value: `..."z":3` ends at byte 38.
            #expect(error.offset == Array(duplicate.utf8).count - 8, "\(error.offset)")
        }
        // The same key in sibling objects is no duplicate.
        #expect(try JSONParser.parse(#"[{"a":1},{"a":2}]"#).arrayValue?.map { $0["a"]?.int64Value } == [1, 2])
    }

    @Test("strings: ASCII, UTF-8 and escapes read alike; invalid UTF-8 is refused on either path")
    func stringPaths() throws {
        #expect(try JSONParser.parse(#"["plain","Grüße","\u00fc","a\nb","€𝄞"]"#).arrayValue?.compactMap(\.stringValue)
                == ["plain", "Grüße", "ü", "a\nb", "€𝄞"])
        for bytes: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0x61, 0xFF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x22]] {
            do {
                _ = try JSONParser.parse(bytes)
                Issue.record("invalid UTF-8 accepted: \(bytes)")
            } catch {
                #expect(error.problem == "string is not valid UTF-8")
            }
        }
    }
}

@Suite("UTC days and padded numbers")
struct UTCDayTests {
    @Test("EventTime.utcDay agrees with Foundation's Gregorian UTC calendar from 1970 to 9999, and gives up outside")
    func agreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SplitMix64(seed: 7)
        var instants: [Double] = [0, 86_399.999, 86_400, 951_782_400, 951_868_799.5, 4_107_542_400, 253_402_300_799.9]
        for _ in 0..<20_000 { instants.append(Double(generator.next() % 253_402_300_800_000) / 1000) }
        var differing: [String] = []
        for seconds in instants {
            let date = Date(timeIntervalSince1970: seconds)
            let c = calendar.dateComponents([.year, .month, .day], from: date)
            guard let day = EventTime.utcDay(date) else { differing.append("\(seconds): nil"); continue }
            if day.year != c.year || day.month != c.month || day.day != c.day { differing.append("\(seconds): \(day) vs \(c)") }
        }
        #expect(differing.isEmpty, "\(differing.prefix(5))")
        for outside in [-0.001, -86_400, 253_402_300_800, .nan, .infinity, -.infinity] {
            #expect(EventTime.utcDay(Date(timeIntervalSince1970: outside)) == nil, "\(outside)")
        }
    }

    @Test("zeroPadded writes what String(format:) wrote")
    func padding() {
        for value: Int64 in [0, 7, 42, 999_999, 1_000_000, 123_456_789, -5, Int64.max, Int64.min] {
            #expect(zeroPadded(value, width: 6) == String(format: "%06lld", value), "\(value)")
        }
        #expect(zeroPadded(2026, width: 4) == "2026")
        #expect(zeroPadded(3, width: 2) == "03")
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

@Suite("Digests")
struct DigestTests {
    @Test("lowercaseHex writes what String(format: \"%02x\") wrote, for every byte")
    func hex() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(lowercaseHex(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(lowercaseHex([UInt8]()) == "")
    }

    @Test("sha256Hex of parts is the SHA-256 of their concatenation (FIPS 180-2 vectors)")
    func sha256OfParts() {
        #expect(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex("a", "", "bc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijk", "ijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Non-ASCII text is hashed as its UTF-8 bytes.
        #expect(sha256Hex("Grüße", " aus München") == sha256Hex("Grüße aus München"))
    }
}
