/// A warehouse as the picker walks it: parallel aisles between a front and a
/// back cross-aisle, bins along each aisle, the depot (start and end of every
/// tour) on the front cross-aisle. Distances in decimetres.
public struct WarehouseLayout: Sendable {
    public struct Aisle: Sendable, Equatable {
        public let id: String
        /// Position along the cross-aisles.
        public let x: Int
        public let zone: String
    }

    /// A bin: aisle, position along the aisle (1 = front), level (1 = floor).
    public struct Bin: Sendable, Equatable, Hashable, Comparable {
        public let aisle: String
        public let position: Int
        public let level: Int
        public init(aisle: String, position: Int, level: Int) {
            self.aisle = aisle
            self.position = position
            self.level = level
        }
        public var name: String { "\(aisle)-\(position < 10 ? "0" : "")\(position)-\(level)" }
        public static func < (a: Bin, b: Bin) -> Bool { a.name < b.name }
    }

    public let aisles: [Aisle]
    public let aisleLength: Int
    public let positionsPerAisle: Int
    public let depotX: Int
    /// Depth of a middle cross-aisle (two blocks), if there is one.
    public let middleCrossAisle: Int?
    /// SKU → bin (the slotting table).
    public let slotting: [String: Bin]

    public struct LayoutError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(aisles: [Aisle], aisleLength: Int, positionsPerAisle: Int, depotX: Int, middleCrossAisle: Int? = nil,
                slotting: [String: String]) throws(LayoutError) {
        guard !aisles.isEmpty, Set(aisles.map(\.id)).count == aisles.count, Set(aisles.map(\.x)).count == aisles.count else {
            throw LayoutError(description: "aisles must be listed with distinct ids and positions")
        }
        guard (1...100_000).contains(aisleLength), (1...999).contains(positionsPerAisle) else {
            throw LayoutError(description: "aisleLength must be 1–100,000 dm and positionsPerAisle 1–999")
        }
        self.aisles = aisles.sorted { $0.x < $1.x }
        self.aisleLength = aisleLength
        self.positionsPerAisle = positionsPerAisle
        self.depotX = depotX
        if let middle = middleCrossAisle, !(1..<aisleLength).contains(middle) {
            throw LayoutError(description: "middleCrossAisleDm must lie between the front (0) and the back (\(aisleLength))")
        }
        self.middleCrossAisle = middleCrossAisle
        var bins: [String: Bin] = [:]
        for (sku, name) in slotting {
            guard let bin = Self.bin(named: name, aisles: aisles, positions: positionsPerAisle) else {
                throw LayoutError(description: "slotting \(sku): bin \"\(name)\" is not AISLE-POSITION-LEVEL of a listed aisle")
            }
            bins[sku] = bin
        }
        self.slotting = bins
    }

    static func bin(named name: String, aisles: [Aisle], positions: Int) -> Bin? {
        let parts = name.split(separator: "-").map(String.init)
        guard parts.count == 3, aisles.contains(where: { $0.id == parts[0] }), let position = Int(parts[1]), let level = Int(parts[2]),
              (1...positions).contains(position), (1...99).contains(level) else { return nil }
        return Bin(aisle: parts[0], position: position, level: level)
    }

    public func bin(named name: String) -> Bin? { Self.bin(named: name, aisles: aisles, positions: positionsPerAisle) }

    /// Where a bin lies: its aisle's x and the depth of its position (middle of the rack section).
    public func point(of bin: Bin) -> (x: Int, depth: Int)? {
        guard let aisle = aisles.first(where: { $0.id == bin.aisle }) else { return nil }
        return (aisle.x, ((2 * bin.position - 1) * aisleLength) / (2 * positionsPerAisle))
    }

    public func zone(of bin: Bin) -> String? { aisles.first { $0.id == bin.aisle }?.zone }

    /// One stop of a pick list.
    public struct Stop: Sendable, Equatable {
        public let bin: Bin
        public let sku: String
        public let quantity: Int64
        public let fulfillmentOrderID: String
        public let lineID: String
        public init(bin: Bin, sku: String, quantity: Int64, fulfillmentOrderID: String, lineID: String) {
            self.bin = bin
            self.sku = sku
            self.quantity = quantity
            self.fulfillmentOrderID = fulfillmentOrderID
            self.lineID = lineID
        }
    }

    public struct RoutedList: Sendable {
        public let stops: [Stop]
        public let chosen: PickRouting.Tour
        /// Every method's length (for the pick list and the benchmark).
        public let lengths: [PickRouting.Method: Int]
        /// Walking the stops sorted by bin name (what most systems print).
        public let binNameOrderLength: Int
    }

    /// Orders the stops along the shortest tour of all methods; stops at one point by level, then SKU.
    public func route(_ stops: [Stop]) throws(PickRouting.RoutingError) -> RoutedList {
        var points: [(x: Int, depth: Int)] = []
        for stop in stops {
            guard let point = point(of: stop.bin) else { throw PickRouting.RoutingError(description: "bin \(stop.bin.name) is not in this layout") }
            points.append(point)
        }
        let tours: [PickRouting.Tour]
        if let middle = middleCrossAisle {
            tours = try PickRouting.compareTwoBlock(stops: points, aisleXs: aisles.map(\.x), aisleLength: aisleLength, depotX: depotX, middle: middle)
        } else {
            tours = try PickRouting.compare(stops: points, aisleXs: aisles.map(\.x), aisleLength: aisleLength, depotX: depotX)
        }
        let best = tours[0]
        var ordered: [Stop] = []
        var index = 0
        let order = best.order
        while index < order.count {
            var group = [order[index]]
            while index + group.count < order.count, points[order[index + group.count]] == points[order[index]] { group.append(order[index + group.count]) }
            ordered += group.map { stops[$0] }.sorted { ($0.bin.level, $0.sku, $0.fulfillmentOrderID) < ($1.bin.level, $1.sku, $1.fulfillmentOrderID) }
            index += group.count
        }
        let byName = stops.indices.sorted { (stops[$0].bin.name, $0) < (stops[$1].bin.name, $1) }.map { points[$0] }
        return RoutedList(stops: ordered, chosen: best, lengths: Dictionary(uniqueKeysWithValues: tours.map { ($0.method, $0.length) }),
                          binNameOrderLength: PickRouting.lengthInOrder(byName, aisleLength: aisleLength, depotX: depotX, middle: middleCrossAisle))
    }
}
