// GearboxReport/Inputs/ValidationRun: a `gearbox validate` output directory: summary.json plus
// timeline.csv when it is there (a missing timeline degrades the report, it doesn't stop it).

import Foundation
import GearboxCore
import GearboxPolicy

/// A validation directory read for reporting.
public struct ValidationRun: Sendable, Equatable {
    public var directory: String
    public var summary: ValidationSummary
    /// nil when the directory has no timeline.csv (said in `notes`).
    public var timeline: TimelineFile?
    public var notes: [String]

    public init(directory: String, summary: ValidationSummary, timeline: TimelineFile?, notes: [String] = []) {
        self.directory = directory; self.summary = summary; self.timeline = timeline; self.notes = notes
    }

    /// Reads `directory/summary.json` and, when present, `directory/timeline.csv`.
    /// A path to summary.json itself is accepted too.
    public static func load(from path: String) throws -> ValidationRun {
        var directory = path
        if path.hasSuffix(".json") { directory = (path as NSString).deletingLastPathComponent }
        if directory.isEmpty { directory = "." }
        let summaryPath = (directory as NSString).appendingPathComponent("summary.json")
        guard FileManager.default.fileExists(atPath: summaryPath) else { throw ReportError.validationNotFound(path: directory) }
        let summary = try JSONFile.read(ValidationSummary.self, from: summaryPath)
        let timelinePath = (directory as NSString).appendingPathComponent("timeline.csv")
        if FileManager.default.fileExists(atPath: timelinePath) {
            return ValidationRun(directory: directory, summary: summary, timeline: try TimelineFile.read(from: timelinePath))
        }
        return ValidationRun(directory: directory, summary: summary, timeline: nil,
                             notes: ["\(timelinePath) not found: the timeline is not drawn (rerun gearbox validate to write it)"])
    }
}
