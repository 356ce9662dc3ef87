import ArgumentParser
import Foundation
import NotifierCore
import Shared

/// `omsctl kpi`: the KPIs of the orders accepted in a period, from oms-notifier's timeline, plus the dead letters
/// of the period; as text, JSON, or an HTML page with inline SVG charts.
struct KPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpi",
        abstract: "KPIs of the orders accepted in a period: cycle times, on-time shipping, back-orders, cancellations, returns, first-time-right, dead letters.")

    @Option(help: "Start of the period (RFC 3339 or YYYY-MM-DD; default: 30 days ago).") var since: String?
    @Option(help: "End of the period, exclusive (default: now).") var until: String?
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Write an HTML page with charts to this file.") var html: String?

    static func instant(_ text: String, name: String) throws -> Date {
        let value = text.count == 10 ? text + "T00:00:00Z" : text
        let date = EventTime.parse(value)
        guard date != .distantPast else { throw ValidationError("--\(name) must be an RFC 3339 instant or YYYY-MM-DD, not \"\(text.prefix(40))\"") }
        return date
    }

    func validate() throws {
        if let since { _ = try Self.instant(since, name: "since") }
        if let until { _ = try Self.instant(until, name: "until") }
        if let since, let until, try Self.instant(since, name: "since") >= Self.instant(until, name: "until") {
            throw ValidationError("--since must be before --until")
        }
    }

    func run() throws {
        let from = try since.map { try Self.instant($0, name: "since") } ?? Date().addingTimeInterval(-30 * 86_400)
        let to = try until.map { try Self.instant($0, name: "until") } ?? Date()
        let database = try CLIEnvironment.database()
        let rows = try database.query("""
            WITH period AS (
                SELECT DISTINCT order_id FROM notifier.timeline
                WHERE event_type IN ('Order.Accepted', 'Order.OnHold') AND occurred_at >= \(from) AND occurred_at < \(to))
            SELECT t.order_id, t.event_type, t.occurred_at, t.actor, t.stage, t.facts::text AS facts
            FROM notifier.timeline t JOIN period USING (order_id) ORDER BY t.occurred_at, t.id
            """)
        var events: [KPIReport.Event] = []
        for row in rows {
            events.append(KPIReport.Event(orderID: try row.decode("order_id"), type: try row.decode("event_type"), at: try row.decode("occurred_at"),
                                          actor: try row.decode("actor"), stage: try row.decode("stage"),
                                          facts: (try? JSONParser.parse(try row.decode("facts", as: String.self))) ?? .object([:])))
        }
        let report = KPIReport.compute(events)
        var deadLetters: [(String, Int64)] = []
        for row in try database.query("""
            SELECT stage, count(*)::bigint AS n FROM alerting.dead_letters WHERE received_at >= \(from) AND received_at < \(to) GROUP BY stage ORDER BY stage
            """) {
            deadLetters.append((try row.decode("stage"), try row.decode("n")))
        }
        let period = "\(EventTime.format(from)) – \(EventTime.format(to))"
        if let html {
            do { try Data(Self.page(report, deadLetters: deadLetters, period: period).utf8).write(to: URL(fileURLWithPath: html)) } catch {
                throw CLIError("cannot write \(html): \(error.localizedDescription)")
            }
            print("KPI page for \(period) written to \(html)")
            return
        }
        if json {
            func number(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
            print(JSONValue.object([
                "since": .string(EventTime.format(from)), "until": .string(EventTime.format(to)), "orders": .integer(Int64(report.orders)),
                "shippedOrders": .integer(Int64(report.shippedOrders)),
                "createdToShippedHours": ["count": .integer(Int64(report.createdToShipped.count)), "p50": number(report.createdToShipped.p50Hours),
                                          "p90": number(report.createdToShipped.p90Hours)],
                "createdToDeliveredHours": ["count": .integer(Int64(report.createdToDelivered.count)), "p50": number(report.createdToDelivered.p50Hours),
                                            "p90": number(report.createdToDelivered.p90Hours)],
                "onTimeShippingPercent": number(report.onTimeRate), "backorderPercent": number(report.backorderRate),
                "cancellationPercent": number(report.cancellationRate), "cancelledBeforeShipping": .integer(Int64(report.cancelledBeforeShipping)),
                "cancelledAfterShipping": .integer(Int64(report.cancelledAfterShipping)), "returnPercent": number(report.returnRate),
                "returnedUnitsByReason": .object(report.returnedUnitsByReason.mapValues { .integer($0) }),
                "firstTimeRightPercent": number(report.firstTimeRightRate),
                "deadLetters": .object(Dictionary(uniqueKeysWithValues: deadLetters.map { ($0.0, JSONValue.integer($0.1)) })),
            ]).serializedString)
            return
        }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0) } ?? "–" }
        func hours(_ d: KPIReport.Durations) -> String {
            d.count == 0 ? "–" : "p50 \(d.p50Hours.map { String(format: "%.1f", $0) } ?? "–") h, p90 \(d.p90Hours.map { String(format: "%.1f", $0) } ?? "–") h (\(d.count) orders)"
        }
        print("KPIs of the orders accepted \(period)")
        print("  orders                      \(report.orders) (\(report.shippedOrders) shipped)")
        print("  created → shipped           \(hours(report.createdToShipped))")
        print("  created → delivered         \(hours(report.createdToDelivered))")
        print("  shipped by the ship-by      \(percent(report.onTimeRate)) (\(report.shippedOnTime) of \(report.shippedWithDeadline) fulfillment orders)")
        print("  back-ordered                \(percent(report.backorderRate))")
        print("  cancelled                   \(percent(report.cancellationRate)) (\(report.cancelledBeforeShipping) before, \(report.cancelledAfterShipping) after shipping)")
        print("  returned                    \(percent(report.returnRate)) of shipped orders; units by reason: "
              + (report.returnedUnitsByReason.isEmpty ? "none" : report.returnedUnitsByReason.keys.sorted().map { "\($0) \(report.returnedUnitsByReason[$0] ?? 0)" }.joined(separator: ", ")))
        print("  first time right            \(percent(report.firstTimeRightRate)) (no hold, no problem, no person's decision)")
        print("  dead letters                " + (deadLetters.isEmpty ? "none" : deadLetters.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))
    }

    /// A page a person would rather look at: the rates as bars, the cycle times, the returns by reason; inline SVG only.
    static func page(_ report: KPIReport, deadLetters: [(String, Int64)], period: String) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        func bars(_ title: String, _ items: [(String, Double, String)], maximum: Double) -> String {
            let height = 28 * items.count + 10
            var svg = "<figure><figcaption>\(escape(title))</figcaption><svg role=\"img\" aria-label=\"\(escape(title))\" width=\"640\" height=\"\(height)\" viewBox=\"0 0 640 \(height)\">"
            for (index, item) in items.enumerated() {
                let width = maximum > 0 ? Int((item.1 / maximum) * 380) : 0
                let y = 8 + index * 28
                svg += "<text x=\"0\" y=\"\(y + 15)\" font-size=\"13\">\(escape(item.0))</text>"
                svg += "<rect x=\"200\" y=\"\(y)\" width=\"\(max(width, 1))\" height=\"20\" fill=\"#0b4f9c\"/>"
                svg += "<text x=\"\(206 + width)\" y=\"\(y + 15)\" font-size=\"13\">\(escape(item.2))</text>"
            }
            return svg + "</svg></figure>"
        }
        func rate(_ name: String, _ value: Double?) -> (String, Double, String) { (name, value ?? 0, value.map { String(format: "%.1f %%", $0) } ?? "–") }
        let rates = bars("Rates (per cent of the period's orders; on time per shipped fulfillment order with a ship-by)", [
            rate("shipped on time", report.onTimeRate), rate("first time right", report.firstTimeRightRate), rate("back-ordered", report.backorderRate),
            rate("cancelled", report.cancellationRate), rate("returned (of shipped)", report.returnRate),
        ], maximum: 100)
        let times = bars("Cycle times (hours)", [
            ("created → shipped p50", report.createdToShipped.p50Hours ?? 0, report.createdToShipped.p50Hours.map { "\($0) h" } ?? "–"),
            ("created → shipped p90", report.createdToShipped.p90Hours ?? 0, report.createdToShipped.p90Hours.map { "\($0) h" } ?? "–"),
            ("created → delivered p50", report.createdToDelivered.p50Hours ?? 0, report.createdToDelivered.p50Hours.map { "\($0) h" } ?? "–"),
            ("created → delivered p90", report.createdToDelivered.p90Hours ?? 0, report.createdToDelivered.p90Hours.map { "\($0) h" } ?? "–"),
        ], maximum: max(report.createdToDelivered.p90Hours ?? 0, report.createdToShipped.p90Hours ?? 0, 1))
        let reasons = report.returnedUnitsByReason.sorted { $0.value > $1.value }
        let returns = reasons.isEmpty ? "<p>No returns.</p>" : bars("Returned units by reason", reasons.map { ($0.key, Double($0.value), "\($0.value)") },
                                                                       maximum: Double(reasons.first?.value ?? 1))
        let letters = deadLetters.isEmpty ? "<p>No dead letters.</p>"
            : "<table><caption>Dead letters</caption><tr><th scope=\"col\">stage</th><th scope=\"col\">count</th></tr>"
            + deadLetters.map { "<tr><td>\(escape($0.0))</td><td>\($0.1)</td></tr>" }.joined() + "</table>"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>OMS KPIs \(escape(period))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;color:#1a1a1a}figure{margin:1.5rem 0}figcaption{font-weight:600}td,th{padding:.2rem 1rem;text-align:left}</style>
            </head><body><main>
            <h1>KPIs</h1><p>Orders accepted \(escape(period)): <strong>\(report.orders)</strong>, shipped \(report.shippedOrders).</p>
            \(rates)
            \(times)
            \(returns)
            \(letters)
            </main></body></html>
            """
    }
}
