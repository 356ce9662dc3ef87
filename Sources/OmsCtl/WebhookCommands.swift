import ArgumentParser
import Foundation
import Shared

/// `omsctl webhooks …`: what oms-notifier delivered, what it gave up on, and replays.
struct Webhooks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Webhook deliveries of oms-notifier: list, show, replay the dead ones.",
        subcommands: [List.self, Show.self, Replay.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest first (--dead: the per-endpoint dead letters).")
        @Flag(help: "Only deliveries given up after the endpoint's last try.") var dead = false
        @Option(help: "Only this endpoint.") var endpoint: String?
        @Option(help: "At most this many.") var limit: Int = 50

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            let rows = try database.query("""
                SELECT id, endpoint_id, event_type, coalesce(order_id, '') AS order_id, status, attempts, coalesce(last_status, 0) AS last_status,
                       to_json(created_at)#>>'{}' AS created
                FROM notifier.webhook_deliveries
                WHERE (\(dead) = false OR status = 'dead') AND (\(endpoint)::text IS NULL OR endpoint_id = \(endpoint))
                ORDER BY id DESC LIMIT \(limit)
                """)
            var count = 0
            for row in rows {
                count += 1
                print("\(try row.decode("id", as: Int64.self))  \(try row.decode("endpoint_id", as: String.self))  \(try row.decode("event_type", as: String.self))  "
                      + "\(try row.decode("order_id", as: String.self))  \(try row.decode("status", as: String.self))  tries \(try row.decode("attempts", as: Int32.self))  "
                      + "last HTTP \(try row.decode("last_status", as: Int32.self))  \(try row.decode("created", as: String.self))")
            }
            if count == 0 { print(dead ? "no dead webhook deliveries" : "no webhook deliveries") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one delivery: endpoint, event, tries, the last error and the body sent.")
        @Argument(help: "The delivery id (from webhooks list).") var id: Int64

        func run() throws {
            let database = try CLIEnvironment.database()
            guard let row = try database.query("""
                SELECT endpoint_id, event_id, event_type, coalesce(order_id, '') AS order_id, status, attempts, coalesce(last_status, 0) AS last_status,
                       coalesce(last_error, '') AS last_error, to_json(next_attempt_at)#>>'{}' AS next, convert_from(body, 'UTF8') AS body
                FROM notifier.webhook_deliveries WHERE id = \(id)
                """).first else { throw CLIError("no webhook delivery \(id)") }
            print("delivery \(id) to \(try row.decode("endpoint_id", as: String.self)): \(try row.decode("event_type", as: String.self)) \(try row.decode("event_id", as: String.self))"
                  + " (order \(try row.decode("order_id", as: String.self)))")
            print("  status \(try row.decode("status", as: String.self)), tries \(try row.decode("attempts", as: Int32.self)), last HTTP \(try row.decode("last_status", as: Int32.self)), "
                  + "next try \(try row.decode("next", as: String.self))")
            let error: String = try row.decode("last_error")
            if !error.isEmpty { print("  last error: \(error)") }
            print("  body: \(try row.decode("body", as: String.self))")
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send dead deliveries again: one by id, or all of an endpoint.")
        @Argument(help: "The delivery id.") var id: Int64?
        @Option(help: "Every dead delivery of this endpoint.") var endpoint: String?

        func validate() throws {
            guard (id == nil) != (endpoint == nil) else { throw ValidationError("give a delivery id or --endpoint, not both or neither") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            let rows = try database.query("""
                UPDATE notifier.webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
                WHERE status = 'dead' AND (\(id)::bigint IS NULL OR id = \(id)) AND (\(endpoint)::text IS NULL OR endpoint_id = \(endpoint))
                RETURNING id
                """)
            var count = 0
            for _ in rows { count += 1 }
            guard count > 0 else { throw CLIError(id.map { "delivery \($0) is not dead (or does not exist)" } ?? "no dead deliveries for \(endpoint ?? "")") }
            print("\(count) deliver\(count == 1 ? "y" : "ies") queued again; oms-notifier sends \(count == 1 ? "it" : "them") with a fresh signature")
        }
    }
}
