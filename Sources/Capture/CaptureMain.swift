import Shared

@main
enum CaptureMain {
    static func main() async {
        await WorkerMain.run(stage: "capture") { settings in
            guard let directory = settings.configDirectory else {
                throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (Capture reads capture.json from it)")
            }
            return CaptureHandler(maximumEventBytes: settings.maximumEventBytes, ruleVersions: try CaptureRules.loadVersions(directory: directory),
                                  topicSources: settings.topicSources)
        }
    }
}
