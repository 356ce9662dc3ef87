/// RMA numbers people read out on the phone: prefix, a dash, the return's serial in Crockford's base 32 (no I, L,
/// O or U) padded to six symbols, and a Luhn mod 32 check symbol that catches every single mistyped symbol and
/// every swap of two neighbours: "R-00004K7".
public struct RMANumber: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public var description: String { text }

    public init(prefix: String, serial: Int64) {
        var digits: [Character] = []
        var value = UInt64(max(serial, 0))
        repeat {
            digits.append(Self.alphabet[Int(value % 32)])
            value /= 32
        } while value > 0
        while digits.count < 6 { digits.append("0") }
        let body = String(digits.reversed())
        text = "\(prefix)-\(body)\(Self.checkSymbol(body))"
    }

    /// Reads what a person typed: case, spaces and the look-alikes O→0, I/L→1 forgiven; nil when the check symbol does not match.
    public init?(parsing input: String, prefix: String) {
        let cleaned = input.uppercased().filter { !$0.isWhitespace }
        guard cleaned.hasPrefix(prefix + "-") else { return nil }
        let rest = cleaned.dropFirst(prefix.count + 1).map { c -> Character in
            switch c {
            case "O": return "0"
            case "I", "L": return "1"
            default: return c
            }
        }
        guard rest.count >= 7, rest.count <= 14, rest.allSatisfy(Self.alphabet.contains) else { return nil }
        let body = String(rest.dropLast())
        guard let last = rest.last, Self.checkSymbol(body) == last else { return nil }
        text = "\(prefix)-\(String(rest))"
    }

    /// Luhn mod N (N = 32) over the body's symbols.
    static func checkSymbol(_ body: String) -> Character {
        var factor = 2
        var sum = 0
        for symbol in body.reversed() {
            let code = alphabet.firstIndex(of: symbol) ?? 0
            var addend = factor * code
            factor = factor == 2 ? 1 : 2
            addend = addend / 32 + addend % 32
            sum += addend
        }
        return alphabet[(32 - sum % 32) % 32]
    }
}
