// gearbox: the typed values of the flags several commands share, so ArgumentParser checks them
// and the help lists them. Spellings are the ones the flags always took.

import ArgumentParser
import GearboxCore
import GearboxPolicy
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

/// `validate --runner`: portfolio (real inference) or work (calibrated CPU work).
extension RealTimeRunnerKind: ExpressibleByArgument {}

/// `validate --minimize`: what the policy minimises among the fitting variants (energy).
extension VariantSelector.MinimizedQuantity: ExpressibleByArgument {}

/// `--pin`: pu, core, kind:N or none.
extension PinningRequest: ExpressibleByArgument {
    public init?(argument: String) {
        guard let request = try? PinningRequest(parsing: argument) else { return nil }
        self = request
    }
}
