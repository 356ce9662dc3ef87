import ArgumentParser
import Foundation
import Shared

struct DLQ: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect and re-drive dead letters (as stored by oms-alerting).",
        subcommands: [List.self, Show.self, Replay.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, newest first.")
        @Option(help: "Only this stage (e.g. capture).") var stage: String?
        @Option(help: "At most this many.") var limit: Int = 50
        @Flag(help: "Print JSON lines.") var json = false

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            let rows = try database.query("""
                SELECT id, stage, error_class, reason, original_topic, original_partition, original_offset,
                       coalesce(original_event_id, '') AS event_id, to_json(received_at)#>>'{}' AS received_at, replay_count
                FROM alerting.dead_letters
                WHERE \(stage)::text IS NULL OR stage = \(stage)::text
                ORDER BY id DESC LIMIT \(limit)
                """)
            if rows.count == 0 && !json { print("no dead letters") }
            for row in rows {
                if json {
                    let value: JSONValue = [
                        "id": .integer(try row.decode("id")), "stage": .string(try row.decode("stage")),
                        "errorClass": .string(try row.decode("error_class")), "reason": .string(try row.decode("reason")),
                        "topic": .string(try row.decode("original_topic")), "partition": .integer(try row.decode("original_partition")),
                        "offset": .integer(try row.decode("original_offset")), "eventId": .string(try row.decode("event_id")),
                        "receivedAt": .string(try row.decode("received_at")), "replayCount": .integer(try row.decode("replay_count")),
                    ]
                    print(value.serializedString)
                } else {
                    let reason: String = try row.decode("reason")
                    print("#\(try row.decode("id", as: Int64.self))  \(try row.decode("received_at", as: String.self))  \(try row.decode("stage", as: String.self))/\(try row.decode("error_class", as: String.self))  \(try row.decode("original_topic", as: String.self))[\(try row.decode("original_partition", as: Int.self))]@\(try row.decode("original_offset", as: Int64.self))  \(reason.prefix(160))")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dead letter with its original message.")
        @Argument(help: "Dead letter id (from dlq list).") var id: Int64

        func run() throws {
            let database = try CLIEnvironment.database()
            guard let row = try database.query("""
                SELECT id, dlq_id, stage, error_class, reason, attempts, original_topic, original_partition, original_offset,
                       original_event_id, convert_from(message_key, 'UTF8') AS message_key, payload,
                       to_json(received_at)#>>'{}' AS received_at, to_json(replayed_at)#>>'{}' AS replayed_at, replay_count
                FROM alerting.dead_letters WHERE id = \(id)
                """).first else {
                throw CLIError("no dead letter with id \(id)")
            }
            print("Dead letter #\(id)")
            print("  stage        \(try row.decode("stage", as: String.self))")
            print("  error class  \(try row.decode("error_class", as: String.self))")
            print("  reason       \(try row.decode("reason", as: String.self))")
            print("  attempts     \(try row.decode("attempts", as: Int.self))")
            print("  original     \(try row.decode("original_topic", as: String.self)) partition \(try row.decode("original_partition", as: Int.self)) offset \(try row.decode("original_offset", as: Int64.self))")
            print("  event id     \(try row.decodeIfPresent("original_event_id", as: String.self) ?? "(none readable)")")
            print("  key          \(try row.decodeIfPresent("message_key", as: String.self) ?? "(none)")")
            print("  received     \(try row.decode("received_at", as: String.self))")
            print("  replayed     \(try row.decodeIfPresent("replayed_at", as: String.self) ?? "never") (\(try row.decode("replay_count", as: Int.self)) times)")
            let payload = try row.decode("payload", as: Data.self)
            print("Message (\(payload.count) bytes)")
            let text = String(decoding: payload.prefix(8_192), as: UTF8.self)
            print(text + (payload.count > 8_192 ? "\n… (\(payload.count - 8_192) more bytes)" : ""))
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-publish a dead letter's original message to its original topic (after the cause was fixed).")
        @Argument(help: "Dead letter id (from dlq list).") var id: Int64

        func run() throws {
            let database = try CLIEnvironment.database()
            guard let row = try database.query("""
                SELECT original_topic, message_key, payload, replayable, reason FROM alerting.dead_letters WHERE id = \(id)
                """).first else {
                throw CLIError("no dead letter with id \(id)")
            }
            guard try row.decode("replayable", as: Bool.self) else {
                throw CLIError("dead letter #\(id) was raised by a deadline and holds a record, not an original message; nothing to replay (\(try row.decode("reason", as: String.self)))")
            }
            let topic: String = try row.decode("original_topic")
            let configuration = try CLIEnvironment.kafka()
            let message = OutgoingMessage(
                topic: topic, key: try row.decodeIfPresent("message_key", as: Data.self).map { Array($0) },
                value: Array(try row.decode("payload", as: Data.self)),
                headers: [("oms-replayed-from-dlq", Array(String(id).utf8))])
            try CLIError.detailed {
                try KafkaProducer(configuration: configuration, logger: CLIEnvironment.logger).publish([message])
            }
            try database.query("""
                UPDATE alerting.dead_letters SET replayed_at = now(), replay_count = replay_count + 1 WHERE id = \(id)
                """)
            print("replayed dead letter #\(id) to \(topic)")
        }
    }
}
