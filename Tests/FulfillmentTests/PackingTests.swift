import FulfillmentCore
import Testing

@Suite struct PackingTests {
    typealias D = Packing.Dimensions
    let limits = Packing.CarrierLimits(maxWeightGrams: 31_500, maxLengthMm: 1_200, maxLengthPlusGirthMm: 3_000)
    let cartons = [
        Packing.Carton(id: "S", inner: D(250, 175, 100), tareGrams: 150, maxLoadGrams: 10_000, cost: 40),
        Packing.Carton(id: "M", inner: D(400, 300, 200), tareGrams: 350, maxLoadGrams: 20_000, cost: 80),
        Packing.Carton(id: "LONG", inner: D(900, 400, 300), tareGrams: 900, maxLoadGrams: 30_000, cost: 150),
        Packing.Carton(id: "L", inner: D(600, 400, 400), tareGrams: 700, maxLoadGrams: 30_000, cost: 160),
    ]

    func item(_ sku: String, _ d: D?, _ grams: Int?, bulky: Bool = false, dg: String? = nil) -> Packing.Item {
        Packing.Item(lineID: sku, sku: sku, dimensions: d, weightGrams: grams, bulky: bulky, dangerousGoodsClass: dg)
    }

    /// Placements inside the carton and free of overlaps: checked here, not taken on trust.
    func assertGeometry(_ parcel: Packing.Parcel) {
        guard let inner = parcel.carton?.inner else { return }
        for p in parcel.placements {
            #expect(p.x >= 0 && p.y >= 0 && p.z >= 0)
            #expect(p.x + p.size.length <= inner.length && p.y + p.size.width <= inner.width && p.z + p.size.height <= inner.height)
        }
        for (i, a) in parcel.placements.enumerated() {
            for b in parcel.placements[(i + 1)...] {
                let apart = a.x + a.size.length <= b.x || b.x + b.size.length <= a.x || a.y + a.size.width <= b.y
                    || b.y + b.size.width <= a.y || a.z + a.size.height <= b.z || b.z + b.size.height <= a.z
                #expect(apart, "items \(a.item) and \(b.item) overlap")
            }
        }
    }

    @Test func oneItemGoesInTheCheapestCartonThatTakesIt() {
        let result = Packing.pack([item("A", D(200, 150, 80), 500)], cartons: cartons, limits: limits)
        #expect(result.problems.isEmpty)
        #expect(result.parcels.map { $0.carton?.id } == ["S"])
        #expect(result.parcels.first?.grossGrams == 650)
    }

    @Test func manySmallItemsShareOneCarton() {
        let items = (0..<12).map { item("S\($0)", D(100, 80, 50), 200) }
        let result = Packing.pack(items, cartons: cartons, limits: limits)
        #expect(result.parcels.count == 1)
        #expect(result.parcels.first?.items.count == 12)
        result.parcels.forEach(assertGeometry)
    }

    @Test func threeBlocksFitTheLongCartonTurnedOnTheirSide() {
        // 40×30×30 cm three times: only with each block turned (30 along the carton's 90) do all fit in 90×40×30.
        let only = [Packing.Carton(id: "LONG", inner: D(900, 400, 300), tareGrams: 900, maxLoadGrams: 30_000, cost: 150)]
        let result = Packing.pack((0..<3).map { item("B\($0)", D(400, 300, 300), 2_000) }, cartons: only, limits: limits)
        #expect(result.problems.isEmpty)
        #expect(result.parcels.count == 1)
        #expect(result.parcels.first?.carton?.id == "LONG")
        result.parcels.forEach(assertGeometry)
        #expect(Packing.fits([D(400, 300, 300), D(400, 300, 300), D(400, 300, 300)], in: D(900, 400, 300)) != nil)
        #expect(Packing.fits([D(400, 300, 300), D(400, 300, 300), D(400, 300, 300)], in: D(890, 400, 300)) == nil)
    }

    @Test func anItemTooBigForEveryCartonIsAProblemNotACrash() {
        let result = Packing.pack([item("SOFA", D(2_000, 900, 800), 40_000), item("A", D(100, 100, 100), 100)], cartons: cartons, limits: limits)
        #expect(result.parcels.isEmpty)
        #expect(result.problems.map(\.code) == ["no-carton"])
        #expect(result.problems.first?.message.contains("SOFA") == true)
    }

    @Test func missingDimensionsAreAProblemNeverAGuess() {
        let result = Packing.pack([item("X", nil, 100), item("Y", D(10, 10, 10), nil)], cartons: cartons, limits: limits)
        #expect(result.problems.map(\.code) == ["missing-dimensions", "missing-weight"])
        #expect(result.parcels.isEmpty)
    }

    @Test func weightSplitsAtTheCarrierLimit() {
        // Four 10 kg items: 3 × 10 kg + tare stays under 31.5 kg, the fourth needs a second parcel.
        let result = Packing.pack((0..<4).map { item("W\($0)", D(200, 150, 100), 10_000) }, cartons: cartons, limits: limits)
        #expect(result.problems.isEmpty)
        #expect(result.parcels.count == 2)
        #expect(result.parcels.allSatisfy { $0.grossGrams <= 31_500 })
        #expect(result.parcels.map(\.items.count).sorted() == [2, 2] || result.parcels.map(\.items.count).sorted() == [1, 3])
        result.parcels.forEach(assertGeometry)
    }

    @Test func bulkyTravelsAloneAndDangerousGoodsApart() {
        let result = Packing.pack([
            item("TENT", D(700, 350, 350), 8_000, bulky: true), item("SOCKS", D(100, 80, 50), 100),
            item("GAS", D(100, 100, 150), 400, dg: "2.1"), item("MUG", D(100, 100, 100), 300),
        ], cartons: cartons, limits: limits)
        #expect(result.problems.isEmpty)
        #expect(result.parcels.count == 3)
        let bulky = result.parcels.first { $0.items == [0] }
        #expect(bulky?.carton == nil, "a tent that no carton takes travels in its own packaging")
        let dg = result.parcels.first { $0.dangerousGoodsClass == "2.1" }
        #expect(dg?.items == [2])
        #expect(result.parcels.first { $0.items.sorted() == [1, 3] } != nil)
    }

    @Test func absurdQuantitiesAreAProblem() {
        let items = (0..<(Packing.maximumUnits + 1)).map { item("N\($0)", D(10, 10, 10), 1) }
        #expect(Packing.pack(items, cartons: cartons, limits: limits).problems.map(\.code) == ["too-many-units"])
    }
}
