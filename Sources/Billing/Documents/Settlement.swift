import Foundation

/// The settlement rule: money received pays the invoice the remittance names first, then the open
/// invoices by due date (oldest first, then by number); what is left over stays with the customer as
/// credit for the next invoices. A credit note first reduces what is open of the invoice it corrects.
public enum Settlement {
    public struct OpenItem: Sendable, Equatable {
        public let number: String
        public let open: Int64
        public let dueDate: Date?
        public init(number: String, open: Int64, dueDate: Date?) {
            self.number = number
            self.open = open
            self.dueDate = dueDate
        }
    }

    public struct Outcome: Sendable, Equatable {
        /// Invoice number → amount applied to it.
        public let applied: [String: Int64]
        public let left: Int64
        public init(applied: [String: Int64], left: Int64) {
            self.applied = applied
            self.left = left
        }
    }

    public static func apply(_ amount: Int64, to items: [OpenItem], naming named: String? = nil) -> Outcome {
        let ordered = items.filter { $0.open > 0 }.sorted { a, b in
            if (a.number == named) != (b.number == named) { return a.number == named }
            switch (a.dueDate, b.dueDate) {
            case let (x?, y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a.number < b.number
            }
        }
        var left = max(amount, 0)
        var applied: [String: Int64] = [:]
        for item in ordered where left > 0 {
            let take = min(item.open, left)
            applied[item.number] = take
            left -= take
        }
        return Outcome(applied: applied, left: left)
    }
}
