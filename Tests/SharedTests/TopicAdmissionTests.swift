import Shared
import Testing

@Suite("Topic admission")
struct TopicAdmissionTests {
    static func event(_ type: String, source: String = "shop/berg-und-beutel") -> CloudEvent {
        CloudEvent(id: "e-1", source: source, type: type, subject: "X", time: nil, data: [:])
    }

    let admission = TopicAdmission(handled: [Topic.shopOrders: ["Order.Created"], Topic.shopPayments: ["Payment.Captured"]],
                                   sources: [Topic.shopOrders: ["shop/", "omsctl"]])

    @Test("a type of another topic is wrong-topic; a type of this topic for another stage is skipped; ours is handled")
    func types() throws {
        #expect(try admission.admit(Self.event("Order.Created"), topic: Topic.shopOrders) == .handle)
        do {
            _ = try admission.admit(Self.event("Product.Changed"), topic: Topic.shopOrders)
            Issue.record("Product.Changed on shop.orders must be refused")
        } catch {
            #expect(error.errorClass == "wrong-topic")
            #expect(error.reason.contains("does not belong on shop.orders"))
        }
        guard case .ignore = try admission.admit(Self.event("Payment.Authorized"), topic: Topic.shopPayments) else {
            Issue.record("Payment.Authorized belongs on shop.payments but needs nothing here")
            return
        }
    }

    @Test("only the configured source prefixes may publish to a topic that names them")
    func sources() throws {
        #expect(try admission.admit(Self.event("Order.Created", source: "omsctl"), topic: Topic.shopOrders) == .handle)
        #expect(throws: PermanentFailure.wrongTopic(#"source "pim/x" may not publish to shop.orders (allowed: shop/, omsctl)"#)) {
            try admission.admit(Self.event("Order.Created", source: "pim/x"), topic: Topic.shopOrders)
        }
        // No list for shop.payments: any source.
        #expect(try admission.admit(Self.event("Payment.Captured", source: "anyone"), topic: Topic.shopPayments) == .handle)
    }

    @Test("OMS_TOPIC_SOURCES is read, and a malformed one names the setting")
    func setting() throws {
        let base = ["OMS_KAFKA_BROKERS": "127.0.0.1:9092", "OMS_DATABASE_URL": "postgresql://oms@127.0.0.1/oms"]
        let settings = try WorkerSettings(environment: base.merging(["OMS_TOPIC_SOURCES": "shop.orders=shop/, omsctl;catalog.products=pim/"]) { $1 })
        #expect(settings.topicSources == [Topic.shopOrders: ["shop/", "omsctl"], Topic.catalogProducts: ["pim/"]])
        #expect(throws: ConfigurationError.self) { try WorkerSettings(environment: base.merging(["OMS_TOPIC_SOURCES": "shop.orders"]) { $1 }) }
        #expect(throws: ConfigurationError.self) { try WorkerSettings(environment: base.merging(["OMS_TOPIC_SOURCES": "shop.orders="]) { $1 }) }
    }
}
