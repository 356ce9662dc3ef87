import Foundation
import Shared
import Testing

/// Two Router copies in one consumer group racing for the same stock.
@Suite("Router invariants under concurrency", .serialized)
struct RouterInvariantTests {
    /// A small deterministic generator, so that a failing interleaving can be replayed.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static func startRouters(_ count: Int, rig: PipelineRig, name: String) throws -> [ManagedProcess] {
        try (0..<count).map { index in
            try rig.start("oms-router", name: "\(name)-\(index)",
                          ["OMS_BATCH_SIZE": "50", "OMS_HTTP_PORT": String(19_400 + index), "OMS_LOG_LEVEL": "notice"])
        }
    }

    static func processed(_ database: PostgresConnection) throws -> Int {
        try database.query("SELECT count(*) AS n FROM router.processed_messages").first!.decode("n")
    }

    /// Messages each copy processed, from its /metrics.
    static func processedBy(port: Int) -> Int {
        let output = Pipe()
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "http://127.0.0.1:\(port)/metrics"]
        curl.standardOutput = output
        guard (try? curl.run()) != nil else { return -1 }
        curl.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").filter { $0.hasPrefix("oms_messages_processed_total") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
    }

    @Test("250 back-orders and one delivery for all of them: every one is routed (one stock increase re-routes 200, housekeeping the rest)")
    func deliveryForMoreBackordersThanOneReroute() throws {
        let rig = try PipelineRig(partitions: 4)
        let (database, producer) = (rig.database, rig.producer)
        let router = try rig.start("oms-router", name: "router-backorders", ["OMS_HOUSEKEEPING_SECONDS": "1", "OMS_LOG_LEVEL": "notice"])
        defer { _ = router.terminate(waitSeconds: 5) }
        try producer.publish([RouterFixtures.stock("A", sequence: 1, [("LANTERN-1", 0)])])
        try eventually(timeout: 30, "stock known") { try Self.processed(database) >= 1 }
        try producer.publish((0..<250).map { RouterFixtures.order("BO-\($0)", [("LANTERN-1", 1)]) })
        try eventually(timeout: 60, "all 250 back-ordered") {
            try database.query("SELECT count(*) AS n FROM router.orders WHERE status = 'backordered'").first!.decode("n", as: Int.self) == 250
        }
        try producer.publish([RouterFixtures.stock("A", sequence: 2, [("LANTERN-1", 1_000)])])
        try eventually(timeout: 60, "every back-order routed") {
            try database.query("SELECT count(*) AS n FROM router.orders WHERE status = 'routed'").first!.decode("n", as: Int.self) == 250
        }
        let ledger = try database.query("SELECT on_hand, reserved FROM router.stock WHERE sku = 'LANTERN-1'").first!
        #expect(try ledger.decode("reserved", as: Int64.self) == 250 && ledger.decode("on_hand", as: Int64.self) == 1_000)
        #expect(try database.query("SELECT count(*) AS n FROM router.fulfillment_orders").first!.decode("n", as: Int.self) == 250)
    }

    @Test("the last units: 60 one-unit orders for 10 units, two Router copies: exactly 10 ship, 50 wait")
    func lastUnits() throws {
        let rig = try PipelineRig(partitions: 12)
        let (database, producer) = (rig.database, rig.producer)
        try producer.publish([RouterFixtures.stock("A", sequence: 1, [("HOT-1", 10)])])
        let routers = try Self.startRouters(2, rig: rig, name: "router-last")
        try eventually(timeout: 30, "stock known") { try Self.processed(database) == 1 }
        Thread.sleep(forTimeInterval: 3)   // both copies in the group
        try producer.publish((0..<60).map { RouterFixtures.order("HOT-\($0)", [("HOT-1", 1)]) })
        // The Router also reads its own events on oms.orders (and skips them), so count decisions, not messages.
        try eventually(timeout: 60, "all 60 orders decided") {
            try database.query("SELECT count(*) AS n FROM router.orders WHERE status IN ('routed', 'backordered')").first!.decode("n", as: Int.self) == 60
        }
        let outcome = try database.query("SELECT status, count(*) AS n FROM router.orders GROUP BY status ORDER BY status")
            .map { "\(try $0.decode("status", as: String.self))=\(try $0.decode("n", as: Int.self))" }
        #expect(outcome == ["backordered=50", "routed=10"])
        let ledger = try database.query("SELECT on_hand, reserved FROM router.stock WHERE sku = 'HOT-1'").first!
        #expect(try ledger.decode("reserved", as: Int64.self) == 10 && ledger.decode("on_hand", as: Int64.self) == 10)
        #expect(try database.query("SELECT count(*) AS n FROM router.fulfillment_orders").first!.decode("n", as: Int.self) == 10)
        for router in routers { #expect(router.terminate(waitSeconds: 15) == 0) }
    }

    @Test("two Router copies booking one technician's days: never more appointments on a day than the technician's capacity")
    func technicianCapacity() throws {
        let rig = try PipelineRig(partitions: 12)
        let (database, producer) = (rig.database, rig.producer)
        try producer.publish([RouterFixtures.product("ASSEMBLY", ["serviceSkill": "tent-assembly"]),
                              RouterFixtures.stock("A", sequence: 1, (0..<200).map { ("KIT-\($0)", 1) })])
        let routers = try Self.startRouters(2, rig: rig, name: "router-tech")
        try eventually(timeout: 30, "master data known") { try Self.processed(database) == 2 }
        Thread.sleep(forTimeInterval: 3)   // both copies in the group
        // 200 tents with assembly in Germany: T-MUC-1 takes 2 a day on weekdays, so the 21-day horizon fills up
        // while both copies book at the same time (batches of 50, 12 partitions, each order its own
        // stock row, so that nothing but the calendar lock makes them take turns).
        try producer.publish((0..<200).map { RouterFixtures.order("TECH-\($0)", [("KIT-\($0)", 1), ("ASSEMBLY", 1)]) })
        try eventually(timeout: 90, "all 200 orders decided") {
            try database.query("SELECT count(*) AS n FROM router.orders WHERE order_id LIKE 'TECH-%' AND status <> 'waiting'")
                .first!.decode("n", as: Int.self) == 200
        }
        let days = try database.query("""
            SELECT technician_id, day::text AS day, count(*) AS n FROM router.appointments GROUP BY 1, 2 ORDER BY 3 DESC, 2
            """)
        #expect(days.count > 0)
        for day in days {
            let booked: Int = try day.decode("n")
            let technician: String = try day.decode("technician_id"), date: String = try day.decode("day")
            #expect(booked <= 2, "\(technician) has \(booked) appointments on \(date)")
        }
        let booked = try database.query("SELECT count(*) AS n FROM router.appointments").first!.decode("n", as: Int.self)
        let held = try database.query("SELECT count(*) AS n FROM router.orders WHERE order_id LIKE 'TECH-%' AND status = 'held'")
            .first!.decode("n", as: Int.self)
        #expect(booked + held == 200, "every order either has its appointment or waits (held) for a free day")
        #expect(booked == days.count * 2 || held == 0, "the horizon fills each day to capacity before orders are held")
        for router in routers { #expect(router.terminate(waitSeconds: 15) == 0) }
    }

    @Test("5,000 orders, deliveries and cancellations interleaved across two Router copies: never negative, never double-booked")
    func randomInterleaving() throws {
        let rig = try PipelineRig(partitions: 12)
        let (database, producer) = (rig.database, rig.producer)
        let skus = (0..<10).map { "INV-\($0)" }
        var onHand: [String: [String: Int64]] = ["A": [:], "B": [:]]
        var sequence: [String: Int64] = ["A": 1, "B": 1]
        for sku in skus { onHand["A"]![sku] = 30; onHand["B"]![sku] = 20 }
        var messages = ["A", "B"].map { warehouse in
            RouterFixtures.stock(warehouse, sequence: 1, skus.map { ($0, onHand[warehouse]![$0]!) })
        }
        var random = Random(state: 20261129)
        var cancellations = 0, deliveries = 0
        for index in 0..<5_000 {
            let lines = (0..<(1 + random.next(3))).map { _ in (skus[random.next(skus.count)], Int64(1 + random.next(3))) }
            var distinct: [(String, Int64)] = []
            for line in lines where !distinct.contains(where: { $0.0 == line.0 }) { distinct.append(line) }
            messages.append(RouterFixtures.order("INV-\(index)", distinct, country: random.next(3) == 0 ? "AT" : "DE",
                                                 shipComplete: random.next(10) == 0))
            if index % 20 == 19 {
                messages.append(RouterFixtures.orderEvent("Order.CancellationRequested", "INV-\(random.next(index))",
                                                          ["reason": "changed mind", "requestedBy": "shop"]))
                cancellations += 1
            }
            if index % 100 == 99 {
                let warehouse = random.next(2) == 0 ? "A" : "B"
                sequence[warehouse]! += 1
                let delivered = (0..<3).map { _ in skus[random.next(skus.count)] }
                for sku in Set(delivered) { onHand[warehouse]![sku]! += Int64(5 + random.next(20)) }
                messages.append(RouterFixtures.stock(warehouse, sequence: sequence[warehouse]!, Set(delivered).sorted().map { ($0, onHand[warehouse]![$0]!) }))
                deliveries += 1
            }
        }
        let routers = try Self.startRouters(2, rig: rig, name: "router-inv")
        Thread.sleep(forTimeInterval: 3)
        for chunk in stride(from: 0, to: messages.count, by: 500) {
            try producer.publish(Array(messages[chunk..<min(messages.count, chunk + 500)]))
        }
        // Settled: every order and cancellation request seen, every delivery applied, and nothing processed for a while.
        var last = -1
        try eventually(timeout: 240, every: 2, "all \(messages.count) messages processed and the Routers idle") {
            let orders = try database.query("SELECT count(*) AS n FROM router.orders").first!.decode("n", as: Int.self)
            let requests = try database.query("""
                SELECT count(*) AS n FROM router.audit_trail
                WHERE action IN ('Order.Cancelled', 'Order.CancellationRefused', 'Order.CancellationRequested')
                """).first!.decode("n", as: Int.self)
            let applied = try database.query("SELECT coalesce(sum(m), 0)::bigint AS n FROM (SELECT max(wms_sequence) m FROM router.stock GROUP BY warehouse_id) s")
                .first!.decode("n", as: Int64.self)
            let now = try Self.processed(database)
            defer { last = now }
            return orders == 5_000 && requests == cancellations && applied == sequence["A"]! + sequence["B"]! && now == last
        }

        // 1. Available stock is never negative, and reserved is exactly what the hard reservations hold.
        let negative = try database.query("SELECT count(*) AS n FROM router.stock WHERE reserved > on_hand").first!.decode("n", as: Int.self)
        #expect(negative == 0)
        let unbalanced = try database.query("""
            SELECT count(*) AS n FROM router.stock s
            WHERE s.reserved <> coalesce((SELECT sum(r.quantity) FROM router.reservations r
                                          WHERE r.kind = 'hard' AND r.sku = s.sku AND r.warehouse_id = s.warehouse_id), 0)
            """).first!.decode("n", as: Int.self)
        #expect(unbalanced == 0)
        // 2. No line is booked twice: its reservations equal what was routed, never more than ordered.
        let doubleBooked = try database.query("""
            SELECT count(*) AS n FROM router.order_lines l
            WHERE l.routed <> coalesce((SELECT sum(r.quantity) FROM router.reservations r
                                        WHERE r.kind = 'hard' AND r.order_id = l.order_id AND r.line_id = l.line_id), 0)
               OR l.routed > l.quantity
            """).first!.decode("n", as: Int.self)
        let cancelledWithStock = try database.query("""
            SELECT count(*) AS n FROM router.orders o WHERE o.status = 'cancelled'
              AND EXISTS (SELECT 1 FROM router.reservations r WHERE r.order_id = o.order_id)
            """).first!.decode("n", as: Int.self)
        #expect(doubleBooked == 0)
        #expect(cancelledWithStock == 0)
        // 3. Each fulfillment order holds exactly its lines; the final ledger matches the deliveries.
        let foMismatch = try database.query("""
            SELECT count(*) AS n FROM router.fulfillment_orders f
            WHERE f.status <> 'cancelled' AND (SELECT sum((l->>'quantity')::bigint) FROM json_array_elements(f.lines) l)
                  <> coalesce((SELECT sum(r.quantity) FROM router.reservations r WHERE r.fulfillment_order_id = f.fulfillment_order_id), 0)
            """).first!.decode("n", as: Int.self)
        #expect(foMismatch == 0)
        let ledger = try database.query("SELECT warehouse_id, sku, on_hand FROM router.stock")
        for row in ledger {
            #expect(try row.decode("on_hand", as: Int64.self) == onHand[try row.decode("warehouse_id")]![try row.decode("sku")]!)
        }
        let states = try database.query("SELECT status, count(*) AS n FROM router.orders GROUP BY status ORDER BY status")
            .map { "\(try $0.decode("status", as: String.self))=\(try $0.decode("n", as: Int.self))" }
        #expect(states.allSatisfy { ["backordered", "routed", "cancelled"].contains($0.split(separator: "=")[0]) }, "\(states)")
        #expect(try database.query("SELECT count(*) AS n FROM router.orders").first!.decode("n", as: Int.self) == 5_000)
        // Both copies did part of the work.
        let shares = [19_400, 19_401].map(Self.processedBy(port:))
        #expect(shares.allSatisfy { $0 > 0 }, "processed per copy: \(shares)")
        print("router invariant run: \(messages.count) messages (\(cancellations) cancellation requests, \(deliveries) deliveries), states \(states), per copy \(shares)")
        for router in routers { #expect(router.terminate(waitSeconds: 15) == 0) }
    }
}
