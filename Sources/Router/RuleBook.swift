import Foundation
import Logging
import RouterCore
import ServiceLifecycle
import Shared
import Synchronization
import UnixSignals

/// Every version of router.json (`router.json` and `router.<label>.json`, each in
/// force from its `validFrom`), replaced as a whole when valid new files are loaded.
final class RuleBook: Sendable {
    private let current: Mutex<RuleVersions<RouterRules>>
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        current = Mutex(try Self.load(directory))
    }

    static func load(_ directory: String) throws -> RuleVersions<RouterRules> {
        try RuleVersions.load("router", directory: directory, build: RouterRules.init)
    }

    /// The rules in force at `instant` (routing happens now: cut-offs and calendars of today).
    func rules(at instant: Date) -> RouterRules { current.withLock { $0.rules(at: instant) } }

    var rules: RouterRules { rules(at: Date()) }

    /// Loads the files again; a bad file keeps the rules in force and says why.
    func reload(logger: Logger) {
        do {
            let fresh = try Self.load(directory)
            current.withLock { $0 = fresh }
            logger.notice("routing rules reloaded", metadata: ["validFrom": "\(fresh.versions.map(\.rules.validFrom).joined(separator: ", "))"])
        } catch {
            logger.error("routing rules NOT reloaded; the previous rules stay in force", metadata: ["error": "\(error)"])
        }
    }
}

/// Reloads the rule book on SIGHUP, as SREs expect from a daemon.
struct RuleReloadService: Service {
    let book: RuleBook
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            book.reload(logger: logger)
        }
    }
}
