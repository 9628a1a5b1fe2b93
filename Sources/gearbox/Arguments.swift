// gearbox: the typed values of the flags several commands share, so ArgumentParser checks them
// and the help lists them. Spellings are the ones the flags always took.

import ArgumentParser
import GearboxCore
import GearboxProfiler

/// `--controller`: what sets the frequency a command measures at (`predicted` is a label for
/// fitted figures, not a controller).
enum ControllerArgument: String, ExpressibleByArgument, CaseIterable {
    case real, emulated, simulated

    init?(argument: String) { self.init(rawValue: argument.lowercased()) }

    var source: MeasurementSource {
        switch self {
        case .real: return .real
        case .emulated: return .emulated
        case .simulated: return .simulated
        }
    }
}

/// `validate --runner`: what runs while the trace plays in real time.
enum RunnerArgument: String, ExpressibleByArgument, CaseIterable {
    /// Real inference through the portfolio's variant runners.
    case portfolio
    /// Fixed CPU work per variant, calibrated to the table: a labelled stand-in for inference.
    case work
}

/// `--pin`: pu, core, kind:N or none.
extension PinningRequest: ExpressibleByArgument {
    public init?(argument: String) {
        guard let request = try? PinningRequest(parsing: argument) else { return nil }
        self = request
    }
}
