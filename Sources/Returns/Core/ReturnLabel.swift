import FulfillmentCore
import Shared

/// The return label: Fulfillment's label, from the customer to the returns warehouse, with its own SSCC range
/// (the returns extension digit) and the RMA printed on it.
public enum ReturnLabel {
    public static func make(rma: String, serial: Int64, orderID: String, customer: PostalAddress, rules: ReturnRules) throws -> (sscc: SSCC, label: ShippingLabel) {
        let sscc = try SSCC(extensionDigit: rules.ssccExtensionDigit, companyPrefix: rules.ssccCompanyPrefix, serial: serial)
        let label = ShippingLabel(sscc: sscc, carrierService: rules.labelCarrierService, sender: customer, recipient: rules.returnAddress,
                                  parcelNumber: 1, parcelCount: 1, weightGrams: 0, orderID: orderID, fulfillmentOrderID: rma,
                                  dangerousGoodsClass: nil, customsDeclaration: false, note: "Retoure / Return \(rma)")
        return (sscc, label)
    }

    public static func pdf(_ label: ShippingLabel) -> [UInt8] { FulfillmentDocuments.labelPDF(label) }
}
