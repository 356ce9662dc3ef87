import Foundation
import ReturnsCore
import Shared

@main
enum ReturnsMain {
    static func main() async {
        await WorkerMain.run(stage: "returns", makeHandler: { settings in
            guard let directory = settings.configDirectory else {
                throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (Returns reads returns.json from it)")
            }
            return ReturnsHandler(maximumEventBytes: settings.maximumEventBytes, rules: try ReturnRules.load(directory: directory),
                                  topicSources: settings.topicSources)
        })
    }
}
