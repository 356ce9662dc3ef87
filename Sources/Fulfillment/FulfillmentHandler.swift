import Foundation
import FulfillmentCore
import Shared

/// Fulfillment's I/O around its cores: fulfillment orders into waves and pick
/// lists, pick confirmations into parcels with SSCCs and labels, carrier
/// confirmations into tracking. Each batch: gather → decide (pure cores) → write.
struct FulfillmentHandler: StageHandler {
    let definition = StageDefinition(name: "fulfillment", schema: "fulfillment", consumerGroup: "oms-fulfillment",
                                     topics: [Topic.omsFulfillment, Topic.catalogProducts, Topic.warehouseEvents, Topic.carrierShipments, Topic.inventoryStock])
    let maximumEventBytes: Int
    let rules: RuleVersions<FulfillmentRules>
    let admission: TopicAdmission

    static let handledTypes: [String: Set<String>] = [
        Topic.omsFulfillment: ["FulfillmentOrder.Created"],
        Topic.catalogProducts: ["Product.Changed"],
        Topic.warehouseEvents: ["Pick.Confirmed", "FulfillmentOrder.Confirmed"],
        Topic.carrierShipments: ["Shipment.Confirmed", "Shipment.Delivered"],
        Topic.inventoryStock: ["Stock.Changed"],
    ]

    init(maximumEventBytes: Int, rules: RuleVersions<FulfillmentRules>, topicSources: [String: [String]] = [:]) {
        self.maximumEventBytes = maximumEventBytes
        self.rules = rules
        admission = TopicAdmission(handled: Self.handledTypes, sources: topicSources)
    }

    func decode(_ message: ConsumedMessage) throws(PermanentFailure) -> DecodedMessage<FulfillmentInput> {
        let (event, skip) = try admission.read(message, maximumBytes: maximumEventBytes, ownSource: definition.eventSource)
        let input: FulfillmentInput
        if let skip { input = .ignored(skip) } else { input = try FulfillmentInput.decode(event) }
        return DecodedMessage(idempotencyKey: event.id, correlationID: event.correlationID ?? event.id, input: input, skipped: skip != nil)
    }

    /// What one message leads to, collected while the batch is worked through.
    struct Outcome {
        var emit: [Emission] = []
        var audit: [AuditRecord] = []
        var dead: PermanentFailure?
    }

    func apply(_ batch: [DecodedMessage<FulfillmentInput>], database: PostgresConnection) throws -> [MessageOutcome] {
        let now = Date()
        let rules = self.rules.rules(at: { now })
        let store = FulfillmentStore(database: database)
        var outcomes = Array(repeating: Outcome(), count: batch.count)

        // Gather: master data first, so that this batch's orders see it.
        var products: [(facts: ProductFacts, changedAt: String)] = []
        var created: [(index: Int, order: NewFulfillmentOrder)] = []
        var orderIDs = Set<String>()
        var references: [ParcelReference] = []
        var bins: [(warehouse: String, sku: String, bin: String, sequence: Int64)] = []
        for (index, message) in batch.enumerated() {
            switch message.input {
            case .product(let facts, let changedAt): products.append((facts, changedAt))
            case .created(let order): created.append((index, order))
            case .picked(let id, _, _, _), .supplierConfirmed(let id, _, _): orderIDs.insert(id)
            case .confirmed(let parcel, _, _, _), .delivered(let parcel, _): references.append(parcel)
            case .bins(let warehouse, let sequence, let list):
                // Only bins of the warehouse's layout count; another name is noted, the stock report is the Router's business.
                let layout = rules.warehouses[warehouse]?.layout
                let known = list.filter { layout?.bin(named: $0.bin) != nil }
                bins += known.map { (warehouse, $0.sku, $0.bin, sequence) }
                if known.count < list.count {
                    outcomes[index].audit.append(AuditRecord(subject: "warehouse:\(warehouse)", action: "Bin.Unknown", actor: "wms",
                                                             reason: "\(list.count - known.count) bin name(s) not in the layout of \(warehouse), e.g. "
                                                                 + (list.first { layout?.bin(named: $0.bin) == nil }.map { "\($0.sku) at \($0.bin.prefix(64))" } ?? "")))
                }
            case .ignored: break
            }
        }
        try store.upsertProducts(products)
        try store.upsertBins(bins)

        // New fulfillment orders: a warehouse's go into waves at once, a supplier's wait for its confirmation.
        let inserted = try store.insert(created.map { entry in
            (entry.order, entry.order.facts.warehouseID == nil ? FulfillmentStatus.atSupplier : .received, batch[entry.index].correlationID)
        })
        var seen = Set<String>()
        var toWave: [(index: Int, order: NewFulfillmentOrder)] = [], dropShip: [(index: Int, order: NewFulfillmentOrder)] = []
        for entry in created {
            let id = entry.order.facts.id
            guard inserted.contains(id), seen.insert(id).inserted else {
                outcomes[entry.index].audit.append(AuditRecord(subject: id, action: "FulfillmentOrder.Repeated", actor: "fulfillment",
                                                               reason: "fulfillment order \(id) is already known; the repeat is skipped"))
                continue
            }
            outcomes[entry.index].audit.append(AuditRecord(subject: entry.order.facts.orderID, action: "FulfillmentOrder.Received", actor: "fulfillment",
                                                           reason: entry.order.facts.warehouseID.map { "for warehouse \($0)" } ?? "drop-ship by \(entry.order.supplierID ?? "?")",
                                                           details: ["fulfillmentOrderId": .string(id)]))
            if entry.order.facts.warehouseID != nil { toWave.append(entry) } else { dropShip.append(entry) }
        }
        try prepareSupplierNotes(dropShip, rules: rules, store: store, outcomes: &outcomes)
        try wave(toWave, rules: rules, store: store, outcomes: &outcomes, now: now)

        // Pick confirmations → short lines back to the Router, the rest packed and labelled.
        var stored = try store.lock(orderIDs)
        try pack(batch, stored: &stored, rules: rules, store: store, outcomes: &outcomes, now: now)

        // Carrier confirmations → tracking per parcel; a fulfillment order ships when every parcel has its number.
        try track(batch, references: references, stored: &stored, rules: rules, store: store, outcomes: &outcomes, now: now)

        return outcomes.map { $0.dead.map { .deadLetter($0) } ?? .processed(emit: $0.emit, audit: $0.audit) }
    }

    // MARK: - Drop-ship

    /// The supplier ships: it gets the delivery note in the shop's branding (as data here, as PDF from
    /// `omsctl fulfillment documents`), so that the parcel looks like the shop's own.
    func prepareSupplierNotes(_ entries: [(index: Int, order: NewFulfillmentOrder)], rules: FulfillmentRules, store: FulfillmentStore,
                              outcomes: inout [Outcome]) throws {
        guard !entries.isEmpty else { return }
        let products = try store.products(Set(entries.flatMap { $0.order.facts.lines.map(\.sku) }))
        var notes: [String: JSONValue] = [:]
        for entry in entries {
            let facts = entry.order.facts
            let note = ShipmentPlanner.deliveryNote(facts, shipped: Dictionary(facts.lines.map { ($0.lineID, $0.quantity) }, uniquingKeysWith: +),
                                                    products: products, rules: rules)
            let json = note.json(branding: entry.order.branding)
            notes[facts.id] = json
            outcomes[entry.index].emit.append(FulfillmentEvents.supplierNote(facts, supplierID: entry.order.supplierID ?? "", note: json))
        }
        try store.setStatus(entries.map { ($0.order.facts.id, FulfillmentStatus.atSupplier, nil) }, notes: notes)
    }

    // MARK: - Waves

    func wave(_ entries: [(index: Int, order: NewFulfillmentOrder)], rules: FulfillmentRules, store: FulfillmentStore,
              outcomes: inout [Outcome], now: Date) throws {
        guard !entries.isEmpty else { return }
        let products = try store.products(Set(entries.flatMap { $0.order.facts.lines.map(\.sku) }))
        let byWarehouse = Dictionary(grouping: entries, by: { $0.order.facts.warehouseID ?? "" })
        var waves: [(id: String, warehouseID: String, wave: WavePlanning.Wave, routed: WarehouseLayout.RoutedList, stops: JSONValue)] = []
        for warehouseID in byWarehouse.keys.sorted() {
            guard let entries = byWarehouse[warehouseID] else { continue }
            guard let warehouse = rules.warehouses[warehouseID] else {
                // No layout for this warehouse: one list per order, in line order, so that nothing waits unseen.
                for entry in entries {
                    outcomes[entry.index].audit.append(AuditRecord(subject: entry.order.facts.orderID, action: "Wave.Unrouted", actor: "fulfillment",
                                                                   reason: "warehouse \(warehouseID) has no layout in the fulfillment rules; the order waits as received until the rules list it"))
                }
                continue
            }
            let layout = warehouse.layout
            // The WMS's word on where a SKU lies beats the slotting table.
            let overrides = try store.bins(warehouse: warehouseID, skus: Set(entries.flatMap { $0.order.facts.lines.map(\.sku) }))
            func bin(_ sku: String) -> WarehouseLayout.Bin? { overrides[sku].flatMap(layout.bin(named:)) ?? layout.slotting[sku] }
            var candidates: [WavePlanning.Candidate] = []
            var indexOf: [String: Int] = [:]
            var orders: [String: NewFulfillmentOrder] = [:]
            for entry in entries {
                let facts = entry.order.facts
                var volume: Int64 = 0, grams: Int64 = 0
                for line in facts.lines {
                    let product = products[line.sku]
                    volume = Self.saturatingAdd(volume, Self.saturatingMultiply(product?.dimensions?.volume ?? 0, line.quantity))
                    grams = Self.saturatingAdd(grams, Self.saturatingMultiply(Int64(product?.weightGrams ?? 0), line.quantity))
                }
                let zones = Set(facts.lines.compactMap { bin($0.sku).flatMap(layout.zone) })
                candidates.append(.init(fulfillmentOrderID: facts.id, shipBy: entry.order.shipBy, zone: zones.count == 1 ? (zones.first ?? "mixed") : "mixed",
                                        express: entry.order.shippingMethod.map(rules.expressMethods.contains) ?? false, volumeCubicMm: volume, grams: grams))
                indexOf[facts.id] = entry.index
                orders[facts.id] = entry.order
            }
            for planned in WavePlanning.plan(candidates, cart: warehouse.cart) {
                var stops: [WarehouseLayout.Stop] = [], unslotted: [WarehouseLayout.Stop] = []
                for id in planned.fulfillmentOrderIDs {
                    for line in orders[id]?.facts.lines ?? [] {
                        if let bin = bin(line.sku) {
                            stops.append(.init(bin: bin, sku: line.sku, quantity: line.quantity, fulfillmentOrderID: id, lineID: line.lineID))
                        } else {
                            unslotted.append(.init(bin: .init(aisle: "?", position: 0, level: 0), sku: line.sku, quantity: line.quantity,
                                                   fulfillmentOrderID: id, lineID: line.lineID))
                        }
                    }
                }
                let routed: WarehouseLayout.RoutedList
                do { routed = try layout.route(stops) } catch {
                    throw PostgresError(kind: .server, serverMessage: "pick routing failed for warehouse \(warehouseID): \(error.description)")
                }
                let waveID = "W-\(warehouseID)-\(planned.fulfillmentOrderIDs[0])"
                let stopsJSON = FulfillmentEvents.stops(routed, unslotted: unslotted)
                waves.append((waveID, warehouseID, planned, routed, stopsJSON))
                let last = planned.fulfillmentOrderIDs.compactMap { indexOf[$0] }.max() ?? 0
                let instructions = FulfillmentEvents.packingInstructions(planned.fulfillmentOrderIDs.compactMap { orders[$0]?.facts })
                outcomes[last].emit.append(FulfillmentEvents.pickListCreated(waveID: waveID, warehouseID: warehouseID, wave: planned, routed: routed,
                                                                            stops: stopsJSON, instructions: instructions, now: now))
                for id in planned.fulfillmentOrderIDs {
                    guard let index = indexOf[id] else { continue }
                    var reason = "on wave \(waveID): \(routed.chosen.method.rawValue) tour \(routed.chosen.length) dm (bin-name order \(routed.binNameOrderLength) dm)"
                    if !unslotted.isEmpty { reason += "; \(unslotted.count) line(s) without a bin in the slotting table" }
                    outcomes[index].audit.append(AuditRecord(subject: orders[id]?.facts.orderID ?? id, action: "FulfillmentOrder.Waved", actor: "fulfillment",
                                                             reason: reason, details: ["fulfillmentOrderId": .string(id), "waveId": .string(waveID)]))
                }
            }
        }
        try store.insertWaves(waves)
    }

    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    static func saturatingMultiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    // MARK: - Picking and packing

    func pack(_ batch: [DecodedMessage<FulfillmentInput>], stored: inout [String: FulfillmentStore.StoredOrder], rules: FulfillmentRules,
              store: FulfillmentStore, outcomes: inout [Outcome], now: Date) throws {
        struct Packed {
            let index: Int
            let id: String
            let parcels: [ShipmentPlanner.PlannedParcel]
            let note: ShipmentPlanner.DeliveryNote
        }
        var packed: [Packed] = []
        var picks: [String: [String: Int64]] = [:]
        var statuses: [(id: String, status: FulfillmentStatus, problem: String?)] = []
        let skus = Set(stored.values.flatMap { $0.order.facts.lines.map(\.sku) })
        let products = try store.products(skus)
        for (index, message) in batch.enumerated() {
            guard case .picked(let id, _, let lines, let bins) = message.input else { continue }
            guard var order = stored[id] else {
                outcomes[index].dead = .businessRule("fulfillment order \(id) is unknown to Fulfillment; a pick confirmation needs its FulfillmentOrder.Created first")
                continue
            }
            let facts = order.order.facts
            guard order.status == .waved || order.status == .packingProblem else {
                outcomes[index].audit.append(AuditRecord(subject: facts.orderID, action: "Pick.Repeated", actor: "fulfillment",
                                                         reason: "fulfillment order \(id) is \(order.status.rawValue); the pick confirmation has no further effect",
                                                         details: ["fulfillmentOrderId": .string(id)]))
                continue
            }
            let short: [ShipmentPlanner.ShortLine]
            do { short = try ShipmentPlanner.shortLines(facts, picked: lines) } catch {
                outcomes[index].dead = .businessRule(error.description)
                continue
            }
            if order.status == .waved {
                picks[id] = lines
                order.picked = lines
                if !short.isEmpty { outcomes[index].emit.append(FulfillmentEvents.shortPicked(facts, lines: short, bins: bins, now: now)) }
            }
            // A second confirmation after a packing problem (e.g. the catalog got the missing dimensions) packs what was picked then.
            let pickedNow = order.status == .waved ? lines : order.picked
            switch ShipmentPlanner.plan(facts, picked: pickedNow, products: products, rules: rules, at: now) {
            case .nothingPicked:
                statuses.append((id, .nothingPicked, nil))
                order.status = .nothingPicked
                outcomes[index].audit.append(AuditRecord(subject: facts.orderID, action: "FulfillmentOrder.NothingPicked", actor: "fulfillment",
                                                         reason: "no unit of \(id) was found; every line went back to the Router",
                                                         details: ["fulfillmentOrderId": .string(id)]))
            case .problem(let problems):
                statuses.append((id, .packingProblem, problems.map(\.message).joined(separator: "; ")))
                order.status = .packingProblem
                outcomes[index].emit.append(FulfillmentEvents.packingProblem(facts, problems: problems))
                outcomes[index].audit.append(AuditRecord(subject: facts.orderID, action: "FulfillmentOrder.PackingProblem", actor: "fulfillment",
                                                         reason: problems.map(\.message).joined(separator: "; "),
                                                         details: ["fulfillmentOrderId": .string(id)]))
            case .packed(let parcels, let note, _):
                statuses.append((id, .packed, nil))
                order.status = .packed
                packed.append(Packed(index: index, id: id, parcels: parcels, note: note))
            }
            stored[id] = order
        }

        // SSCCs for every parcel of the batch from one sequence call, then labels and events.
        let serials = try store.nextSerials(packed.reduce(0) { $0 + $1.parcels.count })
        var cursor = 0
        var rows: [FulfillmentStore.ParcelRow] = []
        var notes: [String: JSONValue] = [:]
        for entry in packed {
            guard let order = stored[entry.id] else { continue }
            let facts = order.order.facts
            let warehouse = facts.warehouseID.flatMap { rules.warehouses[$0] }
            var parcelRows: [FulfillmentStore.ParcelRow] = []
            var dimensions: [String: Packing.Dimensions] = [:]
            for parcel in entry.parcels {
                guard cursor < serials.count else { throw PostgresError(kind: .server, serverMessage: "the SSCC sequence returned too few numbers") }
                let sscc: SSCC
                do {
                    sscc = try SSCC(extensionDigit: rules.ssccExtensionDigit, companyPrefix: rules.gs1CompanyPrefix, serial: serials[cursor])
                } catch {
                    throw PostgresError(kind: .server, serverMessage: "SSCC cannot be formed: \(error.description)")
                }
                cursor += 1
                let label = ShippingLabel.make(facts, sscc: sscc, number: parcel.number, count: entry.parcels.count, grossGrams: parcel.grossGrams,
                                               dangerousGoodsClass: parcel.dangerousGoodsClass, customsDeclaration: parcel.customs != nil, rules: rules)
                let row = FulfillmentStore.ParcelRow(
                    sscc: sscc.digits, parcelID: "\(facts.id)/\(parcel.number)", fulfillmentOrderID: facts.id, number: parcel.number,
                    count: entry.parcels.count, carton: parcel.carton, grossGrams: parcel.grossGrams, dangerousGoodsClass: parcel.dangerousGoodsClass,
                    contents: FulfillmentEvents.contents(parcel.items), customs: parcel.customs.map(FulfillmentEvents.customs), zpl: ZPL.label(label),
                    printerID: warehouse?.stations.first?.printer, carrier: nil, trackingNumber: nil, trackingURL: nil, shipped: false, delivered: false)
                dimensions[row.sscc] = parcel.outer
                parcelRows.append(row)
            }
            rows += parcelRows
            outcomes[entry.index].emit.append(FulfillmentEvents.shipmentPacked(facts, parcels: parcelRows, note: entry.note, dimensions: dimensions,
                                                                              branding: order.order.branding, now: now))
            notes[facts.id] = entry.note.json(branding: order.order.branding)
            outcomes[entry.index].emit += parcelRows.map { FulfillmentEvents.printRequested($0, orderID: facts.orderID, reprint: false, now: now) }
            outcomes[entry.index].audit.append(AuditRecord(
                subject: facts.orderID, action: "Shipment.Packed", actor: "fulfillment",
                reason: "\(parcelRows.count) parcel(s): " + parcelRows.map { "\($0.sscc) in \($0.carton ?? "own packaging"), \(ShippingLabel.kilograms($0.grossGrams))" }.joined(separator: "; "),
                details: ["fulfillmentOrderId": .string(facts.id), "ssccs": .array(parcelRows.map { .string($0.sscc) })]))
        }
        try store.insertParcels(rows)
        try store.setStatus(statuses, notes: notes, picked: picks)
    }

    // MARK: - Tracking

    func track(_ batch: [DecodedMessage<FulfillmentInput>], references: [ParcelReference], stored: inout [String: FulfillmentStore.StoredOrder],
               rules: FulfillmentRules, store: FulfillmentStore, outcomes: inout [Outcome], now: Date) throws {
        var parcels = try store.lockParcels(references)
        var tracking: [(sscc: String, carrier: String, tracking: String, url: String?, shippedAt: String?)] = []
        var deliveries: [(sscc: String, deliveredAt: String?)] = []
        var touched: [String: Int] = [:]
        for (index, message) in batch.enumerated() {
            switch message.input {
            case .confirmed(let reference, let carrier, let number, let shippedAt):
                guard var parcel = parcels[reference] else {
                    outcomes[index].dead = .businessRule("\(reference) is not a parcel Fulfillment packed; the confirmation cannot be matched")
                    continue
                }
                if let existing = parcel.trackingNumber {
                    if existing == number && parcel.carrier == carrier {
                        outcomes[index].audit.append(AuditRecord(subject: parcel.fulfillmentOrderID, action: "Shipment.Confirmed.Repeated", actor: carrier,
                                                                 reason: "parcel \(parcel.sscc) already has tracking number \(number)"))
                    } else {
                        outcomes[index].dead = .conflict("parcel \(parcel.sscc) already has tracking number \(existing) (\(parcel.carrier ?? "")); \(carrier) sent \(number)")
                    }
                    continue
                }
                parcel.carrier = carrier
                parcel.trackingNumber = number
                parcel.trackingURL = rules.trackingURL(carrier: carrier, tracking: number)
                parcel.shipped = true
                tracking.append((parcel.sscc, carrier, number, parcel.trackingURL, shippedAt))
                for key in [ParcelReference.sscc(parcel.sscc), .parcelID(parcel.parcelID), .trackingNumber(number)] { parcels[key] = parcel }
                touched[parcel.fulfillmentOrderID] = index
                outcomes[index].audit.append(AuditRecord(subject: parcel.fulfillmentOrderID, action: "Shipment.Confirmed", actor: carrier,
                                                         reason: "parcel \(parcel.sscc): tracking number \(number)"))
            case .delivered(let reference, let at):
                guard var parcel = parcels[reference] else {
                    outcomes[index].dead = .businessRule("\(reference) is not a parcel Fulfillment packed; the delivery cannot be matched")
                    continue
                }
                guard !parcel.delivered else {
                    outcomes[index].audit.append(AuditRecord(subject: parcel.fulfillmentOrderID, action: "Shipment.Delivered.Repeated", actor: "carrier",
                                                             reason: "parcel \(parcel.sscc) is already delivered"))
                    continue
                }
                parcel.delivered = true
                deliveries.append((parcel.sscc, at))
                for key in [ParcelReference.sscc(parcel.sscc), .parcelID(parcel.parcelID)] + (parcel.trackingNumber.map { [.trackingNumber($0)] } ?? []) {
                    parcels[key] = parcel
                }
                touched[parcel.fulfillmentOrderID] = index
            default: continue
            }
        }
        try store.setTracking(tracking)
        try store.setDelivered(deliveries)

        // Drop-ship: the supplier's confirmation is its one parcel.
        var statuses: [(id: String, status: FulfillmentStatus, problem: String?)] = []
        for (index, message) in batch.enumerated() {
            guard case .supplierConfirmed(let id, _, let number) = message.input else { continue }
            guard var order = stored[id], order.order.supplierID != nil else { continue }
            guard order.status.canMove(to: .shipped) else {
                outcomes[index].audit.append(AuditRecord(subject: order.order.facts.orderID, action: "FulfillmentOrder.Confirmed.Repeated", actor: "supplier",
                                                         reason: "drop-ship fulfillment order \(id) is already \(order.status.rawValue)"))
                continue
            }
            let supplier = order.order.supplierID ?? "supplier"
            var parcel: [String: JSONValue] = ["trackingNumber": .string(number ?? "without tracking"), "carrier": .string(supplier)]
            if let number, let url = rules.trackingURL(carrier: supplier, tracking: number) { parcel["trackingUrl"] = .string(url) }
            order.status = .shipped
            stored[id] = order
            statuses.append((id, .shipped, nil))
            outcomes[index].emit += FulfillmentEvents.shipped(order.order.facts, supplierID: supplier, parcels: [.object(parcel)], now: now)
        }

        // Fulfillment orders whose every parcel now has tracking (or is delivered).
        let newlyTouched = Set(touched.keys)
        let locked = try store.lock(newlyTouched.subtracting(stored.keys))
        stored.merge(locked) { a, _ in a }
        let all = try store.parcels(of: newlyTouched)
        for id in newlyTouched.sorted() {
            guard var order = stored[id], let index = touched[id] else { continue }
            let rows = (all[id] ?? []).map { row in parcels[.sscc(row.sscc)] ?? row }
            if order.status == .packed && !rows.isEmpty && rows.allSatisfy({ $0.trackingNumber != nil }) {
                order.status = .shipped
                statuses.append((id, .shipped, nil))
                outcomes[index].emit += FulfillmentEvents.shipped(order.order.facts, supplierID: nil, parcels: rows.map(FulfillmentEvents.tracked), now: now)
            }
            if order.status == .shipped && !rows.isEmpty && rows.allSatisfy(\.delivered) {
                order.status = .delivered
                statuses.append((id, .delivered, nil))
                outcomes[index].emit += FulfillmentEvents.delivered(order.order.facts, parcels: rows.map(FulfillmentEvents.tracked), now: now)
            }
            stored[id] = order
        }
        // The last status per order wins (shipped and delivered in one batch).
        var last: [String: (id: String, status: FulfillmentStatus, problem: String?)] = [:]
        for change in statuses { last[change.id] = change }
        try store.setStatus(Array(last.values))
    }
}

extension FulfillmentHandler: PersonalDataHolder {
    func erasePersonalData(_ erasure: ErasureOrder, database: PostgresConnection) throws -> (rows: Int, retained: String?) {
        (try FulfillmentStore(database: database).erasePersonalData(erasure), nil)
    }
}
