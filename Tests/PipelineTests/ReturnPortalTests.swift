import Foundation
import Shared
import Testing

/// The return portal in a real headless browser (Debian's chromium + chromedriver, PyPI selenium) with axe-core on
/// every page, plus the hostile cases over HTTP; real oms-returns, PostgreSQL and broker behind it.
@Suite("Return portal in a browser", .serialized)
struct ReturnPortalTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/portal_browser.py").path
    static let artefacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".test-artefacts/portal").path

    @Test("lookup (uniform refusal), the whole flow in German and English with a photo, RMA and label; hostile uploads, CSRF, rate limits")
    func portal() throws {
        let rig = try PipelineRig(partitions: 1)
        let (database, producer) = (rig.database, rig.producer)
        let port = try TestPostgresCluster.freePort()
        let uploads = NSTemporaryDirectory() + "oms-uploads-\(UUID().uuidString.prefix(8))"
        let returns = try rig.start("oms-returns", name: "returns-portal", [
            "OMS_RETURNS_PORTAL_PORT": String(port), "OMS_RETURNS_PORTAL_SECRET": "test-secret-0123456789abcdef0123456789",
            "OMS_RETURNS_UPLOAD_DIR": uploads, "OMS_RETURNS_PORTAL_SECURE_COOKIES": "false",
        ])
        defer { _ = returns.terminate(waitSeconds: 5) }
        try producer.publish([
            RouterFixtures.product("TENT-2P", ["name": "Zelt Gipfel 2P"]), RouterFixtures.product("STOVE-GAS", ["name": "Gaskocher"]),
            ReturnsFlowTests.accepted("BB-7001", lines: [("TENT-2P", 2, 19_990), ("STOVE-GAS", 3, 2_995)], email: "lena@example.org"),
            ReturnsFlowTests.shipped("FO-7001", order: "BB-7001", [("1", "TENT-2P", 2), ("2", "STOVE-GAS", 3)]),
        ])
        try eventually(timeout: 30, "replicas") {
            try database.query("SELECT count(*) AS n FROM returns.shipments").first!.decode("n", as: Int.self) == 1
                && (try database.query("SELECT count(*) AS n FROM returns.products").first!.decode("n", as: Int.self)) == 2
        }
        try? FileManager.default.removeItem(atPath: Self.artefacts)
        let input = JSONValue.object([
            "base": .string("http://127.0.0.1:\(port)"), "order": "BB-7001", "email": "lena@example.org", "postalCode": "80331",
            "artefacts": .string(Self.artefacts), "uploads": .string(uploads),
        ]).serializedString
        let run = try runProgram(EInvoiceJudge.python, [Self.script, input], separateErrors: true)
        guard run.status == 0 else { throw TestSetupError("portal browser script failed; run `make test-tools`: \(run.output.suffix(1500))") }
        let seen = try JSONParser.parse(Array(run.output.utf8))

        // Every page passes axe-core without a serious or critical violation.
        let pages = seen["axe"]?.arrayValue ?? []
        #expect(pages.count == 8, "\(pages)")
        for page in pages { #expect(page["serious"]?.arrayValue?.isEmpty == true, "\(page)") }

        for (language, texts) in [("de", ("Wir haben keine Bestellung mit diesen Angaben gefunden", "Ihre Rücksendung ist angemeldet")),
                                  ("en", ("We could not find an order with these details", "Your return is registered"))] {
            let flow = try #require(seen[language], "\(seen)")
            #expect(flow["htmlLang"]?.stringValue == language)
            // A wrong pair and an unknown order get the same answer.
            #expect(flow["wrongPair"]?.stringValue?.hasPrefix(texts.0) == true, "\(flow)")
            #expect(flow["wrongPair"] == flow["unknownOrder"])
            #expect(flow["orderURL"]?.stringValue?.hasSuffix("/order") == true, "\(flow)")
            let rma = try #require(flow["rma"]?.stringValue, "\(flow)")
            #expect(rma.hasPrefix("R-"))
            #expect(flow["status"]?.stringValue?.contains(texts.1) == true, "\(flow)")
            #expect(flow["cookie"]?.arrayValue?.first?["httpOnly"]?.boolValue == true)
            #expect(flow["cookie"]?.arrayValue?.first?["sameSite"]?.stringValue == "Strict")
            // The label downloaded and read back.
            let label = try #require(flow["label"], "\(flow)")
            #expect(label["status"]?.int64Value == 200 && label["type"]?.stringValue == "application/pdf")
            let path = try #require(label["path"]?.stringValue)
            #expect(try runProgram("/usr/bin/qpdf", ["--check", path]).status == 0)
            let text = try runProgram("/usr/bin/pdftotext", ["-layout", path, "-"]).output
            #expect(text.contains(rma) && text.contains("Retourenannahme") && text.contains("Lena Müller"), "\(text)")
            let stored: String? = try database.query("SELECT status FROM returns.returns WHERE rma = \(rma)").first?.decode("status")
            #expect(stored == "authorized")
        }
        // One photo per flow, stored without its GPS block, under generated names outside any served path.
        let stored = seen["stored"]?.arrayValue ?? []
        #expect(stored.count == 2, "\(stored)")
        for photo in stored {
            #expect(photo["format"]?.stringValue == "JPEG" && photo["gps"]?.int64Value == 0, "\(photo)")
            #expect(photo["name"]?.stringValue?.range(of: "^[0-9a-f]{32}\\.jpg$", options: .regularExpression) != nil, "\(photo)")
        }
        let photos = try database.query("SELECT count(*) AS n, bool_and('EXIF' = ANY(removed)) AS gone FROM returns.photos").first!
        #expect(try photos.decode("n", as: Int.self) == 2)
        #expect(try photos.decode("gone", as: Bool.self))

        // Hostile uploads: refused with a clear message, nothing stored (still the two photos above).
        let hostile = seen["hostile"]
        // (These requests send no language cookie: the German default answers.)
        let notAPhoto = "nur JPEG-, PNG- und WebP-Fotos werden angenommen. Es wurde nichts gespeichert."
        for (name, message) in [("script-as-jpg", notAPhoto), ("svg-with-script", notAPhoto),
                                ("over-10-mib", "die Datei ist größer als 10 MiB"), ("passwd-name", notAPhoto)] {
            #expect(hostile?[name]?["status"]?.int64Value == 422, "\(name): \(String(describing: hostile?[name]))")
            #expect(hostile?[name]?["message"]?.stringValue?.contains(message) == true, "\(name): \(String(describing: hostile?[name]))")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: uploads).count == 2)
        #expect(!FileManager.default.fileExists(atPath: uploads + "/../../etc/passwd.jpg"))

        // CSRF: forms without the token are refused; a double submit is one return.
        #expect(seen["noToken"]?.int64Value == 403)
        #expect(seen["lookupNoToken"]?.int64Value == 403)
        let double = seen["doubleSubmit"]?.arrayValue ?? []
        #expect(double.count == 4 && double[0] == double[2] && double[1] == double[3] && double[0].int64Value == 303, "\(double)")
        try eventually(timeout: 20, "the double submit decided") {
            try database.query("SELECT count(*) AS n FROM returns.returns").first!.decode("n", as: Int.self) == 3
        }
        // Rate limits: the 11th lookup of a client in a minute, the 21st of an order in an hour.
        let perClient = seen["perClient"]?.arrayValue?.compactMap(\.int64Value) ?? []
        #expect(perClient == Array(repeating: 200, count: 10) + [429], "\(perClient)")
        let perOrder = seen["perOrder"]?.arrayValue?.compactMap(\.int64Value) ?? []
        #expect(perOrder == Array(repeating: 200, count: 20) + [429], "\(perOrder)")
        // Screenshots of each step are kept as artefacts.
        let shots = try FileManager.default.contentsOfDirectory(atPath: Self.artefacts).filter { $0.hasSuffix(".png") }
        #expect(shots.count >= 10, "\(shots)")
    }
}
