// GearboxRuntime/PolicyError: the one error enum of the policy (the selector here, validation in
// GearboxPolicy). Every case renders as one line that names the input (objective text, trace
// file and line, setting) and the fix.

import GearboxCore

/// Errors from building a selector, reading or generating traces, and validating a policy.
public enum PolicyError: Error, Equatable, CustomStringConvertible {
    /// An objective string such as `p99<=8ms` could not be parsed.
    case badObjective(text: String, reason: String)
    /// A duration setting such as `--duration 60s` could not be parsed.
    case badDuration(setting: String, text: String)
    /// A trace spec such as `square:period=2s` could not be parsed or generated.
    case badTraceSpec(spec: String, reason: String)
    /// A recorded trace CSV has a bad line.
    case badTraceFile(path: String, line: Int, reason: String)
    /// No variant of the lookup table can be used (memory budget, missing cells).
    case noUsableVariant(lut: String, reason: String)
    /// The machine (or sysfs root) has no cpufreq, so its frequency cannot be recorded.
    case noCpufreq(root: String)
    /// A setting has a value outside its valid range.
    case badSetting(name: String, reason: String)
    /// Real or emulated validation failed while running inference or moving the clock.
    case runFailed(reason: String)

    public var description: String {
        switch self {
        case let .badObjective(text, reason):
            return "objective '\(text)': \(reason) (write it like p99<=8ms, p50<=2.5ms or mean<=500us)"
        case let .badDuration(setting, text):
            return "\(setting) '\(text)' is not a duration (write it like 60s, 100ms, 2.5s, 1m or 500us)"
        case let .badTraceSpec(spec, reason):
            return "trace '\(spec)': \(reason)"
        case let .badTraceFile(path, line, reason):
            return "\(path):\(line): \(reason) (a trace CSV starts with 'time_ms,khz' and has one row per sample)"
        case let .noUsableVariant(lut, reason):
            return "\(lut): no usable variant: \(reason)"
        case let .noCpufreq(root):
            let base = root == "/" ? "" : root
            return "no cpufreq on this machine (\(base)/sys/devices/system/cpu has no scaling_cur_freq): "
                + "its frequency cannot be recorded; record on a board with cpufreq or use a generator such as 'step'"
        case let .badSetting(name, reason):
            return "\(name): \(reason)"
        case let .runFailed(reason):
            return "validation run failed: \(reason)"
        }
    }
}

extension PolicyError: ClassifiedError {
    /// A run that fails and a machine without cpufreq are failures (1); everything else is
    /// input the user can fix (2).
    public var exitStatus: ExitStatus {
        switch self {
        case .runFailed, .noCpufreq: return .failure
        case .badObjective, .badDuration, .badTraceSpec, .badTraceFile, .noUsableVariant, .badSetting: return .inputError
        }
    }
}
