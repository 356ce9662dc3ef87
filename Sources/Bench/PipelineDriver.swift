import Foundation
import Shared
import Synchronization

/// The world around the OMS in the whole-pipeline benchmark and the chaos run, in one thread: the
/// warehouse's WMS (confirms pick lists, tells the Router what left, receives returns), the carrier
/// (confirms every packed parcel), the buyer's boss (approves a held B2B order) and the customer (asks for a
/// return once the order is invoiced). It also watches every outcome: per order the Kafka CreateTime of the
/// first event of each step, the units shipped, the shipments invoiced, the credit notes; and per event id the
/// bytes it was published with, so that a redelivery with other content is caught.
final class PipelineDriver {
    /// The steps of an order, in the order they happen; `Step.handedOver` is the bench's own stamp.
    enum Step: Int, CaseIterable {
        case handedOver, accepted, fulfillmentOrder, pickList, picked, packed, carrierConfirmed, shipped, invoiced
        /// Who takes an order from the step before to this one.
        var actor: String {
            switch self {
            case .handedOver: "shop"
            case .accepted: "Capture: Order.Created → Order.Accepted"
            case .fulfillmentOrder: "Router: Order.Accepted → FulfillmentOrder.Created"
            case .pickList: "Fulfillment: FulfillmentOrder.Created → PickList.Created"
            case .picked: "simulated WMS: PickList.Created → Pick.Confirmed"
            case .packed: "Fulfillment: Pick.Confirmed → Shipment.Packed"
            case .carrierConfirmed: "simulated carrier: Shipment.Packed → Shipment.Confirmed"
            case .shipped: "Fulfillment: Shipment.Confirmed → Shipment.Shipped"
            case .invoiced: "Billing: Shipment.Shipped → Invoice.Issued"
            }
        }
    }

    struct OrderState {
        var units: Int64 = 0
        var shippedUnits: Int64 = 0
        var shipments: Set<String> = []
        var invoicedShipments: Set<String> = []
        var rejected = false
        var held = false
        var approvalSent = false
        var returnAttempts = 0
        var returnAuthorized = false
        var credited = false
        var done = false
        var doneAt: Int64 = 0
        var lastDocumentAt: Int64 = 0
        var steps = [Int64](repeating: 0, count: Step.allCases.count)
    }

    let mix: PipelineMix
    let kafka: KafkaConfiguration
    private(set) var orders: [OrderState]
    private var orderOfFulfillmentOrder: [String: Int] = [:]
    private var orderOfSSCC: [String: Int] = [:]
    private var contentOfEvent: [String: Int] = [:]
    private(set) var redelivered = 0
    private(set) var conflictingRedeliveries: [String] = []
    private(set) var typeCounts: [String: Int] = [:]
    private(set) var doneCount = 0
    private(set) var returnsRequested = 0
    private var pendingReturns: [(due: Date, index: Int)] = []
    private var replenished = false
    let stop = Atomic<Bool>(false)

    init(mix: PipelineMix, kafka: KafkaConfiguration) {
        self.mix = mix
        self.kafka = kafka
        orders = [OrderState](repeating: OrderState(), count: mix.orders)
    }

    /// Runs until every order is done, `stop` is set or `deadline` passes; returns whether all were done.
    func run(deadline: Date, progress: (Int) -> Void) throws -> Bool {
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "oms-bench-driver-\(mix.runID)",
                                         topics: [Topic.omsOrders, Topic.omsFulfillment, Topic.omsShipments, Topic.omsBilling, Topic.omsReturns],
                                         logger: BenchEnvironment.quietLogger)
        defer { consumer.close() }
        let producer = try KafkaProducer(configuration: kafka, logger: BenchEnvironment.quietLogger, deliveryTimeoutMillis: 120_000)
        var lastProgress = Date()
        while doneCount < mix.orders && !stop.load(ordering: .relaxed) && Date() < deadline {
            var out: [OutgoingMessage] = []
            for message in consumer.poll(maxMessages: 5_000, timeoutMillis: 50) {
                handle(message, out: &out)
            }
            let now = Date()
            while let first = pendingReturns.first, first.due <= now {
                pendingReturns.removeFirst()
                out.append(returnRequest(first.index))
            }
            // The lanterns arrive once half of the orders are through (the back-orders waited that long).
            if !replenished && doneCount * 2 >= mix.orders {
                replenished = true
                out.append(mix.replenishment(sequence: Int64(Date().timeIntervalSince1970 * 1000)))
            }
            if !out.isEmpty { try publish(out, producer) }
            if now.timeIntervalSince(lastProgress) >= 1 {
                lastProgress = now
                progress(doneCount)
            }
        }
        return doneCount == mix.orders
    }

    /// Publishes, retrying while the broker is away (the chaos run takes it down); the stamps of the
    /// WMS's and the carrier's steps are taken at hand-over.
    private func publish(_ messages: [OutgoingMessage], _ producer: KafkaProducer) throws {
        var attempt = 0
        while true {
            do {
                try producer.publish(messages)
                return
            } catch {
                attempt += 1
                if attempt > 60 || stop.load(ordering: .relaxed) { throw error }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    private static func millis(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    private func stamp(_ index: Int, _ step: Step, _ at: Int64) {
        if orders[index].steps[step.rawValue] == 0 { orders[index].steps[step.rawValue] = at }
    }

    private func handle(_ message: ConsumedMessage, out: inout [OutgoingMessage]) {
        // Only this run's orders (the subject of every event here is the order, or a wave/fulfillment order of it).
        guard let event = try? CloudEvent.decode(message.value, maximumBytes: 10_000_000) else { return }
        var hasher = Hasher()
        hasher.combine(message.value)
        let content = hasher.finalize()
        if let earlier = contentOfEvent[event.id] {
            redelivered += 1
            if earlier != content && conflictingRedeliveries.count < 20 { conflictingRedeliveries.append("\(event.type) \(event.id)") }
            return
        }
        let at = message.timestampMillis ?? Self.millis()
        let data = event.data
        switch event.type {
        case "PickList.Created":
            var byFulfillmentOrder: [String: [JSONValue]] = [:]
            for stop in data["stops"]?.arrayValue ?? [] {
                guard let fo = stop["fulfillmentOrderId"]?.stringValue, orderIndex(ofFulfillmentOrder: fo) != nil else { continue }
                byFulfillmentOrder[fo, default: []].append(["lineId": stop["lineId"] ?? "?", "picked": stop["quantity"] ?? 0, "bin": stop["bin"] ?? "?"])
            }
            guard !byFulfillmentOrder.isEmpty else { return }
            contentOfEvent[event.id] = content
            count(event.type)
            let now = Self.millis()
            for (fo, lines) in byFulfillmentOrder.sorted(by: { $0.key < $1.key }) {
                if let index = orderIndex(ofFulfillmentOrder: fo) {
                    stamp(index, .pickList, at)
                    stamp(index, .picked, now)
                }
                out.append(Self.message(Topic.warehouseEvents, key: fo, type: "Pick.Confirmed", source: "wms/berg-und-beutel", id: "wms-pick-\(event.id)-\(fo)", data: [
                    "fulfillmentOrderId": .string(fo), "waveId": data["waveId"] ?? .null, "pickerId": "picker-7",
                    "pickedAt": .string(EventTime.format(Date())), "lines": .array(lines),
                ]))
            }
            return
        default:
            break
        }
        guard let orderID = data["orderId"]?.stringValue ?? event.subject, let index = mix.index(ofOrder: orderID) else { return }
        contentOfEvent[event.id] = content
        count(event.type)
        switch event.type {
        case "Order.Accepted":
            stamp(index, .accepted, at)
        case "Order.OnHold":
            orders[index].held = true
            let reasons = data["holdReasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if reasons == ["approval"] && !orders[index].approvalSent {
                orders[index].approvalSent = true
                out.append(Self.message(Topic.shopOrders, key: orderID, type: "Order.ApprovalGiven", source: "shop/berg-und-beutel", id: "boss-\(event.id)",
                                        data: ["orderId": .string(orderID), "by": .string(mix.businessCustomerID(index) + "-CHEF")]))
            }
        case "Order.Rejected":
            orders[index].rejected = true
            complete(index, at)
        case "FulfillmentOrder.Created":
            if let fo = data["fulfillmentOrderId"]?.stringValue { orderOfFulfillmentOrder[fo] = index }
            stamp(index, .fulfillmentOrder, at)
        case "Shipment.Packed":
            stamp(index, .packed, at)
            let carrier = (data["carrierService"]?.stringValue ?? "DHL").hasPrefix("UPS") ? "UPS" : "DHL"
            let now = Self.millis()
            for parcel in data["parcels"]?.arrayValue ?? [] {
                guard let sscc = parcel["sscc"]?.stringValue else { continue }
                orderOfSSCC[sscc] = index
                stamp(index, .carrierConfirmed, now)
                out.append(Self.message(Topic.carrierShipments, key: orderID, type: "Shipment.Confirmed", source: "carrier/\(carrier.lowercased())",
                                        id: "carrier-\(sscc)", data: [
                    "sscc": .string(sscc), "carrier": .string(carrier), "trackingNumber": .string("0034043" + String(sscc.suffix(11))),
                    "shippedAt": .string(EventTime.format(Date())),
                ]))
            }
        case "Shipment.Shipped":
            stamp(index, .shipped, at)
            guard let fo = data["fulfillmentOrderId"]?.stringValue, orders[index].shipments.insert(fo).inserted else { break }
            orders[index].shippedUnits += (data["lines"]?.arrayValue ?? []).reduce(Int64(0)) { $0 + ($1["quantity"]?.int64Value ?? 0) }
            if data["warehouseId"] != nil {
                out.append(Self.message(Topic.warehouseEvents, key: orderID, type: "FulfillmentOrder.Confirmed", source: "wms/berg-und-beutel",
                                        id: "wms-left-\(fo)", data: ["fulfillmentOrderId": .string(fo), "orderId": .string(orderID)]))
            }
            check(index, at, out: &out)
        case "Invoice.Issued":
            stamp(index, .invoiced, at)
            orders[index].lastDocumentAt = max(orders[index].lastDocumentAt, at)
            if let fo = data["fulfillmentOrderId"]?.stringValue { orders[index].invoicedShipments.insert(fo) }
            check(index, at, out: &out)
        case "CreditNote.Issued":
            orders[index].credited = true
            orders[index].lastDocumentAt = max(orders[index].lastDocumentAt, at)
            check(index, at, out: &out)
        case "Return.Authorized":
            guard !orders[index].returnAuthorized, let rma = data["rma"]?.stringValue else { break }
            orders[index].returnAuthorized = true
            let lines: [JSONValue] = (data["lines"]?.arrayValue ?? []).map { line in
                ["lineId": line["lineId"] ?? "1", "quantity": line["quantity"] ?? 1, "grade": "A", "notes": "originalverpackt"]
            }
            out.append(Self.message(Topic.warehouseEvents, key: orderID, type: "Return.Received", source: "wms/berg-und-beutel", id: "wms-return-\(rma)",
                                    data: ["rma": .string(rma), "warehouseId": "A", "receivedAt": .string(EventTime.format(Date())), "lines": .array(lines)]))
        case "Return.Rejected", "Return.Held":
            // Asked too early (the stage had not seen the shipment yet): the customer tries again a little later.
            if orders[index].returnAttempts < 5 { pendingReturns.append((Date().addingTimeInterval(2), index)) }
        default:
            break
        }
    }

    /// The Router names a fulfillment order "<order id>-F<n>".
    private func orderIndex(ofFulfillmentOrder id: String) -> Int? {
        if let index = orderOfFulfillmentOrder[id] { return index }
        guard let dash = id.range(of: "-F", options: .backwards) else { return nil }
        return mix.index(ofOrder: String(id[..<dash.lowerBound]))
    }

    private func count(_ type: String) { typeCounts[type, default: 0] += 1 }

    /// An order is through when every unit left, every shipment is invoiced and, for a returned one, the credit note is out.
    private func check(_ index: Int, _ at: Int64, out: inout [OutgoingMessage]) {
        let order = orders[index]
        guard !order.done, order.units > 0, order.shippedUnits >= order.units, order.invoicedShipments.isSuperset(of: order.shipments) else { return }
        if mix.isReturned(index) && !mix.isBusiness(index) {
            if order.returnAttempts == 0 { out.append(returnRequest(index)) }
            guard order.credited else { return }
        }
        complete(index, at)
    }

    private func complete(_ index: Int, _ at: Int64) {
        guard !orders[index].done else { return }
        orders[index].done = true
        orders[index].doneAt = at
        doneCount += 1
    }

    private func returnRequest(_ index: Int) -> OutgoingMessage {
        orders[index].returnAttempts += 1
        returnsRequested += 1
        let orderID = mix.orderID(index)
        return Self.message(Topic.returnsRequests, key: orderID, type: "Return.Requested", source: "shop/berg-und-beutel",
                            id: "customer-return-\(orderID)-\(orders[index].returnAttempts)", data: [
            "requestId": .string("RQ-\(orderID)-\(orders[index].returnAttempts)"), "orderId": .string(orderID), "channel": "shop",
            "requestedAt": .string(EventTime.format(Date())), "lines": [["lineId": "1", "quantity": 1, "reason": "changed-mind"]],
        ])
    }

    func setUnits(_ units: [Int64]) {
        for (index, value) in units.enumerated() where index < orders.count { orders[index].units = value }
    }

    func stampHandedOver(_ index: Int, _ millis: Int64) {
        if index >= 0 && index < orders.count { orders[index].steps[Step.handedOver.rawValue] = millis }
    }

    static func message(_ topic: String, key: String, type: String, source: String, id: String, data: JSONValue) -> OutgoingMessage {
        let event = CloudEvent(id: id, source: source, type: type, subject: key, time: EventTime.format(Date()), data: data)
        return OutgoingMessage(topic: topic, key: key, value: event.serialized(), headers: [("content-type", CloudEvent.contentType)])
    }
}
