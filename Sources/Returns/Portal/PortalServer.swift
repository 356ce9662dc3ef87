import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MultipartKit
import Mustache
import NIOCore
import ReturnsCore
import ServiceLifecycle
import Shared

/// The portal's settings, from the environment; the portal runs only when a port is set.
struct PortalSettings: Sendable {
    let host: String
    let port: Int
    /// The signing key's bytes (SymmetricKey is made per use: it is not Sendable).
    let secretBytes: [UInt8]
    let uploadDirectory: String
    let secureCookies: Bool

    var secret: SymmetricKey { SymmetricKey(data: secretBytes) }

    /// nil when `OMS_RETURNS_PORTAL_PORT` is unset or 0.
    static func read(_ environment: [String: String]) throws -> PortalSettings? {
        guard let text = environment["OMS_RETURNS_PORTAL_PORT"], !text.isEmpty, text != "0" else { return nil }
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw ConfigurationError(setting: "OMS_RETURNS_PORTAL_PORT", problem: "must be a port number (1–65535), found \"\(text.prefix(20))\"")
        }
        guard let secret = environment["OMS_RETURNS_PORTAL_SECRET"], secret.utf8.count >= 32 else {
            throw ConfigurationError(setting: "OMS_RETURNS_PORTAL_SECRET", problem: "must be set to at least 32 random characters (signs sessions and forms)")
        }
        guard let directory = environment["OMS_RETURNS_UPLOAD_DIR"], !directory.isEmpty else {
            throw ConfigurationError(setting: "OMS_RETURNS_UPLOAD_DIR", problem: "must name a directory outside any served path for return photos")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ConfigurationError(setting: "OMS_RETURNS_UPLOAD_DIR", problem: "cannot create \(directory)")
        }
        let secure = environment["OMS_RETURNS_PORTAL_SECURE_COOKIES"].map { $0 != "false" && $0 != "0" } ?? true
        return PortalSettings(host: environment["OMS_RETURNS_PORTAL_HOST"] ?? "127.0.0.1", port: port,
                              secretBytes: Array(secret.utf8), uploadDirectory: directory, secureCookies: secure)
    }
}

/// Each request's context, with the client's address for the rate limit.
struct PortalContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The self-service return portal: server-rendered pages (swift-mustache templates), usable without JavaScript,
/// German and English. Look up (order number + e-mail or postal code, same answer for a wrong pair as for an
/// unknown order, rate-limited per client and order), choose lines, reason, comment and photos, get the RMA and label.
struct ReturnPortal: Sendable {
    let settings: PortalSettings
    let rules: RuleVersions<ReturnRules>
    let backend: PortalBackend
    let templates: MustacheLibrary
    let perClient: RateLimiter
    let perOrder: RateLimiter
    let logger: Logger

    static let languageCookie = "oms_returns_lang"

    init(settings: PortalSettings, worker: WorkerSettings, rules: RuleVersions<ReturnRules>, logger: Logger) throws {
        self.settings = settings
        self.rules = rules
        self.logger = logger
        backend = PortalBackend(settings: worker, uploadDirectory: settings.uploadDirectory, logger: logger)
        var library = MustacheLibrary()
        for (name, bytes) in [("header", PackageResources.header_mustache), ("footer", PackageResources.footer_mustache),
                              ("lookup", PackageResources.lookup_mustache), ("order", PackageResources.order_mustache),
                              ("request", PackageResources.request_mustache)] {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        templates = library
        let portal = rules.versions[rules.versions.count - 1].rules.portal
        perClient = RateLimiter(limit: portal.lookupsPerMinutePerClient, window: 60)
        perOrder = RateLimiter(limit: portal.lookupsPerHourPerOrder, window: 3600)
    }

    func service() -> some Service {
        let router = Router(context: PortalContext.self)
        router.get("/") { request, _ in try await self.lookupPage(request) }
        router.post("/lookup") { request, context in try await self.lookup(request, context: context) }
        router.get("/order") { request, _ in try await self.orderPage(request) }
        router.post("/order/return") { request, _ in try await self.submit(request) }
        router.get("/requests/:id") { request, context in try await self.requestPage(request, id: context.parameters.get("id") ?? "") }
        router.get("/requests/:id/label.pdf") { request, context in try await self.labelPDF(request, id: context.parameters.get("id") ?? "") }
        var httpLogger = logger
        httpLogger[metadataKey: "component"] = "portal"
        return Application(router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "oms-returns"),
                           logger: httpLogger)
    }

    // MARK: - Pages

    struct Visit {
        var session: PortalSession
        var language: PortalLanguage
        var setLanguage: Bool
        var newSession: Bool
    }

    func visit(_ request: Request) -> Visit {
        let existing = PortalSession.read(request.cookies[PortalSession.cookieName]?.value, secret: settings.secret)
        var language: PortalLanguage?
        var chosen = false
        if let asked = request.uri.queryParameters["lang"].flatMap({ PortalLanguage(rawValue: String($0)) }) {
            language = asked
            chosen = true
        } else if let cookie = request.cookies[Self.languageCookie]?.value {
            language = PortalLanguage(rawValue: cookie)
        }
        if language == nil, let accept = request.headers[.acceptLanguage] {
            language = Self.preferred(accept)
        }
        return Visit(session: existing ?? .fresh(), language: language ?? .german, setLanguage: chosen, newSession: existing == nil)
    }

    /// The first of German or English in an Accept-Language list by weight (q).
    static func preferred(_ header: String) -> PortalLanguage? {
        var best: (PortalLanguage, Double)?
        for entry in header.split(separator: ",").prefix(20) {
            let parts = entry.split(separator: ";")
            let tag = parts.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            let q = parts.dropFirst().first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("q=") }
                .flatMap { Double($0.trimmingCharacters(in: .whitespaces).dropFirst(2)) } ?? 1
            guard let language = PortalLanguage.allCases.first(where: { tag == $0.rawValue || tag.hasPrefix($0.rawValue + "-") }) else { continue }
            if best == nil || q > best!.1 { best = (language, q) }
        }
        return best?.0
    }

    func page(_ template: String, title: String, visit: Visit, path: String, status: HTTPResponse.Status = .ok, error: String? = nil,
              values: [String: Any] = [:]) -> Response {
        let other: PortalLanguage = visit.language == .german ? .english : .german
        var context: [String: Any] = [
            "lang": visit.language.rawValue, "otherLang": other.rawValue, "t": PortalText.strings(visit.language), "title": title,
            "switchURL": "\(path)?lang=\(other.rawValue)", "csrf": visit.session.csrfToken(secret: settings.secret),
        ]
        if let error { context["error"] = error }
        for (key, value) in values { context[key] = value }
        let html = templates.render(context, withTemplate: template) ?? "<!DOCTYPE html><title>error</title>"
        var response = Response(status: status, headers: Self.htmlHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
        if visit.newSession { response.setCookie(cookie(visit.session)) }
        if visit.setLanguage {
            response.setCookie(Cookie(name: Self.languageCookie, value: visit.language.rawValue, maxAge: 365 * 86_400, path: "/",
                                      secure: settings.secureCookies, httpOnly: true, sameSite: .lax))
        }
        return response
    }

    func cookie(_ session: PortalSession) -> Cookie {
        Cookie(name: PortalSession.cookieName, value: session.cookieValue(secret: settings.secret), maxAge: PortalSession.lifetimeSeconds, path: "/",
               secure: settings.secureCookies, httpOnly: true, sameSite: .strict)
    }

    static let htmlHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    func text(_ visit: Visit, _ key: String) -> String { PortalText.strings(visit.language)[key] ?? key }

    func redirect(_ location: String, session: PortalSession? = nil) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        if let session { response.setCookie(cookie(session)) }
        return response
    }

    // MARK: - Lookup

    func lookupPage(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok, order: String = "", visit given: Visit? = nil) async throws -> Response {
        let visit = given ?? self.visit(request)
        return page("lookup", title: text(visit, "lookupTitle"), visit: visit, path: "/", status: status, error: error, values: ["order": order])
    }

    func lookup(_ request: Request, context: PortalContext) async throws -> Response {
        var visit = self.visit(request)
        var request = request
        guard let body = try? await request.collectBody(upTo: 16_384) else {
            return try await lookupPage(request, error: text(visit, "tooLarge"), status: .contentTooLarge, visit: visit)
        }
        let form = Self.formFields(String(buffer: body))
        // A form without this session's token (or without a session) is refused.
        guard !visit.newSession, visit.session.acceptsCSRF(form["csrf"], secret: settings.secret) else {
            return try await lookupPage(request, error: text(visit, "sessionExpired"), status: .forbidden, visit: visit)
        }
        let orderID = String((form["order"] ?? "").trimmingCharacters(in: .whitespaces).prefix(200))
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        guard perClient.allow("client:\(client)"), perOrder.allow("order:\(orderID.lowercased())") else {
            return try await lookupPage(request, error: text(visit, "tooMany"), status: .tooManyRequests, order: orderID, visit: visit)
        }
        let email = form["email"].map(ReturnsInput.normalizedEmail).flatMap { $0.isEmpty ? nil : String($0.prefix(254)) }
        let postal = form["postalCode"].map(ReturnsInput.normalizedPostalCode).flatMap { $0.isEmpty ? nil : String($0.prefix(16)) }
        guard !orderID.isEmpty, email != nil || postal != nil else {
            return try await lookupPage(request, error: text(visit, "needContact"), status: .badRequest, order: orderID, visit: visit)
        }
        // A wrong pair and an unknown order get the same answer.
        guard let found = try await backend.lookup(orderID: orderID, email: email, postalCode: postal) else {
            return try await lookupPage(request, error: text(visit, "notFound"), order: orderID, visit: visit)
        }
        // A new session id once the visitor proved to know the order (no fixation of an earlier one).
        visit.session = .fresh(orderID: found)
        return redirect("/order", session: visit.session)
    }

    /// `application/x-www-form-urlencoded` fields (the last of a repeated name wins).
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&").prefix(100) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first else { continue }
            fields[decode(name)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    // MARK: - Choosing lines

    func orderPage(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let visit = self.visit(request)
        guard let orderID = visit.session.orderID else { return redirect("/") }
        let now = Date()
        let rules = self.rules.rules(at: now)
        guard let lines = try await backend.lines(orderID: orderID, rules: rules, now: now) else { return redirect("/") }
        let reasons: [[String: Any]] = rules.reasons.map { ["code": $0.code, "label": $0.label(visit.language)] }
        let views: [[String: Any]] = lines.enumerated().map { index, view in
            var v: [String: Any] = ["index": index + 1, "lineID": view.line.lineID, "sku": view.line.sku, "name": view.name]
            if view.units > 0 {
                v["returnable"] = true
                v["units"] = view.units
                v["choices"] = Array(0...min(view.units, 100))
                v["reasons"] = reasons
            } else {
                v["refusal"] = view.refusal?.text(visit.language) ?? ""
            }
            return v
        }
        let hint = String(format: text(visit, "photoHint"), rules.portal.maxPhotos, rules.portal.maxPhotoBytes / 1_048_576)
        return page("order", title: text(visit, "orderTitle"), visit: visit, path: "/order", status: status, error: error, values: [
            "orderID": orderID, "lines": views, "anyReturnable": lines.contains { $0.units > 0 }, "submission": PortalSession.randomHex(16),
            "photoHint": hint,
        ])
    }

    struct Part {
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        var name: String? { Self.parameter("name", in: disposition) }
        var filename: String? { Self.parameter("filename", in: disposition) }
        var disposition: String { headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? "" }

        static func parameter(_ key: String, in header: String) -> String? {
            for item in header.split(separator: ";") {
                let pair = item.trimmingCharacters(in: .whitespaces)
                guard pair.hasPrefix("\(key)=") else { continue }
                var value = String(pair.dropFirst(key.count + 1))
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                return value
            }
            return nil
        }
    }

    func submit(_ request: Request) async throws -> Response {
        let visit = self.visit(request)
        guard let orderID = visit.session.orderID else { return redirect("/") }
        let now = Date()
        let rules = self.rules.rules(at: now)
        var request = request
        let limit = rules.portal.maxPhotos * rules.portal.maxPhotoBytes + 1_048_576
        guard let body = try? await request.collectBody(upTo: limit) else {
            return try await orderPage(request, error: text(visit, "tooLarge"), status: .contentTooLarge)
        }
        guard let contentType = request.headers[.contentType], let boundary = Part.parameter("boundary", in: contentType), !boundary.isEmpty else {
            return try await orderPage(request, error: text(visit, "sessionExpired"), status: .badRequest)
        }
        var parts: [Part] = []
        var current = Part()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in current.headers.append((name, value)) }
        parser.onBody = { buffer in current.body += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        parser.onPartComplete = {
            parts.append(current)
            current = Part()
        }
        do { try parser.execute(body) } catch {
            return try await orderPage(request, error: text(visit, "sessionExpired"), status: .badRequest)
        }
        var fields: [String: String] = [:]
        var files: [(name: String, bytes: [UInt8])] = []
        for part in parts.prefix(1100) {
            guard let name = part.name else { continue }
            if name == "photos" {
                if !part.body.isEmpty { files.append((String((part.filename ?? "").prefix(100)), part.body)) }
            } else if part.body.count <= 4096 {
                fields[name] = String(decoding: part.body, as: UTF8.self)
            }
        }
        guard visit.session.acceptsCSRF(fields["csrf"], secret: settings.secret) else {
            return try await orderPage(request, error: text(visit, "sessionExpired"), status: .forbidden)
        }
        guard let submission = fields["submission"], submission.count == 32, submission.allSatisfy(\.isHexDigit) else {
            return try await orderPage(request, error: text(visit, "sessionExpired"), status: .badRequest)
        }
        guard let lines = try await backend.lines(orderID: orderID, rules: rules, now: now) else { return redirect("/") }
        var chosen: [JSONValue] = []
        for view in lines where view.units > 0 {
            guard let quantity = fields["qty-\(view.line.lineID)"].flatMap({ Int64($0) }), quantity > 0 else { continue }
            let reason = fields["reason-\(view.line.lineID)"] ?? ""
            chosen.append(["lineId": .string(view.line.lineID), "quantity": .integer(min(quantity, 100_000)), "reason": .string(String(reason.prefix(64)))])
        }
        guard !chosen.isEmpty else { return try await orderPage(request, error: text(visit, "nothingChosen"), status: .badRequest) }
        guard files.count <= rules.portal.maxPhotos else {
            return try await orderPage(request, error: String(format: text(visit, "tooManyPhotos"), rules.portal.maxPhotos), status: .badRequest)
        }
        // Every photo is checked before anything is stored: one bad file stores none.
        var photos: [PortalBackend.Photo] = []
        for file in files {
            do {
                let clean = try PhotoScrubber.scrub(file.bytes, maximumBytes: rules.portal.maxPhotoBytes)
                photos.append(.init(id: PortalSession.randomHex(16), kind: clean.kind, bytes: clean.bytes, removed: clean.removed))
            } catch {
                let reason = visit.language == .german ? Self.germanRefusal(error.description) : error.description
                let message = text(visit, "photoRefused").replacingOccurrences(of: "%@", with: "\u{1}")
                    .split(separator: "\u{1}", omittingEmptySubsequences: false)
                let filled = message.count == 3 ? "\(message[0])\(file.name)\(message[1])\(reason)\(message[2])" : reason
                return try await orderPage(request, error: filled, status: .unprocessableContent)
            }
        }
        let requestID = PortalSession.requestID(orderID: orderID, submission: submission, secret: settings.secret)
        var data: [String: JSONValue] = [
            "requestId": .string(requestID), "orderId": .string(orderID), "channel": "portal", "requestedBy": "customer",
            "language": .string(visit.language.rawValue), "requestedAt": .string(EventTime.format(now)), "lines": .array(chosen),
            "photos": .array(photos.map { ["id": .string($0.id), "mediaType": .string($0.kind.mediaType)] }),
        ]
        if let comment = fields["comment"]?.trimmingCharacters(in: .whitespacesAndNewlines), !comment.isEmpty {
            data["comment"] = .string(String(comment.prefix(1000)))
        }
        let violations = EventContracts.dataSchemas["Return.Requested"]?.validate(.object(data), at: "data") ?? []
        guard violations.isEmpty else {
            logger.warning("portal request does not fit the contract", metadata: ["violations": "\(violations.prefix(3))"])
            return try await orderPage(request, error: text(visit, "sessionExpired"), status: .badRequest)
        }
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "portal/returns", type: "Return.Requested", subject: orderID,
                               time: EventTime.format(now), data: .object(data))
        try await backend.submit(event, requestID: requestID, orderID: orderID, photos: photos)
        // The worker decides within moments; the customer sees the outcome, not a "please wait".
        for _ in 0..<40 {
            if try await backend.request(requestID) != nil { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return redirect("/requests/\(requestID)")
    }

    static func germanRefusal(_ english: String) -> String {
        switch english {
        case "the file is empty": return "die Datei ist leer"
        case "only JPEG, PNG and WebP photos are accepted": return "nur JPEG-, PNG- und WebP-Fotos werden angenommen"
        case "the JPEG file is damaged": return "die JPEG-Datei ist beschädigt"
        case "the PNG file is damaged": return "die PNG-Datei ist beschädigt"
        case "the WebP file is damaged": return "die WebP-Datei ist beschädigt"
        default:
            if english.hasPrefix("the file is larger than ") { return "die Datei ist größer als " + english.dropFirst("the file is larger than ".count) }
            return english
        }
    }

    // MARK: - Outcome and label

    static func validRequestID(_ id: String) -> Bool {
        id.count == 34 && id.hasPrefix("P-") && id.dropFirst(2).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    func requestPage(_ request: Request, id: String) async throws -> Response {
        let visit = self.visit(request)
        guard let orderID = visit.session.orderID else { return redirect("/") }
        guard Self.validRequestID(id) else { return try await lookupPage(request, error: text(visit, "notFound"), status: .notFound, visit: visit) }
        var values: [String: Any] = ["requestID": id]
        if let row = try await backend.request(id) {
            guard row.orderID == orderID else { return try await lookupPage(request, error: text(visit, "notFound"), status: .notFound, visit: visit) }
            values["rma"] = row.rma ?? ""
            switch row.status {
            case .authorized, .awaitingDecision, .completed: values["authorized"] = true
            case .held: values["held"] = true
            case .rejected:
                values["rejected"] = true
                values["reasons"] = (row.reasons.arrayValue ?? []).compactMap { reason in
                    visit.language == .german ? reason["messageDe"]?.stringValue ?? reason["message"]?.stringValue : reason["message"]?.stringValue
                }
            }
        } else {
            values["pending"] = true
        }
        return page("request", title: text(visit, "requestTitle"), visit: visit, path: "/requests/\(id)", values: values)
    }

    func labelPDF(_ request: Request, id: String) async throws -> Response {
        let visit = self.visit(request)
        guard let orderID = visit.session.orderID, Self.validRequestID(id), let row = try await backend.request(id), row.orderID == orderID,
              let rma = row.rma, let pdf = try await backend.label(rma: rma) else {
            return try await lookupPage(request, error: text(visit, "notFound"), status: .notFound, visit: visit)
        }
        return Response(status: .ok, headers: [
            .contentType: "application/pdf", .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"return-label-\(rma).pdf\"",
        ], body: .init(byteBuffer: ByteBuffer(bytes: pdf)))
    }
}
