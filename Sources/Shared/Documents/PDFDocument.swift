import Foundation

/// The one PDF writer of the OMS (labels, pick lists, delivery notes, invoices):
/// pages of text in the standard Helvetica fonts, lines, boxes and Code 128
/// barcodes, written as an uncompressed PDF 1.4 with a correct cross-reference
/// table (`qpdf --check` is its judge in the tests). Coordinates are points from
/// the top-left corner. Text is encoded as WinAnsi (Latin-1 plus €, „ “ – —):
/// German and most Western European text prints as is; a character outside it
/// prints as "?", never as broken bytes.
public struct PDFDocument: Sendable {
    public static let a4 = (width: 595.28, height: 841.89)
    /// 4×6 inch, the usual thermal label.
    public static let label4x6 = (width: 288.0, height: 432.0)

    struct Page: Sendable {
        let width: Double
        let height: Double
        var content: String = ""
    }

    private var pages: [Page] = []
    public let title: String

    public init(title: String) {
        self.title = title
    }

    public mutating func newPage(width: Double = PDFDocument.a4.width, height: Double = PDFDocument.a4.height) {
        pages.append(Page(width: width, height: height))
    }

    public var pageCount: Int { pages.count }

    private mutating func draw(_ operators: String) {
        if pages.isEmpty { newPage() }
        pages[pages.count - 1].content += operators + "\n"
    }

    private var height: Double { pages.last?.height ?? Self.a4.height }

    /// One line of text; `maxCharacters` cuts what would not fit (with "…").
    public mutating func text(_ value: String, x: Double, y: Double, size: Double = 10, bold: Bool = false, maxCharacters: Int = 200) {
        let shown = value.count > maxCharacters ? String(value.prefix(max(0, maxCharacters - 1))) + "…" : value
        draw("BT /\(bold ? "F2" : "F1") \(number(size)) Tf \(number(x)) \(number(height - y - size)) Td (\(Self.literal(shown))) Tj ET")
    }

    /// Text wrapped at word boundaries to about `width` points; returns the y below the last line.
    @discardableResult
    public mutating func paragraph(_ value: String, x: Double, y: Double, width: Double, size: Double = 10, bold: Bool = false, maxLines: Int = 40) -> Double {
        let perLine = max(10, Int(width / (size * 0.5)))
        var lines: [String] = [], current = ""
        for word in value.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if current.isEmpty { current = String(word) } else if current.count + 1 + word.count <= perLine { current += " " + word } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        var cursor = y
        for line in lines.prefix(maxLines) {
            text(line, x: x, y: cursor, size: size, bold: bold, maxCharacters: perLine + 10)
            cursor += size * 1.3
        }
        return cursor
    }

    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, width: Double = 0.8) {
        draw("\(number(width)) w \(number(x1)) \(number(height - y1)) m \(number(x2)) \(number(height - y2)) l S")
    }

    public mutating func box(x: Double, y: Double, width: Double, height boxHeight: Double, lineWidth: Double = 0.8, filled: Bool = false) {
        draw("\(number(lineWidth)) w \(number(x)) \(number(height - y - boxHeight)) \(number(width)) \(number(boxHeight)) re \(filled ? "f" : "S")")
    }

    /// A Code 128 barcode of `widths` (from `Code128.widths`), bars `module` points wide per unit.
    public mutating func barcode(_ widths: [Int], x: Double, y: Double, module: Double, height barHeight: Double) {
        var cursor = x, ops = ""
        for (index, width) in widths.enumerated() {
            let w = Double(width) * module
            if index % 2 == 0 { ops += "\(number(cursor)) \(number(height - y - barHeight)) \(number(w)) \(number(barHeight)) re " }
            cursor += w
        }
        draw(ops + "f")
    }

    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        var offsets: [Int] = []
        func object(_ body: String) {
            offsets.append(out.count)
            out += Array("\(offsets.count) 0 obj\n".utf8) + Array(body.utf8) + Array("\nendobj\n".utf8)
        }
        out += Array("%PDF-1.4\n%".utf8) + [0xE2, 0xE3, 0xCF, 0xD3] + [0x0A]
        let pages = self.pages.isEmpty ? [Page(width: Self.a4.width, height: Self.a4.height)] : self.pages
        // 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, 5 info, then page + content per page.
        let kids = pages.indices.map { "\(6 + 2 * $0) 0 R" }.joined(separator: " ")
        object("<< /Type /Catalog /Pages 2 0 R >>")
        object("<< /Type /Pages /Kids [\(kids)] /Count \(pages.count) >>")
        object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
        object("<< /Title (\(Self.literal(title))) /Producer (oms) >>")
        for (index, page) in pages.enumerated() {
            object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 \(number(page.width)) \(number(page.height))] "
                   + "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents \(7 + 2 * index) 0 R >>")
            let content = Array(page.content.utf8)
            offsets.append(out.count)
            out += Array("\(offsets.count) 0 obj\n<< /Length \(content.count) >>\nstream\n".utf8) + content + Array("\nendstream\nendobj\n".utf8)
        }
        let xref = out.count
        var table = "xref\n0 \(offsets.count + 1)\n0000000000 65535 f \n"
        for offset in offsets {
            let digits = String(offset)
            table += String(repeating: "0", count: max(0, 10 - digits.count)) + digits + " 00000 n \n"
        }
        table += "trailer\n<< /Size \(offsets.count + 1) /Root 1 0 R /Info 5 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        out += Array(table.utf8)
        return out
    }

    /// A PDF string literal in WinAnsi: bytes outside ASCII as octal escapes, so the content stream stays ASCII.
    static func literal(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            let byte = winAnsi(scalar)
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"): out += "\\" + String(UnicodeScalar(byte))
            case 0x20...0x7E: out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let octal = String(byte, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            }
        }
        return out
    }

    static let winAnsiExtras: [UInt32: UInt8] = [
        0x20AC: 0x80, 0x201A: 0x82, 0x0192: 0x83, 0x201E: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87, 0x02C6: 0x88,
        0x2030: 0x89, 0x0160: 0x8A, 0x2039: 0x8B, 0x0152: 0x8C, 0x017D: 0x8E, 0x2018: 0x91, 0x2019: 0x92, 0x201C: 0x93,
        0x201D: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02DC: 0x98, 0x2122: 0x99, 0x0161: 0x9A, 0x203A: 0x9B,
        0x0153: 0x9C, 0x017E: 0x9E, 0x0178: 0x9F,
    ]

    static func winAnsi(_ scalar: Unicode.Scalar) -> UInt8 {
        let v = scalar.value
        if v == 0x09 || v == 0x0A || v == 0x0D { return 0x20 }
        if (0x20...0x7E).contains(v) || (0xA0...0xFF).contains(v) { return UInt8(v) }
        return winAnsiExtras[v] ?? UInt8(ascii: "?")
    }

    private func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.2f", rounded)
    }
}
