import BillingTax
import Foundation
import Shared

/// An issued document as data (stored next to its XML), so that `omsctl invoice show` renders its PDF again.
extension InvoiceDocument {
    public var json: JSONValue {
        func party(_ p: Party) -> JSONValue {
            var v: [String: JSONValue] = ["name": .string(p.name), "street": .string(p.street), "postalCode": .string(p.postalCode), "city": .string(p.city),
                                          "country": .string(p.country)]
            if let vat = p.vatID { v["vatId"] = .string(vat) }
            if let tax = p.taxNumber { v["taxNumber"] = .string(tax) }
            if let address = p.electronicAddress { v["electronicAddress"] = ["id": .string(address.id), "scheme": .string(address.scheme)] }
            if let contact = p.contact { v["contact"] = ["name": .string(contact.name), "phone": .string(contact.phone), "email": .string(contact.email)] }
            return .object(v)
        }
        func rows(_ rows: [TaxCalculation.Breakdown]) -> JSONValue {
            .array(rows.map { ["category": .string($0.category.rawValue), "rate": .integer(Int64($0.rateBasisPoints)), "taxable": .integer($0.taxable.minorUnits),
                               "tax": .integer($0.tax.minorUnits)] })
        }
        var value: [String: JSONValue] = [
            "number": .string(number), "type": .string(type.rawValue), "issueDate": .string(EventTime.format(issueDate)),
            "deliveryDate": .string(EventTime.format(deliveryDate)), "seller": party(seller), "buyer": party(buyer), "currency": .string(currency.code),
            "lines": .array(lines.map { line in
                var v: [String: JSONValue] = ["id": .string(line.id), "sku": .string(line.sku), "name": .string(line.name), "quantity": .integer(line.quantity),
                                              "net": .integer(line.net.minorUnits), "category": .string(line.category.rawValue),
                                              "rate": .integer(Int64(line.rateBasisPoints))]
                if let note = line.note { v["note"] = .string(note) }
                if let order = line.orderID { v["orderId"] = .string(order) }
                if let orderLine = line.orderLineID { v["orderLineId"] = .string(orderLine) }
                return .object(v)
            }),
            "charges": rows(calculation.charges), "allowances": rows(calculation.allowances), "breakdown": rows(calculation.breakdown),
            "totalNet": .integer(calculation.totalNet.minorUnits), "totalTax": .integer(calculation.totalTax.minorUnits),
            "rounding": .integer(calculation.rounding.minorUnits), "total": .integer(calculation.total.minorUnits),
            "exemptions": .array(exemptionReasons.map { ["category": .string($0.key.rawValue), "code": .string($0.value.code), "text": .string($0.value.text)] }),
            "notes": .array(notes.map { .string($0) }),
        ]
        if let shipTo { value["shipTo"] = party(shipTo) }
        if let paymentTerms { value["paymentTerms"] = .string(paymentTerms) }
        if let dueDate { value["dueDate"] = .string(EventTime.format(dueDate)) }
        if let precedingInvoice { value["precedingInvoice"] = .string(precedingInvoice) }
        if let taxCountry { value["taxCountry"] = .string(taxCountry) }
        if let prepaid { value["prepaid"] = .integer(prepaid.minorUnits) }
        if let allowanceReason { value["allowanceReason"] = .string(allowanceReason) }
        if !deductedDeposits.isEmpty { value["deductedDeposits"] = .array(deductedDeposits.map { .string($0) }) }
        if let buyerReference { value["buyerReference"] = .string(buyerReference) }
        if let payee {
            var account: [String: JSONValue] = ["iban": .string(payee.iban)]
            if let bic = payee.bic { account["bic"] = .string(bic) }
            value["payee"] = .object(account)
        }
        if let billingPeriod {
            value["billingPeriod"] = ["start": .string(EventTime.format(billingPeriod.start)), "end": .string(EventTime.format(billingPeriod.end))]
        }
        return .object(value)
    }

    public init?(json v: JSONValue) {
        guard let currency = v["currency"]?.stringValue.flatMap(Currency.init), let number = v["number"]?.stringValue,
              let type = v["type"]?.stringValue.flatMap(TypeCode.init) else { return nil }
        func party(_ p: JSONValue?) -> Party {
            Party(name: p?["name"]?.stringValue ?? "", street: p?["street"]?.stringValue ?? "", postalCode: p?["postalCode"]?.stringValue ?? "",
                  city: p?["city"]?.stringValue ?? "", country: p?["country"]?.stringValue ?? "", vatID: p?["vatId"]?.stringValue, taxNumber: p?["taxNumber"]?.stringValue,
                  electronicAddress: p?["electronicAddress"].flatMap { a in
                      guard let id = a["id"]?.stringValue, let scheme = a["scheme"]?.stringValue else { return nil }
                      return ElectronicAddress(id: id, scheme: scheme)
                  },
                  contact: p?["contact"].flatMap { c in
                      guard let name = c["name"]?.stringValue, let phone = c["phone"]?.stringValue, let email = c["email"]?.stringValue else { return nil }
                      return Contact(name: name, phone: phone, email: email)
                  })
        }
        func money(_ x: JSONValue?) -> Money { Money(minorUnits: x?.int64Value ?? 0, currency: currency) }
        func rows(_ key: String) -> [TaxCalculation.Breakdown] {
            (v[key]?.arrayValue ?? []).compactMap { r in
                guard let category = r["category"]?.stringValue.flatMap(VATCategory.init) else { return nil }
                return TaxCalculation.Breakdown(category: category, rateBasisPoints: Int(r["rate"]?.int64Value ?? 0), taxable: money(r["taxable"]), tax: money(r["tax"]))
            }
        }
        let lines = (v["lines"]?.arrayValue ?? []).map { l in
            Line(id: l["id"]?.stringValue ?? "", sku: l["sku"]?.stringValue ?? "", name: l["name"]?.stringValue ?? "", quantity: l["quantity"]?.int64Value ?? 0,
                 net: money(l["net"]), category: l["category"]?.stringValue.flatMap(VATCategory.init) ?? .standard, rateBasisPoints: Int(l["rate"]?.int64Value ?? 0),
                 note: l["note"]?.stringValue, orderID: l["orderId"]?.stringValue, orderLineID: l["orderLineId"]?.stringValue)
        }
        var reasons: [VATCategory: (code: String, text: String)] = [:]
        for e in v["exemptions"]?.arrayValue ?? [] {
            if let c = e["category"]?.stringValue.flatMap(VATCategory.init) { reasons[c] = (e["code"]?.stringValue ?? "", e["text"]?.stringValue ?? "") }
        }
        let calculation = TaxCalculation.Result(lineNet: Dictionary(lines.map { ($0.id, $0.net) }, uniquingKeysWith: { a, _ in a }), charges: rows("charges"),
                                                allowances: rows("allowances"), breakdown: rows("breakdown"), totalNet: money(v["totalNet"]),
                                                totalTax: money(v["totalTax"]), rounding: money(v["rounding"]), total: money(v["total"]))
        self.init(number: number, type: type, issueDate: EventTime.parse(v["issueDate"]?.stringValue ?? ""), deliveryDate: EventTime.parse(v["deliveryDate"]?.stringValue ?? ""),
                  seller: party(v["seller"]), buyer: party(v["buyer"]), shipTo: v["shipTo"].map { party($0) }, currency: currency, lines: lines,
                  calculation: calculation, exemptionReasons: reasons, paymentTerms: v["paymentTerms"]?.stringValue,
                  dueDate: v["dueDate"]?.stringValue.map(EventTime.parse), precedingInvoice: v["precedingInvoice"]?.stringValue,
                  notes: (v["notes"]?.arrayValue ?? []).compactMap(\.stringValue), taxCountry: v["taxCountry"]?.stringValue,
                  billingPeriod: v["billingPeriod"].flatMap { p in
                      guard let start = p["start"]?.stringValue, let end = p["end"]?.stringValue else { return nil }
                      return (EventTime.parse(start), EventTime.parse(end))
                  }, prepaid: v["prepaid"]?.int64Value.map { Money(minorUnits: $0, currency: currency) }, allowanceReason: v["allowanceReason"]?.stringValue,
                  deductedDeposits: (v["deductedDeposits"]?.arrayValue ?? []).compactMap(\.stringValue),
                  buyerReference: v["buyerReference"]?.stringValue,
                  payee: v["payee"].flatMap { p in p["iban"]?.stringValue.map { PayeeAccount(iban: $0, bic: p["bic"]?.stringValue) } })
    }
}
