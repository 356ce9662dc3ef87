import Foundation
import FulfillmentCore
import Shared
import Testing

/// The shipped rule file, read as the worker reads it.
@Suite struct FulfillmentRulesTests {
    static let configDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config").path
    let rules: FulfillmentRules
    let now = Date()

    init() throws {
        rules = try FulfillmentRules.load(directory: Self.configDirectory).rules(at: { Date() })
    }

    func needsDeclaration(_ country: String, _ postalCode: String, at instant: Date? = nil) -> Bool {
        if case .outside = rules.customs.verdict(country: country, postalCode: postalCode, at: instant ?? now) { return true }
        return false
    }

    @Test func nonEUCountriesNeedCN23() {
        #expect(needsDeclaration("CH", "8001"))
        #expect(needsDeclaration("GB", "SW1A 1AA"))
        #expect(needsDeclaration("NO", "0150"))
        #expect(needsDeclaration("US", "10001"))
    }

    @Test func euCountriesDoNot() {
        #expect(!needsDeclaration("AT", "1010"))
        #expect(!needsDeclaration("FR", "75001"))
        #expect(!needsDeclaration("DE", "80331"))
        #expect(!needsDeclaration("MC", "98000"), "Monaco is inside through France")
    }

    @Test func northernIrelandIsInsideForGoods() {
        #expect(!needsDeclaration("GB", "BT1 1AA"))
        #expect(needsDeclaration("GB", "BT1 1AA", at: EventTime.parse("2020-12-31T00:00:00Z")) == false, "before 2021 all of GB was inside")
        #expect(needsDeclaration("GB", "EH1 1AA"))
    }

    @Test func theUnitedKingdomLeftOnThe1stOfJanuary2021() {
        #expect(!needsDeclaration("GB", "SW1A 1AA", at: EventTime.parse("2020-12-31T23:59:59Z")))
        #expect(needsDeclaration("GB", "SW1A 1AA", at: EventTime.parse("2021-01-01T00:00:00Z")))
        #expect(needsDeclaration("HR", "10000", at: EventTime.parse("2013-06-30T00:00:00Z")))
        #expect(!needsDeclaration("HR", "10000", at: EventTime.parse("2013-07-01T00:00:00Z")))
    }

    /// One case per excluded area of the table, and a neighbour just outside it.
    @Test(arguments: [
        ("DE", "27498", "Heligoland", "27499"), ("DE", "78266", "Büsingen", "78262"), ("IT", "23041", "Livigno", "23040"),
        ("IT", "22061", "Campione", "22060"), ("ES", "35001", "Canary", "34001"), ("ES", "38001", "Canary", "39001"),
        ("ES", "51001", "Ceuta", "50001"), ("ES", "52001", "Melilla", "53001"), ("FI", "22100", "Åland", "21100"),
        ("GR", "630 86", "Athos", "630 85"), ("FR", "97100", "Guadeloupe", "96100"), ("FR", "97200", "Martinique", "96200"),
        ("FR", "97300", "Guiana", "96300"), ("FR", "97400", "Réunion", "96400"), ("FR", "97600", "Mayotte", "96600"),
        ("FR", "97500", "overseas", "95500"), ("FR", "98800", "overseas", "88800"),
    ])
    func excludedArea(country: String, postalCode: String, name: String, neighbour: String) {
        guard case .outside(let reason) = rules.customs.verdict(country: country, postalCode: postalCode, at: now) else {
            Issue.record("\(country) \(postalCode) (\(name)) must need a customs declaration")
            return
        }
        #expect(reason.contains(name))
        #expect(!needsDeclaration(country, neighbour), "\(country) \(neighbour) is inside")
        // Every entry of the table has a case here.
        #expect(rules.customs.exclusions.allSatisfy { area in
            Self.cases.contains { testCase in
                testCase.0 == area.country && area.postalCodePrefixes.contains { prefix in testCase.1.hasPrefix(prefix) }
            }
        })
    }

    static let cases: [(String, String)] = [
        ("DE", "27498"), ("DE", "78266"), ("IT", "23041"), ("IT", "22061"), ("ES", "35001"), ("ES", "38001"), ("ES", "51001"), ("ES", "52001"),
        ("FI", "22100"), ("GR", "63086"), ("FR", "97100"), ("FR", "97200"), ("FR", "97300"), ("FR", "97400"), ("FR", "97600"), ("FR", "97500"),
        ("FR", "97700"), ("FR", "97800"), ("FR", "98800"),
    ]

    @Test func warehousesCartonsAndTracking() throws {
        let a = try #require(rules.warehouses["A"])
        #expect(a.layout.slotting["TENT-2P"]?.name == "06-14-1")
        #expect(a.cartons.count == 4)
        #expect(rules.limits(for: "DHL-PAKET")?.maxWeightGrams == 31_500)
        #expect(rules.limits(for: "SOMETHING-NEW")?.maxWeightGrams == 31_500)
        #expect(rules.trackingURL(carrier: "DHL", tracking: "00340434161094042557") ==
                "https://www.dhl.de/de/privatkunden/dhl-sendungsverfolgung.html?piececode=00340434161094042557")
        #expect(rules.printers["zebra-a1"]?.port == 9100)
    }

    @Test func aBrokenRuleFileNamesThePlace() throws {
        var text = try String(contentsOfFile: Self.configDirectory + "/fulfillment.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"companyPrefix\": \"4012345\"", with: "\"companyPrefix\": \"40X\"")
        #expect(throws: ConfigurationFileError.self) {
            try ConfigurationFileError.parse(Array(text.utf8), path: "fulfillment.json") { try FulfillmentRules.parse($0, territory: rules.customs) }
        }
        do {
            _ = try ConfigurationFileError.parse(Array(text.utf8), path: "fulfillment.json") { try FulfillmentRules.parse($0, territory: rules.customs) }
        } catch {
            #expect("\(error)".contains("company prefix"))
        }
    }
}

extension FulfillmentRulesTests {
    /// The benchmark's generated lists (same seed and shape as `oms-bench fulfillment-core`): the chosen tour is
    /// never longer than walking by bin name, and clearly shorter over all of them.
    @Test func shorterThanBinNameOrderOnTheBenchmarksLists() throws {
        let layout = try #require(rules.warehouses["A"]).layout
        var random = SplitMix64(seed: 20_261_202)
        var chosen = 0, byName = 0
        for _ in 0..<300 {
            let count = Int.random(in: 5...30, using: &random)
            let stops: [WarehouseLayout.Stop] = (0..<count).map { i in
                let aisle = layout.aisles.randomElement(using: &random)!
                return .init(bin: .init(aisle: aisle.id, position: Int.random(in: 1...layout.positionsPerAisle, using: &random), level: Int.random(in: 1...4, using: &random)),
                             sku: "SKU-\(i)", quantity: 1, fulfillmentOrderID: "FO", lineID: String(i))
            }
            let routed = try layout.route(stops)
            #expect(routed.chosen.length <= routed.binNameOrderLength)
            #expect(routed.chosen.method == .optimal)
            chosen += routed.chosen.length
            byName += routed.binNameOrderLength
        }
        #expect(Double(chosen) < 0.9 * Double(byName), "optimal \(chosen) dm vs by bin name \(byName) dm")
    }
}
