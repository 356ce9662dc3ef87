import Shared

/// An order's status in Capture, and the only moves between them (like
/// OFBiz's StatusValidChange): anything else is refused with a reason.
enum OrderStatus: String, Sendable, CaseIterable {
    case accepted
    case onHold = "on_hold"
    case rejected
    case cancelled

    struct Transition: Sendable, Equatable {
        let from: OrderStatus?
        let to: OrderStatus
        /// The event that announces the move.
        let event: String
    }

    static let transitions: [Transition] = [
        Transition(from: nil, to: .accepted, event: "Order.Accepted"),
        Transition(from: nil, to: .onHold, event: "Order.OnHold"),
        Transition(from: nil, to: .rejected, event: "Order.Rejected"),
        Transition(from: .onHold, to: .accepted, event: "Order.Released"),
        Transition(from: .onHold, to: .rejected, event: "Order.Rejected"),
        Transition(from: .onHold, to: .cancelled, event: "Order.Cancelled"),
        Transition(from: .accepted, to: .cancelled, event: "Order.Cancelled"),
    ]

    /// The transition, or a permanent failure naming what was asked and what is allowed.
    static func transition(from: OrderStatus?, to: OrderStatus, orderID: String) throws(PermanentFailure) -> Transition {
        if let allowed = transitions.first(where: { $0.from == from && $0.to == to }) { return allowed }
        let possible = transitions.filter { $0.from == from }.map(\.to.rawValue)
        throw .businessRule("order \(orderID): \(from?.rawValue ?? "new") → \(to.rawValue) is not an allowed transition (allowed: \(possible.isEmpty ? "none" : possible.joined(separator: ", ")))")
    }
}
