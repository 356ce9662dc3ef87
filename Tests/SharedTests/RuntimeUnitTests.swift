import Foundation
import Shared
import Testing

@Suite("Backoff, error classification, settings, event ids")
struct RuntimeUnitTests {
    @Test("full jitter stays within [0, min(cap, base·2ⁿ⁻¹)]")
    func backoffBounds() {
        let backoff = Backoff(baseMillis: 100, capMillis: 5_000)
        #expect(backoff.ceilingMillis(attempt: 1) == 100)
        #expect(backoff.ceilingMillis(attempt: 2) == 200)
        #expect(backoff.ceilingMillis(attempt: 6) == 3_200)
        #expect(backoff.ceilingMillis(attempt: 7) == 5_000)
        #expect(backoff.ceilingMillis(attempt: 1_000) == 5_000)
        var generator = SystemRandomNumberGenerator()
        var seen = Set<Int>()
        for attempt in 1...40 {
            for _ in 0..<50 {
                let delay = backoff.delayMillis(attempt: attempt, using: &generator)
                #expect(delay >= 0 && delay <= backoff.ceilingMillis(attempt: attempt))
                seen.insert(delay)
            }
        }
        #expect(seen.count > 100, "jitter must spread the delays")
    }

    @Test("SQLSTATEs: transient vs permanent", arguments: [
        ("40001", true), ("40P01", true), ("08006", true), ("08001", true), ("57P01", true), ("53300", true),
        ("23505", false), ("23514", false), ("42P01", false), ("22P02", false), ("42601", false),
    ])
    func sqlStateClassification(state: String, transient: Bool) {
        #expect(PostgresError.isTransient(sqlState: state) == transient)
        #expect(PostgresError(kind: .server, sqlState: state, serverMessage: "m").isTransient == transient)
    }

    @Test("connection loss is transient; a bad bind is not")
    func errorKinds() {
        #expect(PostgresError(kind: .connection, serverMessage: "gone").isTransient)
        #expect(!PostgresError(kind: .invalidBind, serverMessage: "nul").isTransient)
    }

    @Test("error descriptions carry no data; debugDescription does")
    func errorDescriptions() {
        let error = PostgresError(kind: .server, sqlState: "23505", serverMessage: "Key (email)=(anna@example.org) exists",
                                  statement: "INSERT …")
        #expect(!error.description.contains("anna@example.org"))
        #expect(error.debugDescription.contains("anna@example.org"))
    }

    @Test("Kafka errors: broker outages are transient")
    func kafkaClassification() {
        #expect(KafkaError(code: KafkaError.allBrokersDown, name: "_ALL_BROKERS_DOWN", message: "", isRetriable: false).isTransient)
        #expect(!KafkaError(code: KafkaError.messageSizeTooLarge, name: "MSG_SIZE_TOO_LARGE", message: "", isRetriable: false).isTransient)
    }

    @Test("missing and malformed settings are named")
    func settings() {
        #expect(throws: ConfigurationError.self) { try WorkerSettings(environment: [:]) }
        do {
            _ = try WorkerSettings(environment: ["OMS_KAFKA_BROKERS": "x:1"])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "configuration error: OMS_DATABASE_URL: is not set")
        }
        let base = ["OMS_KAFKA_BROKERS": "x:1", "OMS_DATABASE_URL": "postgresql://a@b/c"]
        for (name, value) in [("OMS_HTTP_PORT", "99999"), ("OMS_LOG_LEVEL", "loud"), ("OMS_BATCH_SIZE", "0")] {
            do {
                _ = try WorkerSettings(environment: base.merging([name: value]) { $1 })
                Issue.record("expected an error for \(name)")
            } catch {
                #expect(error.setting == name)
            }
        }
        let settings = try? WorkerSettings(environment: base.merging(["OMS_KAFKA_SESSION_TIMEOUT_MS": "6000"]) { $1 })
        #expect(settings?.kafkaOverrides == ["session.timeout.ms": "6000"])
    }

    @Test("the broker wait after SIGTERM stays below the shutdown deadline")
    func shutdownBrokerWait() throws {
        let base = ["OMS_KAFKA_BROKERS": "x:1", "OMS_DATABASE_URL": "postgresql://a@b/c"]
        #expect(try WorkerSettings(environment: base).shutdownBrokerWaitSeconds == 5)
        #expect(try WorkerSettings(environment: base.merging(["OMS_SHUTDOWN_TIMEOUT_SECONDS": "3"]) { $1 }).shutdownBrokerWaitSeconds == 2)
        #expect(try WorkerSettings(environment: base.merging(["OMS_SHUTDOWN_BROKER_WAIT_SECONDS": "0"]) { $1 }).shutdownBrokerWaitSeconds == 0)
        do {
            _ = try WorkerSettings(environment: base.merging(["OMS_SHUTDOWN_TIMEOUT_SECONDS": "10", "OMS_SHUTDOWN_BROKER_WAIT_SECONDS": "10"]) { $1 })
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "configuration error: OMS_SHUTDOWN_BROKER_WAIT_SECONDS: 10 must be below OMS_SHUTDOWN_TIMEOUT_SECONDS (10)")
        }
    }

    @Test("a stop signal tells how long ago it was requested")
    func stopSignalAge() {
        let stop = StopSignal()
        #expect(!stop.requestedLongerAgo(thanSeconds: 0))
        stop.request()
        Thread.sleep(forTimeInterval: 0.05)
        #expect(stop.requestedLongerAgo(thanSeconds: 0))
        #expect(!stop.requestedLongerAgo(thanSeconds: 5))
    }

    @Test("derived event ids are stable, distinct and valid UUIDs")
    func eventIDs() {
        let a = EventID.output(of: "in-1", stage: "capture", index: 0)
        #expect(a == EventID.output(of: "in-1", stage: "capture", index: 0))
        #expect(a != EventID.output(of: "in-1", stage: "capture", index: 1))
        #expect(a != EventID.output(of: "in-2", stage: "capture", index: 0))
        #expect(a != EventID.output(of: "in-1", stage: "router", index: 0))
        #expect(UUID(uuidString: a) != nil)
    }

    @Test("array literals escape quotes, backslashes and NULL")
    func arrayLiterals() {
        let values: [String?] = ["plain", "with \"quote\"", "back\\slash", nil, "{brace},comma"]
        #expect(values.postgresText == #"{"plain","with \"quote\"","back\\slash",NULL,"{brace},comma"}"#)
    }

    @Test("interpolated values become bind parameters, never SQL text")
    func interpolation() {
        let name = "Robert'); DROP TABLE orders;--"
        let query: PostgresQuery = "SELECT * FROM t WHERE name = \(name) AND n = \(42)"
        #expect(query.sql == "SELECT * FROM t WHERE name = $1 AND n = $2")
        #expect(query.binds == [name, "42"])
    }
}
