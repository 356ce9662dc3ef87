import Foundation

/// An RFC 5322 message with a text and an HTML part (multipart/alternative, UTF-8, base64 bodies), headers
/// encoded per RFC 2047 where they are not ASCII; header values never carry a line break from input.
public struct MailMessage: Sendable, Equatable {
    public let from: String
    public let to: String
    public let subject: String
    public let text: String
    public let html: String
    public let messageID: String
    public let date: Date

    public init(from: String, to: String, subject: String, text: String, html: String, messageID: String, date: Date) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
    }

    /// An address as SMTP and the To header accept it: one mailbox, no spaces, controls or angle brackets.
    public static func isDeliverable(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return address.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && address.unicodeScalars.allSatisfy { $0.value > 32 && $0.value < 127 && !"<>()[],;:\\\"".unicodeScalars.contains($0) }
    }

    static func header(_ value: String) -> String {
        let flat = value.unicodeScalars.filter { $0.value >= 32 && $0.value != 127 }.map(String.init).joined()
        guard flat.unicodeScalars.contains(where: { $0.value > 126 }) else { return flat }
        return "=?UTF-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }

    static func base64Lines(_ text: String) -> String {
        let encoded = Data(text.utf8).base64EncodedString()
        return stride(from: 0, to: encoded.count, by: 76).map { start in
            let from = encoded.index(encoded.startIndex, offsetBy: start)
            let to = encoded.index(from, offsetBy: min(76, encoded.count - start))
            return String(encoded[from..<to])
        }.joined(separator: "\r\n")
    }

    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter
    }()

    /// The message as sent after DATA (CRLF line ends, without the final dot).
    public func rendered(boundary: String) -> String {
        [
            "From: \(Self.header(from))", "To: \(Self.header(to))", "Subject: \(Self.header(subject))",
            "Date: \(Self.dateFormatter.string(from: date))", "Message-ID: <\(Self.header(messageID))>", "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"", "",
            "--\(boundary)", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", Self.base64Lines(text),
            "--\(boundary)", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", "", Self.base64Lines(html),
            "--\(boundary)--", "",
        ].joined(separator: "\r\n")
    }
}
