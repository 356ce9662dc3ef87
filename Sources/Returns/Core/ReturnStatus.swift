/// Where a return stands; every change goes through `transition(to:)`.
public enum ReturnStatus: String, Sendable, CaseIterable {
    /// Waiting for customer service (a rule asked for a look).
    case held
    /// The customer may send it; the label is ready.
    case authorized
    case rejected
    /// Received and inspected, some lines still wait for a person's decision.
    case awaitingDecision = "awaiting-decision"
    /// Every received line has its disposition; the refund is approved.
    case completed

    static let allowed: [ReturnStatus: Set<ReturnStatus>] = [
        .held: [.authorized, .rejected],
        .authorized: [.awaitingDecision, .completed],
        .awaitingDecision: [.completed],
        .rejected: [],
        .completed: [],
    ]

    public func canMove(to next: ReturnStatus) -> Bool { Self.allowed[self]?.contains(next) ?? false }

    public struct IllegalTransition: Error, Sendable, CustomStringConvertible {
        public let from: ReturnStatus
        public let to: ReturnStatus
        public var description: String { "a return that is \(from.rawValue) cannot become \(to.rawValue)" }
    }

    public func transition(to next: ReturnStatus) throws(IllegalTransition) -> ReturnStatus {
        guard canMove(to: next) else { throw IllegalTransition(from: self, to: next) }
        return next
    }

    /// Still open for operators (`omsctl return list --open`).
    public var isOpen: Bool { self != .rejected && self != .completed }
}
