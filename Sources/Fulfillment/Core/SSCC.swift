/// GS1 Serial Shipping Container Code (SSCC-18): extension digit, GS1 company
/// prefix, serial reference, mod-10 check digit. The serial comes from a
/// PostgreSQL sequence, so a number is never handed out twice.
public struct SSCC: Sendable, Equatable, CustomStringConvertible {
    public let digits: String

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// GS1 check digit: from the right, weights 3, 1, 3, …; the digit that makes the sum a multiple of ten.
    public static func checkDigit(_ body: some StringProtocol) -> Int? {
        var sum = 0
        for (position, character) in body.reversed().enumerated() {
            guard let digit = character.wholeNumberValue, character.isASCII else { return nil }
            sum += digit * (position % 2 == 0 ? 3 : 1)
        }
        return (10 - sum % 10) % 10
    }

    public init(extensionDigit: Int, companyPrefix: String, serial: Int64) throws(Problem) {
        guard (0...9).contains(extensionDigit) else { throw Problem(description: "the SSCC extension digit must be 0–9, found \(extensionDigit)") }
        guard (7...10).contains(companyPrefix.count), companyPrefix.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw Problem(description: "the GS1 company prefix must be 7 to 10 digits, found \"\(companyPrefix)\"")
        }
        let width = 16 - companyPrefix.count
        var limit: Int64 = 1
        for _ in 0..<width { limit *= 10 }
        guard serial >= 0, serial < limit else {
            throw Problem(description: "serial \(serial) does not fit the \(width) digits the company prefix \(companyPrefix) leaves; the SSCC range is used up")
        }
        let reference = String(serial)
        let body = "\(extensionDigit)\(companyPrefix)\(String(repeating: "0", count: width - reference.count))\(reference)"
        digits = body + String(Self.checkDigit(body) ?? 0)
    }

    /// Reads an SSCC a carrier or scanner sends back (18 digits with a correct check digit).
    public init(parsing text: String) throws(Problem) {
        guard text.count == 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw Problem(description: "an SSCC has 18 digits")
        }
        guard Self.checkDigit(text.prefix(17)) == text.last?.wholeNumberValue else {
            throw Problem(description: "SSCC \(text) has a wrong check digit")
        }
        digits = text
    }

    public var description: String { digits }
    /// "(00) 3 7613032 110910342 0" style: application identifier and the number, for people.
    public var humanReadable: String { "(00) \(digits)" }
}
