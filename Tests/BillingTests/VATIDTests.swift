import BillingTax
import Foundation
import Shared
import Testing

/// VAT IDs judged by an outside implementation: python-stdnum (`make test` installs it in Tests/.venv).
@Suite struct VATIDTests {
    static let python = ProcessInfo.processInfo.environment["OMS_TEST_PYTHON"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path

    static func stdnum(_ ids: [String]) throws -> [Bool] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import sys, json\nfrom stdnum.eu import vat\nprint(json.dumps([vat.is_valid(l.strip()) for l in sys.stdin if l.strip()]))"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(ids.joined(separator: "\n").utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw VATIDJudgeError(description: "python-stdnum failed; run `make test-tools`") }
        return (try JSONParser.parse(Array(data)).arrayValue ?? []).map { $0.boolValue ?? false }
    }

    struct VATIDJudgeError: Error, CustomStringConvertible { let description: String }

    @Test func publishedExamples() {
        for id in ["DE136695976", "ATU13585627", "FR40303265045", "NL004495445B01", "IT00743110157", "BE0403019261", "PL8567346215"] {
            #expect(VATID.check(id) == .valid, "\(id)")
        }
        #expect(VATID.check("DE136695977") != .valid)
        #expect(VATID.check("ESA28015865") == .formatOnly, "Spain's checksum is not implemented: never valid offline")
        #expect(VATID.check("US123456789") != .valid)
        #expect(VATID.check("DE 136 695 976") == .valid)
        #expect(VATID.check("") != .valid)
    }

    /// Random candidates per state with a checksum, each also with its last digit made right by our check:
    /// python-stdnum must agree on every one (valid and invalid).
    @Test func agreesWithPythonStdnum() throws {
        var random = SplitMix64(seed: 20_261_202)
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(Int.random(in: 0...9, using: &random))) }) }
        var ids: [String] = []
        for _ in 0..<60 {
            let candidates = ["DE" + digits(9), "ATU" + digits(8), "FR" + digits(2) + digits(9), "NL" + digits(9) + "B" + digits(2),
                              "IT" + digits(11), "BE0" + digits(9), "PL" + digits(10), "DK" + digits(8), "FI" + digits(8), "LU" + digits(8),
                              "SE" + digits(10) + "01", "PT" + digits(9), "SI" + String(Int.random(in: 1...9, using: &random)) + digits(7), "EL" + digits(9)]
            for candidate in candidates {
                ids.append(candidate)
                // The same with the last digit (or digits) that our check accepts, if any.
                let stem = String(candidate.dropLast())
                if let fixed = (0...9).map({ stem + String($0) }).first(where: { VATID.check($0) == .valid }) { ids.append(fixed) }
            }
        }
        let theirs = try Self.stdnum(ids)
        #expect(theirs.count == ids.count)
        var disagreements: [String] = []
        for (id, valid) in zip(ids, theirs) where (VATID.check(id) == .valid) != valid {
            disagreements.append("\(id): ours \(VATID.check(id)), stdnum \(valid)")
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
        #expect(ids.filter { VATID.check($0) == .valid }.count > 300, "enough valid numbers were checked")
    }
}
