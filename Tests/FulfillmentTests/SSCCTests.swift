import FulfillmentCore
import Testing

@Suite struct SSCCTests {
    /// Published examples (GS1 General Specifications and carrier label guides).
    @Test(arguments: ["376130321109103420", "357081300469846950", "006141411234567890"])
    func checkDigitOfPublishedExamples(_ sscc: String) throws {
        #expect(SSCC.checkDigit(sscc.prefix(17)) == sscc.last?.wholeNumberValue)
        #expect(try SSCC(parsing: sscc).digits == sscc)
    }

    @Test func composedFromPrefixAndSerial() throws {
        // 0 + 0614141 + 123456789 → check digit 0 (GS1's own example).
        #expect(try SSCC(extensionDigit: 0, companyPrefix: "0614141", serial: 123_456_789).digits == "006141411234567890")
        #expect(try SSCC(extensionDigit: 3, companyPrefix: "7613032", serial: 110_910_342).digits == "376130321109103420")
    }

    @Test func refusals() {
        #expect(throws: SSCC.Problem.self) { try SSCC(parsing: "376130321109103421") }
        #expect(throws: SSCC.Problem.self) { try SSCC(parsing: "37613032110910342") }
        #expect(throws: SSCC.Problem.self) { try SSCC(extensionDigit: 0, companyPrefix: "0614141", serial: 1_000_000_000) }
        #expect(throws: SSCC.Problem.self) { try SSCC(extensionDigit: 10, companyPrefix: "0614141", serial: 1) }
        #expect(throws: SSCC.Problem.self) { try SSCC(extensionDigit: 0, companyPrefix: "06141X1", serial: 1) }
        // Non-ASCII digits (e.g. Arabic-Indic) are not digits of an SSCC.
        #expect(throws: SSCC.Problem.self) { try SSCC(parsing: "٣٧٦١٣٠٣٢١١٠٩١٠٣٤٢٠") }
    }
}
