import BillingTax
import Foundation
import Shared

/// `$OMS_CONFIG_DIR/accounting.json`: how issued documents become bookings — the DATEV client data
/// and the revenue account per treatment. The accounts are the tax adviser's choice (the file ships
/// with SKR03 accounts as an example that must be confirmed).
public struct AccountingRules: VersionedRules {
    public let validFrom: String
    public let consultantNumber: Int
    public let clientNumber: Int
    /// First month of the fiscal year (1 = January).
    public let fiscalYearStartMonth: Int
    public let accountLength: Int
    /// The customers' receivables account (a collective debtor).
    public let debtorAccount: String
    /// Treatment key → revenue account. Keys: "domestic-<rate bp>" (the seller's own VAT), "oss" (another member
    /// state's VAT), and the exempt categories "K" (intra-Community), "G" (export), "AE" (reverse charge),
    /// "O" (not taxable here), "E" (exempt), "Z" (zero rate).
    public let revenueAccounts: [String: String]

    public static func load(directory: String) throws -> RuleVersions<AccountingRules> {
        try RuleVersions.load("accounting", directory: directory, build: parse)
    }

    public static func parse(_ document: JSONValue) throws -> AccountingRules {
        let root = RuleReader(document, path: "")
        let datev = try root.child("datev")
        var accounts: [String: String] = [:]
        for (key, value) in try root.object("revenueAccounts") {
            guard let account = value.stringValue, !account.isEmpty, account.count <= 9, account.allSatisfy(\.isNumber) else {
                throw RuleFileProblem(path: "revenueAccounts.\(key)", key: key, problem: "an account number of 1 to 9 digits")
            }
            accounts[key] = account
        }
        let debtor = try root.string("debtorAccount")
        guard !debtor.isEmpty, debtor.count <= 9, debtor.allSatisfy(\.isNumber) else {
            throw RuleFileProblem(path: "debtorAccount", key: "debtorAccount", problem: "an account number of 1 to 9 digits")
        }
        let month = try datev.integer("fiscalYearStartMonth", minimum: 1)
        guard month <= 12 else { throw RuleFileProblem(path: "datev.fiscalYearStartMonth", key: "fiscalYearStartMonth", problem: "1 to 12") }
        let length = try datev.integer("accountLength", minimum: 4)
        guard length <= 9 else { throw RuleFileProblem(path: "datev.accountLength", key: "accountLength", problem: "4 to 9") }
        return AccountingRules(validFrom: try root.string("validFrom"), consultantNumber: try datev.integer("consultantNumber", minimum: 1001),
                               clientNumber: try datev.integer("clientNumber", minimum: 1), fiscalYearStartMonth: month, accountLength: length,
                               debtorAccount: debtor, revenueAccounts: accounts)
    }
}

/// The accounting rule: each issued document gives one booking per VAT category and rate — the gross of that
/// row from the debtor to the revenue account of its treatment (the account's automatic VAT splits it again);
/// an invoice is a debit (S) of the debtor, a credit note a credit (H); a document's bookings add up to its total
/// (the rounding cent of gross prices goes with the largest). A treatment without an account is a
/// problem, never a guess.
public enum AccountingExport {
    public struct Booking: Sendable, Equatable {
        public let number: String
        public let typeCode: String
        public let issueDate: Date
        public let deliveryDate: Date
        public let orderID: String
        public let customerID: String
        public let currency: String
        public let category: String
        public let rateBasisPoints: Int
        public let taxCountry: String?
        public let treatment: String
        public let taxable: Int64
        public let tax: Int64
        public let gross: Int64
        public let debit: Bool
        public let account: String
        public let contraAccount: String
        public let precedingInvoice: String?
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func treatment(category: VATCategory, rate: Int, taxCountry: String?, sellerCountry: String, prepayment: Bool = false) -> String {
        // A deposit is not revenue yet: it goes to the received-deposits account of its rate.
        if prepayment, category == .standard, taxCountry == nil || taxCountry == sellerCountry { return "deposit-\(rate)" }
        switch category {
        case .standard, .zero:
            if let taxCountry, taxCountry != sellerCountry { return "oss" }
            return "domestic-\(rate)"
        default: return category.rawValue
        }
    }

    /// - Parameter deposits: the deposit invoices that final invoices among `documents` deduct, by number: each deduction
    ///   is booked back (credit the debtor, debit the received-deposit account of each of the deposit's rates).
    public static func bookings(_ documents: [(document: InvoiceDocument, orderID: String, customerID: String)], sellerCountry: String,
                                rules: AccountingRules, deposits: [String: InvoiceDocument] = [:]) throws(Problem) -> [Booking] {
        var result: [Booking] = []
        for (document, orderID, customerID) in documents {
            // After the document's own bookings (and their rounding cent): a final invoice clears each deposit it deducts.
            defer {
                for number in document.deductedDeposits {
                    guard let deposit = deposits[number] else { continue }
                    // The same gross per rate the deposit was booked with (its rounding cent on its largest row).
                    let rows = deposit.calculation.breakdown
                    var grosses = rows.map { $0.taxable.minorUnits.addingReportingOverflow($0.tax.minorUnits).partialValue }
                    let rest = deposit.calculation.total.minorUnits - grosses.reduce(Int64(0)) { $0.addingReportingOverflow($1).partialValue }
                    if rest != 0, let largest = grosses.indices.max(by: { grosses[$0] < grosses[$1] }) { grosses[largest] += rest }
                    for (row, gross) in zip(rows, grosses) {
                        let key = treatment(category: row.category, rate: row.rateBasisPoints, taxCountry: deposit.taxCountry, sellerCountry: sellerCountry,
                                            prepayment: true)
                        result.append(Booking(number: document.number, typeCode: document.type.rawValue, issueDate: document.issueDate,
                                              deliveryDate: document.deliveryDate, orderID: orderID, customerID: customerID, currency: document.currency.code,
                                              category: row.category.rawValue, rateBasisPoints: row.rateBasisPoints, taxCountry: deposit.taxCountry,
                                              treatment: "deducted-" + key, taxable: row.taxable.minorUnits, tax: row.tax.minorUnits, gross: gross,
                                              debit: false, account: rules.debtorAccount, contraAccount: rules.revenueAccounts[key] ?? "", precedingInvoice: number))
                    }
                }
            }
            let debit = document.type != .creditNote
            let first = result.count
            for row in document.calculation.breakdown {
                let key = treatment(category: row.category, rate: row.rateBasisPoints, taxCountry: document.taxCountry, sellerCountry: sellerCountry,
                                    prepayment: document.type == .prepayment)
                guard let account = rules.revenueAccounts[key] else {
                    throw Problem(description: "\(document.number): accounting.json revenueAccounts has no account for \"\(key)\"")
                }
                let (gross, overflow) = row.taxable.minorUnits.addingReportingOverflow(row.tax.minorUnits)
                guard !overflow else { throw Problem(description: "\(document.number): amounts overflow") }
                result.append(Booking(number: document.number, typeCode: document.type.rawValue, issueDate: document.issueDate,
                                      deliveryDate: document.deliveryDate, orderID: orderID, customerID: customerID, currency: document.currency.code,
                                      category: row.category.rawValue, rateBasisPoints: row.rateBasisPoints, taxCountry: document.taxCountry,
                                      treatment: key, taxable: row.taxable.minorUnits, tax: row.tax.minorUnits, gross: gross, debit: debit,
                                      account: rules.debtorAccount, contraAccount: account, precedingInvoice: document.precedingInvoice))
            }
            // Gross prices leave a rounding cent between the rates' gross and what was paid (BT-114): it goes with the
            // largest booking, so that the debtor is booked with exactly the document's total.
            var booked: Int64 = 0
            for b in result[first...] { booked = booked.addingReportingOverflow(b.gross).partialValue }
            let rest = document.calculation.total.minorUnits.subtractingReportingOverflow(booked).partialValue
            if rest != 0, let largest = result[first...].indices.max(by: { result[$0].gross < result[$1].gross }) {
                let b = result[largest]
                result[largest] = Booking(number: b.number, typeCode: b.typeCode, issueDate: b.issueDate, deliveryDate: b.deliveryDate, orderID: b.orderID,
                                          customerID: b.customerID, currency: b.currency, category: b.category, rateBasisPoints: b.rateBasisPoints,
                                          taxCountry: b.taxCountry, treatment: b.treatment, taxable: b.taxable, tax: b.tax, gross: b.gross + rest,
                                          debit: b.debit, account: b.account, contraAccount: b.contraAccount, precedingInvoice: b.precedingInvoice)
            }
        }
        return result
    }

    /// "1234,56" — DATEV amounts: positive, comma decimal, no thousands separator.
    static func datevAmount(_ minor: Int64) -> String {
        let value = minor.magnitude
        return "\(value / 100),\(String(format: "%02llu", value % 100))"
    }

    static func quoted(_ text: String, max: Int) -> String {
        "\"" + String(text.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\n", with: " ").prefix(max)) + "\""
    }

    static func utc(_ date: Date) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    }

    public static let datevColumns = [
        "Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto",
        "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext",
    ]

    /// A DATEV "Buchungsstapel" (EXTF format 700, category 21, version 13): the header line, the column line,
    /// one line per booking; Windows-1252, semicolons, CRLF.
    public static func datev(_ bookings: [Booking], rules: AccountingRules, from: Date, until: Date, createdAt: Date) -> [UInt8] {
        let c = utc(createdAt), f = utc(from), u = utc(until)
        let created = String(format: "%04d%02d%02d%02d%02d%02d000", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        let fiscalYear = (f.month ?? 1) >= rules.fiscalYearStartMonth ? (f.year ?? 0) : (f.year ?? 0) - 1
        let header: [String] = [
            "\"EXTF\"", "700", "21", "\"Buchungsstapel\"", "13", created, "", "\"RE\"", "\"oms-billing\"", "\"\"", String(rules.consultantNumber),
            String(rules.clientNumber), String(format: "%04d%02d01", fiscalYear, rules.fiscalYearStartMonth), String(rules.accountLength),
            String(format: "%04d%02d%02d", f.year ?? 0, f.month ?? 0, f.day ?? 0), String(format: "%04d%02d%02d", u.year ?? 0, u.month ?? 0, u.day ?? 0),
            quoted("Ausgangsrechnungen \(String(format: "%04d-%02d", f.year ?? 0, f.month ?? 0))", max: 30), "\"\"", "1", "0", "0",
            quoted(bookings.first?.currency ?? "EUR", max: 3), "", "\"\"", "", "", "\"\"", "", "", "\"\"", "\"\"",
        ]
        var lines = [header.joined(separator: ";"), datevColumns.map { quoted($0, max: 60) }.joined(separator: ";")]
        for b in bookings {
            let d = utc(b.issueDate)
            let text = (b.treatment.hasPrefix("deducted-") ? "Anzahlung \(b.precedingInvoice ?? "") verrechnet"
                        : b.typeCode == "381" ? "Korrektur \(b.precedingInvoice ?? "")" : "Rechnung") + " \(b.orderID) \(b.customerID)"
            lines.append([
                datevAmount(b.gross), b.debit ? "\"S\"" : "\"H\"", quoted(b.currency, max: 3), "", "", "", b.account, b.contraAccount, "\"\"",
                                // Belegfeld 2 holds 12 characters, too few for a document number: the corrected invoice goes into the text.
                String(format: "%02d%02d", d.day ?? 0, d.month ?? 0), quoted(b.number, max: 36), "\"\"", "",
                quoted(text, max: 60),
            ].joined(separator: ";"))
        }
        let text = lines.joined(separator: "\r\n") + "\r\n"
        return Array(text.data(using: .windowsCP1252, allowLossyConversion: true) ?? Data(text.utf8))
    }

    /// A plain CSV (UTF-8, comma, dot decimal; credit notes negative) for spreadsheets and other ledgers.
    public static func csv(_ bookings: [Booking]) -> String {
        func amount(_ minor: Int64, negative: Bool) -> String {
            let v = minor.magnitude
            let sign = (negative && minor != 0) != (minor < 0) ? "-" : ""
            return "\(sign)\(v / 100).\(String(format: "%02llu", v % 100))"
        }
        func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        var out = "number,type,issue_date,delivery_date,order_id,customer_id,currency,category,rate_percent,tax_country,treatment,taxable,tax,gross,debtor_account,revenue_account,corrects\n"
        for b in bookings {
            let credit = !b.debit
            out += [b.number, b.typeCode, String(EventTime.format(b.issueDate).prefix(10)), String(EventTime.format(b.deliveryDate).prefix(10)), b.orderID,
                    b.customerID, b.currency, b.category, InvoiceDocument.percent(b.rateBasisPoints), b.taxCountry ?? "", b.treatment,
                    amount(b.taxable, negative: credit), amount(b.tax, negative: credit), amount(b.gross, negative: credit), b.account, b.contraAccount,
                    b.precedingInvoice ?? ""].map(field).joined(separator: ",") + "\n"
        }
        return out
    }
}
