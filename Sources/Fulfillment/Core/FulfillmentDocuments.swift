import Foundation
import Shared

/// Printable PDFs of Fulfillment: the shipping label (for printers without ZPL),
/// the delivery note and the pick list. All from the data the events carry, so
/// that `omsctl` and the demo render the same documents again at any time.
public enum FulfillmentDocuments {
    public static func labelPDF(_ label: ShippingLabel) -> [UInt8] {
        var pdf = PDFDocument(title: "Label \(label.sscc.digits)")
        pdf.newPage(width: PDFDocument.label4x6.width, height: PDFDocument.label4x6.height)
        pdf.text("From: \(label.sender.name)", x: 12, y: 10, size: 7, maxCharacters: 70)
        pdf.text("\(label.sender.street), \(label.sender.postalCode) \(label.sender.city), \(label.sender.country)", x: 12, y: 20, size: 7, maxCharacters: 80)
        pdf.line(x1: 8, y1: 32, x2: 280, y2: 32)
        pdf.text("To:", x: 12, y: 38, size: 9, bold: true)
        pdf.text(label.recipient.name, x: 12, y: 52, size: 13, bold: true, maxCharacters: 36)
        pdf.text(label.recipient.street, x: 12, y: 70, size: 11, maxCharacters: 42)
        pdf.text("\(label.recipient.postalCode) \(label.recipient.city)", x: 12, y: 86, size: 13, bold: true, maxCharacters: 36)
        pdf.text(label.recipient.country, x: 12, y: 104, size: 11)
        pdf.line(x1: 8, y1: 122, x2: 280, y2: 122)
        pdf.text(label.carrierService, x: 12, y: 128, size: 10, bold: true, maxCharacters: 40)
        pdf.text("Parcel \(label.parcelNumber)/\(label.parcelCount)  \(ShippingLabel.kilograms(label.weightGrams))", x: 12, y: 142, size: 9)
        pdf.text("Order \(label.orderID)  FO \(label.fulfillmentOrderID)", x: 12, y: 155, size: 7, maxCharacters: 80)
        if label.customsDeclaration { pdf.text("CN23", x: 220, y: 128, size: 12, bold: true) }
        if let dg = label.dangerousGoodsClass {
            pdf.box(x: 200, y: 142, width: 76, height: 22, lineWidth: 1.5)
            pdf.text("DG \(dg)", x: 206, y: 147, size: 10, bold: true, maxCharacters: 12)
        }
        if let note = label.note { pdf.paragraph(note, x: 12, y: 170, width: 264, size: 7, maxLines: 3) }
        pdf.line(x1: 8, y1: 196, x2: 280, y2: 196)
        pdf.text("SSCC", x: 12, y: 202, size: 8, bold: true)
        if let widths = try? Code128.widths("00" + label.sscc.digits, gs1: true) {
            // 1 pt per module: 110 modules + quiet zones fit the 288 pt label.
            pdf.barcode(widths, x: 24, y: 216, module: 1.1, height: 110)
        }
        pdf.text(label.sscc.humanReadable, x: 40, y: 334, size: 12, bold: true)
        return pdf.bytes()
    }

    public struct NoteHeader: Sendable {
        public let title: String
        public let sender: PostalAddress
        public let recipient: PostalAddress
        public let orderID: String
        public let fulfillmentOrderID: String
        public let ssccs: [String]
        /// Drop-ship: the shop's name and insert text, so the parcel looks like the shop's own.
        public let brandName: String?
        public let insert: String?
        public init(title: String, sender: PostalAddress, recipient: PostalAddress, orderID: String, fulfillmentOrderID: String, ssccs: [String],
                    brandName: String? = nil, insert: String? = nil) {
            self.title = title
            self.sender = sender
            self.recipient = recipient
            self.orderID = orderID
            self.fulfillmentOrderID = fulfillmentOrderID
            self.ssccs = ssccs
            self.brandName = brandName
            self.insert = insert
        }
    }

    public static func deliveryNotePDF(_ header: NoteHeader, note: ShipmentPlanner.DeliveryNote) -> [UInt8] {
        var pdf = PDFDocument(title: "\(header.title) \(header.orderID)")
        pdf.newPage()
        pdf.text(header.brandName ?? header.sender.name, x: 50, y: 40, size: 16, bold: true, maxCharacters: 60)
        pdf.text("\(header.sender.street), \(header.sender.postalCode) \(header.sender.city)", x: 50, y: 62, size: 8, maxCharacters: 100)
        var y = 100.0
        for line in [header.recipient.name, header.recipient.street, "\(header.recipient.postalCode) \(header.recipient.city)", header.recipient.country] {
            pdf.text(line, x: 50, y: y, size: 11, maxCharacters: 60)
            y += 14
        }
        pdf.text(header.title, x: 50, y: 180, size: 14, bold: true)
        pdf.text("Order \(header.orderID) · Fulfillment order \(header.fulfillmentOrderID)", x: 50, y: 200, size: 9, maxCharacters: 100)
        if !header.ssccs.isEmpty { pdf.text("Parcels (SSCC): " + header.ssccs.joined(separator: ", "), x: 50, y: 214, size: 8, maxCharacters: 120) }
        y = 240
        pdf.text("Qty", x: 50, y: y, size: 9, bold: true)
        pdf.text("Item", x: 90, y: y, size: 9, bold: true)
        if note.showPrices { pdf.text("Unit price", x: 470, y: y, size: 9, bold: true) }
        pdf.line(x1: 50, y1: y + 13, x2: 545, y2: y + 13)
        y += 20
        for line in note.lines {
            if y > 760 {
                pdf.newPage()
                y = 50
            }
            pdf.text(String(line.quantity), x: 50, y: y, size: 10)
            pdf.text("\(line.name ?? line.sku) (\(line.sku))", x: 90, y: y, size: 10, maxCharacters: 70)
            if note.showPrices, let price = line.unitPrice, let currency = note.currency {
                pdf.text(Money.format(price, currency), x: 470, y: y, size: 10)
            }
            y += 14
            if let personalization = line.personalization?.objectValue {
                for key in personalization.keys.sorted() {
                    guard let text = personalization[key]?.stringValue else { continue }
                    y = pdf.paragraph("\(key): \(text)", x: 100, y: y, width: 420, size: 9, maxLines: 6)
                }
            }
        }
        y += 10
        if note.giftWrap { pdf.text("Gift wrapped", x: 50, y: y, size: 10, bold: true); y += 16 }
        if let message = note.giftMessage {
            pdf.text("Gift message:", x: 50, y: y, size: 10, bold: true)
            y = pdf.paragraph(message, x: 50, y: y + 14, width: 495, size: 10, maxLines: 12)
        }
        if let insert = header.insert { pdf.paragraph(insert, x: 50, y: y + 14, width: 495, size: 10, maxLines: 6) }
        return pdf.bytes()
    }

    public struct PickStop: Sendable {
        public let sequence: Int
        public let bin: String
        public let sku: String
        public let quantity: Int64
        public let fulfillmentOrderID: String
        public init(sequence: Int, bin: String, sku: String, quantity: Int64, fulfillmentOrderID: String) {
            self.sequence = sequence
            self.bin = bin
            self.sku = sku
            self.quantity = quantity
            self.fulfillmentOrderID = fulfillmentOrderID
        }
    }

    public static func pickListPDF(waveID: String, warehouseID: String, method: String, lengthDm: Int, binOrderDm: Int, stops: [PickStop]) -> [UInt8] {
        var pdf = PDFDocument(title: "Pick list \(waveID)")
        pdf.newPage()
        pdf.text("Pick list \(waveID)", x: 50, y: 40, size: 16, bold: true, maxCharacters: 60)
        pdf.text("Warehouse \(warehouseID) · route \(method): \(lengthDm / 10).\(lengthDm % 10) m (by bin name \(binOrderDm / 10).\(binOrderDm % 10) m)",
                 x: 50, y: 62, size: 9, maxCharacters: 120)
        var y = 90.0
        for (label, x) in [("#", 50.0), ("Bin", 80.0), ("SKU", 160.0), ("Qty", 330.0), ("Fulfillment order", 370.0)] {
            pdf.text(label, x: x, y: y, size: 9, bold: true)
        }
        pdf.line(x1: 50, y1: y + 13, x2: 545, y2: y + 13)
        y += 20
        for stop in stops {
            if y > 790 {
                pdf.newPage()
                y = 50
            }
            pdf.text(String(stop.sequence), x: 50, y: y, size: 10)
            pdf.text(stop.bin, x: 80, y: y, size: 10, bold: true)
            pdf.text(stop.sku, x: 160, y: y, size: 10, maxCharacters: 30)
            pdf.text(String(stop.quantity), x: 330, y: y, size: 10)
            pdf.text(stop.fulfillmentOrderID, x: 370, y: y, size: 9, maxCharacters: 36)
            y += 15
        }
        return pdf.bytes()
    }
}
