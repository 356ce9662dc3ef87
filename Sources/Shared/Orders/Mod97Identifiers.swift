/// The Leitweg-ID of a German public buyer (KoSIT "Formatspezifikation Leitweg-ID"): coarse address (2–12 digits),
/// optional fine address (up to 30 letters or digits), two check digits after ISO/IEC 7064 MOD 97-10 over the rest
/// (letters count as 10…35, as in an IBAN). An invoice to such a buyer is an XRechnung with it as buyer reference (BT-10).
public enum LeitwegID {
    public static let maximumLength = 46

    /// Why `text` is no Leitweg-ID, or nil when it is one.
    public static func problem(_ text: String) -> String? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count <= maximumLength, parts.count == 2 || parts.count == 3 else {
            return "a Leitweg-ID is coarse address, optional fine address and check digits joined by \"-\""
        }
        let coarse = parts[0], check = parts[parts.count - 1], fine = parts.count == 3 ? parts[1] : ""
        guard (2...12).contains(coarse.utf8.count), coarse.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return "its coarse address must be 2 to 12 digits"
        }
        guard parts.count == 2 || (1...30).contains(fine.utf8.count), fine.utf8.allSatisfy(isAlphanumeric) else {
            return "its fine address must be 1 to 30 letters or digits"
        }
        guard check.utf8.count == 2, check.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let given = Int(check) else {
            return "it must end in two check digits"
        }
        let expected = 98 - (Mod97.remainder((coarse + fine).utf8) * 100) % 97
        return given == expected ? nil : "its check digits are \(check), but \(String(format: "%02d", expected)) follow from the rest (ISO/IEC 7064 MOD 97-10)"
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool { (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) }
}

/// An IBAN (ISO 13616): country, two check digits, the account; valid when the rearranged number is 1 modulo 97.
public enum IBAN {
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (15...34).contains(bytes.count), bytes[0...1].allSatisfy({ (65...90).contains($0) }), bytes[2...3].allSatisfy({ (48...57).contains($0) }),
              bytes.allSatisfy(LeitwegID.isAlphanumeric) else { return false }
        return Mod97.remainder(bytes[4...] + bytes[0...3]) == 1
    }
}

/// ISO/IEC 7064 MOD 97-10 over letters and digits (letters count as 10…35, i.e. two digits), digit by digit so that no
/// number grows large.
enum Mod97 {
    static func remainder<Bytes: Sequence>(_ bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        var remainder = 0
        for byte in bytes {
            let value: Int
            switch byte {
            case 48...57: value = Int(byte) - 48
            case 65...90: value = Int(byte) - 55
            case 97...122: value = Int(byte) - 87
            default: value = 0
            }
            remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97
        }
        return remainder
    }
}
