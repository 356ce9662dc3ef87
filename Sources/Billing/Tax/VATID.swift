/// The VAT ID rule: a buyer's VAT identification number is only as good as its check.
///
/// Offline: the format per member state and, where the state publishes one, the check digits
/// (DE, AT, FR, NL, IT, BE, PL, DK, FI, LU, SE, PT, SI, EL/GR). For a state whose checksum is not
/// implemented here the number is `formatOnly` — which never earns a tax-exempt supply on its own:
/// only a stored VIES confirmation does (see `TaxTreatment`).
public enum VATID {
    public enum Verdict: Sendable, Equatable {
        case valid
        /// The format is right, the check digits are not verified offline for this state.
        case formatOnly
        case invalid(String)
    }

    /// Country prefix as used in VAT IDs (Greece is "EL", Northern Ireland "XI").
    public static func check(_ raw: String) -> Verdict {
        let text = raw.uppercased().filter { !$0.isWhitespace && $0 != "-" && $0 != "." }
        guard text.count >= 4, text.count <= 16, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return .invalid("a VAT ID is a country prefix and 2 to 14 letters or digits")
        }
        let prefix = String(text.prefix(2)), body = String(text.dropFirst(2))
        let digits = body.compactMap { $0.wholeNumberValue }
        let allDigits = digits.count == body.count
        func need(_ ok: Bool, _ what: String) -> Verdict? { ok ? nil : .invalid("\(prefix) VAT IDs are \(what)") }
        switch prefix {
        case "DE":
            if let bad = need(allDigits && digits.count == 9 && digits[0] != 0, "9 digits, the first not 0") { return bad }
            var product = 10
            for d in digits.prefix(8) {
                var sum = (d + product) % 10
                if sum == 0 { sum = 10 }
                product = (2 * sum) % 11
            }
            return (11 - product) % 10 == digits[8] ? .valid : .invalid("check digit of \(text) is wrong")
        case "AT":
            guard body.first == "U" else { return .invalid("AT VAT IDs are U and 8 digits") }
            let d = body.dropFirst().compactMap { $0.wholeNumberValue }
            if let bad = need(d.count == 8 && body.count == 9, "U and 8 digits") { return bad }
            var sum = 0
            for (i, digit) in d.prefix(7).enumerated() {
                let weighted = i % 2 == 0 ? digit : digit * 2
                sum += weighted / 10 + weighted % 10
            }
            return (10 - (sum + 4) % 10) % 10 == d[7] ? .valid : .invalid("check digit of \(text) is wrong")
        case "FR":
            guard body.count == 11, let siren = Int(body.suffix(9)) else { return .invalid("FR VAT IDs are 2 key characters and 9 digits") }
            // The SIREN itself has a Luhn check digit (Monaco's numbers, "000…", have none).
            let sirenDigits = body.suffix(9).compactMap { $0.wholeNumberValue }
            if !body.suffix(9).hasPrefix("000") && !luhn(sirenDigits) { return .invalid("the SIREN in \(text) has a wrong check digit") }
            guard let key = Int(body.prefix(2)) else { return .formatOnly }   // alphabetic keys (new companies): not checked offline
            return (12 + 3 * (siren % 97)) % 97 == key ? .valid : .invalid("key of \(text) does not match its SIREN")
        case "NL":
            guard body.count == 12, body.dropFirst(9).first == "B", body.prefix(9).allSatisfy(\.isNumber), body.suffix(2).allSatisfy(\.isNumber) else {
                return .invalid("NL VAT IDs are 9 digits, B and 2 digits")
            }
            let d = body.prefix(9).compactMap { $0.wholeNumberValue }
            var sum = 0
            for (i, digit) in d.prefix(8).enumerated() { sum += digit * (9 - i) }
            if sum % 11 == d[8] && sum % 11 != 10 { return .valid }
            // Since 2020 sole proprietors get numbers checked by mod 97 over "NL" + number (letters as numbers).
            var remainder = 0
            for character in "NL" + body {
                let value = character.wholeNumberValue ?? (Int(character.asciiValue ?? 0) - 55)
                for c in String(value) { remainder = (remainder * 10 + (c.wholeNumberValue ?? 0)) % 97 }
            }
            return remainder == 1 ? .valid : .invalid("check digits of \(text) are wrong")
        case "IT":
            if let bad = need(allDigits && digits.count == 11 && digits.prefix(7).contains(where: { $0 != 0 }), "11 digits") { return bad }
            // Digits 8–10 are the issuing office: 001–100, 120, 121, 888, 999.
            let office = digits[7] * 100 + digits[8] * 10 + digits[9]
            guard (1...100).contains(office) || [120, 121, 888, 999].contains(office) else { return .invalid("\(text) names no Italian tax office") }
            return luhn(digits) ? .valid : .invalid("check digit of \(text) is wrong")
        case "BE":
            var d = digits
            if allDigits && d.count == 9 { d.insert(0, at: 0) }
            if let bad = need(allDigits && d.count == 10 && d[0] <= 1, "10 digits starting 0 or 1") { return bad }
            let first = d.prefix(8).reduce(0) { $0 * 10 + $1 }, last = d[8] * 10 + d[9]
            return 97 - first % 97 == last ? .valid : .invalid("check digits of \(text) are wrong")
        case "PL":
            if let bad = need(allDigits && digits.count == 10, "10 digits") { return bad }
            return weighted(digits, [6, 5, 7, 2, 3, 4, 5, 6, 7], modulo: 11) == digits[9] ? .valid : .invalid("check digit of \(text) is wrong")
        case "DK":
            if let bad = need(allDigits && digits.count == 8 && digits[0] != 0, "8 digits, the first not 0") { return bad }
            return weightedSum(digits, [2, 7, 6, 5, 4, 3, 2, 1]) % 11 == 0 ? .valid : .invalid("check of \(text) fails")
        case "FI":
            if let bad = need(allDigits && digits.count == 8, "8 digits") { return bad }
            let r = weightedSum(Array(digits.prefix(7)), [7, 9, 10, 5, 8, 4, 2]) % 11
            return r != 1 && (r == 0 ? 0 : 11 - r) == digits[7] ? .valid : .invalid("check digit of \(text) is wrong")
        case "LU":
            if let bad = need(allDigits && digits.count == 8, "8 digits") { return bad }
            return digits.prefix(6).reduce(0, { $0 * 10 + $1 }) % 89 == digits[6] * 10 + digits[7] ? .valid : .invalid("check digits of \(text) are wrong")
        case "SE":
            if let bad = need(allDigits && digits.count == 12 && digits[10] == 0 && digits[11] == 1, "12 digits ending in 01") { return bad }
            return luhn(Array(digits.prefix(10))) ? .valid : .invalid("check digit of \(text) is wrong")
        case "PT":
            if let bad = need(allDigits && digits.count == 9 && digits[0] != 0, "9 digits, the first not 0") { return bad }
            let r = weightedSum(Array(digits.prefix(8)), [9, 8, 7, 6, 5, 4, 3, 2]) % 11
            return (r < 2 ? 0 : 11 - r) == digits[8] ? .valid : .invalid("check digit of \(text) is wrong")
        case "SI":
            if let bad = need(allDigits && digits.count == 8 && digits[0] != 0, "8 digits") { return bad }
            let r = 11 - weightedSum(Array(digits.prefix(7)), [8, 7, 6, 5, 4, 3, 2]) % 11
            // 10 gives check digit 0; 11 has no valid check digit.
            return r != 11 && (r == 10 ? 0 : r) == digits[7] ? .valid : .invalid("check digit of \(text) is wrong")
        case "EL", "GR":
            var d = digits
            if allDigits && d.count == 8 { d.insert(0, at: 0) }
            if let bad = need(allDigits && d.count == 9, "9 digits") { return bad }
            var sum = 0
            for digit in d.prefix(8) { sum = sum * 2 + digit }
            return (sum * 2) % 11 % 10 == d[8] ? .valid : .invalid("check digit of \(text) is wrong")
        default:
            // Other states: a plausible length of letters and digits; not verified offline.
            let lengths: [String: ClosedRange<Int>] = [
                "BG": 9...10, "CY": 9...9, "CZ": 8...10, "EE": 9...9, "ES": 9...9, "HR": 11...11, "HU": 8...8, "IE": 8...9,
                "LT": 9...12, "LV": 11...11, "MT": 8...8, "RO": 2...10, "SK": 10...10, "XI": 5...12,
            ]
            guard let range = lengths[prefix] else { return .invalid("\(prefix) is not an EU VAT ID prefix") }
            return range.contains(body.count) ? .formatOnly : .invalid("\(prefix) VAT IDs have \(range.lowerBound)–\(range.upperBound) characters")
        }
    }

    static func luhn(_ digits: [Int]) -> Bool {
        var sum = 0
        for (i, digit) in digits.reversed().enumerated() {
            let d = i % 2 == 1 ? digit * 2 : digit
            sum += d > 9 ? d - 9 : d
        }
        return sum % 10 == 0
    }

    static func weightedSum(_ digits: [Int], _ weights: [Int]) -> Int { zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 } }

    static func weighted(_ digits: [Int], _ weights: [Int], modulo: Int) -> Int { weightedSum(digits, weights) % modulo }
}
