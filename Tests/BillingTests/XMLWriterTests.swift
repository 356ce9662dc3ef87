@testable import BillingDocuments
import Testing

@Suite("XML writer")
struct XMLWriterTests {
    @Test("text and attribute values are escaped; text that needs none is kept as it is")
    func escaping() {
        #expect(XMLWriter.escape("Berg&Beutel <GmbH> \"Süd\"") == "Berg&amp;Beutel &lt;GmbH&gt; &quot;Süd&quot;")
        #expect(XMLWriter.escape("a\r\u{1}b\u{FFFE}\u{FFFF}") == "a\u{FFFD}\u{FFFD}b\u{FFFD}\u{FFFD}")
        // Characters whose UTF-8 starts like U+FFFE (0xEF) but are ordinary text stay.
        #expect(XMLWriter.escape("\u{EFFF}\u{FFFD}\u{F8FF}") == "\u{EFFF}\u{FFFD}\u{F8FF}")
        #expect(XMLWriter.escape("line\nnext\tcol 1234.50 €") == "line\nnext\tcol 1234.50 €")
        var x = XMLWriter()
        x.open("rsm:Doc", attributes: [("xmlns:a", "urn:x&y"), ("b", "\"q\"")])
        x.element("ram:Name", "Zoë & Co", attributes: [("schemeID", "0204")])
        x.element("ram:Empty", "")
        x.close()
        #expect(x.text == #"<rsm:Doc xmlns:a="urn:x&amp;y" b="&quot;q&quot;"><ram:Name schemeID="0204">Zoë &amp; Co</ram:Name><ram:Empty></ram:Empty></rsm:Doc>"#)
    }
}

@Suite("XML template")
struct XMLTemplateTests {
    @Test("a hole is filled with the escaped number, where the element was written")
    func hole() {
        var x = XMLWriter()
        x.open("rsm:ExchangedDocument")
        x.open("ram:ID")
        x.hole()
        x.close()
        x.element("ram:TypeCode", "380")
        x.close()
        #expect(x.template.filled(number: "RE-2026-000042")
                == "<rsm:ExchangedDocument><ram:ID>RE-2026-000042</ram:ID><ram:TypeCode>380</ram:TypeCode></rsm:ExchangedDocument>")
        #expect(x.template.filled(number: "A&B<1>") == "<rsm:ExchangedDocument><ram:ID>A&amp;B&lt;1&gt;</ram:ID><ram:TypeCode>380</ram:TypeCode></rsm:ExchangedDocument>")
    }
}
