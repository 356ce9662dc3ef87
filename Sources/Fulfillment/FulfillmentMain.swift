import Shared

@main
enum FulfillmentMain {
    static func main() async {}
}
