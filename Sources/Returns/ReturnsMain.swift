import Foundation
import ReturnsCore
import Shared

@main
enum ReturnsMain {
    static func main() async {
        await WorkerMain.run(stage: "returns", makeHandler: { settings in
            var handler = ReturnsHandler(maximumEventBytes: settings.maximumEventBytes, rules: try rules(settings), topicSources: settings.topicSources)
            handler.photoDirectory = settings.environment["OMS_RETURNS_UPLOAD_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            return ErasingStage(handler, maximumEventBytes: settings.maximumEventBytes)
        }, additionalServices: { settings, logger in
            // The portal runs in the same process when OMS_RETURNS_PORTAL_PORT is set.
            guard let portal = try PortalSettings.read(settings.environment) else { return [] }
            logger.info("return portal", metadata: ["address": "http://\(portal.host):\(portal.port)/"])
            return [try ReturnPortal(settings: portal, worker: settings, rules: try rules(settings), logger: logger).service()]
        })
    }

    static func rules(_ settings: WorkerSettings) throws -> RuleVersions<ReturnRules> {
        guard let directory = settings.configDirectory else {
            throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (Returns reads returns.json from it)")
        }
        return try ReturnRules.load(directory: directory)
    }
}
