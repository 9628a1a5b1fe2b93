// GearboxCore/ExitStatus: what kind of failure an error is, so the CLI maps every error to an
// exit code in one place. Each module's error type says its own kind; nothing else decides.

/// The three outcomes a Gearbox command can end with.
public enum ExitStatus: Int32, Sendable {
    /// Everything asked for was done.
    case success = 0
    /// A measurement or validation failed, or the environment did (a full disk, a lost device).
    case failure = 1
    /// The user's input was wrong: a flag, a file's contents, a path. Fix the input and rerun.
    case inputError = 2
}

/// An error that knows which exit status it ends a command with.
public protocol ClassifiedError: Error {
    var exitStatus: ExitStatus { get }
}

extension FileFormatError: ClassifiedError {
    /// A file that cannot be written is the environment's failure (disk full, read-only);
    /// anything wrong with a file Gearbox reads is an input error.
    public var exitStatus: ExitStatus {
        switch self {
        case .cannotWrite: return .failure
        case .cannotRead, .malformed, .unsupportedSchema, .invalidValue: return .inputError
        }
    }
}
