import ArgumentParser
import Foundation
import Shared

struct Stock: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Look at the Router's stock ledger.", subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "On hand, reserved and available per warehouse, expected inbound and the back-orders waiting for one SKU.")
        @Argument(help: "The SKU, e.g. TENT-2P.") var sku: String
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() throws {
            let database = try CLIEnvironment.database()
            let (warehouses, inbound, waiting) = try CLIError.detailed {
                (try database.query("""
                    SELECT warehouse_id, on_hand, reserved, on_hand - reserved AS available, wms_sequence, to_json(updated_at)#>>'{}' AS updated_at
                    FROM router.stock WHERE sku = \(sku) ORDER BY warehouse_id
                    """),
                 try database.query("""
                    SELECT inbound_id, warehouse_id, to_json(eta)#>>'{}' AS eta, quantity, claimed FROM router.inbound
                    WHERE sku = \(sku) AND quantity > 0 ORDER BY eta, inbound_id
                    """),
                 try database.query("""
                    SELECT count(DISTINCT l.order_id) AS orders, coalesce(sum(l.quantity - l.routed), 0)::bigint AS units,
                           min(o.received_at)::text AS oldest
                    FROM router.order_lines l JOIN router.orders o USING (order_id)
                    WHERE l.sku = \(sku) AND l.waiting_for = 'stock' AND o.status <> 'cancelled'
                    """).first)
            }
            guard warehouses.count > 0 || inbound.count > 0 else { throw CLIError("the Router has no stock record of \(sku)") }
            if json {
                let document: JSONValue = [
                    "sku": .string(sku),
                    "warehouses": .array(try warehouses.map { row in
                        ["warehouseId": .string(try row.decode("warehouse_id")), "onHand": .integer(try row.decode("on_hand")),
                         "reserved": .integer(try row.decode("reserved")), "available": .integer(max(0, try row.decode("available", as: Int64.self))),
                         "wmsSequence": .integer(try row.decode("wms_sequence")), "updatedAt": .string(try row.decode("updated_at"))]
                    }),
                    "inbound": .array(try inbound.map { row in
                        ["inboundId": .string(try row.decode("inbound_id")), "warehouseId": .string(try row.decode("warehouse_id")),
                         "eta": .string(try row.decode("eta")), "quantity": .integer(try row.decode("quantity")), "claimed": .integer(try row.decode("claimed"))]
                    }),
                    "backorders": ["orders": .integer(try waiting?.decode("orders") ?? 0), "units": .integer(try waiting?.decode("units") ?? 0)],
                ]
                print(document.serializedString)
                return
            }
            print("Stock of \(sku)")
            for row in warehouses {
                let available: Int64 = try row.decode("available")
                print("  \(try row.decode("warehouse_id", as: String.self))  on hand \(try row.decode("on_hand", as: Int64.self)), reserved \(try row.decode("reserved", as: Int64.self)), available \(max(0, available))\(available < 0 ? " (the WMS counts \(-available) less than is reserved)" : "")  (WMS sequence \(try row.decode("wms_sequence", as: Int64.self)), \(try row.decode("updated_at", as: String.self)))")
            }
            for row in inbound {
                print("  inbound \(try row.decode("inbound_id", as: String.self)) to \(try row.decode("warehouse_id", as: String.self)) at \(try row.decode("eta", as: String.self)): \(try row.decode("quantity", as: Int64.self)), claimed by back-orders \(try row.decode("claimed", as: Int64.self))")
            }
            let orders: Int64 = try waiting?.decode("orders") ?? 0
            if orders > 0 {
                print("  back-orders waiting: \(orders) order(s), \(try waiting!.decode("units", as: Int64.self)) unit(s), oldest since \(try waiting!.decode("oldest", as: String.self))")
            } else {
                print("  no back-orders waiting")
            }
        }
    }
}
