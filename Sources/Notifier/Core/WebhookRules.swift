import Foundation
import Shared

/// `$OMS_CONFIG_DIR/webhooks.json`: who is told what. Each endpoint (shop, CRM, accounting) names its URL, the
/// event types it wants (exact, or a prefix ending in `.*`, or `*`), and the environment variable that holds its
/// signing secrets (`whsec_…`, space-separated during a rotation) — secrets never sit in the rule file.
public struct WebhookRules: VersionedRules, Sendable {
    public struct Endpoint: Sendable, Equatable {
        public let id: String
        public let url: URL
        public let types: [String]
        public let secretVariable: String
        public let maximumAttempts: Int
        public let timeoutSeconds: Int

        public func wants(_ type: String) -> Bool {
            types.contains { pattern in
                pattern == "*" || pattern == type || (pattern.hasSuffix(".*") && type.hasPrefix(String(pattern.dropLast(1))))
            }
        }
    }

    public let validFrom: String
    public let endpoints: [Endpoint]

    public static func load(directory: String) throws -> RuleVersions<WebhookRules> {
        try RuleVersions.load("webhooks", directory: directory) { try parse($0) }
    }

    public static func parse(_ document: JSONValue) throws -> WebhookRules {
        let root = RuleReader(document, path: "")
        var endpoints: [Endpoint] = []
        for (i, value) in (root.optional("endpoints")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: "endpoints[\(i)]")
            let id = try r.string("id")
            guard !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw RuleFileProblem(path: r.pathOf("id"), key: "id", problem: "must be 1 to 64 letters, digits, - or _")
            }
            guard !endpoints.contains(where: { $0.id == id }) else { throw RuleFileProblem(path: r.pathOf("id"), key: "id", problem: "\(id) is listed twice") }
            let text = try r.string("url")
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw RuleFileProblem(path: r.pathOf("url"), key: "url", problem: "must be an http(s) URL")
            }
            let types = try r.strings("types")
            guard !types.isEmpty else { throw RuleFileProblem(path: r.pathOf("types"), key: "types", problem: "must name at least one event type") }
            let attempts = r.optional("maximumAttempts") == nil ? 10 : try r.integer("maximumAttempts", minimum: 1)
            let timeout = r.optional("timeoutSeconds") == nil ? 10 : try r.integer("timeoutSeconds", minimum: 1)
            endpoints.append(Endpoint(id: id, url: url, types: types, secretVariable: try r.string("secretVariable"),
                                      maximumAttempts: min(attempts, 100), timeoutSeconds: min(timeout, 120)))
        }
        return WebhookRules(validFrom: try root.string("validFrom"), endpoints: endpoints)
    }
}
