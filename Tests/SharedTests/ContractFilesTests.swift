import Foundation
import Shared
import Testing

@Suite("Contract files in the repository")
struct ContractFilesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("contracts/schemas")

    @Test("every schema file in contracts/schemas is compiled in and registered, byte for byte")
    func schemaFilesAreTheSource() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files) == Set(EventContracts.schemaFiles.keys), "a new schema file needs its line in EventContracts.embedded")
        for (name, text) in EventContracts.schemaFiles {
            let onDisk = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
            #expect(onDisk == text, "\(name) differs from the embedded copy: rebuild")
        }
    }
}

@Suite("AsyncAPI document")
struct AsyncAPIDocumentTests {
    @Test("every schema the AsyncAPI document references exists, and every topic it names is a known topic")
    func references() throws {
        let root = ContractFilesTests.directory.deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("asyncapi.yaml"), encoding: .utf8)
        let referenced = text.components(separatedBy: "'./schemas/").dropFirst().map { String($0.prefix { $0 != "'" }) }
        #expect(!referenced.isEmpty)
        for name in referenced {
            #expect(EventContracts.schemaFiles[name] != nil, "\(name) is referenced but not a contract schema")
        }
        let addresses = text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("address:") }
            .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) }
        #expect(addresses.count >= 4)
        for address in addresses { #expect(Topic.all.contains(address), "\(address) is not a topic of SPEC §8") }
    }
}
