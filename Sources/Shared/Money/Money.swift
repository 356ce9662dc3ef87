/// An ISO 4217 currency: three upper-case letters and how many minor-unit
/// digits it has (EUR 2, JPY 0, KWD 3), for printing amounts to people.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    public let code: String

    /// nil unless `code` is three letters A–Z.
    public init?(_ code: String) {
        guard code.utf8.count == 3, code.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else { return nil }
        self.code = code
    }

    /// ISO 4217 exponents that differ from 2 (the currencies a European shop may meet).
    private static let exponents: [String: Int] = [
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0,
        "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4, "UYW": 4,
    ]

    public var minorUnitDigits: Int { Self.exponents[code] ?? 2 }
    public var description: String { code }
}

/// Why a money operation has no result. Codes are stable, the description names the operands.
public struct MoneyError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let overflow = Code(name: "overflow")
        public static let currencyMismatch = Code(name: "currency-mismatch")
    }

    public let code: Code
    public let description: String
}

/// An amount of money: integer minor units of one currency (SPEC §4).
///
/// Arithmetic is checked: an overflow or two different currencies give a
/// `MoneyError`, never a trap and never a wrapped-around number, because the
/// operands come from input and a trapping worker would crash-loop on it.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        try sameCurrency(other, "add")
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw MoneyError(code: .overflow, description: "\(self) + \(other) overflows") }
        return Money(minorUnits: sum, currency: currency)
    }

    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        try sameCurrency(other, "subtract")
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw MoneyError(code: .overflow, description: "\(self) − \(other) overflows") }
        return Money(minorUnits: difference, currency: currency)
    }

    /// A unit price times a quantity.
    public func multiplied(by quantity: Int64) throws(MoneyError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: quantity)
        guard !overflow else { throw MoneyError(code: .overflow, description: "\(self) × \(quantity) overflows") }
        return Money(minorUnits: product, currency: currency)
    }

    /// The sum of `amounts` in `currency`; empty is zero.
    public static func sum(_ amounts: some Sequence<Money>, currency: Currency) throws(MoneyError) -> Money {
        var total = Money.zero(currency)
        for amount in amounts { total = try total.adding(amount) }
        return total
    }

    /// Ordering within one currency; comparing two currencies is an error, not an answer.
    public func isGreater(than other: Money) throws(MoneyError) -> Bool {
        try sameCurrency(other, "compare")
        return minorUnits > other.minorUnits
    }

    public func isLess(than other: Money) throws(MoneyError) -> Bool {
        try sameCurrency(other, "compare")
        return minorUnits < other.minorUnits
    }

    private func sameCurrency(_ other: Money, _ operation: String) throws(MoneyError) {
        guard currency == other.currency else {
            throw MoneyError(code: .currencyMismatch, description: "cannot \(operation) \(self) and \(other): different currencies")
        }
    }

    /// For people: `1,199.40 EUR`, `1,200 JPY` (grouping by thousands, the currency's own decimals).
    public var description: String {
        let digits = currency.minorUnitDigits
        let magnitude = minorUnits.magnitude
        var divisor: UInt64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let whole = String(magnitude / divisor)
        var grouped = ""
        for (index, character) in whole.enumerated() {
            if index > 0 && (whole.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        var text = (minorUnits < 0 ? "-" : "") + grouped
        if digits > 0 {
            let fraction = String(magnitude % divisor)
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return "\(text) \(currency.code)"
    }

    /// `minor` minor units of the currency named `code`, formatted; for rows read back
    /// from the database, where the code was validated on the way in.
    public static func format(_ minor: Int64, _ code: String) -> String {
        guard let currency = Currency(code) else { return "\(minor) (minor units of \(code))" }
        return Money(minorUnits: minor, currency: currency).description
    }
}
