import Foundation

/// The pure routing core: an order, the stock position and the rules in, a
/// plan out. Rules, in order:
/// 1. service lines get a technician appointment after the goods arrive;
///    drop-ship lines go to their supplier; pre-order lines wait for their release date;
/// 2. every other line needs a warehouse that may handle it (dangerous goods
///    permit, age-check service, bulky) and a carrier service for the shipping
///    method that may carry it;
/// 3. fewest shipments first: one warehouse for everything if any can, in the
///    destination's preference order; a ship-complete order otherwise waits whole;
///    else the warehouse covering most units next, up to `maxSplits` splits;
/// 4. what is left is back-ordered, with the ETA of inbound stock it claims.
public enum RoutingPlanner {
    /// `shipBy`: the ship-by moment per warehouse at `now`, when the caller computed it already.
    public static func plan(_ order: RoutingOrder, stock: inout StockPosition, bookings: inout TechnicianBookings,
                            rules: RouterRules, now: Date, shipBy: [String: Date]? = nil) -> RoutingPlan {
        var plan = RoutingPlan()
        var physical: [RoutingLine] = []
        var dropShip: [String: [RoutingPlan.PlannedLine]] = [:]
        var services: [RoutingLine] = []
        var preorders: [RoutingLine] = []
        for line in order.lines where line.quantity > 0 {
            if line.traits.serviceSkill != nil {
                services.append(line)
            } else if let supplier = line.traits.dropShipSupplier {
                if rules.suppliers[supplier] == nil {
                    plan.problems.append(.init(lineID: line.lineID, code: "dropship.supplier-unknown",
                                               message: "\(line.sku) is drop-shipped by \(supplier), which the rules do not list"))
                } else {
                    dropShip[supplier, default: []].append(.init(lineID: line.lineID, sku: line.sku, quantity: line.quantity))
                }
            } else if let release = line.traits.preorderReleaseDate, release > now {
                plan.preorders.append(.init(lineID: line.lineID, sku: line.sku, quantity: line.quantity, releaseDate: release))
                preorders.append(line)
            } else {
                physical.append(line)
            }
        }
        for (supplier, lines) in dropShip.sorted(by: { $0.key < $1.key }) {
            let hours = rules.suppliers[supplier]!.slaHours
            plan.dropShips.append(.init(supplierID: supplier, lines: lines, slaDue: now.addingTimeInterval(Double(hours) * 3600)))
        }
        routePhysical(physical, order: order, stock: &stock, rules: rules, now: now, shipBy: shipBy, into: &plan)
        // Pre-orders hold a soft reservation on the first inbound delivery they may ship from.
        let preference = rules.preference(for: order.shippingCountry)
        for line in preorders {
            let allowed = Set(preference.filter { refusal(line, at: $0, method: order.shippingMethod, rules: rules) == nil }.map(\.id))
            _ = claimInbound(line, quantity: line.quantity, allowed: allowed, stock: &stock, into: &plan)
        }
        scheduleServices(services, order: order, bookings: &bookings, rules: rules, now: now, into: &plan)
        return plan
    }

    // MARK: - Warehouses and carriers

    /// Why `warehouse` cannot ship `line` by `method`, or nil when it can.
    static func refusal(_ line: RoutingLine, at warehouse: RouterRules.Warehouse, method: String, rules: RouterRules) -> String? {
        let traits = line.traits
        if traits.dangerousGoods && !warehouse.capabilities.contains("dangerous-goods") { return "\(warehouse.id) has no dangerous-goods permit" }
        if traits.needsAgeCheck && !warehouse.capabilities.contains("age-check") { return "\(warehouse.id) offers no age-check service" }
        if traits.bulky && !warehouse.capabilities.contains("bulky") { return "\(warehouse.id) cannot handle bulky goods" }
        if service(for: [line], at: warehouse, method: method, rules: rules) == nil {
            return "\(warehouse.id) has no \(method) carrier service for \(requirements([line]))"
        }
        return nil
    }

    /// The cheapest service of the warehouse for the method that may carry all these lines.
    static func service(for lines: [RoutingLine], at warehouse: RouterRules.Warehouse, method: String, rules: RouterRules) -> RouterRules.CarrierService? {
        let dangerous = lines.contains { $0.traits.dangerousGoods }
        let ageCheck = lines.contains { $0.traits.needsAgeCheck }
        let bulky = lines.contains { $0.traits.bulky }
        return warehouse.carrierServices.compactMap { rules.services[$0] }
            .filter { $0.methods.contains(method) && (!dangerous || $0.dangerousGoods) && (!ageCheck || $0.ageCheck) && (!bulky || $0.freight) }
            .min { ($0.cost, $0.id) < ($1.cost, $1.id) }
    }

    static func requirements(_ lines: [RoutingLine]) -> String {
        var needs: [String] = []
        if lines.contains(where: { $0.traits.dangerousGoods }) { needs.append("dangerous goods") }
        if lines.contains(where: { $0.traits.needsAgeCheck }) { needs.append("age check") }
        if lines.contains(where: { $0.traits.bulky }) { needs.append("freight") }
        return needs.isEmpty ? "parcels" : needs.joined(separator: " + ")
    }

    // MARK: - Physical lines

    static func routePhysical(_ lines: [RoutingLine], order: RoutingOrder, stock: inout StockPosition, rules: RouterRules, now: Date,
                              shipBy: [String: Date]?, into plan: inout RoutingPlan) {
        let preference = rules.preference(for: order.shippingCountry)
        var eligible: [String: [RouterRules.Warehouse]] = [:]
        var routable: [RoutingLine] = []
        for line in lines {
            let reasons = preference.map { refusal(line, at: $0, method: order.shippingMethod, rules: rules) }
            let allowed = zip(preference, reasons).filter { $0.1 == nil }.map(\.0)
            if allowed.isEmpty {
                plan.problems.append(.init(lineID: line.lineID, code: "routing.no-eligible-warehouse",
                                           message: "\(line.sku): " + (reasons.compactMap { $0 }.joined(separator: "; ").nilIfEmpty
                                                                       ?? "no warehouse serves \(order.shippingCountry)")))
            } else {
                eligible[line.lineID] = allowed
                routable.append(line)
            }
        }
        guard !routable.isEmpty else { return }

        func canServeAll(_ warehouse: RouterRules.Warehouse) -> Bool {
            var needed: [String: Int64] = [:]
            for line in routable {
                guard eligible[line.lineID]!.contains(where: { $0.id == warehouse.id }) else { return false }
                needed[line.sku, default: 0] += line.quantity
            }
            return needed.allSatisfy { stock.available($0.key, in: warehouse.id) >= $0.value }
                && service(for: routable, at: warehouse, method: order.shippingMethod, rules: rules) != nil
        }
        if let single = preference.first(where: canServeAll) {
            ship(routable.map { ($0, $0.quantity) }, from: single, order: order, stock: &stock, rules: rules, now: now, shipBy: shipBy, into: &plan)
            return
        }
        if order.shipComplete {
            // Ships complete or not at all: nothing is taken from stock now; the
            // whole order waits for inbound stock and is routed again when it arrives.
            backorder(routable.map { ($0, $0.quantity) }, eligible: eligible, stock: &stock, into: &plan)
            return
        }
        var remaining = Dictionary(uniqueKeysWithValues: routable.map { ($0.lineID, $0.quantity) })
        var used = Set<String>()
        while used.count <= rules.maxSplits {
            var best: (warehouse: RouterRules.Warehouse, take: [(RoutingLine, Int64)], units: Int64)?
            for warehouse in preference where !used.contains(warehouse.id) {
                var left: [String: Int64] = [:]
                var take: [(RoutingLine, Int64)] = []
                for line in routable where remaining[line.lineID]! > 0 && eligible[line.lineID]!.contains(where: { $0.id == warehouse.id }) {
                    let have = left[line.sku] ?? stock.available(line.sku, in: warehouse.id)
                    let quantity = min(have, remaining[line.lineID]!)
                    guard quantity > 0 else { continue }
                    left[line.sku] = have - quantity
                    take.append((line, quantity))
                }
                let units = take.reduce(0) { $0 + $1.1 }
                if units > 0 && units > (best?.units ?? 0) { best = (warehouse, take, units) }
            }
            guard let chosen = best else { break }
            used.insert(chosen.warehouse.id)
            ship(chosen.take, from: chosen.warehouse, order: order, stock: &stock, rules: rules, now: now, shipBy: shipBy, into: &plan)
            for (line, quantity) in chosen.take { remaining[line.lineID]! -= quantity }
        }
        let rest = routable.compactMap { line in remaining[line.lineID]! > 0 ? (line, remaining[line.lineID]!) : nil }
        if !rest.isEmpty { backorder(rest, eligible: eligible, stock: &stock, into: &plan) }
    }

    /// One shipment per carrier service the lines need together (normally one).
    static func ship(_ take: [(RoutingLine, Int64)], from warehouse: RouterRules.Warehouse, order: RoutingOrder, stock: inout StockPosition,
                     rules: RouterRules, now: Date, shipBy table: [String: Date]?, into plan: inout RoutingPlan) {
        let lines = take.map(\.0)
        var groups: [(RouterRules.CarrierService, [(RoutingLine, Int64)])] = []
        if let together = service(for: lines, at: warehouse, method: order.shippingMethod, rules: rules) {
            groups = [(together, take)]
        } else {
            // No single service carries the mix (e.g. dangerous goods and an age check): one parcel per service.
            for entry in take {
                let service = service(for: [entry.0], at: warehouse, method: order.shippingMethod, rules: rules)!
                if let index = groups.firstIndex(where: { $0.0.id == service.id }) { groups[index].1.append(entry) } else { groups.append((service, [entry])) }
            }
        }
        let shipBy = table?[warehouse.id] ?? ShipCalendar.shipBy(from: warehouse, at: now, timeZone: rules.timeZone) ?? now
        for (service, entries) in groups {
            for (line, quantity) in entries { stock.take(quantity, of: line.sku, in: warehouse.id) }
            plan.shipments.append(.init(warehouseID: warehouse.id, carrierService: service.id,
                                        lines: entries.map { .init(lineID: $0.0.lineID, sku: $0.0.sku, quantity: $0.1) }, shipBy: shipBy))
        }
    }

    /// Back-orders claim unclaimed inbound stock, earliest ETA first, in warehouses that may ship the line.
    static func backorder(_ rest: [(RoutingLine, Int64)], eligible: [String: [RouterRules.Warehouse]], stock: inout StockPosition,
                          into plan: inout RoutingPlan) {
        for (line, quantity) in rest {
            let (eta, open) = claimInbound(line, quantity: quantity, allowed: Set(eligible[line.lineID]!.map(\.id)), stock: &stock, into: &plan)
            plan.backorders.append(.init(lineID: line.lineID, sku: line.sku, quantity: quantity, eta: open > 0 ? nil : eta))
        }
    }

    /// Soft-reserves up to `quantity` of inbound stock; returns the ETA of the last lot claimed and what stays uncovered.
    static func claimInbound(_ line: RoutingLine, quantity: Int64, allowed: Set<String>, stock: inout StockPosition,
                             into plan: inout RoutingPlan) -> (eta: Date?, open: Int64) {
        var open = quantity
        var eta: Date?
        var lots = stock.inbound[line.sku] ?? []
        for index in lots.indices where open > 0 && allowed.contains(lots[index].warehouseID) && lots[index].unclaimed > 0 {
            let claim = min(open, lots[index].unclaimed)
            lots[index].unclaimed -= claim
            open -= claim
            eta = lots[index].eta
            plan.softClaims.append(.init(lineID: line.lineID, sku: line.sku, inboundID: lots[index].inboundID,
                                         warehouseID: lots[index].warehouseID, quantity: claim))
        }
        stock.inbound[line.sku] = lots
        return (eta, open)
    }

    // MARK: - Services

    static func scheduleServices(_ services: [RoutingLine], order: RoutingOrder, bookings: inout TechnicianBookings, rules: RouterRules,
                                 now: Date, into plan: inout RoutingPlan) {
        guard !services.isEmpty else { return }
        let calendar = ShipCalendar.calendar(rules.timeZone)
        // The visit follows the goods: the latest hand-over plus transit, or the back-order / release date.
        var ready = now
        for shipment in plan.shipments {
            let transit = rules.warehouse(shipment.warehouseID)?.transitDays ?? 0
            ready = max(ready, shipment.shipBy.addingTimeInterval(Double(transit) * 86_400))
        }
        for backorder in plan.backorders { ready = max(ready, backorder.eta ?? .distantFuture) }
        for preorder in plan.preorders { ready = max(ready, preorder.releaseDate) }
        for line in services {
            let skill = line.traits.serviceSkill!
            guard ready != .distantFuture else {
                plan.problems.append(.init(lineID: line.lineID, code: "service.goods-without-eta",
                                           message: "\(line.sku): the goods have no ETA yet, so no appointment can be planned"))
                continue
            }
            let firstDay = calendar.startOfDay(for: ready.addingTimeInterval(86_400))
            let lastDay = calendar.startOfDay(for: now.addingTimeInterval(Double(rules.appointmentHorizonDays) * 86_400))
            var booked: RoutingPlan.Appointment?
            var day = firstDay
            while booked == nil && day <= lastDay {
                let date = ShipCalendar.localDate(day, calendar)
                let weekday = ShipCalendar.isoWeekday(day, calendar)
                if let technician = rules.technicians.sorted(by: { $0.id < $1.id }).first(where: {
                    $0.skills.contains(skill) && $0.countries.contains(order.shippingCountry) && $0.workdays.contains(weekday)
                        && (bookings[$0.id]?[date] ?? 0) < $0.capacityPerDay
                }) {
                    bookings[technician.id, default: [:]][date, default: 0] += 1
                    booked = .init(lineID: line.lineID, sku: line.sku, technicianID: technician.id, day: date)
                }
                day = calendar.date(byAdding: .day, value: 1, to: day)!
            }
            if let booked {
                plan.appointments.append(booked)
            } else {
                plan.problems.append(.init(lineID: line.lineID, code: "service.no-slot",
                                           message: "\(line.sku): no technician with skill \(skill) for \(order.shippingCountry) has a free day between \(ShipCalendar.localDate(firstDay, calendar)) and \(ShipCalendar.localDate(lastDay, calendar))"))
            }
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
