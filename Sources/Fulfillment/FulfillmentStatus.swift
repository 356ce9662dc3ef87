/// Where a fulfillment order stands in Fulfillment, and which moves are allowed.
enum FulfillmentStatus: String, Sendable, CaseIterable {
    /// Received, waiting for a wave.
    case received
    /// On a pick list.
    case waved
    /// Picked and packed into parcels with labels.
    case packed
    /// Picked, but a packing rule cannot be met (missing dimensions, no carton): a person looks at it.
    case packingProblem = "packing_problem"
    /// Every unit was missing: nothing to pack, all given back to the Router.
    case nothingPicked = "nothing_picked"
    /// Every parcel has its tracking number.
    case shipped
    case delivered
    /// Drop-ship: the supplier ships; we wait for its confirmation.
    case atSupplier = "at_supplier"

    static let transitions: [FulfillmentStatus: Set<FulfillmentStatus>] = [
        .received: [.waved],
        .waved: [.packed, .packingProblem, .nothingPicked],
        .packingProblem: [.packed, .packingProblem, .nothingPicked],
        .packed: [.shipped],
        .shipped: [.delivered],
        .atSupplier: [.shipped],
        .nothingPicked: [],
        .delivered: [],
    ]

    func canMove(to next: FulfillmentStatus) -> Bool { Self.transitions[self]?.contains(next) ?? false }
}
