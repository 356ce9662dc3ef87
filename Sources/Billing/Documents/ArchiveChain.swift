import Shared

/// The archive's hash chain: each issued document's link is SHA-256 of the previous link ‖ its XML (lowercase hex),
/// so that changing, removing or reordering a document breaks every link after it. Billing writes it,
/// `omsctl archive verify` recomputes it — both through this one function.
public enum ArchiveChain {
    /// The `previous_hash` of the first document.
    public static let genesis = String(repeating: "0", count: 64)

    public static func link(previous: String, document: String) -> String { sha256Hex(previous, document) }
}
