import ArgumentParser
import Foundation
import Shared

/// A small stand-in for the warehouse's WMS and the carrier, for the demo:
/// confirms every pick list (one unit short on the first line it can, so that a
/// short pick goes back to the Router), confirms every packed parcel with a
/// tracking number, and reports half of the shipments delivered.
struct SimulateWarehouse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-warehouse",
        abstract: "Answer pick lists and packed parcels like a WMS and a carrier would (demo).")

    @Option(help: "Stop after this many seconds without anything to answer.") var idleSeconds: Int = 6
    @Option(help: "Stop after this many seconds at the latest.") var maxSeconds: Int = 120
    @Option(help: "How many pick lists get one unit short (a bin found empty).") var shortPicks: Int = 1

    func validate() throws {
        guard (1...600).contains(idleSeconds), (1...3_600).contains(maxSeconds) else { throw ValidationError("--idle-seconds 1…600, --max-seconds 1…3600") }
        guard (0...1_000).contains(shortPicks) else { throw ValidationError("--short-picks must be between 0 and 1000") }
    }

    func run() throws {
        let kafka = try BenchEnvironment.kafka
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "oms-demo-wms", topics: [Topic.omsShipments],
                                         logger: BenchEnvironment.logger)
        defer { consumer.close() }
        let producer = try KafkaProducer(configuration: kafka, logger: BenchEnvironment.logger)
        let start = Date()
        var lastActivity = Date()
        var shortLeft = shortPicks
        var answered = (picks: 0, parcels: 0, delivered: 0)
        var packedSeen = 0
        while Date().timeIntervalSince(lastActivity) < Double(idleSeconds) && Date().timeIntervalSince(start) < Double(maxSeconds) {
            var out: [OutgoingMessage] = []
            let polled = consumer.poll(maxMessages: 500, timeoutMillis: 200)
            var next: [TopicPartition: Int64] = [:]
            for message in polled {
                let partition = TopicPartition(topic: message.topic, partition: message.partition)
                next[partition] = max(next[partition] ?? 0, message.offset + 1)
            }
            for message in polled {
                guard let event = try? CloudEvent.decode(message.value, maximumBytes: 10_000_000) else { continue }
                lastActivity = Date()
                switch event.type {
                case "PickList.Created":
                    // Group the list's stops by fulfillment order; each order's picks confirmed at once.
                    var byOrder: [String: [(line: String, quantity: Int64, bin: String)]] = [:]
                    for stop in event.data["stops"]?.arrayValue ?? [] {
                        guard let fo = stop["fulfillmentOrderId"]?.stringValue, let line = stop["lineId"]?.stringValue,
                              let quantity = stop["quantity"]?.int64Value else { continue }
                        byOrder[fo, default: []].append((line, quantity, stop["bin"]?.stringValue ?? "?"))
                    }
                    for fo in byOrder.keys.sorted() {
                        var lines = byOrder[fo] ?? []
                        if shortLeft > 0, let i = lines.firstIndex(where: { $0.quantity >= 2 }) {
                            lines[i].quantity -= 1
                            shortLeft -= 1
                        }
                        out.append(Self.message(Topic.warehouseEvents, key: fo, type: "Pick.Confirmed", source: "wms/berg-und-beutel", data: [
                            "fulfillmentOrderId": .string(fo), "waveId": event.data["waveId"] ?? .null, "pickerId": "picker-7",
                            "pickedAt": .string(EventTime.format(Date())),
                            "lines": .array(lines.map { ["lineId": .string($0.line), "picked": .integer($0.quantity), "bin": .string($0.bin)] }),
                        ]))
                        answered.picks += 1
                    }
                case "Shipment.Packed":
                    packedSeen += 1
                    let orderID = event.data["orderId"]?.stringValue ?? "?"
                    let carrier = (event.data["carrierService"]?.stringValue ?? "DHL").hasPrefix("UPS") ? "UPS" : "DHL"
                    for parcel in event.data["parcels"]?.arrayValue ?? [] {
                        guard let sscc = parcel["sscc"]?.stringValue else { continue }
                        // A carrier's piece number, made from the SSCC so that reruns stay readable.
                        let tracking = (carrier == "UPS" ? "1Z999AA1" : "0034043") + String(sscc.suffix(11))
                        out.append(Self.message(Topic.carrierShipments, key: orderID, type: "Shipment.Confirmed", source: "carrier/\(carrier.lowercased())", data: [
                            "sscc": .string(sscc), "carrier": .string(carrier), "trackingNumber": .string(tracking),
                            "shippedAt": .string(EventTime.format(Date())),
                        ]))
                        answered.parcels += 1
                        if packedSeen % 2 == 0 {
                            out.append(Self.message(Topic.carrierShipments, key: orderID, type: "Shipment.Delivered", source: "carrier/\(carrier.lowercased())",
                                                    data: ["sscc": .string(sscc), "deliveredAt": .string(EventTime.format(Date()))]))
                            answered.delivered += 1
                        }
                    }
                case "Shipment.Shipped":
                    // The goods left: the WMS tells the Router (its reservations are consumed).
                    if let fo = event.data["fulfillmentOrderId"], let orderID = event.data["orderId"]?.stringValue, event.data["warehouseId"] != nil {
                        out.append(Self.message(Topic.warehouseEvents, key: orderID, type: "FulfillmentOrder.Confirmed", source: "wms/berg-und-beutel",
                                                data: ["fulfillmentOrderId": fo, "orderId": .string(orderID)]))
                    }
                default:
                    continue
                }
            }
            if !out.isEmpty { try producer.publish(out) }
            // A later demo run answers only what is new (the group's offsets are kept).
            if !next.isEmpty { try consumer.commit(next) }
        }
        print("simulated WMS and carrier: \(answered.picks) pick confirmations (\(shortPicks - shortLeft) short), \(answered.parcels) parcels confirmed, \(answered.delivered) delivered")
    }

    static func message(_ topic: String, key: String, type: String, source: String, data: JSONValue) -> OutgoingMessage {
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: source, type: type, subject: key, time: EventTime.format(Date()), data: data)
        return OutgoingMessage(topic: topic, key: key, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
    }
}
