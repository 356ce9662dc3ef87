import Foundation
import Shared

/// An order's state in the Router. Every move is in `transitions`; anything else
/// is a bug or a stale message and is refused, never written.
enum RouterOrderStatus: String, Sendable, CaseIterable {
    /// Seen for the first time in this batch, not written yet.
    case new
    /// Held by Capture for a reason that reserves nothing (e.g. review): routed once released.
    case waiting
    /// Held for a reason that reserves stock (payment, approval, credit): its fulfillment orders wait for the release.
    case reserved
    case routed
    /// Some lines wait for inbound stock or a release date.
    case backordered
    /// The rules could not route it (no permitted warehouse, no technician); tried again periodically.
    case held
    case cancelled

    static let transitions: [RouterOrderStatus: Set<RouterOrderStatus>] = [
        .new: [.waiting, .reserved, .routed, .backordered, .held, .cancelled],
        .waiting: [.routed, .backordered, .held, .cancelled],
        .reserved: [.reserved, .routed, .backordered, .held, .cancelled],
        .routed: [.routed, .backordered, .held, .cancelled],
        .backordered: [.routed, .backordered, .held, .cancelled],
        .held: [.routed, .backordered, .held, .cancelled],
        .cancelled: [],
    ]

    func canMove(to next: RouterOrderStatus) -> Bool { Self.transitions[self]?.contains(next) ?? false }

    /// A stored value this version does not know is an error, never a guess.
    init(stored text: String, orderID: String) throws(PermanentFailure) {
        guard let status = RouterOrderStatus(rawValue: text), status != .new else {
            throw .database("order \(orderID) has status \"\(text)\", which this version of the Router does not know")
        }
        self = status
    }
}

/// A fulfillment order's state.
enum FulfillmentOrderStatus: String, Sendable, CaseIterable {
    /// In the cancellation window (`releaseDelayMinutes`); released by housekeeping.
    case pending
    /// For an order still held; released with it.
    case reserved
    /// With the warehouse or supplier: too late to cancel.
    case released
    case confirmed
    case cancelled

    static let transitions: [FulfillmentOrderStatus: Set<FulfillmentOrderStatus>] = [
        .pending: [.released, .cancelled],
        .reserved: [.released, .cancelled],
        .released: [.confirmed],
        .confirmed: [],
        .cancelled: [],
    ]

    func canMove(to next: FulfillmentOrderStatus) -> Bool { Self.transitions[self]?.contains(next) ?? false }

    /// Once the warehouse or supplier has it, a cancellation is refused.
    var isWithWarehouse: Bool { self == .released || self == .confirmed }

    init(stored text: String, id: String) throws(PermanentFailure) {
        guard let status = FulfillmentOrderStatus(rawValue: text) else {
            throw .database("fulfillment order \(id) has status \"\(text)\", which this version of the Router does not know")
        }
        self = status
    }
}

/// What the order-lifecycle messages of one batch (announcements, releases,
/// cancellations, confirmations) do, decided from values only; the handler
/// reads the state before and writes this afterwards.
struct LifecyclePlan {
    var jobs: [RoutingRun.Job] = []
    /// Which message's outcome carries the events of a routed order.
    var jobOutcome: [String: Int] = [:]
    /// Orders whose reservations and claims are freed.
    var toFree: [String] = []
    var releasedFulfillmentOrders: [(index: Int, fo: RouterOrderStore.FulfillmentOrderRow)] = []
    var statuses: [(orderID: String, status: RouterOrderStatus)] = []
    var confirmed: [String] = []
    /// Confirmed warehouse fulfillment orders: their reservations are consumed (the goods left).
    var consumed: [String] = []
    /// Units the picker did not find: written off the warehouse's stock, their reservation freed, routed again.
    var shortPicks: [ShortPick] = []
    /// Held orders released now; their next status depends on what their lines still wait for.
    var releasedHeld: [String] = []
    /// Orders written without routing (held without reservation, or ended before routing).
    var unrouted: [(announcement: OrderAnnouncement, status: RouterOrderStatus, correlationID: String)] = []
    var emissions: [[Emission]]
    var audits: [[AuditRecord]]
    var dead: [Int: PermanentFailure] = [:]

    init(count: Int) {
        emissions = Array(repeating: [], count: count)
        audits = Array(repeating: [], count: count)
    }
}

/// The Router's order lifecycle rules, pure: values in, a plan out.
enum OrderLifecycle {
    /// Which holds reserve stock while the order waits (`reserveHeldOrdersFor` in router.json).
    static func reservesWhileHeld(_ holdReasons: [String], reserveHeldFor: Set<String>) -> Bool {
        Set(holdReasons).isSubset(of: reserveHeldFor)
    }

    /// The fulfillment orders that make a cancellation too late: already with a warehouse or supplier,
    /// including those released earlier in the same batch.
    static func blockingCancellation(_ fulfillmentOrders: [RouterOrderStore.FulfillmentOrderRow], releasedNow: Set<String>)
        -> [RouterOrderStore.FulfillmentOrderRow] {
        fulfillmentOrders.filter { $0.status.isWithWarehouse || releasedNow.contains($0.id) }
    }

    /// `orders`: what the Router knows (locked), plus the batch's new orders as `.new`;
    /// `fresh`: the new orders' announcements (removed here when they end up unrouted).
    static func decide(_ inputs: [(input: RouterInput, correlationID: String)], orders: inout [String: RouterOrderStore.OrderRow],
                       fresh: inout [String: (announcement: OrderAnnouncement, correlationID: String)],
                       fulfillment: [String: [RouterOrderStore.FulfillmentOrderRow]], reserveHeldFor: Set<String>) -> LifecyclePlan {
        var plan = LifecyclePlan(count: inputs.count)
        var firstSeen = Set<String>()
        /// A follow-up (release, cancellation) in the same batch as the order itself.
        func pendingJob(_ orderID: String) -> Int? { fresh[orderID] == nil ? nil : plan.jobs.firstIndex { $0.orderID == orderID } }
        func settleUnrouted(_ orderID: String, as status: RouterOrderStatus) {
            guard let index = pendingJob(orderID), let entry = fresh[orderID] else { return }
            plan.jobs.remove(at: index)
            fresh[orderID] = nil
            plan.unrouted.append((entry.announcement, status, entry.correlationID))
            orders[orderID]?.status = status
        }
        /// Moves an order along the transition table; a move it does not allow dead-letters the message.
        func move(_ orderID: String, to status: RouterOrderStatus, index: Int) -> Bool {
            let current = orders[orderID]?.status ?? .new
            guard current.canMove(to: status) else {
                plan.dead[index] = .businessRule("order \(orderID) is \(current.rawValue); the Router cannot move it to \(status.rawValue)")
                return false
            }
            orders[orderID]?.status = status
            return true
        }

        for (index, entry) in inputs.enumerated() {
            switch entry.input {
            case .order(let announcement):
                let orderID = announcement.orderID
                guard fresh[orderID] != nil, firstSeen.insert(orderID).inserted else {
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.Repeated", actor: "oms-router",
                                                          reason: "order already known to the Router; no second routing"))
                    continue
                }
                if !announcement.held {
                    plan.jobs.append(.init(orderID: orderID, mode: .ship))
                } else if reservesWhileHeld(announcement.holdReasons, reserveHeldFor: reserveHeldFor) {
                    plan.jobs.append(.init(orderID: orderID, mode: .reserve))
                } else {
                    plan.unrouted.append((announcement, .waiting, entry.correlationID))
                    fresh[orderID] = nil
                    orders[orderID]?.status = .waiting
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.Waiting", actor: "oms-router",
                                                          reason: "held for \(announcement.holdReasons.joined(separator: ", ")); routed when released, nothing reserved"))
                    continue
                }
                plan.jobOutcome[orderID] = index
            case .released(let orderID):
                if let pending = pendingJob(orderID) {
                    plan.jobs[pending] = .init(orderID: orderID, mode: .ship)
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.Released", actor: "oms-router",
                                                          reason: "hold lifted in the same batch; routed to ship"))
                    continue
                }
                guard let order = orders[orderID] else {
                    plan.dead[index] = .businessRule("order \(orderID) was released but the Router never saw it held or accepted")
                    continue
                }
                switch order.status {
                case .waiting, .held:
                    plan.jobs.append(.init(orderID: orderID, mode: .ship))
                    plan.jobOutcome[orderID] = index
                case .reserved:
                    for fo in fulfillment[orderID] ?? [] where fo.status == .reserved { plan.releasedFulfillmentOrders.append((index, fo)) }
                    plan.releasedHeld.append(orderID)
                    guard move(orderID, to: .routed, index: index) else { continue }   // settled afterwards from what its lines wait for
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.Released", actor: "oms-router",
                                                          reason: "hold lifted; reserved fulfillment orders released to the warehouses"))
                default:
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.Released", actor: "oms-router",
                                                          reason: "order is \(order.status.rawValue); nothing to release"))
                }
            case .ended(let orderID, let event, let reason):
                if pendingJob(orderID) != nil {
                    settleUnrouted(orderID, as: .cancelled)
                    plan.audits[index].append(AuditRecord(subject: orderID, action: event, actor: "oms-router",
                                                          reason: "ended before it was routed: \(reason)"))
                    continue
                }
                guard let order = orders[orderID], order.status != .cancelled else {
                    plan.audits[index].append(AuditRecord(subject: orderID, action: event, actor: "oms-router",
                                                          reason: "nothing reserved for this order; nothing to free"))
                    continue
                }
                guard move(orderID, to: .cancelled, index: index) else { continue }
                plan.toFree.append(orderID)
                plan.statuses.append((orderID, .cancelled))
                plan.audits[index].append(AuditRecord(subject: orderID, action: event, actor: "oms-router", reason: "reservations freed: \(reason)"))
            case .cancellationRequested(let orderID, let reason, let by):
                if pendingJob(orderID) != nil {
                    settleUnrouted(orderID, as: .cancelled)
                    plan.emissions[index].append(RouterEvents.cancelled(orderID: orderID, reason: "cancelled by \(by) before routing: \(reason)"))
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.Cancelled", actor: by, reason: "cancelled before routing: \(reason)"))
                    continue
                }
                guard let order = orders[orderID] else {
                    plan.dead[index] = .businessRule("cancellation of order \(orderID) requested, but the Router does not know the order")
                    continue
                }
                let blocking = blockingCancellation(fulfillment[orderID] ?? [], releasedNow: Set(plan.releasedFulfillmentOrders.map(\.fo.id)))
                if order.status == .cancelled {
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.CancellationRequested", actor: by,
                                                          reason: "already cancelled; nothing to do"))
                } else if !blocking.isEmpty {
                    let why = "fulfillment order(s) \(blocking.map(\.id).joined(separator: ", ")) already released to \(blocking.map { $0.warehouseID ?? $0.supplierID ?? "?" }.joined(separator: ", "))"
                    plan.emissions[index].append(RouterEvents.problem("Order.CancellationRefused", orderID: orderID,
                                                                      reasons: [(nil, "cancellation.too-late", why)]))
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.CancellationRefused", actor: "oms-router", reason: why))
                } else {
                    guard move(orderID, to: .cancelled, index: index) else { continue }
                    plan.toFree.append(orderID)
                    plan.statuses.append((orderID, .cancelled))
                    plan.emissions[index].append(RouterEvents.cancelled(orderID: orderID, reason: "cancelled by \(by) before release to a warehouse: \(reason)"))
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "Order.Cancelled", actor: by,
                                                          reason: "no fulfillment order released yet; reservations freed: \(reason)"))
                }
            case .confirmed(let foID, let orderID):
                guard let fo = (fulfillment[orderID] ?? []).first(where: { $0.id == foID }) else {
                    plan.dead[index] = .businessRule("fulfillment order \(foID) of order \(orderID) is unknown")
                    continue
                }
                if fo.status == .confirmed {
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "FulfillmentOrder.Confirmed", actor: fo.warehouseID ?? fo.supplierID ?? "?",
                                                          reason: "\(foID) was confirmed before; nothing to do"))
                    continue
                }
                guard fo.status.canMove(to: .confirmed) else {
                    plan.dead[index] = .businessRule("fulfillment order \(foID) is \(fo.status.rawValue); only a released one can be confirmed")
                    continue
                }
                plan.confirmed.append(foID)
                if fo.warehouseID != nil { plan.consumed.append(foID) }
                plan.audits[index].append(AuditRecord(subject: orderID, action: "FulfillmentOrder.Confirmed", actor: fo.warehouseID ?? fo.supplierID ?? "?",
                                                      reason: "\(foID) confirmed" + (fo.warehouseID != nil ? "; its reservations are consumed" : "")))
            case .shortPicked(let pick):
                let orderID = pick.orderID
                guard let fo = (fulfillment[orderID] ?? []).first(where: { $0.id == pick.fulfillmentOrderID }) else {
                    plan.dead[index] = .businessRule("fulfillment order \(pick.fulfillmentOrderID) of order \(orderID) is unknown")
                    continue
                }
                // Confirmed already (the WMS reported the parcel gone before Fulfillment's word arrived): still re-routed.
                guard fo.status == .released || fo.status == .confirmed, fo.warehouseID == pick.warehouseID, let order = orders[orderID],
                      order.status != .cancelled else {
                    plan.audits[index].append(AuditRecord(subject: orderID, action: "FulfillmentOrder.ShortPicked", actor: pick.warehouseID,
                                                          reason: "\(fo.id) is \(fo.status.rawValue); the short pick changes nothing here"))
                    continue
                }
                plan.shortPicks.append(pick)
                if pendingJob(orderID) == nil {
                    plan.jobs.append(.init(orderID: orderID, mode: .ship))
                    plan.jobOutcome[orderID] = index
                }
                plan.audits[index].append(AuditRecord(
                    subject: orderID, action: "FulfillmentOrder.ShortPicked", actor: pick.warehouseID,
                    reason: "\(pick.warehouseID) did not find " + pick.lines.map { "\($0.missing)×\($0.sku)" }.joined(separator: ", ")
                        + " for \(fo.id); written off its stock, reservation freed, routed again"))
            case .stock(let report):
                plan.audits[index].append(AuditRecord(subject: "warehouse:\(report.warehouseID)", action: "Stock.Changed", actor: "wms",
                                                      reason: "\(report.items.count) SKU(s) as of WMS sequence \(report.sequence)"))
            case .returned(let report):
                plan.audits[index].append(AuditRecord(subject: "warehouse:\(report.warehouseID)", action: "Stock.Returned", actor: "oms-returns",
                                                      reason: "\(report.returnID): " + report.items.map { "\($0.quantity)×\($0.sku)" }.joined(separator: ", ")
                                                        + " back on hand until the WMS's next count"))
            case .inbound(let report):
                plan.audits[index].append(AuditRecord(subject: "inbound:\(report.inboundID)", action: "Inbound.Expected", actor: "wms",
                                                      reason: "\(report.items.count) SKU(s) expected in \(report.warehouseID) at \(report.eta)"))
            case .product, .ignored:
                break
            }
        }
        return plan
    }

    /// A held order just released: routed, back-ordered or held by what its lines still wait for.
    static func statusAfterRelease(waitingFor kinds: Set<String>) -> RouterOrderStatus {
        kinds.contains("problem") ? .held : kinds.isEmpty ? .routed : .backordered
    }
}
