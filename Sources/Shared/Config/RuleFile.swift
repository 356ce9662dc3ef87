import Crypto
import Foundation
import Synchronization

/// Reading rule files from `OMS_CONFIG_DIR`: every problem names the file, the
/// place and what is wrong, so that a worker stops at start with one clear line.
extension ConfigurationFileError {
    /// Reads `directory/fileName` as JSON and builds the rules with `build`.
    public static func load<Rules>(_ fileName: String, directory: String, build: (JSONValue) throws -> Rules) throws -> Rules {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationFileError(file: path, location: nil, problem: "cannot be read")
        }
        return try parse(Array(data), path: path, build: build)
    }

    public static func parse<Rules>(_ bytes: [UInt8], path: String, build: (JSONValue) throws -> Rules) throws -> Rules {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw ConfigurationFileError(file: path, location: lineAndColumn(of: error.offset, in: bytes), problem: error.problem)
        }
        do {
            let rules = try build(document)
            RuleFileLog.record(path: path, bytes: bytes, validFrom: (rules as? any VersionedRules)?.validFrom)
            return rules
        } catch let error as RuleFileProblem {
            throw ConfigurationFileError(file: path, location: line(ofKey: error.key, in: bytes), problem: "\(error.path): \(error.problem)")
        }
    }
}

/// A problem in a configuration file: stops the worker at start.
public struct ConfigurationFileError: Error, CustomStringConvertible {
    public let file: String
    public let location: (line: Int, column: Int)?
    public let problem: String

    public init(file: String, location: (line: Int, column: Int)?, problem: String) {
        self.file = file
        self.location = location
        self.problem = problem
    }

    public var description: String {
        if let location { return "configuration error: \(file):\(location.line):\(location.column): \(problem)" }
        return "configuration error: \(file): \(problem)"
    }

    public static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    /// The first line mentioning `"key"`, to point a reader at the place.
    public static func line(ofKey key: String, in bytes: [UInt8]) -> (line: Int, column: Int)? {
        let needle = Array("\"\(key)\"".utf8)
        guard needle.count <= bytes.count else { return nil }
        for start in 0...(bytes.count - needle.count) where bytes[start..<start + needle.count].elementsEqual(needle) {
            return lineAndColumn(of: start, in: bytes)
        }
        return nil
    }
}

public struct RuleFileProblem: Error {
    public let path: String
    public let key: String
    public let problem: String

    public init(path: String, key: String, problem: String) {
        self.path = path
        self.key = key
        self.problem = problem
    }
}

/// Typed access to a configuration object with path-naming errors.
public struct RuleReader {
    public let value: JSONValue
    public let path: String

    public init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    private func full(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func member(_ key: String) throws -> JSONValue {
        guard case .object(let members) = value else { throw RuleFileProblem(path: path, key: key, problem: "must be an object") }
        guard let member = members[key] else { throw RuleFileProblem(path: full(key), key: key, problem: "is missing") }
        return member
    }

    public func string(_ key: String) throws -> String {
        guard let text = try member(key).stringValue else { throw RuleFileProblem(path: full(key), key: key, problem: "must be a string") }
        return text
    }

    public func strings(_ key: String) throws -> [String] {
        let list = try member(key).arrayValue ?? []
        let texts = list.compactMap(\.stringValue)
        guard case .array = try member(key), texts.count == list.count else {
            throw RuleFileProblem(path: full(key), key: key, problem: "must be a list of strings")
        }
        return texts
    }

    public func integer(_ key: String, minimum: Int) throws -> Int {
        guard let number = try member(key).int64Value else { throw RuleFileProblem(path: full(key), key: key, problem: "must be an integer") }
        guard number >= minimum else { throw RuleFileProblem(path: full(key), key: key, problem: "must be at least \(minimum), found \(number)") }
        return Int(number)
    }

    public func object(_ key: String) throws -> [String: JSONValue] {
        guard let members = try member(key).objectValue else { throw RuleFileProblem(path: full(key), key: key, problem: "must be an object") }
        return members
    }

    public func child(_ key: String) throws -> RuleReader {
        _ = try object(key)
        return RuleReader(try member(key), path: full(key))
    }

    /// An optional member: nil when absent.
    public func optional(_ key: String) -> JSONValue? {
        value.objectValue?[key]
    }

    /// The path of `key` below this object, for messages.
    public func pathOf(_ key: String) -> String { full(key) }
}

/// Every rule file this process loaded (path, SHA-256, validFrom), so that the worker records them in
/// `oms.rule_loads` once connected: `omsctl rules history` shows which rules were in force when.
public enum RuleFileLog {
    public struct Entry: Sendable, Equatable {
        public let path: String
        public let sha256: String
        public let validFrom: String?
    }

    private static let entries = Mutex<[Entry]>([])

    static func record(path: String, bytes: [UInt8], validFrom: String?) {
        let digest = lowercaseHex(SHA256.hash(data: bytes))
        let entry = Entry(path: path, sha256: digest, validFrom: validFrom)
        entries.withLock { list in if !list.contains(entry) { list.append(entry) } }
    }

    public static var loaded: [Entry] { entries.withLock { $0 } }

    /// Writes what was loaded; a file whose newest row for this stage has the same hash is not written again.
    public static func store(stage: String, database: PostgresConnection) throws {
        let list = loaded
        guard !list.isEmpty else { return }
        let host = ProcessInfo.processInfo.hostName
        try database.query("""
            INSERT INTO oms.rule_loads (stage, file, sha256, valid_from, loaded_by)
            SELECT \(stage), f, h, v, \("oms-\(stage) pid \(ProcessInfo.processInfo.processIdentifier) on \(host)")
            FROM unnest(\(list.map(\.path))::text[], \(list.map(\.sha256))::text[], \(list.map(\.validFrom))::text[]) AS u(f, h, v)
            WHERE NOT EXISTS (SELECT 1 FROM oms.rule_loads r WHERE r.id = (SELECT max(id) FROM oms.rule_loads l WHERE l.stage = \(stage) AND l.file = u.f)
                              AND r.sha256 = u.h)
            """)
    }
}
