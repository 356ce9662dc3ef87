import ArgumentParser
import BillingDocuments
import BillingTax
import Foundation
import Shared

/// Finance's outputs: the accounting export of a period.
struct BillingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "billing", abstract: "Accounting exports of issued documents.",
                                                    subcommands: [Export.self])

    enum Format: String, ExpressibleByArgument, CaseIterable { case datev, csv }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every invoice and credit note issued in a month (dates in UTC, as printed on the documents) as a DATEV Buchungsstapel or a plain CSV.")
        @Option(help: "The month, YYYY-MM.") var period: String
        @Option(help: "datev (EXTF Buchungsstapel, Windows-1252) or csv (UTF-8).") var format: Format = .datev
        @Option(help: "Write to this file instead of standard output.") var output: String?

        /// The first instant of the month and of the next one.
        static func month(_ text: String) -> (from: Date, until: Date)? {
            let parts = text.split(separator: "-")
            guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
                  (2000...2999).contains(year), (1...12).contains(month) else { return nil }
            let from = EventTime.parse(String(format: "%04d-%02d-01T00:00:00Z", year, month))
            let until = EventTime.parse(month == 12 ? String(format: "%04d-01-01T00:00:00Z", year + 1) : String(format: "%04d-%02d-01T00:00:00Z", year, month + 1))
            return (from, until)
        }

        func validate() throws {
            guard Self.month(period) != nil else { throw ValidationError("--period must be a month as YYYY-MM (e.g. 2026-11), not \"\(period.prefix(40))\"") }
        }

        func run() throws {
            guard let (from, until) = Self.month(period) else { throw CLIError("--period must be YYYY-MM") }
            let directory = try CLIEnvironment.value("OMS_CONFIG_DIR")
            let accounting = try AccountingRules.load(directory: directory).rules(at: { from })
            let tax = try TaxRules.load(directory: directory).rules(at: { from })
            let database = try CLIEnvironment.database()
            let rows = try CLIError.detailed { try database.query("""
                SELECT d.number, d.order_id, d.customer_id, d.content::text AS content FROM billing.documents d JOIN billing.archive a USING (number)
                WHERE d.issued_at >= \(EventTime.format(from))::timestamptz AND d.issued_at < \(EventTime.format(until))::timestamptz ORDER BY a.seq
                """) }
            var documents: [(document: InvoiceDocument, orderID: String, customerID: String)] = []
            for row in rows {
                let number: String = try row.decode("number")
                guard let document = InvoiceDocument(json: try JSONParser.parse(try row.decode("content", as: String.self))) else {
                    throw CLIError("the stored content of \(number) cannot be read")
                }
                documents.append((document, try row.decode("order_id"), try row.decode("customer_id")))
            }
            let bookings: [AccountingExport.Booking]
            do { bookings = try AccountingExport.bookings(documents, sellerCountry: tax.seller.country, rules: accounting) } catch { throw CLIError(error.description) }
            let bytes: [UInt8]
            switch format {
            case .datev:
                bytes = AccountingExport.datev(bookings, rules: accounting, from: from, until: until.addingTimeInterval(-1), createdAt: Date())
            case .csv:
                bytes = Array(AccountingExport.csv(bookings).utf8)
            }
            if let output {
                try Data(bytes).write(to: URL(fileURLWithPath: output))
                var perAccount: [String: (debit: Int64, credit: Int64)] = [:]
                for b in bookings {
                    var entry = perAccount[b.contraAccount] ?? (0, 0)
                    if b.debit { entry.debit = entry.debit.addingReportingOverflow(b.gross).partialValue } else { entry.credit = entry.credit.addingReportingOverflow(b.gross).partialValue }
                    perAccount[b.contraAccount] = entry
                }
                let currency = bookings.first?.currency ?? "EUR"
                print("\(documents.count) document(s), \(bookings.count) booking(s) of \(period) written to \(output) (\(format.rawValue))")
                for (account, sums) in perAccount.sorted(by: { $0.key < $1.key }) {
                    print("  \(account): invoiced \(Money.format(sums.debit, currency)), corrected \(Money.format(sums.credit, currency))")
                }
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }
}
