import Logging
import Shared
import Synchronization

@main
enum RouterMain {
    static func main() async {
        await WorkerMain.run(stage: "router") { settings in
            ErasingStage(RouterHandler(maximumEventBytes: settings.maximumEventBytes, book: try ruleBook(settings), topicSources: settings.topicSources),
                         maximumEventBytes: settings.maximumEventBytes)
        } additionalServices: { settings, logger in
            [RuleReloadService(book: try ruleBook(settings), logger: logger)]
        }
    }

    /// One rule book per process: the handler reads it, the SIGHUP service replaces its rules.
    private static let books = Mutex<[String: RuleBook]>([:])

    static func ruleBook(_ settings: WorkerSettings) throws -> RuleBook {
        guard let directory = settings.configDirectory else {
            throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (the Router reads router.json from it)")
        }
        return try books.withLock { books in
            if let book = books[directory] { return book }
            let book = try RuleBook(directory: directory)
            books[directory] = book
            return book
        }
    }
}
