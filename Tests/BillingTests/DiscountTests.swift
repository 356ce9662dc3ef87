import BillingDocuments
import BillingTax
import Foundation
import Shared
import Testing

/// Discounts and vouchers on invoices: line discounts follow the units, order discounts are shared by the invoices
/// in proportion to their goods and split over the VAT rates, vouchers pay (BT-113); every XML through the judge.
@Suite struct DiscountTests {
    let base = TaxTreatmentTests.self
    let rules: TaxRules
    let territory: EUTerritory
    let eur = Currency("EUR")!
    let products: [String: InvoicePlanner.Product] = [
        "TENT-2P": .init(name: "Zelt Gipfel 2P", taxClass: "standard", service: false),
        "BOOK-MAPS": .init(name: "Wanderkarten", taxClass: "reduced", service: false),
    ]
    let buyer = InvoiceDocument.Party(name: "Lena Müller", street: "Hauptstr. 5", postalCode: "80331", city: "München", country: "DE")
    let seller = InvoiceDocument.Party(name: "Berg&Beutel GmbH", street: "Industriestraße 12", postalCode: "36251", city: "Bad Hersfeld", country: "DE",
                                       vatID: "DE136695976", taxNumber: "143/123/45678")

    init() throws {
        rules = try TaxRules.load(directory: TaxTreatmentTests.config).rules(at: { Date() })
        territory = try EUTerritory.load(directory: TaxTreatmentTests.config)
    }

    /// 3 tents at 199.90 with 10 % off the line (59.97), 4 map books at 14.90, an order discount of 25.00 and a 50.00 gift card; gross prices.
    func order() -> InvoicePlanner.Order {
        InvoicePlanner.Order(orderID: "BB-D1", customerID: "C-1", buyerType: .consumer, currency: eur, pricesIncludeTax: true, shippingCharge: 495,
                             billTo: buyer, shipTo: buyer, vatID: nil, paymentNetDays: nil,
                             lines: [.init(lineID: "1", sku: "TENT-2P", quantity: 3, unitPrice: 19_990, discount: 5_997, discountLabel: "ZELT10"),
                                     .init(lineID: "2", sku: "BOOK-MAPS", quantity: 4, unitPrice: 1_490)],
                             discount: 2_500, discountLabel: "WILLKOMMEN Neukunde", vouchers: [.init(code: "GC-1", amount: 5_000, kind: "multi-purpose")])
    }

    func plan(_ shipped: [(String, Int64)], before: [String: Int64], vouchersUsed: Int64, shipping: Bool) throws -> InvoicePlanner.Draft {
        try InvoicePlanner.plan(order(), shipped: shipped.map { (lineID: $0.0, quantity: $0.1) }, includeShipping: shipping, products: products,
                                distanceSalesSoFar: .zero(eur), supplyDate: EventTime.parse("2026-11-02T10:00:00Z"), rules: rules, territory: territory,
                                invoicedBefore: before, vouchersUsed: vouchersUsed)
    }

    func document(_ draft: InvoicePlanner.Draft, _ number: String) -> InvoiceDocument {
        InvoiceDocument(number: number, type: .invoice, issueDate: EventTime.parse("2026-11-03T10:00:00Z"), deliveryDate: EventTime.parse("2026-11-02T10:00:00Z"),
                        seller: seller, buyer: buyer, shipTo: buyer, currency: eur, lines: draft.lines, calculation: draft.calculation,
                        exemptionReasons: draft.reasons, paymentTerms: "Bereits bezahlt", dueDate: nil, notes: draft.notes,
                        prepaid: draft.prepaid > 0 ? Money(minorUnits: draft.prepaid, currency: eur) : nil, allowanceReason: draft.discountLabel)
    }

    @Test func partialInvoicesShareTheDiscountsExactlyAndTheVoucherPaysTheFirst() throws {
        // Two deliveries: 2 tents + 1 book, then 1 tent + 3 books.
        let first = try plan([("1", 2), ("2", 1)], before: [:], vouchersUsed: 0, shipping: true)
        let second = try plan([("1", 1), ("2", 3)], before: ["1": 2, "2": 1], vouchersUsed: first.prepaid, shipping: false)
        let goods: Int64 = 3 * 19_990 - 5_997 + 4 * 1_490
        let owed: Int64 = goods - 2_500 + 495
        // Together the customer pays exactly the order: goods less both discounts plus shipping.
        #expect(first.calculation.total.minorUnits + second.calculation.total.minorUnits == owed)
        // The line discount follows the units: 2/3 and 1/3 of 59.97.
        #expect(first.lines.first { $0.id == "1" }?.note?.contains("39,98") == true || first.lines.first { $0.id == "1" }?.note?.contains("39.98") == true,
                "\(first.lines.map(\.note))")
        // The order discount is split over 19 % and 7 % on each invoice (document-level allowances per rate).
        #expect(Set(first.calculation.allowances.filter { $0.taxable.minorUnits > 0 }.map(\.rateBasisPoints)) == [1900, 700])
        let allowanceGross = { (d: InvoicePlanner.Draft) in d.calculation.allowances.reduce(Int64(0)) { $0 + $1.taxable.minorUnits + (try! TaxCalculation.tax(on: $1.taxable, rateBasisPoints: $1.rateBasisPoints)).minorUnits } }
        #expect(abs(allowanceGross(first) + allowanceGross(second) - 2_500) <= 2, "shares ≈ 25.00 gross")
        // The gift card pays the first invoice, up to its total.
        #expect(first.prepaid == 5_000 && second.prepaid == 0)
        for (draft, number) in [(first, "RE-2026-000001"), (second, "RE-2026-000002")] {
            let xml = document(draft, number).xml()
            let verdict = try EInvoiceTests.judged(xml)
            #expect(verdict.xsd.isEmpty && verdict.schematron.isEmpty, "\(number): \(verdict.xsd.prefix(3)) \(verdict.schematron.prefix(5))")
            #expect(xml.contains("WILLKOMMEN Neukunde"))
        }
        #expect(document(first, "RE-2026-000001").xml().contains("<ram:TotalPrepaidAmount>50.00</ram:TotalPrepaidAmount>"))
        #expect(document(first, "RE-2026-000001").duePayable.minorUnits == first.calculation.total.minorUnits - 5_000)
    }

    @Test func oneInvoiceOverEverythingCarriesTheWholeDiscounts() throws {
        let all = try plan([("1", 3), ("2", 4)], before: [:], vouchersUsed: 0, shipping: true)
        let expected: Int64 = 3 * 19_990 - 5_997 + 4 * 1_490 - 2_500 + 495
        #expect(all.calculation.total.minorUnits == expected)
    }

    @Test func aRefundOfADiscountedLineIsCappedNetOfItsDiscounts() throws {
        let first = try plan([("1", 3), ("2", 4)], before: [:], vouchersUsed: 0, shipping: true)
        let invoice = document(first, "RE-2026-000001")
        // One tent: 199.90 − 19.99 (its part of the line discount) − its share of the order discount (25.00 × 179.91 / 599.33 = 7.51) = 172.40 at most.
        let refund = { (amount: Int64) in
            CreditNotePlanner.Refund(refundID: "RF-1", returnID: nil, orderID: "BB-D1", currency: self.eur, reason: nil,
                                     lines: [.init(lineID: "1", quantity: 1, amount: amount)], shippingAmount: 0)
        }
        #expect(throws: CreditNotePlanner.Problem.self) {
            try CreditNotePlanner.plan(refund(17_991), order: order(), invoices: [invoice], credited: [:], shippingRefunded: 0)
        }
        #expect(throws: CreditNotePlanner.Problem.self) {
            try CreditNotePlanner.plan(refund(17_241), order: order(), invoices: [invoice], credited: [:], shippingRefunded: 0)
        }
        let drafts = try CreditNotePlanner.plan(refund(17_240), order: order(), invoices: [invoice], credited: [:], shippingRefunded: 0)
        #expect(drafts.first?.calculation.total.minorUnits == 17_240)
        // The correction names the invoice, not its voucher or its discount text.
        #expect(drafts.first?.notes.contains { $0.contains("Gutschein") } == false)
        #expect(drafts.first?.lines.first?.note == nil)
    }
}

/// The deposit rule: the share per line, taxed as its line, booked as a received deposit; the final invoice's deduction text.
@Suite struct DepositTests {
    let d = try! DiscountTests()

    @Test func aDepositIsTheShareOfEveryLineTaxedAsItsLine() throws {
        let products: [String: InvoicePlanner.Product] = ["SAUNA": .init(name: "Fasssauna", taxClass: "standard", service: false),
                                                          "BOOK-MAPS": .init(name: "Wanderkarten", taxClass: "reduced", service: false),
                                                          "ASSEMBLY": .init(name: "Aufbau", taxClass: "standard", service: true)]
        let order = InvoicePlanner.Order(orderID: "BB-S", customerID: "C-1", buyerType: .consumer, currency: d.eur, pricesIncludeTax: true, shippingCharge: 9_900,
                                         billTo: d.buyer, shipTo: d.buyer, vatID: nil, paymentNetDays: 14,
                                         lines: [.init(lineID: "1", sku: "SAUNA", quantity: 1, unitPrice: 499_000),
                                                 .init(lineID: "2", sku: "BOOK-MAPS", quantity: 2, unitPrice: 1_490),
                                                 .init(lineID: "3", sku: "ASSEMBLY", quantity: 1, unitPrice: 59_000)])
        #expect(DepositPlanner.needsDeposit(order, products: products))
        let draft = try DepositPlanner.deposit(order, basisPoints: 3_000, products: products, orderDate: EventTime.parse("2026-11-02T10:00:00Z"),
                                               rules: d.rules, territory: d.territory)
        // 30 % of 4,990.00 + 29.80 + 590.00 = 1,682.94; the book's share at 7 %, the rest at 19 %; no shipping.
        #expect(draft.calculation.total.minorUnits == 149_700 + 894 + 17_700)
        #expect(Set(draft.calculation.breakdown.map(\.rateBasisPoints)) == [1900, 700])
        #expect(draft.lines.first?.name.hasPrefix("Anzahlung 30 % auf Fasssauna") == true)
        let document = InvoiceDocument(number: "AR-2026-000001", type: .prepayment, issueDate: EventTime.parse("2026-11-02T10:00:00Z"),
                                       deliveryDate: EventTime.parse("2026-11-02T10:00:00Z"), seller: d.seller, buyer: d.buyer, shipTo: d.buyer, currency: d.eur,
                                       lines: draft.lines, calculation: draft.calculation, exemptionReasons: [:], paymentTerms: "Zahlbar innerhalb von 14 Tagen",
                                       dueDate: EventTime.parse("2026-11-16T00:00:00Z"), notes: draft.notes)
        let verdict = try EInvoiceTests.judged(document.xml())
        #expect(verdict.xsd.isEmpty && verdict.schematron.isEmpty, "\(verdict.xsd.prefix(3)) \(verdict.schematron.prefix(5))")
        #expect(document.xml().contains("<ram:TypeCode>386</ram:TypeCode>"))
        let notes = DepositPlanner.deductionNotes([document])
        #expect(notes.count == 1 && notes[0].contains("AR-2026-000001 vom 02.11.2026") && notes[0].contains("7,00 %") && notes[0].contains("19,00 %"))
        #expect(DepositPlanner.deducted([document], total: Money(minorUnits: 100_000, currency: d.eur)) == 100_000, "never more than the final total")
        // Booked as received deposits, not revenue.
        let accounting = try AccountingRules.load(directory: TaxTreatmentTests.config).rules(at: { Date() })
        let bookings = try AccountingExport.bookings([(document, "BB-S", "C-1")], sellerCountry: "DE", rules: accounting)
        #expect(Set(bookings.map(\.contraAccount)) == ["1718", "1711"])
        // The final invoice books its revenue and clears the deposit: the debtor credited, the deposit accounts debited.
        let whole = try InvoicePlanner.plan(order, shipped: order.lines.map { ($0.lineID, $0.quantity) }, includeShipping: true, products: products,
                                            distanceSalesSoFar: .zero(d.eur), supplyDate: EventTime.parse("2026-11-20T10:00:00Z"), rules: d.rules, territory: d.territory)
        let final = InvoiceDocument(number: "RE-2026-000009", type: .invoice, issueDate: EventTime.parse("2026-11-20T10:00:00Z"),
                                    deliveryDate: EventTime.parse("2026-11-20T10:00:00Z"), seller: d.seller, buyer: d.buyer, shipTo: d.buyer, currency: d.eur,
                                    lines: whole.lines, calculation: whole.calculation, exemptionReasons: [:], paymentTerms: nil, dueDate: nil,
                                    precedingInvoice: "AR-2026-000001", prepaid: document.calculation.total, deductedDeposits: ["AR-2026-000001"])
        let finalBookings = try AccountingExport.bookings([(final, "BB-S", "C-1")], sellerCountry: "DE", rules: accounting, deposits: ["AR-2026-000001": document])
        let cleared = finalBookings.filter { !$0.debit }
        #expect(Set(cleared.map(\.contraAccount)) == ["1718", "1711"])
        #expect(cleared.reduce(Int64(0)) { $0 + $1.gross } == document.calculation.total.minorUnits)
        #expect(finalBookings.filter(\.debit).reduce(Int64(0)) { $0 + $1.gross } == whole.calculation.total.minorUnits)
        let datev = String(decoding: AccountingExport.datev(finalBookings, rules: accounting, from: EventTime.parse("2026-11-01T00:00:00Z"),
                                                            until: EventTime.parse("2026-11-30T23:59:59Z"), createdAt: Date()), as: UTF8.self)
        #expect(datev.contains("Anzahlung AR-2026-000001 verrechnet"))
    }
}
