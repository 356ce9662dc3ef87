import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Shared

/// Inbound HTTP for shops that cannot write to Kafka: `POST /v1/shops/{shop}/events` takes a CloudEvent in the
/// CloudEvents HTTP binding (structured `application/cloudevents+json`, or binary with `ce-*` headers), signed
/// Shopify-style (`X-Shopify-Hmac-Sha256` or `X-OMS-Signature`: base64 HMAC-SHA256 of the raw body with the shop's
/// secret) and checked before anything else; refused with a problem (RFC 9457) when the contract refuses it;
/// 202 only once the event is on its topic (the broker's delivery report); a second delivery of the same event id
/// (or webhook id) is refused as a replay.
struct IngestServer: Sendable {
    let port: Int
    let host: String
    let rules: IngestRules
    let secrets: [String: [UInt8]]
    let database: DatabaseQueue
    let publisher: Publisher
    let maximumBytes: Int
    let limiters: [String: RateLimiter]
    let logger: Logger

    /// The producer, used from the database queue's thread only (one publish at a time, each awaited).
    final class Publisher: @unchecked Sendable {
        let kafka: KafkaConfiguration
        let logger: Logger
        var producer: KafkaProducer?
        init(kafka: KafkaConfiguration, logger: Logger) {
            self.kafka = kafka
            self.logger = logger
        }
        func publish(_ message: OutgoingMessage) throws {
            if producer == nil { producer = try KafkaProducer(configuration: kafka, logger: logger) }
            do { try producer?.publish([message]) } catch {
                producer = nil
                throw error
            }
        }
    }

    func service(onRunning: @escaping @Sendable () -> Void) -> some Service {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.post("/v1/shops/:shop/events") { request, context in
            try await self.receive(request, shop: context.parameters.get("shop") ?? "")
        }
        var httpLogger = logger
        httpLogger[metadataKey: "component"] = "ingest"
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "oms-ingest"),
                           onServerRunning: { _ in onRunning() }, logger: httpLogger)
    }

    func receive(_ request: Request, shop shopID: String) async throws -> Response {
        guard let shop = rules.shops[shopID], let secret = secrets[shopID] else { throw Problem(.notFound, "no shop \(shopID.prefix(64))") }
        var request = request
        guard let body = try? await request.collectBody(upTo: maximumBytes) else {
            throw Problem(.contentTooLarge, "the body is larger than \(maximumBytes) bytes")
        }
        let bytes = Array(body.readableBytesView)
        // The signature first: nothing of an unsigned body is read.
        let signature = request.headers[HTTPField.Name("X-Shopify-Hmac-Sha256")!] ?? request.headers[HTTPField.Name("X-OMS-Signature")!]
        guard IngestRules.verify(signature: signature, body: bytes, secret: secret) else {
            throw Problem(.unauthorized, "the signature does not match the body (base64 HMAC-SHA256 with the shop's secret)")
        }
        guard limiters[shopID]?.allow(shopID) ?? true else { throw Problem(.tooManyRequests, "at most \(shop.requestsPerMinute) events per minute") }
        let envelope: [UInt8]
        let contentType = (request.headers[.contentType] ?? "").lowercased()
        if contentType.hasPrefix("application/cloudevents+json") {
            envelope = bytes
        } else {
            envelope = try Self.binaryEnvelope(request.headers, data: bytes)
        }
        let event: CloudEvent
        do { event = try CloudEvent.decode(envelope, maximumBytes: maximumBytes) } catch {
            throw Problem(.badRequest, "not a CloudEvent: \(error.reason)")
        }
        guard let topic = IngestRules.topic(for: event.type, shop: shop) else {
            throw Problem(.unprocessableContent, "events of type \(event.type.prefix(80)) are not accepted from \(shopID) (its topics: \(shop.topics.sorted().joined(separator: ", ")))")
        }
        let violations = EventContracts.dataSchemas[event.type]?.validate(event.data, at: "data") ?? []
        guard violations.isEmpty else {
            throw Problem(.unprocessableContent, violations.prefix(5).map(\.description).joined(separator: "; "))
        }
        let dedupeKey = request.headers[HTTPField.Name("X-Shopify-Webhook-Id")!].map { "webhook:\($0.prefix(200))" } ?? "event:\(event.id)"
        let key = event.data["orderId"]?.stringValue ?? event.subject ?? event.id
        let message = OutgoingMessage(topic: topic, key: key, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
        let publisher = self.publisher
        let accepted = try await database.run { db -> Bool in
            // Recorded first, so that two deliveries at once publish once; a failed publish removes the record again.
            guard try db.query("""
                INSERT INTO ingest.received (shop, dedupe_key, event_id, topic) VALUES (\(shopID), \(dedupeKey), \(event.id), \(topic))
                ON CONFLICT DO NOTHING RETURNING event_id
                """).first != nil else { return false }
            do { try publisher.publish(message) } catch {
                try? db.query("DELETE FROM ingest.received WHERE shop = \(shopID) AND dedupe_key = \(dedupeKey)")
                throw Problem(.serviceUnavailable, "the event could not be put on \(topic); send it again")
            }
            return true
        }
        guard accepted else { throw Problem(.conflict, "event \(event.id.prefix(100)) was accepted before (a replay)") }
        logger.info("accepted", metadata: ["shop": "\(shopID)", "type": "\(event.type)", "topic": "\(topic)", "event": "\(event.id)"])
        let answer = JSONValue.object(["status": "accepted", "eventId": .string(event.id), "topic": .string(topic)]).serializedString
        return Response(status: .accepted, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
    }

    /// The binary mode: `ce-id`, `ce-source`, `ce-type`, `ce-specversion` (and `ce-subject`, `ce-time`) headers, the body is the data.
    static func binaryEnvelope(_ headers: HTTPFields, data: [UInt8]) throws -> [UInt8] {
        var document: [String: JSONValue] = [:]
        for name in ["id", "source", "type", "specversion", "subject", "time"] {
            if let value = headers[HTTPField.Name("ce-\(name)")!] { document[name] = .string(value) }
        }
        guard document["id"] != nil, document["type"] != nil else {
            throw Problem(.badRequest, "neither a structured CloudEvent (application/cloudevents+json) nor binary mode (ce-id, ce-type, ce-source, ce-specversion headers)")
        }
        do { document["data"] = try JSONParser.parse(data) } catch { throw Problem(.badRequest, "the body is not JSON: \(error.description)") }
        document["datacontenttype"] = "application/json"
        return Array(JSONValue.object(document).serializedString.utf8)
    }
}

/// An RFC 9457 problem.
struct Problem: Error {
    let status: HTTPResponse.Status
    let detail: String
    init(_ status: HTTPResponse.Status, _ detail: String) {
        self.status = status
        self.detail = detail
    }

    var response: Response {
        let body = JSONValue.object(["type": "about:blank", "title": .string(status.reasonPhrase), "status": .integer(Int64(status.code)),
                                     "detail": .string(detail)]).serializedString
        return Response(status: status, headers: [.contentType: "application/problem+json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response
        } catch let error as HTTPError {
            return Problem(error.status, error.status.reasonPhrase).response
        } catch {
            return Problem(.serviceUnavailable, "try again").response
        }
    }
}
