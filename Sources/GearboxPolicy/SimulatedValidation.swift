// GearboxPolicy/SimulatedValidation: replays a frequency trace on a virtual clock. Each
// inference's latency is drawn from the variant's reconstructed distribution at the frequency in
// force (work is rescaled when the frequency changes mid-inference), so a run is fast and exactly
// reproducible from its seed. Used for the `simulated` controller and for every property test.

import GearboxCore
import GearboxProfiler
import GearboxRuntime

/// An injected slow-down: every latency in `[startMs, endMs)` is multiplied by `factor`
/// (thermal throttling or interference the table does not know about).
public struct Slowdown: Equatable, Sendable {
    public var startMs: Double
    public var endMs: Double
    public var factor: Double
    public init(startMs: Double, endMs: Double = .infinity, factor: Double) {
        self.startMs = startMs; self.endMs = endMs; self.factor = factor
    }

    /// Parses `1.3@10s` (factor from 10 s on) or `1.3@10s-20s`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, let factor = Double(parts[0]), factor > 0 else {
            throw PolicyError.badSetting(name: "--slowdown", reason: "'\(text)' must look like 1.3@10s or 1.3@10s-20s")
        }
        let range = parts[1].split(separator: "-", maxSplits: 1).map(String.init)
        let start = try DurationText.milliseconds(range[0], setting: "--slowdown start")
        let end = range.count == 2 ? try DurationText.milliseconds(range[1], setting: "--slowdown end") : .infinity
        guard end > start else { throw PolicyError.badSetting(name: "--slowdown", reason: "'\(text)' ends before it starts") }
        self.init(startMs: start, endMs: end, factor: factor)
    }
}

/// Runs policies against a trace on a virtual clock with latencies drawn from the table.
public final class SimulatedValidation {
    /// What a simulated run needs besides the table, trace and objective.
    public struct Options: Sendable {
        public var seed: UInt64
        public var durationMs: Double
        /// Which domain of the trace drives the clock.
        public var domain: Int
        public var slowdowns: [Slowdown]
        public var selector: VariantSelector.Configuration
        /// Energy figures for `--minimize energy`, `gearbox-joint` and the summary's energy; nil
        /// reads the table's cells (and the run has no energy without them).
        public var energy: EnergyEstimate?
        public init(
            seed: UInt64 = 1, durationMs: Double, domain: Int = 0, slowdowns: [Slowdown] = [],
            selector: VariantSelector.Configuration = VariantSelector.Configuration(), energy: EnergyEstimate? = nil
        ) {
            self.seed = seed; self.durationMs = durationMs; self.domain = domain; self.slowdowns = slowdowns
            self.selector = selector; self.energy = energy
        }
    }

    public let table: LookupTable
    public let trace: FrequencyTrace
    public let objective: LatencyObjective
    public let options: Options
    let tableName: String
    /// Variant i of the selector is `table.variants[tableIndex[i]]`.
    let tableIndex: [Int]
    let reference: VariantSelector
    let predictor: LatencyPredictor
    private var distributions: [Int: [LatencyDistribution]] = [:]

    /// - Throws: ``PolicyError`` when no variant is usable or the trace lacks the domain.
    public init(table: LookupTable, trace: FrequencyTrace, objective: LatencyObjective, options: Options, tableName: String = "lookup table") throws {
        guard options.domain >= 0, options.domain < trace.domainNames.count, !trace.samples.isEmpty else {
            throw PolicyError.badSetting(name: "--domain", reason: "trace \(trace.name) has \(trace.domainNames.count) domain(s) and \(trace.samples.count) samples; pick a domain in 0..<\(trace.domainNames.count)")
        }
        guard options.durationMs > 0 else { throw PolicyError.badSetting(name: "--duration", reason: "must be positive") }
        self.table = table; self.trace = trace; self.objective = objective; self.options = options
        self.tableName = tableName
        reference = try VariantSelector(
            table: table, objective: objective, configuration: options.selector, tableName: tableName,
            energyJoules: Self.energyJoules(options.energy))
        tableIndex = reference.variants.map { v in table.variants.firstIndex { $0.name == v.name } ?? 0 }
        predictor = LatencyPredictor(table: table)
    }

    /// The selector's energy source: the estimate's figures, or nil to read the table's cells.
    static func energyJoules(_ energy: EnergyEstimate?) -> ((Int, Int) -> Double?)? {
        energy.map { estimate in { estimate.joules(variant: $0, kHz: $1) } }
    }

    /// A selector like the reference but minimising energy: what `gearbox-joint` decides with.
    func jointSelector() throws -> VariantSelector {
        var configuration = options.selector
        configuration.minimize = .energy
        return try VariantSelector(
            table: table, objective: objective, configuration: configuration, tableName: tableName,
            energyJoules: Self.energyJoules(options.energy))
    }

    /// `gearbox-joint`'s frequency under `capKHz`: of the table's frequencies at or below the cap
    /// (and the cap itself), the one where the least-energy fitting variant uses least energy;
    /// the cap when nothing fits anywhere.
    func jointFrequency(capKHz: Int, selector: VariantSelector) -> Int {
        var best: (kHz: Int, joules: Double)?
        for kHz in Set(table.frequenciesKHz.filter { $0 <= capKHz } + [capKHz]) {
            for v in 0..<selector.variants.count where selector.fits(variantIndex: v, frequencyKHz: kHz) {
                guard let joules = selector.energyJoules(variantIndex: v, frequencyKHz: kHz) else { continue }
                if best == nil || joules < best!.joules || (joules == best!.joules && kHz > best!.kHz) { best = (kHz, joules) }
            }
        }
        return best?.kHz ?? capKHz
    }

    /// The variants' true distributions at `kHz` (the table's, as the simulator's ground truth).
    func truth(kHz: Int) -> [LatencyDistribution] {
        if let cached = distributions[kHz] { return cached }
        let fallback = LatencyDistribution(cell: .init(p50Ns: 0, p90Ns: 0, p99Ns: 0, meanNs: 0, stddevNs: 0, ciHalfWidthNs: 0, samples: 0, source: .simulated))
        let result = tableIndex.map { predictor.predict(variant: $0, kHz: max(1, kHz))?.distribution ?? fallback }
        distributions[kHz] = result
        return result
    }

    /// Latency of variant `v` at quantile `u` starting at `startNs`, integrating work across
    /// frequency changes and slow-downs: the fraction of the inference left is carried into each
    /// new piece at that piece's speed.
    func latencyNs(variant v: Int, quantile u: Double, startNs: Double, ceilingKHz: Int = .max) -> Double {
        let samples = trace.samples
        var index = trace.sampleIndex(atMs: startNs / 1e6)
        var t = startNs, remaining = 1.0, total = 0.0
        for _ in 0..<100_000 {
            var factor = 1.0, boundary = Double.infinity
            for s in options.slowdowns {
                let a = s.startMs * 1e6, b = s.endMs * 1e6
                if t >= a && t < b { factor *= s.factor; boundary = min(boundary, b) } else if a > t { boundary = min(boundary, a) }
            }
            let full = truth(kHz: min(samples[index].kHz[options.domain], ceilingKHz))[v].quantileNs(u).value * factor
            let nextSample = index + 1 < samples.count ? samples[index + 1].timeMs * 1e6 : .infinity
            let next = min(nextSample, boundary)
            if full <= 0 { return total }
            if t + remaining * full <= next { return total + remaining * full }
            remaining -= (next - t) / full
            total += next - t
            t = next
            if next == nextSample { index += 1 }
        }
        return total
    }

    /// Runs `policy` over the trace from virtual time 0 to the duration.
    public func run(_ policy: ValidationPolicy) -> PolicyRun {
        var rng = SplitMix64(seed: options.seed)
        let selector = (try? VariantSelector(
            table: table, objective: objective, configuration: options.selector, tableName: tableName,
            energyJoules: Self.energyJoules(options.energy))) ?? reference
        let joint = policy == .gearboxJoint ? try? jointSelector() : nil
        let names = reference.variants.map(\.name)
        let count = names.count
        let target = objective.targetNs.value
        let topKHz = trace.distinctKHz(domain: options.domain).last ?? 1
        // Ranking for the baselines and the oracle: score descending, then latency at the top frequency.
        let topTruth = truth(kHz: max(topKHz, table.frequenciesKHz.max() ?? topKHz))
        let byScore = (0..<count).sorted {
            let a = reference.score(ofVariant: $0), b = reference.score(ofVariant: $1)
            return a != b ? a > b : topTruth[$0].meanNs < topTruth[$1].meanNs
        }
        let fastest = (0..<count).min { topTruth[$0].meanNs < topTruth[$1].meanNs } ?? 0

        var rows: [TimelineRow] = []
        var t = 0.0
        let end = options.durationMs * 1e6
        var current: Int?
        var unmet = 0
        while t < end {
            var kHz = trace.kHz(atMs: t / 1e6, domain: options.domain)
            let u = rng.nextUnit()
            var chosen: Int
            var switchNs = 0.0
            var switched = false
            var latency: Double
            switch policy {
            case .gearbox:
                let d = selector.decide(frequencyKHz: kHz, atNs: Int64(t))
                chosen = d.variantIndex
                switched = d.switched
                switchNs = d.switchCostNs.value
                if !d.meetsObjective { unmet += 1 }
                latency = latencyNs(variant: chosen, quantile: u, startNs: t + switchNs)
                selector.observe(latencyNs: Nanoseconds(latency))
            case .gearboxJoint:
                // The trace's frequency is the cap; the run is at the chosen frequency under it.
                let decider = joint ?? selector
                kHz = jointFrequency(capKHz: kHz, selector: decider)
                let d = decider.decide(frequencyKHz: kHz, atNs: Int64(t))
                chosen = d.variantIndex
                switched = d.switched
                switchNs = d.switchCostNs.value
                if !d.meetsObjective { unmet += 1 }
                latency = latencyNs(variant: chosen, quantile: u, startNs: t + switchNs, ceilingKHz: kHz)
                decider.observe(latencyNs: Nanoseconds(latency))
            case .staticAccurate, .staticFast:
                chosen = policy == .staticAccurate ? byScore[0] : fastest
                latency = latencyNs(variant: chosen, quantile: u, startNs: t)
            case .oracle:
                chosen = fastest
                latency = .infinity
                for v in byScore {
                    let l = latencyNs(variant: v, quantile: u, startNs: t)
                    if l <= target { chosen = v; latency = l; break }
                    if l < latency { chosen = v; latency = l }
                }
                if let c = current, c != chosen { switched = true }
            }
            current = chosen
            let response = switchNs + latency
            rows.append(TimelineRow(
                timeMs: t / 1e6, kHz: kHz, policy: policy, variant: names[chosen], latencyNs: Nanoseconds(response),
                violation: response > target, switched: switched, switchNs: Nanoseconds(switchNs)))
            t += max(response, 1)
        }

        var notes: [String] = []
        switch policy {
        case .gearbox, .gearboxJoint:
            let decider = policy == .gearboxJoint ? (joint ?? selector) : selector
            if policy == .gearboxJoint {
                notes.append("simulated controller only: the trace's frequency read as a cap (thermal), the frequency at or below it and the variant picked together for the least energy per inference meeting the objective; DVFS transition time not modelled")
            }
            let choice = decider.minimizes.map { "minimising \($0.rawValue)" } ?? "ranking by \(decider.ranking.rawValue)"
            let margin = options.selector.safetyMargin.map { "safety margin \(DurationText.compact($0 * 100))%" }
                ?? "safety margin: the table's relative CI at each cell"
            notes.append("\(choice); \(margin); final feedback correction \(DurationText.compact(decider.correction))")
            if unmet > 0 { notes.append("\(unmet) decisions found no variant predicted to fit and ran the fastest") }
        case .staticAccurate: notes.append("always \(names[byScore[0]])")
        case .staticFast: notes.append("always \(names[fastest])")
        case .oracle: notes.append("clairvoyant: knows the whole trace and each inference's exact simulated latency; switches cost nothing")
        }
        var accuracy: [String: Double] = [:]
        if reference.variants.allSatisfy({ $0.accuracy != nil }) {
            for v in reference.variants { if let a = v.accuracy { accuracy[v.name] = a } }
        }
        return PolicyRun(policy: policy, rows: rows, accuracyByVariant: accuracy, notes: notes)
    }
}
