/// A parsed JSON document. Integers stay exact (`Int64`) so that money in minor
/// units never passes through a floating-point value.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int64Value: Int64? { if case .integer(let i) = self { return i } else { return nil } }
    /// Any JSON number as a Double.
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }

    /// Equality as JSON Schema's `enum`/`const` mean it: numbers by value
    /// (`1` equals `1.0`), objects by members, arrays element by element.
    public func sameJSONValue(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.integer(let a), .number(let b)), (.number(let b), .integer(let a)): return Double(a) == b && Int64(exactly: b) == a
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.sameJSONValue(as: $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { value.sameJSONValue(as: $0) } ?? false }
        default: return self == other
        }
    }

    /// The JSON Schema type name of this value.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// Compact JSON with object keys sorted, so equal values serialize to equal bytes.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(into: &out)
        return out
    }

    public var serializedString: String { String(decoding: serialized(), as: UTF8.self) }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): out.append(contentsOf: String(i).utf8)
        case .number(let d):
            if d.isFinite { out.append(contentsOf: "\(d)".utf8) } else { out.append(contentsOf: "null".utf8) }
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in members.sorted(by: { $0.key < $1.key }) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = string
        let needsEscaping = text.withUTF8 { bytes in bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") } }
        if !needsEscaping {
            text.withUTF8 { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            return
        }
        let hex: StaticString = "0123456789abcdef"
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                hex.withUTF8Buffer { digits in
                    out.append(digits[Int(byte >> 4)])
                    out.append(digits[Int(byte & 0xF)])
                }
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Sets `key` inside the nested object `object` (created if missing), e.g.
    /// `data.set("payment", "status", "pending")`.
    public mutating func set(_ object: String, _ key: String, _ value: JSONValue) {
        var inner = self[object]?.objectValue ?? [:]
        inner[key] = value
        self[object] = .object(inner)
    }
}

extension String {
    /// This text with U+0000 replaced by U+FFFD: PostgreSQL text cannot hold NUL, and a
    /// write that the database refuses for one message must never block its neighbours.
    /// The parser already refuses NUL in input; this guards what code builds from it.
    public var storable: String {
        guard utf8.contains(0) else { return self }
        var scalars = String.UnicodeScalarView()
        for scalar in unicodeScalars { scalars.append(scalar.value == 0 ? "\u{FFFD}" : scalar) }
        return String(scalars)
    }
}

extension JSONValue {
    /// Serialized for a jsonb column, which refuses the escape `\u0000`.
    public var storableJSON: String {
        var bytes = serialized()
        // One pass over the bytes (this runs for every audit and outbox row): only a real escape `\u0000` is
        // replaced, never an escaped backslash followed by "u0000" (`\\u0000` is text, not a NUL).
        var index = 0
        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\") else { index += 1; continue }
            if bytes[index + 1] == UInt8(ascii: "u"), index + 5 < bytes.count, bytes[index + 2] == 0x30, bytes[index + 3] == 0x30,
               bytes[index + 4] == 0x30, bytes[index + 5] == 0x30 {
                bytes.replaceSubrange((index + 2)...(index + 5), with: Array("fffd".utf8))
            }
            index += 2
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
