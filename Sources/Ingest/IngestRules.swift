import Crypto
import Foundation
import Shared

/// `$OMS_CONFIG_DIR/ingest.json`: the shops that may deliver events over HTTP, the topics each may write to, its
/// rate, and the environment variable holding its signing secret (never in the file).
struct IngestRules: VersionedRules, Sendable {
    struct Shop: Sendable, Equatable {
        let id: String
        let secretVariable: String
        let topics: Set<String>
        let requestsPerMinute: Int
    }

    let validFrom: String
    let shops: [String: Shop]

    static let inboundTopics: Set<String> = [Topic.shopOrders, Topic.shopPayments, Topic.catalogProducts, Topic.crmCustomers, Topic.inventoryStock,
                                             Topic.warehouseEvents, Topic.carrierShipments, Topic.returnsRequests]

    static func load(directory: String) throws -> RuleVersions<IngestRules> {
        try RuleVersions.load("ingest", directory: directory) { try parse($0) }
    }

    static func parse(_ document: JSONValue) throws -> IngestRules {
        let root = RuleReader(document, path: "")
        var shops: [String: Shop] = [:]
        for (i, value) in (root.optional("shops")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: "shops[\(i)]")
            let id = try r.string("id")
            guard (1...64).contains(id.count), id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw RuleFileProblem(path: r.pathOf("id"), key: "id", problem: "must be 1 to 64 letters, digits or -")
            }
            let topics = Set(try r.strings("topics"))
            if let bad = topics.subtracting(inboundTopics).sorted().first {
                throw RuleFileProblem(path: r.pathOf("topics"), key: "topics", problem: "\(bad) is not an inbound topic (\(inboundTopics.sorted().joined(separator: ", ")))")
            }
            shops[id] = Shop(id: id, secretVariable: try r.string("secretVariable"), topics: topics,
                             requestsPerMinute: r.optional("requestsPerMinute") == nil ? 600 : try r.integer("requestsPerMinute", minimum: 1))
        }
        return IngestRules(validFrom: try root.string("validFrom"), shops: shops)
    }

    /// The topic an event of `type` goes to, among the shop's topics; nil when none of them carries it.
    static func topic(for type: String, shop: Shop) -> String? {
        shop.topics.sorted().first { TopicContract.eventTypes[$0]?.contains(type) == true }
    }

    /// Shopify-style: base64 HMAC-SHA256 of the raw body with the shop's secret, compared in constant time.
    static func verify(signature: String?, body: [UInt8], secret: [UInt8]) -> Bool {
        guard let signature, let mac = Data(base64Encoded: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: secret))
    }
}
