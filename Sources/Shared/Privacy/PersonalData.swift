/// The erasure rule (GDPR Art. 17): which fields of our events and records hold a person's data, and what an erased
/// copy looks like. Values in, values out; every stage's store applies it to its own rows.
///
/// Erased values are replaced by a marker rather than removed, so that a record keeps its shape (a reprint or a
/// report still reads it) and a reader sees that something was erased rather than never known.
public enum PersonalData {
    public static let marker = "[erased]"

    /// Keys whose values name, reach or locate a person, wherever they occur: addresses (name, street, postal code,
    /// city — the country stays, taxes and statistics need it), e-mail, phone, the client's IP address, the gift
    /// message and personalization texts (engravings name people), payment references and VAT IDs outside invoices,
    /// free-text notes a customer or the warehouse wrote about a return, and photo references.
    public static let fields: Set<String> = [
        "name", "firstName", "lastName", "company", "street", "street2", "addressLine1", "addressLine2", "postalCode", "city",
        "email", "recipient", "phone", "mobile", "clientIp", "ip", "message", "giftMessage", "personalization", "reference", "vatId",
        "notes", "comment", "photos", "photoIds",
    ]

    /// `value` with every personal field replaced by the marker (strings) or emptied (numbers and booleans stay;
    /// objects and arrays under a personal key have each of their strings replaced).
    public static func scrub(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members { result[key] = fields.contains(key) ? erased(member) : scrub(member) }
            return .object(result)
        case .array(let items):
            return .array(items.map(scrub))
        default:
            return value
        }
    }

    /// Every string inside `value` replaced by the marker.
    static func erased(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string: return .string(marker)
        case .array(let items): return .array(items.map(erased))
        case .object(let members): return .object(members.mapValues(erased))
        default: return value
        }
    }

    /// A stored JSON text scrubbed; nil when the text is not JSON (the caller then blanks it).
    public static func scrub(json text: String) -> String? {
        guard let value = try? JSONParser.parse(text) else { return nil }
        return scrub(value).storableJSON
    }

    /// Stored bytes (an event body, a dead letter's payload) scrubbed as JSON; a CloudEvent's envelope stays.
    public static func scrub(bytes: [UInt8]) -> [UInt8]? {
        guard let value = try? JSONParser.parse(bytes) else { return nil }
        return Array(scrub(value).storableJSON.utf8)
    }
}

/// What Capture orders every stage to erase: one customer's personal data in the given orders.
public struct ErasureOrder: Sendable, Equatable {
    public let erasureID: String
    public let customerID: String
    public let orderIDs: [String]
    public let requestedBy: String

    public init(erasureID: String, customerID: String, orderIDs: [String], requestedBy: String) {
        self.erasureID = erasureID
        self.customerID = customerID
        self.orderIDs = orderIDs
        self.requestedBy = requestedBy
    }

    /// From a contract-checked `Customer.ErasureOrdered`.
    public init(event: CloudEvent) throws(PermanentFailure) {
        let d = event.data
        guard let erasureID = d["erasureId"]?.stringValue, let customerID = d["customerId"]?.stringValue,
              let requestedBy = d["requestedBy"]?.stringValue, let orders = d["orderIds"]?.arrayValue else {
            throw .schemaViolation("Customer.ErasureOrdered needs erasureId, customerId, orderIds and requestedBy")
        }
        self.init(erasureID: erasureID, customerID: customerID, orderIDs: orders.compactMap(\.stringValue), requestedBy: requestedBy)
    }

    /// The keys under which a stage's records and messages about this customer are filed: the orders and the customer.
    public var keys: [String] { orderIDs + [customerID] }

    /// `Customer.Erased` on oms.privacy: `stage` is done; `rows` records were erased or pseudonymised.
    public func confirmation(stage: String, rows: Int, retained: String? = nil, at now: String) -> Emission {
        var data: [String: JSONValue] = [
            "erasureId": .string(erasureID), "customerId": .string(customerID), "stage": .string(stage),
            "orderIds": .array(orderIDs.map { .string($0) }), "rows": .integer(Int64(max(0, rows))), "erasedAt": .string(now),
        ]
        if let retained { data["retained"] = .string(String(retained.prefix(1000))) }
        return Emission(topic: Topic.omsPrivacy, key: customerID, type: "Customer.Erased", subject: customerID, data: .object(data))
    }

    /// The stage's audit row: who asked, how much was erased (never what).
    public func audit(rows: Int, retained: String? = nil) -> AuditRecord {
        AuditRecord(subject: customerID, action: "Customer.Erased", actor: requestedBy,
                    reason: "personal data of \(orderIDs.count) order(s) erased (\(rows) record(s))" + (retained.map { "; kept: \($0)" } ?? ""),
                    details: ["erasureId": .string(erasureID), "orders": .integer(Int64(orderIDs.count)), "rows": .integer(Int64(max(0, rows)))])
    }
}
