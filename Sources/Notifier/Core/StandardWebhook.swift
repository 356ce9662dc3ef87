import Crypto
import Foundation

/// Signing per the Standard Webhooks specification: `webhook-id`, `webhook-timestamp` (seconds) and
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one signature per secret (space-separated)
/// so that receivers keep verifying while a secret is rotated. Secrets are `whsec_<base64 key>`.
public enum StandardWebhook {
    public struct SecretProblem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The keys of a space-separated list of `whsec_…` secrets (the description never repeats a secret).
    public static func keys(_ secrets: String) throws(SecretProblem) -> [[UInt8]] {
        let parts = secrets.split(whereSeparator: \.isWhitespace)
        guard !parts.isEmpty else { throw SecretProblem(description: "no secret given") }
        return try parts.enumerated().map { index, part throws(SecretProblem) in
            guard part.hasPrefix("whsec_"), let key = Data(base64Encoded: String(part.dropFirst(6))), key.count >= 16 else {
                throw SecretProblem(description: "secret \(index + 1) is not whsec_ followed by base64 of at least 16 bytes")
            }
            return Array(key)
        }
    }

    public static func headers(id: String, timestamp: Int64, body: [UInt8], keys: [[UInt8]]) -> [(String, String)] {
        let content = Array("\(id).\(timestamp).".utf8) + body
        let signatures = keys.map { key in
            "v1," + Data(HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key))).base64EncodedString()
        }
        return [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signatures.joined(separator: " "))]
    }
}
