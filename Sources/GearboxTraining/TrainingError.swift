// GearboxTraining/TrainingError: the one error type of the training module. Every case renders
// as one line that names the file or setting at fault and how to fix it.

import GearboxCore

/// Errors from reading data sets, training, pruning and exporting portfolios.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A data file could not be read at all.
    case unreadable(path: String, reason: String)
    /// A gzip stream was corrupt or cut short.
    case badGzip(path: String, reason: String)
    /// An IDX file's header or size does not match the IDX format.
    case badIDX(path: String, reason: String)
    /// Images and labels disagree, or the data set is not what was expected.
    case badDataset(path: String, reason: String)
    /// A checkpoint could not be used.
    case badCheckpoint(path: String, reason: String)
    /// A setting (CLI flag or option) has a value that cannot work.
    case badSetting(name: String, reason: String)
    /// A check that must hold (losslessness, export equality) failed.
    case checkFailed(what: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason) (install dataset-fashion-mnist or pass --data-dir)"
        case let .badGzip(path, reason):
            return "\(path) is not a valid gzip stream: \(reason) (re-download or reinstall the file)"
        case let .badIDX(path, reason):
            return "\(path) is not a valid IDX file: \(reason) (re-download or reinstall the file)"
        case let .badDataset(path, reason):
            return "\(path): \(reason) (check the data: `gearbox portfolio eval --help` lists the formats it reads)"
        case let .badCheckpoint(path, reason):
            return "checkpoint \(path) is unusable: \(reason) (delete it to start that step afresh)"
        case let .badSetting(name, reason):
            return "invalid \(name): \(reason)"
        case let .checkFailed(what, reason):
            return "\(what) check failed: \(reason)"
        }
    }
}

extension TrainingError: ClassifiedError {
    /// A check that must hold and does not is a failure (1); the rest are inputs (2).
    public var exitStatus: ExitStatus {
        switch self {
        case .checkFailed: return .failure
        case .unreadable, .badGzip, .badIDX, .badDataset, .badCheckpoint, .badSetting: return .inputError
        }
    }
}
