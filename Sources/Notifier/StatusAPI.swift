import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Shared

/// The order status API (`contracts/status-api.openapi.yaml`): an order's state, lines, shipments with tracking,
/// back-order ETAs, invoices and returns, and a customer's orders — answered from the notifier's read model, so
/// "where is my parcel?" needs no ticket. Bearer API keys (stored as SHA-256, `omsctl api-keys`), a rate limit per key,
/// every error as RFC 9457 problem details.
struct StatusAPI: Sendable {
    let port: Int
    let host: String
    let database: DatabaseQueue
    let perKey: RateLimiter
    let logger: Logger

    init(port: Int, host: String, databaseURL: String, requestsPerMinute: Int, logger: Logger) {
        self.port = port
        self.host = host
        self.logger = logger
        database = DatabaseQueue(url: databaseURL, applicationName: "oms-status-api", logger: logger)
        perKey = RateLimiter(limit: requestsPerMinute, window: 60)
    }

    static func read(_ environment: [String: String]) throws -> (port: Int, host: String, perMinute: Int)? {
        guard let text = environment["OMS_STATUS_API_PORT"], !text.isEmpty, text != "0" else { return nil }
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw ConfigurationError(setting: "OMS_STATUS_API_PORT", problem: "must be a port number (1–65535), found \"\(text.prefix(20))\"")
        }
        let rateText = environment["OMS_STATUS_API_RATE_PER_MINUTE"] ?? "600"
        guard let rate = Int(rateText), (1...1_000_000).contains(rate) else {
            throw ConfigurationError(setting: "OMS_STATUS_API_RATE_PER_MINUTE", problem: "must be between 1 and 1000000")
        }
        return (port, environment["OMS_STATUS_API_HOST"] ?? "127.0.0.1", rate)
    }

    func service() -> some Service {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.get("/v1/orders/:orderId") { request, context in
            let (client, shop) = try await self.authorize(request)
            let id = context.parameters.get("orderId") ?? ""
            guard (1...200).contains(id.count) else { throw Problem.notFound("no order \(id.prefix(40))") }
            // Another shop's order is "not found", not "forbidden": a key does not learn which order ids exist elsewhere.
            let document = try await self.database.run { db -> String? in
                try db.query("""
                    SELECT document::text AS d FROM notifier.order_status WHERE order_id = \(id) AND (\(shop)::text IS NULL OR document->>'shop' = \(shop))
                    """).first?.decode("d", as: String.self)
            }
            guard let document else { throw Problem.notFound("no order \(id.prefix(200))") }
            self.logger.debug("status", metadata: ["client": "\(client)", "order": "\(id)"])
            return Self.json(document)
        }
        router.get("/v1/customers/:customerId/orders") { request, context in
            let (_, shop) = try await self.authorize(request)
            let id = context.parameters.get("customerId") ?? ""
            guard (1...200).contains(id.count) else { throw Problem.badRequest("customerId must be 1 to 200 characters") }
            var limit = 20
            if let text = request.uri.queryParameters["limit"] {
                guard let value = Int(String(text)), (1...100).contains(value) else { throw Problem.badRequest("limit must be an integer from 1 to 100") }
                limit = value
            }
            let count = limit
            let rows = try await self.database.run { db -> [String] in
                try db.query("""
                    SELECT json_build_object('orderId', order_id, 'state', document->>'state', 'placedAt', document->>'placedAt',
                                             'updatedAt', document->>'updatedAt')::text AS s
                    FROM notifier.order_status WHERE customer_id = \(id) AND (\(shop)::text IS NULL OR document->>'shop' = \(shop))
                    ORDER BY order_id DESC LIMIT \(count)
                    """).map { try $0.decode("s", as: String.self) }
            }
            return Self.json("{\"customerId\":\(JSONValue.string(id).serializedString),\"orders\":[\(rows.joined(separator: ","))]}")
        }
        var httpLogger = logger
        httpLogger[metadataKey: "component"] = "status-api"
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "oms-status-api"), logger: httpLogger)
    }

    static func json(_ body: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The client whose key this is and the shop it is scoped to (nil: every shop); a missing, unknown or revoked key
    /// is 401, a key over its rate 429.
    func authorize(_ request: Request) async throws -> (client: String, shop: String?) {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count < 300 else {
            throw Problem.unauthorized("send an API key as Authorization: Bearer <key>")
        }
        let key = String(header.dropFirst(7))
        let digest = sha256Hex(key)
        let found = try await database.run { db -> (String, String?)? in
            try db.query("SELECT client, shop FROM notifier.api_keys WHERE key_sha256 = \(digest) AND revoked_at IS NULL").first
                .map { (try $0.decode("client", as: String.self), try $0.decodeIfPresent("shop", as: String.self)) }
        }
        guard let (client, shop) = found else { throw Problem.unauthorized("the API key is unknown or revoked") }
        guard perKey.allow(digest) else { throw Problem(status: .tooManyRequests, title: "Too Many Requests", detail: "at most \(perKey.limit) requests per minute per key") }
        return (client, shop)
    }
}

/// An RFC 9457 problem.
struct Problem: Error {
    let status: HTTPResponse.Status
    let title: String
    let detail: String

    static func notFound(_ detail: String) -> Problem { Problem(status: .notFound, title: "Not Found", detail: detail) }
    static func badRequest(_ detail: String) -> Problem { Problem(status: .badRequest, title: "Bad Request", detail: detail) }
    static func unauthorized(_ detail: String) -> Problem { Problem(status: .unauthorized, title: "Unauthorized", detail: detail) }

    var response: Response {
        let body = JSONValue.object(["type": "about:blank", "title": .string(title), "status": .integer(Int64(status.code)), "detail": .string(detail)]).serializedString
        var headers: HTTPFields = [.contentType: "application/problem+json", .cacheControl: "no-store"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Every failure, the router's own 404 and 405 included, leaves as problem details; database trouble is a 503.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response
        } catch let error as HTTPError {
            return Problem(status: error.status, title: error.status.reasonPhrase, detail: error.status == .notFound ? "no such resource" : error.status.reasonPhrase).response
        } catch is PostgresError {
            return Problem(status: .serviceUnavailable, title: "Service Unavailable", detail: "the status store is not reachable; try again").response
        }
    }
}
