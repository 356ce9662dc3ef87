import Foundation
import Shared

/// A deterministic generator (Shared's SplitMix64), so that a failing fuzz run can be repeated.
struct SeededRandom {
    private var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// One generated message and what must become of it.
struct FuzzMessage {
    enum Expectation: Equatable {
        /// Processed by every consuming stage: its event id is in their processed_messages.
        case processed(eventID: String)
        /// Belongs on the topic but is for another stage: skipped by every consuming stage — neither dead-lettered nor
        /// given a dedupe row (it has no effect, so seeing it again is harmless).
        case skipped(eventID: String)
        /// Dead-lettered by every consuming stage with one of these error classes.
        case deadLetter(classes: Set<String>, mutation: String)
    }

    let topic: String
    let key: String
    let payload: [UInt8]
    let expectation: Expectation
}

/// What a topic's events look like, for the generator.
struct TopicShape {
    let topic: String
    /// A valid event of a type the consuming stage handles (`i` makes ids unique).
    let valid: (Int) -> [String: JSONValue]
    /// Where in `data` an integer with a minimum ≥ 0 and a maximum below Int64.max lives.
    let integerPaths: [[String]]
    /// Required string fields of `data`.
    let requiredStrings: [String]
    /// A `data` field with a pattern (a trailing newline must not pass).
    let patternPath: [String]?
    /// An array field of `data` with its maxItems, and one element.
    let array: (path: [String], maxItems: Int, element: JSONValue)?
    /// A free-text field of `data` where any Unicode within its length is valid.
    let freeText: [String]?
    /// A valid event of a type on this topic that the stage ignores (nil: none).
    let ignored: ((Int) -> [String: JSONValue])?
    /// The valid events are of a type the consuming stage skips (hostile ones are still built from a handled type).
    var validIsSkipped = false
}

enum HostileEvents {
    static let nastyText = [
        "Zoë Ça\u{0327}va – ½ \u{202E}evil\u{202C}", "👨‍👩‍👧‍👦 Bergfamilie", "Z̵̢a̷l̶g̴o̸ t̷e̵x̶t̴", "𝕳𝖊𝖑𝖑𝖔 ｗｏｒｌｄ", "北京市 朝阳区",
        "مرحبا بالعالم", "Stra\u{00DF}e\u{00A0}1\u{200B}", "'; DROP TABLE capture.orders; --", "<script>alert(1)</script>",
        "{{7*7}} ${jndi:ldap://x/a} %s%n", "../../etc/passwd", "back\\slash \"quote\" \t tab", "line1\nline2\r\n",
        "\u{FEFF}bom inside", "\u{10FFFF} last scalar",
    ]

    static func envelope(type: String, id: String, subject: String?, data: [String: JSONValue]) -> [String: JSONValue] {
        var event: [String: JSONValue] = [
            "specversion": "1.0", "id": .string(id), "source": "fuzz/hostile", "type": .string(type),
            "time": "2026-11-27T09:14:03Z", "datacontenttype": "application/json", "data": .object(data),
        ]
        if let subject { event["subject"] = .string(subject) }
        return event
    }

    /// Skipped events that got a dedupe row anyway (`processed`: a consuming stage's processed_messages keys).
    static func skippedButStored(_ messages: [FuzzMessage], processed: Set<String>) -> [String] {
        messages.compactMap { message in
            guard case .skipped(let id) = message.expectation, processed.contains(id) else { return nil }
            return id
        }
    }

    /// ≥ `perTopic` hostile events per topic, interleaved with valid ones (about one in four).
    static func generate(shapes: [TopicShape], perTopic: Int, seed: UInt64) -> [FuzzMessage] {
        var random = SeededRandom(seed: seed)
        var messages: [FuzzMessage] = []
        for shape in shapes {
            var topicMessages: [FuzzMessage] = []
            for index in 0..<perTopic {
                topicMessages.append(hostile(shape, index: index, random: &random))
                if index % 4 == 0 { topicMessages.append(validVariant(shape, index: index, random: &random)) }
            }
            messages += topicMessages
        }
        // Interleave topics as well, so that batches mix everything.
        var shuffled = messages
        for index in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(index, random.below(index + 1)) }
        return shuffled
    }

    private static func set(_ object: inout [String: JSONValue], path: ArraySlice<String>, to value: JSONValue?) {
        guard let head = path.first else { return }
        if path.count == 1 {
            object[head] = value
            return
        }
        if let index = Int(path[path.startIndex + 1]), case .array(var items)? = object[head], index < items.count,
           case .object(var inner) = items[index] {
            set(&inner, path: path.dropFirst(2), to: value)
            items[index] = .object(inner)
            object[head] = .array(items)
            return
        }
        var inner = object[head]?.objectValue ?? [:]
        set(&inner, path: path.dropFirst(), to: value)
        object[head] = .object(inner)
    }

    private static func withData(_ event: [String: JSONValue], _ change: (inout [String: JSONValue]) -> Void) -> [String: JSONValue] {
        var event = event
        var data = event["data"]?.objectValue ?? [:]
        change(&data)
        event["data"] = .object(data)
        return event
    }

    /// Serializes with `"__FUZZ__"` replaced by raw JSON text.
    private static func raw(_ event: [String: JSONValue], _ text: String) -> [UInt8] {
        let serialized = JSONValue.object(event).serializedString
        return Array(serialized.replacingOccurrences(of: "\"__FUZZ__\"", with: text).utf8)
    }

    private static func hostile(_ shape: TopicShape, index: Int, random: inout SeededRandom) -> FuzzMessage {
        let key = "fz-\(shape.topic)-bad-\(index)"
        let base = shape.valid(1_000_000 + index)
        let bytes = JSONValue.object(base).serialized()
        func bad(_ payload: [UInt8], _ classes: Set<String>, _ mutation: String) -> FuzzMessage {
            FuzzMessage(topic: shape.topic, key: key, payload: payload, expectation: .deadLetter(classes: classes, mutation: mutation))
        }
        let schema: Set<String> = ["schema-violation"]
        let json: Set<String> = ["invalid-json"]
        let envelopeClass: Set<String> = ["invalid-envelope"]
        let integerPath = shape.integerPaths.isEmpty ? nil : random.pick(shape.integerPaths)
        switch index % 30 {
        case 0: return bad(Array(bytes.prefix(random.below(bytes.count))), json, "truncated")
        case 1:
            var broken = bytes
            broken.insert(random.pick([0xFF, 0xC0, 0x80, 0xF8]), at: random.below(broken.count + 1))
            return bad(broken, json, "invalid UTF-8 byte")
        case 2: return bad([0xEF, 0xBB, 0xBF] + bytes, json, "BOM")
        case 3:
            guard let path = integerPath else { return bad(raw(base, "x") + Array("x".utf8), json, "trailing garbage") }
            return bad(raw(withData(base) { set(&$0, path: path[...], to: "__FUZZ__") }, random.pick(["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])),
                       json, "non-finite number")
        case 4:
            guard let path = integerPath else { return bad(bytes + Array("x".utf8), json, "trailing garbage") }
            return bad(raw(withData(base) { set(&$0, path: path[...], to: "__FUZZ__") }, "123456789012345678901234567890"), schema, "30-digit integer")
        case 5:
            guard let path = integerPath else { return bad(bytes + Array("}".utf8), json, "trailing brace") }
            let boundary = random.pick(["9223372036854775807", "-9223372036854775808", "9223372036854775808", "-1"])
            return bad(raw(withData(base) { set(&$0, path: path[...], to: "__FUZZ__") }, boundary), schema, "Int64 boundary \(boundary)")
        case 6:
            guard let path = integerPath else { return bad(bytes + [0x00], json, "NUL after document") }
            return bad(raw(withData(base) { set(&$0, path: path[...], to: "__FUZZ__") }, "2.5"), schema, "fraction where an integer belongs")
        case 7:
            let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
            return bad(raw(withData(base) { $0["nested"] = "__FUZZ__" }, deep), json, "deep nesting")
        case 8: return bad(raw(base.merging(["subject": "__FUZZ__"]) { $1 }, "\"ab\\ud800\""), json, "lone surrogate")
        case 9: return bad(raw(base.merging(["id": "__FUZZ__"]) { $1 }, "\"id-\\u0000-\(index)\""), json, "NUL in id")
        case 10: return bad(raw(withData(base) { $0["k"] = "__FUZZ__" }, "\"v\",\"a\\u0000b\":1"), json, "NUL in key")
        case 11:
            let field = random.pick(shape.requiredStrings)
            return bad(raw(withData(base) { $0[field] = "__FUZZ__" }, "\"x\\u0000y\""), json, "NUL in value")
        case 12:
            let text = JSONValue.object(base).serializedString
            return bad(Array(("{\"id\":\"dup-\(index)\"," + text.dropFirst()).utf8), json, "duplicate key")
        case 13: return bad(raw(withData(base) { $0["k"] = "__FUZZ__" }, "1,\"caf\\u00e9\":1,\"cafe\\u0301\":2"), json, "keys equal after normalization")
        case 14:
            let field = random.pick(shape.requiredStrings)
            return bad(JSONValue.object(withData(base) { $0[field] = .integer(12_345) }).serialized(), schema, "wrong type for \(field)")
        case 15:
            let field = random.pick(shape.requiredStrings)
            return bad(JSONValue.object(withData(base) { $0[field] = nil }).serialized(), schema, "missing \(field)")
        case 16:
            let date = random.pick(["2026-02-30T10:00:00Z", "2026-04-31T09:14:01Z", "2026-13-01T00:00:00Z", "2026-11-27T24:00:00Z",
                                    "2026-11-27T09:14:60Z", "0000-01-01T00:00:00Z", "2026-11-27"])
            return bad(JSONValue.object(base.merging(["time": .string(date)]) { $1 }).serialized(), envelopeClass, "impossible date \(date)")
        case 17:
            let type = base["type"]?.stringValue ?? ""
            return bad(JSONValue.object(base.merging(["type": .string(type + random.pick(["\n", "\r\n"]))]) { $1 }).serialized(),
                       envelopeClass, "trailing newline in type")
        case 18:
            guard let path = shape.patternPath else { return bad(JSONValue.object(base.merging(["specversion": "0.3"]) { $1 }).serialized(), envelopeClass, "specversion") }
            let value = (base["data"].flatMap { value in path.reduce(value as JSONValue?) { $0?[$1] } })??.stringValue ?? "X"
            return bad(JSONValue.object(withData(base) { set(&$0, path: path[...], to: .string(value + "\n")) }).serialized(), schema,
                       "trailing newline in \(path.joined(separator: "."))")
        case 19:
            let others = Set(TopicContract.eventTypes.values.flatMap { $0 }).subtracting(TopicContract.eventTypes[shape.topic] ?? [])
            let type = random.pick(others.sorted() + ["Order.Exploded", "Product.Changed", "Customer.Changed"].filter { !(TopicContract.eventTypes[shape.topic] ?? []).contains($0) })
            return bad(JSONValue.object(base.merging(["type": .string(type)]) { $1 }).serialized(), ["wrong-topic"], "type \(type) of another topic")
        case 20:
            let field = random.pick(shape.requiredStrings)
            return bad(JSONValue.object(withData(base) { $0[field] = .string(String(repeating: "ü", count: 5_000)) }).serialized(), schema,
                       "huge string in \(field)")
        case 21:
            guard let array = shape.array else { return bad(JSONValue.object(base.merging(["id": .integer(7)]) { $1 }).serialized(), envelopeClass, "numeric id") }
            let items = JSONValue.array(Array(repeating: array.element, count: array.maxItems + 1))
            return bad(JSONValue.object(withData(base) { set(&$0, path: array.path[...], to: items) }).serialized(), ["schema-violation", "too-large"],
                       "array above maxItems")
        case 22:
            // Oversized payloads: a few per topic are enough (each is stored as a dead letter).
            if index < 60 {
                return bad(JSONValue.object(withData(base) { $0["padding"] = .string(String(repeating: "x", count: 300_000)) }).serialized(),
                           ["too-large"], "oversized payload")
            }
            return bad(JSONValue.object(base.merging(["source": .string(String(repeating: "s", count: 600))]) { $1 }).serialized(), envelopeClass,
                       "huge source")
        case 23: return bad(Array(random.pick(["[]", "\"event\"", "null", "42", "true", "{}"]).utf8), envelopeClass, "not an event object")
        case 24: return bad(JSONValue.object(base.merging(["data": .array([1, 2])]) { $1 }).serialized(), envelopeClass, "data is an array")
        case 25: return bad(JSONValue.object(base.merging(["specversion": .number(1.5)]) { $1 }).serialized(), envelopeClass, "specversion number")
        case 26: return bad(bytes + Array(random.pick(["x", "}", "{}", "\u{0}", "//"]).utf8), json, "trailing content")
        case 27: return bad(Array(random.pick(["{\"id\":", "{\"a\" 1}", "{'id':'x'}", "{\"id\":\"x\",}", "[1,]", "01", "tru", "\"\\x\"", "{\"a\":\"\t\"}"]).utf8),
                            json, "broken JSON")
        case 28:
            let event = base.merging(["id": .string(String(repeating: "i", count: 201))]) { $1 }
            return bad(JSONValue.object(event).serialized(), envelopeClass, "id above maxLength")
        default:
            let field = random.pick(shape.requiredStrings)
            return bad(JSONValue.object(withData(base) { $0[field] = .array([.string("x")]) }).serialized(), schema, "array instead of \(field)")
        }
    }

    private static func validVariant(_ shape: TopicShape, index: Int, random: inout SeededRandom) -> FuzzMessage {
        let key = "fz-\(shape.topic)-ok-\(index)"
        let ignored = index % 8 == 4 ? shape.ignored : nil
        var event = (ignored ?? shape.valid)(index)
        if let field = shape.freeText, ignored == nil {
            let text = nastyText[(index / 4) % nastyText.count]
            event = withData(event) { set(&$0, path: field[...], to: .string(text)) }
        }
        let eventID = event["id"]?.stringValue ?? ""
        var payload = JSONValue.object(event).serializedString
        switch (index / 4) % 4 {
        case 1:
            // Whole-valued decimals are integers (JSON Schema says so; the readers agree).
            if let path = shape.integerPaths.first, let last = path.last {
                payload = payload.replacingOccurrences(of: #""\#(last)":(\d+)"#, with: #""\#(last)":$1.0"#, options: .regularExpression)
            }
        case 2: payload += random.pick(["\n", "\r\n", " \t\n"])
        case 3: payload = payload.replacingOccurrences(of: "fuzz/hostile", with: "fuzz\\/hostile")
        default: break
        }
        return FuzzMessage(topic: shape.topic, key: key, payload: Array(payload.utf8), expectation: ignored == nil && !shape.validIsSkipped ? .processed(eventID: eventID) : .skipped(eventID: eventID))
    }
}
