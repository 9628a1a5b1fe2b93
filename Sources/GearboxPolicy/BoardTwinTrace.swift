// GearboxPolicy/BoardTwinTrace: a thermal trace from a board model's twin. The board runs a
// sustained load (every domain at the model's utilisation, the governor `performance` where the
// driver offers it) on a virtual clock; its RC thermal model heats the die and its trip points cap
// the clock. The trace records, per interval, the frequency the cap lets the domain run and the die
// temperature: what `gearbox trace record --while` records inside `gearbox board run`, without
// real time passing. Labelled simulated.

import GearboxCore
import GearboxHardware
import GearboxRuntime

/// Plays a board model under sustained load and samples its frequency cap and temperature.
public struct BoardTwinTrace: Sendable {
    public let model: BoardModel
    public let ambientCelsius: Double
    /// The DVFS domain whose frequency the trace records.
    public let domain: Int

    public init(model: BoardModel, ambientCelsius: Double? = nil, domain: Int = 0) {
        self.model = model
        self.ambientCelsius = ambientCelsius ?? model.thermal.ambientCelsius
        self.domain = min(max(0, domain), model.domains.count - 1)
    }

    /// The trace over `durationMs`, one sample every `intervalMs` (frequency of the domain's first
    /// cpufreq policy and die temperature at the sample), named `name`.
    /// - Throws: ``PolicyError/badSetting(name:reason:)`` past the trace budgets.
    public func trace(durationMs: Double, intervalMs: Double, name: String? = nil) throws -> FrequencyTrace {
        try FrequencyTrace.checkDuration(durationMs, setting: "--duration")
        if let problem = FrequencyTrace.sampleBudgetProblem(durationMs: durationMs, everyMs: intervalMs) {
            throw PolicyError.badSetting(name: "interval", reason: problem)
        }
        guard intervalMs > 0, durationMs > 0 else {
            throw PolicyError.badSetting(name: "interval", reason: "interval and duration must be positive")
        }
        var board = BoardSimulation(model: model, ambientCelsius: ambientCelsius)
        for (index, policy) in board.policies.enumerated() where model.domains[policy.domain].governors.contains("performance") {
            board.write(policy: index, file: "scaling_governor", value: "performance")
        }
        let policy = board.policies.firstIndex { $0.domain == domain } ?? 0
        let stepNs = Int64((intervalMs * 1e6).rounded())
        var samples: [FrequencyTrace.Sample] = []
        var t = 0.0
        while t < durationMs {
            samples.append(.init(timeMs: t, kHz: [board.policies[policy].appliedKHz], temperatureC: board.celsius))
            board.advance(byNs: stepNs)
            t += intervalMs
        }
        return FrequencyTrace(
            name: name ?? "board-twin:board=\(model.name)", domainNames: ["khz"], samples: samples, durationMs: durationMs,
            source: .simulated)
    }
}
