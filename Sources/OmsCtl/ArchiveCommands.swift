import ArgumentParser
import Foundation
import BillingDocuments
import Shared

/// The tamper-evident archive of issued documents.
struct Archive: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The archive of issued invoices and credit notes.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain (SHA-256 of previous hash ‖ document XML) and name the first broken link.")
        @Option(help: "Start at this archive sequence number (its stored previous hash is trusted).") var from: Int64 = 1

        func validate() throws {
            guard from >= 1 else { throw ValidationError("--from must be at least 1") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            let rows = try CLIError.detailed { try database.query("""
                SELECT a.seq, a.number, a.previous_hash, a.hash, d.xml FROM billing.archive a JOIN billing.documents d USING (number)
                WHERE a.seq >= \(from) ORDER BY a.seq
                """) }
            var previous: String?
            var checked = 0
            for row in rows {
                let seq: Int64 = try row.decode("seq"), number: String = try row.decode("number")
                let storedPrevious: String = try row.decode("previous_hash"), stored: String = try row.decode("hash")
                let xml: String = try row.decode("xml")
                if let previous, previous != storedPrevious {
                    throw CLIError("broken link at #\(seq) (\(number)): it names previous hash \(storedPrevious.prefix(16))…, the chain has \(previous.prefix(16))…")
                }
                let base = previous ?? storedPrevious
                let hash = ArchiveChain.link(previous: base, document: xml)
                guard hash == stored else {
                    throw CLIError("broken link at #\(seq) (\(number)): its document does not hash to the stored \(stored.prefix(16))… — it was changed after issue")
                }
                previous = hash
                checked += 1
            }
            print("archive intact: \(checked) document(s) from #\(from), last hash \(previous ?? "(none)")")
        }
    }
}

/// Issued invoices and credit notes.
struct Invoice: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Issued invoices, credit notes, collective and deposit invoices.", subcommands: [Show.self, List.self])

    static func kind(_ typeCode: String) -> String {
        switch typeCode {
        case "380": return "invoice"
        case "381": return "credit note"
        case "384": return "corrected invoice"
        case "386": return "deposit invoice"
        default: return "document"
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The documents of an order or a customer, oldest first, with what is open of each.")
        @Option(help: "Order id.") var order: String?
        @Option(help: "Customer id.") var customer: String?

        func validate() throws {
            guard (order == nil) != (customer == nil) else { throw ValidationError("give either --order ID or --customer ID") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            let rows = Array(try CLIError.detailed { try database.query("""
                SELECT d.number, d.type_code, d.order_id, d.customer_id, d.currency, d.gross, to_char(d.issued_at, 'YYYY-MM-DD') AS issued,
                       d.preceding_invoice, r.open
                FROM billing.documents d JOIN billing.archive a USING (number) LEFT JOIN billing.receivables r USING (number)
                WHERE (\(order)::text IS NOT NULL AND (d.order_id = \(order) OR d.number IN (SELECT number FROM billing.invoiced_parts WHERE order_id = \(order))))
                   OR (\(customer)::text IS NOT NULL AND d.customer_id = \(customer))
                ORDER BY a.seq
                """) })
            guard !rows.isEmpty else { throw CLIError("no documents for \(order.map { "order \($0)" } ?? "customer \(customer ?? "")")") }
            for row in rows {
                let currency: String = try row.decode("currency")
                let type: String = try row.decode("type_code")
                var line = "\(try row.decode("number", as: String.self))  \(try row.decode("issued", as: String.self))  \(Invoice.kind(type))"
                if let preceding = try row.decodeIfPresent("preceding_invoice", as: String.self) { line += " (refers to \(preceding))" }
                line += "  order \(try row.decode("order_id", as: String.self))  customer \(try row.decode("customer_id", as: String.self))"
                line += "  total \(Money.format(try row.decode("gross"), currency))"
                if let open = try row.decodeIfPresent("open", as: Int64.self) { line += "  open \(Money.format(open, currency))" }
                print(line)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An issued document: totals per rate; its EN 16931 XML (--xml FILE) or PDF (--pdf FILE).")
        @Argument(help: "Document number (RE-2026-000001).") var number: String
        @Option(help: "Write the XML (the legal original) to this file.") var xml: String?
        @Option(help: "Write the PDF to this file.") var pdf: String?

        func run() throws {
            let database = try CLIEnvironment.database()
            guard let row = try CLIError.detailed({ try database.query("""
                SELECT d.number, d.type_code, d.order_id, d.fulfillment_order_id, d.customer_id, d.currency, d.net, d.tax, d.gross, d.breakdown::text AS breakdown,
                       d.xml, d.content::text AS content, d.issued_at, a.hash, a.retain_until::text AS retain
                FROM billing.documents d LEFT JOIN billing.archive a USING (number) WHERE d.number = \(number)
                """).first }) else { throw CLIError("no document with number \(number)") }
            let currency: String = try row.decode("currency")
            let typeCode: String = try row.decode("type_code")
            print("\(number)  type \(typeCode) (\(Invoice.kind(typeCode)))  order \(try row.decode("order_id", as: String.self))  customer \(try row.decode("customer_id", as: String.self))")
            print("  net \(Money.format(try row.decode("net"), currency))  tax \(Money.format(try row.decode("tax"), currency))  total \(Money.format(try row.decode("gross"), currency))")
            for entry in try JSONParser.parse(try row.decode("breakdown", as: String.self)).arrayValue ?? [] {
                let rate = entry["rateBasisPoints"]?.int64Value ?? 0
                print("  \(entry["category"]?.stringValue ?? "?") \(rate / 100).\(String(format: "%02lld", rate % 100)) %: taxable \(Money.format(entry["taxable"]?.int64Value ?? 0, currency)), tax \(Money.format(entry["tax"]?.int64Value ?? 0, currency))")
            }
            print("  archive hash \(try row.decodeIfPresent("hash", as: String.self) ?? "-"), kept until \(try row.decodeIfPresent("retain", as: String.self) ?? "-")")
            if let xml {
                try Data((try row.decode("xml", as: String.self)).utf8).write(to: URL(fileURLWithPath: xml))
                print("XML written to \(xml)")
            }
            if let pdf {
                guard let document = InvoiceDocument(json: try JSONParser.parse(try row.decode("content", as: String.self))) else {
                    throw CLIError("the stored content of \(number) cannot be read")
                }
                try Data(InvoicePDF.render(document)).write(to: URL(fileURLWithPath: pdf))
                print("PDF written to \(pdf)")
            }
        }
    }
}
