/// A message that can never be processed as it is: it goes to `oms.dlq`.
///
/// `errorClass` is a stable, low-cardinality code (alerts are deduplicated by
/// it); `reason` is the precise human explanation.
public struct PermanentFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let errorClass: String
    public let reason: String
    /// How many times processing was tried before giving up.
    public var attempts: Int = 1

    public init(_ errorClass: String, _ reason: String, attempts: Int = 1) {
        self.errorClass = errorClass
        self.reason = reason
        self.attempts = attempts
    }

    public var description: String { "\(errorClass): \(reason)" }

    public static func invalidJSON(_ reason: String) -> Self { .init("invalid-json", reason) }
    public static func invalidEnvelope(_ reason: String) -> Self { .init("invalid-envelope", reason) }
    public static func schemaViolation(_ reason: String) -> Self { .init("schema-violation", reason) }
    public static func unknownEventType(_ reason: String) -> Self { .init("unknown-event-type", reason) }
    public static func wrongTopic(_ reason: String) -> Self { .init("wrong-topic", reason) }
    public static func tooLarge(_ reason: String) -> Self { .init("too-large", reason) }
    public static func conflict(_ reason: String) -> Self { .init("conflict", reason) }
    public static func businessRule(_ reason: String) -> Self { .init("business-rule", reason) }
    public static func database(_ reason: String) -> Self { .init("database-rejected", reason) }
}
