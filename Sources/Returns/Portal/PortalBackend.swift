import Foundation
import Logging
import ReturnsCore
import Shared

/// The portal's blocking work — libpq reads, photo files, publishing `Return.Requested` — on one serial queue of its
/// own, off Swift's cooperative pool. The connection and the producer are made on first use and again after a failure.
final class PortalBackend: @unchecked Sendable {
    struct LineView: Sendable {
        let line: ReturnPolicy.OrderLine
        let name: String
        let units: Int64
        let refusal: ReturnPolicy.Refusal?
    }

    struct Photo: Sendable {
        let id: String
        let kind: PhotoScrubber.Kind
        let bytes: [UInt8]
        let removed: [String]
    }

    private let database: DatabaseQueue
    private let settings: WorkerSettings
    private let uploadDirectory: String
    private let logger: Logger
    /// Used on the database queue only.
    private var producer: KafkaProducer?

    init(settings: WorkerSettings, uploadDirectory: String, logger: Logger) {
        self.settings = settings
        self.uploadDirectory = uploadDirectory
        self.logger = logger
        database = DatabaseQueue(url: settings.databaseURL, applicationName: "oms-returns-portal", logger: logger)
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (ReturnsStore) throws -> T) async throws -> T {
        try await database.run { try body(ReturnsStore(database: $0)) }
    }

    func lookup(orderID: String, email: String?, postalCode: String?) async throws -> String? {
        try await run { try $0.lookup(orderID: orderID, email: email, postalCode: postalCode) }
    }

    func lines(orderID: String, rules: ReturnRules, now: Date) async throws -> [LineView]? {
        try await run { store in
            guard let data = try store.order(orderID) else { return nil }
            let order = ReturnsInput.order(data, shipments: try store.shipments(of: orderID), returned: try store.returnedUnits(of: orderID))
            let products = try store.products(order.lines.map(\.sku))
            return ReturnPolicy.returnable(order, products: products, rules: rules, now: now).map {
                LineView(line: $0.line, name: products[$0.line.sku]?.name ?? $0.line.sku, units: $0.units, refusal: $0.refusal)
            }
        }
    }

    func request(_ requestID: String) async throws -> ReturnsStore.ReturnRow? {
        try await run { try $0.returnByRequest(requestID) }
    }

    func label(rma: String) async throws -> [UInt8]? {
        try await run { try $0.labelPDF(rma: rma) }
    }

    /// Stores the photos (files under generated names, registered) and publishes the request; a request id seen
    /// before (reload, double click) stores and publishes nothing.
    func submit(_ event: CloudEvent, requestID: String, orderID: String, photos: [Photo]) async throws {
        let directory = uploadDirectory
        let settings = self.settings
        let logger = self.logger
        try await run { store in
            if try store.returnByRequest(requestID) != nil { return }
            for photo in photos {
                let path = (directory as NSString).appendingPathComponent("\(photo.id).\(photo.kind.fileExtension)")
                guard FileManager.default.createFile(atPath: path, contents: Data(photo.bytes), attributes: [.posixPermissions: 0o600]) else {
                    throw PortalStorageError(description: "cannot write \(path)")
                }
                try store.registerPhoto(id: photo.id, orderID: orderID, mediaType: photo.kind.mediaType, bytes: photo.bytes.count, removed: photo.removed)
            }
            if self.producer == nil { self.producer = try KafkaProducer(configuration: settings.kafka, logger: logger) }
            try self.producer?.publish([OutgoingMessage(topic: Topic.returnsRequests, key: orderID, value: event.serialized(),
                                                        headers: [("content-type", CloudEvent.contentType)])])
        }
    }
}

struct PortalStorageError: Error, CustomStringConvertible {
    let description: String
}
