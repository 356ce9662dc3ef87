import Foundation
import Shared

/// The return rule: which units of an order may come back, and whether a request is authorized, held for
/// customer service or refused — with the reason the customer is shown. Values in, decision out.
public enum ReturnPolicy {
    public struct OrderLine: Sendable, Equatable {
        public let lineID: String
        public let sku: String
        public let quantity: Int64
        public let unitPrice: Int64
        public let discount: Int64
        /// Made to the customer's wish (engraving, print): the order line carried a personalization.
        public let personalized: Bool

        public init(lineID: String, sku: String, quantity: Int64, unitPrice: Int64, discount: Int64, personalized: Bool) {
            self.lineID = lineID
            self.sku = sku
            self.quantity = quantity
            self.unitPrice = unitPrice
            self.discount = discount
            self.personalized = personalized
        }
    }

    /// What Returns knows of an order (from Order.Accepted, Shipment.Shipped/Delivered and its own returns).
    public struct Order: Sendable {
        public let orderID: String
        public let customerType: String
        public let currency: String
        public let lines: [OrderLine]
        public let orderDiscount: Int64
        /// Units shipped per line.
        public let shipped: [String: Int64]
        /// Units per line already asked back by returns that were not refused.
        public let returned: [String: Int64]
        public let lastShippedAt: Date?
        public let lastDeliveredAt: Date?

        public init(orderID: String, customerType: String, currency: String, lines: [OrderLine], orderDiscount: Int64,
                    shipped: [String: Int64], returned: [String: Int64], lastShippedAt: Date?, lastDeliveredAt: Date?) {
            self.orderID = orderID
            self.customerType = customerType
            self.currency = currency
            self.lines = lines
            self.orderDiscount = orderDiscount
            self.shipped = shipped
            self.returned = returned
            self.lastShippedAt = lastShippedAt
            self.lastDeliveredAt = lastDeliveredAt
        }

        public var isBusiness: Bool { customerType == "b2b" }
    }

    public struct Product: Sendable, Equatable {
        public let name: String?
        public let returnable: Bool
        public let category: String?
        public let dropShipSupplier: String?

        public init(name: String?, returnable: Bool, category: String?, dropShipSupplier: String?) {
            self.name = name
            self.returnable = returnable
            self.category = category
            self.dropShipSupplier = dropShipSupplier
        }
    }

    public struct RequestLine: Sendable, Equatable {
        public let lineID: String
        public let quantity: Int64
        public let reason: String

        public init(lineID: String, quantity: Int64, reason: String) {
            self.lineID = lineID
            self.quantity = quantity
            self.reason = reason
        }
    }

    /// Why a line cannot come back, in both portal languages.
    public struct Refusal: Sendable, Equatable {
        public let lineID: String?
        public let code: String
        public let english: String
        public let german: String

        public init(lineID: String?, code: String, english: String, german: String) {
            self.lineID = lineID
            self.code = code
            self.english = english
            self.german = german
        }

        public func text(_ language: PortalLanguage) -> String { language == .german ? german : english }
    }

    /// One line as the portal lists it.
    public struct Returnable: Sendable, Equatable {
        public let line: OrderLine
        /// Units that may still be asked back (0 when none).
        public let units: Int64
        /// Why none can, when `units` is 0.
        public let refusal: Refusal?
    }

    public enum Decision: Sendable, Equatable {
        case authorize
        case hold(reason: String)
        case reject([Refusal])
    }

    /// The last day a consumer (or business) may ask, as a calendar day in the shop's time zone; nil before anything shipped.
    public static func windowEnd(_ order: Order, rules: ReturnRules) -> Date? {
        let start: Date
        if let delivered = order.lastDeliveredAt {
            start = delivered
        } else if let shipped = order.lastShippedAt {
            start = shipped.addingTimeInterval(Double(rules.assumedTransitDays) * 86_400)
        } else {
            return nil
        }
        let days = order.isBusiness ? rules.b2bWindowDays : rules.consumerPolicyDays
        // The period ends at the end of its last day (§ 188 BGB), counted in the shop's calendar.
        let day = shopCalendar.startOfDay(for: start)
        return shopCalendar.date(byAdding: .day, value: days + 1, to: day)?.addingTimeInterval(-1)
    }

    static let shopCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin") ?? .gmt
        return calendar
    }()

    static func day(_ date: Date) -> String {
        let c = shopCalendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// Every line of the order with the units that may still come back.
    public static func returnable(_ order: Order, products: [String: Product], rules: ReturnRules, now: Date) -> [Returnable] {
        let end = windowEnd(order, rules: rules)
        return order.lines.map { line in
            if let refusal = lineRefusal(line, order: order, product: products[line.sku], rules: rules, windowEnd: end, now: now) {
                return Returnable(line: line, units: 0, refusal: refusal)
            }
            let open = max(0, (order.shipped[line.lineID] ?? 0) - (order.returned[line.lineID] ?? 0))
            let refusal = open > 0 ? nil : Refusal(lineID: line.lineID, code: "already-returned",
                                                    english: "Every shipped unit of this item has already been returned.",
                                                    german: "Alle gelieferten Stück dieses Artikels wurden bereits zurückgemeldet.")
            return Returnable(line: line, units: open, refusal: refusal)
        }
    }

    /// Why no unit of `line` may come back, whatever the quantity; nil when some may.
    static func lineRefusal(_ line: OrderLine, order: Order, product: Product?, rules: ReturnRules, windowEnd: Date?, now: Date) -> Refusal? {
        guard (order.shipped[line.lineID] ?? 0) > 0, let windowEnd else {
            return Refusal(lineID: line.lineID, code: "not-shipped", english: "This item has not been shipped yet.",
                           german: "Dieser Artikel wurde noch nicht versandt.")
        }
        if order.isBusiness && rules.b2bHandling == .refused {
            return Refusal(lineID: line.lineID, code: "b2b-no-returns", english: "Business orders cannot be returned through this portal; please contact us.",
                           german: "Geschäftskundenbestellungen können hier nicht zurückgegeben werden; bitte wenden Sie sich an uns.")
        }
        if now > windowEnd {
            return Refusal(lineID: line.lineID, code: "window-closed",
                           english: "The return period ended on \(day(windowEnd)).",
                           german: "Die Rückgabefrist endete am \(day(windowEnd)).")
        }
        if line.personalized && !rules.personalizedReturnable {
            // § 312g (2) 1 BGB: goods made to the consumer's specification are excluded from withdrawal.
            return Refusal(lineID: line.lineID, code: "personalized", english: "Personalized items cannot be returned.",
                           german: "Personalisierte Artikel sind von der Rückgabe ausgeschlossen.")
        }
        if let product, !product.returnable {
            return Refusal(lineID: line.lineID, code: "not-returnable", english: "This item is excluded from returns.",
                           german: "Dieser Artikel ist von der Rückgabe ausgeschlossen.")
        }
        if let category = product?.category, rules.nonReturnableCategories.contains(category) {
            // § 312g (2) 3 BGB: sealed goods for health protection or hygiene.
            return Refusal(lineID: line.lineID, code: "category-\(category)", english: "Items of this kind (\(category)) cannot be returned.",
                           german: "Artikel dieser Art (\(category)) sind von der Rückgabe ausgeschlossen.")
        }
        return nil
    }

    /// The decision on a request: refused when any line may not come back (each reason listed), held when a rule
    /// asks customer service to look, else authorized.
    public static func decide(_ request: [RequestLine], order: Order, products: [String: Product], rules: ReturnRules, now: Date) -> Decision {
        guard !request.isEmpty else {
            return .reject([Refusal(lineID: nil, code: "no-lines", english: "Choose at least one item to return.",
                                    german: "Wählen Sie mindestens einen Artikel für die Rückgabe.")])
        }
        let lines = returnable(order, products: products, rules: rules, now: now)
        let byID = Dictionary(lines.map { ($0.line.lineID, $0) }, uniquingKeysWith: { a, _ in a })
        var refusals: [Refusal] = []
        var seen: Set<String> = []
        var value: Int64 = 0
        let goodsTotal = PaidShare.goodsTotal(order.lines.map(paidLine))
        for item in request {
            guard seen.insert(item.lineID).inserted else {
                refusals.append(Refusal(lineID: item.lineID, code: "line-twice", english: "Item \(item.lineID) is listed twice.",
                                        german: "Position \(item.lineID) ist doppelt aufgeführt."))
                continue
            }
            guard let line = byID[item.lineID] else {
                refusals.append(Refusal(lineID: item.lineID, code: "unknown-line", english: "Item \(item.lineID) is not part of this order.",
                                        german: "Position \(item.lineID) gehört nicht zu dieser Bestellung."))
                continue
            }
            if rules.reason(item.reason) == nil {
                refusals.append(Refusal(lineID: item.lineID, code: "unknown-reason", english: "Choose a reason from the list.",
                                        german: "Wählen Sie einen Grund aus der Liste."))
            }
            if let refusal = line.refusal {
                refusals.append(refusal)
            } else if item.quantity < 1 || item.quantity > line.units {
                refusals.append(Refusal(lineID: item.lineID, code: "quantity",
                                        english: "Item \(item.lineID): \(line.units) unit(s) can be returned, \(item.quantity) requested.",
                                        german: "Position \(item.lineID): \(line.units) Stück können zurückgegeben werden, \(item.quantity) angefragt."))
            } else if let paid = PaidShare.paid(units: item.quantity, of: paidLine(line.line), orderDiscount: order.orderDiscount, goodsTotal: goodsTotal) {
                value = value.addingReportingOverflow(paid).overflow ? .max : value + paid
            }
        }
        guard refusals.isEmpty else { return .reject(refusals) }
        if order.isBusiness && rules.b2bHandling == .review {
            return .hold(reason: "business customer: returns are checked by customer service")
        }
        if let reason = request.compactMap({ rules.reason($0.reason) }).first(where: \.review) {
            return .hold(reason: "reason \(reason.code) is checked by customer service")
        }
        if let limit = rules.reviewAbove[order.currency], value > limit {
            return .hold(reason: "worth \(Money.format(value, order.currency)), above the \(Money.format(limit, order.currency)) that is authorized unseen")
        }
        return .authorize
    }

    static func paidLine(_ line: OrderLine) -> PaidShare.Line {
        PaidShare.Line(lineID: line.lineID, quantity: line.quantity, unitPrice: line.unitPrice, discount: line.discount)
    }
}
