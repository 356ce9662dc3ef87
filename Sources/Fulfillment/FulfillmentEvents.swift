import Foundation
import FulfillmentCore
import Shared

/// The events Fulfillment emits.
enum FulfillmentEvents {
    static func lengths(_ routed: WarehouseLayout.RoutedList) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: routed.lengths.map { ($0.key.rawValue, JSONValue.integer(Int64($0.value))) }))
    }

    static func stops(_ routed: WarehouseLayout.RoutedList, unslotted: [WarehouseLayout.Stop]) -> JSONValue {
        .array((routed.stops.map { ($0, $0.bin.name) } + unslotted.map { ($0, "UNSLOTTED") }).enumerated().map { index, entry in
            ["sequence": .integer(Int64(index + 1)), "bin": .string(entry.1), "sku": .string(entry.0.sku), "quantity": .integer(entry.0.quantity),
             "fulfillmentOrderId": .string(entry.0.fulfillmentOrderID), "lineId": .string(entry.0.lineID)]
        })
    }

    /// What the packer must do per order, exactly as the customer entered it.
    static func packingInstructions(_ orders: [FulfillmentOrderFacts]) -> JSONValue {
        .array(orders.compactMap { fo in
            let personalized = fo.lines.compactMap { line -> JSONValue? in
                guard let p = line.personalization else { return nil }
                return ["lineId": .string(line.lineID), "sku": .string(line.sku), "personalization": p]
            }
            guard fo.isGift || !personalized.isEmpty else { return nil }
            var value: [String: JSONValue] = ["fulfillmentOrderId": .string(fo.id), "giftWrap": .bool(fo.giftWrap)]
            if let message = fo.giftMessage { value["giftMessage"] = .string(message) }
            if !personalized.isEmpty { value["personalization"] = .array(personalized) }
            return .object(value)
        })
    }

    static func pickListCreated(waveID: String, warehouseID: String, wave: WavePlanning.Wave, routed: WarehouseLayout.RoutedList, stops: JSONValue,
                                instructions: JSONValue, now: Date) -> Emission {
        var data: [String: JSONValue] = [
            "waveId": .string(waveID), "warehouseId": .string(warehouseID), "zone": .string(wave.zone), "singleOrder": .bool(wave.single),
            "fulfillmentOrderIds": .array(wave.fulfillmentOrderIDs.map { .string($0) }), "stops": stops,
            "routing": ["method": .string(routed.chosen.method.rawValue), "lengthDm": .integer(Int64(routed.chosen.length)),
                        "lengthsDm": lengths(routed), "binNameOrderDm": .integer(Int64(routed.binNameOrderLength))],
            "createdAt": .string(EventTime.format(now)), "packingInstructions": instructions,
        ]
        if let shipBy = wave.shipBy { data["shipBy"] = .string(EventTime.format(shipBy)) }
        return Emission(topic: Topic.omsShipments, key: waveID, type: "PickList.Created", subject: waveID, data: .object(data))
    }

    static func shortPicked(_ fo: FulfillmentOrderFacts, lines: [ShipmentPlanner.ShortLine], bins: [String: String], now: Date) -> Emission {
        Emission(topic: Topic.omsFulfillment, key: fo.orderID, type: "FulfillmentOrder.ShortPicked", subject: fo.orderID, data: [
            "fulfillmentOrderId": .string(fo.id), "orderId": .string(fo.orderID), "warehouseId": .string(fo.warehouseID ?? ""),
            "reportedAt": .string(EventTime.format(now)),
            "lines": .array(lines.map { line in
                var value: [String: JSONValue] = ["lineId": .string(line.lineID), "sku": .string(line.sku), "missing": .integer(line.missing),
                                                  "picked": .integer(line.picked)]
                if let bin = bins[line.lineID] { value["bin"] = .string(bin) }
                return .object(value)
            }),
        ])
    }

    static func packingProblem(_ fo: FulfillmentOrderFacts, problems: [Packing.Problem]) -> Emission {
        var data: [String: JSONValue] = [
            "fulfillmentOrderId": .string(fo.id), "orderId": .string(fo.orderID),
            "problems": .array(problems.map { problem in
                var value: [String: JSONValue] = ["code": .string(problem.code), "message": .string(problem.message)]
                if let line = problem.lineID { value["lineId"] = .string(line) }
                return .object(value)
            }),
        ]
        if let warehouse = fo.warehouseID { data["warehouseId"] = .string(warehouse) }
        return Emission(topic: Topic.omsFulfillment, key: fo.orderID, type: "FulfillmentOrder.PackingProblem", subject: fo.orderID, data: .object(data))
    }

    static func supplierNote(_ fo: FulfillmentOrderFacts, supplierID: String, note: JSONValue) -> Emission {
        var data: [String: JSONValue] = ["fulfillmentOrderId": .string(fo.id), "orderId": .string(fo.orderID), "supplierId": .string(supplierID),
                                         "deliveryNote": note]
        if let shipTo = fo.shipTo { data["shipTo"] = address(shipTo) }
        return Emission(topic: Topic.omsFulfillment, key: fo.orderID, type: "DeliveryNote.Prepared", subject: fo.orderID, data: .object(data))
    }

    static func address(_ a: PostalAddress) -> JSONValue {
        var value: [String: JSONValue] = ["name": .string(a.name), "street": .string(a.street), "postalCode": .string(a.postalCode),
                                          "city": .string(a.city), "country": .string(a.country)]
        if let phone = a.phone { value["phone"] = .string(phone) }
        if let email = a.email { value["email"] = .string(email) }
        return .object(value)
    }

    static func customs(_ c: CustomsDeclaration) -> JSONValue {
        ["form": .string(c.form), "category": .string(c.category), "reason": .string(c.reason), "invoiceReference": .string(c.invoiceReference),
         "exportDeclarationRequired": .bool(c.exportDeclarationRequired), "totalValue": .integer(c.totalValue.minorUnits),
         "currency": .string(c.totalValue.currency.code),
         "items": .array(c.items.map { item in
             ["description": .string(item.description), "quantity": .integer(item.quantity), "netWeightGrams": .integer(Int64(item.netWeightGrams)),
              "value": .integer(item.value.minorUnits), "hsCode": .string(item.hsCode), "originCountry": .string(item.originCountry)]
         })]
    }

    static func contents(_ items: [(lineID: String, sku: String, quantity: Int64)]) -> JSONValue {
        .array(items.map { ["lineId": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity)] })
    }

    static func shipmentPacked(_ fo: FulfillmentOrderFacts, parcels: [FulfillmentStore.ParcelRow], note: ShipmentPlanner.DeliveryNote,
                               dimensions: [String: Packing.Dimensions], branding: JSONValue?, now: Date) -> Emission {
        var data: [String: JSONValue] = [
            "fulfillmentOrderId": .string(fo.id), "orderId": .string(fo.orderID), "warehouseId": .string(fo.warehouseID ?? ""),
            "packedAt": .string(EventTime.format(now)),
            "parcels": .array(parcels.map { parcel in
                var value: [String: JSONValue] = [
                    "parcelId": .string(parcel.parcelID), "sscc": .string(parcel.sscc), "parcelNumber": .integer(Int64(parcel.number)),
                    "grossWeightGrams": .integer(Int64(parcel.grossGrams)), "items": parcel.contents,
                ]
                if let carton = parcel.carton { value["carton"] = .string(carton) }
                if let d = dimensions[parcel.sscc] {
                    value["dimensionsMm"] = ["length": .integer(Int64(d.length)), "width": .integer(Int64(d.width)), "height": .integer(Int64(d.height))]
                }
                if let dg = parcel.dangerousGoodsClass { value["dangerousGoodsClass"] = .string(dg) }
                if let customs = parcel.customs { value["customs"] = customs }
                return .object(value)
            }),
            "deliveryNote": note.json(branding: branding),
        ]
        if let service = fo.carrierService { data["carrierService"] = .string(service) }
        if let shipTo = fo.shipTo { data["shipTo"] = address(shipTo) }
        return Emission(topic: Topic.omsShipments, key: fo.orderID, type: "Shipment.Packed", subject: fo.orderID, data: .object(data))
    }

    static func printRequested(_ parcel: FulfillmentStore.ParcelRow, orderID: String, reprint: Bool, now: Date) -> Emission {
        Emission(topic: Topic.omsLabels, key: orderID, type: "Label.PrintRequested", subject: orderID, data: [
            "jobId": .string("LABEL-\(parcel.sscc)\(reprint ? "-R\(Int(now.timeIntervalSince1970))" : "")"), "printerId": .string(parcel.printerID ?? "default"),
            "sscc": .string(parcel.sscc), "fulfillmentOrderId": .string(parcel.fulfillmentOrderID), "orderId": .string(orderID),
            "format": "zpl", "zpl": .string(parcel.zpl), "reprint": .bool(reprint), "requestedAt": .string(EventTime.format(now)),
        ])
    }

    static func tracked(_ parcel: FulfillmentStore.ParcelRow) -> JSONValue {
        var value: [String: JSONValue] = ["sscc": .string(parcel.sscc), "parcelId": .string(parcel.parcelID),
                                          "trackingNumber": .string(parcel.trackingNumber ?? ""), "carrier": .string(parcel.carrier ?? "")]
        if let url = parcel.trackingURL { value["trackingUrl"] = .string(url) }
        return .object(value)
    }

    static func shipped(_ fo: FulfillmentOrderFacts, supplierID: String?, parcels: [JSONValue], now: Date) -> [Emission] {
        var data: [String: JSONValue] = [
            "fulfillmentOrderId": .string(fo.id), "orderId": .string(fo.orderID), "shippedAt": .string(EventTime.format(now)),
            "parcels": .array(parcels),
            "lines": .array(fo.lines.map { ["lineId": .string($0.lineID), "sku": .string($0.sku), "quantity": .integer($0.quantity)] }),
        ]
        if let warehouse = fo.warehouseID { data["warehouseId"] = .string(warehouse) }
        if let supplierID { data["supplierId"] = .string(supplierID) }
        return [
            Emission(topic: Topic.omsShipments, key: fo.orderID, type: "Shipment.Shipped", subject: fo.orderID, data: .object(data)),
            notification(orderID: fo.orderID, template: "shipped", facts: ["fulfillmentOrderId": .string(fo.id), "parcels": .array(parcels)]),
        ]
    }

    static func delivered(_ fo: FulfillmentOrderFacts, parcels: [JSONValue], now: Date) -> [Emission] {
        let data: JSONValue = ["fulfillmentOrderId": .string(fo.id), "orderId": .string(fo.orderID), "deliveredAt": .string(EventTime.format(now)),
                               "parcels": .array(parcels)]
        return [
            Emission(topic: Topic.omsShipments, key: fo.orderID, type: "Shipment.Delivered", subject: fo.orderID, data: data),
            notification(orderID: fo.orderID, template: "delivered", facts: ["fulfillmentOrderId": .string(fo.id), "parcels": .array(parcels)]),
        ]
    }

    static func notification(orderID: String, template: String, facts: JSONValue) -> Emission {
        Emission(topic: Topic.omsNotifications, key: orderID, type: "Customer.NotificationRequested", subject: orderID,
                 data: ["orderId": .string(orderID), "template": .string(template), "facts": facts])
    }
}
