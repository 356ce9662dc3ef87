import Foundation
import NotifierCore
import ServiceLifecycle
import Shared

@main
enum NotifierMain {
    static func main() async {
        await WorkerMain.run(stage: "notifier", makeHandler: { settings in
            var handler = NotifierHandler(maximumEventBytes: settings.maximumEventBytes, webhooks: try webhooks(settings),
                                          mailEnabled: try SMTPSettings.read(settings.environment) != nil,
                                          smsEnabled: try SMSSender.read(settings.environment) != nil, topicSources: settings.topicSources)
            handler.kpi = try KPIRules.load(directory: try configDirectory(settings, for: "kpi.json"))
            return ErasingStage(handler, maximumEventBytes: settings.maximumEventBytes)
        }, additionalServices: { settings, logger in
            // One dispatcher per endpoint of the newest rules (an endpoint added later needs a restart).
            let rules = try webhooks(settings)
            var services: [any Service] = []
            if let smtp = try SMTPSettings.read(settings.environment) { services.append(MailSender(databaseURL: settings.databaseURL, smtp: smtp, logger: logger)) }
            if let (gateway, token) = try SMSSender.read(settings.environment) {
                services.append(SMSSender(databaseURL: settings.databaseURL, gateway: gateway, token: token, logger: logger))
            }
            if let api = try StatusAPI.read(settings.environment) {
                logger.info("status API", metadata: ["address": "http://\(api.host):\(api.port)/v1/"])
                services.append(StatusAPI(port: api.port, host: api.host, databaseURL: settings.databaseURL, requestsPerMinute: api.perMinute, logger: logger).service())
            }
            return services + (try rules.versions[rules.versions.count - 1].rules.endpoints.map { endpoint in
                guard let secrets = settings.environment[endpoint.secretVariable] else {
                    throw ConfigurationError(setting: endpoint.secretVariable, problem: "is not set (the signing secrets of webhook endpoint \(endpoint.id))")
                }
                do {
                    return WebhookDispatcher(databaseURL: settings.databaseURL, endpoint: endpoint, keys: try StandardWebhook.keys(secrets), logger: logger)
                } catch {
                    throw ConfigurationError(setting: endpoint.secretVariable, problem: String(describing: error))
                }
            })
        })
    }

    static func configDirectory(_ settings: WorkerSettings, for file: String) throws -> String {
        guard let directory = settings.configDirectory else {
            throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (the notifier reads \(file) from it)")
        }
        return directory
    }

    static func webhooks(_ settings: WorkerSettings) throws -> RuleVersions<WebhookRules> {
        guard let directory = settings.configDirectory else {
            throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (the notifier reads webhooks.json from it)")
        }
        return try WebhookRules.load(directory: directory)
    }
}
