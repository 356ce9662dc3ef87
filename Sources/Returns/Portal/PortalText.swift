import ReturnsCore

/// The portal's words in German and English (what the templates show; the rules' texts come from returns.json).
enum PortalText {
    static func strings(_ language: PortalLanguage) -> [String: String] {
        language == .german ? german : english
    }

    static let german: [String: String] = [
        "shop": "Berg&Beutel Retouren", "languageNav": "Sprache", "otherLanguage": "English",
        "footer": "Fragen? Unser Kundenservice hilft gern weiter.",
        "lookupTitle": "Rücksendung anmelden",
        "lookupIntro": "Geben Sie Ihre Bestellnummer und die E-Mail-Adresse oder die Postleitzahl der Lieferadresse ein.",
        "orderNumber": "Bestellnummer", "email": "E-Mail-Adresse", "postalCode": "Postleitzahl der Lieferadresse",
        "eitherHint": "E-Mail-Adresse oder Postleitzahl genügt.", "find": "Bestellung suchen",
        "notFound": "Wir haben keine Bestellung mit diesen Angaben gefunden. Bitte prüfen Sie Ihre Eingaben.",
        "needContact": "Bitte geben Sie Ihre E-Mail-Adresse oder Postleitzahl an.",
        "tooMany": "Zu viele Versuche. Bitte warten Sie eine Minute und versuchen Sie es erneut.",
        "orderTitle": "Artikel auswählen", "orderIntro": "Bestellung", "quantity": "Anzahl zurücksenden", "upTo": "höchstens",
        "reason": "Grund", "comment": "Kommentar (optional)", "photos": "Fotos (optional)", "submit": "Rücksendung anmelden",
        "photoHint": "Bis zu %d Fotos (JPEG, PNG oder WebP), je höchstens %d MiB. Standortdaten werden entfernt.",
        "nothingChosen": "Bitte wählen Sie mindestens einen Artikel und eine Anzahl.",
        "tooManyPhotos": "Bitte laden Sie höchstens %d Fotos hoch.",
        "photoRefused": "Foto „%@“ wurde nicht angenommen: %@. Es wurde nichts gespeichert.",
        "tooLarge": "Die Anfrage ist zu groß. Bitte laden Sie kleinere oder weniger Fotos hoch.",
        "sessionExpired": "Ihre Sitzung ist abgelaufen oder das Formular ist ungültig. Bitte laden Sie die Seite neu.",
        "requestTitle": "Ihre Rücksendung", "authorized": "Ihre Rücksendung ist angemeldet.", "rmaLabel": "Rücksendenummer:",
        "downloadLabel": "Rücksendeetikett herunterladen (PDF)",
        "nextSteps": "Drucken Sie das Etikett aus, kleben Sie es auf das Paket und geben Sie es bei der Post ab. Eine Bestätigung kommt per E-Mail.",
        "held": "Ihre Rücksendung wird von unserem Kundenservice geprüft. Wir melden uns per E-Mail.",
        "rejected": "Diese Rücksendung können wir leider nicht annehmen:", "back": "Zurück zur Bestellung",
        "pending": "Ihre Anfrage wird bearbeitet.", "refresh": "Status aktualisieren",
    ]

    static let english: [String: String] = [
        "shop": "Berg&Beutel returns", "languageNav": "Language", "otherLanguage": "Deutsch",
        "footer": "Questions? Our customer service is happy to help.",
        "lookupTitle": "Return items",
        "lookupIntro": "Enter your order number and the e-mail address or the postal code of the delivery address.",
        "orderNumber": "Order number", "email": "E-mail address", "postalCode": "Postal code of the delivery address",
        "eitherHint": "E-mail address or postal code is enough.", "find": "Find order",
        "notFound": "We could not find an order with these details. Please check what you entered.",
        "needContact": "Please enter your e-mail address or postal code.",
        "tooMany": "Too many attempts. Please wait a minute and try again.",
        "orderTitle": "Choose items", "orderIntro": "Order", "quantity": "Quantity to return", "upTo": "at most",
        "reason": "Reason", "comment": "Comment (optional)", "photos": "Photos (optional)", "submit": "Request return",
        "photoHint": "Up to %d photos (JPEG, PNG or WebP), at most %d MiB each. Location data is removed.",
        "nothingChosen": "Please choose at least one item and a quantity.",
        "tooManyPhotos": "Please upload at most %d photos.",
        "photoRefused": "Photo \"%@\" was not accepted: %@. Nothing was stored.",
        "tooLarge": "The request is too large. Please upload smaller or fewer photos.",
        "sessionExpired": "Your session has expired or the form is invalid. Please reload the page.",
        "requestTitle": "Your return", "authorized": "Your return is registered.", "rmaLabel": "Return number:",
        "downloadLabel": "Download the return label (PDF)",
        "nextSteps": "Print the label, stick it on the parcel and hand it in at the post office. A confirmation follows by e-mail.",
        "held": "Our customer service is checking your return. We will get back to you by e-mail.",
        "rejected": "We cannot accept this return:", "back": "Back to the order",
        "pending": "Your request is being processed.", "refresh": "Refresh status",
    ]
}
