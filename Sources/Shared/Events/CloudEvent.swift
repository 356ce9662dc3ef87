import Foundation

/// A CloudEvents 1.0 event in structured JSON mode, with our tracing extensions.
public struct CloudEvent: Sendable, Equatable {
    public static let contentType = "application/cloudevents+json"

    public var id: String
    public var source: String
    public var type: String
    public var subject: String?
    public var time: String?
    public var dataContentType: String?
    /// The id of the shop event that started this chain.
    public var correlationID: String?
    /// The id of the event that directly caused this one.
    public var causationID: String?
    public var data: JSONValue

    public init(id: String, source: String, type: String, subject: String?, time: String?, data: JSONValue,
                correlationID: String? = nil, causationID: String? = nil, dataContentType: String? = "application/json") {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.data = data
        self.correlationID = correlationID
        self.causationID = causationID
        self.dataContentType = dataContentType
    }

    /// Parses and checks the envelope; `data` is checked against its type's
    /// schema by `EventContracts`.
    public static func decode(_ bytes: [UInt8], maximumBytes: Int) throws(PermanentFailure) -> CloudEvent {
        guard bytes.count <= maximumBytes else {
            throw .tooLarge("event is \(bytes.count) bytes, the limit is \(maximumBytes)")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .invalidJSON(error.description)
        }
        let violations = EventContracts.envelope.validate(document, at: "event")
        if !violations.isEmpty {
            throw .invalidEnvelope(violations.map(\.description).joined(separator: "; "))
        }
        return CloudEvent(
            id: document["id"]!.stringValue!, source: document["source"]!.stringValue!,
            type: document["type"]!.stringValue!, subject: document["subject"]?.stringValue,
            time: document["time"]?.stringValue, data: document["data"] ?? .null,
            correlationID: document["correlationid"]?.stringValue, causationID: document["causationid"]?.stringValue,
            dataContentType: document["datacontenttype"]?.stringValue)
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "specversion": "1.0", "id": .string(id), "source": .string(source), "type": .string(type), "data": data,
        ]
        if let subject { members["subject"] = .string(subject) }
        if let time { members["time"] = .string(time) }
        if let dataContentType { members["datacontenttype"] = .string(dataContentType) }
        if let correlationID { members["correlationid"] = .string(correlationID) }
        if let causationID { members["causationid"] = .string(causationID) }
        return .object(members)
    }

    public func serialized() -> [UInt8] { json.serialized() }
}

public enum EventTime {
    /// RFC 3339 UTC with milliseconds.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// An RFC 3339 time with or without fractions, as an instant, so that offsets and
    /// fractions compare correctly; `.distantPast` for text that is none (schemas check the format first).
    public static func parse(_ text: String) -> Date {
        (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle())) ?? .distantPast
    }
}

extension EventTime {
    /// The UTC calendar day of an instant from 1970 to 9999, by integer arithmetic (days to civil date, proleptic
    /// Gregorian); nil outside, where a caller falls back to Foundation (which switches to the Julian calendar
    /// before 1582). A Calendar call and a formatted string per date were a measurable part of every invoice.
    public static func utcDay(_ date: Date) -> (year: Int, month: Int, day: Int)? {
        let seconds = date.timeIntervalSince1970
        guard seconds >= 0, seconds < 253_402_300_800 else { return nil }   // NaN fails both
        let shifted = Int(seconds / 86_400) + 719_468   // days since 0000-03-01
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// `value` in decimal with leading zeros to `width` characters, the sign included, as `String(format: "%06lld")`
/// writes it, without Foundation's cost.
public func zeroPadded<Value: BinaryInteger>(_ value: Value, width: Int) -> String {
    let sign = value < 0 ? "-" : ""
    let digits = String(value.magnitude)
    return sign + String(repeating: "0", count: max(0, width - sign.count - digits.count)) + digits
}

extension Sequence {
    /// Per key only the newest element (by `time`; a later element wins a tie),
    /// sorted by key: how a replica applies a batch of full-state updates.
    public func newestPerKey(_ key: (Element) -> String, time: (Element) -> Date) -> [Element] {
        var newest: [String: (element: Element, time: Date)] = [:]
        for element in self {
            let stamp = time(element)
            if let kept = newest[key(element)], kept.time > stamp { continue }
            newest[key(element)] = (element, stamp)
        }
        return newest.keys.sorted().map { newest[$0]!.element }
    }
}
