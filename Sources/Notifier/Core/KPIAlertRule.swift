import Foundation
import Shared

/// `$OMS_CONFIG_DIR/kpi.json`: how the notifier watches the KPIs — the window, how often, and the bounds whose breach
/// is an alert for operations.
public struct KPIRules: VersionedRules, Sendable {
    public enum KPI: String, Sendable, CaseIterable {
        case onTimeShipping = "on-time-shipping", firstTimeRight = "first-time-right", backorderRate = "backorder-rate"
        case cancellationRate = "cancellation-rate", returnRate = "return-rate"

        /// The KPI's value in a report (percent), nil without data.
        public func value(in report: KPIReport) -> Double? {
            switch self {
            case .onTimeShipping: return report.onTimeRate
            case .firstTimeRight: return report.firstTimeRightRate
            case .backorderRate: return report.backorderRate
            case .cancellationRate: return report.cancellationRate
            case .returnRate: return report.returnRate
            }
        }
    }

    public struct Threshold: Sendable, Equatable {
        public let kpi: KPI
        public let minimumPercent: Int?
        public let maximumPercent: Int?
    }

    public let validFrom: String
    public let windowHours: Int
    public let evaluateEverySeconds: Int
    public let alertEveryHours: Int
    public let minimumOrders: Int
    public let thresholds: [Threshold]

    public static func load(directory: String) throws -> RuleVersions<KPIRules> {
        try RuleVersions.load("kpi", directory: directory) { try parse($0) }
    }

    public static func parse(_ document: JSONValue) throws -> KPIRules {
        let root = RuleReader(document, path: "")
        var thresholds: [Threshold] = []
        for (i, value) in (root.optional("thresholds")?.arrayValue ?? []).enumerated() {
            let r = RuleReader(value, path: "thresholds[\(i)]")
            let name = try r.string("kpi")
            guard let kpi = KPI(rawValue: name) else {
                throw RuleFileProblem(path: r.pathOf("kpi"), key: "kpi", problem: "must be one of \(KPI.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let minimum = r.optional("minimumPercent") == nil ? nil : try r.integer("minimumPercent", minimum: 0)
            let maximum = r.optional("maximumPercent") == nil ? nil : try r.integer("maximumPercent", minimum: 0)
            guard minimum != nil || maximum != nil, (minimum ?? 0) <= 100, (maximum ?? 0) <= 100 else {
                throw RuleFileProblem(path: r.pathOf("kpi"), key: "kpi", problem: "needs minimumPercent and/or maximumPercent, each 0–100")
            }
            thresholds.append(Threshold(kpi: kpi, minimumPercent: minimum, maximumPercent: maximum))
        }
        func bounded(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
            let value = try root.integer(key, minimum: range.lowerBound)
            guard value <= range.upperBound else { throw RuleFileProblem(path: root.pathOf(key), key: key, problem: "must be at most \(range.upperBound)") }
            return value
        }
        return KPIRules(validFrom: try root.string("validFrom"), windowHours: try bounded("windowHours", 1...2_160),
                        evaluateEverySeconds: try bounded("evaluateEverySeconds", 1...86_400), alertEveryHours: try bounded("alertEveryHours", 1...720),
                        minimumOrders: try bounded("minimumOrders", 0...10_000_000), thresholds: thresholds)
    }
}

/// The KPI alert rule: which KPIs of a report are out of their bounds. Values in, breaches out.
public enum KPIAlertRule {
    public struct Breach: Sendable, Equatable {
        public let kpi: KPIRules.KPI
        public let value: Double
        public let message: String
    }

    public static func breaches(_ report: KPIReport, rules: KPIRules) -> [Breach] {
        guard report.orders >= rules.minimumOrders else { return [] }
        return rules.thresholds.compactMap { threshold in
            guard let value = threshold.kpi.value(in: report) else { return nil }
            let window = "over the orders of the last \(rules.windowHours) h"
            if let minimum = threshold.minimumPercent, value < Double(minimum) {
                return Breach(kpi: threshold.kpi, value: value, message: "\(threshold.kpi.rawValue) is \(value) %, below its minimum of \(minimum) % \(window)")
            }
            if let maximum = threshold.maximumPercent, value > Double(maximum) {
                return Breach(kpi: threshold.kpi, value: value, message: "\(threshold.kpi.rawValue) is \(value) %, above its maximum of \(maximum) % \(window)")
            }
            return nil
        }
    }
}
