import BillingTax
import Foundation
import Shared
import Testing

/// The tax rule, case by case, with the shipped tax.json and territory.json.
@Suite struct TaxTreatmentTests {
    static let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config").path
    let rules: TaxRules
    let territory: EUTerritory
    let eur = Currency("EUR")!

    init() throws {
        rules = try TaxRules.load(directory: Self.config).rules(at: { Date() })
        territory = try EUTerritory.load(directory: Self.config)
    }

    func euros(_ value: Int64) -> Money { Money(minorUnits: value * 100, currency: eur) }

    func decide(_ buyer: TaxTreatment.Buyer, kind: TaxTreatment.SupplyKind = .goods, taxClass: String = "standard", on date: String = "2026-03-02T10:00:00Z",
                net: Int64 = 100, soFar: Int64 = 0, rules custom: TaxRules? = nil) throws -> TaxTreatment.Decision {
        try TaxTreatment.decide(kind: kind, taxClass: taxClass, buyer: buyer, supplyDate: EventTime.parse(date), supplyNet: euros(net),
                                distanceSalesSoFar: euros(soFar), rules: custom ?? rules, territory: territory)
    }

    func consumer(_ country: String, _ postalCode: String) -> TaxTreatment.Buyer { .init(type: .consumer, vatID: nil, country: country, postalCode: postalCode) }
    func business(_ country: String, _ postalCode: String, vatID: String?, confirmed: Bool = false) -> TaxTreatment.Buyer {
        .init(type: .business, vatID: vatID, vatIDConfirmed: confirmed, country: country, postalCode: postalCode)
    }

    @Test func domesticStandardAndReduced() throws {
        #expect(try decide(consumer("DE", "80331")) == .init(category: .standard, taxCountry: "DE", rateBasisPoints: 1900, exemptionCode: nil, reason: "domestic", legalNote: nil))
        #expect(try decide(consumer("DE", "80331"), taxClass: "reduced").rateBasisPoints == 700)
        #expect(try decide(business("DE", "80331", vatID: "DE136695976")).rateBasisPoints == 1900)
    }

    @Test func theDateOfSupplyDecidesTheRate() throws {
        #expect(try decide(consumer("DE", "80331"), on: "2020-08-15T10:00:00Z").rateBasisPoints == 1600)
        #expect(try decide(consumer("DE", "80331"), taxClass: "reduced", on: "2020-12-31T23:00:00Z").rateBasisPoints == 500)
        #expect(try decide(consumer("DE", "80331"), on: "2021-01-01T00:00:00Z").rateBasisPoints == 1900)
    }

    @Test func distanceSalesBelowAndAboveTheThreshold() throws {
        let below = try decide(consumer("AT", "1010"), net: 100, soFar: 5_000)
        #expect(below.taxCountry == "DE" && below.rateBasisPoints == 1900 && below.reason == "distance-sales-below-threshold")
        // The supply that crosses 10,000 EUR is already taxed where it goes.
        let crossing = try decide(consumer("AT", "1010"), net: 100, soFar: 9_950)
        #expect(crossing.taxCountry == "AT" && crossing.rateBasisPoints == 2000 && crossing.reason == "oss")
        #expect(crossing.legalNote?.contains("One-Stop-Shop") == true)
        #expect(try decide(consumer("FR", "75001"), taxClass: "reduced", soFar: 20_000).rateBasisPoints == 1000)
        // Opted in: destination VAT from the first euro.
        var text = try String(contentsOfFile: Self.config + "/tax.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"destinationTaxFromFirstEuro\": false", with: "\"destinationTaxFromFirstEuro\": true")
        let optIn = try ConfigurationFileError.parse(Array(text.utf8), path: "tax.json", build: TaxRules.parse)
        #expect(try decide(consumer("AT", "1010"), soFar: 0, rules: optIn).taxCountry == "AT")
    }

    @Test func documentSeriesComeFromTheFileAndMustNotShareAPrefix() throws {
        #expect(rules.series(.invoice) == .init(prefix: "RE", retentionYears: 8))
        #expect(rules.series(.creditNote).prefix == "RK")
        let text = try String(contentsOfFile: Self.config + "/tax.json", encoding: .utf8)
        let shared = text.replacingOccurrences(of: "\"prefix\": \"RK\"", with: "\"prefix\": \"RE\"")
        #expect(shared != text)
        #expect(throws: (any Error).self) { try ConfigurationFileError.parse(Array(shared.utf8), path: "tax.json", build: TaxRules.parse) }
        let longer = text.replacingOccurrences(of: "\"creditNote\": { \"prefix\": \"RK\", \"retentionYears\": 8 }",
                                               with: "\"creditNote\": { \"prefix\": \"GS\", \"retentionYears\": 10 }")
        #expect(longer != text)
        let parsed = try ConfigurationFileError.parse(Array(longer.utf8), path: "tax.json", build: TaxRules.parse)
        #expect(parsed.series(.creditNote) == .init(prefix: "GS", retentionYears: 10))
    }

    @Test func intraCommunitySupplyNeedsAVerifiedVATID() throws {
        let valid = try decide(business("AT", "1010", vatID: "ATU13585627"))
        #expect(valid.category == .intraCommunity && valid.rateBasisPoints == 0 && valid.exemptionCode == "VATEX-EU-IC")
        #expect(valid.legalNote?.contains("DE136695976") == true && valid.legalNote?.contains("ATU13585627") == true)
        // A checksum-invalid VAT ID never yields 0 %: taxed like a consumer, and the document says why.
        let invalid = try decide(business("AT", "1010", vatID: "ATU13585628"))
        #expect(invalid.category == .standard && invalid.rateBasisPoints == 1900 && invalid.reason == "vat-id-unverified")
        #expect(invalid.legalNote?.contains("not valid") == true)
        // Only plausible in format (Spain): not without a VIES confirmation.
        #expect(try decide(business("ES", "28001", vatID: "ESA28015865")).category == .standard)
        #expect(try decide(business("ES", "28001", vatID: "ESA28015865", confirmed: true)).category == .intraCommunity)
        // Another state's VAT ID does not fit the destination.
        #expect(try decide(business("AT", "1010", vatID: "DE136695976")).category == .standard)
        #expect(try decide(business("AT", "1010", vatID: nil)).category == .standard)
        #expect(try decide(business("GR", "10431", vatID: "EL094259216")).category == .intraCommunity)
    }

    @Test func servicesToBusinessesAbroadAreReverseCharge() throws {
        let service = try decide(business("AT", "1010", vatID: "ATU13585627"), kind: .service)
        #expect(service.category == .reverseCharge && service.exemptionCode == "VATEX-EU-AE")
        #expect(service.legalNote?.contains("Steuerschuldnerschaft des Leistungsempfängers") == true)
        #expect(try decide(business("CH", "8001", vatID: nil), kind: .service).category == .outOfScope)
        #expect(try decide(consumer("AT", "1010"), kind: .service).taxCountry == "DE")
    }

    @Test(arguments: [("CH", "8001"), ("GB", "EH1 1AA"), ("NO", "0150"), ("US", "10001"), ("DE", "27498"), ("DE", "78266"), ("IT", "23041"),
                      ("ES", "35001"), ("ES", "51001"), ("FI", "22100"), ("FR", "97400")])
    func exportsAndSpecialTerritories(country: String, postalCode: String) throws {
        let goods = try decide(consumer(country, postalCode))
        #expect(goods.category == .export && goods.rateBasisPoints == 0 && goods.exemptionCode == "VATEX-EU-G", "\(country) \(postalCode)")
        #expect(try decide(business(country, postalCode, vatID: nil)).category == .export)
    }

    @Test func northernIrelandTakesGoodsLikeAMemberState() throws {
        #expect(try decide(consumer("GB", "BT1 1AA"), soFar: 20_000).taxCountry == "XI")
        #expect(try decide(consumer("GB", "BT1 1AA"), soFar: 0).taxCountry == "DE")
        #expect(try decide(consumer("GB", "BT1 1AA"), on: "2020-06-01T00:00:00Z", soFar: 0).taxCountry == "DE", "before 2021 the UK was inside anyway")
    }

    @Test func aMissingRateIsAProblemNotAGuess() {
        #expect(throws: TaxRules.Problem.self) { try decide(consumer("DK", "1000"), taxClass: "reduced", soFar: 20_000) }
        #expect(throws: TaxRules.Problem.self) { try decide(consumer("DE", "80331"), taxClass: "luxury") }
    }
}

@Suite struct TaxCalculationTests {
    let eur = Currency("EUR")!
    func cents(_ v: Int64) -> Money { Money(minorUnits: v, currency: eur) }

    @Test func shippingFollowsTheGoodsInProportionToTheirNetValues() throws {
        let result = try TaxCalculation.calculate(lines: [
            .init(id: "1", quantity: 2, unitPrice: cents(5_000), category: .standard, rateBasisPoints: 1900),
            .init(id: "2", quantity: 1, unitPrice: cents(5_000), category: .standard, rateBasisPoints: 700),
        ], charge: cents(495), discount: cents(0), gross: false, currency: eur)
        // 4.95 over 100.00 : 50.00 → 3.30 and 1.65.
        #expect(result.charges.map(\.taxable) == [cents(330), cents(165)])
        #expect(result.breakdown.map(\.taxable) == [cents(10_330), cents(5_165)])
        #expect(result.breakdown.map(\.tax) == [cents(1_963), cents(362)])
        #expect(result.total == cents(10_330 + 5_165 + 1_963 + 362))
        #expect(result.rounding == cents(0))
    }

    @Test func anOrderDiscountIsSplitOverTheRates() throws {
        let result = try TaxCalculation.calculate(lines: [
            .init(id: "1", quantity: 1, unitPrice: cents(30_000), category: .standard, rateBasisPoints: 1900),
            .init(id: "2", quantity: 1, unitPrice: cents(10_000), category: .standard, rateBasisPoints: 700),
        ], charge: cents(0), discount: cents(1_000), gross: false, currency: eur)
        #expect(result.allowances.map(\.taxable) == [cents(750), cents(250)])
        #expect(result.breakdown.map(\.taxable) == [cents(29_250), cents(9_750)])
        #expect(result.breakdown.map(\.tax) == [cents(5_558), cents(683)])
    }

    @Test func grossPricesAddUpToWhatTheCustomerPaid() throws {
        var random = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let lines = (0..<Int.random(in: 1...40, using: &random)).map { i in
                TaxCalculation.Line(id: String(i), quantity: Int64.random(in: 1...5, using: &random), unitPrice: cents(Int64.random(in: 1...25_000, using: &random)),
                                    category: .standard, rateBasisPoints: [1900, 700].randomElement(using: &random)!)
            }
            let charge = cents(Int64.random(in: 0...990, using: &random)), discount = cents(Int64.random(in: 0...500, using: &random))
            let result = try TaxCalculation.calculate(lines: lines, charge: charge, discount: discount, gross: true, currency: eur)
            var paid: Int64 = charge.minorUnits - discount.minorUnits
            for line in lines { paid += line.quantity * line.unitPrice.minorUnits }
            #expect(result.total.minorUnits == paid)
            #expect(result.totalNet.minorUnits + result.totalTax.minorUnits + result.rounding.minorUnits == paid)
            for row in result.breakdown {
                // BR-CO-17: the tax of each rate is its taxable amount times the rate, rounded.
                #expect(row.tax == (try TaxCalculation.tax(on: row.taxable, rateBasisPoints: row.rateBasisPoints)))
            }
            #expect(abs(result.rounding.minorUnits) <= 3, "per-rate rounding leaves at most a few cents")
            // The lines' nets add up to the goods' share of each rate.
            for row in result.breakdown {
                let nets = lines.filter { $0.rateBasisPoints == row.rateBasisPoints }.compactMap { result.lineNet[$0.id]?.minorUnits }.reduce(0, +)
                let charges = result.charges.first { $0.rateBasisPoints == row.rateBasisPoints }?.taxable.minorUnits ?? 0
                let allowances = result.allowances.first { $0.rateBasisPoints == row.rateBasisPoints }?.taxable.minorUnits ?? 0
                #expect(nets + charges - allowances == row.taxable.minorUnits)
            }
        }
    }

    @Test func netPricesWithManyLines() throws {
        var lines: [TaxCalculation.Line] = []
        for i in 0..<120 {
            let quantity = Int64(i % 7 + 1), price = Int64(333 + i * 17), rate = i % 3 == 0 ? 700 : 1900
            lines.append(TaxCalculation.Line(id: String(i), quantity: quantity, unitPrice: cents(price), category: .standard, rateBasisPoints: rate))
        }
        let result = try TaxCalculation.calculate(lines: lines, charge: cents(1_990), discount: cents(0), gross: false, currency: eur)
        #expect(result.rounding == cents(0))
        #expect(result.total.minorUnits == result.totalNet.minorUnits + result.totalTax.minorUnits)
        let lineNets: Int64 = result.lineNet.values.reduce(0) { $0 + $1.minorUnits }
        #expect(lineNets + 1_990 == result.totalNet.minorUnits)
    }

    @Test func allocationAddsUpAndOverflowIsAnError() throws {
        let parts = try TaxCalculation.allocate(cents(100), over: [cents(1), cents(1), cents(1)])
        #expect(parts.map(\.minorUnits).reduce(0, +) == 100)
        #expect(Set(parts.map(\.minorUnits)) == [33, 34])
        #expect(throws: TaxCalculation.Problem.self) {
            try TaxCalculation.calculate(lines: (0..<20).map { .init(id: String($0), quantity: 100_000_000, unitPrice: cents(10_000_000_000), category: .standard, rateBasisPoints: 1900) },
                                         charge: cents(0), discount: cents(0), gross: false, currency: eur)
        }
    }
}
