import Foundation
import Shared
import Testing

/// The print agent against a local TCP listener standing in for the printer: down, slow, up again;
/// a printer that never comes back; a job a crash left half-sent.
@Suite("Print agent", .serialized)
struct PrintAgentTests {
    static let stub = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/printer_stub.py").path
    static let python = ProcessInfo.processInfo.environment["OMS_TEST_PYTHON"] ?? "/usr/bin/python3"

    static func printRequest(job: String, sscc: String, printer: String, eventID: String = UUID().uuidString.lowercased()) -> OutgoingMessage {
        let zpl = "^XA^CI28^FO50,50^A0N,40,40^FH^FDLabel \(job)^FS^FO60,620^BY3^BCN,300,N,N,N^FD>;>800\(sscc)^FS^XZ\n"
        let event = CloudEvent(id: eventID, source: "oms/fulfillment", type: "Label.PrintRequested", subject: "ORD-P", time: EventTime.format(Date()),
                               data: ["jobId": .string(job), "printerId": .string(printer), "sscc": .string(sscc), "format": "zpl", "zpl": .string(zpl)])
        return OutgoingMessage(topic: Topic.omsLabels, key: "ORD-P", value: event.serialized())
    }

    static func printed(_ file: String) -> [String] {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            guard let hex = (try? JSONParser.parse(Array(line.utf8)))?["bytes"]?.stringValue else { return nil }
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), let byte = UInt8(hex[index..<next], radix: 16) {
                bytes.append(byte)
                index = next
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    @Test("printer down, then slow, then up: printed once; never reachable: dead letter; interrupted job: alerted, not resent")
    func printing() throws {
        let rig = try PipelineRig(partitions: 2)
        let (broker, database, producer) = (rig.broker, rig.database, rig.producer)
        let port = try TestPostgresCluster.freePort(), deadPort = try TestPostgresCluster.freePort()
        let config = try TestEnvironment.configCopy("fulfillment.json", replacing: [
            ("\"port\": 9100", "\"port\": \(port)"), ("\"port\": 9101", "\"port\": \(deadPort)"),
        ])
        let settings = ["OMS_CONFIG_DIR": config, "OMS_PRINT_ATTEMPTS": "8", "OMS_PRINT_RETRY_BASE_MS": "100", "OMS_PRINT_RETRY_MAX_MS": "1000",
                        "OMS_PRINT_TIMEOUT_MS": "2000"]
        var agent = try ManagedProcess.worker("oms-fulfillment", arguments: ["print-agent"], environment: rig.environment(settings), name: "print-agent")
        let dlq = try TopicReader(broker: broker, topic: Topic.omsDLQ)
        let output = NSTemporaryDirectory() + "oms-printer-\(UUID().uuidString.prefix(8)).jsonl"

        let request = Self.printRequest(job: "LABEL-1", sscc: "340123450000000019", printer: "zebra-a1")
        try producer.publish([request])
        try eventually(timeout: 30, "the job tried while the printer is off") {
            (try database.query("SELECT attempts FROM printing.print_jobs WHERE job_id = 'LABEL-1' AND status = 'queued'").first?
                .decode("attempts", as: Int.self) ?? 0) >= 2
        }
        // The printer comes up, slow to read.
        let printer = try ManagedProcess(executable: Self.python, arguments: [Self.stub, String(port), output, "--delay", "0.5"],
                                         environment: ProcessInfo.processInfo.environment, name: "printer-stub")
        defer { printer.kill9() }
        try eventually(timeout: 30, "the label printed") {
            try database.query("SELECT status FROM printing.print_jobs WHERE job_id = 'LABEL-1'").first?.decode("status", as: String.self) == "printed"
        }
        try eventually(timeout: 10, "the printer received it") { Self.printed(output).count == 1 }
        #expect(Self.printed(output).first?.contains(">;>800340123450000000019") == true)

        // The same event again, and a new event for the same job: nothing prints twice.
        try producer.publish([request, Self.printRequest(job: "LABEL-1", sscc: "340123450000000019", printer: "zebra-a1")])
        // A printer that never answers: after the last try a dead letter.
        try producer.publish([Self.printRequest(job: "LABEL-2", sscc: "340123450000000026", printer: "zebra-b1")])
        try eventually(timeout: 40, "the unreachable printer's job failed") {
            try database.query("SELECT status FROM printing.print_jobs WHERE job_id = 'LABEL-2'").first?.decode("status", as: String.self) == "failed"
        }
        let failed = try dlq.read(atLeast: 1, timeout: 20).map { try JSONParser.parse($0.value) }
        #expect(failed.first?["jobId"]?.stringValue == "LABEL-2")
        #expect(dlq.messages.first?.headers.contains { $0.0 == DeadLetterHeader.errorClass && $0.1 == Array("printer-unreachable".utf8) } == true)
        #expect(Self.printed(output).count == 1)

        // A crash while sending leaves the job "sending": after a restart it is alerted, never sent again.
        _ = agent.terminate(waitSeconds: 5)
        try database.query("""
            INSERT INTO printing.print_jobs (job_id, sscc, printer_id, zpl, status, attempts) VALUES ('LABEL-3', '340123450000000033', 'zebra-a1', '^XA^XZ', 'sending', 1)
            """)
        agent = try ManagedProcess.worker("oms-fulfillment", arguments: ["print-agent"], environment: rig.environment(settings), name: "print-agent-2")
        defer { _ = agent.terminate(waitSeconds: 5) }
        let alerts = try dlq.read(atLeast: 2, timeout: 30).map { try JSONParser.parse($0.value) }
        #expect(alerts.contains { $0["jobId"]?.stringValue == "LABEL-3" && $0["status"]?.stringValue == "interrupted" })
        Thread.sleep(forTimeInterval: 1)
        #expect(Self.printed(output).count == 1, "the interrupted job was not sent again")
        #expect(try database.query("SELECT status FROM printing.print_jobs WHERE job_id = 'LABEL-3'").first!.decode("status", as: String.self) == "interrupted")
    }
}
