// GearboxProfiler/ProfilerError: the one error enum of the profiler module. Every case renders as
// one line naming the file or setting and the fix, and says its own exit status.

import GearboxCore

/// Why a sweep, a lookup table or a measurement failed.
public enum ProfilerError: Error, Equatable, CustomStringConvertible {
    /// A command-line style setting could not be understood (`--pin`, `--frequencies`, ...).
    case invalidSetting(name: String, value: String, expected: String)
    /// A lookup table, checkpoint or sample database could not be read.
    case unreadable(path: String, reason: String)
    /// A checkpoint belongs to a different sweep than the one requested.
    case checkpointMismatch(path: String, reason: String)
    /// A checkpoint exists but `--resume` was not given.
    case checkpointExists(path: String)
    /// The sample database could not be written.
    case sampleStore(path: String, reason: String)
    /// The frequency controller refused a change or its read-back disagrees.
    case frequency(reason: String)
    /// The measuring thread could not be created or pinned.
    case thread(reason: String)
    /// A variant failed while being measured.
    case measurement(variant: String, reason: String)
    /// The sweep stopped on purpose before finishing (a test's stop-after-K, or a signal).
    case stoppedEarly(completedCells: Int, checkpoint: String)

    public var description: String {
        switch self {
        case let .invalidSetting(name, value, expected):
            return "\(name) '\(value)' is not valid: expected \(expected)"
        case let .unreadable(path, reason):
            return "\(path): \(reason) (regenerate it with the gearbox command that wrote it)"
        case let .checkpointMismatch(path, reason):
            return "\(path) belongs to a different sweep (\(reason)); rerun without --resume after deleting it, or use the original settings"
        case let .checkpointExists(path):
            return "\(path) holds an unfinished sweep: pass --resume to continue it, or delete it to start over"
        case let .sampleStore(path, reason):
            return "sample database \(path): \(reason) (check the directory is writable, or delete the file to start over)"
        case let .frequency(reason):
            return "frequency control: \(reason)"
        case let .thread(reason):
            return "measuring thread: \(reason)"
        case let .measurement(variant, reason):
            return "variant '\(variant)': \(reason)"
        case let .stoppedEarly(completed, checkpoint):
            return "sweep stopped after \(completed) cells; continue it with --resume (checkpoint \(checkpoint))"
        }
    }
}

extension ProfilerError: ClassifiedError {
    /// Settings, unreadable tables and checkpoints that belong elsewhere are input errors (2);
    /// a sample database that cannot be written, a controller or thread that fails, and a sweep
    /// stopped early are failures (1).
    public var exitStatus: ExitStatus {
        switch self {
        case .invalidSetting, .unreadable, .checkpointMismatch, .checkpointExists: return .inputError
        case .sampleStore, .frequency, .thread, .measurement, .stoppedEarly: return .failure
        }
    }
}
