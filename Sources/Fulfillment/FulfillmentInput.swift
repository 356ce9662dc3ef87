import Foundation
import FulfillmentCore
import Shared

/// What Fulfillment consumes, decoded and validated.
enum FulfillmentInput: Sendable {
    case product(ProductFacts, changedAt: String)
    /// `FulfillmentOrder.Created` from the Router.
    case created(NewFulfillmentOrder)
    /// `Pick.Confirmed` from the WMS: picked quantity per line.
    case picked(fulfillmentOrderID: String, waveID: String?, lines: [String: Int64], bins: [String: String])
    /// `Shipment.Confirmed` from the carrier: a tracking number for one parcel.
    case confirmed(parcel: ParcelReference, carrier: String, trackingNumber: String, shippedAt: String?)
    case delivered(parcel: ParcelReference, deliveredAt: String?)
    /// `FulfillmentOrder.Confirmed` from a supplier (drop-ship) or the WMS.
    case supplierConfirmed(fulfillmentOrderID: String, orderID: String, trackingNumber: String?)
    /// `Stock.Changed` from the WMS: where it keeps SKUs (items with a `bin`), newest sequence wins.
    case bins(warehouseID: String, sequence: Int64, bins: [(sku: String, bin: String)])
    case ignored(String)
}

enum ParcelReference: Sendable, Hashable, CustomStringConvertible {
    case sscc(String)
    case parcelID(String)
    case trackingNumber(String)
    var description: String {
        switch self {
        case .sscc(let s): return "SSCC \(s)"
        case .parcelID(let p): return "parcel \(p)"
        case .trackingNumber(let t): return "tracking number \(t)"
        }
    }
}

struct NewFulfillmentOrder: Sendable {
    let facts: FulfillmentOrderFacts
    let supplierID: String?
    let shippingMethod: String?
    let shipBy: Date?
    let branding: JSONValue?
    let data: JSONValue
}

extension FulfillmentInput {
    static func decode(_ event: CloudEvent) throws(PermanentFailure) -> FulfillmentInput {
        let data = event.data
        func string(_ key: String) throws(PermanentFailure) -> String {
            guard let value = data[key]?.stringValue else { throw .schemaViolation("data.\(key): required string is missing") }
            return value
        }
        switch event.type {
        case "Product.Changed":
            var dimensions: Packing.Dimensions?
            if let d = data["dimensionsMm"], let l = d["length"]?.int64Value, let w = d["width"]?.int64Value, let h = d["height"]?.int64Value {
                dimensions = Packing.Dimensions(Int(l), Int(w), Int(h))
            }
            return .product(ProductFacts(sku: try string("sku"), name: data["name"]?.stringValue, weightGrams: data["weightGrams"]?.int64Value.map { Int($0) },
                                         dimensions: dimensions, hsCode: data["hsCode"]?.stringValue, originCountry: data["originCountry"]?.stringValue,
                                         dangerousGoodsClass: data["dangerousGoodsClass"]?.stringValue, bulky: data["bulky"]?.boolValue ?? false),
                            changedAt: event.time ?? EventTime.format(Date()))
        case "FulfillmentOrder.Created":
            return .created(try NewFulfillmentOrder.parse(data))
        case "Stock.Changed":
            let bins = (data["items"]?.arrayValue ?? []).compactMap { item -> (sku: String, bin: String)? in
                guard let sku = item["sku"]?.stringValue, let bin = item["bin"]?.stringValue else { return nil }
                return (sku, bin)
            }
            return .bins(warehouseID: try string("warehouseId"), sequence: data["sequence"]?.int64Value ?? 0, bins: bins)
        case "Pick.Confirmed":
            var lines: [String: Int64] = [:], bins: [String: String] = [:]
            for (index, line) in (data["lines"]?.arrayValue ?? []).enumerated() {
                guard let id = line["lineId"]?.stringValue, let picked = line["picked"]?.int64Value else {
                    throw .schemaViolation("data.lines[\(index)]: lineId and picked are required")
                }
                guard lines[id] == nil else { throw .schemaViolation("data.lines: line \(id) is reported twice") }
                lines[id] = picked
                if let bin = line["bin"]?.stringValue { bins[id] = bin }
            }
            return .picked(fulfillmentOrderID: try string("fulfillmentOrderId"), waveID: data["waveId"]?.stringValue, lines: lines, bins: bins)
        case "Shipment.Confirmed":
            return .confirmed(parcel: try reference(data, allowTracking: false), carrier: try string("carrier"),
                              trackingNumber: try string("trackingNumber"), shippedAt: data["shippedAt"]?.stringValue)
        case "Shipment.Delivered":
            return .delivered(parcel: try reference(data, allowTracking: true), deliveredAt: data["deliveredAt"]?.stringValue)
        case "FulfillmentOrder.Confirmed":
            return .supplierConfirmed(fulfillmentOrderID: try string("fulfillmentOrderId"), orderID: try string("orderId"),
                                      trackingNumber: data["trackingNumber"]?.stringValue)
        default:
            throw .unknownEventType("event type \"\(event.type.prefix(80))\" is not handled by Fulfillment")
        }
    }

    static func reference(_ data: JSONValue, allowTracking: Bool) throws(PermanentFailure) -> ParcelReference {
        if let sscc = data["sscc"]?.stringValue {
            do { _ = try SSCC(parsing: sscc) } catch { throw .schemaViolation("data.sscc: \(error.description)") }
            return .sscc(sscc)
        }
        if let parcel = data["parcelId"]?.stringValue { return .parcelID(parcel) }
        if allowTracking, let tracking = data["trackingNumber"]?.stringValue { return .trackingNumber(tracking) }
        throw .schemaViolation(allowTracking ? "data: sscc or trackingNumber is required" : "data: sscc or parcelId is required")
    }
}

extension NewFulfillmentOrder {
    /// Reads `FulfillmentOrder.Created` data (also the stored copy of it).
    static func parse(_ data: JSONValue) throws(PermanentFailure) -> NewFulfillmentOrder {
        let facts = try FulfillmentOrderFacts.parse(data)
        guard facts.warehouseID != nil || data["supplierId"]?.stringValue != nil else {
            throw .schemaViolation("data: a fulfillment order names its warehouseId or its supplierId")
        }
        return NewFulfillmentOrder(facts: facts, supplierID: data["supplierId"]?.stringValue, shippingMethod: data["shippingMethod"]?.stringValue,
                                   shipBy: data["shipBy"]?.stringValue.map(EventTime.parse), branding: data["branding"], data: data)
    }
}
