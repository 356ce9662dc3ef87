import Foundation
import Shared

/// The routing log is written for every decision, so it is serialized by hand
/// (Foundation's JSONEncoder costs more than the decision itself); the shape is
/// exactly what the Codable conformances read back (`omsctl rules simulate`),
/// with dates as ISO 8601 strings. A round-trip test keeps the two in step.
extension RoutingLogEntry {
    public var json: JSONValue {
        ["order": order.json, "position": position.json, "now": .string(RoutingJSON.date(now))]
    }
}

extension RoutingOrder {
    var json: JSONValue {
        ["orderID": .string(orderID), "shippingCountry": .string(shippingCountry), "shippingMethod": .string(shippingMethod),
         "shipComplete": .bool(shipComplete), "lines": .array(lines.map(\.json))]
    }
}

extension RoutingLine {
    var json: JSONValue {
        ["lineID": .string(lineID), "sku": .string(sku), "quantity": .integer(quantity), "traits": traits.json]
    }
}

extension ProductTraits {
    var json: JSONValue {
        var value: [String: JSONValue] = ["dangerousGoods": .bool(dangerousGoods), "minimumAge": .integer(Int64(minimumAge)), "bulky": .bool(bulky)]
        if let preorderReleaseDate { value["preorderReleaseDate"] = .string(RoutingJSON.date(preorderReleaseDate)) }
        if let dropShipSupplier { value["dropShipSupplier"] = .string(dropShipSupplier) }
        if let serviceSkill { value["serviceSkill"] = .string(serviceSkill) }
        return .object(value)
    }
}

extension StockPosition {
    var json: JSONValue {
        ["available": .object(available.mapValues { .object($0.mapValues { .integer($0) }) }),
         "inbound": .object(inbound.mapValues { .array($0.map { lot in
             ["inboundID": .string(lot.inboundID), "warehouseID": .string(lot.warehouseID), "eta": .string(RoutingJSON.date(lot.eta)),
              "unclaimed": .integer(lot.unclaimed)]
         }) })]
    }
}

extension RoutingPlan {
    public var json: JSONValue {
        func planned(_ lines: [PlannedLine]) -> JSONValue {
            .array(lines.map { ["lineID": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity)] })
        }
        return [
            "shipments": .array(shipments.map {
                ["warehouseID": .string($0.warehouseID), "carrierService": .string($0.carrierService), "lines": planned($0.lines),
                 "shipBy": .string(RoutingJSON.date($0.shipBy))]
            }),
            "backorders": .array(backorders.map { backorder in
                var value: [String: JSONValue] = ["lineID": .string(backorder.lineID), "sku": .string(backorder.sku), "quantity": .integer(backorder.quantity)]
                if let eta = backorder.eta { value["eta"] = .string(RoutingJSON.date(eta)) }
                return .object(value)
            }),
            "softClaims": .array(softClaims.map {
                ["lineID": .string($0.lineID), "sku": .string($0.sku), "inboundID": .string($0.inboundID), "warehouseID": .string($0.warehouseID),
                 "quantity": .integer($0.quantity)]
            }),
            "preorders": .array(preorders.map {
                ["lineID": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity), "releaseDate": .string(RoutingJSON.date($0.releaseDate))]
            }),
            "dropShips": .array(dropShips.map { ["supplierID": .string($0.supplierID), "lines": planned($0.lines), "slaDue": .string(RoutingJSON.date($0.slaDue))] }),
            "appointments": .array(appointments.map {
                ["lineID": .string($0.lineID), "sku": .string($0.sku), "technicianID": .string($0.technicianID), "day": .string($0.day)]
            }),
            "problems": .array(problems.map { ["lineID": .string($0.lineID), "code": .string($0.code), "message": .string($0.message)] }),
        ]
    }
}

public enum RoutingJSON {
    /// Whole seconds, as JSONDecoder's `.iso8601` strategy reads them.
    static func date(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
