import Foundation
import Shared
import Testing

/// One stage's fuzz run: hostile events (each must be dead-lettered once, with the class its mutation calls for) and
/// valid ones (each processed), shuffled, through the real worker process and oms-alerting; the same process must
/// still be running at the end.
enum StageFuzz {
    static func run(executable: String, stage: String, hostileShapes: [TopicShape], validShapes: [TopicShape], perTopic: Int, seed: UInt64,
                    extraEnvironment: [String: String] = [:]) throws {
        let rig = try PipelineRig(partitions: 4)
        let worker = try rig.start(executable, name: "fuzz-\(stage)", ["OMS_BATCH_SIZE": "200"].merging(extraEnvironment) { $1 })
        let alerting = try rig.start("oms-alerting", name: "fuzz-\(stage)-alerting")
        let pids = [worker.pid, alerting.pid]
        let hostile = HostileEvents.generate(shapes: hostileShapes, perTopic: perTopic, seed: seed)
            .filter { if case .deadLetter = $0.expectation { return true } else { return false } }
        let valid = HostileEvents.generate(shapes: validShapes, perTopic: perTopic, seed: seed + 1)
            .filter { if case .deadLetter = $0.expectation { return false } else { return true } }
        let toProcess = valid.filter { if case .processed = $0.expectation { return true } else { return false } }
        var all = hostile + valid
        var random = SeededRandom(seed: 13)
        for index in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(index, random.below(index + 1)) }
        for chunk in stride(from: 0, to: all.count, by: 500) {
            try rig.producer.publish(all[chunk..<min(all.count, chunk + 500)].map { OutgoingMessage(topic: $0.topic, key: $0.key, value: $0.payload) })
        }
        var last = (-1, -1), lastChange = Date()
        while Date().timeIntervalSince(lastChange) < 75 {
            let letters = try rig.database.query("SELECT count(*) AS n FROM alerting.dead_letters WHERE stage = \(stage)").first!.decode("n", as: Int.self)
            let processed = try rig.database.query("SELECT count(*) AS n FROM \(unescaped: stage).processed_messages WHERE idempotency_key LIKE 'fz-%'").first!.decode("n", as: Int.self)
            if letters >= hostile.count && processed >= toProcess.count { break }
            if (letters, processed) != last { (last, lastChange) = ((letters, processed), Date()) }
            Thread.sleep(forTimeInterval: 1)
        }
        #expect(worker.isRunning && alerting.isRunning)
        #expect([worker.pid, alerting.pid] == pids)
        var letters: [String: [(errorClass: String, reason: String)]] = [:]
        for row in try rig.database.query("SELECT convert_from(message_key, 'UTF8') AS key, error_class, reason FROM alerting.dead_letters WHERE stage = \(stage)") {
            letters[try row.decode("key"), default: []].append((try row.decode("error_class"), try row.decode("reason")))
        }
        var wrong: [String] = []
        for message in hostile {
            guard case .deadLetter(let classes, let mutation) = message.expectation else { continue }
            let found = letters[message.key] ?? []
            if found.count != 1 || !classes.contains(found[0].errorClass) {
                wrong.append("\(message.key) (\(mutation)): \(found.map { "\($0.errorClass): \($0.reason.prefix(120))" })")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) hostile events not dead-lettered as expected, e.g. \(wrong.prefix(6))")
        #expect(letters.count == hostile.count, "no valid event may be dead-lettered")
        let processed = Set(try rig.database.query("SELECT idempotency_key FROM \(unescaped: stage).processed_messages").map { try $0.decode("idempotency_key", as: String.self) })
        let missing = valid.compactMap { message -> String? in
            guard case .processed(let id) = message.expectation, !processed.contains(id) else { return nil }
            return id
        }
        #expect(missing.isEmpty, "valid events not processed: \(missing.prefix(8))")
        let skippedStored = HostileEvents.skippedButStored(valid, processed: processed)
        #expect(skippedStored.isEmpty, "events for another stage got a dedupe row: \(skippedStored.prefix(8))")
        #expect(worker.terminate(waitSeconds: 15) == 0)
        #expect(alerting.terminate(waitSeconds: 15) == 0)
        }
}
