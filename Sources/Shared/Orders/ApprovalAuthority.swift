/// Who may decide which hold of an order with an approval or a denial: a B2B
/// buyer's approvers decide the `approval` hold; the shop's own staff decide the
/// holds that are the shop's risk (fraud review, credit, price, stock). Capture
/// applies this rule; `omsctl` uses it to refuse early with the same reason.
public enum ApprovalAuthority {
    public static let staffDecidedHolds: Set<String> = ["review", "credit", "price", "stock"]
    public static let approvalHold = "approval"

    /// The holds `actor` may lift (approve) or end the order on (deny).
    /// With no approvers on record, staff decide the approval hold too.
    public static func decidableHolds(_ holds: Set<String>, actor: String, approvers: [String]) -> Set<String> {
        if approvers.contains(actor) { return holds.intersection([approvalHold]) }
        var decidable = holds.intersection(staffDecidedHolds)
        if approvers.isEmpty && holds.contains(approvalHold) { decidable.insert(approvalHold) }
        return decidable
    }

    /// Why `actor` cannot decide anything on this order (when `decidableHolds` is empty).
    public static func refusal(orderID: String, status: String, holds: Set<String>, actor: String, approvers: [String],
                               action: String) -> String {
        guard status == "on_hold" else {
            return "order \(orderID) is \(status), not held; \(action) by \(actor) refused"
        }
        let held = holds.sorted().joined(separator: ", ")
        if holds.contains(approvalHold) && !approvers.contains(actor) {
            return "order \(orderID) waits for approval by \(approvers.joined(separator: " or ")); \(actor) is not an approver of this buyer, \(action) refused"
        }
        return "order \(orderID) is held for \(held), which \(actor) cannot decide by an approval; \(action) refused"
    }
}
