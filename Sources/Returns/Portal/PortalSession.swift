import Crypto
import Foundation
import Shared

/// The portal's session: a signed cookie (HMAC-SHA256 with the portal secret) holding a random session id, the
/// order the visitor proved to know and an expiry. Nothing else about the visitor is stored anywhere.
/// CSRF tokens are HMACs of the session id, so a form from another session (or none) is refused.
struct PortalSession: Sendable, Equatable {
    static let cookieName = "oms_returns_session"
    static let lifetimeSeconds = 3600

    let id: String
    let orderID: String?
    let expires: Int64

    static func fresh(orderID: String? = nil, now: Date = Date()) -> PortalSession {
        PortalSession(id: randomHex(16), orderID: orderID, expires: Int64(now.timeIntervalSince1970) + Int64(lifetimeSeconds))
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return lowercaseHex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    func cookieValue(secret: SymmetricKey) -> String {
        var payload: [String: JSONValue] = ["s": .string(id), "e": .integer(expires)]
        if let orderID { payload["o"] = .string(orderID) }
        let body = Base64URL.encode(Array(JSONValue.object(payload).serializedString.utf8))
        return body + "." + Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: secret)))
    }

    /// The session a cookie holds; nil when it is missing, forged, altered or expired.
    static func read(_ value: String?, secret: SymmetricKey, now: Date = Date()) -> PortalSession? {
        guard let value, value.count < 2048 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Base64URL.decode(String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(parts[0].utf8), using: secret),
              let bytes = Base64URL.decode(String(parts[0])), let payload = try? JSONParser.parse(bytes),
              let id = payload["s"]?.stringValue, let expires = payload["e"]?.int64Value, expires > Int64(now.timeIntervalSince1970) else { return nil }
        return PortalSession(id: id, orderID: payload["o"]?.stringValue, expires: expires)
    }

    func csrfToken(secret: SymmetricKey) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Array("csrf|\(id)".utf8), using: secret)))
    }

    func acceptsCSRF(_ token: String?, secret: SymmetricKey) -> Bool {
        guard let token, let mac = Base64URL.decode(token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array("csrf|\(id)".utf8), using: secret)
    }

    /// The request id of a form submission: bound to the order and the form (a reload or double click repeats it),
    /// not guessable for another order.
    static func requestID(orderID: String, submission: String, secret: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("request|\(orderID)|\(submission)".utf8), using: secret)
        return "P-" + lowercaseHex(Array(mac).prefix(16))
    }
}

enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> [UInt8]? {
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base.count % 4 != 0 { base += "=" }
        return Data(base64Encoded: base).map(Array.init)
    }
}

