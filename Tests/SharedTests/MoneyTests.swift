import Shared
import Testing

@Suite("Money")
struct MoneyTests {
    let eur = Currency("EUR")!
    let jpy = Currency("JPY")!

    @Test("currency codes: three letters A–Z only")
    func currencyCodes() {
        #expect(Currency("EUR") != nil)
        for bad in ["EU", "EURO", "eur", "EUR\n", "E1R", "", "ÄUR"] { #expect(Currency(bad) == nil, "\(bad)") }
    }

    @Test("checked arithmetic: overflow and mixed currencies are errors, not traps or wrapped numbers")
    func checked() throws {
        let max = Money(minorUnits: .max, currency: eur)
        #expect(throws: MoneyError.self) { try max.adding(Money(minorUnits: 1, currency: eur)) }
        #expect(throws: MoneyError.self) { try Money(minorUnits: .min, currency: eur).subtracting(Money(minorUnits: 1, currency: eur)) }
        #expect(throws: MoneyError.self) { try Money(minorUnits: 4_611_686_018_427_387_904, currency: eur).multiplied(by: 2) }
        do {
            _ = try Money(minorUnits: 100, currency: eur).adding(Money(minorUnits: 100, currency: jpy))
            Issue.record("EUR + JPY must fail")
        } catch {
            #expect(error.code == .currencyMismatch)
            #expect(error.description.contains("EUR") && error.description.contains("JPY"))
        }
        #expect(throws: MoneyError.self) { try Money(minorUnits: 1, currency: eur).isGreater(than: Money(minorUnits: 0, currency: jpy)) }
        #expect(try Money(minorUnits: 2995, currency: eur).multiplied(by: 2).adding(Money(minorUnits: 19990, currency: eur))
            == Money(minorUnits: 25980, currency: eur))
        #expect(try Money.sum([Money(minorUnits: 1, currency: eur), Money(minorUnits: 2, currency: eur)], currency: eur).minorUnits == 3)
    }

    @Test("formatted for people with the currency's own decimals", arguments: [
        (Int64(1_199_400), "EUR", "11,994.00 EUR"), (Int64(5), "EUR", "0.05 EUR"), (Int64(-123_456), "EUR", "-1,234.56 EUR"),
        (Int64(10_000), "JPY", "10,000 JPY"), (Int64(1_234), "KWD", "1.234 KWD"), (Int64.min, "EUR", "-92,233,720,368,547,758.08 EUR"),
    ])
    func formatting(minor: Int64, code: String, text: String) {
        #expect(Money.format(minor, code) == text)
    }
}
