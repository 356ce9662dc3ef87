/// The routing rule for pickers: which way to walk a pick list through a
/// parallel-aisle warehouse with a front and a back cross-aisle.
///
/// Every method describes its tour the same way — per aisle how it is walked
/// (`AisleWalk`) and per gap between neighbouring aisles how often the front and
/// the back cross-aisle are crossed — so that length and stop order come from one
/// place. The heuristics are the standard ones (S-shape, return, midpoint,
/// largest gap, combined); `optimal` is Ratliff & Rosenthal's dynamic programme
/// (1983), linear in the number of aisles, which no heuristic can beat.
public enum PickRouting {
    public enum Method: String, Sendable, CaseIterable, Codable {
        case sShape = "s-shape", returnRoute = "return", midpoint, largestGap = "largest-gap", combined, optimal
        /// With a middle cross-aisle: the exact tour by dynamic programming over the stops (Held–Karp, up to
        /// `exactStopLimit` places), above that the best single-block tour improved by 2-opt with the middle aisle.
        case exact, improved = "2-opt"

        /// The methods of a single block (front and back cross-aisle); `optimal` is exact there.
        public static let singleBlock: [Method] = [.sShape, .returnRoute, .midpoint, .largestGap, .combined, .optimal]
    }

    /// Most distinct places for the exact tour with a middle cross-aisle (2^n · n² work).
    public static let exactStopLimit = 12

    /// How one aisle is walked. Lengths are in the layout's unit (e.g. decimetres).
    public enum AisleWalk: Sendable, Equatable {
        case none, traverse, traverseTwice, fromFront, fromBack
        /// The first `frontCount` stops (by depth) fetched from the front, the rest from the back.
        case split(frontCount: Int)
    }

    public struct Tour: Sendable, Equatable {
        public let method: Method
        public let length: Int
        /// Indices into the stops given, in walking order.
        public let order: [Int]
    }

    public struct RoutingError: Error, Sendable, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// One aisle of the problem: its position and the depths of its stops.
    struct AisleStops {
        let x: Int
        /// Distinct depths (0 = front, length = back), ascending.
        var depths: [Int]
        /// The depot stands at this aisle's front end (only for the depot's own column).
        var requiresFront: Bool
        /// A column for the depot between aisles: nothing can be walked there.
        let walkable: Bool
    }

    struct Problem {
        let aisleLength: Int
        let aisles: [AisleStops]
        /// The depot's column.
        let depotColumn: Int
    }

    struct Plan {
        var walks: [AisleWalk]
        /// Per gap j (between column j and j+1): crossings of the front and of the back cross-aisle.
        var front: [Int]
        var back: [Int]
    }

    /// Computes one method's tour for stops at `(x, depth)` with the depot on the front cross-aisle at `depotX`.
    public static func tour(_ method: Method, stops: [(x: Int, depth: Int)], aisleXs: [Int], aisleLength: Int, depotX: Int) throws(RoutingError) -> Tour {
        let problem = try problem(stops: stops, aisleXs: aisleXs, aisleLength: aisleLength, depotX: depotX)
        let plan: Plan
        switch method {
        case .sShape: plan = sShape(problem)
        case .returnRoute: plan = returnPlan(problem)
        case .midpoint: plan = midpoint(problem)
        case .largestGap: plan = largestGap(problem)
        case .combined: plan = combined(problem)
        case .optimal: plan = try optimal(problem)
        case .exact, .improved: throw RoutingError(description: "\(method.rawValue) needs a layout with a middle cross-aisle (use twoBlock)")
        }
        return Tour(method: method, length: length(plan, problem), order: try walkOrder(plan, problem, stops: stops))
    }

    /// Every method, shortest first; on a tie the optimum first, then the order of `Method.allCases`.
    public static func compare(stops: [(x: Int, depth: Int)], aisleXs: [Int], aisleLength: Int, depotX: Int) throws(RoutingError) -> [Tour] {
        var tours: [Tour] = []
        for method in Method.singleBlock { tours.append(try tour(method, stops: stops, aisleXs: aisleXs, aisleLength: aisleLength, depotX: depotX)) }
        return shortestFirst(tours)
    }

    /// Shortest first; on a tie an exact method (the optimum) first, then the order given.
    static func shortestFirst(_ tours: [Tour]) -> [Tour] {
        func rank(_ entry: (offset: Int, element: Tour)) -> (Int, Int, Int) {
            (entry.element.length, [.optimal, .exact].contains(entry.element.method) ? 0 : 1, entry.offset)
        }
        return tours.enumerated().sorted { rank($0) < rank($1) }.map(\.element)
    }

    /// Shortest walking distance between two points of the layout (for the brute force of the tests and for
    /// "sorted by bin name" comparisons): within an aisle straight, between aisles over the best cross-aisle —
    /// front, back, or the middle one at depth `middle` when there is one. (One cross-aisle is always enough:
    /// using two never shortens the vertical part.)
    public static func distance(_ a: (x: Int, depth: Int), _ b: (x: Int, depth: Int), aisleLength: Int, middle: Int? = nil) -> Int {
        if a.x == b.x { return abs(a.depth - b.depth) }
        var vertical = min(a.depth + b.depth, 2 * aisleLength - a.depth - b.depth)
        if let middle { vertical = min(vertical, abs(a.depth - middle) + abs(b.depth - middle)) }
        return abs(a.x - b.x) + vertical
    }

    /// The length of visiting the stops in the given order from and back to the depot.
    public static func lengthInOrder(_ stops: [(x: Int, depth: Int)], aisleLength: Int, depotX: Int, middle: Int? = nil) -> Int {
        var here = (x: depotX, depth: 0), total = 0
        for stop in stops + [(x: depotX, depth: 0)] {
            total += distance(here, stop, aisleLength: aisleLength, middle: middle)
            here = stop
        }
        return total
    }

    /// A warehouse with a middle cross-aisle (two blocks): the single-block tours stay valid walks (they do not
    /// use the middle aisle); the exact tour over the stops (up to `exactStopLimit` places) or the best one
    /// improved by 2-opt is added, and the shortest comes first.
    public static func compareTwoBlock(stops: [(x: Int, depth: Int)], aisleXs: [Int], aisleLength: Int, depotX: Int,
                                       middle: Int) throws(RoutingError) -> [Tour] {
        guard middle > 0, middle < aisleLength else { throw RoutingError(description: "the middle cross-aisle must lie inside the aisles") }
        var tours = try compare(stops: stops, aisleXs: aisleXs, aisleLength: aisleLength, depotX: depotX)
        // Distinct places; stops at one place are picked together.
        var places: [(x: Int, depth: Int)] = [], placeOf: [Int] = []
        for stop in stops {
            if let i = places.firstIndex(where: { $0 == stop }) { placeOf.append(i) } else {
                places.append(stop)
                placeOf.append(places.count - 1)
            }
        }
        let order: [Int]
        let method: Method
        if places.count <= exactStopLimit {
            order = heldKarp(places, aisleLength: aisleLength, depotX: depotX, middle: middle)
            method = .exact
        } else {
            var seen = Set<Int>(), start: [Int] = []
            for index in tours[0].order where seen.insert(placeOf[index]).inserted { start.append(placeOf[index]) }
            order = twoOpt(start, places, aisleLength: aisleLength, depotX: depotX, middle: middle)
            method = .improved
        }
        let length = lengthInOrder(order.map { places[$0] }, aisleLength: aisleLength, depotX: depotX, middle: middle)
        let stopOrder = order.flatMap { place in stops.indices.filter { placeOf[$0] == place } }
        tours.append(Tour(method: method, length: length, order: stopOrder))
        return shortestFirst(tours)
    }

    /// Held–Karp: the shortest closed walk from the depot through every place, by dynamic programming over subsets.
    static func heldKarp(_ places: [(x: Int, depth: Int)], aisleLength: Int, depotX: Int, middle: Int) -> [Int] {
        let n = places.count
        guard n > 1 else { return Array(0..<n) }
        let depot = (x: depotX, depth: 0)
        let full = (1 << n) - 1
        var cost = Array(repeating: Array(repeating: Int.max, count: n), count: 1 << n)
        var parent = Array(repeating: Array(repeating: -1, count: n), count: 1 << n)
        for i in 0..<n { cost[1 << i][i] = distance(depot, places[i], aisleLength: aisleLength, middle: middle) }
        for set in 1...full {
            for last in 0..<n where set & (1 << last) != 0 && cost[set][last] != Int.max {
                for next in 0..<n where set & (1 << next) == 0 {
                    let grown = set | (1 << next)
                    let candidate = cost[set][last] + distance(places[last], places[next], aisleLength: aisleLength, middle: middle)
                    if candidate < cost[grown][next] {
                        cost[grown][next] = candidate
                        parent[grown][next] = last
                    }
                }
            }
        }
        var best = 0, bestCost = Int.max
        for last in 0..<n {
            let total = cost[full][last] + distance(places[last], depot, aisleLength: aisleLength, middle: middle)
            if total < bestCost { (best, bestCost) = (last, total) }
        }
        var order: [Int] = [], set = full, current = best
        while current >= 0 {
            order.append(current)
            let previous = parent[set][current]
            set &= ~(1 << current)
            current = previous
        }
        return order.reversed()
    }

    /// 2-opt: reverse stretches of the tour while that shortens it (bounded rounds).
    static func twoOpt(_ start: [Int], _ places: [(x: Int, depth: Int)], aisleLength: Int, depotX: Int, middle: Int) -> [Int] {
        var order = start
        func length(_ o: [Int]) -> Int { lengthInOrder(o.map { places[$0] }, aisleLength: aisleLength, depotX: depotX, middle: middle) }
        var best = length(order)
        for _ in 0..<50 {
            var improved = false
            for i in 0..<max(0, order.count - 1) {
                for j in (i + 1)..<order.count {
                    var candidate = order
                    candidate[i...j].reverse()
                    let l = length(candidate)
                    if l < best {
                        (order, best, improved) = (candidate, l, true)
                    }
                }
            }
            if !improved { break }
        }
        return order
    }

    // MARK: - The problem

    static func problem(stops: [(x: Int, depth: Int)], aisleXs: [Int], aisleLength: Int, depotX: Int) throws(RoutingError) -> Problem {
        guard aisleLength > 0, aisleLength <= 1_000_000 else { throw RoutingError(description: "aisle length must be between 1 and 1,000,000") }
        let xs = Set(aisleXs)
        guard xs.count == aisleXs.count, !xs.isEmpty, xs.allSatisfy({ abs($0) <= 1_000_000 }), abs(depotX) <= 1_000_000 else {
            throw RoutingError(description: "aisle positions must be distinct and within ±1,000,000")
        }
        for stop in stops {
            guard xs.contains(stop.x) else { throw RoutingError(description: "a stop at x \(stop.x) lies in no aisle") }
            guard (0...aisleLength).contains(stop.depth) else { throw RoutingError(description: "a stop at depth \(stop.depth) lies outside its aisle") }
        }
        var columns = xs.map { x in
            AisleStops(x: x, depths: Array(Set(stops.filter { $0.x == x }.map(\.depth))).sorted(), requiresFront: x == depotX, walkable: true)
        }
        if !xs.contains(depotX) { columns.append(AisleStops(x: depotX, depths: [], requiresFront: true, walkable: false)) }
        columns.sort { $0.x < $1.x }
        // Aisles left or right of everything to visit are never worth walking: drop them.
        let needed = columns.indices.filter { !columns[$0].depths.isEmpty || columns[$0].requiresFront }
        let kept = Array(columns[needed.first!...needed.last!])
        return Problem(aisleLength: aisleLength, aisles: kept, depotColumn: kept.firstIndex { $0.requiresFront }!)
    }

    static func cost(_ walk: AisleWalk, _ aisle: AisleStops, length: Int) -> Int {
        let d = aisle.depths
        switch walk {
        case .none: return 0
        case .traverse: return length
        case .traverseTwice: return 2 * length
        case .fromFront: return 2 * (d.last ?? 0)
        case .fromBack: return 2 * (length - (d.first ?? length))
        case .split(let k):
            guard k > 0, k < d.count else { return Int.max / 4 }
            return 2 * d[k - 1] + 2 * (length - d[k])
        }
    }

    /// The largest gap between neighbouring points of an aisle (front end, stops, back end) and where it begins:
    /// stops up to `lowerIndex` are fetched from the front, the others from the back.
    static func largestGap(_ depths: [Int], length: Int) -> (gap: Int, lowerIndex: Int) {
        let points = [0] + depths + [length]
        var best = (gap: -1, lowerIndex: -1)
        for i in 0..<(points.count - 1) where points[i + 1] - points[i] > best.gap { best = (points[i + 1] - points[i], i - 1) }
        return best
    }

    static func length(_ plan: Plan, _ problem: Problem) -> Int {
        var total = 0
        for (j, aisle) in problem.aisles.enumerated() { total += cost(plan.walks[j], aisle, length: problem.aisleLength) }
        for j in 0..<max(0, problem.aisles.count - 1) {
            total += (plan.front[j] + plan.back[j]) * (problem.aisles[j + 1].x - problem.aisles[j].x)
        }
        return total
    }

    // MARK: - Heuristics

    static func emptyPlan(_ p: Problem) -> Plan {
        Plan(walks: Array(repeating: .none, count: p.aisles.count), front: Array(repeating: 0, count: max(0, p.aisles.count - 1)),
             back: Array(repeating: 0, count: max(0, p.aisles.count - 1)))
    }

    static func pickAisles(_ p: Problem) -> [Int] { p.aisles.indices.filter { !p.aisles[$0].depths.isEmpty } }

    /// S-shape: every aisle with stops walked end to end, left to right; with an odd count the last one is
    /// entered and left from the front. The front cross-aisle brings the picker back to the first aisle and the depot.
    static func sShape(_ p: Problem) -> Plan {
        var plan = emptyPlan(p)
        let aisles = pickAisles(p)
        guard let first = aisles.first, let last = aisles.last else { return plan }
        var atBack = false
        for (n, j) in aisles.enumerated() {
            let isLastOdd = n == aisles.count - 1 && aisles.count % 2 == 1
            plan.walks[j] = isLastOdd ? .fromFront : .traverse
            if !isLastOdd { atBack.toggle() }
            if n + 1 < aisles.count {
                for gap in j..<aisles[n + 1] { if atBack { plan.back[gap] += 1 } else { plan.front[gap] += 1 } }
            }
        }
        for gap in first..<last { plan.front[gap] += 1 }
        addDepotLinks(&plan, p, from: first, to: last)
        return plan
    }

    /// The front cross-aisle between the depot and the span first…last, there and back. (A depot inside the span
    /// lies on the front path every route walks back along.)
    static func addDepotLinks(_ plan: inout Plan, _ p: Problem, from first: Int, to last: Int) {
        let d = p.depotColumn
        if d < first { for gap in d..<first { plan.front[gap] += 2 } }
        if d > last { for gap in last..<d { plan.front[gap] += 2 } }
    }

    /// Return: every aisle with stops entered and left from the front, left to right along the front.
    static func returnPlan(_ p: Problem) -> Plan {
        var plan = emptyPlan(p)
        let aisles = pickAisles(p)
        guard let first = aisles.first, let last = aisles.last else { return plan }
        for j in aisles { plan.walks[j] = .fromFront }
        for gap in first..<last { plan.front[gap] += 2 }
        addDepotLinks(&plan, p, from: first, to: last)
        return plan
    }

    /// Midpoint: outermost aisles with stops walked end to end; in between, stops in the front half are fetched
    /// from the front cross-aisle and those in the back half from the back one.
    static func midpoint(_ p: Problem) -> Plan {
        splitPlan(p) { aisle in aisle.depths.filter { $0 * 2 <= p.aisleLength }.count }
    }

    /// Largest gap: like midpoint, but each aisle in between is split at its largest gap between stops.
    static func largestGap(_ p: Problem) -> Plan {
        splitPlan(p) { aisle in largestGap(aisle.depths, length: p.aisleLength).lowerIndex + 1 }
    }

    /// `frontCount` says how many of an aisle's stops (by depth) are fetched from the front.
    static func splitPlan(_ p: Problem, frontCount: (AisleStops) -> Int) -> Plan {
        let aisles = pickAisles(p)
        guard let first = aisles.first, let last = aisles.last else { return emptyPlan(p) }
        if first == last { return returnPlan(p) }
        var plan = emptyPlan(p)
        plan.walks[first] = .traverse
        plan.walks[last] = .traverse
        for gap in first..<last {
            plan.front[gap] += 1
            plan.back[gap] += 1
        }
        for j in aisles where j != first && j != last {
            let k = frontCount(p.aisles[j]), count = p.aisles[j].depths.count
            plan.walks[j] = k == 0 ? .fromBack : k == count ? .fromFront : .split(frontCount: k)
        }
        addDepotLinks(&plan, p, from: first, to: last)
        return plan
    }

    /// Combined: aisles with stops left to right; in each, the picker either walks through to the other
    /// cross-aisle or goes in and back from the side they are on — whichever, by a two-state dynamic programme
    /// over the aisles, gives the shorter tour back to the front of the last aisle.
    static func combined(_ p: Problem) -> Plan {
        let aisles = pickAisles(p)
        guard let first = aisles.first, let last = aisles.last else { return emptyPlan(p) }
        // best[side]: the cheapest walk so far ending on that side (0 front, 1 back) of the current aisle.
        var best: [(cost: Int, plan: Plan)?] = [(0, emptyPlan(p)), nil]
        for (n, j) in aisles.enumerated() {
            var next: [(cost: Int, plan: Plan)?] = [nil, nil]
            for side in 0...1 {
                guard var (cost0, plan0) = best[side] else { continue }
                if n > 0 {
                    for gap in aisles[n - 1]..<j { if side == 0 { plan0.front[gap] += 1 } else { plan0.back[gap] += 1 } }
                    cost0 += p.aisles[j].x - p.aisles[aisles[n - 1]].x
                }
                var options: [(AisleWalk, Int)] = [(.traverse, 1 - side), (side == 0 ? .fromFront : .fromBack, side)]
                if n == aisles.count - 1 && side == 1 { options = [(.traverse, 0)] }
                if n == aisles.count - 1 && side == 0 { options = [(.fromFront, 0), (.traverseTwice, 0)] }
                for (walk, endSide) in options {
                    var plan = plan0
                    plan.walks[j] = walk
                    let total = cost0 + cost(walk, p.aisles[j], length: p.aisleLength)
                    if next[endSide].map({ total < $0.cost }) ?? true { next[endSide] = (total, plan) }
                }
            }
            best = next
        }
        var plan = best[0]!.plan
        for gap in first..<last { plan.front[gap] += 1 }
        addDepotLinks(&plan, p, from: first, to: last)
        return plan
    }

    static func frontDegree(_ walk: AisleWalk) -> Int {
        switch walk {
        case .none, .fromBack: return 0
        case .traverse: return 1
        case .traverseTwice, .fromFront, .split: return 2
        }
    }

    static func backDegree(_ walk: AisleWalk) -> Int {
        switch walk {
        case .none, .fromFront: return 0
        case .traverse: return 1
        case .traverseTwice, .fromBack, .split: return 2
        }
    }

    // MARK: - Ratliff & Rosenthal

    enum Parity: Equatable, Hashable { case zero, even, odd }

    /// The equivalence class of a partial tour subgraph at the boundary column: degree parity of its front and
    /// back node (zero: no edge), whether the two lie in one component, whether any edge exists yet, and whether
    /// the tour has been closed off (then nothing may follow).
    struct BoundaryState: Hashable {
        var front: Parity
        var back: Parity
        var connected: Bool
        var started: Bool
        var closed: Bool
    }

    static func adding(_ parity: Parity, _ count: Int) -> Parity {
        if count == 0 { return parity }
        return ((parity == .odd) != (count % 2 == 1)) ? .odd : .even
    }

    /// The walks worth considering in an aisle (RR's six vertical configurations).
    static func candidateWalks(_ aisle: AisleStops) -> [AisleWalk] {
        guard aisle.walkable else { return [.none] }
        guard !aisle.depths.isEmpty else { return [.none, .traverse, .traverseTwice] }
        var walks: [AisleWalk] = [.traverse, .traverseTwice, .fromFront, .fromBack]
        let gap = largestInnerGap(aisle.depths)
        if let gap { walks.append(.split(frontCount: gap)) }
        return walks
    }

    /// The split at the largest gap between two stops (nil with fewer than two distinct stops).
    static func largestInnerGap(_ depths: [Int]) -> Int? {
        guard depths.count >= 2 else { return nil }
        var best = (gap: -1, k: 1)
        for k in 1..<depths.count where depths[k] - depths[k - 1] > best.gap { best = (depths[k] - depths[k - 1], k) }
        return best.k
    }

    /// Applies aisle j's walk to a state whose boundary is column j.
    static func applyWalk(_ walk: AisleWalk, to s: BoundaryState) -> BoundaryState? {
        if walk == .none { return s }
        if s.closed { return nil }
        let f = frontDegree(walk), b = backDegree(walk)
        var n = s
        n.front = adding(s.front, f)
        n.back = adding(s.back, b)
        n.started = true
        switch walk {
        case .traverse, .traverseTwice: n.connected = true
        default:
            // A node that gets its first edges from a walk that does not join the two ends starts a component of its own.
            let frontFresh = f > 0 && s.front == .zero, backFresh = b > 0 && s.back == .zero
            if frontFresh || backFresh { n.connected = false }
        }
        return n
    }

    /// Crosses from column j to j+1 with `front`/`back` copies of the cross-aisle edges; nil when a component
    /// would be left behind unconnected or a node left with odd degree.
    static func applyCrossing(front f: Int, back b: Int, to s: BoundaryState, requiresFront: Bool) -> BoundaryState? {
        if s.closed { return (f == 0 && b == 0 && !requiresFront) ? s : nil }
        let frontAlive = s.front != .zero, backAlive = s.back != .zero
        if requiresFront && !frontAlive && f == 0 { return nil }
        if adding(s.front, f) == .odd || adding(s.back, b) == .odd { return nil }
        // Edges leaving a node without edges would only drag a useless piece along — except at the depot,
        // whose front node may be reached from the right only: then it starts a component of its own.
        let frontFresh = !frontAlive && f > 0, backFresh = !backAlive && b > 0
        if backFresh || (frontFresh && !requiresFront) { return nil }
        let parity: (Int) -> Parity = { $0 == 0 ? .zero : ($0 % 2 == 1 ? .odd : .even) }
        if !s.started || frontFresh {
            var n = BoundaryState(front: parity(f), back: parity(b), connected: false, started: s.started || f > 0, closed: false)
            if s.started {
                // The component so far is at the back only and must go on there.
                guard backAlive, b > 0 else { return nil }
                n.connected = false
            }
            return n
        }
        var n = BoundaryState(front: parity(f), back: parity(b), connected: false, started: true, closed: false)
        if frontAlive && backAlive && s.connected {
            if f == 0 && b == 0 { n.closed = true } else { n.connected = f > 0 && b > 0 }
        } else if frontAlive && backAlive {
            // Two components: both must go on.
            if f == 0 || b == 0 { return nil }
            n.connected = false
        } else if frontAlive || backAlive {
            if f == 0 && b == 0 { n.closed = true }
        } else {
            return nil
        }
        return n
    }

    static func optimal(_ p: Problem) throws(RoutingError) -> Plan {
        struct Entry { var cost: Int; var plan: Plan }
        guard !pickAisles(p).isEmpty else { return emptyPlan(p) }
        let start = BoundaryState(front: .zero, back: .zero, connected: false, started: false, closed: false)
        var states: [BoundaryState: Entry] = [start: Entry(cost: 0, plan: emptyPlan(p))]
        let crossings = [(0, 0), (1, 1), (2, 0), (0, 2), (2, 2), (1, 0), (0, 1), (2, 1), (1, 2)]
        for (j, aisle) in p.aisles.enumerated() {
            var afterWalk: [BoundaryState: Entry] = [:]
            for (state, entry) in states {
                for walk in candidateWalks(aisle) {
                    guard let next = applyWalk(walk, to: state) else { continue }
                    var plan = entry.plan
                    plan.walks[j] = walk
                    let total = entry.cost + cost(walk, aisle, length: p.aisleLength)
                    if afterWalk[next].map({ total < $0.cost }) ?? true { afterWalk[next] = Entry(cost: total, plan: plan) }
                }
            }
            guard j + 1 < p.aisles.count else { states = afterWalk; break }
            let width = p.aisles[j + 1].x - p.aisles[j].x
            var afterCrossing: [BoundaryState: Entry] = [:]
            for (state, entry) in afterWalk {
                for (front, back) in crossings {
                    guard let next = applyCrossing(front: front, back: back, to: state, requiresFront: aisle.requiresFront) else { continue }
                    var plan = entry.plan
                    plan.front[j] = front
                    plan.back[j] = back
                    let total = entry.cost + (front + back) * width
                    if afterCrossing[next].map({ total < $0.cost }) ?? true { afterCrossing[next] = Entry(cost: total, plan: plan) }
                }
            }
            states = afterCrossing
        }
        let lastRequiresFront = p.aisles[p.aisles.count - 1].requiresFront
        let finals = states.filter { state, _ in
            if state.closed { return !lastRequiresFront }
            guard state.started, state.front != .odd, state.back != .odd else { return false }
            if lastRequiresFront && state.front == .zero { return false }
            if state.front != .zero && state.back != .zero { return state.connected }
            return state.front != .zero || state.back != .zero
        }
        guard let best = finals.values.min(by: { $0.cost < $1.cost }) else {
            throw RoutingError(description: "no closed tour found (internal error in the routing programme)")
        }
        return best.plan
    }

    // MARK: - Walking a plan

    /// The stops in the order a picker meets them on an Euler circuit of the plan from the depot.
    static func walkOrder(_ plan: Plan, _ p: Problem, stops: [(x: Int, depth: Int)]) throws(RoutingError) -> [Int] {
        // Nodes: per column its front end, its stop depths, its back end.
        var nodes: [(column: Int, depth: Int)] = []
        var index: [Int: [Int: Int]] = [:]
        func node(_ column: Int, _ depth: Int) -> Int {
            if let existing = index[column]?[depth] { return existing }
            nodes.append((column, depth))
            index[column, default: [:]][depth] = nodes.count - 1
            return nodes.count - 1
        }
        var edges: [(Int, Int)] = []
        func add(_ a: Int, _ b: Int, times: Int) { for _ in 0..<times { edges.append((a, b)) } }
        let length = p.aisleLength
        for (j, aisle) in p.aisles.enumerated() {
            let front = node(j, 0), back = node(j, length)
            let points = aisle.depths.map { node(j, $0) }
            let chain = [front] + points + [back]
            func walk(_ from: Int, _ to: Int, times: Int) { for k in from..<to { add(chain[k], chain[k + 1], times: times) } }
            switch plan.walks[j] {
            case .none: break
            case .traverse: walk(0, chain.count - 1, times: 1)
            case .traverseTwice: walk(0, chain.count - 1, times: 2)
            case .fromFront: walk(0, chain.count - 2, times: 2)
            case .fromBack: walk(1, chain.count - 1, times: 2)
            case .split(let k):
                walk(0, k, times: 2)
                walk(k + 1, chain.count - 1, times: 2)
            }
            if j + 1 < p.aisles.count {
                add(front, node(j + 1, 0), times: plan.front[j])
                add(back, node(j + 1, length), times: plan.back[j])
            }
        }
        let depot = node(p.depotColumn, 0)
        // Hierholzer's algorithm over the multigraph.
        var adjacency = Array(repeating: [Int](), count: nodes.count)
        for (e, (a, b)) in edges.enumerated() {
            adjacency[a].append(e)
            adjacency[b].append(e)
        }
        var used = Array(repeating: false, count: edges.count)
        var stack = [depot], circuit: [Int] = []
        var cursor = Array(repeating: 0, count: nodes.count)
        while let v = stack.last {
            while cursor[v] < adjacency[v].count && used[adjacency[v][cursor[v]]] { cursor[v] += 1 }
            if cursor[v] == adjacency[v].count {
                circuit.append(stack.removeLast())
            } else {
                let e = adjacency[v][cursor[v]]
                used[e] = true
                stack.append(edges[e].0 == v ? edges[e].1 : edges[e].0)
            }
        }
        guard used.allSatisfy({ $0 }) else { throw RoutingError(description: "the tour is not connected (internal error)") }
        var order: [Int] = [], seen = Set<Int>()
        var stopsAt: [Int: [Int]] = [:]
        for (i, stop) in stops.enumerated() {
            guard let column = p.aisles.firstIndex(where: { $0.x == stop.x }), let n = index[column]?[stop.depth] else {
                throw RoutingError(description: "a stop is not on the tour (internal error)")
            }
            stopsAt[n, default: []].append(i)
        }
        for n in circuit.reversed() where !seen.contains(n) {
            seen.insert(n)
            order.append(contentsOf: stopsAt[n] ?? [])
        }
        guard order.count == stops.count else { throw RoutingError(description: "the tour misses a stop (internal error)") }
        return order
    }
}
