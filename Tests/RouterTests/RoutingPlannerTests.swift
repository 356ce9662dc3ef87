import Foundation
@testable import RouterCore
import Shared
import Testing

let repositoryConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("config").path
let shippedRouterRules = try! RouterRules.load(directory: repositoryConfig)

/// Instants in Berlin time, for readable cut-off cases.
func berlin(_ text: String) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
    let parts = text.split(whereSeparator: { "- :".contains($0) }).map { Int($0)! }
    return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4]))!
}

@Suite("Routing core, table-driven")
struct RoutingPlannerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var country = "DE"
        var method = "standard"
        var shipComplete = false
        let lines: [RoutingLine]
        var stock: [String: [String: Int64]] = [:]
        var inbound: [String: [InboundLot]] = [:]
        var bookings: TechnicianBookings = [:]
        var now = berlin("2026-12-01 10:00")   // a Tuesday
        /// "A:DHL-PAKET:1×TENT-2P" per shipment, in order.
        var shipments: [String] = []
        var shipBy: [String] = []
        /// "TENT-2P×1@eta" or "TENT-2P×1@none".
        var backorders: [String] = []
        var preorders: [String] = []
        var dropShips: [String] = []
        var appointments: [String] = []
        var problems: [String] = []
        /// "IN-1:2×TENT-2P" per soft reservation, when checked.
        var softClaims: [String]? = nil
        var testDescription: String { name }
    }

    static let tent = RoutingLine(lineID: "1", sku: "TENT-2P", quantity: 1)
    static func line(_ id: String, _ sku: String, _ quantity: Int64, _ traits: ProductTraits = .plain) -> RoutingLine {
        RoutingLine(lineID: id, sku: sku, quantity: quantity, traits: traits)
    }
    static let gas = ProductTraits(dangerousGoods: true)
    static let knife = ProductTraits(minimumAge: 18)
    static let canoe = ProductTraits(bulky: true)
    static let eta = berlin("2026-12-10 08:00")

    static let cases: [Case] = [
        Case(name: "one warehouse has everything: the preferred one", lines: [tent], stock: ["TENT-2P": ["A": 5, "B": 5]],
             shipments: ["A:DHL-PAKET:1×TENT-2P"], shipBy: ["2026-12-01 14:00"]),
        Case(name: "Austria prefers B", country: "AT", lines: [tent], stock: ["TENT-2P": ["A": 5, "B": 5]],
             shipments: ["B:DHL-PAKET:1×TENT-2P"], shipBy: ["2026-12-01 16:00"]),
        Case(name: "only B has it", lines: [tent], stock: ["TENT-2P": ["B": 1]], shipments: ["B:DHL-PAKET:1×TENT-2P"]),
        Case(name: "cut-off just before: ships today", lines: [tent], stock: ["TENT-2P": ["A": 1]], now: berlin("2026-12-01 13:59"),
             shipments: ["A:DHL-PAKET:1×TENT-2P"], shipBy: ["2026-12-01 14:00"]),
        Case(name: "cut-off just passed: ships next pickup day", lines: [tent], stock: ["TENT-2P": ["A": 1]], now: berlin("2026-12-01 14:00"),
             shipments: ["A:DHL-PAKET:1×TENT-2P"], shipBy: ["2026-12-02 14:00"]),
        Case(name: "Friday after cut-off: Monday", lines: [tent], stock: ["TENT-2P": ["A": 1]], now: berlin("2026-12-04 15:00"),
             shipments: ["A:DHL-PAKET:1×TENT-2P"], shipBy: ["2026-12-07 14:00"]),
        Case(name: "holiday: Christmas Eve after cut-off skips the holidays", lines: [tent], stock: ["TENT-2P": ["A": 1]],
             now: berlin("2026-12-23 15:00"), shipments: ["A:DHL-PAKET:1×TENT-2P"], shipBy: ["2026-12-28 14:00"]),
        Case(name: "express first service", method: "express", lines: [tent], stock: ["TENT-2P": ["A": 1]],
             shipments: ["A:DHL-EXPRESS:1×TENT-2P"]),
        Case(name: "dangerous goods only from the permitted warehouse, with a DG carrier", lines: [line("1", "STOVE-GAS", 1, gas)],
             stock: ["STOVE-GAS": ["A": 1, "B": 9]], shipments: ["A:UPS-STANDARD-DG:1×STOVE-GAS"]),
        Case(name: "dangerous goods where only B has stock: back-ordered, never shipped from B", lines: [line("1", "STOVE-GAS", 1, gas)],
             stock: ["STOVE-GAS": ["B": 9]], backorders: ["STOVE-GAS×1@none"]),
        Case(name: "age-restricted goods with the age-check service", lines: [line("1", "KNIFE", 1, knife)], stock: ["KNIFE": ["A": 1]],
             shipments: ["A:DHL-IDENT-CHECK:1×KNIFE"]),
        Case(name: "bulky goods by freight", lines: [line("1", "CANOE", 1, canoe)], stock: ["CANOE": ["A": 1]],
             shipments: ["A:SPEDITION-2MANN:1×CANOE"]),
        Case(name: "bulky goods where only B (no freight) has stock: back-ordered, never shipped from B", country: "AT",
             lines: [line("1", "CANOE", 1, canoe)], stock: ["CANOE": ["B": 3]], backorders: ["CANOE×1@none"]),
        Case(name: "split: the warehouse covering most units first, then the next", lines: [line("1", "TENT-2P", 1), line("2", "MAT-INFL", 2)],
             stock: ["TENT-2P": ["A": 1], "MAT-INFL": ["B": 2]],
             shipments: ["B:DHL-PAKET:2×MAT-INFL", "A:DHL-PAKET:1×TENT-2P"]),
        Case(name: "split minimisation: one warehouse with both beats a split", lines: [line("1", "TENT-2P", 1), line("2", "MAT-INFL", 2)],
             stock: ["TENT-2P": ["A": 1, "B": 1], "MAT-INFL": ["A": 1, "B": 2]], shipments: ["B:DHL-PAKET:1×TENT-2P,2×MAT-INFL"]),
        Case(name: "maxSplits 1: a third warehouse is not used, the rest is back-ordered with ETA",
             lines: [line("1", "TENT-2P", 3)], stock: ["TENT-2P": ["A": 1, "B": 1]],
             inbound: ["TENT-2P": [InboundLot(inboundID: "IN-1", warehouseID: "A", eta: eta, unclaimed: 5)]],
             shipments: ["A:DHL-PAKET:1×TENT-2P", "B:DHL-PAKET:1×TENT-2P"], backorders: ["TENT-2P×1@2026-12-10 08:00"],
             softClaims: ["IN-1:1×TENT-2P"]),
        Case(name: "ship complete and not all there: the whole order waits", shipComplete: true,
             lines: [line("1", "TENT-2P", 1), line("2", "MAT-INFL", 2)], stock: ["TENT-2P": ["A": 1], "MAT-INFL": ["B": 2]],
             backorders: ["TENT-2P×1@none", "MAT-INFL×2@none"]),
        Case(name: "ship complete and all in one warehouse: ships", shipComplete: true,
             lines: [line("1", "TENT-2P", 1), line("2", "MAT-INFL", 2)], stock: ["TENT-2P": ["B": 1], "MAT-INFL": ["B": 2]],
             shipments: ["B:DHL-PAKET:1×TENT-2P,2×MAT-INFL"]),
        Case(name: "pre-order waits for its release date", lines: [line("1", "LAMP-NEW", 1, ProductTraits(preorderReleaseDate: eta))],
             stock: ["LAMP-NEW": ["A": 9]], preorders: ["LAMP-NEW×1@2026-12-10 08:00"]),
        Case(name: "pre-order soft-reserves inbound stock of an allowed warehouse", lines: [line("1", "LAMP-NEW", 2, ProductTraits(preorderReleaseDate: eta))],
             inbound: ["LAMP-NEW": [InboundLot(inboundID: "IN-7", warehouseID: "A", eta: berlin("2026-12-08 08:00"), unclaimed: 5)]],
             preorders: ["LAMP-NEW×2@2026-12-10 08:00"], softClaims: ["IN-7:2×LAMP-NEW"]),
        Case(name: "pre-order after its release date ships", lines: [line("1", "LAMP-NEW", 1, ProductTraits(preorderReleaseDate: berlin("2026-11-01 00:00")))],
             stock: ["LAMP-NEW": ["A": 9]], shipments: ["A:DHL-PAKET:1×LAMP-NEW"]),
        Case(name: "drop-ship line goes to the supplier with its SLA", lines: [tent, line("2", "KAYAK", 1, ProductTraits(dropShipSupplier: "OUTDOOR-DIRECT"))],
             stock: ["TENT-2P": ["A": 1]], shipments: ["A:DHL-PAKET:1×TENT-2P"], dropShips: ["OUTDOOR-DIRECT:1×KAYAK@2026-12-03 10:00"]),
        Case(name: "drop-ship supplier not in the rules", lines: [line("1", "KAYAK", 1, ProductTraits(dropShipSupplier: "NOBODY"))],
             problems: ["1:dropship.supplier-unknown"]),
        Case(name: "assembly: earliest technician day after the goods arrive", lines: [tent, line("2", "ASSEMBLY", 1, ProductTraits(serviceSkill: "tent-assembly"))],
             stock: ["TENT-2P": ["A": 1]], shipments: ["A:DHL-PAKET:1×TENT-2P"], appointments: ["ASSEMBLY:T-MUC-1@2026-12-04"]),
        Case(name: "assembly: the first day is full, the next free one", lines: [tent, line("2", "ASSEMBLY", 1, ProductTraits(serviceSkill: "tent-assembly"))],
             stock: ["TENT-2P": ["A": 1]], bookings: ["T-MUC-1": ["2026-12-04": 2]], shipments: ["A:DHL-PAKET:1×TENT-2P"],
             appointments: ["ASSEMBLY:T-MUC-1@2026-12-07"]),
        Case(name: "assembly: no technician for the skill within the horizon holds", lines: [line("2", "ASSEMBLY", 1, ProductTraits(serviceSkill: "canoe-rigging"))],
             problems: ["2:service.no-slot"]),
    ]

    @Test("each rule routes as written", arguments: cases)
    func rule(_ testCase: Case) {
        var stock = StockPosition(available: testCase.stock, inbound: testCase.inbound)
        var bookings = testCase.bookings
        let order = RoutingOrder(orderID: "BB-1", shippingCountry: testCase.country, shippingMethod: testCase.method,
                                 shipComplete: testCase.shipComplete, lines: testCase.lines)
        let plan = RoutingPlanner.plan(order, stock: &stock, bookings: &bookings, rules: shippedRouterRules, now: testCase.now)
        let calendar = { var c = Calendar(identifier: .gregorian); c.timeZone = TimeZone(identifier: "Europe/Berlin")!; return c }()
        func local(_ date: Date?) -> String {
            guard let date else { return "none" }
            let p = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            return String(format: "%04d-%02d-%02d %02d:%02d", p.year!, p.month!, p.day!, p.hour!, p.minute!)
        }
        #expect(plan.shipments.map { "\($0.warehouseID):\($0.carrierService):" + $0.lines.map { "\($0.quantity)×\($0.sku)" }.joined(separator: ",") }
            == testCase.shipments)
        if !testCase.shipBy.isEmpty { #expect(plan.shipments.map { local($0.shipBy) } == testCase.shipBy) }
        #expect(plan.backorders.map { "\($0.sku)×\($0.quantity)@\(local($0.eta))" } == testCase.backorders)
        #expect(plan.preorders.map { "\($0.sku)×\($0.quantity)@\(local($0.releaseDate))" } == testCase.preorders)
        #expect(plan.dropShips.map { "\($0.supplierID):" + $0.lines.map { "\($0.quantity)×\($0.sku)" }.joined(separator: ",") + "@\(local($0.slaDue))" }
            == testCase.dropShips)
        #expect(plan.appointments.map { "\($0.sku):\($0.technicianID)@\($0.day)" } == testCase.appointments)
        #expect(plan.problems.map { "\($0.lineID):\($0.code)" } == testCase.problems)
        #expect(plan.problems.allSatisfy { !$0.message.isEmpty })
        if let claims = testCase.softClaims { #expect(plan.softClaims.map { "\($0.inboundID):\($0.quantity)×\($0.sku)" } == claims) }
        // What was shipped left the position; nothing went below zero.
        #expect(stock.available.values.allSatisfy { $0.values.allSatisfy { $0 >= 0 } })
    }

    @Test("orders of one batch share the stock: the second order sees what the first took")
    func sharedPosition() {
        var stock = StockPosition(available: ["TENT-2P": ["A": 1]])
        var bookings: TechnicianBookings = [:]
        let first = RoutingPlanner.plan(RoutingOrder(orderID: "1", shippingCountry: "DE", shippingMethod: "standard", shipComplete: false, lines: [Self.tent]),
                                        stock: &stock, bookings: &bookings, rules: shippedRouterRules, now: berlin("2026-12-01 10:00"))
        let second = RoutingPlanner.plan(RoutingOrder(orderID: "2", shippingCountry: "DE", shippingMethod: "standard", shipComplete: false, lines: [Self.tent]),
                                         stock: &stock, bookings: &bookings, rules: shippedRouterRules, now: berlin("2026-12-01 10:00"))
        #expect(first.shipments.count == 1 && first.backorders.isEmpty)
        #expect(second.shipments.isEmpty && second.backorders.map(\.quantity) == [1])
        #expect(stock.available("TENT-2P", in: "A") == 0)
    }
}

@Suite("Router rule file")
struct RouterRulesFileTests {
    @Test("the shipped file loads")
    func shipped() {
        #expect(shippedRouterRules.warehouses.map(\.id) == ["A", "B"])
        #expect(shippedRouterRules.preference(for: "AT").map(\.id) == ["B", "A"])
        #expect(shippedRouterRules.preference(for: "FR").map(\.id) == ["A", "B"])
    }

    @Test("a bad value is named with file, line and setting", arguments: [
        ("\"cutoff\": \"14:00\"", "\"cutoff\": \"2pm\"", "warehouses[0].cutoff: must be a local time like \"14:00\", found \"2pm\""),
        ("\"DHL-PAKET\", \"DHL-EXPRESS\", \"DHL-IDENT-CHECK\"", "\"DHL-PAKET\", \"DHL-EXPRES\", \"DHL-IDENT-CHECK\"",
         "warehouses[0].carrierServices: unknown carrier service \"DHL-EXPRES\""),
        ("\"AT\": [\"B\", \"A\"]", "\"AT\": [\"B\", \"C\"]", "zones.AT: unknown warehouse \"C\""),
        ("\"timeZone\": \"Europe/Berlin\"", "\"timeZone\": \"Europe/Bonn\"", "timeZone: \"Europe/Bonn\" is not a known time zone"),
    ])
    func badValue(original: String, replacement: String, problem: String) throws {
        let text = try String(contentsOfFile: repositoryConfig + "/router.json", encoding: .utf8)
        #expect(text.contains(original))
        let error = #expect(throws: ConfigurationFileError.self) {
            try RouterRules.parse(Array(text.replacingOccurrences(of: original, with: replacement).utf8), path: "router.json")
        }
        #expect(error?.problem == problem)
        #expect(error?.location != nil)
    }
}

@Suite("Rule dry-run comparison")
struct PlanComparisonTests {
    @Test("only the aspects that differ are listed, before and after")
    func differences() {
        var stock = StockPosition(available: ["TENT-2P": ["A": 1, "B": 1]])
        var bookings: TechnicianBookings = [:]
        let order = RoutingOrder(orderID: "BB-1", shippingCountry: "DE", shippingMethod: "standard", shipComplete: false,
                                 lines: [RoutingLine(lineID: "1", sku: "TENT-2P", quantity: 1)])
        let now = berlin("2026-12-01 10:00")
        let before = RoutingPlanner.plan(order, stock: &stock, bookings: &bookings, rules: shippedRouterRules, now: now)
        let text = try! String(contentsOfFile: repositoryConfig + "/router.json", encoding: .utf8)
            .replacingOccurrences(of: "\"DE\": [\"A\", \"B\"]", with: "\"DE\": [\"B\", \"A\"]")
        let preferB = try! RouterRules.parse(Array(text.utf8), path: "router.json")
        var again = StockPosition(available: ["TENT-2P": ["A": 1, "B": 1]])
        let after = RoutingPlanner.plan(order, stock: &again, bookings: &bookings, rules: preferB, now: now)
        let differences = PlanComparison.differences(before, after, timeZone: preferB.timeZone)
        #expect(differences.map(\.aspect) == ["warehouses"])   // same carrier, same ship-by day
        #expect(differences.first == PlanComparison.Difference(aspect: "warehouses", before: "A", after: "B"))
        #expect(PlanComparison.differences(before, before, timeZone: preferB.timeZone).isEmpty)
    }
}

@Suite("Routing log")
struct RoutingLogTests {
    @Test("the hand-written log JSON reads back through Codable unchanged (to the second)")
    func roundTrip() throws {
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        var stock = StockPosition(available: ["TENT-2P": ["A": 1]],
                                  inbound: ["TENT-2P": [InboundLot(inboundID: "IN-1", warehouseID: "A", eta: now.addingTimeInterval(86_400), unclaimed: 4)]])
        let seen = stock
        var bookings: TechnicianBookings = [:]
        let order = RoutingOrder(orderID: "BB-1", shippingCountry: "DE", shippingMethod: "standard", shipComplete: false, lines: [
            RoutingLine(lineID: "1", sku: "TENT-2P", quantity: 3),
            RoutingLine(lineID: "2", sku: "KAYAK", quantity: 1, traits: ProductTraits(dropShipSupplier: "OUTDOOR-DIRECT")),
            RoutingLine(lineID: "3", sku: "LAMP-NEW", quantity: 1, traits: ProductTraits(preorderReleaseDate: now.addingTimeInterval(3600))),
            RoutingLine(lineID: "4", sku: "ASSEMBLY", quantity: 1, traits: ProductTraits(serviceSkill: "tent-assembly")),
        ])
        let plan = RoutingPlanner.plan(order, stock: &stock, bookings: &bookings, rules: shippedRouterRules, now: now)
        #expect(!plan.shipments.isEmpty && !plan.backorders.isEmpty && !plan.softClaims.isEmpty && !plan.dropShips.isEmpty && !plan.preorders.isEmpty)
        let entry = RoutingLogEntry(order: order, position: seen, now: now)
        let decodedEntry = try RoutingJSON.decoder.decode(RoutingLogEntry.self, from: Data(entry.json.serializedString.utf8))
        let decodedPlan = try RoutingJSON.decoder.decode(RoutingPlan.self, from: Data(plan.json.serializedString.utf8))
        #expect(decodedEntry.order == order && decodedEntry.position == seen && decodedEntry.now == now)
        #expect(decodedPlan == plan)
    }
}
