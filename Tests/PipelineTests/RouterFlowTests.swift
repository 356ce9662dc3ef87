import Foundation
import Shared
import Testing

/// Builds the events other systems send the Router.
enum RouterFixtures {
    static func message(_ topic: String, key: String, type: String, source: String, time: Date = Date(), data: JSONValue) -> OutgoingMessage {
        let event = CloudEvent(id: UUID().uuidString.lowercased(), source: source, type: type, subject: key, time: EventTime.format(time), data: data)
        return OutgoingMessage(topic: topic, key: key, value: event.serialized())
    }

    static func stock(_ warehouse: String, sequence: Int64, _ items: [(String, Int64)]) -> OutgoingMessage {
        message(Topic.inventoryStock, key: warehouse, type: "Stock.Changed", source: "wms/berg-und-beutel",
                data: ["warehouseId": .string(warehouse), "sequence": .integer(sequence),
                       "items": .array(items.map { ["sku": .string($0.0), "onHand": .integer($0.1)] })])
    }

    static func inbound(_ id: String, warehouse: String, eta: Date, _ items: [(String, Int64)]) -> OutgoingMessage {
        message(Topic.inventoryStock, key: warehouse, type: "Inbound.Expected", source: "wms/berg-und-beutel",
                data: ["inboundId": .string(id), "warehouseId": .string(warehouse), "eta": .string(EventTime.format(eta)),
                       "items": .array(items.map { ["sku": .string($0.0), "quantity": .integer($0.1)] })])
    }

    static func product(_ sku: String, _ extra: [String: JSONValue] = [:]) -> OutgoingMessage {
        var data: [String: JSONValue] = ["sku": .string(sku), "name": .string(sku), "sellable": true, "taxClass": "standard"]
        for (key, value) in extra { data[key] = value }
        return message(Topic.catalogProducts, key: sku, type: "Product.Changed", source: "pim/berg-und-beutel", data: .object(data))
    }

    /// `Order.Accepted` (or `Order.OnHold` with `holds`) as Capture emits it.
    static func order(_ id: String, _ lines: [(String, Int64)], country: String = "DE", method: String = "standard",
                      shipComplete: Bool = false, holds: [String] = [], gift: JSONValue? = nil) -> OutgoingMessage {
        var data: [String: JSONValue] = [
            "orderId": .string(id), "customerId": "C-1", "customerType": "b2c", "currency": "EUR", "total": 1000,
            "shipComplete": .bool(shipComplete), "shippingMethod": .string(method), "shippingCountry": .string(country),
            "lines": .array(lines.enumerated().map { ["lineId": .string(String($0.offset + 1)), "sku": .string($0.element.0),
                                                       "quantity": .integer($0.element.1), "unitPrice": 1000] }),
        ]
        if let gift { data["gift"] = gift }
        if holds.isEmpty {
            data["acceptedAt"] = .string(EventTime.format(Date()))
        } else {
            data["heldAt"] = .string(EventTime.format(Date()))
            data["holdReasons"] = .array(holds.map { .string($0) })
            data["findings"] = []
        }
        return message(Topic.omsOrders, key: id, type: holds.isEmpty ? "Order.Accepted" : "Order.OnHold", source: "oms/capture", data: .object(data))
    }

    static func orderEvent(_ type: String, _ id: String, _ data: [String: JSONValue] = [:]) -> OutgoingMessage {
        var body = data
        body["orderId"] = .string(id)
        return message(Topic.omsOrders, key: id, type: type, source: "oms/capture", data: .object(body))
    }
}

@Suite("Router end to end", .serialized)
struct RouterFlowTests {
    @Test("Berg&Beutel: from A, split A+B, back-order then allocated, pre-order, drop-ship, assembly, held then released, cancellations")
    func bergUndBeutel() throws {
        let rig = try PipelineRig(partitions: 4)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let router = try rig.start("oms-router", name: "router-bb", ["OMS_HOUSEKEEPING_SECONDS": "1"])
        // Whole seconds, so that the ETA reads back exactly through PostgreSQL's microseconds.
        let release = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 6).rounded())
        let eta = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 5 * 86_400).rounded())
        try producer.publish([
            RouterFixtures.product("STOVE-GAS", ["dangerousGoodsClass": "2.1"]),
            RouterFixtures.product("KAYAK", ["dropShipSupplier": "OUTDOOR-DIRECT"]),
            RouterFixtures.product("LAMP-NEW", ["preorderReleaseDate": .string(EventTime.format(release))]),
            RouterFixtures.product("ASSEMBLY", ["serviceSkill": "tent-assembly"]),
            RouterFixtures.stock("A", sequence: 1, [("TENT-2P", 5), ("MAT-INFL", 1), ("STOVE-GAS", 2), ("LAMP-NEW", 3)]),
            RouterFixtures.stock("B", sequence: 1, [("MAT-INFL", 3), ("PACK-45L", 1)]),
            RouterFixtures.inbound("IN-1", warehouse: "A", eta: eta, [("PACK-45L", 10)]),
        ])
        try eventually(timeout: 30, "master data and stock in the Router") {
            try database.query("""
                SELECT (SELECT count(*) FROM router.products) + (SELECT count(*) FROM router.stock) + (SELECT count(*) FROM router.inbound) AS n
                """).first!.decode("n", as: Int.self) == 4 + 6 + 1
        }
        try producer.publish([
            RouterFixtures.order("R1", [("TENT-2P", 1)], gift: ["wrap": true, "message": "Alles Gute!"]),
            RouterFixtures.order("R2", [("TENT-2P", 1), ("MAT-INFL", 3)]),
            RouterFixtures.order("R3", [("PACK-45L", 3)]),
            RouterFixtures.order("R4", [("LAMP-NEW", 1)]),
            RouterFixtures.order("R5", [("KAYAK", 1)]),
            RouterFixtures.order("R6", [("TENT-2P", 1), ("ASSEMBLY", 1)]),
            RouterFixtures.order("R7", [("TENT-2P", 1)], holds: ["payment"]),
            RouterFixtures.order("R8", [("BOTTLE-1L", 2)]),
            RouterFixtures.order("R9", [("STOVE-GAS", 1)], country: "AT"),
        ])
        func status(_ id: String) throws -> String? {
            try database.query("SELECT status FROM router.orders WHERE order_id = \(id)").first?.decode("status")
        }
        try eventually(timeout: 30, "first decisions") {
            try ["R1": "routed", "R2": "routed", "R3": "backordered", "R5": "routed", "R6": "routed",
                 "R7": "reserved", "R8": "backordered", "R9": "routed"].allSatisfy { try status($0.key) == $0.value }
                && ["backordered", "routed"].contains(try status("R4"))   // the pre-order may already have reached its date
        }
        // The shop cancels R8 (nothing released yet) and R1 (already with warehouse A); R7's payment arrives; PACK-45L arrives in A.
        try producer.publish([
            RouterFixtures.orderEvent("Order.CancellationRequested", "R8", ["reason": "changed mind", "requestedBy": "shop"]),
            RouterFixtures.orderEvent("Order.CancellationRequested", "R1", ["reason": "changed mind", "requestedBy": "shop"]),
            RouterFixtures.orderEvent("Order.Released", "R7", ["reason": "payment received", "at": .string(EventTime.format(Date()))]),
            RouterFixtures.stock("A", sequence: 2, [("PACK-45L", 5)]),
            RouterFixtures.stock("A", sequence: 1, [("PACK-45L", 0)]),   // stale: ignored
        ])
        try eventually(timeout: 30, "cancellation, release, back-order and pre-order settled") {
            try ["R1": "routed", "R3": "routed", "R4": "routed", "R7": "routed", "R8": "cancelled"].allSatisfy { try status($0.key) == $0.value }
        }

        let fulfillment = try TopicReader(broker: broker, topic: Topic.omsFulfillment)
        fulfillment.read(atLeast: 11, timeout: 30)
        let created = try events(fulfillment.drain(for: 2))
        var byOrder: [String: [String]] = [:]
        for event in created {
            #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true, "\(event.data)")
            let place = event.data["warehouseId"]?.stringValue ?? "supplier:" + (event.data["supplierId"]?.stringValue ?? "?")
            let lines = event.data["lines"]?.arrayValue?.map { "\($0["quantity"]!.int64Value!)×\($0["sku"]!.stringValue!)" }.joined(separator: ",") ?? ""
            byOrder[event.subject!, default: []].append("\(place):\(lines)")
        }
        #expect(byOrder == [
            "R1": ["A:1×TENT-2P"], "R2": ["B:3×MAT-INFL", "A:1×TENT-2P"], "R3": ["B:1×PACK-45L", "A:2×PACK-45L"], "R4": ["A:1×LAMP-NEW"],
            "R5": ["supplier:OUTDOOR-DIRECT:1×KAYAK"], "R6": ["A:1×TENT-2P"], "R7": ["A:1×TENT-2P"], "R9": ["A:1×STOVE-GAS"],
        ])
        let r1 = created.first { $0.subject == "R1" }
        #expect(r1?.data["gift"]?["message"]?.stringValue == "Alles Gute!")
        #expect(r1?.data["carrierService"]?.stringValue == "DHL-PAKET" && r1?.data["shipBy"] != nil)
        #expect(created.first { $0.subject == "R9" }?.data["carrierService"]?.stringValue == "UPS-STANDARD-DG")
        #expect(created.first { $0.subject == "R5" }?.data["branding"]?["packingSlip"]?.stringValue == "berg-und-beutel")

        let orderEvents = try TopicReader(broker: broker, topic: Topic.omsOrders)
        orderEvents.read(atLeast: 9 + 3 + 6, timeout: 30)
        let routerEvents = try events(orderEvents.drain(for: 2)).filter { $0.source == "oms/router" }
        let summary = Set(routerEvents.map { "\($0.subject!) \($0.type)" })
        #expect(summary == ["R3 Backorder.Created", "R4 Backorder.Created", "R8 Backorder.Created", "R6 Appointment.Scheduled",
                            "R8 Order.Cancelled", "R1 Order.CancellationRefused"])
        let r3 = routerEvents.first { $0.subject == "R3" && $0.type == "Backorder.Created" }
        #expect(r3?.data["eta"]?.stringValue == EventTime.format(eta), "the back-order's ETA is the inbound delivery's")
        for event in routerEvents { #expect(EventContracts.dataSchemas[event.type]?.validate(event.data).isEmpty == true, "\(event.type)") }

        // The ledger: reserved = what open fulfillment orders hold; R8's claim on nothing and R7's reservation are consistent.
        let ledger = try database.query("""
            SELECT s.sku || '@' || s.warehouse_id || '=' || s.on_hand || '/' || s.reserved AS row FROM router.stock s ORDER BY 1
            """).map { try $0.decode("row", as: String.self) }
        #expect(ledger == ["LAMP-NEW@A=3/1", "MAT-INFL@A=1/0", "MAT-INFL@B=3/3", "PACK-45L@A=5/2", "PACK-45L@B=1/1",
                           "STOVE-GAS@A=2/1", "TENT-2P@A=5/4"])
        let mismatches = try database.query("""
            SELECT count(*) AS n FROM router.stock s
            WHERE s.reserved <> coalesce((SELECT sum(quantity) FROM router.reservations r
                                          WHERE r.kind = 'hard' AND r.sku = s.sku AND r.warehouse_id = s.warehouse_id), 0)
            """).first!.decode("n", as: Int.self)
        #expect(mismatches == 0)
        let shown = try runOmsctl(["stock", "show", "PACK-45L"], environment: rig.environment())
        #expect(shown.status == 0 && shown.output.contains("A  on hand 5, reserved 2, available 3"), "\(shown.output)")
        #expect(shown.output.contains("inbound IN-1 to A") && shown.output.contains("no back-orders waiting"), "\(shown.output)")
        let availability = try TopicReader(broker: broker, topic: Topic.omsStock)
        availability.read(atLeast: 1, timeout: 30)
        let published = try events(availability.drain(for: 1))
        let lastTent = published.flatMap { $0.data["items"]?.arrayValue ?? [] }.last { $0["sku"]?.stringValue == "TENT-2P" }
        #expect(lastTent?["available"]?.int64Value == 1)
        let appointment = try database.query("SELECT technician_id FROM router.appointments WHERE order_id = 'R6'").first?.decode("technician_id", as: String.self)
        #expect(appointment == "T-MUC-1")
        #expect(router.terminate(waitSeconds: 10) == 0)
    }

    @Test("a drop-ship supplier missing its SLA raises an alert and a customer notification")
    func dropShipSLA() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let router = try rig.start("oms-router", name: "router-sla", ["OMS_HOUSEKEEPING_SECONDS": "1"])
        try producer.publish([RouterFixtures.product("KAYAK", ["dropShipSupplier": "OUTDOOR-DIRECT"])])
        try eventually(timeout: 30, "product known") {
            try database.query("SELECT count(*) AS n FROM router.products").first!.decode("n", as: Int.self) == 1
        }
        try producer.publish([RouterFixtures.order("D1", [("KAYAK", 1)]), RouterFixtures.order("D2", [("KAYAK", 1)])])
        try eventually(timeout: 30, "two supplier fulfillment orders") {
            try database.query("SELECT count(*) AS n FROM router.fulfillment_orders WHERE supplier_id IS NOT NULL").first!.decode("n", as: Int.self) == 2
        }
        // D2's supplier confirms; D1's SLA runs out.
        try producer.publish([RouterFixtures.message(Topic.warehouseEvents, key: "D2", type: "FulfillmentOrder.Confirmed", source: "supplier/outdoor-direct",
                                                     data: ["fulfillmentOrderId": "D2-F1", "orderId": "D2"])])
        try eventually(timeout: 30, "D2 confirmed") {
            try database.query("SELECT status FROM router.fulfillment_orders WHERE fulfillment_order_id = 'D2-F1'").first!.decode("status", as: String.self) == "confirmed"
        }
        try database.query("UPDATE router.fulfillment_orders SET sla_due = now() - interval '1 second'")
        let dlq = try TopicReader(broker: broker, topic: Topic.omsDLQ)
        let letters = dlq.read(atLeast: 1, timeout: 30)
        _ = dlq.drain(for: 2)
        #expect(dlq.messages.count == 1)
        #expect(letters.first?.header(DeadLetterHeader.errorClass) == "dropship-sla-breach")
        #expect(letters.first?.header(DeadLetterHeader.errorMessage)?.contains("did not confirm D1-F1") == true)
        let notifications = try TopicReader(broker: broker, topic: Topic.omsNotifications)
        notifications.read(atLeast: 2, timeout: 30)
        let sent = try events(notifications.drain(for: 1))
        #expect(Set(sent.map { "\($0.subject!) \($0.type) \($0.data["template"]?.stringValue ?? "")" })
            == ["D1 FulfillmentOrder.SlaBreached ", "D1 Customer.NotificationRequested dropship-delayed"])
        // A held order's supplier SLA runs from its release, however long it was held.
        try producer.publish([RouterFixtures.order("D3", [("KAYAK", 1)], holds: ["payment"])])
        try eventually(timeout: 30, "D3 reserved") {
            try database.query("SELECT status FROM router.fulfillment_orders WHERE order_id = 'D3'").first?.decode("status", as: String.self) == "reserved"
        }
        try database.query("""
            UPDATE router.fulfillment_orders SET created_at = created_at - interval '3 days', sla_due = sla_due - interval '3 days'
            WHERE order_id = 'D3'
            """)
        try producer.publish([RouterFixtures.orderEvent("Order.Released", "D3", ["reason": "paid", "at": .string(EventTime.format(Date()))])])
        try eventually(timeout: 30, "D3 released with a fresh SLA") {
            try database.query("""
                SELECT status = 'released' AND sla_due > now() + interval '47 hours' AS ok FROM router.fulfillment_orders WHERE order_id = 'D3'
                """).first?.decode("ok", as: Bool.self) == true
        }
        #expect(router.terminate(waitSeconds: 10) == 0)
    }
}
