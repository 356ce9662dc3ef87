import Foundation
import Mustache
import NotifierCore
import Shared

/// Turns a mail the mail rule asked for into subject, text and HTML (swift-mustache: the text without escaping,
/// the HTML escaped), for one recipient in their language.
enum MailRenderer {
    struct Rendered: Sendable {
        let subject: String
        let text: String
        let html: String
    }

    static func render(_ mail: MailRule.Mail, name: String, language: String) -> Rendered? {
        guard let texts = MailRule.texts[mail.template], let text = texts[language] ?? texts["en"] else { return nil }
        var facts = mail.facts.objectValue ?? [:]
        facts["name"] = .string(name.isEmpty ? (language == "de" ? "liebe Kundin, lieber Kunde" : "dear customer") : name)
        if let currency = facts["currency"]?.stringValue, let amount = facts["amount"]?.int64Value ?? facts["open"]?.int64Value {
            facts["amountText"] = .string(Money.format(amount, currency))
        }
        if let eta = facts["eta"]?.stringValue { facts["eta"] = .string(String(eta.prefix(10))) }
        let context = swiftValue(.object(facts))
        func plain(_ source: String) -> String {
            ((try? MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source))?.render(context) ?? source).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func escaped(_ source: String) -> String {
            ((try? MustacheTemplate(string: source))?.render(context) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let subject = plain(text.subject).replacingOccurrences(of: "\n", with: " ")
        let body = text.paragraphs.map(plain).filter { !$0.isEmpty }.joined(separator: "\n\n")
        let paragraphs = text.paragraphs.map(escaped).filter { !$0.isEmpty }
            .map { "<p>\($0.replacingOccurrences(of: "\n", with: "<br>"))</p>" }.joined(separator: "\n")
        let html = "<!DOCTYPE html>\n<html lang=\"\(language)\"><head><meta charset=\"utf-8\"><title>\(subject.htmlEscaped)</title></head>"
            + "<body style=\"font-family:sans-serif\">\n\(paragraphs)\n<p>Berg&amp;Beutel</p></body></html>"
        return Rendered(subject: String(subject.prefix(200)), text: body + "\n\n-- \nBerg&Beutel", html: html)
    }

    /// The SMS: the subject, and for a shipment its first tracking link (at most 320 characters: two SMS).
    static func sms(_ mail: MailRule.Mail, name: String, language: String) -> String? {
        guard let rendered = render(mail, name: name, language: language) else { return nil }
        let link = mail.facts["parcels"]?.arrayValue?.first?["trackingUrl"]?.stringValue
        return String(([rendered.subject] + [link].compactMap { $0 }).joined(separator: " ").prefix(320))
    }

    static func swiftValue(_ value: JSONValue) -> Any {
        switch value {
        case .object(let members): return members.mapValues(swiftValue)
        case .array(let items): return items.map(swiftValue)
        case .string(let text): return text
        case .integer(let number): return number
        case .bool(let flag): return flag
        case .null: return Optional<String>.none as Any
        case .number(let number): return number
        }
    }
}

extension String {
    var htmlEscaped: String {
        replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
