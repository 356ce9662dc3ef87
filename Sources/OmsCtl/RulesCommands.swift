import ArgumentParser
import Foundation
import RouterCore
import Shared

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check and try out routing rules; the history of the rule files the workers loaded.", subcommands: [Check.self, Simulate.self, History.self])

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Which rule and rate files the workers loaded, when, with which hash and validFrom (newest first).")
        @Option(help: "Only files whose name contains this, e.g. tax.json.") var file: String?
        @Option(help: "Only this stage, e.g. billing.") var stage: String?
        @Option(help: "At most this many rows.") var limit: Int = 100

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            let rows = try database.query("""
                SELECT to_json(loaded_at)#>>'{}' AS at, stage, file, sha256, coalesce(valid_from, '') AS valid_from, loaded_by FROM oms.rule_loads
                WHERE (\(file)::text IS NULL OR strpos(file, \(file)) > 0) AND (\(stage)::text IS NULL OR stage = \(stage))
                ORDER BY id DESC LIMIT \(limit)
                """)
            var count = 0
            for row in rows {
                count += 1
                print("\(try row.decode("at", as: String.self))  \(try row.decode("stage", as: String.self))  \(try row.decode("file", as: String.self))  "
                      + "sha256 \(try row.decode("sha256", as: String.self).prefix(16))…  validFrom \(try row.decode("valid_from", as: String.self))  "
                      + "(\(try row.decode("loaded_by", as: String.self)))")
            }
            if count == 0 { print("no rule files recorded yet (workers record them when they connect)") }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a router.json file (as the Router would on SIGHUP).")
        @Option(help: "The rule file to check.") var rules: String

        func run() throws {
            let loaded = try RouterRules.parse(try Rules.read(rules), path: rules)
            print("\(rules): valid (validFrom \(loaded.validFrom), \(loaded.warehouses.count) warehouses, \(loaded.services.count) carrier services)")
        }
    }

    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay the last N routing decisions against new rules, without touching any state, and show what would change.",
            discussion: """
                Each decision is replayed with the order, the stock and inbound position and the time the Router saw then;
                technician calendars start empty. Nothing is written and nothing is published.
                """)
        @Option(help: "The new router.json to try.") var rules: String
        @Option(help: "How many of the most recent decisions to replay.") var last: Int = 100
        @Flag(help: "Print JSON instead of a table.") var json = false

        func validate() throws {
            guard (1...100_000).contains(last) else { throw ValidationError("--last must be between 1 and 100000, got \(last)") }
        }

        func run() throws {
            let newRules = try RouterRules.parse(try Rules.read(rules), path: rules)
            let database = try CLIEnvironment.database()
            let rows = try CLIError.detailed {
                try database.query("""
                    SELECT id, order_id, to_json(decided_at)#>>'{}' AS decided_at, input::text AS input, plan::text AS plan
                    FROM router.routing_log ORDER BY id DESC LIMIT \(last)
                    """)
            }
            let decoder = RoutingJSON.decoder
            var changes: [(orderID: String, difference: PlanComparison.Difference)] = []
            var replayed = 0
            for row in rows.reversed() {
                let entry = try decoder.decode(RoutingLogEntry.self, from: Data(try row.decode("input", as: String.self).utf8))
                let before = try decoder.decode(RoutingPlan.self, from: Data(try row.decode("plan", as: String.self).utf8))
                var position = entry.position
                var bookings: TechnicianBookings = [:]
                let after = RoutingPlanner.plan(entry.order, stock: &position, bookings: &bookings, rules: newRules, now: entry.now)
                replayed += 1
                for difference in PlanComparison.differences(before, after, timeZone: newRules.timeZone) {
                    changes.append((entry.order.orderID, difference))
                }
            }
            let changedOrders = Set(changes.map(\.orderID)).count
            if json {
                let document: JSONValue = [
                    "replayed": .integer(Int64(replayed)), "changedOrders": .integer(Int64(changedOrders)),
                    "changes": .array(changes.map { ["orderId": .string($0.orderID), "aspect": .string($0.difference.aspect),
                                                     "before": .string($0.difference.before), "after": .string($0.difference.after)] }),
                ]
                print(document.serializedString)
                return
            }
            print("replayed \(replayed) routing decision(s) against \(rules) (validFrom \(newRules.validFrom)): \(changedOrders) would change")
            guard !changes.isEmpty else { return }
            let header = ("ORDER", "ASPECT", "NOW", "WITH NEW RULES")
            let widths = (max(header.0.count, changes.map(\.orderID.count).max() ?? 0),
                          max(header.1.count, changes.map(\.difference.aspect.count).max() ?? 0),
                          min(40, max(header.2.count, changes.map(\.difference.before.count).max() ?? 0)))
            func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
            print("\(pad(header.0, widths.0))  \(pad(header.1, widths.1))  \(pad(header.2, widths.2))  \(header.3)")
            for change in changes {
                print("\(pad(change.orderID, widths.0))  \(pad(change.difference.aspect, widths.1))  \(pad(change.difference.before, widths.2))  \(change.difference.after)")
            }
        }
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read rule file \(path)") }
        return Array(data)
    }
}
