import Foundation
import Shared

/// The mail rule: which events become an e-mail to the customer, in which language, with which words.
/// Words are mustache templates over the event's facts (rendered by the notifier), German and English.
public enum MailRule {
    public struct Mail: Sendable, Equatable {
        public let template: String
        public let facts: JSONValue
    }

    /// The mail an event asks for, if any.
    public static func mail(for event: CloudEvent) -> Mail? {
        let data = event.data
        switch event.type {
        case "Order.Accepted":
            return Mail(template: "order-received", facts: data)
        case "Order.OnHold":
            let reasons = (data["holdReasons"]?.arrayValue ?? []).compactMap(\.stringValue)
            return reasons.contains("payment") ? Mail(template: "payment-pending", facts: data) : nil
        case "Customer.NotificationRequested":
            guard let template = data["template"]?.stringValue, texts[template] != nil else { return nil }
            var facts = data["facts"]?.objectValue ?? [:]
            facts["orderId"] = data["orderId"]
            return Mail(template: template, facts: .object(facts))
        default:
            return nil
        }
    }

    /// Templates that also go out as SMS when the order has a mobile number and a gateway is configured.
    public static let smsTemplates: Set<String> = ["shipped", "delivered", "return-authorized", "backorder"]

    /// A number an SMS gateway takes: E.164, "+" and 7 to 15 digits.
    public static func isMobileNumber(_ text: String) -> Bool {
        text.hasPrefix("+") && (8...16).contains(text.count) && text.dropFirst().allSatisfy(\.isASCII) && text.dropFirst().allSatisfy(\.isNumber)
            && text.dropFirst().first != "0"
    }

    /// German for the German-speaking countries of the shop's market, English for everyone else.
    public static func language(country: String?) -> String {
        ["DE", "AT", "CH", "LI", "LU"].contains(country ?? "DE") ? "de" : "en"
    }

    public struct Text: Sendable {
        public let subject: String
        public let paragraphs: [String]
    }

    /// Per template and language: subject and paragraphs (mustache over the facts; `{{name}}` is the recipient).
    public static let texts: [String: [String: Text]] = [
        "order-received": [
            "de": Text(subject: "Ihre Bestellung {{orderId}} ist eingegangen", paragraphs: [
                "Hallo {{name}},", "vielen Dank für Ihre Bestellung {{orderId}}. Wir melden uns, sobald sie unterwegs ist."]),
            "en": Text(subject: "We received your order {{orderId}}", paragraphs: [
                "Hello {{name}},", "thank you for your order {{orderId}}. We will let you know as soon as it is on its way."]),
        ],
        "payment-pending": [
            "de": Text(subject: "Bestellung {{orderId}}: Wir warten auf Ihre Zahlung", paragraphs: [
                "Hallo {{name}},", "Ihre Bestellung {{orderId}} ist reserviert. Sobald Ihre Zahlung eingegangen ist, versenden wir sie."]),
            "en": Text(subject: "Order {{orderId}}: waiting for your payment", paragraphs: [
                "Hello {{name}},", "your order {{orderId}} is reserved. We ship it as soon as your payment has arrived."]),
        ],
        "backorder": [
            "de": Text(subject: "Bestellung {{orderId}}: ein Artikel kommt später", paragraphs: [
                "Hallo {{name}},", "ein Teil Ihrer Bestellung {{orderId}} ist gerade nicht vorrätig.{{#eta}} Voraussichtlich versenden wir ihn ab {{eta}}.{{/eta}}",
                "Den Rest schicken wir Ihnen schon jetzt."]),
            "en": Text(subject: "Order {{orderId}}: an item comes later", paragraphs: [
                "Hello {{name}},", "part of your order {{orderId}} is out of stock right now.{{#eta}} We expect to ship it from {{eta}}.{{/eta}}",
                "We are sending you the rest already."]),
        ],
        "shipped": [
            "de": Text(subject: "Bestellung {{orderId}} ist unterwegs", paragraphs: [
                "Hallo {{name}},", "Ihr Paket ist unterwegs.", "{{#parcels}}Sendungsverfolgung ({{carrier}}): {{trackingUrl}}{{^trackingUrl}}{{trackingNumber}}{{/trackingUrl}}\n{{/parcels}}"]),
            "en": Text(subject: "Order {{orderId}} is on its way", paragraphs: [
                "Hello {{name}},", "your parcel is on its way.", "{{#parcels}}Tracking ({{carrier}}): {{trackingUrl}}{{^trackingUrl}}{{trackingNumber}}{{/trackingUrl}}\n{{/parcels}}"]),
        ],
        "delivered": [
            "de": Text(subject: "Bestellung {{orderId}} wurde zugestellt", paragraphs: ["Hallo {{name}},", "Ihr Paket wurde zugestellt. Viel Freude damit!"]),
            "en": Text(subject: "Order {{orderId}} was delivered", paragraphs: ["Hello {{name}},", "your parcel was delivered. Enjoy!"]),
        ],
        "appointment": [
            "de": Text(subject: "Ihr Termin für Bestellung {{orderId}}", paragraphs: ["Hallo {{name}},", "unser Techniker kommt am {{date}}."]),
            "en": Text(subject: "Your appointment for order {{orderId}}", paragraphs: ["Hello {{name}},", "our technician comes on {{date}}."]),
        ],
        "return-authorized": [
            "de": Text(subject: "Ihre Rücksendung {{rma}} ist angemeldet", paragraphs: [
                "Hallo {{name}},", "Ihre Rücksendung zu Bestellung {{orderId}} ist angemeldet, Rücksendenummer {{rma}}.",
                "Das Rücksendeetikett laden Sie im Rücksendeportal herunter (Bestellnummer und E-Mail-Adresse genügen)."]),
            "en": Text(subject: "Your return {{rma}} is registered", paragraphs: [
                "Hello {{name}},", "your return for order {{orderId}} is registered, return number {{rma}}.",
                "Download the return label in the returns portal (your order number and e-mail address are enough)."]),
        ],
        "return-held": [
            "de": Text(subject: "Ihre Rücksendung {{rma}} wird geprüft", paragraphs: ["Hallo {{name}},", "unser Kundenservice prüft Ihre Rücksendung {{rma}} und meldet sich."]),
            "en": Text(subject: "We are checking your return {{rma}}", paragraphs: ["Hello {{name}},", "our customer service is checking your return {{rma}} and will get back to you."]),
        ],
        "return-rejected": [
            "de": Text(subject: "Ihre Rücksendung zu Bestellung {{orderId}}", paragraphs: [
                "Hallo {{name}},", "diese Rücksendung können wir leider nicht annehmen:", "{{#reasons}}– {{messageDe}}{{^messageDe}}{{message}}{{/messageDe}}\n{{/reasons}}"]),
            "en": Text(subject: "Your return for order {{orderId}}", paragraphs: [
                "Hello {{name}},", "we cannot accept this return:", "{{#reasons}}– {{message}}\n{{/reasons}}"]),
        ],
        "refund-approved": [
            "de": Text(subject: "Erstattung zu Ihrer Rücksendung {{rma}}", paragraphs: [
                "Hallo {{name}},", "wir erstatten Ihnen {{amountText}}. Die Rechnungskorrektur erhalten Sie separat."]),
            "en": Text(subject: "Refund for your return {{rma}}", paragraphs: [
                "Hello {{name}},", "we are refunding {{amountText}}. The corrected invoice follows separately."]),
        ],
        "invoice-overdue": [
            "de": Text(subject: "Zahlungserinnerung: Rechnung {{invoiceNumber}}", paragraphs: [
                "Guten Tag {{name}},", "die Rechnung {{invoiceNumber}} war am {{dueDate}} fällig; offen sind {{amountText}}. Bitte überweisen Sie den Betrag."]),
            "en": Text(subject: "Payment reminder: invoice {{invoiceNumber}}", paragraphs: [
                "Hello {{name}},", "invoice {{invoiceNumber}} was due on {{dueDate}}; {{amountText}} are open. Please transfer the amount."]),
        ],
    ]
}
