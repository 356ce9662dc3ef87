/// The packing rule: which cartons a fulfillment order's items go into.
///
/// Every item must fit in 3D (any of its six orientations, no overlap, nothing
/// outside the carton) within the carton's load and the carrier's limits.
/// Fewest parcels first, then the cheapest cartons. Bulky items travel alone,
/// dangerous goods in parcels of their own class. An item without dimensions
/// or weight is a problem on the order, never a guess.
public enum Packing {
    public struct Dimensions: Sendable, Equatable, Hashable, Codable {
        public let length: Int, width: Int, height: Int
        public init(_ length: Int, _ width: Int, _ height: Int) {
            self.length = length
            self.width = width
            self.height = height
        }
        public var volume: Int64 { Int64(length) * Int64(width) * Int64(height) }
        /// The six orientations, without repeats for equal sides.
        public var orientations: [Dimensions] {
            var result: [Dimensions] = []
            result.reserveCapacity(6)
            for d in [Dimensions(length, width, height), Dimensions(length, height, width), Dimensions(width, length, height),
                      Dimensions(width, height, length), Dimensions(height, length, width), Dimensions(height, width, length)]
            where !result.contains(d) { result.append(d) }
            return result
        }
        /// Longest side plus twice the other two (the carriers' "length + girth").
        public var lengthPlusGirth: Int {
            let sides = [length, width, height].sorted()
            return sides[2] + 2 * (sides[0] + sides[1])
        }
        public var longestSide: Int { max(length, width, height) }
        public var description: String { "\(length)×\(width)×\(height) mm" }
    }

    public struct Carton: Sendable, Equatable {
        public let id: String
        public let inner: Dimensions
        /// Outer dimensions for the carrier's limits (inner when not given).
        public let outer: Dimensions
        public let tareGrams: Int
        public let maxLoadGrams: Int
        /// Cost in minor units of the shop's currency (for choosing, not for invoices).
        public let cost: Int64
        public init(id: String, inner: Dimensions, outer: Dimensions? = nil, tareGrams: Int, maxLoadGrams: Int, cost: Int64) {
            self.id = id
            self.inner = inner
            self.outer = outer ?? inner
            self.tareGrams = tareGrams
            self.maxLoadGrams = maxLoadGrams
            self.cost = cost
        }
    }

    public struct CarrierLimits: Sendable, Equatable {
        public let maxWeightGrams: Int
        public let maxLengthMm: Int
        public let maxLengthPlusGirthMm: Int
        public init(maxWeightGrams: Int, maxLengthMm: Int, maxLengthPlusGirthMm: Int) {
            self.maxWeightGrams = maxWeightGrams
            self.maxLengthMm = maxLengthMm
            self.maxLengthPlusGirthMm = maxLengthPlusGirthMm
        }
        func admits(_ outer: Dimensions, grams: Int) -> Bool {
            grams <= maxWeightGrams && outer.longestSide <= maxLengthMm && outer.lengthPlusGirth <= maxLengthPlusGirthMm
        }
    }

    /// One unit to pack (a line of quantity 3 is three items).
    public struct Item: Sendable, Equatable {
        public let lineID: String
        public let sku: String
        public let dimensions: Dimensions?
        public let weightGrams: Int?
        public let bulky: Bool
        public let dangerousGoodsClass: String?
        public init(lineID: String, sku: String, dimensions: Dimensions?, weightGrams: Int?, bulky: Bool = false, dangerousGoodsClass: String? = nil) {
            self.lineID = lineID
            self.sku = sku
            self.dimensions = dimensions
            self.weightGrams = weightGrams
            self.bulky = bulky
            self.dangerousGoodsClass = dangerousGoodsClass
        }
    }

    public struct Placement: Sendable, Equatable {
        public let item: Int
        public let x: Int, y: Int, z: Int
        public let size: Dimensions
    }

    public struct Parcel: Sendable, Equatable {
        /// nil: the item travels in its own packaging (bulky).
        public let carton: Carton?
        /// Indices into the items given.
        public let items: [Int]
        public let placements: [Placement]
        public let grossGrams: Int
        public let outer: Dimensions
        public let dangerousGoodsClass: String?
    }

    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let code: String
        public let lineID: String?
        public let message: String
        public var description: String { message }
    }

    public struct Result: Sendable, Equatable {
        public let parcels: [Parcel]
        public let problems: [Problem]
        public var cartonCost: Int64 { parcels.reduce(0) { $0 + ($1.carton?.cost ?? 0) } }
    }

    /// Search budget per carton check: beyond it a set counts as not fitting (more parcels, never an overlap).
    static let placementNodeBudget = 20_000
    /// Above this many items of one group, the partition search is first-fit decreasing only.
    static let exactPartitionLimit = 8
    /// Units per fulfillment order the packer takes on; more is a problem for a person, not a search.
    public static let maximumUnits = 2_000

    /// An item that passed the checks: size and weight are known.
    struct Unit {
        let size: Dimensions
        let grams: Int
        let dangerousGoodsClass: String?
    }

    public static func pack(_ items: [Item], cartons: [Carton], limits: CarrierLimits) -> Result {
        guard items.count <= maximumUnits else {
            return Result(parcels: [], problems: [Problem(code: "too-many-units", lineID: nil,
                                                          message: "\(items.count) units are more than the packer takes on (\(maximumUnits)); pack by hand")])
        }
        var problems: [Problem] = []
        var units: [Unit] = []
        for item in items {
            guard let dimensions = item.dimensions, dimensions.length > 0, dimensions.width > 0, dimensions.height > 0 else {
                problems.append(Problem(code: "missing-dimensions", lineID: item.lineID,
                                        message: "\(item.sku) (line \(item.lineID)) has no dimensions in the catalog; measure it and send Product.Changed"))
                continue
            }
            guard let weight = item.weightGrams, weight > 0 else {
                problems.append(Problem(code: "missing-weight", lineID: item.lineID,
                                        message: "\(item.sku) (line \(item.lineID)) has no weight in the catalog; weigh it and send Product.Changed"))
                continue
            }
            units.append(Unit(size: dimensions, grams: weight, dangerousGoodsClass: item.dangerousGoodsClass))
            if !item.bulky && !cartons.contains(where: { fits([dimensions], in: $0.inner) != nil && $0.tareGrams + weight <= min($0.maxLoadGrams + $0.tareGrams, limits.maxWeightGrams) && limits.admits($0.outer, grams: $0.tareGrams + weight) }) {
                problems.append(Problem(code: "no-carton", lineID: item.lineID,
                                        message: "\(item.sku) (line \(item.lineID), \(dimensions.description), \(weight) g) fits no carton of this warehouse within the carrier's limits"))
            }
            if item.bulky && !limits.admits(dimensions, grams: weight) {
                problems.append(Problem(code: "over-carrier-limits", lineID: item.lineID,
                                        message: "\(item.sku) (line \(item.lineID), \(dimensions.description), \(weight) g) exceeds the carrier's limits (\(limits.maxWeightGrams) g, \(limits.maxLengthMm) mm, length+girth \(limits.maxLengthPlusGirthMm) mm)"))
            }
        }
        guard problems.isEmpty else { return Result(parcels: [], problems: problems) }

        var parcels: [Parcel] = []
        // Bulky items alone, in their own packaging unless a carton takes them.
        for index in items.indices where items[index].bulky {
            let item = items[index]
            if let parcel = bestCarton(for: [index], units: units, cartons: cartons, limits: limits) {
                parcels.append(parcel)
            } else {
                let size = units[index].size
                parcels.append(Parcel(carton: nil, items: [index], placements: [Placement(item: index, x: 0, y: 0, z: 0, size: size)],
                                      grossGrams: units[index].grams, outer: size, dangerousGoodsClass: item.dangerousGoodsClass))
            }
        }
        // Dangerous goods per class, everything else together.
        var groups: [String: [Int]] = [:]
        for index in items.indices where !items[index].bulky { groups[items[index].dangerousGoodsClass ?? "", default: []].append(index) }
        for key in groups.keys.sorted() {
            guard let members = groups[key], let group = partition(members, units: units, cartons: cartons, limits: limits) else {
                return Result(parcels: [], problems: [Problem(code: "no-packing", lineID: nil,
                                                              message: "no packing found for \(groups[key]?.count ?? 0) items within the search budget")])
            }
            parcels.append(contentsOf: group)
        }
        return Result(parcels: parcels, problems: [])
    }

    /// Splits a group into the fewest parcels, then the cheapest cartons.
    static func partition(_ group: [Int], units: [Unit], cartons: [Carton], limits: CarrierLimits) -> [Parcel]? {
        if let one = bestCarton(for: group, units: units, cartons: cartons, limits: limits) { return [one] }
        let sorted = group.sorted { (units[$0].size.volume, $0) > (units[$1].size.volume, $1) }
        let biggest = cartons.map { Int64($0.inner.volume) }.max() ?? 1
        let totalVolume = sorted.reduce(Int64(0)) { $0 + units[$1].size.volume }
        let totalWeight = sorted.reduce(0) { $0 + units[$1].grams }
        let heaviest = max(1, cartons.map { min($0.maxLoadGrams, limits.maxWeightGrams - $0.tareGrams) }.max() ?? 1)
        var count = max(2, Int((totalVolume + biggest - 1) / biggest), (totalWeight + heaviest - 1) / heaviest)
        while count <= sorted.count {
            if sorted.count <= exactPartitionLimit, let exact = exactPartition(sorted, into: count, units: units, cartons: cartons, limits: limits) {
                return exact
            }
            if sorted.count > exactPartitionLimit, let greedy = firstFit(sorted, into: count, units: units, cartons: cartons, limits: limits) {
                return greedy
            }
            count += 1
        }
        return nil
    }

    /// First-fit decreasing: each item into the first parcel that still has room in some carton.
    static func firstFit(_ sorted: [Int], into count: Int, units: [Unit], cartons: [Carton], limits: CarrierLimits) -> [Parcel]? {
        var bins: [[Int]] = []
        for index in sorted {
            if let b = bins.indices.first(where: { bestCarton(for: bins[$0] + [index], units: units, cartons: cartons, limits: limits) != nil }) {
                bins[b].append(index)
            } else {
                guard bins.count < count else { return nil }
                bins.append([index])
            }
        }
        return bins.compactMap { bestCarton(for: $0, units: units, cartons: cartons, limits: limits) }
    }

    /// Every assignment of the items to `count` parcels (symmetric ones skipped), cheapest total carton cost.
    static func exactPartition(_ sorted: [Int], into count: Int, units: [Unit], cartons: [Carton], limits: CarrierLimits) -> [Parcel]? {
        var best: [Parcel]?, bestCost = Int64.max
        var bins: [[Int]] = []
        var memo: [[Int]: Parcel?] = [:]
        func carton(_ set: [Int]) -> Parcel? {
            let key = set.sorted()
            if let known = memo[key] { return known }
            let parcel = bestCarton(for: key, units: units, cartons: cartons, limits: limits)
            memo[key] = parcel
            return parcel
        }
        func place(_ k: Int) {
            if k == sorted.count {
                guard bins.count == count else { return }
                let parcels = bins.compactMap(carton)
                guard parcels.count == count else { return }
                let cost = parcels.reduce(Int64(0)) { $0 + ($1.carton?.cost ?? 0) }
                if cost < bestCost { (best, bestCost) = (parcels, cost) }
                return
            }
            for b in bins.indices {
                bins[b].append(sorted[k])
                if carton(bins[b]) != nil { place(k + 1) }
                bins[b].removeLast()
            }
            if bins.count < count && sorted.count - k >= count - bins.count {
                bins.append([sorted[k]])
                if carton(bins[bins.count - 1]) != nil { place(k + 1) }
                bins.removeLast()
            }
        }
        place(0)
        return best
    }

    /// The cheapest carton that takes all these items, or nil.
    static func bestCarton(for set: [Int], units: [Unit], cartons: [Carton], limits: CarrierLimits) -> Parcel? {
        let volume = set.reduce(Int64(0)) { $0 + units[$1].size.volume }
        let grams = set.reduce(0) { $0 + units[$1].grams }
        for carton in cartons.sorted(by: { ($0.cost, $0.inner.volume, $0.id) < ($1.cost, $1.inner.volume, $1.id) })
        where carton.inner.volume >= volume && grams <= carton.maxLoadGrams && limits.admits(carton.outer, grams: grams + carton.tareGrams) {
            if let placements = fits(set.map { units[$0].size }, in: carton.inner) {
                return Parcel(carton: carton, items: set, placements: placements.map { Placement(item: set[$0.item], x: $0.x, y: $0.y, z: $0.z, size: $0.size) },
                              grossGrams: grams + carton.tareGrams, outer: carton.outer,
                              dangerousGoodsClass: set.compactMap { units[$0].dangerousGoodsClass }.first)
            }
        }
        return nil
    }

    /// A placement of the boxes in the container, or nil: depth-first over extreme points (corners of what is
    /// placed) and every orientation, largest box first, within a node budget.
    public static func fits(_ boxes: [Dimensions], in container: Dimensions) -> [Placement]? {
        let order = boxes.indices.sorted { (boxes[$0].volume, $0) > (boxes[$1].volume, $1) }
        var placed: [Placement] = []
        var nodes = 0
        func overlaps(_ x: Int, _ y: Int, _ z: Int, _ d: Dimensions) -> Bool {
            placed.contains { p in
                x < p.x + p.size.length && p.x < x + d.length && y < p.y + p.size.width && p.y < y + d.width && z < p.z + p.size.height && p.z < z + d.height
            }
        }
        func search(_ k: Int, _ points: [(Int, Int, Int)]) -> Bool {
            if k == order.count { return true }
            nodes += 1
            if nodes > placementNodeBudget { return false }
            let box = boxes[order[k]]
            // Identical boxes go in placement order, so that swapping two of them is not tried again.
            for (pi, point) in points.enumerated() {
                for d in box.orientations {
                    let (x, y, z) = point
                    guard x + d.length <= container.length, y + d.width <= container.width, z + d.height <= container.height,
                          !overlaps(x, y, z, d) else { continue }
                    placed.append(Placement(item: order[k], x: x, y: y, z: z, size: d))
                    var next = points
                    next.remove(at: pi)
                    next.append(contentsOf: [(x + d.length, y, z), (x, y + d.width, z), (x, y, z + d.height)])
                    if search(k + 1, next) { return true }
                    placed.removeLast()
                    if nodes > placementNodeBudget { return false }
                }
            }
            return false
        }
        return search(0, [(0, 0, 0)]) ? placed : nil
    }
}
