import BillingTax
import Foundation
import Shared

/// An invoice or credit note as EN 16931 needs it, and its UN/CEFACT CII XML (Factur-X /
/// ZUGFeRD profile EN 16931). Built from the tax core's results; numbering and storing are the
/// handler's business.
public struct InvoiceDocument: Sendable {
    public enum TypeCode: String, Sendable { case invoice = "380", creditNote = "381", correction = "384", prepayment = "386" }

    public struct Party: Sendable {
        public let name: String
        public let street: String
        public let postalCode: String
        public let city: String
        public let country: String
        public let vatID: String?
        public let taxNumber: String?
        /// Where e-invoices reach the party (BT-34/BT-49) and the scheme of that address (EAS: "EM" e-mail, "0204" Leitweg-ID).
        public let electronicAddress: ElectronicAddress?
        /// The seller's contact (BG-6), which XRechnung requires.
        public let contact: Contact?
        public init(name: String, street: String, postalCode: String, city: String, country: String, vatID: String? = nil, taxNumber: String? = nil,
                    electronicAddress: ElectronicAddress? = nil, contact: Contact? = nil) {
            self.name = name
            self.street = street
            self.postalCode = postalCode
            self.city = city
            self.country = country
            self.vatID = vatID
            self.taxNumber = taxNumber
            self.electronicAddress = electronicAddress
            self.contact = contact
        }
    }

    public struct ElectronicAddress: Sendable, Equatable {
        public let id: String
        public let scheme: String
        public init(id: String, scheme: String) {
            self.id = id
            self.scheme = scheme
        }
    }

    public struct Contact: Sendable, Equatable {
        public let name: String
        public let phone: String
        public let email: String
        public init(name: String, phone: String, email: String) {
            self.name = name
            self.phone = phone
            self.email = email
        }
    }

    /// Where the buyer pays by SEPA credit transfer (BG-16/BG-17).
    public struct PayeeAccount: Sendable, Equatable {
        public let iban: String
        public let bic: String?
        public init(iban: String, bic: String?) {
            self.iban = iban
            self.bic = bic
        }
    }

    /// BT-24 of an XRechnung (the German CIUS of EN 16931, version 3.0), used when the buyer gave a reference (BT-10).
    public static let xrechnungSpecification = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"

    public struct Line: Sendable {
        public let id: String
        public let sku: String
        public let name: String
        public let quantity: Int64
        public let net: Money
        public let category: VATCategory
        public let rateBasisPoints: Int
        /// The line note (BT-127): a collective invoice names each line's delivery note and date here.
        public let note: String?
        /// The order and order line this line bills, where the line id is not the order line's (collective invoices).
        public let orderID: String?
        public let orderLineID: String?
        public init(id: String, sku: String, name: String, quantity: Int64, net: Money, category: VATCategory, rateBasisPoints: Int,
                    note: String? = nil, orderID: String? = nil, orderLineID: String? = nil) {
            self.id = id
            self.sku = sku
            self.name = name
            self.quantity = quantity
            self.net = net
            self.category = category
            self.rateBasisPoints = rateBasisPoints
            self.note = note
            self.orderID = orderID
            self.orderLineID = orderLineID
        }
    }

    /// Set by Billing once the document's turn in its number range comes (see `xmlTemplate`).
    public var number: String
    public let type: TypeCode
    public let issueDate: Date
    public let deliveryDate: Date
    public let seller: Party
    public let buyer: Party
    public let shipTo: Party?
    public let currency: Currency
    public let lines: [Line]
    public let calculation: TaxCalculation.Result
    /// Exemption reasons per category (legal notes), printed on the document and in BT-120.
    public let exemptionReasons: [VATCategory: (code: String, text: String)]
    public let paymentTerms: String?
    public let dueDate: Date?
    /// The invoice a credit note corrects (BT-25).
    public let precedingInvoice: String?
    public let notes: [String]
    /// The member state whose VAT the taxed lines carry (DE, or the destination under the One-Stop-Shop); nil when nothing is taxed.
    /// Not in the XML (EN 16931 has no field for it): the accounting export chooses the revenue account by it.
    public let taxCountry: String?
    /// The invoicing period (BT-73/74) of a collective invoice.
    public let billingPeriod: (start: Date, end: Date)?
    /// Paid before (vouchers, BT-113): the amount due is the total less this.
    public let prepaid: Money?
    /// The order discount's code and reason, for its document-level allowances (BT-97).
    public let allowanceReason: String?
    /// A final invoice: the deposit invoices it deducts (the accounting export clears them).
    public let deductedDeposits: [String]
    /// The buyer's reference (BT-10: a public buyer's Leitweg-ID or its own order reference): the document is then an XRechnung.
    public let buyerReference: String?
    public let payee: PayeeAccount?

    public init(number: String, type: TypeCode, issueDate: Date, deliveryDate: Date, seller: Party, buyer: Party, shipTo: Party?, currency: Currency,
                lines: [Line], calculation: TaxCalculation.Result, exemptionReasons: [VATCategory: (code: String, text: String)], paymentTerms: String?,
                dueDate: Date?, precedingInvoice: String? = nil, notes: [String] = [], taxCountry: String? = nil,
                billingPeriod: (start: Date, end: Date)? = nil, prepaid: Money? = nil, allowanceReason: String? = nil, deductedDeposits: [String] = [],
                buyerReference: String? = nil, payee: PayeeAccount? = nil) {
        self.buyerReference = buyerReference
        self.payee = payee
        self.number = number
        self.type = type
        self.issueDate = issueDate
        self.deliveryDate = deliveryDate
        self.seller = seller
        self.buyer = buyer
        self.shipTo = shipTo
        self.currency = currency
        self.lines = lines
        self.calculation = calculation
        self.exemptionReasons = exemptionReasons
        self.paymentTerms = paymentTerms
        self.dueDate = dueDate
        self.precedingInvoice = precedingInvoice
        self.notes = notes
        self.taxCountry = taxCountry
        self.billingPeriod = billingPeriod
        self.prepaid = prepaid
        self.allowanceReason = allowanceReason
        self.deductedDeposits = deductedDeposits
    }

    /// What is still to be paid (BT-115).
    public var duePayable: Money {
        Money(minorUnits: calculation.total.minorUnits - (prepaid?.minorUnits ?? 0), currency: currency)
    }

    /// The CII XML, canonical bytes: the same document always gives the same bytes (for the archive's hash chain).
    public func xml() -> String { xmlTemplate().filled(number: number) }

    /// The CII XML with a hole where the document number goes (BT-1, its one place in the document): Billing renders
    /// documents before it takes their numbers, because the numbers' counter rows and the archive chain stay locked
    /// until the transaction ends — everything done after taking them is done by one copy at a time.
    public func xmlTemplate() -> XMLTemplate {
        var x = XMLWriter()
        x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        x.open("rsm:CrossIndustryInvoice", attributes: [
            ("xmlns:rsm", "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"),
            ("xmlns:ram", "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"),
            ("xmlns:udt", "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"),
            ("xmlns:qdt", "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"),
        ])
        x.open("rsm:ExchangedDocumentContext")
        if buyerReference != nil {
            // BT-23, which XRechnung requires: the Peppol billing process.
            x.open("ram:BusinessProcessSpecifiedDocumentContextParameter")
            x.element("ram:ID", "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
            x.close()
        }
        x.open("ram:GuidelineSpecifiedDocumentContextParameter")
        x.element("ram:ID", buyerReference == nil ? "urn:cen.eu:en16931:2017" : Self.xrechnungSpecification)
        x.close()
        x.close()
        x.open("rsm:ExchangedDocument")
        x.open("ram:ID")
        x.hole()
        x.close()
        x.element("ram:TypeCode", type.rawValue)
        x.open("ram:IssueDateTime")
        x.element("udt:DateTimeString", Self.day(issueDate), attributes: [("format", "102")])
        x.close()
        for note in notes + exemptionReasons.keys.sorted(by: { $0.rawValue < $1.rawValue }).compactMap({ exemptionReasons[$0]?.text }) {
            x.open("ram:IncludedNote")
            x.element("ram:Content", note)
            x.close()
        }
        x.close()
        x.open("rsm:SupplyChainTradeTransaction")
        for line in lines {
            x.open("ram:IncludedSupplyChainTradeLineItem")
            x.open("ram:AssociatedDocumentLineDocument")
            x.element("ram:LineID", line.id)
            if let note = line.note {
                x.open("ram:IncludedNote")
                x.element("ram:Content", note)
                x.close()
            }
            x.close()
            x.open("ram:SpecifiedTradeProduct")
            x.element("ram:SellerAssignedID", line.sku)
            x.element("ram:Name", line.name)
            x.close()
            x.open("ram:SpecifiedLineTradeAgreement")
            x.open("ram:NetPriceProductTradePrice")
            x.element("ram:ChargeAmount", Self.unitPrice(line.net, quantity: line.quantity))
            x.close()
            x.close()
            x.open("ram:SpecifiedLineTradeDelivery")
            x.element("ram:BilledQuantity", String(line.quantity), attributes: [("unitCode", "C62")])
            x.close()
            x.open("ram:SpecifiedLineTradeSettlement")
            tradeTax(&x, category: line.category, rate: line.rateBasisPoints)
            x.open("ram:SpecifiedTradeSettlementLineMonetarySummation")
            x.element("ram:LineTotalAmount", Self.amount(line.net))
            x.close()
            x.close()
            x.close()
        }
        x.open("ram:ApplicableHeaderTradeAgreement")
        if let buyerReference { x.element("ram:BuyerReference", buyerReference) }
        party(&x, "ram:SellerTradeParty", seller)
        party(&x, "ram:BuyerTradeParty", buyer)
        x.close()
        x.open("ram:ApplicableHeaderTradeDelivery")
        if let shipTo { party(&x, "ram:ShipToTradeParty", shipTo, withTax: false) }
        x.open("ram:ActualDeliverySupplyChainEvent")
        x.open("ram:OccurrenceDateTime")
        x.element("udt:DateTimeString", Self.day(deliveryDate), attributes: [("format", "102")])
        x.close()
        x.close()
        x.close()
        x.open("ram:ApplicableHeaderTradeSettlement")
        x.element("ram:InvoiceCurrencyCode", currency.code)
        if let payee {
            x.open("ram:SpecifiedTradeSettlementPaymentMeans")
            x.element("ram:TypeCode", "58")
            x.open("ram:PayeePartyCreditorFinancialAccount")
            x.element("ram:IBANID", payee.iban)
            x.close()
            if let bic = payee.bic {
                x.open("ram:PayeeSpecifiedCreditorFinancialInstitution")
                x.element("ram:BICID", bic)
                x.close()
            }
            x.close()
        }
        for row in calculation.breakdown {
            x.open("ram:ApplicableTradeTax")
            x.element("ram:CalculatedAmount", Self.amount(row.tax))
            x.element("ram:TypeCode", "VAT")
            if let reason = exemptionReasons[row.category] { x.element("ram:ExemptionReason", reason.text) }
            x.element("ram:BasisAmount", Self.amount(row.taxable))
            x.element("ram:CategoryCode", row.category.rawValue)
            if let reason = exemptionReasons[row.category] { x.element("ram:ExemptionReasonCode", reason.code) }
            x.element("ram:RateApplicablePercent", Self.percent(row.rateBasisPoints))
            x.close()
        }
        if let period = billingPeriod {
            x.open("ram:BillingSpecifiedPeriod")
            x.open("ram:StartDateTime")
            x.element("udt:DateTimeString", Self.day(period.start), attributes: [("format", "102")])
            x.close()
            x.open("ram:EndDateTime")
            x.element("udt:DateTimeString", Self.day(period.end), attributes: [("format", "102")])
            x.close()
            x.close()
        }
        for (rows, isCharge) in [(calculation.charges, true), (calculation.allowances, false)] {
            for row in rows where row.taxable.minorUnits != 0 {
                x.open("ram:SpecifiedTradeAllowanceCharge")
                x.open("ram:ChargeIndicator")
                x.element("udt:Indicator", isCharge ? "true" : "false")
                x.close()
                x.element("ram:ActualAmount", Self.amount(row.taxable))
                x.element("ram:Reason", isCharge ? "Versand / Shipping" : "Rabatt / Discount" + (allowanceReason.map { " \($0)" } ?? ""))
                x.open("ram:CategoryTradeTax")
                x.element("ram:TypeCode", "VAT")
                x.element("ram:CategoryCode", row.category.rawValue)
                x.element("ram:RateApplicablePercent", Self.percent(row.rateBasisPoints))
                x.close()
                x.close()
            }
        }
        if paymentTerms != nil || dueDate != nil {
            x.open("ram:SpecifiedTradePaymentTerms")
            if let paymentTerms { x.element("ram:Description", paymentTerms) }
            if let dueDate {
                x.open("ram:DueDateDateTime")
                x.element("udt:DateTimeString", Self.day(dueDate), attributes: [("format", "102")])
                x.close()
            }
            x.close()
        }
        let lineTotal = lines.reduce(Int64(0)) { $0 + $1.net.minorUnits }
        let charges = calculation.charges.reduce(Int64(0)) { $0 + $1.taxable.minorUnits }
        let allowances = calculation.allowances.reduce(Int64(0)) { $0 + $1.taxable.minorUnits }
        x.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        x.element("ram:LineTotalAmount", Self.amount(Money(minorUnits: lineTotal, currency: currency)))
        x.element("ram:ChargeTotalAmount", Self.amount(Money(minorUnits: charges, currency: currency)))
        x.element("ram:AllowanceTotalAmount", Self.amount(Money(minorUnits: allowances, currency: currency)))
        x.element("ram:TaxBasisTotalAmount", Self.amount(calculation.totalNet))
        x.element("ram:TaxTotalAmount", Self.amount(calculation.totalTax), attributes: [("currencyID", currency.code)])
        if calculation.rounding.minorUnits != 0 { x.element("ram:RoundingAmount", Self.amount(calculation.rounding)) }
        x.element("ram:GrandTotalAmount", Self.amount(Money(minorUnits: calculation.totalNet.minorUnits + calculation.totalTax.minorUnits, currency: currency)))
        if let prepaid, prepaid.minorUnits != 0 { x.element("ram:TotalPrepaidAmount", Self.amount(prepaid)) }
        x.element("ram:DuePayableAmount", Self.amount(duePayable))
        x.close()
        if let precedingInvoice {
            x.open("ram:InvoiceReferencedDocument")
            x.element("ram:IssuerAssignedID", precedingInvoice)
            x.close()
        }
        x.close()
        x.close()
        x.close()
        return x.template
    }

    func tradeTax(_ x: inout XMLWriter, category: VATCategory, rate: Int) {
        x.open("ram:ApplicableTradeTax")
        x.element("ram:TypeCode", "VAT")
        x.element("ram:CategoryCode", category.rawValue)
        x.element("ram:RateApplicablePercent", Self.percent(rate))
        x.close()
    }

    func party(_ x: inout XMLWriter, _ name: String, _ p: Party, withTax: Bool = true) {
        x.open(name)
        x.element("ram:Name", p.name)
        // Contact and electronic address belong to seller and buyer (BG-6, BT-34, BT-49), not to the ship-to party.
        if withTax, let contact = p.contact {
            x.open("ram:DefinedTradeContact")
            x.element("ram:PersonName", contact.name)
            x.open("ram:TelephoneUniversalCommunication")
            x.element("ram:CompleteNumber", contact.phone)
            x.close()
            x.open("ram:EmailURIUniversalCommunication")
            x.element("ram:URIID", contact.email)
            x.close()
            x.close()
        }
        x.open("ram:PostalTradeAddress")
        x.element("ram:PostcodeCode", p.postalCode)
        x.element("ram:LineOne", p.street)
        x.element("ram:CityName", p.city)
        x.element("ram:CountryID", p.country)
        x.close()
        if withTax, let address = p.electronicAddress {
            x.open("ram:URIUniversalCommunication")
            x.element("ram:URIID", address.id, attributes: [("schemeID", address.scheme)])
            x.close()
        }
        if withTax {
            if let vat = p.vatID {
                x.open("ram:SpecifiedTaxRegistration")
                x.element("ram:ID", vat, attributes: [("schemeID", "VA")])
                x.close()
            }
            if let tax = p.taxNumber {
                x.open("ram:SpecifiedTaxRegistration")
                x.element("ram:ID", tax, attributes: [("schemeID", "FC")])
                x.close()
            }
        }
        x.close()
    }

    static func day(_ date: Date) -> String {
        if let d = EventTime.utcDay(date) { return zeroPadded(d.year, width: 4) + zeroPadded(d.month, width: 2) + zeroPadded(d.day, width: 2) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// "02.03.2026", as German documents print dates.
    public static func germanDay(_ date: Date) -> String {
        let d = day(date)
        return "\(d.suffix(2)).\(d.dropFirst(4).prefix(2)).\(d.prefix(4))"
    }

    /// Minor units as a decimal amount with the currency's digits ("1234.50").
    static func amount(_ money: Money) -> String {
        let digits = money.currency.minorUnitDigits
        var divisor: Int64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let sign = money.minorUnits < 0 ? "-" : ""
        let value = money.minorUnits.magnitude
        let whole = value / UInt64(divisor), fraction = value % UInt64(divisor)
        guard digits > 0 else { return "\(sign)\(whole)" }
        let text = String(fraction)
        return "\(sign)\(whole).\(String(repeating: "0", count: digits - text.count))\(text)"
    }

    /// The net unit price (BT-146), to 4 decimals where the line net does not divide evenly.
    static func unitPrice(_ net: Money, quantity: Int64) -> String {
        let (scaled, overflow) = net.minorUnits.multipliedReportingOverflow(by: 100)
        guard quantity > 1, !overflow, net.currency.minorUnitDigits == 2 else { return amount(net) }
        let q = quantity
        let hundredths = (scaled + (scaled >= 0 ? q / 2 : -q / 2)) / q   // in 1/10000 of the currency unit (for 2-digit currencies)
        let sign = hundredths < 0 ? "-" : ""
        let value = hundredths.magnitude
        let fraction = String(value % 10_000)
        return "\(sign)\(value / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }

    static func percent(_ basisPoints: Int) -> String {
        let fraction = String(basisPoints % 100)
        return "\(basisPoints / 100).\(String(repeating: "0", count: 2 - fraction.count))\(fraction)"
    }
}

/// A minimal XML writer: elements and attributes, text escaped (& < > " and control characters).
/// A rendered document with a hole for its number.
public struct XMLTemplate: Sendable {
    let before: String
    let after: String

    public func filled(number: String) -> String {
        var out = before
        XMLWriter.appendEscaped(number, to: &out)
        out += after
        return out
    }
}

struct XMLWriter {
    private(set) var text = ""
    private var stack: [String] = []
    private var beforeHole: String?

    /// Leaves a hole here for `XMLTemplate.filled(number:)` (one per document).
    mutating func hole() {
        beforeHole = text
        text = ""
    }

    var template: XMLTemplate { XMLTemplate(before: beforeHole ?? "", after: text) }

    mutating func raw(_ s: String) { text += s }

    mutating func open(_ name: String, attributes: [(String, String)] = []) {
        startTag(name, attributes)
        stack.append(name)
    }

    mutating func close() {
        guard let name = stack.popLast() else { return }
        text += "</"
        text += name
        text += ">"
    }

    mutating func element(_ name: String, _ value: String, attributes: [(String, String)] = []) {
        startTag(name, attributes)
        Self.appendEscaped(value, to: &text)
        text += "</"
        text += name
        text += ">"
    }

    /// Appended piece by piece: building each tag from interpolations and a joined map was a third of the
    /// document's cost (measured in oms-billing).
    private mutating func startTag(_ name: String, _ attributes: [(String, String)]) {
        text += "<"
        text += name
        for (attribute, value) in attributes {
            text += " "
            text += attribute
            text += "=\""
            Self.appendEscaped(value, to: &text)
            text += "\""
        }
        text += ">"
    }

    static func escape(_ value: String) -> String {
        var out = ""
        appendEscaped(value, to: &out)
        return out
    }

    /// Text that needs no escaping (the usual case: amounts, dates, codes, names) is appended as it is.
    static func appendEscaped(_ value: String, to out: inout String) {
        if !value.utf8.contains(where: needsEscaping) {
            out += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t": out.unicodeScalars.append(scalar)
            default:
                // XML 1.0 cannot carry other control characters at all.
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
    }

    /// A byte that may start something `appendEscaped` changes: & < > ", a control character other than
    /// newline and tab, or the lead byte of U+FFFE/U+FFFF (0xEF; other characters starting with it are kept).
    private static func needsEscaping(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), 0xEF: return true
        case 0x0A, 0x09: return false
        default: return byte < 0x20
        }
    }
}
