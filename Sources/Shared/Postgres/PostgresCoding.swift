import Foundation

/// A value that can be sent as a text-format bind parameter.
public protocol PostgresEncodable {
    /// The PostgreSQL text representation; nil is SQL NULL.
    var postgresText: String? { get }
}

/// A value that can be read from a text-format result column.
public protocol PostgresDecodable {
    init?(postgresText: String)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { uuidString.lowercased() }
    public init?(postgresText: String) { self.init(uuidString: postgresText) }
}

/// bytea in hex format (`\x0a0b…`).
extension Data: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { Self.hexEncoded(self) }

    public init?(postgresText: String) {
        guard postgresText.hasPrefix("\\x") else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity((postgresText.utf8.count - 2) / 2)
        var high: UInt8?
        for char in postgresText.utf8.dropFirst(2) {
            guard let nibble = Self.nibble(char) else { return nil }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard high == nil else { return nil }
        self.init(bytes)
    }

    static func hexEncoded<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]("\\x".utf8)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// timestamptz. Connections run with TimeZone=UTC and DateStyle=ISO, so the
/// server prints `2026-11-27 09:14:01.123456+00`.
extension Date: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? {
        formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public init?(postgresText: String) {
        var text = postgresText.replacingOccurrences(of: " ", with: "T")
        if text.hasSuffix("+00") { text = String(text.dropLast(3)) + "Z" }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            self = date
        } else if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) {
            self = date
        } else {
            return nil
        }
    }
}

/// One-dimensional arrays as PostgreSQL array literals, for set-based statements
/// such as `INSERT … SELECT * FROM unnest(\(ids)::text[], \(amounts)::bigint[])`.
extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresText: String? {
        var out = "{"
        for (index, element) in enumerated() {
            if index > 0 { out += "," }
            guard let text = element.arrayElementText else {
                out += "NULL"
                continue
            }
            out += "\""
            for scalar in text.unicodeScalars {
                if scalar == "\"" || scalar == "\\" { out += "\\" }
                out.unicodeScalars.append(scalar)
            }
            out += "\""
        }
        return out + "}"
    }
}

public protocol PostgresArrayElement {
    var arrayElementText: String? { get }
}

extension String: PostgresArrayElement { public var arrayElementText: String? { self } }
extension Int: PostgresArrayElement { public var arrayElementText: String? { String(self) } }
extension Int64: PostgresArrayElement { public var arrayElementText: String? { String(self) } }
extension Int32: PostgresArrayElement { public var arrayElementText: String? { String(self) } }
extension Bool: PostgresArrayElement { public var arrayElementText: String? { self ? "t" : "f" } }
extension UUID: PostgresArrayElement { public var arrayElementText: String? { postgresText } }
extension Data: PostgresArrayElement { public var arrayElementText: String? { postgresText } }
extension Date: PostgresArrayElement { public var arrayElementText: String? { postgresText } }
extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public var arrayElementText: String? { self?.arrayElementText }
}
