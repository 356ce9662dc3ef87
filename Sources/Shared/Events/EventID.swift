import Crypto
import Foundation

/// Ids of events we emit are derived, not random: re-running the same input
/// after a crash yields the same ids, so downstream deduplication sees the
/// re-published event as what it is.
public enum EventID {
    /// A UUID (version 8, RFC 9562) from SHA-256 over the parts.
    public static func derived(_ parts: String...) -> String {
        var hasher = SHA256()
        for part in parts {
            hasher.update(data: Array(part.utf8))
            hasher.update(data: [0])
        }
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }

    /// The id of the `index`-th event that `stage` emits for input event `inputID`.
    public static func output(of inputID: String, stage: String, index: Int) -> String {
        derived("output", inputID, stage, String(index))
    }

    /// The id of the dead letter for one consumed message (by position, since a
    /// malformed message may have no id of its own).
    public static func deadLetter(topic: String, partition: Int32, offset: Int64, stage: String) -> String {
        derived("dead-letter", topic, String(partition), String(offset), stage)
    }
}
