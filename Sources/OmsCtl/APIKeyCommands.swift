import ArgumentParser
import Crypto
import Foundation
import Shared

/// `omsctl api-keys …`: keys for the order status API; only their SHA-256 is stored, the key is shown once.
struct APIKeys: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api-keys", abstract: "Keys for the order status API: create, list, revoke.",
                                                    subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key for a client (a shop, customer service); prints it once.")
        @Option(help: "Who uses it, e.g. shop-berg-und-beutel.") var client: String
        @Option(help: "The shop whose orders it may read: the source its orders come with, e.g. shop/berg-und-beutel.") var shop: String?
        @Flag(help: "A key for every shop's orders (customer service); instead of --shop.") var allShops = false

        func validate() throws {
            guard (shop != nil) != allShops else {
                throw ValidationError("give exactly one of --shop SOURCE or --all-shops")
            }
            if let shop, !(1...200).contains(shop.count) || shop.contains("\u{0}") { throw ValidationError("--shop must be 1 to 200 characters") }
            guard (1...100).contains(client.count), client.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ValidationError("--client must be 1 to 100 letters, digits, -, _ or .")
            }
        }

        func run() throws {
            var generator = SystemRandomNumberGenerator()
            let key = "oms_" + lowercaseHex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let digest = sha256Hex(key)
            let database = try CLIEnvironment.database()
            let id: Int64 = try CLIError.detailed {
                try database.query("INSERT INTO notifier.api_keys (client, key_sha256, shop) VALUES (\(client), \(digest), \(shop)) RETURNING id")
                    .first?.decode("id") ?? 0
            }
            print("key \(id) for \(client), \(shop.map { "orders of \($0)" } ?? "orders of every shop") (shown once; only its hash is stored):")
            print(key)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")
        func run() throws {
            let database = try CLIEnvironment.database()
            for row in try database.query("""
                SELECT id, client, coalesce(shop, 'every shop') AS shop, to_json(created_at)#>>'{}' AS created,
                       coalesce(to_json(revoked_at)#>>'{}', '') AS revoked FROM notifier.api_keys ORDER BY id
                """) {
                let revoked: String = try row.decode("revoked")
                print("\(try row.decode("id", as: Int64.self))  \(try row.decode("client", as: String.self))  \(try row.decode("shop", as: String.self))  created \(try row.decode("created", as: String.self))"
                      + (revoked.isEmpty ? "" : "  revoked \(revoked)"))
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; requests with it are refused from now on.")
        @Argument(help: "The key's id (from api-keys list).") var id: Int64
        func run() throws {
            let database = try CLIEnvironment.database()
            guard try database.query("UPDATE notifier.api_keys SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING id").first != nil else {
                throw CLIError("no active key \(id)")
            }
            print("key \(id) revoked")
        }
    }
}
