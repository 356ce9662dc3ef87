import Foundation

/// Rules that say from when they apply.
public protocol VersionedRules: Sendable {
    /// RFC 3339 instant from which these rules apply.
    var validFrom: String { get }
}

/// Every version of one rule file in a directory: `<name>.json` and any number of
/// `<name>.<label>.json` (e.g. `capture.2027-01.json`), each with its own
/// `validFrom`. For an instant, the version with the latest `validFrom` not after
/// it applies, so a change can be put in place before the day it takes effect.
/// (An instant before every version gets the earliest one.)
public struct RuleVersions<Rules: VersionedRules>: Sendable {
    public struct Version: Sendable {
        public let file: String
        public let validFrom: Date
        public let rules: Rules

        public init(file: String, validFrom: Date, rules: Rules) {
            self.file = file
            self.validFrom = validFrom
            self.rules = rules
        }
    }

    /// Sorted by `validFrom`, oldest first; never empty.
    public let versions: [Version]

    public init(_ versions: [Version]) throws {
        guard !versions.isEmpty else { throw ConfigurationFileError(file: "(none)", location: nil, problem: "no rule file") }
        let sorted = versions.sorted { $0.validFrom < $1.validFrom }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.validFrom == later.validFrom {
            throw ConfigurationFileError(file: later.file, location: nil,
                                         problem: "validFrom \(later.rules.validFrom) is also the validFrom of \(earlier.file); each version needs its own")
        }
        self.versions = sorted
    }

    /// Reads `<name>.json` (required) and every `<name>.<label>.json` next to it.
    public static func load(_ name: String, directory: String, build: (JSONValue) throws -> Rules) throws -> RuleVersions {
        let main = "\(name).json"
        let others = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("\(name).") && $0.hasSuffix(".json") && $0 != main }.sorted()
        var versions: [Version] = []
        for file in [main] + others {
            let rules = try ConfigurationFileError.load(file, directory: directory, build: build)
            let path = (directory as NSString).appendingPathComponent(file)
            let instant = EventTime.parse(rules.validFrom)
            guard instant != .distantPast else {
                throw ConfigurationFileError(file: path, location: nil, problem: "validFrom: must be an RFC 3339 date-time")
            }
            versions.append(Version(file: path, validFrom: instant, rules: rules))
        }
        return try RuleVersions(versions)
    }

    /// The version in force at the instant `instant` gives, computed only when there is
    /// more than one version (reading a time from text is not free per message).
    public func rules(at instant: () -> Date) -> Rules {
        versions.count == 1 ? versions[0].rules : rules(at: instant())
    }

    /// The version in force at `instant`.
    public func rules(at instant: Date) -> Rules {
        versions.last { $0.validFrom <= instant }?.rules ?? versions[0].rules
    }
}
