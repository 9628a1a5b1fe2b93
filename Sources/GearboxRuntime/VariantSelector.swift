// GearboxRuntime/VariantSelector: the embeddable runtime policy. Given the current CPU frequency
// it picks the most accurate variant predicted to meet the latency objective, switches only when
// that pays, and corrects its predictions from observed latencies. Every decision is a few array
// look-ups in tables precomputed per frequency when the selector is built.

import GearboxCore

/// Picks which variant of a profiled portfolio to run at the current CPU frequency.
///
/// Build it once from a lookup table and an objective, then call ``select(frequencyKHz:)`` before
/// each inference and ``observe(latencyNs:)`` after it:
///
/// ```swift
/// import GearboxCore      // MonotonicClock, Nanoseconds
/// import GearboxRuntime
///
/// let table = try LookupTable.read(from: "Profiles/board/fmnist.lut.json")
/// let selector = try VariantSelector(table: table, objective: LatencyObjective(parsing: "p99<=8ms"))
/// while let input = nextInput() {
///     let variant = selector.select(frequencyKHz: currentFrequencyKHz())
///     let start = MonotonicClock.nowNs()
///     run(variant.name, on: input)
///     selector.observe(latencyNs: MonotonicClock.elapsed(since: start))
/// }
/// ```
///
/// ## Rules
/// - **Fit**: a variant fits when its predicted latency statistic (the objective's percentile, or
///   mean) at the frequency, times the feedback correction, is within `target × (1 − safetyMargin)`;
///   without a configured margin, the margin is the table's relative CI at the cell used.
///   Predictions come from ``LatencyPredictor``: the measured cell, else the table's frequency model,
///   and a conservative extrapolation below the table's lowest frequency.
/// - **Choice**: the highest-ranked fitting variant (accuracy, or MACs when accuracies are missing);
///   ties go to the lower latency. When nothing fits, the fastest variant, and the decision says so.
///   With ``Configuration/minimize`` `.energy`, the fitting variant with the least energy per
///   inference at the frequency (the table's `energyPerInferenceJ`, or a supplied estimate).
/// - **Hysteresis**: a switch to a better variant happens only after ``Configuration/minimumDwellNs``
///   on the current one, when the better variant fits with an extra band
///   (``Configuration/upgradeBand``), and when the relative gain over the expected dwell time
///   outweighs the table's warm switch cost: `(score_new − score_old) / score_new × expectedDwell ≥
///   switchCost`. The expected dwell is an EWMA of how long frequencies have held. A current
///   variant that no longer fits is always left at once for the best fitting one.
/// - **Feedback**: an EWMA of observed / predicted mean latency scales every prediction, so the
///   selector steps down when the device drifts slower (throttling, interference) and back up when
///   it recovers. For percentile objectives an optional tail tracker also raises predictions when
///   more than 1 − q of the observations exceed the predicted percentile (``Configuration/tailStep``).
///
/// Off-grid frequencies use the nearest lower point of a fine grid precomputed between the table's
/// frequencies, so a prediction is never optimistic. A selector is not thread-safe: use one per
/// inference loop.
public final class VariantSelector {
    public typealias Variant = LookupTable.Variant

    /// Tuning of the hysteresis and the feedback; the defaults suit inference times of 0.1–100 ms.
    public struct Configuration: Sendable, Equatable {
        /// Fraction of the target kept free as headroom (0.05: plan for 95% of the target); nil
        /// (the default) uses the table's own uncertainty: at each cell the selector uses, the
        /// relative 95% CI of its p50 (`ciHalfWidthNs / p50Ns`, at most 0.5).
        public var safetyMargin: Double?
        /// What to minimise among the fitting variants: nil picks the highest-ranked (accuracy, or
        /// MACs); `.energy` the least energy per inference at the frequency.
        public var minimize: MinimizedQuantity?
        /// Variants whose accuracy is below this floor (or unknown) are left out; nil keeps all.
        public var minimumAccuracy: Double?
        /// Only variants whose `memoryBytes` fit this budget are used.
        public var memoryBudgetBytes: Int?
        /// Time to stay on a variant before an optional (upgrade) switch.
        public var minimumDwellNs: Nanoseconds
        /// Dwell time assumed before any frequency change has been seen.
        public var initialExpectedDwellNs: Nanoseconds
        /// Weight of the newest frequency hold time in the expected-dwell EWMA.
        public var dwellSmoothing: Double
        /// Weight of the newest observation in the latency-correction EWMA (0 disables feedback).
        public var feedbackSmoothing: Double
        /// Step of the tail tracker for percentile objectives (0 disables it): after each
        /// observation above the corrected predicted percentile the tail factor grows by
        /// `step × q`, after each one below it shrinks by `step × (1 − q)`, so at equilibrium a
        /// share 1 − q of observations exceed the prediction. It learns tails heavier than the
        /// table's (interference, throttling stalls) that the mean ratio cannot see. Off by
        /// default: it reacts to every exceedance, and on traces that change faster than a few
        /// inferences (where straddling inferences exceed legitimately) it makes the choice chatter.
        public var tailStep: Double
        /// An upgrade target must fit within `budget × (1 − upgradeBand)`, so feedback noise near
        /// the budget does not make the selector flap between two variants.
        public var upgradeBand: Double
        /// Turns the switch-cost/dwell rule, the minimum dwell and the band off (switch whenever the best changes).
        public var hysteresis: Bool

        public init(
            safetyMargin: Double? = nil, memoryBudgetBytes: Int? = nil, minimumDwellNs: Nanoseconds = Nanoseconds(milliseconds: 100),
            initialExpectedDwellNs: Nanoseconds = Nanoseconds(seconds: 1), dwellSmoothing: Double = 0.3, feedbackSmoothing: Double = 0.1,
            tailStep: Double = 0, upgradeBand: Double = 0.02, hysteresis: Bool = true,
            minimize: MinimizedQuantity? = nil, minimumAccuracy: Double? = nil
        ) {
            self.safetyMargin = safetyMargin; self.memoryBudgetBytes = memoryBudgetBytes
            self.minimize = minimize; self.minimumAccuracy = minimumAccuracy
            self.minimumDwellNs = minimumDwellNs; self.initialExpectedDwellNs = initialExpectedDwellNs
            self.dwellSmoothing = dwellSmoothing; self.feedbackSmoothing = feedbackSmoothing
            self.tailStep = tailStep; self.upgradeBand = upgradeBand; self.hysteresis = hysteresis
        }
    }

    /// A quantity the selector can minimise instead of ranking by accuracy.
    public enum MinimizedQuantity: String, Sendable, CaseIterable {
        /// Energy per inference (the table's `energyPerInferenceJ`, or a supplied estimate).
        case energy
    }

    /// What the selector ranks variants by.
    public enum Ranking: String, Sendable {
        /// The table's accuracy figures.
        case accuracy
        /// MACs, as a stand-in when accuracy figures are missing ("largest MACs that fits").
        case macs
    }

    /// One decision, with the facts behind it.
    public struct Decision: Sendable, Equatable {
        /// Index into ``VariantSelector/variants``.
        public var variantIndex: Int
        /// The chosen variant's corrected predicted statistic at this frequency, in ns.
        public var predictedNs: Nanoseconds
        /// False when no variant fits and the fastest was chosen.
        public var meetsObjective: Bool
        /// True when this decision changed the variant (never for the first decision).
        public var switched: Bool
        /// The table's warm switch cost of this switch (0 when not switched).
        public var switchCostNs: Nanoseconds
    }

    /// The variants the selector can choose from (after the memory budget), in table order.
    public let variants: [Variant]
    public let objective: LatencyObjective
    public let configuration: Configuration
    public let ranking: Ranking
    /// What the choice minimises (nil: it maximises the ranking).
    public let minimizes: MinimizedQuantity?
    /// Why some variants were left out, what the ranking falls back to, and similar facts worth printing.
    public let notes: [String]
    /// `target × (1 − safetyMargin)`: what corrected predictions must stay within (the target
    /// itself when the margin is the table's per-cell CI, which then widens each prediction).
    public var budgetNs: Nanoseconds { Nanoseconds(budget) }

    // Precomputed tables. Rows 0..<fineCount are fine-grid points (j+1)·fineStepKHz; rows after
    // them are the table's measured frequencies, then one floor row. They live in raw buffers
    // (owned here, freed in deinit) because pointer subscripts inline even in debug builds, which
    // keeps a decision well under a microsecond in every build.
    private let count: Int
    private let budget: Double
    private let hysteresis: Bool
    private let upgradeBand: Double
    private let minimumDwellNs: Double
    private let dwellSmoothing: Double
    private let feedbackSmoothing: Double
    private let tailStep: Double
    private let quantile: Double?
    private let scores: UnsafeMutablePointer<Double>
    private let switchCosts: UnsafeMutablePointer<Double>     // count × count, from-major
    private let fineStepKHz: Int
    private let fineCount: Int
    private let splitKHz: UnsafeMutablePointer<Int>           // per fine bucket: first measured kHz in it, or Int.max
    private let splitRow: UnsafeMutablePointer<Int>           // the measured row used from splitKHz on
    private let topKHz: Int
    private let topRow: Int
    private let floorRow: Int
    private let statNs: UnsafeMutablePointer<Double>          // rows × count: objective statistic
    private let fitNs: UnsafeMutablePointer<Double>           // rows × count: statistic widened by the cell's margin
    private let marginAt: UnsafeMutablePointer<Double>        // rows × count: the margin in force
    private let rowScores: UnsafeMutablePointer<Double>       // rows × count: what the choice maximises
    private let energyJ: UnsafeMutablePointer<Double>         // rows × count: energy per inference (nan unknown)
    private let meanNs: UnsafeMutablePointer<Double>          // rows × count: mean (what feedback compares against)
    private let frontierStart: UnsafeMutablePointer<Int>      // per row, into frontierVariant/frontierNs
    private let frontierCount: UnsafeMutablePointer<Int>
    private let frontierVariant: UnsafeMutablePointer<Int>
    private let frontierNs: UnsafeMutablePointer<Double>

    // Decision state, in one struct so a decision reads and writes it once (class property
    // accesses each pay an exclusivity check).
    private struct State {
        var currentIndex: Int?
        var meanCorrection = 1.0
        var tailCorrection = 1.0
        var correction: Double { meanCorrection * tailCorrection }
        var thresholdNs: Double
        var expectedDwellNs: Double
        var decisions = 0, switches = 0, unmetDecisions = 0
        var lastSwitchNs: Int64 = 0
        var lastKHz = -1
        var lastChangeNs: Int64 = 0
        var lastMeanNs = 0.0
        var lastStatNs = 0.0
    }
    private var state: State

    /// The variant in use (nil before the first decision).
    public var currentIndex: Int? { state.currentIndex }
    /// The factor every prediction is multiplied by: ``meanCorrection`` × ``tailCorrection``
    /// (1 = the table holds).
    public var correction: Double { state.correction }
    /// Observed / predicted mean latency, smoothed: how much slower (or faster) the device runs.
    public var meanCorrection: Double { state.meanCorrection }
    /// How much heavier the latency tail is than the table's, learnt for percentile objectives (≥ 1).
    public var tailCorrection: Double { state.tailCorrection }
    /// The smoothed time a frequency has stayed put, in ns.
    public var expectedDwellNs: Nanoseconds { Nanoseconds(state.expectedDwellNs) }
    /// Decisions made so far.
    public var decisions: Int { state.decisions }
    /// Decisions that switched variant.
    public var switches: Int { state.switches }
    /// Decisions where no variant was predicted to fit (the fastest ran).
    public var unmetDecisions: Int { state.unmetDecisions }

    /// Builds the selector and precomputes its decision tables.
    /// - Parameters:
    ///   - table: the lookup table (its variants, cells, frequency models and switch costs).
    ///   - objective: the latency target, e.g. `LatencyObjective(parsing: "p99<=8ms")`.
    ///   - configuration: margin, memory budget, hysteresis and feedback settings.
    ///   - tableName: names the table in errors (its path).
    ///   - energyJoules: energy per inference of table variant `i` at `kHz` in J, replacing the
    ///     table's `energyPerInferenceJ` (e.g. simulated from a board model); nil reads the table.
    /// - Throws: ``PolicyError/noUsableVariant(lut:reason:)`` when no variant has latency cells
    ///   and fits the memory budget; ``PolicyError/badSetting(name:reason:)`` for out-of-range settings.
    public init(
        table: LookupTable, objective: LatencyObjective, configuration: Configuration = Configuration(),
        tableName: String = "lookup table", energyJoules: ((_ variant: Int, _ kHz: Int) -> Double?)? = nil
    ) throws {
        if let margin = configuration.safetyMargin, !(margin >= 0 && margin < 1) {
            throw PolicyError.badSetting(name: "safety margin", reason: "must be in [0, 1), e.g. 0.05")
        }
        if let floor = configuration.minimumAccuracy, !(floor.isFinite && floor >= 0 && floor <= 1) {
            throw PolicyError.badSetting(name: "--min-accuracy", reason: "must be a fraction in [0, 1], e.g. 0.9")
        }
        let tableEnergy = EnergyPredictor(table: table)
        let energyOf: (Int, Int) -> Double? = energyJoules ?? { tableEnergy.joules(variant: $0, kHz: $1) }
        let minimizesEnergy = configuration.minimize == .energy
        guard (0...1).contains(configuration.feedbackSmoothing), (0...1).contains(configuration.dwellSmoothing) else {
            throw PolicyError.badSetting(name: "smoothing", reason: "EWMA weights must be in [0, 1]")
        }
        var notes: [String] = []
        let predictor = LatencyPredictor(table: table)
        var usable: [Int] = []
        for (i, v) in table.variants.enumerated() {
            if !predictor.hasCells(variant: i) {
                notes.append("\(v.name) has no latency cells: left out")
            } else if let budget = configuration.memoryBudgetBytes, v.memoryBytes > budget {
                notes.append("\(v.name) needs \(v.memoryBytes) bytes, over the \(budget)-byte memory budget: left out")
            } else if let floor = configuration.minimumAccuracy, (v.accuracy ?? -1) < floor {
                notes.append("\(v.name) has accuracy \(v.accuracy.map { String($0) } ?? "unknown"), below the floor \(floor): left out")
            } else if minimizesEnergy, energyOf(i, table.frequenciesKHz.max() ?? 1) == nil {
                notes.append("\(v.name) has no energy figure: left out of the energy minimisation")
            } else {
                usable.append(i)
            }
        }
        guard !usable.isEmpty else {
            let reason = table.variants.isEmpty ? "the table has no variants"
                : configuration.minimumAccuracy != nil ? "no variant reaches the accuracy floor (lower --min-accuracy)"
                : minimizesEnergy ? "no variant has energy figures (profile on a board with a power sensor, or give --board to simulate them)"
                : configuration.memoryBudgetBytes != nil
                ? "every variant lacks latency cells or exceeds the memory budget (raise --memory-budget)"
                : "no variant has latency cells (re-run the profile)"
            throw PolicyError.noUsableVariant(lut: tableName, reason: reason)
        }
        let chosen = usable.map { table.variants[$0] }
        let missing = chosen.filter { $0.accuracy == nil }.count
        let scoreValues: [Double]
        if missing == 0 {
            ranking = .accuracy
            scoreValues = chosen.map { $0.accuracy ?? 0 }
        } else {
            ranking = .macs
            scoreValues = chosen.map { Double($0.macs) }
            notes.append("accuracy is null for \(missing) of \(chosen.count) variants: ranking by MACs (largest MACs that fits)")
        }
        variants = chosen
        count = chosen.count
        self.objective = objective
        self.configuration = configuration
        budget = objective.targetNs.value * (1 - (configuration.safetyMargin ?? 0))
        state = State(thresholdNs: budget, expectedDwellNs: configuration.initialExpectedDwellNs.value)
        hysteresis = configuration.hysteresis; upgradeBand = configuration.upgradeBand
        minimumDwellNs = configuration.minimumDwellNs.value; dwellSmoothing = configuration.dwellSmoothing
        feedbackSmoothing = configuration.feedbackSmoothing
        tailStep = configuration.tailStep
        quantile = objective.quantile

        // Warm switch costs (cold when warm is missing, 0 when the table has none).
        var costs = [Double](repeating: 0, count: count * count)
        var missingCosts = 0
        for (a, from) in chosen.enumerated() {
            for (b, to) in chosen.enumerated() where a != b {
                if let cost = table.switchCostNs[from.name]?[to.name], let ns = cost.warm ?? cost.cold {
                    costs[a * count + b] = ns.value
                } else {
                    missingCosts += 1
                }
            }
        }
        if missingCosts > 0 {
            notes.append("\(missingCosts) switch costs missing from the table: counted as 0 (the minimum dwell still applies)")
        }
        switchCosts = Self.buffer(costs)
        scores = Self.buffer(scoreValues)

        // The frequency grid: measured frequencies plus a fine grid fine enough that each fine
        // bucket holds at most one measured frequency.
        let measured = Array(Set(chosen.flatMap { $0.latency.keys.compactMap { Int($0) } }.filter { $0 > 0 })).sorted()
        let top = measured.last ?? 1
        let minSpacing = zip(measured.dropFirst(), measured).map { $0 - $1 }.min() ?? top
        let step = max(1, min(top / 1024, minSpacing / 2))
        fineStepKHz = step
        fineCount = top / step
        topKHz = top
        var rowsKHz = (0..<fineCount).map { ($0 + 1) * step }
        var split = [Int](repeating: Int.max, count: fineCount)
        var splitRows = [Int](repeating: 0, count: fineCount)
        for m in measured {
            let bucket = m / step - 1
            if bucket >= 0 && bucket < fineCount { split[bucket] = m; splitRows[bucket] = rowsKHz.count }
            rowsKHz.append(m)
        }
        splitKHz = Self.buffer(split)
        splitRow = Self.buffer(splitRows)
        topRow = rowsKHz.count - 1
        // Below the first fine point: predictions at 1 kHz, slower than anything real, so nothing
        // fits there and the fastest variant is chosen.
        floorRow = rowsKHz.count
        rowsKHz.append(1)

        let count = chosen.count, scores = scoreValues
        var stat = [Double](repeating: .infinity, count: rowsKHz.count * count)
        var fit = [Double](repeating: .infinity, count: rowsKHz.count * count)
        var margins = [Double](repeating: configuration.safetyMargin ?? 0, count: rowsKHz.count * count)
        var rowScore = [Double](repeating: 0, count: rowsKHz.count * count)
        var energy = [Double](repeating: .nan, count: rowsKHz.count * count)
        var mean = [Double](repeating: .infinity, count: rowsKHz.count * count)
        var fStart: [Int] = [], fCount: [Int] = [], fVariant: [Int] = [], fNs: [Double] = []
        for (row, kHz) in rowsKHz.enumerated() {
            for (v, original) in usable.enumerated() {
                let cell = row * count + v
                if let p = predictor.predict(variant: original, kHz: kHz) {
                    stat[cell] = p.distribution.value(of: objective.statistic).value
                    mean[cell] = p.distribution.meanNs.value
                }
                if configuration.safetyMargin == nil {
                    margins[cell] = Self.relativeCI(of: table.variants[original], atKHz: kHz)
                }
                fit[cell] = configuration.safetyMargin == nil ? stat[cell] / (1 - margins[cell]) : stat[cell]
                if let joules = energyOf(original, kHz), joules.isFinite, joules > 0 { energy[cell] = joules }
                rowScore[cell] = minimizesEnergy ? (energy[cell].isNaN ? 0 : 1 / energy[cell]) : scores[v]
            }
            // Pareto frontier: by latency ascending (ties: higher score first), keep each variant
            // that beats every faster one's score. The best fit for a threshold is then the last
            // frontier entry within it.
            let base = row * count
            let order = (0..<count).sorted {
                let a = fit[base + $0], b = fit[base + $1]
                let sa = rowScore[base + $0], sb = rowScore[base + $1]
                return a != b ? a < b : (sa != sb ? sa > sb : $0 < $1)
            }
            fStart.append(fVariant.count)
            var best = -Double.infinity
            for v in order where rowScore[base + v] > best {
                best = rowScore[base + v]
                fVariant.append(v); fNs.append(fit[base + v])
            }
            fCount.append(fVariant.count - fStart[row])
        }
        statNs = Self.buffer(stat); meanNs = Self.buffer(mean); fitNs = Self.buffer(fit)
        marginAt = Self.buffer(margins); rowScores = Self.buffer(rowScore); energyJ = Self.buffer(energy)
        minimizes = configuration.minimize
        frontierStart = Self.buffer(fStart); frontierCount = Self.buffer(fCount)
        frontierVariant = Self.buffer(fVariant); frontierNs = Self.buffer(fNs)
        self.notes = notes
    }

    deinit {
        for pointer in [scores, switchCosts, statNs, meanNs, frontierNs, fitNs, marginAt, rowScores, energyJ] { pointer.deallocate() }
        for pointer in [splitKHz, splitRow, frontierStart, frontierCount, frontierVariant] { pointer.deallocate() }
    }

    private static func buffer<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(1, values.count))
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.initialize(from: base, count: values.count) }
        }
        return pointer
    }

    // MARK: Decisions

    /// The variant to run now at `frequencyKHz`, timed by the monotonic clock.
    public func select(frequencyKHz: Int) -> Variant {
        variants[decide(frequencyKHz: frequencyKHz, atNs: Self.monotonicNs()).variantIndex]
    }

    /// The decision at `frequencyKHz` at time `nowNs` (any monotonic clock, virtual or real, in ns).
    public func decide(frequencyKHz kHz: Int, atNs now: Int64) -> Decision {
        var st = state
        st.decisions += 1
        if kHz != st.lastKHz {
            if st.lastKHz >= 0 {
                let held = Double(now - st.lastChangeNs)
                st.expectedDwellNs += dwellSmoothing * (held - st.expectedDwellNs)
            }
            st.lastKHz = kHz
            st.lastChangeNs = now
        }
        let row = self.row(forKHz: kHz)
        let base = row * count
        let start = frontierStart[row], n = frontierCount[row]
        let threshold = st.thresholdNs
        let fitting = entries(within: threshold, start: start, count: n)
        let best = fitting > 0 ? frontierVariant[start + fitting - 1] : frontierVariant[start]

        var chosen = best
        if let current = st.currentIndex, current != best, fitNs[base + current] <= threshold {
            // The current variant still fits: any switch is an optional upgrade.
            chosen = current
            if hysteresis {
                // Upgrade only to a variant that fits with the extra band, after the minimum
                // dwell, and when the gain over the expected dwell outweighs the switch cost.
                let within = entries(within: threshold * (1 - upgradeBand), start: start, count: n)
                if within > 0 {
                    let up = frontierVariant[start + within - 1]
                    let gain = rowScores[base + up] > 0 ? (rowScores[base + up] - rowScores[base + current]) / rowScores[base + up] : 0
                    if gain > 0 && Double(now - st.lastSwitchNs) >= minimumDwellNs
                        && gain * st.expectedDwellNs >= switchCosts[current * count + up] {
                        chosen = up
                    }
                }
            } else if rowScores[base + best] > rowScores[base + current] {
                chosen = best
            }
        }
        var cost = 0.0
        var switched = false
        if let current = st.currentIndex {
            if current != chosen {
                switched = true
                cost = switchCosts[current * count + chosen]
                st.switches += 1
                st.lastSwitchNs = now
            }
        } else {
            st.lastSwitchNs = now
        }
        st.currentIndex = chosen
        st.lastMeanNs = meanNs[base + chosen]
        st.lastStatNs = statNs[base + chosen]
        let meets = fitNs[base + chosen] <= threshold
        if !meets { st.unmetDecisions += 1 }
        let predicted = statNs[base + chosen] * st.correction
        state = st
        return Decision(
            variantIndex: chosen, predictedNs: Nanoseconds(predicted), meetsObjective: meets, switched: switched,
            switchCostNs: Nanoseconds(cost))
    }

    /// How many frontier entries (sorted by latency) are within `threshold`.
    @inline(__always)
    private func entries(within threshold: Double, start: Int, count n: Int) -> Int {
        var lo = 0, hi = n
        while lo < hi {
            let mid = (lo + hi) / 2
            if frontierNs[start + mid] <= threshold { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Feeds back the latency of the inference that ran with the last decision's variant.
    /// The ratio to the predicted mean (clamped to [0.5, 3] against outliers) moves
    /// ``meanCorrection``; whether it exceeded the corrected predicted percentile moves
    /// ``tailCorrection``.
    public func observe(latencyNs latency: Nanoseconds) {
        let latencyNs = latency.value
        var st = state
        guard st.lastMeanNs > 0, st.lastMeanNs.isFinite, latencyNs.isFinite, latencyNs > 0 else { return }
        if let q = quantile, tailStep > 0, st.lastStatNs.isFinite {
            // Compare with the prediction as it stood for this inference, before updating.
            if latencyNs > st.lastStatNs * st.correction {
                st.tailCorrection *= 1 + tailStep * q
            } else {
                st.tailCorrection *= 1 - tailStep * (1 - q)
            }
            st.tailCorrection = min(4, max(1, st.tailCorrection))
        }
        let ratio = min(3, max(0.5, latencyNs / st.lastMeanNs))
        st.meanCorrection += feedbackSmoothing * (ratio - st.meanCorrection)
        st.meanCorrection = min(4, max(0.5, st.meanCorrection))
        st.thresholdNs = budget / st.correction
        state = st
    }

    /// Forgets the feedback correction (e.g. after the device was recalibrated).
    public func resetFeedback() {
        state.meanCorrection = 1
        state.tailCorrection = 1
        state.thresholdNs = budget
    }

    // MARK: Queries

    /// The corrected predicted statistic of variant `index` at `frequencyKHz`, as decisions see it
    /// (off-grid frequencies use the nearest lower grid point).
    public func predictedNs(variantIndex index: Int, frequencyKHz: Int) -> Nanoseconds {
        Nanoseconds(statNs[row(forKHz: frequencyKHz) * count + index] * state.correction)
    }

    /// The uncorrected predicted mean latency of variant `index` at `frequencyKHz`.
    public func predictedMeanNs(variantIndex index: Int, frequencyKHz: Int) -> Nanoseconds {
        Nanoseconds(meanNs[row(forKHz: frequencyKHz) * count + index])
    }

    /// Whether variant `index` fits the budget at `frequencyKHz` under the current correction.
    public func fits(variantIndex index: Int, frequencyKHz: Int) -> Bool {
        fitNs[row(forKHz: frequencyKHz) * count + index] <= state.thresholdNs
    }

    /// The safety margin decisions apply to variant `index` at `frequencyKHz`: the configured
    /// one, or the table's relative CI at the cell used.
    public func safetyMargin(variantIndex index: Int, frequencyKHz: Int) -> Double {
        marginAt[row(forKHz: frequencyKHz) * count + index]
    }

    /// Energy per inference of variant `index` at `frequencyKHz` in J, as the selector sees it
    /// (nil when unknown).
    public func energyJoules(variantIndex index: Int, frequencyKHz: Int) -> Double? {
        let joules = energyJ[row(forKHz: frequencyKHz) * count + index]
        return joules.isNaN ? nil : joules
    }

    /// The table's relative 95% CI of the p50 at the cell a prediction at `kHz` rests on (the
    /// largest measured frequency at or below it, else the lowest), clamped to [0, 0.5].
    static func relativeCI(of variant: Variant, atKHz kHz: Int) -> Double {
        let cells = variant.latency.compactMap { key, cell in Int(key).map { ($0, cell) } }.sorted { $0.0 < $1.0 }
        guard let cell = (cells.last { $0.0 <= kHz } ?? cells.first)?.1, cell.p50Ns > .zero else { return 0 }
        let relative = cell.ciHalfWidthNs / cell.p50Ns
        return relative.isFinite ? min(0.5, max(0, relative)) : 0
    }

    /// The ranking score of variant `index`: its accuracy, or its MACs under ``Ranking/macs``.
    public func score(ofVariant index: Int) -> Double { scores[index] }

    /// The table's warm switch cost from one variant to another (0 when missing).
    public func switchCostNs(from: Int, to: Int) -> Nanoseconds { Nanoseconds(switchCosts[from * count + to]) }

    /// The index of the variant named `name`, if the selector uses it.
    public func index(ofVariantNamed name: String) -> Int? { variants.firstIndex { $0.name == name } }

    /// The precomputed row for `kHz`: the measured row at a table frequency, else the nearest lower
    /// fine-grid point (or measured frequency), so predictions are never optimistic.
    private func row(forKHz kHz: Int) -> Int {
        if kHz >= topKHz { return topRow }
        let bucket = kHz / fineStepKHz - 1
        if bucket < 0 { return floorRow }
        return kHz >= splitKHz[bucket] ? splitRow[bucket] : bucket
    }

    /// Nanoseconds on `MonotonicClock`, the clock ``select(frequencyKHz:)`` times dwells with.
    public static func monotonicNs() -> Int64 { Int64(clamping: MonotonicClock.nowNs()) }
}
