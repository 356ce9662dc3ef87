import Foundation
import Logging
import Shared
import Testing

/// Where `make test` put the binaries and the test PostgreSQL cluster.
enum TestEnvironment {
    static var binDirectory: String {
        get throws {
            guard let dir = ProcessInfo.processInfo.environment["OMS_TEST_BIN_DIR"] else {
                throw TestSetupError("OMS_TEST_BIN_DIR is not set: run the integration tests through `make test`")
            }
            return dir
        }
    }

    static var adminDatabaseURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["OMS_TEST_DATABASE_URL"] else {
                throw TestSetupError("OMS_TEST_DATABASE_URL is not set: run the integration tests through `make test`")
            }
            return url
        }
    }

    static var migrationsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy/migrations").path
    }

    static var configDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config").path
    }

    static let logger: Logger = {
        var logger = Logger(label: "oms-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// A fresh, migrated database in the test cluster; its URL.
    static func makeDatabase(adminURL: String? = nil) throws -> String {
        let admin = try adminURL ?? adminDatabaseURL
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let connection = try PostgresConnection(url: admin, logger: logger)
        try connection.execute(script: "CREATE DATABASE \(name)")
        let url = replaceDatabase(in: admin, with: name)
        let database = try PostgresConnection(url: url, logger: logger)
        _ = try Migrator(directory: migrationsDirectory).apply(on: database, logger: logger)
        return url
    }

    static func replaceDatabase(in url: String, with name: String) -> String {
        guard let slash = url.range(of: "/", options: .backwards, range: url.range(of: "://")!.upperBound..<url.endIndex) else {
            return url + "/" + name
        }
        let query = url[slash.upperBound...].firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        return String(url[..<slash.upperBound]) + name + query
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(timeout seconds: Double, every interval: Double = 0.2, _ what: String,
                _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: interval)
    }
    if try condition() { return }
    throw TestSetupError("timed out after \(seconds) s waiting for: \(what)")
}
