import Foundation
import RouterCore
import Shared

/// Routes a set of orders in the current transaction: locks the stock they
/// need, plans each with the pure core, writes reservations, fulfillment
/// orders and line states set-based, and says what to emit per order.
struct RoutingRun {
    enum Mode { case ship, reserve }

    struct Job {
        let orderID: String
        let mode: Mode
    }

    struct Result {
        var emissions: [String: [Emission]] = [:]
        var audits: [String: [AuditRecord]] = [:]
        var touchedSkus = Set<String>()
        var statuses: [String: RouterOrderStatus] = [:]
    }

    let store: RouterOrderStore
    let ledger: StockLedger
    let rules: RouterRules
    let now: Date

    /// `fresh`: orders seen for the first time in this transaction; they are written
    /// once, with their routed state, instead of inserted and then updated.
    func route(_ jobs: [Job], orders: [String: RouterOrderStore.OrderRow],
               fresh: [String: (announcement: OrderAnnouncement, correlationID: String)] = [:]) throws -> Result {
        var result = Result()
        guard !jobs.isEmpty else { return result }
        let ids = jobs.map(\.orderID)
        let known = ids.filter { fresh[$0] == nil }
        // A back-order routed again gives its inbound claims back first; it claims anew.
        result.touchedSkus.formUnion(try ledger.free(orders: known, kinds: ["soft"]))
        var open = try store.openLines(known)
        for (id, entry) in fresh {
            open[id] = entry.announcement.lines.map { .init(lineID: $0.lineID, sku: $0.sku, open: $0.quantity) }
        }
        let skus = Array(Set(open.values.flatMap { $0.map(\.sku) })).sorted()
        let traits = try store.traits(skus)
        // Technician days are counted, not constrained by a row: copies booking them
        // queue on one lock (taken before the stock rows, in the same order everywhere).
        if traits.values.contains(where: { $0.serviceSkill != nil }) { try store.lockTechnicianCalendar() }
        var position = try ledger.lockPosition(skus: skus)
        var bookings = try store.bookings(days: rules.appointmentHorizonDays)
        let existing = try store.fulfillmentOrders(of: known)
        // Ship-by depends only on the warehouse and the time: once per transaction, not per shipment.
        let shipBy = Dictionary(uniqueKeysWithValues: rules.warehouses.compactMap { warehouse in
            ShipCalendar.shipBy(from: warehouse, at: now, timeZone: rules.timeZone).map { (warehouse.id, $0) }
        })

        var hard: [StockLedger.Hard] = []
        var claims: [(orderID: String, claim: RoutingPlan.SoftClaim)] = []
        var fulfillmentOrders: [RouterOrderStore.NewFulfillmentOrder] = []
        var lineChanges: [(orderID: String, lineID: String, routed: Int64, waitingFor: String?)] = []
        var freshLines: [String: [String: (routed: Int64, waitingFor: String?)]] = [:]
        var appointments: [(orderID: String, appointment: RoutingPlan.Appointment)] = []
        var log: [(orderID: String, input: String, plan: String)] = []

        let priority = { (job: Job) -> Int in rules.priorityMethods.firstIndex(of: orders[job.orderID]?.method ?? "") ?? rules.priorityMethods.count }
        let ordered = jobs.enumerated().sorted { (priority($0.element), $0.offset) < (priority($1.element), $1.offset) }.map(\.element)
        for job in ordered {
            guard let order = orders[job.orderID], let lines = open[job.orderID], !lines.isEmpty else { continue }
            let routingOrder = RoutingOrder(
                orderID: order.orderID, shippingCountry: order.country, shippingMethod: order.method, shipComplete: order.shipComplete,
                lines: lines.map { RoutingLine(lineID: $0.lineID, sku: $0.sku, quantity: $0.open, traits: traits[$0.sku] ?? .plain) })
            let seen = StockPosition(available: position.available.filter { sku, _ in lines.contains { $0.sku == sku } },
                                     inbound: position.inbound.filter { sku, _ in lines.contains { $0.sku == sku } })
            let plan = RoutingPlanner.plan(routingOrder, stock: &position, bookings: &bookings, rules: rules, now: now, shipBy: shipBy)
            log.append((order.orderID, RoutingLogEntry(order: routingOrder, position: seen, now: now).json.serializedString,
                        plan.json.serializedString))

            var number = existing[order.orderID]?.count ?? 0
            func nextID() -> String {
                number += 1
                return "\(order.orderID)-F\(number)"
            }
            // Warehouse orders may wait out the cancellation window; suppliers get theirs at once.
            let warehouseStatus: FulfillmentOrderStatus = job.mode == .reserve ? .reserved : rules.releaseDelayMinutes > 0 ? .pending : .released
            let supplierStatus: FulfillmentOrderStatus = job.mode == .reserve ? .reserved : .released
            let releaseDue = now.addingTimeInterval(Double(rules.releaseDelayMinutes) * 60)
            var routed: [String: Int64] = [:]
            var emit: [Emission] = []
            var summary: [String] = []
            for shipment in plan.shipments {
                let fo = RouterOrderStore.NewFulfillmentOrder(
                    id: nextID(), orderID: order.orderID, warehouseID: shipment.warehouseID, supplierID: nil, carrierService: shipment.carrierService,
                    shipBy: shipment.shipBy, slaDue: nil, status: warehouseStatus, lines: RouterEvents.lines(shipment.lines, order: order),
                    releaseDue: warehouseStatus == .pending ? releaseDue : nil)
                fulfillmentOrders.append(fo)
                for line in shipment.lines {
                    hard.append(.init(orderID: order.orderID, lineID: line.lineID, sku: line.sku, warehouseID: shipment.warehouseID,
                                      quantity: line.quantity, fulfillmentOrderID: fo.id))
                    routed[line.lineID, default: 0] += line.quantity
                    result.touchedSkus.insert(line.sku)
                }
                if warehouseStatus == .released { emit.append(RouterEvents.fulfillmentOrderCreated(fo, order: order, branding: nil)) }
                summary.append("\(shipment.warehouseID) via \(shipment.carrierService)")
            }
            for dropShip in plan.dropShips {
                let fo = RouterOrderStore.NewFulfillmentOrder(
                    id: nextID(), orderID: order.orderID, warehouseID: nil, supplierID: dropShip.supplierID, carrierService: nil,
                    shipBy: nil, slaDue: dropShip.slaDue, status: supplierStatus, lines: RouterEvents.lines(dropShip.lines, order: order))
                fulfillmentOrders.append(fo)
                for line in dropShip.lines { routed[line.lineID, default: 0] += line.quantity }
                if job.mode == .ship {
                    emit.append(RouterEvents.fulfillmentOrderCreated(fo, order: order, branding: rules.suppliers[dropShip.supplierID]?.branding))
                }
                summary.append("drop-ship by \(dropShip.supplierID)")
            }
            for appointment in plan.appointments {
                appointments.append((order.orderID, appointment))
                routed[appointment.lineID, default: 0] += lines.first { $0.lineID == appointment.lineID }?.open ?? 0
                emit += RouterEvents.appointmentScheduled(appointment, orderID: order.orderID)
                summary.append("\(appointment.sku) with \(appointment.technicianID) on \(appointment.day)")
            }
            for claim in plan.softClaims {
                claims.append((order.orderID, claim))
                result.touchedSkus.insert(claim.sku)
            }
            var waiting: [String: String] = [:]
            for backorder in plan.backorders { waiting[backorder.lineID] = "stock" }
            for preorder in plan.preorders { waiting[preorder.lineID] = "preorder" }
            for problem in plan.problems { waiting[problem.lineID] = "problem" }
            for line in lines {
                if fresh[order.orderID] != nil {
                    freshLines[order.orderID, default: [:]][line.lineID] = (routed[line.lineID] ?? 0, waiting[line.lineID])
                } else {
                    lineChanges.append((order.orderID, line.lineID, routed[line.lineID] ?? 0, waiting[line.lineID]))
                }
            }

            // A held order stays 'reserved' until Capture releases it, problems or not.
            let newStatus: RouterOrderStatus = job.mode == .reserve ? .reserved
                : !plan.problems.isEmpty ? .held
                : (!plan.backorders.isEmpty || !plan.preorders.isEmpty) ? .backordered : .routed
            guard order.status.canMove(to: newStatus) else {
                throw PermanentFailure.businessRule("order \(order.orderID) is \(order.status.rawValue); routing cannot make it \(newStatus.rawValue)")
            }
            if !plan.backorders.isEmpty || !plan.preorders.isEmpty {
                if order.status != .backordered { emit += RouterEvents.backorderCreated(plan, orderID: order.orderID) }
                summary.append("\(plan.backorders.count + plan.preorders.count) line(s) waiting"
                               + (plan.backorderETA.map { " (ETA \(EventTime.format($0)))" } ?? ""))
            }
            if !plan.problems.isEmpty && order.status != .held {
                emit.append(RouterEvents.problem("Order.RoutingOnHold", orderID: order.orderID,
                                                 reasons: plan.problems.map { ($0.lineID, $0.code, $0.message) }))
                summary += plan.problems.map(\.message)
            }
            result.statuses[order.orderID] = newStatus
            result.emissions[order.orderID, default: []] += emit
            result.audits[order.orderID, default: []].append(AuditRecord(
                subject: order.orderID, action: job.mode == .reserve ? "Order.Reserved" : "Order.Routed", actor: "oms-router",
                reason: summary.isEmpty ? "nothing to route" : summary.joined(separator: "; "),
                details: ["status": .string(newStatus.rawValue), "rulesValidFrom": .string(rules.validFrom)]))
        }
        try store.insert(fresh.values.sorted { $0.announcement.orderID < $1.announcement.orderID }.map {
            ($0.announcement, result.statuses[$0.announcement.orderID] ?? .waiting, $0.correlationID)
        }, lineStates: freshLines)
        try ledger.reserve(hard)
        try ledger.claim(claims)
        try store.insert(fulfillmentOrders)
        try store.updateLines(lineChanges)
        try store.insertAppointments(appointments)
        try store.setStatus(result.statuses.filter { fresh[$0.key] == nil }.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 })
        try store.log(log)
        return result
    }
}
