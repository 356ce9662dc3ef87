// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The event contracts: one JSON file each, compiled into the binaries (`EventContracts`).
/// SwiftPM caches the evaluated manifest: after adding a schema file, make any edit here (even to this comment) so that the list is read again (last: the returns contracts).
let contractSchemas = ((try? FileManager.default.contentsOfDirectory(
    atPath: Context.packageDirectory + "/Sources/Shared/Events/Schemas/json")) ?? []).filter { $0.hasSuffix(".json") }.sorted()

let package = Package(
    name: "oms",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "oms-capture", targets: ["Capture"]),
        .executable(name: "oms-router", targets: ["Router"]),
        .executable(name: "oms-fulfillment", targets: ["Fulfillment"]),
        .executable(name: "oms-billing", targets: ["Billing"]),
        .executable(name: "oms-returns", targets: ["Returns"]),
        .executable(name: "oms-notifier", targets: ["Notifier"]),
        .executable(name: "oms-ingest", targets: ["Ingest"]),
        .executable(name: "oms-alerting", targets: ["Alerting"]),
        .executable(name: "omsctl", targets: ["OmsCtl"]),
        .executable(name: "oms-devkafka", targets: ["DevKafka"]),
        .executable(name: "oms-bench", targets: ["Bench"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka", path: "Sources/CRdKafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .target(
            name: "Shared",
            dependencies: [
                "CRdKafka", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: contractSchemas.map { .embedInCode("Events/Schemas/json/\($0)") }),
        .executableTarget(name: "Capture", dependencies: ["Shared"], path: "Sources/Capture"),
        // The Router's pure routing core is a library of its own so that `omsctl rules simulate` runs the same rules.
        .target(name: "RouterCore", dependencies: ["Shared"], path: "Sources/Router/Core"),
        .executableTarget(
            name: "Router",
            dependencies: ["Shared", "RouterCore", .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Sources/Router", exclude: ["Core"]),
        // Fulfillment's pure rules (pick routing, packing, SSCC, labels, customs) are a library so that the bench and omsctl use them too.
        .target(name: "FulfillmentCore", dependencies: ["Shared"], path: "Sources/Fulfillment/Core"),
        .executableTarget(
            name: "Fulfillment",
            dependencies: ["Shared", "FulfillmentCore", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Sources/Fulfillment", exclude: ["Core"]),
        // Billing's pure tax rules (rates, treatments, EN 16931 rounding, VAT IDs); the stage itself is not built yet.
        .target(name: "BillingTax", dependencies: ["Shared"], path: "Sources/Billing/Tax"),
        .target(name: "BillingDocuments", dependencies: ["Shared", "BillingTax"], path: "Sources/Billing/Documents"),
        .executableTarget(
            name: "Billing",
            dependencies: ["Shared", "BillingTax", "BillingDocuments", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Billing", exclude: ["Tax", "Documents"]),
        // Returns' pure rules (window, non-returnable, disposition, refund, RMA numbers, photo scrubbing).
        .target(name: "ReturnsCore", dependencies: ["Shared", "FulfillmentCore"], path: "Sources/Returns/Core"),
        .executableTarget(
            name: "Returns",
            dependencies: ["Shared", "ReturnsCore", "FulfillmentCore", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Mustache", package: "swift-mustache"), .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "MultipartKit", package: "multipart-kit"), .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Sources/Returns", exclude: ["Core"],
            resources: ["header", "footer", "lookup", "order", "request"].map { .embedInCode("Portal/Templates/\($0).mustache") }),
        // The notifier's pure parts: webhook subscriptions, Standard Webhooks signing, the timeline rule.
        .target(name: "NotifierCore", dependencies: ["Shared", .product(name: "Crypto", package: "swift-crypto")], path: "Sources/Notifier/Core"),
        .executableTarget(
            name: "Notifier", dependencies: ["Shared", "NotifierCore", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                             .product(name: "Logging", package: "swift-log"), .product(name: "Mustache", package: "swift-mustache"),
                                             .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                                             .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Hummingbird", package: "hummingbird"),
                                             .product(name: "Crypto", package: "swift-crypto"), .product(name: "Metrics", package: "swift-metrics")],
            path: "Sources/Notifier", exclude: ["Core"]),
        .executableTarget(
            name: "Ingest", dependencies: ["Shared", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Crypto", package: "swift-crypto"),
                                           .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                           .product(name: "Logging", package: "swift-log")],
            path: "Sources/Ingest"),
        .executableTarget(name: "Alerting", dependencies: ["Shared"], path: "Sources/Alerting"),
        .executableTarget(
            name: "OmsCtl",
            dependencies: ["Shared", "RouterCore", "FulfillmentCore", "BillingTax", "BillingDocuments", "ReturnsCore", "NotifierCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/OmsCtl"),
        .executableTarget(
            name: "DevKafka",
            dependencies: ["Shared", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/DevKafka"),
        .executableTarget(
            name: "Bench",
            dependencies: ["Shared", "FulfillmentCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Bench"),
        .testTarget(name: "SharedTests", dependencies: [
            "Shared", .product(name: "Logging", package: "swift-log"), .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "Shared"]),
        .testTarget(name: "AlertingTests", dependencies: ["Alerting", "Shared"]),
        .testTarget(name: "RouterTests", dependencies: ["Router", "RouterCore", "Shared"]),
        .testTarget(name: "FulfillmentTests", dependencies: ["Fulfillment", "FulfillmentCore", "Shared"]),
        .testTarget(name: "BillingTests", dependencies: ["BillingTax", "BillingDocuments", "Shared"]),
        .testTarget(name: "ReturnsTests", dependencies: ["ReturnsCore", "FulfillmentCore", "Shared"]),
        .testTarget(name: "NotifierTests", dependencies: ["NotifierCore", "Shared"]),
        .testTarget(name: "PipelineTests", dependencies: ["Shared", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto")]),
    ]
)
