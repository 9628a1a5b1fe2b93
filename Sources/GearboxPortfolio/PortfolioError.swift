// GearboxPortfolio/PortfolioError: the one error enum of the portfolio module. Every case renders
// as one line naming the portfolio, variant or file and what to do about it.

import GearboxCore

/// Why a portfolio or one of its variants could not be loaded or run.
public enum PortfolioError: Error, Equatable, CustomStringConvertible {
    /// `portfolio.json` is missing, unreadable or malformed (the underlying one-line reason).
    case manifest(path: String, reason: String)
    /// The manifest is readable but its content is inconsistent (duplicate names, no variants, ...).
    case invalidManifest(path: String, reason: String)
    /// A variant's file is not where the manifest says.
    case missingFile(variant: String, path: String)
    /// A variant's file hash does not match the manifest.
    case hashMismatch(variant: String, path: String, expected: String, actual: String)
    /// The backend could not load a variant's file in its declared format.
    case cannotLoad(variant: String, path: String, reason: String)
    /// A loaded variant failed while running.
    case runFailed(variant: String, reason: String)
    /// Writing a portfolio (e.g. the synthetic default) failed.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .manifest(path, reason):
            return "\(path): \(reason) (regenerate it with 'gearbox portfolio synth' or 'gearbox portfolio build')"
        case let .invalidManifest(path, reason):
            return "\(path): \(reason) (fix the manifest or regenerate the portfolio)"
        case let .missingFile(variant, path):
            return "variant '\(variant)': file \(path) does not exist (regenerate the portfolio or fix its 'file' entry)"
        case let .hashMismatch(variant, path, expected, actual):
            return "variant '\(variant)': \(path) has SHA-256 \(actual.prefix(12))…, the manifest says \(expected.prefix(12))… (the file changed; regenerate the portfolio)"
        case let .cannotLoad(variant, path, reason):
            return "variant '\(variant)': cannot load \(path): \(reason)"
        case let .runFailed(variant, reason):
            return "variant '\(variant)': inference failed: \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason) (check the directory is writable)"
        }
    }
}

extension PortfolioError: ClassifiedError {
    /// A manifest or variant file that is missing, changed or does not load is an input error
    /// (2); inference that fails while running, or a portfolio that cannot be written, is a
    /// failure (1).
    public var exitStatus: ExitStatus {
        switch self {
        case .manifest, .invalidManifest, .missingFile, .hashMismatch, .cannotLoad: return .inputError
        case .runFailed, .cannotWrite: return .failure
        }
    }
}
