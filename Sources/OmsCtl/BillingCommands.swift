import ArgumentParser
import BillingDocuments
import BillingTax
import Foundation
import Shared

/// Finance's outputs: the accounting export of a period.
struct BillingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "billing", abstract: "Accounting exports of issued documents.",
                                                    subcommands: [Export.self, RunCollective.self])

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
            // Final invoices clear the deposits they deduct, whichever month those were issued in.
            let depositNumbers = Array(Set(documents.flatMap(\.document.deductedDeposits)))
            var deposits: [String: InvoiceDocument] = [:]
            for row in try database.query("SELECT number, content::text AS content FROM billing.documents WHERE number = ANY(\(depositNumbers)::text[])") {
                deposits[try row.decode("number")] = InvoiceDocument(json: try JSONParser.parse(try row.decode("content", as: String.self)))
            }
            let bookings: [AccountingExport.Booking]
            do { bookings = try AccountingExport.bookings(documents, sellerCountry: tax.seller.country, rules: accounting, deposits: deposits) } catch {
                throw CLIError(error.description)
            }
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

    struct RunCollective: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-collective",
            abstract: "Ask oms-billing for the collective invoices of a month (deliveries of customers invoiced monthly); re-running issues nothing twice.",
            discussion: "oms-billing does the run at its next housekeeping (and by itself on the first of every month for the month before); this waits for it.")
        @Option(help: "The month, YYYY-MM.") var month: String
        @Option(help: "Who asks (kept with the run).") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "omsctl"
        @Option(help: "Seconds to wait for oms-billing to finish the run.") var wait: Int = 60

        func validate() throws {
            guard Export.month(month) != nil else { throw ValidationError("--month must be a month as YYYY-MM (e.g. 2026-11), not \"\(month.prefix(40))\"") }
            guard (0...3600).contains(wait) else { throw ValidationError("--wait must be between 0 and 3600 seconds") }
            guard !by.isEmpty, by.count <= 100 else { throw ValidationError("--by must be 1 to 100 characters") }
        }

        func run() throws {
            guard let (from, _) = Export.month(month) else { throw CLIError("--month must be YYYY-MM") }
            let database = try CLIEnvironment.database()
            guard let row = try CLIError.detailed({ try database.query("""
                INSERT INTO billing.collective_runs (month, requested_by) VALUES (\(String(EventTime.format(from).prefix(10)))::date, \("omsctl:\(by)"))
                RETURNING run_id
                """).first }) else { throw CLIError("the run could not be requested") }
            let id: Int64 = try row.decode("run_id")
            let deadline = Date().addingTimeInterval(Double(wait))
            while true {
                let state = try database.query("SELECT done_at IS NOT NULL AS done, coalesce(array_to_string(issued, ','), '') AS issued FROM billing.collective_runs WHERE run_id = \(id)").first
                if let state, try state.decode("done", as: Bool.self) {
                    let numbers = try state.decode("issued", as: String.self).split(separator: ",").map(String.init)
                    print("collective run #\(id) for \(month): \(numbers.isEmpty ? "nothing collected to invoice" : "\(numbers.count) invoice(s)")")
                    for document in try database.query("""
                        SELECT number, customer_id, currency, net, tax, gross, (SELECT count(*) FROM billing.deliveries WHERE invoice_number = d.number) AS deliveries
                        FROM billing.documents d WHERE number = ANY(\(numbers)::text[]) ORDER BY number
                        """) {
                        let currency: String = try document.decode("currency")
                        print("  \(try document.decode("number", as: String.self))  \(try document.decode("customer_id", as: String.self))  "
                              + "\(try document.decode("deliveries", as: Int64.self)) deliveries  net \(Money.format(try document.decode("net"), currency))  "
                              + "tax \(Money.format(try document.decode("tax"), currency))  total \(Money.format(try document.decode("gross"), currency))")
                    }
                    return
                }
                guard Date() < deadline else {
                    throw CLIError("collective run #\(id) is requested but oms-billing has not done it within \(wait) s; it runs at the worker's next housekeeping")
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }
}
