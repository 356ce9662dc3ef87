/// Code 128 symbols as bar/space widths, for drawing barcodes in our own PDFs
/// (the ZPL printer draws its own). GS1-128 = Code 128 with FNC1 after the start.
public enum Code128 {
    /// Module widths (bar, space, bar, space, bar, space) of values 0…105; 106 is the stop (7 elements).
    static let patterns: [String] = [
        "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
        "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
        "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
        "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
        "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
        "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
        "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
        "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
        "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
        "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
        "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
    ]
    static let startB = 104, startC = 105, codeB = 100, codeC = 99, fnc1 = 102, stop = 106

    public struct EncodingError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Widths of bars and spaces, alternating, starting with a bar (quiet zones not included).
    /// Digit pairs go in subset C, other printable ASCII in subset B; `gs1` puts FNC1 first.
    public static func widths(_ data: String, gs1: Bool = false) throws(EncodingError) -> [Int] {
        let bytes = Array(data.utf8)
        guard !bytes.isEmpty, bytes.count <= 80 else { throw EncodingError(description: "Code 128 data must be 1 to 80 characters") }
        guard bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else { throw EncodingError(description: "Code 128 data must be printable ASCII") }
        func isDigit(_ i: Int) -> Bool { i < bytes.count && (0x30...0x39).contains(bytes[i]) }
        func digitRun(_ i: Int) -> Int { var n = 0; while isDigit(i + n) { n += 1 }; return n }
        var values: [Int] = []
        var subsetC = digitRun(0) >= 4 || (digitRun(0) == bytes.count && bytes.count % 2 == 0)
        values.append(subsetC ? startC : startB)
        if gs1 { values.append(fnc1) }
        var i = 0
        while i < bytes.count {
            if subsetC {
                if digitRun(i) >= 2 {
                    values.append(Int(bytes[i] - 0x30) * 10 + Int(bytes[i + 1] - 0x30))
                    i += 2
                    continue
                }
                values.append(codeB)
                subsetC = false
            }
            let run = digitRun(i)
            if run >= 4 && (run % 2 == 0 || i + run == bytes.count) && run % 2 == 0 {
                values.append(codeC)
                subsetC = true
                continue
            }
            values.append(Int(bytes[i]) - 0x20)
            i += 1
        }
        var checksum = values[0]
        for (position, value) in values.enumerated().dropFirst() { checksum += position * value }
        values.append(checksum % 103)
        values.append(stop)
        return values.flatMap { patterns[$0].map { Int(String($0)) ?? 1 } }
    }
}
