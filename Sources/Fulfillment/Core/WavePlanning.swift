import Foundation

/// The wave rule: released fulfillment orders of one warehouse are picked
/// together when they leave with the same carrier pickup (ship-by) and lie in
/// the same zone, as many as one cart takes (orders, volume, weight). Express
/// orders are picked alone, at once.
public enum WavePlanning {
    public struct Candidate: Sendable, Equatable {
        public let fulfillmentOrderID: String
        public let shipBy: Date?
        public let zone: String
        public let express: Bool
        public let volumeCubicMm: Int64
        public let grams: Int64
        public init(fulfillmentOrderID: String, shipBy: Date?, zone: String, express: Bool, volumeCubicMm: Int64, grams: Int64) {
            self.fulfillmentOrderID = fulfillmentOrderID
            self.shipBy = shipBy
            self.zone = zone
            self.express = express
            self.volumeCubicMm = volumeCubicMm
            self.grams = grams
        }
    }

    public struct Cart: Sendable, Equatable {
        public let maxOrders: Int
        public let maxVolumeCubicMm: Int64
        public let maxGrams: Int64
        public init(maxOrders: Int, maxVolumeCubicMm: Int64, maxGrams: Int64) {
            self.maxOrders = maxOrders
            self.maxVolumeCubicMm = maxVolumeCubicMm
            self.maxGrams = maxGrams
        }
    }

    public struct Wave: Sendable, Equatable {
        public let fulfillmentOrderIDs: [String]
        public let zone: String
        public let shipBy: Date?
        /// Single-order picking (express, or one order bigger than a cart).
        public let single: Bool
    }

    public static func plan(_ candidates: [Candidate], cart: Cart) -> [Wave] {
        var waves: [Wave] = []
        for express in candidates where express.express {
            waves.append(Wave(fulfillmentOrderIDs: [express.fulfillmentOrderID], zone: express.zone, shipBy: express.shipBy, single: true))
        }
        let regular = candidates.filter { !$0.express }
        // Earliest pickup first; within a group the order of arrival.
        var groups: [String: [Candidate]] = [:], keys: [String] = []
        func key(_ c: Candidate) -> String { "\(c.shipBy.map { String($0.timeIntervalSince1970) } ?? "-")|\(c.zone)" }
        for candidate in regular {
            if groups[key(candidate)] == nil { keys.append(key(candidate)) }
            groups[key(candidate), default: []].append(candidate)
        }
        keys.sort { a, b in
            let da = groups[a]?.first?.shipBy ?? .distantFuture, db = groups[b]?.first?.shipBy ?? .distantFuture
            return (da, a) < (db, b)
        }
        for k in keys {
            var open: [(ids: [String], volume: Int64, grams: Int64)] = []
            guard let members = groups[k], let first = members.first else { continue }
            for c in members {
                if c.volumeCubicMm > cart.maxVolumeCubicMm || c.grams > cart.maxGrams {
                    waves.append(Wave(fulfillmentOrderIDs: [c.fulfillmentOrderID], zone: c.zone, shipBy: c.shipBy, single: true))
                    continue
                }
                if let i = open.indices.first(where: { open[$0].ids.count < cart.maxOrders && open[$0].volume + c.volumeCubicMm <= cart.maxVolumeCubicMm
                                                       && open[$0].grams + c.grams <= cart.maxGrams }) {
                    open[i].ids.append(c.fulfillmentOrderID)
                    open[i].volume += c.volumeCubicMm
                    open[i].grams += c.grams
                } else {
                    open.append(([c.fulfillmentOrderID], c.volumeCubicMm, c.grams))
                }
            }
            waves += open.map { Wave(fulfillmentOrderIDs: $0.ids, zone: first.zone, shipBy: first.shipBy, single: $0.ids.count == 1) }
        }
        return waves
    }
}
