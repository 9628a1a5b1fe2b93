// GearboxPolicy/Timeline: the policies a validation compares, one run's per-inference record,
// and the `timeline.csv` file (time_ms, khz, policy, variant, latency_ns, violation, switch, switch_ns,
// energy_j, temperature_c).

import GearboxCore
import GearboxRuntime

/// The policies `gearbox validate` can run side by side.
public enum ValidationPolicy: String, CaseIterable, Sendable, Comparable {
    /// ``VariantSelector``: the most accurate fitting variant, with hysteresis and feedback.
    case gearbox
    /// Always the most accurate variant.
    case staticAccurate = "static-accurate"
    /// Always the fastest variant (at the table's highest frequency).
    case staticFast = "static-fast"
    /// Clairvoyant: knows the trace and each inference's exact latency; switches are free.
    case oracle
    /// Simulated only: reads the trace as a cap (a thermal trip's) and picks the frequency at or
    /// below it together with the variant, the pair with the least energy per inference that
    /// meets the objective. Not in `all`: it needs energy figures and a virtual clock.
    case gearboxJoint = "gearbox-joint"

    /// What `all` runs: the policies every controller can run without energy figures.
    public static let standard: [ValidationPolicy] = [.gearbox, .staticAccurate, .staticFast, .oracle]

    /// Parses `gearbox`, `static-accurate`, `static-fast`, `oracle`, `gearbox-joint`, a comma list
    /// of them, or `all` (the ``standard`` four; `all,gearbox-joint` adds the joint policy).
    public static func list(parsing text: String) throws -> [ValidationPolicy] {
        if text.lowercased() == "all" { return standard }
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let policies = try names.flatMap { name -> [ValidationPolicy] in
            if name == "all" { return standard }
            guard let policy = ValidationPolicy(rawValue: name) else {
                throw PolicyError.badSetting(name: "--policy", reason: "unknown policy '\(name)' (use gearbox, static-accurate, static-fast, oracle, gearbox-joint or all)")
            }
            return [policy]
        }
        guard !policies.isEmpty else { throw PolicyError.badSetting(name: "--policy", reason: "empty (use gearbox or all)") }
        return Array(Set(policies)).sorted()
    }

    public static func < (a: ValidationPolicy, b: ValidationPolicy) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// One inference of one policy's run.
public struct TimelineRow: Equatable, Sendable {
    /// When the request started (before any switch), from the run's start.
    public var timeMs: Double
    /// The frequency the policy saw (the trace's, or the controller's read-back); for
    /// `gearbox-joint` the frequency it chose under the trace's cap.
    public var kHz: Int
    public var policy: ValidationPolicy
    public var variant: String
    /// What the caller waited: the switch paid just before this inference (if any) plus the inference.
    public var latencyNs: Nanoseconds
    /// `latencyNs` exceeded the objective's target.
    public var violation: Bool
    /// The policy switched variant just before this inference.
    public var switched: Bool
    /// Time the switch took (0 when none; counted in `latencyNs` except for the oracle, whose switches are free).
    public var switchNs: Nanoseconds
    /// Inferences this row stands for: 1, or with a sample window (emulated DVFS) the batch whose
    /// mean per-inference latency `latencyNs` is.
    public var inferences: Int
    /// Energy of the row's inferences (and the switch before them) in J; nil without energy figures.
    public var energyJ: Double?
    /// The die temperature at the row's start in °C, from the trace; nil when the trace has none.
    public var temperatureC: Double?

    public init(timeMs: Double, kHz: Int, policy: ValidationPolicy, variant: String, latencyNs: Nanoseconds, violation: Bool, switched: Bool, switchNs: Nanoseconds,
                inferences: Int = 1, energyJ: Double? = nil, temperatureC: Double? = nil) {
        self.timeMs = timeMs; self.kHz = kHz; self.policy = policy; self.variant = variant; self.latencyNs = latencyNs
        self.violation = violation; self.switched = switched; self.switchNs = switchNs; self.inferences = inferences
        self.energyJ = energyJ; self.temperatureC = temperatureC
    }
}

/// One policy's run over a trace.
public struct PolicyRun: Sendable {
    public var policy: ValidationPolicy
    public var rows: [TimelineRow]
    /// Accuracy per variant name (empty when the table has none).
    public var accuracyByVariant: [String: Double]
    /// Facts about the run worth keeping in the summary (fallbacks, what "oracle" knew).
    public var notes: [String]

    public init(policy: ValidationPolicy, rows: [TimelineRow], accuracyByVariant: [String: Double], notes: [String]) {
        self.policy = policy; self.rows = rows; self.accuracyByVariant = accuracyByVariant; self.notes = notes
    }
}

/// The `timeline.csv` format.
public enum Timeline {
    public static let header = "time_ms,khz,policy,variant,latency_ns,violation,switch,switch_ns,energy_j,temperature_c"

    /// Most rows one policy's simulated run may record: 2 000 000 (about 200 MB with its CSV
    /// line). A simulated run records one row per inference, so a long run of a fast table is
    /// refused up front (``checkRowBudget(durationMs:fastestLatencyNs:)``) instead of filling memory.
    public static let maximumRowsPerRun = 2_000_000

    /// Throws ``PolicyError/badSetting(name:reason:)`` when a run of `durationMs` whose inferences
    /// take at least `fastestLatencyNs` could record more than ``maximumRowsPerRun`` rows.
    public static func checkRowBudget(durationMs: Double, fastestLatencyNs: Nanoseconds) throws {
        let rows = durationMs * 1e6 / max(fastestLatencyNs.value, 1)
        guard rows <= Double(maximumRowsPerRun) else {
            throw PolicyError.badSetting(
                name: "--duration",
                reason: "\(DurationText.format(Nanoseconds(milliseconds: durationMs))) of inferences as fast as \(DurationText.format(fastestLatencyNs)) would record about \(Int(exactly: rows.rounded()).map(String.init) ?? "\(rows)") timeline rows per policy, more than \(maximumRowsPerRun) (Timeline.maximumRowsPerRun); give a shorter --duration")
        }
    }

    /// All rows of all runs, run by run, in time order within each.
    public static func csv(_ runs: [PolicyRun]) -> String {
        var lines = [header]
        lines.reserveCapacity(runs.reduce(1) { $0 + $1.rows.count })
        for run in runs {
            for r in run.rows {
                lines.append(
                    "\(DurationText.compact(r.timeMs)),\(r.kHz),\(r.policy.rawValue),\(field(r.variant)),\(nanoseconds(r.latencyNs.value)),"
                        + "\(r.violation ? 1 : 0),\(r.switched ? 1 : 0),\(nanoseconds(r.switchNs.value)),"
                        + "\(r.energyJ.map { String(format: "%.6g", $0) } ?? ""),\(r.temperatureC.map { String(format: "%.2f", $0) } ?? "")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A time in whole ns; a value no integer holds (infinite, or beyond Int) is written as
    /// Swift prints it rather than trapping.
    static func nanoseconds(_ value: Double) -> String {
        Int(exactly: value.rounded()).map(String.init) ?? "\(value)"
    }

    /// A CSV field, quoted when it holds a comma, quote or newline.
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
