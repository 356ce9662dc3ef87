import Foundation
import Shared

/// What Fulfillment knows of a product (its replica of catalog.products).
public struct ProductFacts: Sendable, Equatable {
    public let sku: String
    public let name: String?
    public let weightGrams: Int?
    public let dimensions: Packing.Dimensions?
    public let hsCode: String?
    public let originCountry: String?
    public let dangerousGoodsClass: String?
    public let bulky: Bool
    public init(sku: String, name: String?, weightGrams: Int?, dimensions: Packing.Dimensions?, hsCode: String?, originCountry: String?,
                dangerousGoodsClass: String?, bulky: Bool) {
        self.sku = sku
        self.name = name
        self.weightGrams = weightGrams
        self.dimensions = dimensions
        self.hsCode = hsCode
        self.originCountry = originCountry
        self.dangerousGoodsClass = dangerousGoodsClass
        self.bulky = bulky
    }
}

/// One fulfillment order as Fulfillment holds it.
public struct FulfillmentOrderFacts: Sendable {
    public struct Line: Sendable, Equatable {
        public let lineID: String
        public let sku: String
        public let quantity: Int64
        public let unitPrice: Int64?
        public let personalization: JSONValue?
        public init(lineID: String, sku: String, quantity: Int64, unitPrice: Int64?, personalization: JSONValue?) {
            self.lineID = lineID
            self.sku = sku
            self.quantity = quantity
            self.unitPrice = unitPrice
            self.personalization = personalization
        }
    }

    public let id: String
    public let orderID: String
    public let warehouseID: String?
    public let carrierService: String?
    public let customerType: String?
    public let currency: String?
    public let shipTo: PostalAddress?
    public let giftWrap: Bool
    public let giftMessage: String?
    public let lines: [Line]
    /// The order says the customer wants delivery notes without prices (the shop's or the CRM's setting).
    public let withoutPrices: Bool
    public init(id: String, orderID: String, warehouseID: String?, carrierService: String?, customerType: String?, currency: String?,
                shipTo: PostalAddress?, giftWrap: Bool, giftMessage: String?, lines: [Line], withoutPrices: Bool = false) {
        self.withoutPrices = withoutPrices
        self.id = id
        self.orderID = orderID
        self.warehouseID = warehouseID
        self.carrierService = carrierService
        self.customerType = customerType
        self.currency = currency
        self.shipTo = shipTo
        self.giftWrap = giftWrap
        self.giftMessage = giftMessage
        self.lines = lines
    }
    public var isGift: Bool { giftWrap || giftMessage != nil }
}

/// From a pick confirmation to parcels: what is missing, how the rest is packed,
/// which parcels need a customs declaration, and what the delivery note shows.
public enum ShipmentPlanner {
    public struct ShortLine: Sendable, Equatable {
        public let lineID: String
        public let sku: String
        public let missing: Int64
        public let picked: Int64
    }

    public struct PlannedParcel: Sendable, Equatable {
        public let number: Int
        public let carton: String?
        public let grossGrams: Int
        public let outer: Packing.Dimensions
        public let items: [(lineID: String, sku: String, quantity: Int64)]
        public let dangerousGoodsClass: String?
        public let customs: CustomsDeclaration?
        public static func == (a: PlannedParcel, b: PlannedParcel) -> Bool {
            a.number == b.number && a.carton == b.carton && a.grossGrams == b.grossGrams && a.items.map(\.lineID) == b.items.map(\.lineID)
                && a.items.map(\.quantity) == b.items.map(\.quantity)
        }
    }

    public struct DeliveryNote: Sendable, Equatable {
        public struct Line: Sendable, Equatable {
            public let lineID: String
            public let sku: String
            public let name: String?
            public let quantity: Int64
            public let unitPrice: Int64?
            public let personalization: JSONValue?
            public init(lineID: String, sku: String, name: String?, quantity: Int64, unitPrice: Int64?, personalization: JSONValue?) {
                self.lineID = lineID
                self.sku = sku
                self.name = name
                self.quantity = quantity
                self.unitPrice = unitPrice
                self.personalization = personalization
            }
        }
        public let showPrices: Bool
        public let giftWrap: Bool
        public let giftMessage: String?
        public let currency: String?
        public let lines: [Line]
        public init(showPrices: Bool, giftWrap: Bool, giftMessage: String?, currency: String?, lines: [Line]) {
            self.showPrices = showPrices
            self.giftWrap = giftWrap
            self.giftMessage = giftMessage
            self.currency = currency
            self.lines = lines
        }
    }

    public enum Decision: Sendable {
        case packed(parcels: [PlannedParcel], note: DeliveryNote, customsReason: String?)
        case problem([Packing.Problem])
        /// Nothing was picked: nothing to pack.
        case nothingPicked
    }

    /// The delivery note rule: what was shipped, with names and personalization as entered; no prices
    /// for gifts, for customers who asked for none (the order says so) and for the customer types the rules name.
    public static func deliveryNote(_ fo: FulfillmentOrderFacts, shipped: [String: Int64], products: [String: ProductFacts],
                                    rules: FulfillmentRules) -> DeliveryNote {
        let showPrices = !fo.isGift && !fo.withoutPrices && !(fo.customerType.map { rules.deliveryNoteWithoutPricesFor.contains($0) } ?? false)
        return DeliveryNote(
            showPrices: showPrices, giftWrap: fo.giftWrap, giftMessage: fo.giftMessage, currency: fo.currency,
            lines: fo.lines.compactMap { line in
                let count = shipped[line.lineID] ?? 0
                guard count > 0 else { return nil }
                return .init(lineID: line.lineID, sku: line.sku, name: products[line.sku]?.name, quantity: count,
                             unitPrice: showPrices ? line.unitPrice : nil, personalization: line.personalization)
            })
    }

    public struct PickProblem: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// What a pick confirmation says per line; every line of the order must be reported, none above its quantity.
    public static func shortLines(_ fo: FulfillmentOrderFacts, picked: [String: Int64]) throws(PickProblem) -> [ShortLine] {
        let known = Set(fo.lines.map(\.lineID))
        if let unknown = picked.keys.sorted().first(where: { !known.contains($0) }) {
            throw PickProblem(description: "line \(unknown) is not a line of fulfillment order \(fo.id)")
        }
        var short: [ShortLine] = []
        for line in fo.lines {
            guard let count = picked[line.lineID] else {
                throw PickProblem(description: "line \(line.lineID) of fulfillment order \(fo.id) is not reported; report every line (0 when none was found)")
            }
            guard count <= line.quantity else {
                throw PickProblem(description: "line \(line.lineID): \(count) picked but only \(line.quantity) ordered")
            }
            if count < line.quantity { short.append(ShortLine(lineID: line.lineID, sku: line.sku, missing: line.quantity - count, picked: count)) }
        }
        return short
    }

    public static func plan(_ fo: FulfillmentOrderFacts, picked: [String: Int64], products: [String: ProductFacts], rules: FulfillmentRules,
                            at instant: Date) -> Decision {
        guard let warehouseID = fo.warehouseID, let warehouse = rules.warehouses[warehouseID] else {
            return .problem([Packing.Problem(code: "unknown-warehouse", lineID: nil,
                                             message: "warehouse \(fo.warehouseID ?? "(none)") has no cartons in the fulfillment rules")])
        }
        guard let limits = rules.limits(for: fo.carrierService) else {
            return .problem([Packing.Problem(code: "unknown-carrier-service", lineID: nil,
                                             message: "carrier service \(fo.carrierService ?? "(none)") has no limits in the fulfillment rules")])
        }
        var items: [Packing.Item] = []
        for line in fo.lines {
            let count = picked[line.lineID] ?? 0
            guard count > 0 else { continue }
            guard count <= Int64(Packing.maximumUnits) else {
                return .problem([Packing.Problem(code: "too-many-units", lineID: line.lineID,
                                                 message: "line \(line.lineID): \(count) units are more than the packer takes on (\(Packing.maximumUnits)); pack by hand")])
            }
            let product = products[line.sku]
            let item = Packing.Item(lineID: line.lineID, sku: line.sku, dimensions: product?.dimensions, weightGrams: product?.weightGrams,
                                    bulky: product?.bulky ?? false, dangerousGoodsClass: product?.dangerousGoodsClass)
            items.append(contentsOf: repeatElement(item, count: Int(count)))
        }
        guard !items.isEmpty else { return .nothingPicked }
        let packing = Packing.pack(items, cartons: warehouse.cartons, limits: limits)
        guard packing.problems.isEmpty else { return .problem(packing.problems) }

        var customsReason: String?
        if let shipTo = fo.shipTo, case .outside(let reason) = rules.customs.verdict(country: shipTo.country, postalCode: shipTo.postalCode, at: instant) {
            customsReason = reason
        } else if fo.shipTo == nil {
            return .problem([Packing.Problem(code: "missing-ship-to", lineID: nil,
                                             message: "fulfillment order \(fo.id) carries no ship-to address; the label cannot be made")])
        }
        let linesByID = Dictionary(fo.lines.map { ($0.lineID, $0) }, uniquingKeysWith: { a, _ in a })
        var parcels: [PlannedParcel] = []
        for (n, parcel) in packing.parcels.enumerated() {
            var counts: [(lineID: String, sku: String, quantity: Int64)] = []
            for index in parcel.items {
                let item = items[index]
                if let i = counts.firstIndex(where: { $0.lineID == item.lineID }) { counts[i].quantity += 1 } else { counts.append((item.lineID, item.sku, 1)) }
            }
            var customs: CustomsDeclaration?
            if let reason = customsReason, let shipTo = fo.shipTo {
                guard let currency = fo.currency.flatMap(Currency.init) else {
                    return .problem([Packing.Problem(code: "missing-currency", lineID: nil, message: "a customs declaration needs the order's currency")])
                }
                do {
                    customs = try CustomsDeclaration.make(
                        reason: reason, sender: warehouse.address, recipient: shipTo,
                        items: counts.map { entry in
                            let product = products[entry.sku]
                            return (entry.sku, product?.name ?? entry.sku, entry.quantity, (product?.weightGrams ?? 0) * Int(entry.quantity),
                                    Money(minorUnits: linesByID[entry.lineID]?.unitPrice ?? 0, currency: currency), product?.hsCode, product?.originCountry)
                        },
                        invoiceReference: fo.orderID, exportThreshold: rules.exportDeclarationThreshold)
                } catch {
                    return .problem([Packing.Problem(code: "customs-data-missing", lineID: nil, message: error.description)])
                }
            }
            parcels.append(PlannedParcel(number: n + 1, carton: parcel.carton?.id, grossGrams: parcel.grossGrams, outer: parcel.outer, items: counts,
                                         dangerousGoodsClass: parcel.dangerousGoodsClass, customs: customs))
        }
        let note = deliveryNote(fo, shipped: picked, products: products, rules: rules)
        return .packed(parcels: parcels, note: note, customsReason: customsReason)
    }
}

extension ShipmentPlanner.DeliveryNote {
    /// As `Shipment.Packed` carries it (and Fulfillment keeps it for reprinting).
    public func json(branding: JSONValue?) -> JSONValue {
        var value: [String: JSONValue] = [
            "showPrices": .bool(showPrices), "giftWrap": .bool(giftWrap),
            "lines": .array(lines.map { line in
                var l: [String: JSONValue] = ["lineId": .string(line.lineID), "sku": .string(line.sku), "quantity": .integer(line.quantity)]
                if let name = line.name { l["name"] = .string(name) }
                if let price = line.unitPrice { l["unitPrice"] = .integer(price) }
                if let p = line.personalization { l["personalization"] = p }
                return .object(l)
            }),
        ]
        if let giftMessage { value["giftMessage"] = .string(giftMessage) }
        if let currency { value["currency"] = .string(currency) }
        if let branding { value["branding"] = branding }
        return .object(value)
    }

    public init(json: JSONValue) {
        self.init(showPrices: json["showPrices"]?.boolValue ?? false, giftWrap: json["giftWrap"]?.boolValue ?? false,
                  giftMessage: json["giftMessage"]?.stringValue, currency: json["currency"]?.stringValue,
                  lines: (json["lines"]?.arrayValue ?? []).map { line in
                      .init(lineID: line["lineId"]?.stringValue ?? "", sku: line["sku"]?.stringValue ?? "", name: line["name"]?.stringValue,
                            quantity: line["quantity"]?.int64Value ?? 0, unitPrice: line["unitPrice"]?.int64Value, personalization: line["personalization"])
                  })
    }
}

extension FulfillmentOrderFacts {
    /// Reads `FulfillmentOrder.Created` data (the event, or Fulfillment's stored copy of it).
    public static func parse(_ data: JSONValue) throws(PermanentFailure) -> FulfillmentOrderFacts {
        func string(_ key: String) throws(PermanentFailure) -> String {
            guard let value = data[key]?.stringValue else { throw .schemaViolation("data.\(key): required string is missing") }
            return value
        }
        var lines: [FulfillmentOrderFacts.Line] = []
        for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
            guard let id = line["lineId"]?.stringValue, let sku = line["sku"]?.stringValue, let quantity = line["quantity"]?.int64Value else {
                throw .schemaViolation("data.lines[\(index)]: lineId, sku and quantity are required")
            }
            lines.append(.init(lineID: id, sku: sku, quantity: quantity, unitPrice: line["unitPrice"]?.int64Value, personalization: line["personalization"]))
        }
        guard Set(lines.map(\.lineID)).count == lines.count else { throw .schemaViolation("data.lines: lineId values must be unique") }
        var shipTo: PostalAddress?
        if let a = data["shipTo"], let name = a["name"]?.stringValue, let street = a["street"]?.stringValue,
           let postalCode = a["postalCode"]?.stringValue, let city = a["city"]?.stringValue, let country = a["country"]?.stringValue {
            shipTo = PostalAddress(name: name, street: street, postalCode: postalCode, city: city, country: country,
                                   phone: a["phone"]?.stringValue, email: a["email"]?.stringValue)
        }
        return FulfillmentOrderFacts(
            id: try string("fulfillmentOrderId"), orderID: try string("orderId"), warehouseID: data["warehouseId"]?.stringValue,
            carrierService: data["carrierService"]?.stringValue, customerType: data["customerType"]?.stringValue,
            currency: data["currency"]?.stringValue, shipTo: shipTo, giftWrap: data["gift"]?["wrap"]?.boolValue ?? false,
            giftMessage: data["gift"]?["message"]?.stringValue, lines: lines,
            withoutPrices: data["deliveryNote"]?["withoutPrices"]?.boolValue ?? false)
    }
}
