import Shared

@main
enum CaptureMain {
    static func main() async {
        await WorkerMain.run(stage: "capture") { settings in
            CaptureHandler(maximumEventBytes: settings.maximumEventBytes)
        }
    }
}
