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
        "\\x" + lowercaseHex(bytes)
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
/// Built byte-wise: a batch can hold megabytes of literal text.
extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresText: String? {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(2 + count * 16)
        buffer.append(UInt8(ascii: "{"))
        for (index, element) in enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            element.appendArrayElement(to: &buffer)
        }
        buffer.append(UInt8(ascii: "}"))
        return String(decoding: buffer, as: UTF8.self)
    }
}

public protocol PostgresArrayElement {
    /// Appends this value as one element of an array literal: quoted and
    /// escaped, or the bare word NULL.
    func appendArrayElement(to buffer: inout [UInt8])
}

enum ArrayLiteral {
    static func appendQuoted<Bytes: Sequence<UInt8>>(_ bytes: Bytes, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { buffer.append(UInt8(ascii: "\\")) }
            buffer.append(byte)
        }
        buffer.append(UInt8(ascii: "\""))
    }

    static func appendBare(_ text: String, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: text.utf8)
    }
}

extension String: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) {
        var copy = self
        copy.withUTF8 { ArrayLiteral.appendQuoted($0, to: &buffer) }
    }
}
extension Int: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) { ArrayLiteral.appendBare(String(self), to: &buffer) }
}
extension Int64: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) { ArrayLiteral.appendBare(String(self), to: &buffer) }
}
extension Int32: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) { ArrayLiteral.appendBare(String(self), to: &buffer) }
}
extension Bool: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) { buffer.append(self ? UInt8(ascii: "t") : UInt8(ascii: "f")) }
}
extension UUID: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) { ArrayLiteral.appendBare(uuidString.lowercased(), to: &buffer) }
}
extension Date: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) { ArrayLiteral.appendQuoted(postgresText!.utf8, to: &buffer) }
}
/// bytea elements in hex format: `"\\x0a0b"` (the backslash escaped for the array literal).
extension Data: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        buffer.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        digits.withUTF8Buffer { hex in
            withUnsafeBytes { bytes in
                for byte in bytes {
                    buffer.append(hex[Int(byte >> 4)])
                    buffer.append(hex[Int(byte & 0x0f)])
                }
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }
}
extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public func appendArrayElement(to buffer: inout [UInt8]) {
        if let value = self {
            value.appendArrayElement(to: &buffer)
        } else {
            buffer.append(contentsOf: "NULL".utf8)
        }
    }
}
