import Foundation
import Shared

@main
enum AlertingMain {
    static func main() async {
        await WorkerMain.run(stage: "alerting", makeHandler: { settings in
            let window = Int(settings.environment["OMS_ALERT_WINDOW_SECONDS"] ?? "300")
            guard let window, window >= 0 else {
                throw ConfigurationError(setting: "OMS_ALERT_WINDOW_SECONDS", problem: "must be a non-negative integer")
            }
            return ErasingStage(AlertingHandler(deduplication: AlertDeduplication(windowSeconds: window)), maximumEventBytes: settings.maximumEventBytes)
        }, additionalServices: { settings, logger in
            var webhook: URL?
            if let text = settings.environment["OMS_ALERT_WEBHOOK_URL"], !text.isEmpty {
                guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
                    throw ConfigurationError(setting: "OMS_ALERT_WEBHOOK_URL", problem: "\"\(text)\" is not an http(s) URL")
                }
                webhook = url
            }
            let attempts = Int(settings.environment["OMS_ALERT_WEBHOOK_ATTEMPTS"] ?? "8")
            guard let attempts, (1...100).contains(attempts) else {
                throw ConfigurationError(setting: "OMS_ALERT_WEBHOOK_ATTEMPTS", problem: "must be an integer from 1 to 100")
            }
            return [AlertDispatcher(databaseURL: settings.databaseURL, webhookURL: webhook, logger: logger, maximumAttempts: attempts)]
        })
    }
}
