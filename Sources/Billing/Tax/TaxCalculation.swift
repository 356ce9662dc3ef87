import Shared

/// The EN 16931 arithmetic: line net amounts to the cent, VAT per category and rate on its taxable
/// amount (BR-CO-17: tax = taxable × rate, rounded), ancillary charges and order-level discounts split
/// over the rates in proportion to the net values, and gross (consumer) prices turned into nets per rate
/// so that the document's totals add up exactly to what the customer paid.
public enum TaxCalculation {
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Checked addition of minor units (a sum of many maximal lines must fail, not wrap).
    static func add(_ total: inout Int64, _ value: Int64) throws(Problem) {
        let (sum, overflow) = total.addingReportingOverflow(value)
        guard !overflow else { throw Problem(description: "the document's amounts overflow") }
        total = sum
    }

    /// ⌊a × b / c⌋ for a, b ≥ 0 and c > 0, without overflowing (saturates; the one implementation is `PaidShare`'s).
    public static func multiplyDivide(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { PaidShare.multiplyDivide(a, b, c) }

    /// ⌈a × b / c⌉ for a, b ≥ 0 and c > 0.
    public static func multiplyDivideRoundingUp(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { PaidShare.multiplyDivideRoundingUp(a, b, c) }

    /// a / b rounded half away from zero (b > 0).
    static func divide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b, r = a % b
        if 2 * abs(r) >= b { return q + (a >= 0 ? 1 : -1) }
        return q
    }

    /// The tax of a taxable amount at `rate` basis points, rounded to the minor unit.
    public static func tax(on taxable: Money, rateBasisPoints rate: Int) throws(Problem) -> Money {
        let (product, overflow) = taxable.minorUnits.multipliedReportingOverflow(by: Int64(rate))
        guard !overflow else { throw Problem(description: "tax of \(taxable) overflows") }
        return Money(minorUnits: divide(product, 10_000), currency: taxable.currency)
    }

    /// The net amount contained in a gross amount at `rate`.
    public static func net(ofGross gross: Money, rateBasisPoints rate: Int) throws(Problem) -> Money {
        let (product, overflow) = gross.minorUnits.multipliedReportingOverflow(by: 10_000)
        guard !overflow else { throw Problem(description: "net of \(gross) overflows") }
        return Money(minorUnits: divide(product, 10_000 + Int64(rate)), currency: gross.currency)
    }

    /// Splits `amount` over `weights` in proportion (largest remainder), so that the parts add up exactly.
    public static func allocate(_ amount: Money, over weights: [Money]) throws(Problem) -> [Money] {
        guard !weights.isEmpty else { return [] }
        var total: Int64 = 0
        for w in weights {
            guard w.currency == amount.currency, w.minorUnits >= 0 else { throw Problem(description: "weights must be non-negative amounts in \(amount.currency.code)") }
            let (sum, overflow) = total.addingReportingOverflow(w.minorUnits)
            guard !overflow else { throw Problem(description: "weights overflow") }
            total = sum
        }
        guard total > 0 else {
            var parts = Array(repeating: Money.zero(amount.currency), count: weights.count)
            parts[0] = amount
            return parts
        }
        var parts: [Int64] = [], remainders: [(index: Int, rest: Int64)] = []
        for (i, w) in weights.enumerated() {
            let (product, overflow) = amount.minorUnits.multipliedReportingOverflow(by: w.minorUnits)
            guard !overflow else { throw Problem(description: "allocation of \(amount) overflows") }
            parts.append(product / total)
            remainders.append((i, product % total))
        }
        var left = amount.minorUnits
        for part in parts { left -= part }   // each part ≤ amount: no overflow
        for entry in remainders.sorted(by: { ($0.rest, -$0.index) > ($1.rest, -$1.index) }) where left != 0 {
            parts[entry.index] += left > 0 ? 1 : -1
            left += left > 0 ? -1 : 1
        }
        return parts.map { Money(minorUnits: $0, currency: amount.currency) }
    }

    public struct Line: Sendable {
        public let id: String
        public let quantity: Int64
        /// Net (B2B) or gross (B2C) unit price, as the order has it.
        public let unitPrice: Money
        public let category: VATCategory
        public let rateBasisPoints: Int
        /// The line's own discount for these units (same basis as the price), taken off its amount.
        public let allowance: Money?
        public init(id: String, quantity: Int64, unitPrice: Money, category: VATCategory, rateBasisPoints: Int, allowance: Money? = nil) {
            self.id = id
            self.quantity = quantity
            self.unitPrice = unitPrice
            self.category = category
            self.rateBasisPoints = rateBasisPoints
            self.allowance = allowance
        }
    }

    public struct Breakdown: Sendable, Equatable {
        public let category: VATCategory
        public let rateBasisPoints: Int
        public let taxable: Money
        public let tax: Money
        public init(category: VATCategory, rateBasisPoints: Int, taxable: Money, tax: Money) {
            self.category = category
            self.rateBasisPoints = rateBasisPoints
            self.taxable = taxable
            self.tax = tax
        }
    }

    public struct Result: Sendable {
        /// Net amount per line (BT-131), after its share of order-level discounts is NOT applied (allowances are document level).
        public let lineNet: [String: Money]
        /// Ancillary charges (shipping) per category and rate (document-level charges, BT-99).
        public let charges: [Breakdown]
        /// Order-level discount per category and rate (document-level allowances, BT-92).
        public let allowances: [Breakdown]
        public let breakdown: [Breakdown]
        public let totalNet: Money
        public let totalTax: Money
        /// Gross prices: the cent the per-rate rounding leaves over (BT-114), so that the total is what was paid.
        public let rounding: Money
        public let total: Money
        public init(lineNet: [String: Money], charges: [Breakdown], allowances: [Breakdown], breakdown: [Breakdown], totalNet: Money, totalTax: Money,
                    rounding: Money, total: Money) {
            self.lineNet = lineNet
            self.charges = charges
            self.allowances = allowances
            self.breakdown = breakdown
            self.totalNet = totalNet
            self.totalTax = totalTax
            self.rounding = rounding
            self.total = total
        }
    }

    /// The whole calculation of one document. `charge` (shipping) and `discount` (order level) are split over the
    /// categories and rates in proportion to the lines' net values; with `gross` prices every amount given is gross.
    public static func calculate(lines: [Line], charge: Money, discount: Money, gross: Bool, currency: Currency) throws(Problem) -> Result {
        struct Key: Hashable { let category: String; let rate: Int }
        var keys: [Key] = [], grossByKey: [Key: Int64] = [:], lineAmount: [String: Money] = [:]
        for line in lines {
            guard line.unitPrice.currency == currency else { throw Problem(description: "line \(line.id) is in \(line.unitPrice.currency.code), the document in \(currency.code)") }
            let amount: Money
            do { amount = try line.unitPrice.multiplied(by: line.quantity).subtracting(line.allowance ?? .zero(currency)) } catch {
                throw Problem(description: "line \(line.id): \(error)")
            }
            guard amount.minorUnits >= 0 else { throw Problem(description: "line \(line.id): its discount exceeds its amount") }
            lineAmount[line.id] = amount
            let key = Key(category: line.category.rawValue, rate: line.rateBasisPoints)
            if grossByKey[key] == nil { keys.append(key) }
            var sum = grossByKey[key] ?? 0
            try add(&sum, amount.minorUnits)
            grossByKey[key] = sum
        }
        let weights = keys.map { Money(minorUnits: grossByKey[$0] ?? 0, currency: currency) }
        let charges = try allocate(charge, over: weights), allowances = try allocate(discount, over: weights)
        var breakdown: [Breakdown] = [], chargeRows: [Breakdown] = [], allowanceRows: [Breakdown] = []
        var lineNet: [String: Money] = [:]
        var totalNet: Int64 = 0, totalTax: Int64 = 0, paid: Int64 = 0
        for (i, key) in keys.enumerated() {
            let rate = key.rate
            guard let category = VATCategory(rawValue: key.category) else { continue }
            let linesHere = lines.filter { $0.category.rawValue == key.category && $0.rateBasisPoints == rate }
            let goods = Money(minorUnits: grossByKey[key] ?? 0, currency: currency)
            if gross {
                // Nets per rate from the gross sums; the lines share the net in proportion to their gross.
                let goodsNet = try net(ofGross: goods, rateBasisPoints: rate)
                for (line, share) in zip(linesHere, try allocate(goodsNet, over: linesHere.map { lineAmount[$0.id] ?? .zero(currency) })) { lineNet[line.id] = share }
                let chargeNet = try net(ofGross: charges[i], rateBasisPoints: rate), allowanceNet = try net(ofGross: allowances[i], rateBasisPoints: rate)
                var taxableUnits = goodsNet.minorUnits
                try add(&taxableUnits, chargeNet.minorUnits)
                try add(&taxableUnits, -allowanceNet.minorUnits)
                let taxable = Money(minorUnits: taxableUnits, currency: currency)
                let vat = try tax(on: taxable, rateBasisPoints: rate)
                breakdown.append(Breakdown(category: category, rateBasisPoints: rate, taxable: taxable, tax: vat))
                chargeRows.append(Breakdown(category: category, rateBasisPoints: rate, taxable: chargeNet, tax: .zero(currency)))
                allowanceRows.append(Breakdown(category: category, rateBasisPoints: rate, taxable: allowanceNet, tax: .zero(currency)))
                try add(&totalNet, taxable.minorUnits)
                try add(&totalTax, vat.minorUnits)
                try add(&paid, goods.minorUnits)
                try add(&paid, charges[i].minorUnits)
                try add(&paid, -allowances[i].minorUnits)
            } else {
                for line in linesHere { lineNet[line.id] = lineAmount[line.id] }
                var taxableUnits = goods.minorUnits
                try add(&taxableUnits, charges[i].minorUnits)
                try add(&taxableUnits, -allowances[i].minorUnits)
                let taxable = Money(minorUnits: taxableUnits, currency: currency)
                let vat = try tax(on: taxable, rateBasisPoints: rate)
                breakdown.append(Breakdown(category: category, rateBasisPoints: rate, taxable: taxable, tax: vat))
                chargeRows.append(Breakdown(category: category, rateBasisPoints: rate, taxable: charges[i], tax: .zero(currency)))
                allowanceRows.append(Breakdown(category: category, rateBasisPoints: rate, taxable: allowances[i], tax: .zero(currency)))
                try add(&totalNet, taxable.minorUnits)
                try add(&totalTax, vat.minorUnits)
                try add(&paid, taxable.minorUnits)
                try add(&paid, vat.minorUnits)
            }
        }
        var rounding = paid
        try add(&rounding, -totalNet)
        try add(&rounding, -totalTax)
        return Result(lineNet: lineNet, charges: chargeRows, allowances: allowanceRows, breakdown: breakdown,
                      totalNet: Money(minorUnits: totalNet, currency: currency), totalTax: Money(minorUnits: totalTax, currency: currency),
                      rounding: Money(minorUnits: rounding, currency: currency), total: Money(minorUnits: paid, currency: currency))
    }
}
