import Foundation

/// A JSON Schema (draft 2020-12 vocabulary, the subset our contracts use:
/// type, properties, required, additionalProperties, items, min/maxItems,
/// minimum/maximum/exclusiveMinimum, min/maxLength, pattern, enum, const,
/// format date-time, and local `$ref` into `$defs`).
///
/// No JSON Schema validator is packaged for Swift on this machine; schemas
/// using other keywords are refused when loaded rather than silently ignored.
public final class JSONSchema: Sendable {
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        /// Where in the document, e.g. `data.lines[0].quantity`.
        public let path: String
        public let problem: String
        public var description: String { "\(path): \(problem)" }
    }

    private let root: Node

    public init(_ document: JSONValue) throws {
        let definitions = document["$defs"]?.objectValue ?? [:]
        root = try Node(document, definitions: definitions, depth: 0)
    }

    public convenience init(json text: String) throws {
        try self.init(try JSONParser.parse(text))
    }

    /// All violations, in document order; empty means valid.
    public func validate(_ value: JSONValue, at path: String = "$") -> [Violation] {
        var violations: [Violation] = []
        root.validate(value, path: path, into: &violations)
        return violations
    }

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    enum Additional: Sendable {
        case refuse
        case schema(Node)
    }

    final class Node: Sendable {
        let types: [String]?
        let properties: [(String, Node)]
        let required: [String]
        /// nil: any extra property is fine; `.refuse`: none allowed; `.schema`: each must match it.
        let additionalProperties: Additional?
        let items: Node?
        let minItems: Int?
        let maxItems: Int?
        let minimum: Double?
        let maximum: Double?
        let exclusiveMinimum: Double?
        let minLength: Int?
        let maxLength: Int?
        let pattern: StrictPattern?
        let enumeration: [JSONValue]?
        let constant: JSONValue?
        let format: String?

        static let supportedKeywords: Set<String> = [
            "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "examples", "type", "properties",
            "required", "additionalProperties", "items", "minItems", "maxItems", "minimum", "maximum",
            "exclusiveMinimum", "minLength", "maxLength", "pattern", "enum", "const", "format", "default",
        ]

        init(_ schemaValue: JSONValue, definitions: [String: JSONValue], depth: Int) throws {
            guard depth < 32 else { throw LoadError(description: "schema nesting too deep or $ref cycle") }
            var schema = schemaValue
            if let reference = schema["$ref"]?.stringValue {
                let prefix = "#/$defs/"
                guard reference.hasPrefix(prefix), let target = definitions[String(reference.dropFirst(prefix.count))] else {
                    throw LoadError(description: "unresolvable $ref \(reference)")
                }
                schema = target
            }
            guard case .object(let keywords) = schema else { throw LoadError(description: "a schema must be an object") }
            if let unknown = keywords.keys.first(where: { !Self.supportedKeywords.contains($0) }) {
                throw LoadError(description: "unsupported keyword \(unknown)")
            }
            switch keywords["type"] {
            case .string(let t): types = [t]
            case .array(let list): types = list.compactMap(\.stringValue)
            default: types = nil
            }
            properties = try (keywords["properties"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map {
                ($0.key, try Node($0.value, definitions: definitions, depth: depth + 1))
            }
            required = keywords["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch keywords["additionalProperties"] {
            case nil, .bool(true): additionalProperties = nil
            case .bool(false): additionalProperties = .refuse
            case .object(let value): additionalProperties = .schema(try Node(.object(value), definitions: definitions, depth: depth + 1))
            default: throw LoadError(description: "additionalProperties must be a boolean or a schema")
            }
            items = try keywords["items"].map { try Node($0, definitions: definitions, depth: depth + 1) }
            minItems = keywords["minItems"]?.int64Value.map(Int.init)
            maxItems = keywords["maxItems"]?.int64Value.map(Int.init)
            minimum = Self.number(keywords["minimum"])
            maximum = Self.number(keywords["maximum"])
            exclusiveMinimum = Self.number(keywords["exclusiveMinimum"])
            minLength = keywords["minLength"]?.int64Value.map(Int.init)
            maxLength = keywords["maxLength"]?.int64Value.map(Int.init)
            pattern = try keywords["pattern"]?.stringValue.map(StrictPattern.init)
            if let value = keywords["enum"], value.arrayValue == nil { throw LoadError(description: "enum must be an array") }
            enumeration = keywords["enum"]?.arrayValue
            constant = keywords["const"]
            format = keywords["format"]?.stringValue
            if let format, format != "date-time" { throw LoadError(description: "unsupported format \(format)") }
            for key in ["minItems", "maxItems", "minLength", "maxLength"] where keywords[key] != nil && keywords[key]?.int64Value == nil {
                throw LoadError(description: "\(key) must be an integer")
            }
        }

        private static func number(_ value: JSONValue?) -> Double? {
            switch value {
            case .integer(let i): return Double(i)
            case .number(let d): return d
            default: return nil
            }
        }

        func validate(_ value: JSONValue, path: String, into violations: inout [Violation]) {
            if let types, !types.contains(where: { Self.matches(value, type: $0) }) {
                var found = value.typeName
                if case .number(let d) = value, d == d.rounded() { found = "a whole number outside the 64-bit integer range" }
                violations.append(Violation(path: path, problem: "must be of type \(types.joined(separator: " or ")), found \(found)"))
                return
            }
            if let constant, !value.sameJSONValue(as: constant) {
                violations.append(Violation(path: path, problem: "must be \(constant.serializedString)"))
            }
            if let enumeration, !enumeration.contains(where: { value.sameJSONValue(as: $0) }) {
                violations.append(Violation(path: path, problem: "must be one of \(enumeration.map(\.serializedString).joined(separator: ", "))"))
            }
            switch value {
            case .object(let members):
                for name in required where members[name] == nil {
                    violations.append(Violation(path: path, problem: "required property \"\(name)\" is missing"))
                }
                for (name, node) in properties {
                    if let member = members[name] { node.validate(member, path: "\(path).\(name)", into: &violations) }
                }
                if let additionalProperties {
                    let known = Set(properties.map(\.0))
                    for name in members.keys.sorted() where !known.contains(name) {
                        switch additionalProperties {
                        case .refuse: violations.append(Violation(path: path, problem: "property \"\(name.prefix(64))\" is not allowed"))
                        case .schema(let node): node.validate(members[name] ?? .null, path: "\(path).\(name.prefix(64))", into: &violations)
                        }
                    }
                }
            case .array(let elements):
                if let minItems, elements.count < minItems {
                    violations.append(Violation(path: path, problem: "must have at least \(minItems) item(s), found \(elements.count)"))
                }
                if let maxItems, elements.count > maxItems {
                    violations.append(Violation(path: path, problem: "must have at most \(maxItems) item(s), found \(elements.count)"))
                }
                if let items {
                    for (index, element) in elements.enumerated() {
                        items.validate(element, path: "\(path)[\(index)]", into: &violations)
                    }
                }
            case .integer, .number:
                let number: Double = if case .integer(let i) = value { Double(i) } else if case .number(let d) = value { d } else { 0 }
                if let minimum, number < minimum { violations.append(Violation(path: path, problem: "must be >= \(Self.show(minimum)), found \(value.serializedString)")) }
                if let maximum, number > maximum { violations.append(Violation(path: path, problem: "must be <= \(Self.show(maximum)), found \(value.serializedString)")) }
                if let exclusiveMinimum, number <= exclusiveMinimum {
                    violations.append(Violation(path: path, problem: "must be > \(Self.show(exclusiveMinimum)), found \(value.serializedString)"))
                }
            case .string(let text):
                if minLength != nil || maxLength != nil {
                    let length = text.unicodeScalars.count
                    if let minLength, length < minLength { violations.append(Violation(path: path, problem: "must be at least \(minLength) character(s) long")) }
                    if let maxLength, length > maxLength {
                        violations.append(Violation(path: path, problem: "must be at most \(maxLength) characters long, found \(length)"))
                    }
                }
                if let pattern {
                    if !pattern.matches(text) {
                        violations.append(Violation(path: path, problem: "must match \(pattern.source)"))
                    }
                }
                if format == "date-time" && !RFC3339.isValid(text) {
                    violations.append(Violation(path: path, problem: "must be an RFC 3339 date-time"))
                }
            default:
                break
            }
        }

        private static func show(_ number: Double) -> String {
            number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        }

        private static func matches(_ value: JSONValue, type: String) -> Bool {
            switch (type, value) {
            case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number),
                ("string", .string), ("array", .array), ("object", .object):
                return true
            // The parser reads every whole number within Int64 as `.integer`
            // (also `495.0`), so what is left as `.number` is no integer we can hold.
            default: return false
            }
        }
    }
}

/// RFC 3339 `date-time` (e.g. `2026-11-27T09:14:03Z`, `2026-11-27T10:14:03.5+01:00`).
public enum RFC3339 {
    public static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for i in range {
                guard (48...57).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, let year = digits(0..<4), b[4] == UInt8(ascii: "-"), let month = digits(5..<7),
              b[7] == UInt8(ascii: "-"), let day = digits(8..<10), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = digits(11..<13), b[13] == UInt8(ascii: ":"), let minute = digits(14..<16),
              b[16] == UInt8(ascii: ":"), let second = digits(17..<19) else { return false }
        // Real calendar dates only (no 31 April, 29 February only in leap years), year 1 or
        // later, no leap second: PostgreSQL must be able to store whatever passes here.
        guard year >= 1, (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return false }
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let daysInMonth = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...daysInMonth).contains(day) else { return false }
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, (48...57).contains(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count,
              let offsetHour = digits(i + 1..<i + 3), b[i + 3] == UInt8(ascii: ":"), let offsetMinute = digits(i + 4..<i + 6) else {
            return false
        }
        return offsetHour < 24 && offsetMinute < 60
    }
}
