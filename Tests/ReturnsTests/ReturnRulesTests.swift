import FulfillmentCore
import Foundation
import ReturnsCore
import Shared
import Testing

/// The shipped configuration, as the worker loads it.
func shippedReturnRules() throws -> ReturnRules {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config").path
    return try ReturnRules.load(directory: directory).versions[0].rules
}

func day(_ text: String) -> Date { EventTime.parse(text) }

func order(customerType: String = "b2c", lines: [ReturnPolicy.OrderLine], shipped: [String: Int64]? = nil, returned: [String: Int64] = [:],
           deliveredAt: String? = "2026-11-02T10:00:00Z", orderDiscount: Int64 = 0) -> ReturnPolicy.Order {
    ReturnPolicy.Order(orderID: "BB-1", customerType: customerType, currency: "EUR", lines: lines, orderDiscount: orderDiscount,
                       shipped: shipped ?? Dictionary(uniqueKeysWithValues: lines.map { ($0.lineID, $0.quantity) }), returned: returned,
                       lastShippedAt: day("2026-10-31T08:00:00Z"), lastDeliveredAt: deliveredAt.map(day))
}

let tent = ReturnPolicy.OrderLine(lineID: "1", sku: "TENT-2P", quantity: 1, unitPrice: 19990, discount: 0, personalized: false)
let stoves = ReturnPolicy.OrderLine(lineID: "2", sku: "STOVE-GAS", quantity: 2, unitPrice: 2995, discount: 0, personalized: false)

@Suite("The return rule")
struct ReturnPolicyTests {
    let rules: ReturnRules
    init() throws { rules = try shippedReturnRules() }

    @Test("the window runs 30 days from delivery to the end of the last day in Berlin; a second later it is closed")
    func windowEdge() throws {
        let o = order(lines: [tent])
        // Delivered 2 Nov (Berlin): day 30 is 2 Dec, so the window ends 2 Dec 23:59:59 CET = 22:59:59Z.
        #expect(ReturnPolicy.windowEnd(o, rules: rules) == day("2026-12-02T22:59:59Z"))
        let inside = ReturnPolicy.decide([.init(lineID: "1", quantity: 1, reason: "changed-mind")], order: o, products: [:], rules: rules,
                                         now: day("2026-12-02T22:59:59Z"))
        #expect(inside == .authorize)
        let outside = ReturnPolicy.decide([.init(lineID: "1", quantity: 1, reason: "changed-mind")], order: o, products: [:], rules: rules,
                                          now: day("2026-12-02T23:00:00Z"))
        guard case .reject(let refusals) = outside else { Issue.record("expected a refusal, got \(outside)"); return }
        #expect(refusals.map(\.code) == ["window-closed"])
        #expect(refusals[0].english == "The return period ended on 2026-12-02.")
    }

    @Test("without a delivery scan the window starts after the assumed transit days")
    func assumedTransit() {
        let o = order(lines: [tent], deliveredAt: nil)
        // Shipped 31 Oct + 3 days = 3 Nov; + 30 days = 3 Dec, end of day in Berlin.
        #expect(ReturnPolicy.windowEnd(o, rules: rules) == day("2026-12-03T22:59:59Z"))
    }

    @Test("personalized lines, non-returnable products and hygiene articles are refused with their reason")
    func nonReturnable() {
        let engraved = ReturnPolicy.OrderLine(lineID: "3", sku: "KNIFE", quantity: 1, unitPrice: 4990, discount: 0, personalized: true)
        let socks = ReturnPolicy.OrderLine(lineID: "4", sku: "SOCKS", quantity: 1, unitPrice: 990, discount: 0, personalized: false)
        let gift = ReturnPolicy.OrderLine(lineID: "5", sku: "GIFTCARD", quantity: 1, unitPrice: 2500, discount: 0, personalized: false)
        let o = order(lines: [tent, engraved, socks, gift])
        let products: [String: ReturnPolicy.Product] = [
            "SOCKS": .init(name: "Socken", returnable: true, category: "hygiene", dropShipSupplier: nil),
            "GIFTCARD": .init(name: "Gutschein", returnable: false, category: nil, dropShipSupplier: nil),
        ]
        let listed = ReturnPolicy.returnable(o, products: products, rules: rules, now: day("2026-11-10T12:00:00Z"))
        #expect(listed.map(\.units) == [1, 0, 0, 0])
        #expect(listed.map { $0.refusal?.code } == [nil, "personalized", "category-hygiene", "not-returnable"])
        let decision = ReturnPolicy.decide([.init(lineID: "1", quantity: 1, reason: "changed-mind"), .init(lineID: "3", quantity: 1, reason: "changed-mind")],
                                           order: o, products: products, rules: rules, now: day("2026-11-10T12:00:00Z"))
        guard case .reject(let refusals) = decision else { Issue.record("expected a refusal"); return }
        #expect(refusals.map(\.code) == ["personalized"])
        #expect(refusals[0].german == "Personalisierte Artikel sind von der Rückgabe ausgeschlossen.")
    }

    @Test("units already returned or never shipped cannot be asked back again")
    func alreadyReturned() {
        let o = order(lines: [tent, stoves], shipped: ["1": 1, "2": 1], returned: ["2": 1])
        let now = day("2026-11-10T12:00:00Z")
        let listed = ReturnPolicy.returnable(o, products: [:], rules: rules, now: now)
        #expect(listed.map(\.units) == [1, 0])
        #expect(listed[1].refusal?.code == "already-returned")
        let more = ReturnPolicy.decide([.init(lineID: "1", quantity: 2, reason: "wrong-size")], order: o, products: [:], rules: rules, now: now)
        guard case .reject(let refusals) = more else { Issue.record("expected a refusal"); return }
        #expect(refusals.map(\.english) == ["Item 1: 1 unit(s) can be returned, 2 requested."])
        let unshipped = order(lines: [tent], shipped: [:], deliveredAt: nil)
        #expect(ReturnPolicy.returnable(unshipped, products: [:], rules: rules, now: now).first?.refusal?.code == "not-shipped")
    }

    @Test("business returns are held for customer service; the reason 'other' and big amounts too; an unknown reason is refused")
    func holds() {
        let now = day("2026-11-10T12:00:00Z")
        let b2b = ReturnPolicy.decide([.init(lineID: "1", quantity: 1, reason: "changed-mind")], order: order(customerType: "b2b", lines: [tent]),
                                      products: [:], rules: rules, now: now)
        #expect(b2b == .hold(reason: "business customer: returns are checked by customer service"))
        // B2B window is 14 days: delivered 2 Nov, closed after 16 Nov.
        let late = ReturnPolicy.decide([.init(lineID: "1", quantity: 1, reason: "changed-mind")], order: order(customerType: "b2b", lines: [tent]),
                                       products: [:], rules: rules, now: day("2026-11-17T00:00:00Z"))
        guard case .reject(let refusals) = late else { Issue.record("expected a refusal"); return }
        #expect(refusals.map(\.code) == ["window-closed"])
        let other = ReturnPolicy.decide([.init(lineID: "1", quantity: 1, reason: "other")], order: order(lines: [tent]), products: [:], rules: rules, now: now)
        #expect(other == .hold(reason: "reason other is checked by customer service"))
        let expensive = ReturnPolicy.OrderLine(lineID: "9", sku: "BIKE", quantity: 1, unitPrice: 150_001, discount: 0, personalized: false)
        let big = ReturnPolicy.decide([.init(lineID: "9", quantity: 1, reason: "changed-mind")], order: order(lines: [expensive]), products: [:], rules: rules, now: now)
        #expect(big == .hold(reason: "worth 1,500.01 EUR, above the 1,500.00 EUR that is authorized unseen"))
        let unknown = ReturnPolicy.decide([.init(lineID: "1", quantity: 1, reason: "bored")], order: order(lines: [tent]), products: [:], rules: rules, now: now)
        guard case .reject(let r) = unknown else { Issue.record("expected a refusal"); return }
        #expect(r.map(\.code) == ["unknown-reason"])
    }
}

@Suite("The disposition rule")
struct DispositionRuleTests {
    let rules: ReturnRules
    init() throws { rules = try shippedReturnRules() }

    @Test("grade × reason × category × drop-ship decide, first row wins", arguments: [
        ("TENT-2P", "changed-mind", "A", false, ReturnRules.Disposition.restock, "TENT-2P", "as new: sellable again"),
        ("TENT-2P", "changed-mind", "B", false, .refurbish, "TENT-2P-B", "signs of use: B-stock"),
        ("STOVE-GAS", "changed-mind", "B", false, .manualInspection, nil, "signs of use: B-stock: no B-stock SKU configured for STOVE-GAS"),
        ("TENT-2P", "defective", "C", false, .manualInspection, nil, "claimed defect with damage: a technician checks"),
        ("TENT-2P", "changed-mind", "C", false, .scrap, nil, "damaged beyond sale"),
        ("TENT-2P", "changed-mind", "D", false, .scrap, nil, "damaged beyond sale"),
        ("TENT-2P", "changed-mind", "A", true, .returnToSupplier, nil, "drop-ship goes back to its supplier"),
    ] as [(String, String, String, Bool, ReturnRules.Disposition, String?, String)])
    func table(sku: String, reason: String, grade: String, dropShip: Bool, expected: ReturnRules.Disposition, stockSKU: String?, rule: String) {
        let product = ReturnPolicy.Product(name: nil, returnable: true, category: nil, dropShipSupplier: dropShip ? "SUP-1" : nil)
        let decision = DispositionRule.decide(sku: sku, reason: reason, grade: grade, product: product, rules: rules)
        #expect(decision.disposition == expected)
        #expect(decision.stockSKU == stockSKU)
        #expect(decision.rule == rule)
    }

    @Test("a table whose last row has conditions is refused at load")
    func lastRowMustMatchEverything() throws {
        var document = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/returns.json"))))
        guard case .object(var root) = document, case .array(var rows)? = root["dispositions"] else { Issue.record("no table"); return }
        rows.removeLast()
        root["dispositions"] = .array(rows)
        document = .object(root)
        #expect(throws: RuleFileProblem.self) { try ReturnRules.parse(document) }
    }
}

@Suite("The refund rule")
struct RefundRuleTests {
    let rules: ReturnRules
    init() throws { rules = try shippedReturnRules() }

    func ledger(shipping: Int64 = 495, total: Int64, vouchers: Int64 = 0, units: [String: Int64] = [:], before: Int64 = 0) -> RefundRule.Ledger {
        RefundRule.Ledger(shippingCharge: shipping, orderTotal: total, vouchers: vouchers, unitsRefunded: units, refundedBefore: before, shippingRefunded: false)
    }

    @Test("a returned line of a discounted order pays back no more than its share: 10 € off 259.80 € spread over the lines")
    func discountShare() throws {
        // 199.90 + 2 × 29.95 = 259.80 of goods; 10.00 order discount: the tent's share is ⌈10.00 × 199.90 / 259.80⌉ = 7.70.
        let o = order(lines: [tent, stoves], orderDiscount: 1000)
        let refund = try RefundRule.refund([.init(lineID: "1", quantity: 1, grade: "A", reason: "changed-mind")], order: o,
                                           ledger: ledger(total: 25_475), rules: rules)
        #expect(refund.lines.map(\.amount) == [19_220])
        #expect(refund.shipping == 0)
        #expect(refund.total == 19_220)
        // The charged amount Billing caps by is the same rule.
        let share = PaidShare.paid(units: 1, of: .init(lineID: "1", quantity: 1, unitPrice: 19990, discount: 0), orderDiscount: 1000, goodsTotal: 25_980)
        #expect(share == 19_220)
    }

    @Test("grade C halves a changed-mind refund; the shop's fault refunds in full and pays back shipping")
    func grades() throws {
        let o = order(lines: [tent, stoves])
        let c = try RefundRule.refund([.init(lineID: "2", quantity: 1, grade: "C", reason: "changed-mind")], order: o, ledger: ledger(total: 26_475), rules: rules)
        #expect(c.lines.map(\.amount) == [1497])
        #expect(c.lines[0].basis == "grade C: 50% of the price paid")
        #expect(c.shipping == 0)
        let fault = try RefundRule.refund([.init(lineID: "2", quantity: 1, grade: "C", reason: "defective")], order: o, ledger: ledger(total: 26_475), rules: rules)
        #expect(fault.lines.map(\.amount) == [2995])
        #expect(fault.shipping == 495)
        #expect(fault.shippingReason == "the shop was at fault")
    }

    @Test("the whole order coming back pays back the delivery charge once; vouchers get their share back")
    func wholeOrderAndVouchers() throws {
        let o = order(lines: [tent, stoves])
        // 264.75 paid, 50.00 of it with a voucher.
        let first = try RefundRule.refund([.init(lineID: "2", quantity: 2, grade: "A", reason: "changed-mind")], order: o,
                                          ledger: ledger(total: 26_475, vouchers: 5000), rules: rules)
        #expect(first.total == 5990 && first.shipping == 0)
        #expect(first.toVoucher == 1131)  // ⌊59.90 × 50.00 / 264.75⌋
        #expect(first.toPayment == 4859)
        let second = try RefundRule.refund([.init(lineID: "1", quantity: 1, grade: "A", reason: "changed-mind")], order: o,
                                           ledger: ledger(total: 26_475, vouchers: 5000, units: ["2": 2], before: 5990), rules: rules)
        #expect(second.total == 19_990 + 495)
        #expect(second.shippingReason == "the whole order came back")
        // Cumulatively all 50.00 go back to the voucher, to the cent.
        #expect(first.toVoucher + second.toVoucher == 5000)
        #expect(throws: RefundRule.Problem.self) {
            try RefundRule.refund([.init(lineID: "2", quantity: 1, grade: "A", reason: "changed-mind")], order: o,
                                  ledger: ledger(total: 26_475, units: ["2": 2]), rules: rules)
        }
    }
}

@Suite("RMA numbers and photos")
struct RMAAndPhotoTests {
    @Test("an RMA number carries a check symbol that catches a mistyped symbol and a swap; look-alikes are forgiven")
    func rma() {
        let number = RMANumber(prefix: "R", serial: 4711)
        #expect(number.text.hasPrefix("R-0004"))
        #expect(number.text.count == 9)
        #expect(RMANumber(parsing: number.text.lowercased(), prefix: "R") == number)
        #expect(RMANumber(parsing: number.text.replacingOccurrences(of: "0", with: "O"), prefix: "R") == number)
        var body = Array(number.text)
        body[5] = body[5] == "A" ? "B" : "A"
        #expect(RMANumber(parsing: String(body), prefix: "R") == nil)
        var swapped = Array(number.text)
        swapped.swapAt(5, 6)
        if swapped != Array(number.text) { #expect(RMANumber(parsing: String(swapped), prefix: "R") == nil) }
        #expect(Set((1...2000).map { RMANumber(prefix: "R", serial: $0).text }).count == 2000)
    }

    /// A JPEG made of SOI, an APP1 Exif segment holding a GPS tag, a quantisation table, a scan and EOI.
    static let jpegWithGPS: [UInt8] = {
        let exif = Array("Exif".utf8) + [0, 0] + Array("MM".utf8) + [0, 42, 0, 0, 0, 8] + Array("GPSLatitude 52.52 N".utf8)
        let app1 = [0xFF, 0xE1, UInt8((exif.count + 2) >> 8), UInt8((exif.count + 2) & 0xFF)] + exif
        let dqt: [UInt8] = [0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]
        let scan: [UInt8] = [0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0x56, 0xFF, 0xD9]
        return [0xFF, 0xD8] + app1 + dqt + scan
    }()

    @Test("a JPEG keeps its image and loses its EXIF (and with it the GPS position)")
    func stripsGPS() throws {
        let clean = try PhotoScrubber.scrub(Self.jpegWithGPS, maximumBytes: 1_048_576)
        #expect(clean.kind == .jpeg)
        #expect(clean.removed == ["EXIF"])
        #expect(!String(decoding: clean.bytes, as: UTF8.self).contains("GPS"))
        #expect(clean.bytes == [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0x56, 0xFF, 0xD9])
    }

    @Test("a script named .jpg, an SVG, an empty, a truncated and an oversized file are refused with a reason",
          arguments: [
            (Array("#!/bin/sh\nrm -rf /\n".utf8), "only JPEG, PNG and WebP photos are accepted"),
            (Array("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".utf8), "only JPEG, PNG and WebP photos are accepted"),
            ([], "the file is empty"),
            ([0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0x00], "the JPEG file is damaged"),
            ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x7F, 0xFF, 0xFF, 0xFF, 0x49, 0x48, 0x44, 0x52], "the PNG file is damaged"),
            (Array("RIFF\u{4}\0\0\0WEBPVP8X\u{FF}\u{FF}\u{FF}\u{7F}".utf8), "the WebP file is damaged"),
            ([UInt8](repeating: 0xFF, count: 2_000_000), "the file is larger than 1 MiB"),
          ] as [([UInt8], String)])
    func refused(bytes: [UInt8], reason: String) {
        #expect(throws: PhotoScrubber.Refusal(description: reason)) { try PhotoScrubber.scrub(bytes, maximumBytes: 1_048_576) }
    }

    @Test("random bytes behind every signature never trap the scrubber")
    func fuzz() {
        var generator = SplitMix64(seed: 7)
        for round in 0..<3000 {
            let prefixes: [[UInt8]] = [[0xFF, 0xD8, 0xFF], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], Array("RIFF\0\0\0\0WEBP".utf8)]
            let count = Int(generator.next() % 64)
            let tail = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? PhotoScrubber.scrub(prefixes[round % 3] + tail, maximumBytes: 1_048_576)
        }
    }
}

@Suite("Paid share arithmetic")
struct PaidShareTests {
    @Test("128-bit multiply-divide saturates instead of trapping where the quotient does not fit")
    func saturates() {
        // 2^62 × 6 / 2 = 3 × 2^62 does not fit in Int64: a signed full-width division would trap here.
        #expect(PaidShare.multiplyDivide(1 << 62, 6, 2) == .max)
        #expect(PaidShare.multiplyDivideRoundingUp(1 << 62, 6, 2) == .max)
        #expect(PaidShare.multiplyDivide(.max, .max, .max) == .max)
        #expect(PaidShare.multiplyDivide(1000, 19_990, 25_980) == 769)
        #expect(PaidShare.multiplyDivideRoundingUp(1000, 19_990, 25_980) == 770)
        #expect(PaidShare.multiplyDivide(7, 3, 3) == 7 && PaidShare.multiplyDivideRoundingUp(7, 3, 3) == 7)
        #expect(PaidShare.multiplyDivide(-5, 3, 3) == 0 && PaidShare.multiplyDivide(5, 3, 0) == 0)
    }
}
