import Foundation

/// A regular expression whose `$` means "end of the text" and nothing else.
///
/// ICU (behind NSRegularExpression) lets `$` match before a final line
/// terminator, so `^[A-Z]{3}$` accepts "EUR\n" and a newline-suffixed order id
/// would be stored and announced. Every unescaped `$` outside a character class
/// is rewritten to `\z` before compiling, for contracts and rule files alike.
public struct StrictPattern: Sendable {
    public let source: String
    private let regex: NSRegularExpression

    public init(_ source: String) throws {
        self.source = source
        regex = try NSRegularExpression(pattern: Self.anchorStrictly(source))
    }

    /// JSON Schema semantics: the pattern may match anywhere (anchors decide).
    public func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func anchorStrictly(_ source: String) -> String {
        var out = ""
        var escaped = false
        var inClass = false
        for character in source {
            if escaped {
                out.append(character)
                escaped = false
                continue
            }
            switch character {
            case "\\": escaped = true; out.append(character)
            case "[": inClass = true; out.append(character)
            case "]": inClass = false; out.append(character)
            case "$" where !inClass: out += "\\z"
            default: out.append(character)
            }
        }
        return out
    }
}
