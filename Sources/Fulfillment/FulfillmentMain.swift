import FulfillmentCore
import Foundation
import Shared

@main
enum FulfillmentMain {
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "print-agent" {
            await PrintAgentMain.run()
        }
        if let argument = CommandLine.arguments.dropFirst().first {
            FileHandle.standardError.write(Data("oms-fulfillment: unknown argument \"\(argument)\" (run without arguments for the worker, or \"print-agent\")\n".utf8))
            exit(2)
        }
        await WorkerMain.run(stage: "fulfillment") { settings in
            ErasingStage(FulfillmentHandler(maximumEventBytes: settings.maximumEventBytes, rules: try rules(settings), topicSources: settings.topicSources),
                         maximumEventBytes: settings.maximumEventBytes)
        }
    }

    static func rules(_ settings: WorkerSettings) throws -> RuleVersions<FulfillmentRules> {
        guard let directory = settings.configDirectory else {
            throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (Fulfillment reads fulfillment.json from it)")
        }
        return try FulfillmentRules.load(directory: directory)
    }
}

