import BillingTax
import Shared

@main
enum BillingMain {
    static func main() async {
        await WorkerMain.run(stage: "billing") { settings in
            guard let directory = settings.configDirectory else {
                throw ConfigurationError(setting: "OMS_CONFIG_DIR", problem: "is not set (Billing reads tax.json and territory.json from it)")
            }
            return ErasingStage(BillingHandler(maximumEventBytes: settings.maximumEventBytes, rules: try TaxRules.load(directory: directory),
                                               territory: try EUTerritory.load(directory: directory), topicSources: settings.topicSources),
                                maximumEventBytes: settings.maximumEventBytes)
        }
    }
}
