import Foundation
@testable import Router
import Shared
import Testing

/// The Router's lifecycle rules on one batch, without Kafka or PostgreSQL:
/// what the same-batch interactions of announcements, releases, cancellations
/// and confirmations decide.
@Suite("Router order lifecycle, pure")
struct OrderLifecycleTests {
    static let reserveHeldFor: Set<String> = ["payment", "approval", "credit"]

    static func announcement(_ id: String, held: [String] = []) -> OrderAnnouncement {
        OrderAnnouncement(orderID: id, held: !held.isEmpty, holdReasons: held, shippingCountry: "DE", shippingMethod: "standard",
                          shipComplete: false, lines: [.init(lineID: "1", sku: "TENT-2P", quantity: 1)], data: ["orderId": .string(id)])
    }

    static func row(_ id: String, _ status: RouterOrderStatus) -> RouterOrderStore.OrderRow {
        .init(orderID: id, status: status, holdReasons: [], country: "DE", method: "standard", shipComplete: false, correlationID: id,
              data: ["orderId": .string(id)])
    }

    static func fo(_ id: String, of order: String, _ status: FulfillmentOrderStatus, supplier: Bool = false) -> RouterOrderStore.FulfillmentOrderRow {
        .init(id: id, orderID: order, warehouseID: supplier ? nil : "A", supplierID: supplier ? "OUTDOOR-DIRECT" : nil, carrierService: nil,
              slaDue: nil, status: status, lines: [])
    }

    /// Runs the lifecycle with `known` orders already in the Router and the batch's new orders announced in it.
    static func decide(_ inputs: [RouterInput], known: [RouterOrderStore.OrderRow] = [],
                       fulfillment: [RouterOrderStore.FulfillmentOrderRow] = []) -> (LifecyclePlan, [String: RouterOrderStore.OrderRow]) {
        var orders = Dictionary(uniqueKeysWithValues: known.map { ($0.orderID, $0) })
        var fresh: [String: (announcement: OrderAnnouncement, correlationID: String)] = [:]
        for case .order(let announcement) in inputs where orders[announcement.orderID] == nil && fresh[announcement.orderID] == nil {
            fresh[announcement.orderID] = (announcement, announcement.orderID)
            orders[announcement.orderID] = row(announcement.orderID, .new)
        }
        let plan = OrderLifecycle.decide(inputs.map { ($0, "c") }, orders: &orders, fresh: &fresh,
                                         fulfillment: Dictionary(grouping: fulfillment, by: \.orderID), reserveHeldFor: reserveHeldFor)
        return (plan, orders)
    }

    @Test("the transition tables: cancelled and confirmed are final, a released fulfillment order can only be confirmed")
    func tables() {
        #expect(RouterOrderStatus.allCases.allSatisfy { !RouterOrderStatus.cancelled.canMove(to: $0) })
        #expect(RouterOrderStatus.new.canMove(to: .waiting) && !RouterOrderStatus.waiting.canMove(to: .new))
        #expect(FulfillmentOrderStatus.released.canMove(to: .confirmed))
        #expect(!FulfillmentOrderStatus.released.canMove(to: .cancelled))
        #expect(FulfillmentOrderStatus.pending.canMove(to: .cancelled) && FulfillmentOrderStatus.reserved.canMove(to: .cancelled))
        #expect(throws: PermanentFailure.self) { try RouterOrderStatus(stored: "shipped", orderID: "X") }
        #expect(throws: PermanentFailure.self) { try FulfillmentOrderStatus(stored: "lost", id: "X-F1") }
    }

    @Test("which holds reserve: payment, approval and credit do; a review hold waits without stock")
    func heldOrders() {
        let (plan, orders) = Self.decide([.order(Self.announcement("P", held: ["payment"])), .order(Self.announcement("R", held: ["review"])),
                                          .order(Self.announcement("A"))])
        #expect(plan.jobs.map(\.orderID) == ["P", "A"])
        #expect(plan.jobs.map(\.mode) == [.reserve, .ship])
        #expect(plan.unrouted.map(\.announcement.orderID) == ["R"])
        #expect(orders["R"]?.status == .waiting)
        #expect(plan.audits[1].map(\.action) == ["Order.Waiting"])
    }

    @Test("announced and released in one batch: routed to ship at once")
    func releaseInSameBatch() {
        let (plan, _) = Self.decide([.order(Self.announcement("P", held: ["payment"])), .released(orderID: "P")])
        #expect(plan.jobs.count == 1)
        #expect(plan.jobs.first?.mode == .ship)
        #expect(plan.audits[1].first?.reason.contains("same batch") == true)
    }

    @Test("announced and cancelled in one batch: never routed, Order.Cancelled, written as cancelled")
    func cancelInSameBatch() {
        let (plan, orders) = Self.decide([.order(Self.announcement("C")), .cancellationRequested(orderID: "C", reason: "changed mind", by: "shop")])
        #expect(plan.jobs.isEmpty)
        #expect(plan.unrouted.map(\.status) == [.cancelled])
        #expect(orders["C"]?.status == .cancelled)
        #expect(plan.emissions[1].map(\.type) == ["Order.Cancelled"])
    }

    @Test("a reserved order released and cancelled in one batch: the release counts, the cancellation is refused as too late")
    func releaseThenCancel() {
        let (plan, _) = Self.decide([.released(orderID: "H"), .cancellationRequested(orderID: "H", reason: "late", by: "shop")],
                                    known: [Self.row("H", .reserved)], fulfillment: [Self.fo("H-F1", of: "H", .reserved)])
        #expect(plan.releasedFulfillmentOrders.map(\.fo.id) == ["H-F1"])
        #expect(plan.releasedHeld == ["H"])
        #expect(plan.emissions[1].map(\.type) == ["Order.CancellationRefused"])
        #expect(plan.toFree.isEmpty)
    }

    @Test("cancelled while its fulfillment order waits in the release window: freed; once released: refused")
    func cancellationWindow() {
        let (pending, orders) = Self.decide([.cancellationRequested(orderID: "W", reason: "r", by: "cs")],
                                            known: [Self.row("W", .routed)], fulfillment: [Self.fo("W-F1", of: "W", .pending)])
        #expect(pending.toFree == ["W"])
        #expect(pending.statuses.map(\.status) == [.cancelled])
        #expect(orders["W"]?.status == .cancelled)
        let (released, _) = Self.decide([.cancellationRequested(orderID: "W", reason: "r", by: "cs")],
                                         known: [Self.row("W", .routed)], fulfillment: [Self.fo("W-F1", of: "W", .released)])
        #expect(released.toFree.isEmpty)
        #expect(released.emissions[0].first?.data["reasons"]?.arrayValue?.first?["code"]?.stringValue == "cancellation.too-late")
    }

    @Test("ended twice: the second frees nothing; cancelled orders cannot move again")
    func endedTwice() {
        let (plan, _) = Self.decide([.ended(orderID: "E", event: "Order.Cancelled", reason: "timeout"),
                                     .ended(orderID: "E", event: "Order.Cancelled", reason: "again")], known: [Self.row("E", .backordered)])
        #expect(plan.toFree == ["E"])
        #expect(plan.audits[1].first?.reason.contains("nothing to free") == true)
    }

    @Test("confirmations: unknown → dead letter, released → consumed, twice → no second effect, not yet released → dead letter")
    func confirmations() {
        let known = [Self.row("F", .routed)]
        let fos = [Self.fo("F-F1", of: "F", .released), Self.fo("F-F2", of: "F", .confirmed), Self.fo("F-F3", of: "F", .pending),
                   Self.fo("F-F4", of: "F", .released, supplier: true)]
        let (plan, _) = Self.decide([.confirmed(fulfillmentOrderID: "F-F9", orderID: "F"), .confirmed(fulfillmentOrderID: "F-F1", orderID: "F"),
                                     .confirmed(fulfillmentOrderID: "F-F2", orderID: "F"), .confirmed(fulfillmentOrderID: "F-F3", orderID: "F"),
                                     .confirmed(fulfillmentOrderID: "F-F4", orderID: "F")], known: known, fulfillment: fos)
        #expect(plan.dead[0]?.reason.contains("unknown") == true)
        #expect(plan.confirmed == ["F-F1", "F-F4"])
        #expect(plan.consumed == ["F-F1"])   // a supplier's goods never were in our stock
        #expect(plan.dead[2] == nil)
        #expect(plan.audits[2].first?.reason.contains("confirmed before") == true)
        #expect(plan.dead[3]?.reason.contains("only a released one") == true)
    }

    @Test("release of an order the Router never saw is a dead letter; of a routed one, nothing happens")
    func releases() {
        let (plan, _) = Self.decide([.released(orderID: "X"), .released(orderID: "Y")], known: [Self.row("Y", .routed)])
        #expect(plan.dead[0] != nil)
        #expect(plan.dead[1] == nil && plan.jobs.isEmpty)
        #expect(OrderLifecycle.statusAfterRelease(waitingFor: []) == .routed)
        #expect(OrderLifecycle.statusAfterRelease(waitingFor: ["stock"]) == .backordered)
        #expect(OrderLifecycle.statusAfterRelease(waitingFor: ["stock", "problem"]) == .held)
    }
}
