import Foundation
import Logging

/// Applies `NNNN_name.sql` files in version order, each in its own
/// transaction, recording version and checksum in `public.oms_schema_migrations`.
/// Re-running is safe; a changed file that was already applied is refused.
public struct Migrator {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
        public var checksum: String { sha256Hex(sql) }
    }

    public enum Outcome: Sendable, Equatable {
        case applied(version: Int, name: String)
        case alreadyApplied(version: Int, name: String)
    }

    public struct MigrationError: Error, CustomStringConvertible {
        public let description: String
    }

    public let migrations: [Migration]

    public init(directory: String) throws {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }
        } catch {
            throw MigrationError(description: "cannot read migrations directory \(directory): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for file in files {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw MigrationError(description: "\(file): migration files are named NNNN_name.sql")
            }
            let sql = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw MigrationError(description: "two migrations with version \(a.version): \(a.name), \(b.name)")
        }
        self.migrations = migrations
    }

    /// The migrations directory: `$OMS_MIGRATIONS_DIR`, `./deploy/migrations`,
    /// or `share/oms/migrations` next to the executable's directory.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let directory = environment["OMS_MIGRATIONS_DIR"] { return directory }
        if FileManager.default.fileExists(atPath: "deploy/migrations") { return "deploy/migrations" }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/oms/migrations").path
    }

    public func apply(on database: PostgresConnection, logger: Logger) throws -> [Outcome] {
        try database.execute(script: """
            CREATE TABLE IF NOT EXISTS public.oms_schema_migrations (
                version    integer     PRIMARY KEY,
                name       text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        // One migrator at a time, across processes.
        try database.query("SELECT pg_advisory_lock(\(Self.lockKey))")
        defer { _ = try? database.query("SELECT pg_advisory_unlock(\(Self.lockKey))") }
        var applied: [Int: (name: String, checksum: String)] = [:]
        for row in try database.query("SELECT version, name, checksum FROM public.oms_schema_migrations") {
            applied[try row.decode("version")] = (try row.decode("name"), try row.decode("checksum"))
        }
        var outcomes: [Outcome] = []
        for migration in migrations {
            if let existing = applied[migration.version] {
                guard existing.checksum == migration.checksum else {
                    throw MigrationError(description: "migration \(migration.version)_\(migration.name) was changed after it was applied (checksum differs); add a new migration instead")
                }
                outcomes.append(.alreadyApplied(version: migration.version, name: migration.name))
                continue
            }
            try database.transaction { db in
                try db.execute(script: migration.sql)
                try db.query("""
                    INSERT INTO public.oms_schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """)
            }
            logger.debug("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            outcomes.append(.applied(version: migration.version, name: migration.name))
        }
        return outcomes
    }

    static let lockKey: Int64 = 0x6F6D_735F_6D69_67
}
