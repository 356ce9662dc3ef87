import FulfillmentCore
import Shared
import Testing

/// The shortest tour by trying every order (the judge for small lists).
func shortestByBruteForce(_ stops: [(x: Int, depth: Int)], aisleLength: Int, depotX: Int, middle: Int?) -> Int {
    var best = Int.max
    var indices = Array(stops.indices)
    func permute(_ k: Int) {
        if k == indices.count {
            best = min(best, PickRouting.lengthInOrder(indices.map { stops[$0] }, aisleLength: aisleLength, depotX: depotX, middle: middle))
            return
        }
        for i in k..<indices.count {
            indices.swapAt(k, i)
            permute(k + 1)
            indices.swapAt(k, i)
        }
    }
    permute(0)
    return best
}

@Suite struct PickRoutingTests {
    /// Ten aisles 30 dm apart, 100 dm long, depot in front of the first.
    let aisles = Array(stride(from: 0, to: 300, by: 30))
    let length = 100

    func bruteForce(_ stops: [(x: Int, depth: Int)], depotX: Int) -> Int {
        shortestByBruteForce(stops, aisleLength: length, depotX: depotX, middle: nil)
    }

    @Test func sShapeOnAFixedLayout() throws {
        // Stops in aisles 0, 2 and 3: traverse 0, cross at the back, traverse 2, cross at the front, go into 3 and back.
        let stops: [(x: Int, depth: Int)] = [(0, 50), (60, 20), (90, 40)]
        let tour = try PickRouting.tour(.sShape, stops: stops, aisleXs: aisles, aisleLength: length, depotX: 0)
        #expect(tour.length == 100 + 60 + 100 + 30 + 80 + 90)
        #expect(tour.order == [0, 1, 2])
    }

    @Test func returnAndMidpointOnAFixedLayout() throws {
        let stops: [(x: Int, depth: Int)] = [(0, 30), (30, 90), (60, 10), (90, 70)]
        let ret = try PickRouting.tour(.returnRoute, stops: stops, aisleXs: aisles, aisleLength: length, depotX: 0)
        #expect(ret.length == 2 * 90 + 2 * (30 + 90 + 10 + 70))
        // Midpoint: traverse 0 and 3 (200), cross front and back (2×90), aisle 1 from the back (2×10), aisle 2 from the front (2×10).
        let mid = try PickRouting.tour(.midpoint, stops: stops, aisleXs: aisles, aisleLength: length, depotX: 0)
        #expect(mid.length == 200 + 180 + 20 + 20)
        let optimal = try PickRouting.tour(.optimal, stops: stops, aisleXs: aisles, aisleLength: length, depotX: 0)
        #expect(optimal.length == bruteForce(stops, depotX: 0))
        #expect(optimal.length <= mid.length)
    }

    @Test func largestGapSplitsAtTheGap() throws {
        // Middle aisle with stops at 10 and 80: the largest gap (10→80) is not crossed, 2×10 + 2×20.
        let stops: [(x: Int, depth: Int)] = [(0, 50), (30, 10), (30, 80), (60, 50)]
        let gap = try PickRouting.tour(.largestGap, stops: stops, aisleXs: aisles, aisleLength: length, depotX: 0)
        #expect(gap.length == 200 + 120 + 20 + 40)
    }

    @Test func optimumEqualsBruteForceAndBeatsEveryHeuristic() throws {
        var random = SplitMix64(seed: 42)
        for round in 0..<300 {
            let count = Int.random(in: 1...8, using: &random)
            let stops: [(x: Int, depth: Int)] = (0..<count).map { _ in
                (aisles.randomElement(using: &random)!, Int.random(in: 0...length, using: &random))
            }
            // Depot in front of an aisle, or between two.
            let depotX = round % 3 == 0 ? 45 : aisles.randomElement(using: &random)!
            let tours = try PickRouting.compare(stops: stops, aisleXs: aisles, aisleLength: length, depotX: depotX)
            let optimal = try #require(tours.first { $0.method == .optimal })
            let brute = bruteForce(stops, depotX: depotX)
            #expect(optimal.length == brute, "round \(round): stops \(stops), depot \(depotX)")
            for tour in tours {
                #expect(optimal.length <= tour.length, "round \(round): \(tour.method) \(tour.length) < optimal \(optimal.length)")
                // Every method's order visits each stop once, and walking it in that order is never longer than its tour.
                #expect(tour.order.sorted() == Array(stops.indices))
                #expect(PickRouting.lengthInOrder(tour.order.map { stops[$0] }, aisleLength: length, depotX: depotX) <= tour.length,
                        "round \(round): \(tour.method)")
            }
        }
    }

    @Test func badLayoutsAreErrorsNotTraps() {
        #expect(throws: PickRouting.RoutingError.self) {
            try PickRouting.tour(.optimal, stops: [(x: 7, depth: 1)], aisleXs: aisles, aisleLength: length, depotX: 0)
        }
        #expect(throws: PickRouting.RoutingError.self) {
            try PickRouting.tour(.optimal, stops: [(x: 0, depth: 101)], aisleXs: aisles, aisleLength: length, depotX: 0)
        }
        #expect((try? PickRouting.tour(.optimal, stops: [], aisleXs: aisles, aisleLength: length, depotX: 0))?.length == 0)
    }
}

@Suite struct TwoBlockRoutingTests {
    let aisles = Array(stride(from: 0, to: 240, by: 30))
    let length = 120, middle = 60

    @Test func exactEqualsBruteForceWithTheMiddleAisleAndBeatsSingleBlockTours() throws {
        var random = SplitMix64(seed: 7)
        for round in 0..<150 {
            let count = Int.random(in: 1...7, using: &random)
            let stops: [(x: Int, depth: Int)] = (0..<count).map { _ in (aisles.randomElement(using: &random)!, Int.random(in: 0...length, using: &random)) }
            let depotX = round % 2 == 0 ? 0 : 45
            let tours = try PickRouting.compareTwoBlock(stops: stops, aisleXs: aisles, aisleLength: length, depotX: depotX, middle: middle)
            let exact = try #require(tours.first { $0.method == .exact })
            #expect(exact.length == shortestByBruteForce(stops, aisleLength: length, depotX: depotX, middle: middle), "round \(round)")
            #expect(tours.first?.length == exact.length, "the exact tour is never beaten")
            #expect(PickRouting.lengthInOrder(exact.order.map { stops[$0] }, aisleLength: length, depotX: depotX, middle: middle) == exact.length)
        }
    }

    @Test func longListsAreImprovedBy2OptNeverWorsened() throws {
        var random = SplitMix64(seed: 11)
        for _ in 0..<20 {
            let stops: [(x: Int, depth: Int)] = (0..<25).map { _ in (aisles.randomElement(using: &random)!, Int.random(in: 0...length, using: &random)) }
            let tours = try PickRouting.compareTwoBlock(stops: stops, aisleXs: aisles, aisleLength: length, depotX: 0, middle: middle)
            let improved = try #require(tours.first { $0.method == .improved })
            let optimalSingleBlock = try #require(tours.first { $0.method == .optimal })
            #expect(improved.length <= PickRouting.lengthInOrder(optimalSingleBlock.order.map { stops[$0] }, aisleLength: length, depotX: 0, middle: middle))
            #expect(improved.order.sorted() == Array(stops.indices))
        }
    }
}
