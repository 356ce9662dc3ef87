/// Quantities against the availability the Router last published on
/// `oms.stock`. The Router's reservation is binding; this is the early signal:
/// a ship-complete order that cannot be served now holds (`stock`) or is
/// accepted as a back-order, as `availability.shipCompleteShortfall` says.
/// SKUs without published availability pass (the Router decides).
enum AvailabilityCheck {
    static func evaluate(lines: [(sku: String, quantity: Int64)], shipComplete: Bool, availability: [String: Int64],
                         policy: CaptureRules.ShortfallPolicy) -> [CheckFinding] {
        var ordered: [String: Int64] = [:]
        for line in lines { ordered[line.sku, default: 0] += line.quantity }
        let short = ordered.keys.sorted().compactMap { sku -> String? in
            guard let available = availability[sku], available < ordered[sku]! else { return nil }
            return "\(sku): \(ordered[sku]!) ordered, \(available) available"
        }
        guard !short.isEmpty else { return [] }
        let what = short.joined(separator: "; ")
        if !shipComplete {
            return [CheckFinding(check: "stock", code: "stock.partial-backorder", effect: .note,
                                 message: "\(what); what is available ships now, the rest is back-ordered")]
        }
        switch policy {
        case .hold:
            return [CheckFinding(check: "stock", code: "stock.ship-complete-short", effect: .hold(.stock),
                                 message: "\(what); the order ships complete, so it waits for stock")]
        case .backorder:
            return [CheckFinding(check: "stock", code: "stock.backorder", effect: .note,
                                 message: "\(what); accepted as a back-order, ships complete when stock arrives")]
        }
    }
}
