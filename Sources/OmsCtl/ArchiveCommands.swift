import ArgumentParser
import Crypto
import Foundation
import Shared

/// The tamper-evident archive of issued documents.
struct Archive: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The archive of issued invoices and credit notes.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain (SHA-256 of previous hash ‖ document XML) and name the first broken link.")
        @Option(help: "Start at this archive sequence number (its stored previous hash is trusted).") var from: Int64 = 1

        func validate() throws {
            guard from >= 1 else { throw ValidationError("--from must be at least 1") }
        }

        func run() throws {
            let database = try CLIEnvironment.database()
            let rows = try CLIError.detailed { try database.query("""
                SELECT a.seq, a.number, a.previous_hash, a.hash, d.xml FROM billing.archive a JOIN billing.documents d USING (number)
                WHERE a.seq >= \(from) ORDER BY a.seq
                """) }
            var previous: String?
            var checked = 0
            for row in rows {
                let seq: Int64 = try row.decode("seq"), number: String = try row.decode("number")
                let storedPrevious: String = try row.decode("previous_hash"), stored: String = try row.decode("hash")
                let xml: String = try row.decode("xml")
                if let previous, previous != storedPrevious {
                    throw CLIError("broken link at #\(seq) (\(number)): it names previous hash \(storedPrevious.prefix(16))…, the chain has \(previous.prefix(16))…")
                }
                let base = previous ?? storedPrevious
                let hash = SHA256.hash(data: Array((base + xml).utf8)).map { String(format: "%02x", $0) }.joined()
                guard hash == stored else {
                    throw CLIError("broken link at #\(seq) (\(number)): its document does not hash to the stored \(stored.prefix(16))… — it was changed after issue")
                }
                previous = hash
                checked += 1
            }
            print("archive intact: \(checked) document(s) from #\(from), last hash \(previous ?? "(none)")")
        }
    }
}
