import Foundation
import Shared

/// A PostgreSQL cluster of one test's own, for tests that stop the server.
final class TestPostgresCluster {
    let directory: String
    let port: Int
    let binDirectory = "/usr/lib/postgresql/15/bin"
    var adminURL: String { "postgresql://oms@127.0.0.1:\(port)/postgres" }

    init() throws {
        directory = "/tmp/oms-test-pg-\(UUID().uuidString.prefix(8))"
        port = try Self.freePort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try run("/bin/chown", ["postgres:postgres", directory]) }
        try asPostgres(binDirectory + "/initdb", ["-D", directory + "/data", "-U", "oms", "--auth=trust", "-E", "UTF8"])
        let config = """
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(directory)'
            fsync = on
            synchronous_commit = on
            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/data/postgresql.conf"))
        handle.seekToEndOfFile()
        handle.write(Data(("\n" + config + "\n").utf8))
        try handle.close()
        try start()
    }

    /// Creates the database `oms` in this cluster, applies every migration and returns its URL.
    func migratedDatabaseURL() throws -> String {
        let admin = try PostgresConnection(url: adminURL, logger: TestEnvironment.logger)
        try admin.execute(script: "CREATE DATABASE oms")
        let databaseURL = TestEnvironment.replaceDatabase(in: adminURL, with: "oms")
        _ = try Migrator(directory: TestEnvironment.migrationsDirectory)
            .apply(on: try PostgresConnection(url: databaseURL, logger: TestEnvironment.logger), logger: TestEnvironment.logger)
        return databaseURL
    }

    func start() throws {
        try asPostgres(binDirectory + "/pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "start"])
    }

    func stop() throws {
        try asPostgres(binDirectory + "/pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "stop"])
    }

    deinit {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func asPostgres(_ executable: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        } else {
            try run(executable, arguments)
        }
    }

    /// Through system(3), not Foundation's Process: `pg_ctl start` leaves a
    /// daemon behind that inherits Process's descriptors and hangs waitUntilExit.
    private func run(_ executable: String, _ arguments: [String]) throws {
        let command = ([executable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ") + " </dev/null >>'\(directory)/commands.log' 2>&1"
        let status = system(command)
        guard status == 0 else {
            throw TestSetupError("\(executable) \(arguments.joined(separator: " ")) exited with \(status)")
        }
    }

    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(descriptor, pointer, length) == 0 else { return -1 }
                return getsockname(descriptor, pointer, &length)
            }
        }
        guard bound == 0 else { throw TestSetupError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
