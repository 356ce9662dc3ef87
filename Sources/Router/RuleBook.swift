import Logging
import RouterCore
import ServiceLifecycle
import Shared
import Synchronization
import UnixSignals

/// The rules in force, replaced as a whole when a valid new file is loaded.
final class RuleBook: Sendable {
    private let current: Mutex<RouterRules>
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        current = Mutex(try RouterRules.load(directory: directory))
    }

    var rules: RouterRules { current.withLock { $0 } }

    /// Loads the file again; a bad file keeps the rules in force and says why.
    func reload(logger: Logger) {
        do {
            let fresh = try RouterRules.load(directory: directory)
            current.withLock { $0 = fresh }
            logger.notice("routing rules reloaded", metadata: ["validFrom": "\(fresh.validFrom)"])
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
