import BillingTax
import Foundation
import Shared

/// The human-readable invoice (the XML is the legal original; this PDF says the same): every §14 (4)
/// UStG field — names and addresses, the seller's VAT ID and tax number, issue date, number, quantity
/// and description, date of supply, net per rate, rate, tax, exemption notes — and the payment terms.
public enum InvoicePDF {
    public static func render(_ doc: InvoiceDocument) -> [UInt8] {
        var pdf = PDFDocument(title: "\(title(doc.type)) \(doc.number)")
        pdf.newPage()
        pdf.text(doc.seller.name, x: 50, y: 40, size: 16, bold: true, maxCharacters: 60)
        pdf.text("\(doc.seller.street), \(doc.seller.postalCode) \(doc.seller.city), \(doc.seller.country)", x: 50, y: 62, size: 8, maxCharacters: 110)
        pdf.text("USt-IdNr. \(doc.seller.vatID ?? "-")" + (doc.seller.taxNumber.map { " · Steuernummer \($0)" } ?? ""), x: 50, y: 74, size: 8, maxCharacters: 110)
        var y = 100.0
        for line in [doc.buyer.name, doc.buyer.street, "\(doc.buyer.postalCode) \(doc.buyer.city)", doc.buyer.country] + (doc.buyer.vatID.map { ["USt-IdNr. \($0)"] } ?? []) {
            pdf.text(line, x: 50, y: y, size: 10, maxCharacters: 70)
            y += 13
        }
        pdf.text("\(title(doc.type)) \(doc.number)", x: 50, y: 190, size: 14, bold: true, maxCharacters: 60)
        pdf.text("Rechnungsdatum \(day(doc.issueDate)) · Leistungsdatum \(day(doc.deliveryDate))" + (doc.precedingInvoice.map { " · zu Rechnung \($0)" } ?? ""),
                 x: 50, y: 210, size: 9, maxCharacters: 120)
        y = 236
        for (label, x) in [("Pos.", 50.0), ("Artikel", 80.0), ("Menge", 340.0), ("USt", 390.0), ("Netto", 470.0)] { pdf.text(label, x: x, y: y, size: 9, bold: true) }
        pdf.line(x1: 50, y1: y + 13, x2: 545, y2: y + 13)
        y += 20
        for line in doc.lines {
            if y > 740 {
                pdf.newPage()
                y = 50
            }
            pdf.text(line.id, x: 50, y: y, size: 9)
            pdf.text("\(line.name) (\(line.sku))", x: 80, y: y, size: 9, maxCharacters: 48)
            pdf.text(String(line.quantity), x: 340, y: y, size: 9)
            pdf.text("\(percent(line.rateBasisPoints)) \(line.category.rawValue)", x: 390, y: y, size: 9)
            pdf.text(line.net.description, x: 470, y: y, size: 9)
            y += 13
            if let note = line.note {
                pdf.text(note, x: 80, y: y, size: 8, maxCharacters: 90)
                y += 11
            }
        }
        y += 10
        for row in doc.calculation.charges where row.taxable.minorUnits != 0 {
            pdf.text("Versand (\(percent(row.rateBasisPoints)))", x: 80, y: y, size: 9)
            pdf.text(row.taxable.description, x: 470, y: y, size: 9)
            y += 13
        }
        for row in doc.calculation.allowances where row.taxable.minorUnits != 0 {
            pdf.text("Rabatt\(doc.allowanceReason.map { " \($0)" } ?? "") (\(percent(row.rateBasisPoints)))", x: 80, y: y, size: 9, maxCharacters: 60)
            pdf.text("-" + row.taxable.description, x: 470, y: y, size: 9)
            y += 13
        }
        pdf.line(x1: 300, y1: y, x2: 545, y2: y)
        y += 8
        for row in doc.calculation.breakdown {
            pdf.text("Netto \(percent(row.rateBasisPoints)) (\(row.category.rawValue)) \(row.taxable.description) · USt \(row.tax.description)", x: 300, y: y, size: 9, maxCharacters: 70)
            y += 13
        }
        pdf.text("Gesamt \(doc.calculation.total.description)", x: 300, y: y + 4, size: 11, bold: true, maxCharacters: 50)
        if let prepaid = doc.prepaid, prepaid.minorUnits != 0 {
            y += 16
            pdf.text("Bezahlt (Gutschein) \(prepaid.description) · zu zahlen \(doc.duePayable.description)", x: 300, y: y + 4, size: 9, maxCharacters: 60)
        }
        y += 30
        for note in doc.notes + doc.exemptionReasons.values.map(\.text) { y = pdf.paragraph(note, x: 50, y: y, width: 495, size: 9, maxLines: 4) + 4 }
        if let terms = doc.paymentTerms { y = pdf.paragraph(terms + (doc.dueDate.map { ", fällig am \(day($0))" } ?? ""), x: 50, y: y + 6, width: 495, size: 9) }
        return pdf.bytes()
    }

    static func title(_ type: InvoiceDocument.TypeCode) -> String {
        switch type {
        case .invoice: return "Rechnung"
        // Not "Gutschrift": in German VAT law that word means a self-billed invoice (§ 14 (2) UStG).
        case .creditNote: return "Rechnungskorrektur"
        case .correction: return "Korrigierte Rechnung"
        case .prepayment: return "Anzahlungsrechnung"
        }
    }

    static func day(_ date: Date) -> String { InvoiceDocument.germanDay(date) }

    static func percent(_ bp: Int) -> String { InvoiceDocument.percent(bp).replacingOccurrences(of: ".", with: ",") + " %" }
}
