/// A strict RFC 8259 parser: UTF-8 checked, duplicate keys and trailing
/// content refused, nesting bounded so that hostile input cannot exhaust the stack.
///
/// Two rules beyond RFC 8259, both so that whatever it returns can be stored:
/// - U+0000 in a string (only possible as `\u0000`) is refused: PostgreSQL text
///   and jsonb cannot hold it, so an id or value carrying it could never be
///   written, not even into a dead letter.
/// - A number with a fraction or exponent whose value is a whole number that fits
///   Int64 (`495.0`, `2598e1`) is read as that integer, exactly (no Double on
///   the way): JSON Schema calls it an integer, so the readers must too. Numbers
///   outside the Double range (`1e400`) are refused.
public struct JSONParser {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let offset: Int
        public let problem: String
        public var description: String { "invalid JSON at byte \(offset): \(problem)" }
    }

    public static let maximumDepth = 64

    /// The document being read; valid only inside `parse`. Every read below is preceded by a check of
    /// `index` against `bytes.count` (debug builds check the buffer's bounds again; the fuzz tests run those).
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// Members of the objects still open: key, value, and the offset after the value (where a duplicate is named).
    private var pending: [(key: String, value: JSONValue, offset: Int)] = []

    public static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        // Reading through the buffer rather than the array: this parser is the largest single cost of every
        // stage (measured 15-33 % of a worker's CPU), and the array's own bounds checks were part of it.
        let result: Result<JSONValue, Failure> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            return Result { () throws(Failure) -> JSONValue in
                parser.skipWhitespace()
                let value = try parser.parseValue(depth: 0)
                parser.skipWhitespace()
                guard parser.index == buffer.count else { throw parser.failure("unexpected content after the document") }
                return value
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(Failure) -> JSONValue { try parse(Array(text.utf8)) }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private func failure(_ problem: String) -> Failure { Failure(offset: index, problem: problem) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth)") }
        guard index < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw failure("unexpected end of input") }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw failure("invalid literal")
        }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        // The members are collected on one stack shared by all nesting levels and the dictionary is built once at
        // the closing brace with its final size: growing it member by member rehashed every key at each doubling
        // and allocated new storage each time (measured: most of this parser's cost).
        let first = pending.count
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            pending.append((key, value, index))
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                break
            }
            throw failure("expected ',' or '}'")
        }
        var members = [String: JSONValue](minimumCapacity: pending.count - first)
        for (key, value, offset) in pending[first...] where members.updateValue(value, forKey: key) != nil {
            // Swift compares strings by canonical equivalence; RFC 8259 by code units. The refusal names the
            // place after the repeated member's value, as it did when members were checked one by one.
            let stored = members.index(forKey: key).map { members[$0].key } ?? key
            if stored.utf8.elementsEqual(key.utf8) { throw Failure(offset: offset, problem: "duplicate key \"\(key.prefix(64))\"") }
            throw Failure(offset: offset, problem: "keys \"\(stored.prefix(64))\" and \"\(key.prefix(64))\" differ only in Unicode normalization; such objects are refused")
        }
        pending.removeSubrange(first...)
        return .object(members)
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            throw failure("expected ',' or ']'")
        }
    }

    private mutating func parseString() throws(Failure) -> String {
        index += 1
        let start = index
        // Fast path: no escapes; ASCII-only text (most keys and values) needs no UTF-8 validation.
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeBufferPointer(rebasing: bytes[start..<index])
                let text: String
                if ascii {
                    text = String(decoding: content, as: UTF8.self)
                } else {
                    guard let valid = String(validating: content, as: UTF8.self) else { throw failure("string is not valid UTF-8") }
                    text = valid
                }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("control character in string") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: buffer, as: UTF8.self) else { throw failure("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw failure("unexpected end of input") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalarValue = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalarValue) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw failure("unpaired surrogate")
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
                        scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard scalarValue != 0 else { throw failure("\\u0000 (NUL) is not accepted in strings") }
                    guard let scalar = Unicode.Scalar(scalarValue) else { throw failure("invalid \\u escape") }
                    buffer.append(contentsOf: String(Character(scalar)).utf8)
                default: throw failure("invalid escape")
                }
            default:
                if byte < 0x20 { throw failure("control character in string") }
                buffer.append(byte)
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = index
        let digit = UInt8(ascii: "0")...UInt8(ascii: "9")
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, digit.contains(bytes[index]) else { throw failure("invalid number") }
        let integerStart = index
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, digit.contains(bytes[index]) { index += 1 }
        }
        let integerDigits = bytes[integerStart..<index]
        var fractionDigits = bytes[index..<index]
        var exponent = 0
        var isPlainInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isPlainInteger = false
            index += 1
            let digitsStart = index
            while index < bytes.count, digit.contains(bytes[index]) { index += 1 }
            guard index > digitsStart else { throw failure("invalid number") }
            fractionDigits = bytes[digitsStart..<index]
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isPlainInteger = false
            index += 1
            var negative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                negative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let digitsStart = index
            while index < bytes.count, digit.contains(bytes[index]) {
                // Saturate: beyond a few thousand the value is 0 or out of range anyway.
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            guard index > digitsStart else { throw failure("invalid number") }
            if negative { exponent = -exponent }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isPlainInteger, let integer = Int64(text) { return .integer(integer) }
        if !isPlainInteger, let integer = Self.wholeValue(negative: bytes[start] == UInt8(ascii: "-"), integerDigits: integerDigits,
                                                          fractionDigits: fractionDigits, exponent: exponent) {
            return .integer(integer)
        }
        guard let double = Double(text), double.isFinite else { throw failure("number out of range") }
        return .number(double)
    }

    /// The exact value of `digits × 10^exponent` when it is a whole number within Int64.
    private static func wholeValue(negative: Bool, integerDigits: Slice<UnsafeBufferPointer<UInt8>>, fractionDigits: Slice<UnsafeBufferPointer<UInt8>>,
                                   exponent: Int) -> Int64? {
        var digits = Array(integerDigits) + Array(fractionDigits)
        var scale = exponent - fractionDigits.count
        while let first = digits.first, first == UInt8(ascii: "0") { digits.removeFirst() }
        if digits.isEmpty { return 0 }
        while scale < 0, let last = digits.last, last == UInt8(ascii: "0") {
            digits.removeLast()
            scale += 1
        }
        guard scale >= 0, digits.count + scale <= 19 else { return nil }
        var value: Int64 = 0
        for byte in digits + Array(repeating: UInt8(ascii: "0"), count: scale) {
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflowA, !overflowB else { return nil }
            value = sum
        }
        // Int64.min's magnitude does not fit; it is not a plausible whole-valued decimal.
        return negative ? -value : value
    }
}
