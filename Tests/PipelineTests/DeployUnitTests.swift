import Foundation
import Testing

/// The systemd units in deploy/systemd: one per worker, hardened, grouped by oms.target, and valid for
/// `systemd-analyze verify` (Debian's systemd) with ExecStart pointed at the binaries this build made.
@Suite("systemd units")
struct DeployUnitTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/systemd").path

    @Test("every worker has a unit with Type=notify, watchdog, restart, a service user and the hardening options; all verify")
    func units() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).sorted()
        for worker in ["oms-capture", "oms-router", "oms-fulfillment", "oms-print-agent", "oms-billing", "oms-returns", "oms-notifier", "oms-ingest", "oms-alerting"] {
            #expect(files.contains("\(worker).service"), "no unit for \(worker)")
        }
        let target = try String(contentsOfFile: Self.directory + "/oms.target", encoding: .utf8)
        let scratch = NSTemporaryDirectory() + "oms-units-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        var verified: [String] = []
        var ports: [String: String] = [:]
        for file in files where file.hasSuffix(".service") {
            let text = try String(contentsOfFile: Self.directory + "/" + file, encoding: .utf8)
            for setting in ["Type=notify", "WatchdogSec=", "Restart=on-failure", "EnvironmentFile=/etc/oms/oms.env", "User=oms", "NoNewPrivileges=yes",
                            "ProtectSystem=strict", "PrivateTmp=yes", "PartOf=oms.target", "WantedBy=oms.target", "KillSignal=SIGTERM"] {
                #expect(text.contains(setting), "\(file) lacks \(setting)")
            }
            #expect(target.contains(file), "oms.target does not want \(file)")
            if let port = text.split(separator: "\n").first(where: { $0.hasPrefix("Environment=OMS_HTTP_PORT=") }).map(String.init) {
                #expect(ports[port] == nil, "\(file) and \(ports[port] ?? "") share \(port)")
                ports[port] = file
            }
            // The binary this build made stands in for /usr/local/bin (verify checks that ExecStart is executable).
            let binary = try TestEnvironment.binDirectory + "/" + (text.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }
                .flatMap { $0.split(separator: "/").last.map { String($0.split(separator: " ").first ?? "") } } ?? "")
            let absolute = binary.hasPrefix("/") ? binary : FileManager.default.currentDirectoryPath + "/" + binary
            let local = text.replacingOccurrences(of: "/usr/local/bin/", with: (absolute as NSString).deletingLastPathComponent + "/")
            try local.write(toFile: scratch + "/" + file, atomically: true, encoding: .utf8)
            verified.append(scratch + "/" + file)
        }
        try target.write(toFile: scratch + "/oms.target", atomically: true, encoding: .utf8)
        let run = try runProgram("/usr/bin/systemd-analyze", ["verify", "--man=no"] + verified + [scratch + "/oms.target"])
        #expect(run.status == 0 && run.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(run.output)")
        #expect(verified.count >= 9)
    }
}
