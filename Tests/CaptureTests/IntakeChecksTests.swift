@testable import Capture
import Foundation
import Shared
import Testing

/// One row per rule: an order changed from a clean base, the expected outcome and reason codes.
@Suite("Capture checks, table-driven")
struct IntakeChecksTests {
    enum Expected: Sendable, CustomStringConvertible {
        case accept
        case hold(HoldReason)
        case reject
        var description: String {
            switch self {
            case .accept: "accept"
            case .hold(let reason): "hold(\(reason.rawValue))"
            case .reject: "reject"
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let expected: Expected
        let codes: [String]
        var history: CustomerHistory = .none
        var ledger: PaymentLedger = .empty
        var products: [String: ProductInfo] = [:]
        var account: CustomerAccount? = nil
        var exposure: CreditExposure = .none
        var groupPrices: [GroupPriceKey: Int64] = [:]
        var availability: [String: Int64] = [:]
        let change: @Sendable (inout [String: JSONValue]) -> Void
        var testDescription: String { name }
    }

    /// A clean B2C order: one tent to Munich, PayPal authorized, amounts adding up.
    static func base() -> [String: JSONValue] {
        let address: JSONValue = ["name": "Anna Berg", "street": "Hauptstr. 5", "postalCode": "80331", "city": "München", "country": "DE"]
        return [
            "orderId": "BB-1", "placedAt": "2026-11-27T09:14:01Z", "currency": "EUR", "pricesIncludeTax": true,
            "customer": ["id": "C-1", "type": "b2c", "email": "anna@example.org"],
            "billingAddress": address, "shippingAddress": address, "shippingMethod": "standard",
            "payment": ["method": "paypal", "status": "authorized", "amount": 20485],
            "lines": [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 19990]], "shippingCharge": 495,
        ]
    }

    static func set(_ path: [String], _ value: JSONValue) -> @Sendable (inout [String: JSONValue]) -> Void {
        { data in
            if path.count == 1 {
                data[path[0]] = value
            } else {
                var inner = data[path[0]]?.objectValue ?? [:]
                inner[path[1]] = value
                data[path[0]] = .object(inner)
            }
        }
    }

    static func combine(_ changes: (@Sendable (inout [String: JSONValue]) -> Void)...) -> @Sendable (inout [String: JSONValue]) -> Void {
        { data in for change in changes { change(&data) } }
    }

    static func tent(sellable: Bool = true, discontinued: Bool = false, bulky: Bool = false, dangerous: String? = nil) -> ProductInfo {
        ProductInfo(sku: "TENT-2P", sellable: sellable, discontinued: discontinued, bulky: bulky, dangerousGoodsClass: dangerous)
    }

    static let highValue = combine(set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 3, "unitPrice": 16667]]),
                                   set(["payment", "amount"], 50496))  // 50001 + 495 shipping
    static let atFirstOrderLimit = combine(set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 49505]]),
                                           set(["payment", "amount"], 50000))  // exactly 50000 with shipping

    /// A business customer: wholesale group, 10,000.00 EUR credit, 30 days net,
    /// buyer B-1 may order up to 5,000.00 EUR alone, above that Sabine (S-7) approves.
    static let account = CustomerAccount(
        customerID: "C-1", type: "b2b", group: "wholesale", creditLimit: 1_000_000, creditCurrency: "EUR",
        paymentTerms: PaymentTerms(code: "NET30", netDays: 30),
        buyers: [CustomerAccount.Buyer(buyerID: "B-1", approvalLimit: 500_000, approvers: ["S-7"])])

    /// The base order as a B2B order by buyer B-1: net prices, on account.
    static func business(_ more: (@Sendable (inout [String: JSONValue]) -> Void)...) -> @Sendable (inout [String: JSONValue]) -> Void {
        let base = combine(set(["customer", "type"], "b2b"), set(["customer", "buyerId"], "B-1"), set(["customer", "group"], "wholesale"),
                           set(["pricesIncludeTax"], false), set(["payment", "method"], "on-account"), set(["payment", "status"], "pending"))
        return { data in
            base(&data)
            for change in more { change(&data) }
        }
    }

    static func agreed(_ basisPoints: Int64) -> CustomerAccount {
        var a = account
        a.agreedDiscountBasisPoints = basisPoints
        return a
    }

    static let tentWholesale = [GroupPriceKey(sku: "TENT-2P", group: "wholesale", currency: "EUR"): Int64(19990)]

    static let cases: [Case] = [
        Case(name: "clean order", expected: .accept, codes: [], change: { _ in }),
        // Totals
        Case(name: "payment one cent short", expected: .hold(.total), codes: ["total.mismatch"], change: set(["payment", "amount"], 20484)),
        Case(name: "payment one cent over", expected: .hold(.total), codes: ["total.mismatch"], change: set(["payment", "amount"], 20486)),
        // Discounts and vouchers: 199.90 − 10 % line discount (19.99) − 5.00 order discount + 4.95 = 179.86, paid 129.86 + a 50.00 gift card.
        Case(name: "line and order discounts with a gift card add up", expected: .accept, codes: [],
             change: combine(set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 19990,
                                              "discount": ["percentBasisPoints": 1000, "code": "ZELT10"]]]),
                             set(["discounts"], [["amount": 500, "code": "WILLKOMMEN5", "reason": "Neukunde"]]),
                             set(["payment"], ["method": "paypal", "status": "authorized", "amount": 12986,
                                               "vouchers": [["code": "GC-1", "amount": 5000, "kind": "multi-purpose"]]]))),
        Case(name: "a discount the payment does not reflect", expected: .hold(.total), codes: ["total.mismatch"],
             change: set(["discounts"], [["amount": 500, "code": "WILLKOMMEN5"]])),
        Case(name: "a voucher on top of the full payment", expected: .hold(.total), codes: ["total.mismatch"],
             change: set(["payment"], ["method": "paypal", "status": "authorized", "amount": 20485, "vouchers": [["code": "GC-1", "amount": 1000]]])),
        Case(name: "net prices, payment below net", expected: .hold(.total), codes: ["total.below-net"],
             change: combine(set(["pricesIncludeTax"], false), set(["payment", "amount"], 20484))),
        Case(name: "net prices, payment with tax on top", expected: .accept, codes: [],
             change: combine(set(["pricesIncludeTax"], false), set(["payment", "amount"], 24377))),
        // Payment
        Case(name: "unknown payment method", expected: .reject, codes: ["payment.method-unknown"], change: set(["payment", "method"], "bitcoin")),
        Case(name: "on account for a consumer", expected: .reject, codes: ["payment.business-only"],
             change: combine(set(["payment", "method"], "on-account"), set(["payment", "status"], "pending"))),
        Case(name: "on account for a business", expected: .accept, codes: [], account: account,
             change: combine(set(["payment", "method"], "on-account"), set(["payment", "status"], "pending"),
                             set(["customer", "type"], "b2b"))),
        Case(name: "cash on delivery to France", expected: .reject, codes: ["payment.cod-country"],
             change: combine(set(["payment", "method"], "cash-on-delivery"), set(["payment", "status"], "pending"),
                             set(["shippingAddress", "country"], "FR"), set(["shippingAddress", "postalCode"], "75001"),
                             set(["billingAddress", "country"], "FR"), set(["billingAddress", "postalCode"], "75001"))),
        Case(name: "cash on delivery in Germany", expected: .accept, codes: [],
             change: combine(set(["payment", "method"], "cash-on-delivery"), set(["payment", "status"], "pending"))),
        Case(name: "prepayment not yet paid", expected: .hold(.payment), codes: ["payment.awaiting-funds"],
             change: combine(set(["payment", "method"], "prepayment"), set(["payment", "status"], "pending"))),
        Case(name: "prepayment captured before the order arrived", expected: .accept, codes: [],
             ledger: PaymentLedger(captured: .eur(20485)),
             change: combine(set(["payment", "method"], "prepayment"), set(["payment", "status"], "pending"))),
        Case(name: "prepayment captured one cent short", expected: .hold(.payment), codes: ["payment.awaiting-funds"],
             ledger: PaymentLedger(captured: .eur(20484)),
             change: combine(set(["payment", "method"], "prepayment"), set(["payment", "status"], "pending"))),
        Case(name: "card still pending", expected: .hold(.payment), codes: ["payment.not-authorized"],
             change: combine(set(["payment", "method"], "card"), set(["payment", "status"], "pending"))),
        Case(name: "card declined", expected: .reject, codes: ["payment.failed"],
             change: combine(set(["payment", "method"], "card"), set(["payment", "status"], "declined"))),
        Case(name: "shop reported the payment failed", expected: .reject, codes: ["payment.failed"],
             ledger: PaymentLedger(failedReason: "insufficient funds"), change: { _ in }),
        // Address
        Case(name: "country not served", expected: .reject, codes: ["address.country-not-served", "fraud.country-mismatch"],
             change: set(["shippingAddress", "country"], "JP")),
        Case(name: "German postal code one digit short", expected: .hold(.address), codes: ["address.postal-code-invalid"],
             change: set(["shippingAddress", "postalCode"], "8033")),
        Case(name: "billing postal code with a letter", expected: .hold(.address), codes: ["address.postal-code-invalid"],
             change: set(["billingAddress", "postalCode"], "8033A")),
        Case(name: "Dutch postal code", expected: .accept, codes: ["fraud.country-mismatch"],
             change: combine(set(["shippingAddress", "country"], "NL"), set(["shippingAddress", "postalCode"], "1012 AB"))),
        Case(name: "Dutch postal code without letters", expected: .hold(.address), codes: ["address.postal-code-invalid"],
             change: combine(set(["shippingAddress", "country"], "NL"), set(["shippingAddress", "postalCode"], "1012"),
                             set(["billingAddress", "country"], "NL"), set(["billingAddress", "postalCode"], "1012 AB"))),
        Case(name: "Packstation without locker number", expected: .hold(.address), codes: ["address.locker-customer-number-missing"],
             change: set(["shippingAddress", "street"], "Packstation 123")),
        Case(name: "Packstation with locker number", expected: .accept, codes: [],
             change: combine(set(["shippingAddress", "street"], "Packstation 123"), set(["shippingAddress", "postNumber"], "12345678"))),
        // Catalog replica
        Case(name: "known, sellable product", expected: .accept, codes: [],
             products: ["TENT-2P": tent(sellable: true)], change: { _ in }),
        Case(name: "discontinued product", expected: .reject, codes: ["sku.discontinued"],
             products: ["TENT-2P": tent(discontinued: true)], change: { _ in }),
        Case(name: "product not sellable", expected: .reject, codes: ["sku.not-sellable"],
             products: ["TENT-2P": tent(sellable: false)], change: { _ in }),
        Case(name: "bulky product to a Packstation", expected: .hold(.address), codes: ["address.locker-not-allowed"],
             products: ["TENT-2P": tent(bulky: true)],
             change: combine(set(["shippingAddress", "street"], "Packstation 123"), set(["shippingAddress", "postNumber"], "12345678"))),
        Case(name: "gas cartridge (dangerous goods) to a Packstation", expected: .hold(.address), codes: ["address.locker-not-allowed"],
             products: ["TENT-2P": tent(dangerous: "2.1")],
             change: combine(set(["shippingAddress", "street"], "Packstation 123"), set(["shippingAddress", "postNumber"], "12345678"))),
        // Fraud
        Case(name: "billing and shipping countries differ (20 points)", expected: .accept, codes: ["fraud.country-mismatch"],
             change: combine(set(["billingAddress", "country"], "AT"), set(["billingAddress", "postalCode"], "6020"))),
        Case(name: "first order above 50000 (25 points)", expected: .accept, codes: ["fraud.first-order-high-value"], change: highValue),
        Case(name: "first order exactly 50000 (no points)", expected: .accept, codes: [], change: atFirstOrderLimit),
        Case(name: "first order above the GBP threshold (45000), not above the EUR one", expected: .accept, codes: ["fraud.first-order-high-value"],
             change: combine(set(["currency"], "GBP"), set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 45006]]),
                             set(["payment", "amount"], 45501))),
        Case(name: "a first order in a currency the rules name no amount for is not compared with euros", expected: .accept, codes: [],
             change: combine(set(["currency"], "USD"), highValue)),
        Case(name: "high value but a returning customer", expected: .accept, codes: [],
             history: CustomerHistory(previousOrders: 3, recentOrdersSameEmail: 0), change: highValue),
        Case(name: "disposable e-mail and name mismatch: 45, below 50", expected: .accept,
             codes: ["fraud.disposable-email", "fraud.name-mismatch"],
             change: combine(set(["customer", "email"], "x@mailinator.com"), set(["shippingAddress", "name"], "Max Muster"))),
        Case(name: "disposable e-mail and high-risk item: exactly 50", expected: .hold(.review),
             codes: ["fraud.disposable-email", "fraud.high-risk-sku", "fraud.score-review"],
             change: combine(set(["customer", "email"], "x@MAILINATOR.com"),
                             set(["lines"], [["lineId": "1", "sku": "GIFTCARD-100", "quantity": 1, "unitPrice": 19990]]))),
        Case(name: "velocity at the limit (5 recent orders)", expected: .accept, codes: ["fraud.velocity"],
             history: CustomerHistory(previousOrders: 5, recentOrdersSameEmail: 5), change: { _ in }),
        Case(name: "velocity below the limit", expected: .accept, codes: [],
             history: CustomerHistory(previousOrders: 4, recentOrdersSameEmail: 4), change: { _ in }),
        Case(name: "velocity by shipping address at the limit", expected: .accept, codes: ["fraud.velocity"],
             history: CustomerHistory(previousOrders: 1, recentOrdersSameEmail: 1, recentOrdersSameAddress: 5), change: { _ in }),
        Case(name: "velocity by client IP at the limit", expected: .accept, codes: ["fraud.velocity"],
             history: CustomerHistory(previousOrders: 0, recentOrdersSameEmail: 0, recentOrdersSameIP: 5), change: { _ in }),
        Case(name: "velocity by payment reference, one below the limit", expected: .accept, codes: [],
             history: CustomerHistory(previousOrders: 0, recentOrdersSameEmail: 0, recentOrdersSamePaymentReference: 4), change: { _ in }),
        Case(name: "velocity on every dimension counts once (40 points)", expected: .accept, codes: ["fraud.velocity"],
             history: CustomerHistory(previousOrders: 9, recentOrdersSameEmail: 9, recentOrdersSameAddress: 9, recentOrdersSameIP: 9,
                                      recentOrdersSamePaymentReference: 9), change: { _ in }),
        Case(name: "disposable e-mail, velocity, country mismatch: 95", expected: .reject,
             codes: ["fraud.country-mismatch", "fraud.disposable-email", "fraud.velocity", "fraud.score-reject"],
             history: CustomerHistory(previousOrders: 9, recentOrdersSameEmail: 9),
             change: combine(set(["customer", "email"], "x@trashmail.com"), set(["billingAddress", "country"], "AT"),
                             set(["billingAddress", "postalCode"], "6020"))),
        // Availability (published by the Router on oms.stock)
        Case(name: "enough stock", expected: .accept, codes: [], availability: ["TENT-2P": 1], change: { _ in }),
        Case(name: "short, not ship-complete: back-order noted", expected: .accept, codes: ["stock.partial-backorder"],
             availability: ["TENT-2P": 0], change: { _ in }),
        Case(name: "short, ship complete: waits for stock", expected: .hold(.stock), codes: ["stock.ship-complete-short"],
             availability: ["TENT-2P": 1],
             change: combine(set(["shipComplete"], true),
                             set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 9995],
                                             ["lineId": "2", "sku": "TENT-2P", "quantity": 1, "unitPrice": 9995]]))),
        Case(name: "no published availability: the Router decides", expected: .accept, codes: [], change: set(["shipComplete"], true)),
        // B2B
        Case(name: "business order within every limit, group price right", expected: .accept, codes: [],
             account: account, groupPrices: tentWholesale, change: business()),
        Case(name: "business customer unknown to the CRM", expected: .hold(.credit), codes: ["credit.customer-unknown"],
             change: business()),
        Case(name: "group price one cent off", expected: .hold(.price), codes: ["price.group-mismatch"],
             account: account, groupPrices: [GroupPriceKey(sku: "TENT-2P", group: "wholesale", currency: "EUR"): 19989],
             change: business()),
        Case(name: "business line discount within the agreed 5 %", expected: .accept, codes: [],
             account: agreed(500), groupPrices: tentWholesale,
             change: business(set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 19990, "discount": ["percentBasisPoints": 500]]]))),
        Case(name: "business line discount above the agreed 5 %", expected: .hold(.price), codes: ["price.discount-above-agreement"],
             account: agreed(500), groupPrices: tentWholesale,
             change: business(set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 19990, "discount": ["amount": 1001]]]))),
        Case(name: "business line discount with none agreed", expected: .hold(.price), codes: ["price.discount-above-agreement"],
             account: account, groupPrices: tentWholesale,
             change: business(set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 19990, "discount": ["amount": 1]]]))),
        Case(name: "credit limit reached exactly", expected: .accept, codes: [],
             account: account, exposure: CreditExposure(openOrders: 600_000, unpaidInvoices: 379_515), change: business()),
        Case(name: "credit limit exceeded by one cent", expected: .hold(.credit), codes: ["credit.limit-exceeded"],
             account: account, exposure: CreditExposure(openOrders: 600_000, unpaidInvoices: 379_516), change: business()),
        Case(name: "credit limit in another currency", expected: .hold(.credit), codes: ["credit.currency-mismatch"],
             account: account, change: business(set(["currency"], "CHF"))),
        Case(name: "exactly at the buyer's approval limit", expected: .accept, codes: [],
             history: CustomerHistory(previousOrders: 3, recentOrdersSameEmail: 0), account: account, change: business(set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 499_505]]),
                                                set(["payment", "amount"], 500_000))),
        Case(name: "one cent above the buyer's approval limit", expected: .hold(.approval), codes: ["approval.required"],
             history: CustomerHistory(previousOrders: 3, recentOrdersSameEmail: 0),
             account: account, change: business(set(["lines"], [["lineId": "1", "sku": "TENT-2P", "quantity": 1, "unitPrice": 499_506]]),
                                                set(["payment", "amount"], 500_001))),
        Case(name: "buyer not registered for the customer", expected: .hold(.approval), codes: ["approval.buyer-unknown"],
             account: account, change: business(set(["customer", "buyerId"], "B-99"))),
    ]

    @Test("each rule decides as written", arguments: cases)
    func rule(_ testCase: Case) throws {
        var data = Self.base()
        testCase.change(&data)
        let order = try OrderSubmission(data: .object(data))
        let context = IntakeContext(history: testCase.history, ledger: testCase.ledger, products: testCase.products,
                                    account: testCase.account, exposure: testCase.exposure, groupPrices: testCase.groupPrices,
                                    availability: testCase.availability)
        let outcome = IntakeDecision.decide(order, existing: nil, context: context, rules: shippedRules)
        let findings: [CheckFinding]
        switch (outcome, testCase.expected) {
        case (.accept(let f), .accept): findings = f
        case (.hold(let reasons, let f), .hold(let reason)):
            #expect(reasons == [reason])
            findings = f
        case (.reject(let f), .reject): findings = f
        default:
            Issue.record("\(testCase.name): expected \(testCase.expected), got \(outcome)")
            return
        }
        #expect(findings.map(\.code).sorted() == testCase.codes.sorted(), "\(findings.map(\.message))")
        #expect(findings.allSatisfy { !$0.message.isEmpty })
    }

    @Test("every reason code of the checks appears in the table")
    func everyReasonCodeIsCovered() {
        let covered = Set(Self.cases.flatMap(\.codes))
        let all: Set<String> = [
            "total.mismatch", "total.below-net", "payment.method-unknown", "payment.business-only", "payment.cod-country",
            "payment.failed", "payment.awaiting-funds", "payment.not-authorized", "address.country-not-served",
            "address.postal-code-invalid", "address.locker-customer-number-missing", "fraud.country-mismatch",
            "fraud.first-order-high-value", "fraud.disposable-email", "fraud.high-risk-sku", "fraud.name-mismatch",
            "fraud.velocity", "fraud.score-review", "fraud.score-reject", "sku.discontinued", "sku.not-sellable",
            "address.locker-not-allowed", "stock.partial-backorder", "stock.ship-complete-short", "credit.customer-unknown",
            "price.group-mismatch", "price.discount-above-agreement", "credit.limit-exceeded", "credit.currency-mismatch", "approval.required", "approval.buyer-unknown",
        ]
        #expect(all.subtracting(covered).isEmpty, "not covered: \(all.subtracting(covered).sorted())")
    }

    @Test("postal-code formats of every served country accept a real code and refuse one digit short",
          arguments: [("DE", "80331"), ("AT", "6020"), ("CH", "8002"), ("FR", "75001"), ("NL", "1012 AB"), ("BE", "1000"),
                      ("LU", "L-1009"), ("IT", "00184"), ("ES", "28001"), ("PL", "00-950"), ("DK", "1050"), ("SE", "111 22"),
                      ("CZ", "110 00"), ("GB", "SW1A 1AA"), ("US", "10001")])
    func postalCodes(country: String, code: String) {
        let pattern = shippedRules.postalCodePatterns[country]
        #expect(pattern?.matches(code) == true)
        #expect(pattern?.matches(String(code.dropLast())) == false)
    }
}

@Suite("Order status transitions and payment reports")
struct TransitionTests {
    @Test("allowed transitions carry their event; forbidden ones are refused with the allowed list")
    func transitions() throws {
        #expect(try OrderStatus.transition(from: .onHold, to: .accepted, orderID: "BB-1").event == "Order.Released")
        #expect(try OrderStatus.transition(from: nil, to: .onHold, orderID: "BB-1").event == "Order.OnHold")
        let error = #expect(throws: PermanentFailure.self) { try OrderStatus.transition(from: .rejected, to: .accepted, orderID: "BB-1") }
        #expect(error?.reason == "order BB-1: rejected → accepted is not an allowed transition (allowed: none)")
        #expect(throws: PermanentFailure.self) { try OrderStatus.transition(from: .cancelled, to: .onHold, orderID: "BB-1") }
    }

    static func update(_ kind: String) throws -> PaymentUpdate {
        try PaymentUpdate(type: kind, data: ["orderId": "BB-1", "amount": 100, "currency": "EUR", "reason": "card expired"])
    }

    @Test("Payment.Captured releases an order held only for payment, lifts the hold otherwise")
    func captured() throws {
        let captured = try Self.update("Payment.Captured")
        #expect(PaymentDecision.decide(captured, status: .onHold, holds: [.payment], paymentAmount: .eur(100), capturedSoFar: .eur(100)) == .release)
        #expect(PaymentDecision.decide(captured, status: .onHold, holds: [.payment, .review], paymentAmount: .eur(100), capturedSoFar: .eur(100))
            == .liftPaymentHold(remaining: [.review]))
        guard case .recordOnly = PaymentDecision.decide(captured, status: .onHold, holds: [.payment], paymentAmount: .eur(100), capturedSoFar: .eur(99)) else {
            Issue.record("a partial payment must not release")
            return
        }
        guard case .recordOnly = PaymentDecision.decide(captured, status: .accepted, holds: [], paymentAmount: .eur(100), capturedSoFar: .eur(100)) else {
            Issue.record("an accepted order only records the payment")
            return
        }
    }

    @Test("a capture in another currency never pays for an order: refused, not counted")
    func capturedInAnotherCurrency() throws {
        let yen = try PaymentUpdate(type: "Payment.Captured", data: ["orderId": "BB-1", "amount": 10_000, "currency": "JPY"])
        guard case .refuse(let why) = PaymentDecision.decide(yen, status: .onHold, holds: [.payment], paymentAmount: .eur(10_000),
                                                             capturedSoFar: .eur(0)) else {
            Issue.record("10,000 JPY must not release a 100.00 EUR order")
            return
        }
        #expect(why.contains("JPY") && why.contains("EUR"))
        // Captures are kept per currency: JPY in the ledger is no EUR.
        let ledger = PaymentLedger(capturedByCurrency: ["JPY": 10_000])
        #expect(ledger.captured(in: Currency("EUR")!) == .eur(0))
    }

    @Test("Payment.Failed cancels an order waiting for payment, and only that")
    func failed() throws {
        let failed = try Self.update("Payment.Failed")
        #expect(PaymentDecision.decide(failed, status: .onHold, holds: [.payment], paymentAmount: .eur(100), capturedSoFar: .eur(0))
            == .cancel("payment failed: card expired"))
        guard case .recordOnly = PaymentDecision.decide(failed, status: .onHold, holds: [.review], paymentAmount: .eur(100), capturedSoFar: .eur(0)) else {
            Issue.record("a review hold is not a payment hold")
            return
        }
    }
}

@Suite("Capture configuration file")
struct CaptureRulesFileTests {
    func write(_ text: String) throws -> String {
        let directory = NSTemporaryDirectory() + "oms-rules-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: directory + "/capture.json", atomically: true, encoding: .utf8)
        return directory
    }

    @Test("broken JSON names file, line and column")
    func brokenJSON() throws {
        let directory = try write("{\n  \"validFrom\": \"2026-01-01T00:00:00Z\",\n  \"servedCountries\": [\"DE\" \"AT\"]\n}\n")
        let error = #expect(throws: ConfigurationFileError.self) { try CaptureRules.load(directory: directory) }
        #expect(error?.description.hasPrefix("configuration error: \(directory)/capture.json:3:") == true, "\(String(describing: error))")
    }

    @Test("a wrong value names file, line and the setting")
    func wrongValue() throws {
        var text = try String(contentsOfFile: repositoryConfig + "/capture.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"holdThreshold\": 50", with: "\"holdThreshold\": \"fifty\"")
        let directory = try write(text)
        let error = #expect(throws: ConfigurationFileError.self) { try CaptureRules.load(directory: directory) }
        #expect(error?.problem == "fraud.holdThreshold: must be an integer")
        #expect(error?.location?.line == text.components(separatedBy: "\n").firstIndex { $0.contains("holdThreshold") }.map { $0 + 1 })
    }

    @Test("a first-order threshold names its currency: an unknown code is refused, the older single amount means euros")
    func firstOrderThresholdCurrency() throws {
        let text = try String(contentsOfFile: repositoryConfig + "/capture.json", encoding: .utf8)
        let bad = text.replacingOccurrences(of: "\"GBP\": 45000", with: "\"POUND\": 45000")
        #expect(bad != text)
        let error = #expect(throws: ConfigurationFileError.self) { try CaptureRules.load(directory: try write(bad)) }
        #expect(error?.problem.contains("fraud.firstOrderAbove.amounts.POUND") == true, "\(error?.problem ?? "")")
        let older = text.replacingOccurrences(of: "\"amounts\": { \"EUR\": 50000, \"CHF\": 50000, \"GBP\": 45000 }", with: "\"amount\": 40000")
        #expect(older != text)
        let rules = try CaptureRules.load(directory: try write(older))
        #expect(rules.fraud.firstOrderAbove == ["EUR": 40000])
    }

    @Test("versions by validFrom: an order is checked by the rules in force when it was placed")
    func versions() throws {
        let shipped = try String(contentsOfFile: repositoryConfig + "/capture.json", encoding: .utf8)
        let directory = try write(shipped)
        // From 2027 the shop stops shipping to Switzerland and holds at a lower fraud score.
        let next = shipped.replacingOccurrences(of: "\"validFrom\": \"2026-01-01T00:00:00Z\"", with: "\"validFrom\": \"2027-01-01T00:00:00Z\"")
            .replacingOccurrences(of: "\"CH\", ", with: "").replacingOccurrences(of: "\"holdThreshold\": 50", with: "\"holdThreshold\": 40")
        #expect(next != shipped)
        try next.write(toFile: directory + "/capture.2027.json", atomically: true, encoding: .utf8)
        let versions = try CaptureRules.loadVersions(directory: directory)
        #expect(versions.versions.map(\.rules.validFrom) == ["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"])
        let before = versions.rules(at: EventTime.parse("2026-12-31T23:59:59Z"))
        let after = versions.rules(at: EventTime.parse("2027-01-01T00:00:00Z"))
        #expect(before.servedCountries.contains("CH") && !after.servedCountries.contains("CH"))
        #expect(before.fraud.holdThreshold == 50 && after.fraud.holdThreshold == 40)
        // Before every version: the earliest applies.
        #expect(versions.rules(at: EventTime.parse("2025-01-01T00:00:00Z")).validFrom == "2026-01-01T00:00:00Z")
        // Two versions from the same instant are refused, naming the file.
        try shipped.write(toFile: directory + "/capture.copy.json", atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigurationFileError.self) { try CaptureRules.loadVersions(directory: directory) }
        #expect(error?.problem.contains("also the validFrom of") == true)
    }

    @Test("a missing file is named")
    func missingFile() {
        let error = #expect(throws: ConfigurationFileError.self) { try CaptureRules.load(directory: "/nonexistent") }
        #expect(error?.description == "configuration error: /nonexistent/capture.json: cannot be read")
    }

    @Test("the shipped file loads with a validity date")
    func shipped() {
        #expect(shippedRules.validFrom == "2026-01-01T00:00:00Z")
        #expect(shippedRules.fraud.rejectThreshold > shippedRules.fraud.holdThreshold)
    }
}

@Suite("Cancellation, approval and denial")
struct RequestDecisionTests {
    static func request(_ type: String) throws -> OrderRequest {
        try OrderRequest(type: type, data: ["orderId": "BB-1", "by": "Lena (customer service)", "reason": "checked by phone"])
    }

    static func request(_ type: String, by: String) throws -> OrderRequest {
        try OrderRequest(type: type, data: ["orderId": "BB-1", "by": .string(by), "reason": "checked by phone"])
    }

    @Test("staff approval lifts review, credit, price and stock holds; other holds stay")
    func approve() throws {
        let approve = try Self.request("Order.ApprovalGiven")
        #expect(RequestDecision.decide(approve, status: .onHold, holds: [.review])
            == .move(to: .accepted, reason: "approved by Lena (customer service) (held for review): checked by phone"))
        #expect(RequestDecision.decide(approve, status: .onHold, holds: [.review, .payment]) == .liftHolds(lifted: [.review], remaining: [.payment]))
        #expect(RequestDecision.decide(approve, status: .onHold, holds: [.credit, .price])
            == .move(to: .accepted, reason: "approved by Lena (customer service) (held for price, credit): checked by phone"))
    }

    @Test("the buyer's approver lifts the approval hold, and only that")
    func approverApproves() throws {
        let approve = try Self.request("Order.ApprovalGiven", by: "S-7")
        #expect(RequestDecision.decide(approve, status: .onHold, holds: [.approval], approvers: ["S-7", "S-8"])
            == .move(to: .accepted, reason: "approved by S-7 (held for approval): checked by phone"))
        #expect(RequestDecision.decide(approve, status: .onHold, holds: [.approval, .review], approvers: ["S-7"])
            == .liftHolds(lifted: [.approval], remaining: [.review]))
    }

    @Test("an approval by someone who is not the approver is refused naming the approvers")
    func wrongApprover() throws {
        let approve = try Self.request("Order.ApprovalGiven", by: "B-1")
        #expect(RequestDecision.decide(approve, status: .onHold, holds: [.approval], approvers: ["S-7", "S-8"])
            == .refuse("order BB-1 waits for approval by S-7 or S-8; B-1 is not an approver of this buyer, Order.ApprovalGiven refused"))
        // Staff cannot approve on the customer's behalf either.
        guard case .refuse = RequestDecision.decide(try Self.request("Order.ApprovalGiven"), status: .onHold, holds: [.approval],
                                                    approvers: ["S-7"]) else {
            Issue.record("staff must not lift a customer's approval hold")
            return
        }
        // Nor can an approver lift the shop's fraud review.
        guard case .refuse = RequestDecision.decide(try Self.request("Order.ApprovalGiven", by: "S-7"), status: .onHold, holds: [.review],
                                                    approvers: ["S-7"]) else {
            Issue.record("an approver must not lift a review hold")
            return
        }
    }

    @Test("a second approval, or one for an order not held, is refused with the reason")
    func refusedApprovals() throws {
        let approve = try Self.request("Order.ApprovalGiven")
        guard case .refuse(let why) = RequestDecision.decide(approve, status: .accepted, holds: []) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(why == "order BB-1 is accepted, not held; Order.ApprovalGiven by Lena (customer service) refused")
        guard case .refuse(let paymentWhy) = RequestDecision.decide(approve, status: .onHold, holds: [.payment]) else {
            Issue.record("a payment hold cannot be approved away")
            return
        }
        #expect(paymentWhy == "order BB-1 is held for payment, which Lena (customer service) cannot decide by an approval; Order.ApprovalGiven refused")
    }

    @Test("denial rejects: staff for a review, the approver for an approval")
    func deny() throws {
        #expect(RequestDecision.decide(try Self.request("Order.ApprovalDenied"), status: .onHold, holds: [.review])
            == .move(to: .rejected, reason: "denied by Lena (customer service) (held for review): checked by phone"))
        #expect(RequestDecision.decide(try Self.request("Order.ApprovalDenied", by: "S-7"), status: .onHold, holds: [.approval], approvers: ["S-7"])
            == .move(to: .rejected, reason: "denied by S-7 (held for approval): checked by phone"))
    }

    @Test("cancellation: held → cancelled, accepted → forwarded to the Router, finished → refused")
    func cancel() throws {
        let cancel = try Self.request("Order.CancellationRequested")
        #expect(RequestDecision.decide(cancel, status: .onHold, holds: [.payment])
            == .move(to: .cancelled, reason: "cancelled by Lena (customer service): checked by phone"))
        #expect(RequestDecision.decide(cancel, status: .accepted, holds: []) == .forwardToRouter)
        #expect(RequestDecision.decide(cancel, status: .rejected, holds: [])
            == .refuse("order BB-1 is already rejected; cancellation by Lena (customer service) refused"))
    }
}

@Suite("Waiting for the catalog")
struct CatalogWaitTests {
    static let waitingRules: CaptureRules = {
        let text = try! String(contentsOfFile: repositoryConfig + "/capture.json", encoding: .utf8)
            .replacingOccurrences(of: "\"unknownSku\": \"accept\"", with: "\"unknownSku\": \"wait\"")
        return try! CaptureRules(try! JSONParser.parse(text))
    }()

    @Test("with unknownSku=wait an unknown SKU holds the order (catalog); known SKUs do not")
    func unknownHolds() {
        let findings = CatalogCheck.evaluate(skus: ["NEW-1", "TENT-2P"], shippingStreet: "Hauptstr. 5",
                                             products: ["TENT-2P": IntakeChecksTests.tent()], rules: Self.waitingRules)
        #expect(findings.map(\.code) == ["sku.unknown"])
        #expect(findings.first?.effect == .hold(.catalog))
        #expect(findings.first?.message.contains("NEW-1") == true)
        #expect(CatalogCheck.evaluate(skus: ["TENT-2P"], shippingStreet: "Hauptstr. 5",
                                      products: ["TENT-2P": IntakeChecksTests.tent()], rules: Self.waitingRules).isEmpty)
    }

    @Test("with unknownSku=accept an unknown SKU passes")
    func unknownAccepted() {
        #expect(CatalogCheck.evaluate(skus: ["NEW-1"], shippingStreet: "Hauptstr. 5", products: [:], rules: shippedRules).isEmpty)
    }

    @Test("an unknown policy value is refused naming the setting")
    func badPolicy() throws {
        let text = try String(contentsOfFile: repositoryConfig + "/capture.json", encoding: .utf8)
            .replacingOccurrences(of: "\"unknownSku\": \"accept\"", with: "\"unknownSku\": \"maybe\"")
        let error = #expect(throws: RuleFileProblem.self) { try CaptureRules(try JSONParser.parse(text)) }
        #expect(error?.path == "catalog.unknownSku")
    }
}

extension Money {
    static func eur(_ minorUnits: Int64) -> Money { Money(minorUnits: minorUnits, currency: Currency("EUR")!) }
}
