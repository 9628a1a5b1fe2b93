// GearboxReport/ReportError: everything that can go wrong reading a report's inputs or writing it;
// each case renders as one line naming the file and the fix.

import GearboxCore

/// Errors from `GearboxReport`; `description` is one line naming the file and the fix.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    /// A `timeline.csv` lacks a required column.
    case timelineMissingColumn(path: String, column: String)
    /// A `timeline.csv` row could not be read.
    case timelineMalformed(path: String, line: Int, reason: String)
    /// `--validation` named a directory without `summary.json`.
    case validationNotFound(path: String)
    /// The lookup table has no variants to report on.
    case emptyLookupTable(path: String)
    /// Two lookup tables share no variant at any common frequency.
    case nothingToCompare(baseline: String, candidate: String, reason: String)

    public var description: String {
        switch self {
        case let .timelineMissingColumn(path, column):
            return "\(path) has no '\(column)' column (expected time_ms,khz,policy,variant,latency_ns,violation,switch; rerun gearbox validate)"
        case let .timelineMalformed(path, line, reason):
            return "\(path) line \(line): \(reason) (rerun gearbox validate to rewrite the timeline)"
        case let .validationNotFound(path):
            return "\(path) has no summary.json (pass the directory gearbox validate wrote, e.g. Reports/<run>)"
        case let .emptyLookupTable(path):
            return "\(path) has no variants (profile a portfolio first: gearbox profile)"
        case let .nothingToCompare(baseline, candidate, reason):
            return "\(baseline) and \(candidate) have nothing in common to compare: \(reason) (compare tables of the same portfolio)"
        }
    }
}

extension ReportError: ClassifiedError {
    /// Every case is about an input file: exit 2.
    public var exitStatus: ExitStatus { .inputError }
}
