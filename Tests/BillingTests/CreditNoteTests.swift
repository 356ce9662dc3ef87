import BillingDocuments
import BillingTax
import Foundation
import Shared
import Testing

/// The credit-note rule and the settlement rule, values in and decisions out; every credit note's XML
/// through the EN 16931 XSD and schematron.
@Suite struct CreditNoteTests {
    let eur = Currency("EUR")!
    let seller = InvoiceDocument.Party(name: "Berg&Beutel GmbH", street: "Industriestraße 12", postalCode: "36251", city: "Bad Hersfeld", country: "DE",
                                       vatID: "DE136695976", taxNumber: "143/123/45678")
    let buyer = InvoiceDocument.Party(name: "Lena Müller", street: "Hauptstr. 5", postalCode: "80331", city: "München", country: "DE")

    func order(gross: Bool = true, shipping: Int64 = 495) -> InvoicePlanner.Order {
        InvoicePlanner.Order(orderID: "BB-1", customerID: "C-1", buyerType: .consumer, currency: eur, pricesIncludeTax: gross, shippingCharge: shipping,
                             billTo: buyer, shipTo: buyer, vatID: nil, paymentNetDays: nil,
                             lines: [.init(lineID: "1", sku: "TENT-2P", quantity: 3, unitPrice: 19_990), .init(lineID: "2", sku: "BOOK", quantity: 2, unitPrice: 2_000)])
    }

    /// An invoice as Billing issues it, for `lines` (line id, units) of `order()`.
    func invoice(_ number: String, _ lines: [(String, Int64)], shipping: Int64 = 0, gross: Bool = true) throws -> InvoiceDocument {
        let prices: [String: (String, Int64, Int)] = ["1": ("TENT-2P", 19_990, 1900), "2": ("BOOK", 2_000, 700)]
        let calc = try TaxCalculation.calculate(lines: lines.map { .init(id: $0.0, quantity: $0.1, unitPrice: Money(minorUnits: prices[$0.0]!.1, currency: eur),
                                                                         category: .standard, rateBasisPoints: prices[$0.0]!.2) },
                                                charge: Money(minorUnits: shipping, currency: eur), discount: .zero(eur), gross: gross, currency: eur)
        return InvoiceDocument(number: number, type: .invoice, issueDate: EventTime.parse("2026-11-03T10:00:00Z"), deliveryDate: EventTime.parse("2026-11-02T10:00:00Z"),
                               seller: seller, buyer: buyer, shipTo: buyer, currency: eur,
                               lines: lines.map { .init(id: $0.0, sku: prices[$0.0]!.0, name: prices[$0.0]!.0, quantity: $0.1, net: calc.lineNet[$0.0]!,
                                                        category: .standard, rateBasisPoints: prices[$0.0]!.2) },
                               calculation: calc, exemptionReasons: [:], paymentTerms: nil, dueDate: nil)
    }

    func refund(_ lines: [(String, Int64, Int64)], shipping: Int64 = 0, id: String = "RF-1") -> CreditNotePlanner.Refund {
        .init(refundID: id, returnID: "RMA-1", orderID: "BB-1", currency: eur, reason: "passt nicht", lines: lines.map { .init(lineID: $0.0, quantity: $0.1, amount: $0.2) },
              shippingAmount: shipping)
    }

    func document(_ draft: CreditNotePlanner.Draft, number: String = "RK-2026-000001") -> InvoiceDocument {
        InvoiceDocument(number: number, type: .creditNote, issueDate: EventTime.parse("2026-11-20T10:00:00Z"), deliveryDate: draft.deliveryDate, seller: seller,
                        buyer: buyer, shipTo: buyer, currency: eur, lines: draft.lines, calculation: draft.calculation, exemptionReasons: draft.reasons,
                        paymentTerms: "Wird erstattet", dueDate: nil, precedingInvoice: draft.precedingInvoice, notes: draft.notes)
    }

    @Test func aReturnedLineIsCreditedAgainstTheInvoiceThatChargedIt() throws {
        // Two partial deliveries: 2 tents + 2 books, then the third tent.
        let first = try invoice("RE-2026-000001", [("1", 2), ("2", 2)], shipping: 495), second = try invoice("RE-2026-000002", [("1", 1)])
        let drafts = try CreditNotePlanner.plan(refund([("1", 1, 19_990)]), order: order(), invoices: [first, second], credited: [:], shippingRefunded: 0)
        #expect(drafts.count == 1)
        #expect(drafts[0].precedingInvoice == "RE-2026-000001")
        // 199.90 gross at 19 %: net 167.98, tax 31.92 — exactly what the customer gets back.
        #expect(drafts[0].calculation.totalNet.minorUnits == 16_798)
        #expect(drafts[0].calculation.totalTax.minorUnits == 3_192)
        #expect(drafts[0].calculation.total.minorUnits == 19_990)
        #expect(drafts[0].notes.first?.contains("Rechnungskorrektur zu Rechnung RE-2026-000001 vom 03.11.2026") == true)
        let verdict = try EInvoiceTests.judged(document(drafts[0]).xml())
        #expect(verdict.xsd.isEmpty, "\(verdict.xsd.prefix(3))")
        #expect(verdict.schematron.isEmpty, "\(verdict.schematron.prefix(5))")
        #expect(document(drafts[0]).xml().contains("<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>RE-2026-000001</ram:IssuerAssignedID>"))
        #expect(document(drafts[0]).xml().contains("<ram:TypeCode>381</ram:TypeCode>"))
    }

    @Test func unitsAlreadyCreditedMoveToTheNextInvoiceAndBeyondThatTheRefundIsRefused() throws {
        let first = try invoice("RE-2026-000001", [("1", 2)]), second = try invoice("RE-2026-000002", [("1", 1)])
        // One tent of the first invoice was credited before: 2 more come from the first (1) and the second (1).
        let drafts = try CreditNotePlanner.plan(refund([("1", 2, 39_980)]), order: order(), invoices: [first, second],
                                                credited: ["RE-2026-000001": ["1": 1]], shippingRefunded: 0)
        #expect(drafts.map(\.precedingInvoice) == ["RE-2026-000001", "RE-2026-000002"])
        #expect(drafts.map { $0.calculation.total.minorUnits } == [19_990, 19_990])
        #expect(throws: CreditNotePlanner.Problem.self) {
            try CreditNotePlanner.plan(refund([("1", 3, 59_970)]), order: order(), invoices: [first, second], credited: ["RE-2026-000001": ["1": 1]], shippingRefunded: 0)
        }
    }

    @Test func aRefundNeverPaysBackMoreThanWasCharged() throws {
        let first = try invoice("RE-2026-000001", [("1", 2)], shipping: 495)
        #expect(throws: CreditNotePlanner.Problem.self) {
            try CreditNotePlanner.plan(refund([("1", 1, 19_991)]), order: order(), invoices: [first], credited: [:], shippingRefunded: 0)
        }
        #expect(throws: CreditNotePlanner.Problem.self) {
            try CreditNotePlanner.plan(refund([("1", 1, 100)], shipping: 496), order: order(), invoices: [first], credited: [:], shippingRefunded: 0)
        }
        #expect(throws: CreditNotePlanner.Problem.self) {
            try CreditNotePlanner.plan(refund([("1", 1, 100)], shipping: 1), order: order(), invoices: [first], credited: [:], shippingRefunded: 495)
        }
        #expect(throws: CreditNotePlanner.Problem.self) {
            try CreditNotePlanner.plan(refund([("9", 1, 100)]), order: order(), invoices: [first], credited: [:], shippingRefunded: 0)
        }
        #expect(throws: CreditNotePlanner.Problem.self) {
            try CreditNotePlanner.plan(refund([("1", 1, 100)]), order: order(), invoices: [], credited: [:], shippingRefunded: 0)
        }
    }

    @Test func aReducedRefundWithShippingSplitsOverTheCreditedRates() throws {
        // A damaged tent refunded at half price, a book in full, and the shipping: the shipping follows the 19 % and 7 % lines.
        let first = try invoice("RE-2026-000001", [("1", 2), ("2", 2)], shipping: 495)
        let drafts = try CreditNotePlanner.plan(refund([("1", 1, 9_995), ("2", 1, 2_000)], shipping: 495), order: order(), invoices: [first], credited: [:],
                                                shippingRefunded: 0)
        #expect(drafts.count == 1)
        let calc = drafts[0].calculation
        #expect(calc.total.minorUnits == 9_995 + 2_000 + 495)
        #expect(Set(calc.breakdown.map(\.rateBasisPoints)) == [1900, 700])
        #expect(calc.charges.reduce(Int64(0)) { $0 + $1.taxable.minorUnits } > 0)
        #expect(drafts[0].shippingAmount == 495)
        let verdict = try EInvoiceTests.judged(document(drafts[0]).xml())
        #expect(verdict.xsd.isEmpty && verdict.schematron.isEmpty, "\(verdict.xsd.prefix(3)) \(verdict.schematron.prefix(5))")
    }

    @Test func aNetPricedBusinessRefundKeepsTheExemptionOfTheInvoice() throws {
        let austrian = InvoiceDocument.Party(name: "Alpen Sport GmbH", street: "Ring 1", postalCode: "1010", city: "Wien", country: "AT", vatID: "ATU13585627")
        let reason = (code: "VATEX-EU-IC", text: "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1 Buchst. b, § 6a UStG)")
        let calc = try TaxCalculation.calculate(lines: [.init(id: "1", quantity: 10, unitPrice: Money(minorUnits: 14_000, currency: eur), category: .intraCommunity,
                                                              rateBasisPoints: 0)], charge: .zero(eur), discount: .zero(eur), gross: false, currency: eur)
        let ic = InvoiceDocument(number: "RE-2026-000007", type: .invoice, issueDate: EventTime.parse("2026-11-03T10:00:00Z"),
                                 deliveryDate: EventTime.parse("2026-11-02T10:00:00Z"), seller: seller, buyer: austrian, shipTo: austrian, currency: eur,
                                 lines: [.init(id: "1", sku: "TENT-2P", name: "Zelt", quantity: 10, net: calc.lineNet["1"]!, category: .intraCommunity, rateBasisPoints: 0)],
                                 calculation: calc, exemptionReasons: [.intraCommunity: reason], paymentTerms: nil, dueDate: nil)
        let b2b = InvoicePlanner.Order(orderID: "BB-1", customerID: "C-1", buyerType: .business, currency: eur, pricesIncludeTax: false, shippingCharge: 0,
                                       billTo: austrian, shipTo: austrian, vatID: "ATU13585627", paymentNetDays: 30,
                                       lines: [.init(lineID: "1", sku: "TENT-2P", quantity: 10, unitPrice: 14_000)])
        let drafts = try CreditNotePlanner.plan(refund([("1", 3, 42_000)]), order: b2b, invoices: [ic], credited: [:], shippingRefunded: 0)
        #expect(drafts[0].lines.map(\.category) == [.intraCommunity])
        #expect(drafts[0].reasons[.intraCommunity]?.code == "VATEX-EU-IC")
        #expect(drafts[0].calculation.totalTax.minorUnits == 0)
        #expect(drafts[0].calculation.total.minorUnits == 42_000)
        var doc = document(drafts[0])
        doc = InvoiceDocument(number: doc.number, type: .creditNote, issueDate: doc.issueDate, deliveryDate: doc.deliveryDate, seller: seller, buyer: austrian,
                              shipTo: austrian, currency: eur, lines: doc.lines, calculation: doc.calculation, exemptionReasons: doc.exemptionReasons,
                              paymentTerms: doc.paymentTerms, dueDate: nil, precedingInvoice: doc.precedingInvoice, notes: doc.notes)
        let verdict = try EInvoiceTests.judged(doc.xml())
        #expect(verdict.xsd.isEmpty && verdict.schematron.isEmpty, "\(verdict.xsd.prefix(3)) \(verdict.schematron.prefix(5))")
    }

    @Test func settlementPaysTheNamedInvoiceFirstThenTheOldestDue() {
        let day = { (d: String) in EventTime.parse("2026-11-\(d)T00:00:00Z") }
        let items = [Settlement.OpenItem(number: "RE-3", open: 300, dueDate: day("20")), .init(number: "RE-1", open: 100, dueDate: day("10")),
                     .init(number: "RE-2", open: 200, dueDate: day("15")), .init(number: "RE-0", open: 0, dueDate: day("01"))]
        #expect(Settlement.apply(250, to: items) == .init(applied: ["RE-1": 100, "RE-2": 150], left: 0))
        #expect(Settlement.apply(350, to: items, naming: "RE-3") == .init(applied: ["RE-3": 300, "RE-1": 50], left: 0))
        #expect(Settlement.apply(700, to: items) == .init(applied: ["RE-1": 100, "RE-2": 200, "RE-3": 300], left: 100))
        #expect(Settlement.apply(-5, to: items) == .init(applied: [:], left: 0))
    }
}

/// The accounting rule: bookings per document and rate, the DATEV Buchungsstapel and the plain CSV.
@Suite struct AccountingExportTests {
    static let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config").path
    let base = CreditNoteTests()

    @Test func invoicesDebitAndCreditNotesCreditTheDebtorPerTreatment() throws {
        let rules = try AccountingRules.load(directory: Self.config).rules(at: { Date() })
        let invoice = try base.invoice("RE-2026-000001", [("1", 2), ("2", 2)], shipping: 495)
        let drafts = try CreditNotePlanner.plan(base.refund([("1", 1, 19_990)]), order: base.order(), invoices: [invoice], credited: [:], shippingRefunded: 0)
        let note = base.document(drafts[0])
        let bookings = try AccountingExport.bookings([(invoice, "BB-1", "C-1"), (note, "BB-1", "C-1")], sellerCountry: "DE", rules: rules)
        #expect(bookings.map(\.contraAccount) == ["8400", "8300", "8400"])
        #expect(bookings.map(\.debit) == [true, true, false])
        #expect(bookings.map(\.account) == ["10000", "10000", "10000"])
        // The bookings of a document add up to its total.
        #expect(bookings.prefix(2).reduce(Int64(0)) { $0 + $1.gross } == invoice.calculation.total.minorUnits)
        #expect(bookings[2].gross == 19_990 && bookings[2].precedingInvoice == "RE-2026-000001")

        let datev = String(decoding: AccountingExport.datev(bookings, rules: rules, from: EventTime.parse("2026-11-01T00:00:00Z"),
                                                            until: EventTime.parse("2026-11-30T23:59:59Z"), createdAt: EventTime.parse("2026-12-01T08:00:00Z")),
                           as: UTF8.self)
        let lines = datev.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 2 + 3)
        let header = lines[0].components(separatedBy: ";")
        #expect(Array(header.prefix(5)) == ["\"EXTF\"", "700", "21", "\"Buchungsstapel\"", "13"])
        #expect(header[10] == "1001" && header[11] == "1" && header[12] == "20260101" && header[14] == "20261101" && header[15] == "20261130")
        #expect(lines[1].hasPrefix("\"Umsatz (ohne Soll/Haben-Kz)\";\"Soll/Haben-Kennzeichen\""))
        let credit = lines[4].components(separatedBy: ";")
        #expect(Array(credit.prefix(8)) == ["199,90", "\"H\"", "\"EUR\"", "", "", "", "10000", "8400"])
        #expect(credit[9] == "2011" && credit[10] == "\"RK-2026-000001\"" && credit[11] == "\"\"" && credit[13].contains("Korrektur RE-2026-000001"))

        let csv = AccountingExport.csv(bookings).split(separator: "\n")
        #expect(csv.count == 4)
        #expect(csv[3].contains(",381,") && csv[3].contains(",-199.90,"))
    }

    @Test func aTreatmentWithoutAnAccountIsAProblem() throws {
        let rules = try AccountingRules.load(directory: Self.config).rules(at: { Date() })
        var invoice = try base.invoice("RE-2026-000001", [("1", 1)])
        // Under the One-Stop-Shop (French VAT) the booking goes to the OSS account.
        invoice = InvoiceDocument(number: invoice.number, type: .invoice, issueDate: invoice.issueDate, deliveryDate: invoice.deliveryDate, seller: invoice.seller,
                                  buyer: invoice.buyer, shipTo: invoice.shipTo, currency: invoice.currency, lines: invoice.lines, calculation: invoice.calculation,
                                  exemptionReasons: [:], paymentTerms: nil, dueDate: nil, taxCountry: "FR")
        #expect(try AccountingExport.bookings([(invoice, "BB-1", "C-1")], sellerCountry: "DE", rules: rules).map(\.contraAccount) == ["8320"])
        let without = try AccountingRules.parse(JSONParser.parse(Array(try String(contentsOfFile: Self.config + "/accounting.json", encoding: .utf8)
            .replacingOccurrences(of: "\"oss\": \"8320\",", with: "").utf8)))
        #expect(without.revenueAccounts["oss"] == nil)
        #expect(throws: AccountingExport.Problem.self) { try AccountingExport.bookings([(invoice, "BB-1", "C-1")], sellerCountry: "DE", rules: without) }
    }
}
