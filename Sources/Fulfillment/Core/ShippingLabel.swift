/// A postal address as the carrier needs it.
public struct PostalAddress: Sendable, Equatable {
    public let name: String
    public let street: String
    public let postalCode: String
    public let city: String
    public let country: String
    public let phone: String?
    public let email: String?

    public init(name: String, street: String, postalCode: String, city: String, country: String, phone: String? = nil, email: String? = nil) {
        self.name = name
        self.street = street
        self.postalCode = postalCode
        self.city = city
        self.country = country
        self.phone = phone
        self.email = email
    }
}

/// What a shipping label says, independent of the carrier and the printer.
public struct ShippingLabel: Sendable, Equatable {
    public let sscc: SSCC
    public let carrierService: String
    public let sender: PostalAddress
    public let recipient: PostalAddress
    public let parcelNumber: Int
    public let parcelCount: Int
    public let weightGrams: Int
    public let orderID: String
    public let fulfillmentOrderID: String
    /// Dangerous-goods class for the marking ("2.1"); nil when none.
    public let dangerousGoodsClass: String?
    /// A customs declaration (CN23) travels with the parcel.
    public let customsDeclaration: Bool
    /// Text for the packer printed on the label as entered (e.g. the gift message), never interpreted.
    public let note: String?

    public init(sscc: SSCC, carrierService: String, sender: PostalAddress, recipient: PostalAddress, parcelNumber: Int, parcelCount: Int,
                weightGrams: Int, orderID: String, fulfillmentOrderID: String, dangerousGoodsClass: String?, customsDeclaration: Bool, note: String?) {
        self.sscc = sscc
        self.carrierService = carrierService
        self.sender = sender
        self.recipient = recipient
        self.parcelNumber = parcelNumber
        self.parcelCount = parcelCount
        self.weightGrams = weightGrams
        self.orderID = orderID
        self.fulfillmentOrderID = fulfillmentOrderID
        self.dangerousGoodsClass = dangerousGoodsClass
        self.customsDeclaration = customsDeclaration
        self.note = note
    }

    /// The label of parcel `number` of `count` of a fulfillment order (the worker and `omsctl` build it the same way).
    public static func make(_ fo: FulfillmentOrderFacts, sscc: SSCC, number: Int, count: Int, grossGrams: Int, dangerousGoodsClass: String?,
                            customsDeclaration: Bool, rules: FulfillmentRules) -> ShippingLabel {
        let nobody = PostalAddress(name: "", street: "", postalCode: "", city: "", country: "")
        return ShippingLabel(sscc: sscc, carrierService: fo.carrierService ?? "carrier",
                             sender: fo.warehouseID.flatMap { rules.warehouses[$0]?.address } ?? nobody, recipient: fo.shipTo ?? nobody,
                             parcelNumber: number, parcelCount: count, weightGrams: grossGrams, orderID: fo.orderID, fulfillmentOrderID: fo.id,
                             dangerousGoodsClass: dangerousGoodsClass, customsDeclaration: customsDeclaration, note: nil)
    }

    /// "12.35 kg" from grams, without floating point.
    public static func kilograms(_ grams: Int) -> String {
        let hundredths = (grams + 5) / 10
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) kg"
    }
}

/// ZPL II for thermal printers (4×6 in at 203 dpi). Every text from outside goes
/// into a `^FD` field under `^FH`, with `_`, `^`, `~`, control characters and
/// every byte outside printable ASCII written as `_XX`: a text such as
/// `Alles Gute ^XZ~JR_x` prints literally and can neither end the label nor
/// send a command to the printer.
public enum ZPL {
    public static func label(_ label: ShippingLabel) -> String {
        var z = "^XA^CI28^PW812^LL1218^LH0,0\n"
        func text(_ x: Int, _ y: Int, _ size: Int, _ value: String, limit: Int) {
            z += "^FO\(x),\(y)^A0N,\(size),\(size)^FH^FD\(field(value, maxCharacters: limit))^FS\n"
        }
        text(30, 30, 26, "From: \(label.sender.name)", limit: 60)
        text(30, 62, 26, "\(label.sender.street), \(label.sender.postalCode) \(label.sender.city), \(label.sender.country)", limit: 70)
        z += "^FO20,100^GB772,3,3^FS\n"
        text(30, 120, 34, "To:", limit: 10)
        text(30, 160, 46, label.recipient.name, limit: 35)
        text(30, 214, 40, label.recipient.street, limit: 40)
        text(30, 262, 46, "\(label.recipient.postalCode) \(label.recipient.city)", limit: 35)
        text(30, 316, 40, label.recipient.country, limit: 10)
        if let phone = label.recipient.phone { text(430, 316, 30, "Tel \(phone)", limit: 25) }
        z += "^FO20,370^GB772,3,3^FS\n"
        text(30, 390, 34, label.carrierService, limit: 40)
        text(30, 432, 30, "Parcel \(label.parcelNumber)/\(label.parcelCount)  \(ShippingLabel.kilograms(label.weightGrams))", limit: 40)
        text(30, 470, 26, "Order \(label.orderID)  FO \(label.fulfillmentOrderID)", limit: 70)
        if label.customsDeclaration { text(560, 390, 34, "CN23", limit: 8) }
        if let dg = label.dangerousGoodsClass {
            z += "^FO560,430^GB220,70,4^FS\n"
            text(575, 448, 30, "DG \(dg)", limit: 12)
        }
        if let note = label.note { text(30, 512, 26, note, limit: 120) }
        z += "^FO20,560^GB772,3,3^FS\n"
        text(30, 580, 28, "SSCC", limit: 8)
        // GS1-128: subset C (>;) from the start, FNC1 (>8), then AI 00 and the 18 digits.
        z += "^FO60,620^BY3^BCN,300,N,N,N^FD>;>800\(label.sscc.digits)^FS\n"
        text(60, 940, 40, label.sscc.humanReadable, limit: 30)
        z += "^XZ\n"
        return z
    }

    /// One field's data for `^FH^FD…^FS`: at most `maxCharacters` characters (whole characters, never a cut
    /// UTF-8 sequence), printable ASCII as itself, everything else as `_XX` per UTF-8 byte.
    public static func field(_ value: String, maxCharacters: Int) -> String {
        let limited = value.utf8.count <= maxCharacters ? Substring(value) : value.prefix(max(0, maxCharacters))
        var out: [UInt8] = []
        out.reserveCapacity(limited.utf8.count)
        let digits: StaticString = "0123456789ABCDEF"
        for byte in limited.utf8 {
            switch byte {
            case UInt8(ascii: "_"), UInt8(ascii: "^"), UInt8(ascii: "~"), UInt8(ascii: "\\"), 0..<0x20, 0x7F...0xFF:
                out.append(UInt8(ascii: "_"))
                digits.withUTF8Buffer { hex in
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0F)])
                }
            default:
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
