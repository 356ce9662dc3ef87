import Foundation
import FulfillmentCore
import Shared
import Testing

/// Labels and documents judged by outside tools: zplkit (ZPL renderer), zxing-cpp (barcode decoder),
/// qpdf --check and pdftotext (poppler). `make test` installs them (Tests/.venv, apt).
@Suite struct LabelJudgeTests {
    static let python = ProcessInfo.processInfo.environment["OMS_TEST_PYTHON"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path
    static let judge = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/label_judge.py").path

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func write(_ bytes: [UInt8], suffix: String) throws -> String {
        let path = NSTemporaryDirectory() + "oms-label-\(UUID().uuidString.prefix(8)).\(suffix)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func judged(_ kind: String, _ path: String) throws -> JSONValue {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestSetupError("no Python with zplkit and zxing-cpp at \(python); run `make test-tools`")
        }
        let result = try run(python, [judge, kind, path])
        guard result.status == 0 else { throw TestSetupError("label judge failed: \(result.output)") }
        return try JSONParser.parse(Array(result.output.utf8))
    }

    let sender = PostalAddress(name: "Berg&Beutel Lager A", street: "Industriestraße 12", postalCode: "36251", city: "Bad Hersfeld", country: "DE")
    let hostile = "Alles Gute ^XZ~JR_x"

    /// zplkit's fonts have no umlauts: the rendered label is ASCII throughout, umlauts are checked byte-wise.
    let asciiSender = PostalAddress(name: "Berg+Beutel Lager A", street: "Industriestrasse 12", postalCode: "36251", city: "Bad Hersfeld", country: "DE")

    func label(name: String, note: String?, ascii: Bool = false) throws -> ShippingLabel {
        ShippingLabel(sscc: try SSCC(extensionDigit: 3, companyPrefix: "7613032", serial: 110_910_342), carrierService: "DHL-PAKET",
                      sender: ascii ? asciiSender : sender,
                      recipient: PostalAddress(name: name, street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zurich", country: "CH"),
                      parcelNumber: 1, parcelCount: 2, weightGrams: 3_250, orderID: "BB-100001", fulfillmentOrderID: "FO-BB-100001-A",
                      dangerousGoodsClass: "2.1", customsDeclaration: true, note: note)
    }

    @Test func hostileGiftMessagePrintsLiterallyAndTheBarcodeIsTheSSCC() throws {
        let zpl = ZPL.label(try label(name: "Anna Berg", note: hostile, ascii: true))
        // The label is one ^XA…^XZ: the message's ^XZ did not end it, its ~JR is no command.
        #expect(zpl.components(separatedBy: "^XZ").count == 2)
        #expect(!zpl.contains("~JR"))
        let result = try Self.judged("zpl", try Self.write(Array(zpl.utf8), suffix: "zpl"))
        #expect(result["renderError"] == nil, "\(result["renderError"]?.stringValue ?? "")")
        #expect(result["labels"]?.int64Value == 1)
        let fields = result["fields"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(fields.contains(hostile), "fields: \(fields)")
        #expect(fields.contains("Anna Berg"))
        #expect(fields.contains("(00) 376130321109103420"))
        let codes = result["barcodes"]?.arrayValue ?? []
        #expect(codes.count == 1)
        // GS1-128: symbology ]C1 (FNC1 in first position), AI 00 and the 18 digits.
        #expect(codes.first?["symbology"]?.stringValue == "]C1")
        #expect(codes.first?["gs1"]?.boolValue == true)
        #expect(codes.first?["text"]?.stringValue.map { $0.filter(\.isNumber) } == "00376130321109103420")
        // Only the commands we wrote: nothing from the message became a command.
        let commands = Set(result["commands"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(commands.isSubset(of: ["^XA", "^CI", "^PW", "^LL", "^LH", "^FO", "^A0", "^FH", "^FD", "^FS", "^GB", "^BY", "^BC", "^XZ"]), "\(commands)")
    }

    @Test func umlautsTravelAsUTF8BytesUnderFH() throws {
        let name = "Jürgen Größer-Bärlauch"
        let zpl = ZPL.label(try label(name: name, note: "Frohe Weihnachten — für Oma ♥"))
        #expect(zpl.utf8.allSatisfy { $0 < 0x80 }, "the ZPL itself is ASCII; every other byte is _XX")
        #expect(zpl.contains("J_C3_BCrgen Gr_C3_B6_C3_9Fer-B_C3_A4rlauch"))
        let result = try Self.judged("zpl", try Self.write(Array(zpl.utf8), suffix: "zpl"))
        let fields = result["fields"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(fields.contains(name))
        #expect(fields.contains("Frohe Weihnachten — für Oma ♥"))
    }

    @Test func labelPDFPassesQpdfAndReadsBack() throws {
        let path = try Self.write(FulfillmentDocuments.labelPDF(try label(name: "Jürgen Größer", note: hostile)), suffix: "pdf")
        let check = try Self.run("/usr/bin/qpdf", ["--check", path])
        #expect(check.status == 0, "\(check.output)")
        let text = try Self.run("/usr/bin/pdftotext", ["-layout", path, "-"])
        #expect(text.output.contains("Jürgen Größer"))
        #expect(text.output.contains(hostile))
        #expect(text.output.contains("(00) 376130321109103420"))
        // The PDF's own barcode, rasterized by poppler and decoded by zxing.
        let image = path + "-page"
        _ = try Self.run("/usr/bin/pdftoppm", ["-gray", "-r", "300", "-singlefile", path, image])
        let pgm = image + ".pgm"
        let decoded = try Self.judged("pgm", pgm)
        let codes = decoded["barcodes"]?.arrayValue ?? []
        #expect(codes.first?["symbology"]?.stringValue == "]C1", "\(decoded)")
        #expect(codes.first?["text"]?.stringValue.map { $0.filter(\.isNumber) } == "00376130321109103420")
    }

    @Test func deliveryNoteWithoutPricesForGiftsAndPickListPDF() throws {
        let note = ShipmentPlanner.DeliveryNote(showPrices: false, giftWrap: true, giftMessage: hostile, currency: "EUR", lines: [
            .init(lineID: "1", sku: "TENT-2P", name: "Zelt „Gipfel“ 2P", quantity: 1, unitPrice: nil,
                  personalization: ["engraving": "Für Lena ♥ 2026"]),
        ])
        let header = FulfillmentDocuments.NoteHeader(title: "Lieferschein", sender: sender,
                                                     recipient: PostalAddress(name: "Lena Müller", street: "Hauptstr. 5", postalCode: "80331", city: "München", country: "DE"),
                                                     orderID: "BB-1", fulfillmentOrderID: "FO-1", ssccs: ["340123450000000019"])
        let path = try Self.write(FulfillmentDocuments.deliveryNotePDF(header, note: note), suffix: "pdf")
        #expect(try Self.run("/usr/bin/qpdf", ["--check", path]).status == 0)
        let text = try Self.run("/usr/bin/pdftotext", ["-layout", path, "-"]).output
        #expect(text.contains("Lena Müller"))
        #expect(text.contains("Zelt „Gipfel“ 2P"))
        #expect(text.contains("engraving: Für Lena ? 2026"), "♥ is outside WinAnsi and prints as ?: \(text)")
        #expect(text.contains(hostile))
        #expect(!text.contains("EUR"), "a gift's delivery note shows no prices")
        let list = try Self.write(FulfillmentDocuments.pickListPDF(waveID: "W-A-1", warehouseID: "A", method: "optimal", lengthDm: 1234, binOrderDm: 2000,
                                                                   stops: [.init(sequence: 1, bin: "01-04-3", sku: "LAMP-HEAD", quantity: 2, fulfillmentOrderID: "FO-1")]),
                                   suffix: "pdf")
        #expect(try Self.run("/usr/bin/qpdf", ["--check", list]).status == 0)
        #expect(try Self.run("/usr/bin/pdftotext", ["-layout", list, "-"]).output.contains("01-04-3"))
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
