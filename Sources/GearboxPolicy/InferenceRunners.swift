// GearboxPolicy/InferenceRunners: what the real-time validator runs. `VariantRunnerSet` adapts
// the portfolio's VariantRunners (real inference through a VariantBackend); `CalibratedWorkRunner`
// is a labelled stand-in: fixed CPU work per variant, calibrated so that its unthrottled time is
// the table's mean latency at the top frequency, for exercising the controllers before an
// engine-backed backend is available.

import GearboxCore
import GearboxHardware
import GearboxPortfolio
import GearboxProfiler
import GearboxRuntime

/// Real inference: one loaded ``VariantRunner`` per variant, switched with `activate()`.
public final class VariantRunnerSet: InferenceRunner {
    private let runners: [String: VariantRunner]
    private var active: VariantRunner?
    /// Where the runners came from ("engine", …), for the summary.
    public let backendName: String

    public init(runners: [VariantRunner], backendName: String) {
        var byName: [String: VariantRunner] = [:]
        for runner in runners { byName[runner.variant.name] = runner }
        self.runners = byName
        self.backendName = backendName
    }

    /// Loads every variant of `table` that `portfolio` has, through `backend`.
    /// - Throws: ``PolicyError/noUsableVariant(lut:reason:)`` when a table variant is not in the
    ///   portfolio; the backend's own error when a load fails.
    public convenience init(table: LookupTable, tableName: String, portfolio: Portfolio, backend: VariantBackend) throws {
        var loaded: [VariantRunner] = []
        for variant in table.variants {
            guard let entry = portfolio.variant(named: variant.name) else {
                throw PolicyError.noUsableVariant(lut: tableName, reason: "variant '\(variant.name)' is not in portfolio \(portfolio.directory) (profile that portfolio, or pass the one this table came from)")
            }
            loaded.append(try backend.load(entry, from: portfolio))
        }
        self.init(runners: loaded, backendName: backend.name)
    }

    public func activate(variantNamed name: String) throws {
        guard let runner = runners[name] else {
            throw PolicyError.runFailed(reason: "no runner loaded for variant '\(name)'")
        }
        try runner.activate()
        active = runner
    }

    public func runInference() throws {
        guard let active else { throw PolicyError.runFailed(reason: "inference before any variant was activated") }
        try active.runOnce()
    }
}

/// A stand-in for inference: a fixed amount of CPU work per variant (``SpinWorkload``), so that
/// throttling slows it as it would slow inference. Labelled as such in every summary it feeds.
public final class CalibratedWorkRunner: InferenceRunner {
    /// Target unthrottled time per variant name: the table's mean at its top frequency.
    public let targetNs: [String: Nanoseconds]
    /// Work per variant name, in SpinWorkload iterations (empty until calibrated).
    public private(set) var iterations: [String: Int] = [:]
    private var active = 0

    public init(table: LookupTable) {
        let predictor = LatencyPredictor(table: table)
        let top = table.frequenciesKHz.max() ?? table.variants.flatMap { $0.latency.keys.compactMap { Int($0) } }.max() ?? 1
        var targets: [String: Nanoseconds] = [:]
        for (i, variant) in table.variants.enumerated() {
            if let p = predictor.predict(variant: i, kHz: top) { targets[variant.name] = p.distribution.meanNs }
        }
        targetNs = targets
    }

    /// Measures the work rate on the calling thread; call it unthrottled, on the thread that will run.
    public func calibrate() {
        let perNs = Double(SpinWorkload.iterations(forNs: 10_000_000)) / 10_000_000
        iterations = targetNs.mapValues { max(1, Int($0.value * perNs)) }
    }

    public func activate(variantNamed name: String) throws {
        if iterations.isEmpty { calibrate() }
        guard let n = iterations[name] else { throw PolicyError.runFailed(reason: "no work calibrated for variant '\(name)'") }
        active = n
    }

    public func runInference() throws {
        SpinWorkload.consume(SpinWorkload.run(iterations: active))
    }
}
