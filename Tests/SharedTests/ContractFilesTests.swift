import Foundation
import Shared
import Testing

@Suite("Contract files in the repository")
struct ContractFilesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("contracts/schemas")

    @Test("contracts/schemas holds exactly the schemas the code validates with")
    func exportedSchemasMatch() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files) == Set(EventContracts.schemaFiles.keys))
        for (name, text) in EventContracts.schemaFiles {
            let onDisk = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
            #expect(onDisk == text + "\n", "\(name) is stale: run omsctl schemas export contracts/schemas")
        }
    }
}
