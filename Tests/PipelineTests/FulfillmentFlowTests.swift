import Foundation
import Shared
import Testing

/// Builds the events other systems send Fulfillment.
enum FulfillmentFixtures {
    static func product(_ sku: String, grams: Int64, mm: (Int64, Int64, Int64), _ extra: [String: JSONValue] = [:]) -> OutgoingMessage {
        var data: [String: JSONValue] = ["sku": .string(sku), "name": .string("Name of \(sku)"), "sellable": true, "taxClass": "standard",
                                         "weightGrams": .integer(grams), "hsCode": "630622", "originCountry": "VN",
                                         "dimensionsMm": ["length": .integer(mm.0), "width": .integer(mm.1), "height": .integer(mm.2)]]
        for (key, value) in extra { data[key] = value }
        return RouterFixtures.message(Topic.catalogProducts, key: sku, type: "Product.Changed", source: "pim/berg-und-beutel", data: .object(data))
    }

    static func shipTo(_ country: String, postalCode: String, name: String = "Lena Müller") -> JSONValue {
        ["name": .string(name), "street": "Hauptstraße 5", "postalCode": .string(postalCode), "city": "Stadt", "country": .string(country),
         "email": "lena@example.com"]
    }

    /// `FulfillmentOrder.Created` as the Router emits it.
    static func fulfillmentOrder(_ id: String, order: String, warehouse: String = "A", method: String = "standard", service: String = "DHL-PAKET",
                                 shipTo: JSONValue, lines: [(String, Int64)], gift: JSONValue? = nil, customerType: String = "b2c",
                                 deliveryNote: JSONValue? = nil) -> OutgoingMessage {
        var data: [String: JSONValue] = [
            "fulfillmentOrderId": .string(id), "orderId": .string(order), "warehouseId": .string(warehouse), "carrierService": .string(service),
            "shippingMethod": .string(method), "shippingCountry": shipTo["country"] ?? "DE", "shipTo": shipTo, "customerType": .string(customerType),
            "currency": "EUR", "shipBy": .string(EventTime.format(Date().addingTimeInterval(3600))),
            "lines": .array(lines.enumerated().map { ["lineId": .string(String($0.offset + 1)), "sku": .string($0.element.0),
                                                       "quantity": .integer($0.element.1), "unitPrice": 4_990] }),
        ]
        if let gift { data["gift"] = gift }
        if let deliveryNote { data["deliveryNote"] = deliveryNote }
        return RouterFixtures.message(Topic.omsFulfillment, key: order, type: "FulfillmentOrder.Created", source: "oms/router", data: .object(data))
    }

    static func picked(_ fo: String, key: String, _ lines: [(String, Int64)]) -> OutgoingMessage {
        RouterFixtures.message(Topic.warehouseEvents, key: key, type: "Pick.Confirmed", source: "wms/berg-und-beutel", data: [
            "fulfillmentOrderId": .string(fo), "pickedAt": .string(EventTime.format(Date())),
            "lines": .array(lines.map { ["lineId": .string($0.0), "picked": .integer($0.1)] }),
        ])
    }

    static func confirmed(sscc: String, key: String, tracking: String, carrier: String = "DHL") -> OutgoingMessage {
        RouterFixtures.message(Topic.carrierShipments, key: key, type: "Shipment.Confirmed", source: "carrier/dhl", data: [
            "sscc": .string(sscc), "carrier": .string(carrier), "trackingNumber": .string(tracking),
        ])
    }

    static func delivered(sscc: String, key: String) -> OutgoingMessage {
        RouterFixtures.message(Topic.carrierShipments, key: key, type: "Shipment.Delivered", source: "carrier/dhl", data: [
            "sscc": .string(sscc), "deliveredAt": .string(EventTime.format(Date())),
        ])
    }
}

extension TopicReader {
    /// Reads until `count` events of `type` arrived (or `timeout`); returns those events.
    func events(ofType type: String, atLeast count: Int, timeout: Double) throws -> [CloudEvent] {
        try events(ofType: type, timeout: timeout) { $0.count >= count }
    }

    /// Reads until events of `type` for `count` distinct values of `field` arrived (or `timeout`); returns
    /// every such event, duplicates included. After a crash an outbox row is published again with its
    /// event id, so a raw count can be reached by duplicates while others are still on their way.
    func events(ofType type: String, distinctBy field: String, atLeast count: Int, timeout: Double) throws -> [CloudEvent] {
        try events(ofType: type, timeout: timeout) { Set($0.map { $0.data[field]?.stringValue ?? "" }).count >= count }
    }

    private func events(ofType type: String, timeout: Double, until enough: ([CloudEvent]) -> Bool) throws -> [CloudEvent] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let found = try PipelineTests.events(messages).filter { $0.type == type }
            if enough(found) || Date() >= deadline { return found }
            read(atLeast: messages.count + 1, timeout: 0.2)
        }
    }
}

@Suite("Fulfillment end to end", .serialized)
struct FulfillmentFlowTests {
    @Test("waves and pick lists, short pick, parcels with SSCCs and labels, CN23 for Switzerland, tracking, delivery")
    func pickPackShip() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let fulfillment = try rig.start("oms-fulfillment", name: "fulfillment-flow")
        defer { _ = fulfillment.terminate(waitSeconds: 5) }
        let shipments = try TopicReader(broker: broker, topic: Topic.omsShipments)
        let labels = try TopicReader(broker: broker, topic: Topic.omsLabels)
        let back = try TopicReader(broker: broker, topic: Topic.omsFulfillment)
        let dlq = try TopicReader(broker: broker, topic: Topic.omsDLQ)

        try producer.publish([
            FulfillmentFixtures.product("TENT-2P", grams: 2_400, mm: (550, 180, 180)),
            FulfillmentFixtures.product("LAMP-HEAD", grams: 120, mm: (90, 60, 50)),
            FulfillmentFixtures.product("BOTTLE-1L", grams: 180, mm: (80, 80, 260)),
            FulfillmentFixtures.product("STOVE-GAS", grams: 400, mm: (150, 150, 120), ["dangerousGoodsClass": "2.1"]),
            // The WMS moved the lamps (its word beats the slotting table); an unknown bin name is only noted.
            RouterFixtures.message(Topic.inventoryStock, key: "A", type: "Stock.Changed", source: "wms/berg-und-beutel", data: [
                "warehouseId": "A", "sequence": 7, "items": [["sku": "LAMP-HEAD", "onHand": 9, "bin": "10-20-1"], ["sku": "TENT-2P", "onHand": 5, "bin": "ZZ-99-9"]],
            ]),
        ])
        try eventually(timeout: 30, "catalog replica and bins") {
            try database.query("SELECT (SELECT count(*) FROM fulfillment.products) + (SELECT count(*) FROM fulfillment.bins) AS n").first!
                .decode("n", as: Int.self) == 5
        }
        try producer.publish([
            FulfillmentFixtures.fulfillmentOrder("FO-DE-1", order: "ORD-DE-1", shipTo: FulfillmentFixtures.shipTo("DE", postalCode: "80331"),
                                                 lines: [("TENT-2P", 1), ("LAMP-HEAD", 2), ("STOVE-GAS", 1)],
                                                 gift: ["wrap": true, "message": "Alles Gute ^XZ~JR_x"]),
            FulfillmentFixtures.fulfillmentOrder("FO-CH-1", order: "ORD-CH-1", shipTo: FulfillmentFixtures.shipTo("CH", postalCode: "8001"),
                                                 lines: [("BOTTLE-1L", 3)]),
            // A consumer who asked for delivery notes without prices (the order says so).
            FulfillmentFixtures.fulfillmentOrder("FO-DE-3", order: "ORD-DE-3", shipTo: FulfillmentFixtures.shipTo("DE", postalCode: "10115"),
                                                 lines: [("BOTTLE-1L", 1)], deliveryNote: ["withoutPrices": true]),
            FulfillmentFixtures.fulfillmentOrder("FO-DE-2", order: "ORD-DE-2", shipTo: FulfillmentFixtures.shipTo("DE", postalCode: "27498"),
                                                 lines: [("LAMP-HEAD", 1), ("BOTTLE-1L", 2)], customerType: "b2b"),
        ])
        let lists = try shipments.events(ofType: "PickList.Created", atLeast: 1, timeout: 30)
        #expect(!lists.isEmpty)
        let listed = Set(lists.flatMap { $0.data["fulfillmentOrderIds"]?.arrayValue?.compactMap(\.stringValue) ?? [] })
        try eventually(timeout: 30, "every fulfillment order waved") {
            try database.query("SELECT count(*) AS n FROM fulfillment.fulfillment_orders WHERE status = 'waved'").first!.decode("n", as: Int.self) == 4
        }
        let allLists = try shipments.events(ofType: "PickList.Created", atLeast: 1, timeout: 5)
        let waved = Set(allLists.flatMap { $0.data["fulfillmentOrderIds"]?.arrayValue?.compactMap(\.stringValue) ?? [] })
        #expect(waved == ["FO-DE-1", "FO-CH-1", "FO-DE-2", "FO-DE-3"], "listed first: \(listed)")
        // The packer's instructions carry the gift message exactly as entered.
        let instructions = allLists.flatMap { $0.data["packingInstructions"]?.arrayValue ?? [] }
        #expect(instructions.contains { $0["fulfillmentOrderId"]?.stringValue == "FO-DE-1" && $0["giftMessage"]?.stringValue == "Alles Gute ^XZ~JR_x"
            && $0["giftWrap"]?.boolValue == true })
        for list in allLists {
            let routing = list.data["routing"]
            let length = routing?["lengthDm"]?.int64Value ?? -1
            #expect(length <= routing?["binNameOrderDm"]?.int64Value ?? -1, "our tour is never longer than walking by bin name")
            #expect(length == routing?["lengthsDm"]?["optimal"]?.int64Value, "the optimum is chosen")
            let bins = list.data["stops"]?.arrayValue?.compactMap { $0["bin"]?.stringValue } ?? []
            #expect(!bins.contains("UNSLOTTED"))
            for stop in list.data["stops"]?.arrayValue ?? [] where stop["sku"]?.stringValue == "LAMP-HEAD" {
                #expect(stop["bin"]?.stringValue == "10-20-1")
            }
        }

        // The picker finds one lamp of two for FO-DE-1; FO-CH-1 and FO-DE-2 are complete.
        try producer.publish([
            FulfillmentFixtures.picked("FO-DE-1", key: "ORD-DE-1", [("1", 1), ("2", 1), ("3", 1)]),
            FulfillmentFixtures.picked("FO-CH-1", key: "ORD-CH-1", [("1", 3)]),
            FulfillmentFixtures.picked("FO-DE-2", key: "ORD-DE-2", [("1", 1), ("2", 2)]),
            FulfillmentFixtures.picked("FO-DE-3", key: "ORD-DE-3", [("1", 1)]),
            // Unknown fulfillment order: dead letter, nothing else.
            FulfillmentFixtures.picked("FO-NOPE", key: "NOPE", [("1", 1)]),
        ])
        let short = try back.events(ofType: "FulfillmentOrder.ShortPicked", atLeast: 1, timeout: 30)
        #expect(short.count == 1)
        #expect(short.first?.data["lines"]?.arrayValue?.first?["sku"]?.stringValue == "LAMP-HEAD")
        #expect(short.first?.data["lines"]?.arrayValue?.first?["missing"]?.int64Value == 1)

        try eventually(timeout: 30, "four fulfillment orders packed") {
            try database.query("SELECT count(*) AS n FROM fulfillment.fulfillment_orders WHERE status = 'packed'").first!.decode("n", as: Int.self) == 4
        }
        let packed = try shipments.events(ofType: "Shipment.Packed", atLeast: 4, timeout: 10)
        #expect(packed.count == 4)
        let byFO = Dictionary(uniqueKeysWithValues: packed.map { ($0.data["fulfillmentOrderId"]?.stringValue ?? "", $0) })
        // Dangerous goods travel apart: FO-DE-1 has the stove in a parcel of its own.
        let de1 = try #require(byFO["FO-DE-1"])
        let de1Parcels = de1.data["parcels"]?.arrayValue ?? []
        #expect(de1Parcels.count == 2)
        #expect(de1Parcels.contains { $0["dangerousGoodsClass"]?.stringValue == "2.1" && $0["items"]?.arrayValue?.count == 1 })
        // A gift's delivery note has no prices and the message exactly as entered; a B2B note neither.
        #expect(de1.data["deliveryNote"]?["showPrices"]?.boolValue == false)
        #expect(de1.data["deliveryNote"]?["giftMessage"]?.stringValue == "Alles Gute ^XZ~JR_x")
        #expect(byFO["FO-DE-2"]?.data["deliveryNote"]?["showPrices"]?.boolValue == false)
        #expect(byFO["FO-CH-1"]?.data["deliveryNote"]?["showPrices"]?.boolValue == true)
        #expect(byFO["FO-DE-3"]?.data["deliveryNote"]?["showPrices"]?.boolValue == false, "the customer asked for no prices")
        #expect(byFO["FO-CH-1"]?.data["deliveryNote"]?["lines"]?.arrayValue?.first?["unitPrice"]?.int64Value == 4_990)
        // Customs: Switzerland and Heligoland get a CN23, with HS code, origin and value.
        let ch = byFO["FO-CH-1"]?.data["parcels"]?.arrayValue?.first?["customs"]
        #expect(ch?["form"]?.stringValue == "CN23")
        #expect(ch?["items"]?.arrayValue?.first?["hsCode"]?.stringValue == "630622")
        #expect(ch?["totalValue"]?.int64Value == Int64(3 * 4_990))
        #expect(ch?["exportDeclarationRequired"]?.boolValue == false)
        #expect(byFO["FO-DE-2"]?.data["parcels"]?.arrayValue?.first?["customs"]?["reason"]?.stringValue?.contains("Heligoland") == true)
        #expect(de1Parcels.allSatisfy { $0["customs"] == nil })

        // One SSCC per parcel, valid, never twice; one label job per parcel with that SSCC in its ZPL.
        let ssccs = packed.flatMap { $0.data["parcels"]?.arrayValue?.compactMap { $0["sscc"]?.stringValue } ?? [] }
        #expect(ssccs.count == 5)
        #expect(Set(ssccs).count == ssccs.count)
        #expect(ssccs.allSatisfy { $0.hasPrefix("34012345") && $0.count == 18 })
        let jobs = try labels.events(ofType: "Label.PrintRequested", atLeast: 5, timeout: 20)
        #expect(Set(jobs.compactMap { $0.data["sscc"]?.stringValue }) == Set(ssccs))
        #expect(jobs.allSatisfy { job in job.data["zpl"]?.stringValue?.contains(">;>800" + (job.data["sscc"]?.stringValue ?? "-")) == true })
        #expect(jobs.allSatisfy { $0.data["printerId"]?.stringValue == "zebra-a1" })

        // Tracking: one number per parcel; the shipment event waits for the last one; a repeat changes nothing.
        let de1SSCCs = de1Parcels.compactMap { $0["sscc"]?.stringValue }
        try producer.publish([FulfillmentFixtures.confirmed(sscc: de1SSCCs[0], key: "ORD-DE-1", tracking: "00340434161094000001")])
        try eventually(timeout: 20, "first parcel tracked") {
            try database.query("SELECT count(*) AS n FROM fulfillment.parcels WHERE tracking_number IS NOT NULL").first!.decode("n", as: Int.self) == 1
        }
        #expect(try events(shipments.drain(for: 1)).filter { $0.type == "Shipment.Shipped" }.isEmpty)
        try producer.publish([
            FulfillmentFixtures.confirmed(sscc: de1SSCCs[1], key: "ORD-DE-1", tracking: "00340434161094000002"),
            FulfillmentFixtures.confirmed(sscc: de1SSCCs[1], key: "ORD-DE-1", tracking: "00340434161094000002"),
            FulfillmentFixtures.confirmed(sscc: "340123459999999996", key: "ORD-X", tracking: "00340434161094000009"),
        ])
        let shipped = try shipments.events(ofType: "Shipment.Shipped", atLeast: 1, timeout: 20)
        #expect(shipped.count == 1)
        let tracked = shipped.first?.data["parcels"]?.arrayValue ?? []
        #expect(Set(tracked.compactMap { $0["trackingNumber"]?.stringValue }) == ["00340434161094000001", "00340434161094000002"])
        #expect(tracked.allSatisfy { $0["trackingUrl"]?.stringValue?.hasPrefix("https://www.dhl.de/") == true })

        try producer.publish(de1SSCCs.map { FulfillmentFixtures.delivered(sscc: $0, key: "ORD-DE-1") })
        let delivered = try shipments.events(ofType: "Shipment.Delivered", atLeast: 1, timeout: 20)
        #expect(delivered.count == 1)
        #expect(try database.query("SELECT status FROM fulfillment.fulfillment_orders WHERE fulfillment_order_id = 'FO-DE-1'")
            .first!.decode("status", as: String.self) == "delivered")

        // Operators: omsctl shows the order, writes its documents, reprints a label.
        let show = try runOmsctl(["fulfillment", "show", "FO-DE-1"], environment: rig.environment())
        #expect(show.status == 0, "\(show.output)")
        #expect(show.output.contains(de1SSCCs[0]) && show.output.contains("00340434161094000002") && show.output.contains("DG 2.1"), "\(show.output)")
        #expect(show.output.contains("Alles Gute ^XZ~JR_x"))
        let directory = NSTemporaryDirectory() + "oms-docs-\(UUID().uuidString.prefix(8))"
        let documents = try runOmsctl(["fulfillment", "documents", "FO-CH-1", "--out", directory], environment: rig.environment())
        #expect(documents.status == 0, "\(documents.output)")
        let files = documents.output.split(separator: "\n").map(String.init)
        #expect(files.filter { $0.hasSuffix(".zpl") }.count == 1 && files.filter { $0.hasSuffix(".pdf") }.count == 2, "\(files)")
        for pdf in files where pdf.hasSuffix(".pdf") {
            #expect(try runProgram("/usr/bin/qpdf", ["--check", pdf]).status == 0, "\(pdf)")
        }
        let waveID = try #require(allLists.first?.data["waveId"]?.stringValue)
        let wave = try runOmsctl(["wave", "show", waveID], environment: rig.environment())
        #expect(wave.status == 0 && wave.output.contains("route: optimal"), "\(wave.output)")
        let reprint = try runOmsctl(["label", "reprint", de1SSCCs[0]], environment: rig.environment())
        #expect(reprint.status == 0, "\(reprint.output)")
        let reprinted = try labels.events(ofType: "Label.PrintRequested", atLeast: 6, timeout: 20)
        #expect(reprinted.contains { $0.data["sscc"]?.stringValue == de1SSCCs[0] && $0.data["reprint"]?.boolValue == true })
        let bad = try runOmsctl(["label", "reprint", "123"], environment: rig.environment())
        #expect(bad.status != 0 && bad.output.contains("18 digits"))

        // Dead letters: the unknown fulfillment order and the unknown parcel, with their reasons.
        dlq.read(atLeast: 2, timeout: 20)
        let dead = try events(dlq.drain(for: 1))
        #expect(dead.count == 2, "\(dead.map(\.data))")
        let reasons = dlq.messages.flatMap { $0.headers.filter { $0.0 == DeadLetterHeader.errorMessage }.map { String(decoding: $0.1, as: UTF8.self) } }
        #expect(reasons.contains { $0.contains("FO-NOPE") })
        #expect(reasons.contains { $0.contains("340123459999999996") })
        #expect(try events(shipments.messages).filter { $0.type == "Shipment.Shipped" }.count == 1, "the repeated confirmation shipped nothing twice")
    }
}

@Suite("Fulfillment with the Router", .serialized)
struct FulfillmentRouterTests {
    @Test("a short pick goes back to the Router: the missing unit is written off and routed to the other warehouse")
    func shortPickIsRoutedAgain() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let router = try rig.start("oms-router", name: "router-short")
        let fulfillment = try rig.start("oms-fulfillment", name: "fulfillment-short")
        defer {
            _ = fulfillment.terminate(waitSeconds: 5)
            _ = router.terminate(waitSeconds: 5)
        }
        let created = try TopicReader(broker: broker, topic: Topic.omsFulfillment)
        try producer.publish([
            FulfillmentFixtures.product("LAMP-HEAD", grams: 120, mm: (90, 60, 50)),
            RouterFixtures.stock("A", sequence: 1, [("LAMP-HEAD", 2)]),
            RouterFixtures.stock("B", sequence: 1, [("LAMP-HEAD", 1)]),
        ])
        try eventually(timeout: 30, "stock in the Router") {
            try database.query("SELECT count(*) AS n FROM router.stock").first!.decode("n", as: Int.self) == 2
        }
        var accepted = RouterFixtures.order("ORD-SHORT", [("LAMP-HEAD", 2)])
        // Capture's announcement carries the ship-to address.
        var event = try CloudEvent.decode(accepted.value, maximumBytes: 1_000_000)
        var data = event.data.objectValue ?? [:]
        data["shipTo"] = FulfillmentFixtures.shipTo("DE", postalCode: "80331")
        event.data = .object(data)
        accepted = OutgoingMessage(topic: accepted.topic, key: accepted.key, value: event.serialized())
        try producer.publish([accepted])
        let first = try #require(try created.events(ofType: "FulfillmentOrder.Created", atLeast: 1, timeout: 30).first)
        #expect(first.data["warehouseId"]?.stringValue == "A")
        #expect(first.data["shipTo"]?["postalCode"]?.stringValue == "80331")
        #expect(first.data["lines"]?.arrayValue?.first?["unitPrice"]?.int64Value == 1000)
        let foID = try #require(first.data["fulfillmentOrderId"]?.stringValue)
        try eventually(timeout: 30, "fulfillment order waved") {
            try database.query("SELECT count(*) AS n FROM fulfillment.fulfillment_orders WHERE status = 'waved'").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([FulfillmentFixtures.picked(foID, key: "ORD-SHORT", [("1", 1)])])
        let again = try created.events(ofType: "FulfillmentOrder.Created", atLeast: 2, timeout: 30)
        #expect(again.count == 2)
        #expect(again.last?.data["warehouseId"]?.stringValue == "B")
        #expect(again.last?.data["lines"]?.arrayValue?.first?["quantity"]?.int64Value == 1)
        try eventually(timeout: 20, "A written down by the missing unit") {
            let row = try database.query("SELECT on_hand, reserved FROM router.stock WHERE sku = 'LAMP-HEAD' AND warehouse_id = 'A'").first!
            return try row.decode("on_hand", as: Int64.self) == 1 && row.decode("reserved", as: Int64.self) == 1
        }
        let b = try database.query("SELECT on_hand, reserved FROM router.stock WHERE sku = 'LAMP-HEAD' AND warehouse_id = 'B'").first!
        #expect(try b.decode("reserved", as: Int64.self) == 1)
        // The one unit found is packed at A; B's fulfillment order is waved in Fulfillment.
        try eventually(timeout: 30, "A's unit packed and B's order waved") {
            try database.query("""
                SELECT count(*) FILTER (WHERE status = 'packed') AS p, count(*) FILTER (WHERE status = 'waved') AS w FROM fulfillment.fulfillment_orders
                """).first.map { try $0.decode("p", as: Int.self) == 1 && $0.decode("w", as: Int.self) == 1 } ?? false
        }
    }

    @Test("kill -9 of Fulfillment mid-stream with two copies: no parcel twice, no SSCC twice")
    func crashAndTwoCopies() throws {
        let rig = try PipelineRig(partitions: 4)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        var copies = [try rig.start("oms-fulfillment", name: "fulfillment-1"), try rig.start("oms-fulfillment", name: "fulfillment-2")]
        defer { for copy in copies { _ = copy.terminate(waitSeconds: 5) } }
        let packedReader = try TopicReader(broker: broker, topic: Topic.omsShipments)
        try producer.publish([FulfillmentFixtures.product("BOTTLE-1L", grams: 180, mm: (80, 80, 260)),
                              FulfillmentFixtures.product("LAMP-HEAD", grams: 120, mm: (90, 60, 50))])
        try eventually(timeout: 30, "catalog replica") {
            try database.query("SELECT count(*) AS n FROM fulfillment.products").first!.decode("n", as: Int.self) == 2
        }
        let count = 120
        try producer.publish((0..<count).map { i in
            FulfillmentFixtures.fulfillmentOrder("FO-K-\(i)", order: "ORD-K-\(i)", shipTo: FulfillmentFixtures.shipTo(i % 5 == 0 ? "CH" : "DE", postalCode: "8001"),
                                                 lines: [("BOTTLE-1L", Int64(1 + i % 3)), ("LAMP-HEAD", 1)])
        })
        try eventually(timeout: 60, "all waved") {
            try database.query("SELECT count(*) AS n FROM fulfillment.fulfillment_orders WHERE status = 'waved'").first!.decode("n", as: Int.self) == count
        }
        // Picks flow in; one copy dies hard in the middle, a new one takes over.
        let picks = (0..<count).map { i in FulfillmentFixtures.picked("FO-K-\(i)", key: "ORD-K-\(i)", [("1", Int64(1 + i % 3)), ("2", 1)]) }
        try producer.publish(Array(picks.prefix(60)))
        Thread.sleep(forTimeInterval: 0.3)
        copies[0].kill9()
        try producer.publish(Array(picks.dropFirst(60)))
        copies.append(try rig.start("oms-fulfillment", name: "fulfillment-3"))
        try eventually(timeout: 90, "every fulfillment order packed") {
            try database.query("SELECT count(*) AS n FROM fulfillment.fulfillment_orders WHERE status = 'packed'").first!.decode("n", as: Int.self) == count
        }
        let parcels = try database.query("""
            SELECT count(*) AS n, count(DISTINCT sscc) AS s, count(DISTINCT fulfillment_order_id) AS f FROM fulfillment.parcels
            """).first!
        #expect(try parcels.decode("n", as: Int.self) == parcels.decode("s", as: Int.self))
        #expect(try parcels.decode("f", as: Int.self) == count)
        // On the topic too: one Shipment.Packed per fulfillment order (a re-sent outbox row keeps its event id), SSCCs unique.
        // What the killed copy committed but had not published comes from the outbox relay, which takes rows
        // older than 30 s every 15 s: allow for that.
        let packed = try packedReader.events(ofType: "Shipment.Packed", distinctBy: "fulfillmentOrderId", atLeast: count, timeout: 90)
        let byFO = Dictionary(grouping: packed, by: { $0.data["fulfillmentOrderId"]?.stringValue ?? "" })
        if byFO.count != count {
            // Say where the missing ones are: still in the outbox (the relay did not take them) or nowhere.
            let unsent = try database.query("SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0)::int AS age FROM fulfillment.outbox").first!
            Issue.record("""
                \(byFO.count) of \(count) fulfillment orders have a Shipment.Packed on the topic (\(packed.count) events); \
                fulfillment.outbox holds \(try unsent.decode("n", as: Int.self)) unpublished rows, the oldest \(try unsent.decode("age", as: Int.self)) s old; \
                relay lines: \(copies.flatMap { $0.log.split(separator: "\n").filter { $0.contains("relay") } }); \
                worker logs: \(copies.map(\.logPath))
                """)
        }
        for (fo, events) in byFO { #expect(Set(events.map(\.id)).count == 1, "\(fo) was packed by two different events") }
        let ssccs = Set(byFO.values.compactMap(\.first).flatMap { $0.data["parcels"]?.arrayValue?.compactMap { $0["sscc"]?.stringValue } ?? [] })
        #expect(ssccs.count == (try parcels.decode("n", as: Int.self)))
        // A published row leaves the outbox (the relay's too): what stays is only what is not yet on its topic.
        try eventually(timeout: 20, "fulfillment.outbox empty once everything is published") {
            try database.query("SELECT count(*) AS n FROM fulfillment.outbox").first!.decode("n", as: Int.self) == 0
        }
    }
}

@Suite("Fulfillment drop-ship", .serialized)
struct FulfillmentDropShipTests {
    @Test("a drop-ship order: the supplier's delivery note in the shop's branding; its confirmation is a Shipment.Shipped like any other")
    func dropShip() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, producer) = (rig.broker, rig.producer)
        let fulfillment = try rig.start("oms-fulfillment", name: "fulfillment-dropship")
        defer { _ = fulfillment.terminate(waitSeconds: 5) }
        let back = try TopicReader(broker: broker, topic: Topic.omsFulfillment)
        let shipments = try TopicReader(broker: broker, topic: Topic.omsShipments)
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: "oms/router", type: "FulfillmentOrder.Created", subject: "ORD-DS",
                               time: EventTime.format(Date()), data: [
                                   "fulfillmentOrderId": "FO-DS-1", "orderId": "ORD-DS", "supplierId": "OUTDOOR-DIRECT", "shippingCountry": "DE",
                                   "shipTo": FulfillmentFixtures.shipTo("DE", postalCode: "80331"), "customerType": "b2c", "currency": "EUR",
                                   "branding": ["packingSlip": "Berg&Beutel", "insert": "Danke für Ihren Einkauf bei Berg&Beutel!"],
                                   "lines": [["lineId": "1", "sku": "KAYAK", "quantity": 1, "unitPrice": 89_900,
                                              "personalization": ["engraving": "Für Lena ♥"]]],
                               ])
        try producer.publish([OutgoingMessage(topic: Topic.omsFulfillment, key: "ORD-DS", value: event.serialized())])
        let note = try #require(try back.events(ofType: "DeliveryNote.Prepared", atLeast: 1, timeout: 30).first)
        #expect(note.data["supplierId"]?.stringValue == "OUTDOOR-DIRECT")
        #expect(note.data["deliveryNote"]?["branding"]?["insert"]?.stringValue == "Danke für Ihren Einkauf bei Berg&Beutel!")
        #expect(note.data["deliveryNote"]?["lines"]?.arrayValue?.first?["personalization"]?["engraving"]?.stringValue == "Für Lena ♥")
        #expect(note.data["deliveryNote"]?["showPrices"]?.boolValue == true)
        let directory = NSTemporaryDirectory() + "oms-ds-\(UUID().uuidString.prefix(8))"
        let documents = try runOmsctl(["fulfillment", "documents", "FO-DS-1", "--out", directory], environment: rig.environment())
        #expect(documents.status == 0, "\(documents.output)")
        let pdf = try #require(documents.output.split(separator: "\n").map(String.init).first { $0.hasSuffix(".pdf") })
        let output = try runProgram("/usr/bin/pdftotext", [pdf, "-"]).output
        #expect(output.contains("Berg&Beutel") && output.contains("Danke für Ihren Einkauf"), "\(output)")

        try producer.publish([RouterFixtures.message(Topic.warehouseEvents, key: "ORD-DS", type: "FulfillmentOrder.Confirmed", source: "supplier/outdoor-direct",
                                                     data: ["fulfillmentOrderId": "FO-DS-1", "orderId": "ORD-DS", "trackingNumber": "DS-4711"])])
        let shipped = try #require(try shipments.events(ofType: "Shipment.Shipped", atLeast: 1, timeout: 30).first)
        #expect(shipped.data["supplierId"]?.stringValue == "OUTDOOR-DIRECT")
        #expect(shipped.data["parcels"]?.arrayValue?.first?["trackingNumber"]?.stringValue == "DS-4711")
    }
}
