// GearboxPolicy/RealTimeValidation: replays a trace in real time. A FrequencyController applies
// the trace's frequencies (real cpufreq DVFS, or emulated by cgroup throttling) while the calling
// thread runs real inference through an InferenceRunner with whatever variant the policy chose,
// timing every inference and every switch on the monotonic clock.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GearboxCore
import GearboxHardware
import GearboxProfiler
import GearboxRuntime

/// Runs inference with one variant at a time: the seam to the engine's variant runners.
///
/// The validator times both calls itself; a runner only has to do the work.
public protocol InferenceRunner: AnyObject {
    /// Makes `name` the variant that ``runInference()`` runs, loading or switching as needed.
    func activate(variantNamed name: String) throws
    /// Runs one inference with the active variant.
    func runInference() throws
}

/// Replays a trace in real time through a frequency controller and an inference runner.
public final class RealTimeValidation {
    public let table: LookupTable
    public let trace: FrequencyTrace
    public let objective: LatencyObjective
    public let controller: FrequencyController
    public let runner: InferenceRunner
    /// The trace column to replay.
    public let traceDomain: Int
    /// The controller's domain the trace is applied to (and whose CPUs the loop should run on).
    public let controllerDomain: Int
    public let configuration: VariantSelector.Configuration
    /// 0: every timeline row is one inference. Otherwise each row runs inferences back to back
    /// until this much time has passed and records their mean latency, the way the profiler
    /// measured the table under emulated DVFS: a CPU-bandwidth throttle makes single sub-period
    /// inferences bimodal (full speed, or stalled for the rest of the period), so only a mean over
    /// several periods shows the emulated frequency.
    public let sampleWindowNs: Nanoseconds
    /// After each frequency change, inferences run for this long with the chosen variant before
    /// the next row is timed (0: none). Under emulated DVFS the cgroup throttle needs a few
    /// periods to settle after its quota changes (measured: the first 32 ms window after a step
    /// to 1/8 of fmax ran 2–9× slower than the following ones), and the profiler measured the
    /// table after a settle time and a warm-up, so rows timed during the transient compare a
    /// mechanism artefact with the table. With real cpufreq the transition is part of what the
    /// policy delivers, so the validator leaves it at 0 there.
    public let settleNs: Nanoseconds
    /// Energy figures for `--minimize energy` when they are not the table's (a board model's); nil
    /// reads the table's cells.
    public var energy: EnergyEstimate?
    let clock: () -> Int64
    // The two spans in whole clock nanoseconds, as the replay loop compares them with readings.
    private let windowClockNs: Int64, settleClockNs: Int64
    let tableName: String

    /// - Parameter clock: monotonic nanoseconds; tests pass a fake one that their fake runner advances.
    public init(
        table: LookupTable, trace: FrequencyTrace, objective: LatencyObjective, controller: FrequencyController,
        runner: InferenceRunner, traceDomain: Int = 0, controllerDomain: Int = 0,
        configuration: VariantSelector.Configuration = VariantSelector.Configuration(),
        tableName: String = "lookup table", sampleWindowNs: Nanoseconds = .zero, settleNs: Nanoseconds = .zero,
        clock: @escaping () -> Int64 = VariantSelector.monotonicNs
    ) {
        self.table = table; self.trace = trace; self.objective = objective; self.controller = controller
        self.runner = runner; self.traceDomain = traceDomain; self.controllerDomain = controllerDomain
        self.configuration = configuration; self.tableName = tableName; self.sampleWindowNs = max(.zero, sampleWindowNs)
        self.settleNs = max(.zero, settleNs)
        windowClockNs = self.sampleWindowNs.wholeNanoseconds; settleClockNs = self.settleNs.wholeNanoseconds
        self.clock = clock
    }

    /// Runs `policy` for `durationMs` of wall time on the calling thread, which must already be
    /// enrolled with the controller (``Validator/runRealTime(_:tableName:traceName:policies:durationMs:pinning:binder:beforeEnrolling:afterEnrolling:notes:progress:)``
    /// does that on a pinned measuring thread, and restores the controller at the end).
    ///
    /// The trace's frequency is applied between inferences, when the trace moves to a new sample.
    /// The policy sees the controller's applied frequency. The oracle here cannot see exact
    /// latencies of inferences not yet run: it picks, per frequency, the most accurate variant whose
    /// table statistic meets the target without margin, and its switch time is not charged.
    /// - Throws: ``PolicyError/runFailed(reason:)`` when the controller or runner fails.
    public func run(_ policy: ValidationPolicy, durationMs: Double) throws -> PolicyRun {
        guard policy != .gearboxJoint else {
            throw PolicyError.badSetting(name: "--policy", reason: "gearbox-joint runs on the simulated controller only (use --controller simulated)")
        }
        let selector = try VariantSelector(
            table: table, objective: objective, configuration: configuration, tableName: tableName,
            energyJoules: SimulatedValidation.energyJoules(energy))
        let oracleSelector = try VariantSelector(
            table: table, objective: objective,
            configuration: .init(safetyMargin: 0, memoryBudgetBytes: configuration.memoryBudgetBytes, feedbackSmoothing: 0, hysteresis: false),
            tableName: tableName)
        let names = selector.variants.map(\.name)
        let count = names.count
        let target = objective.targetNs.value
        let topKHz = table.frequenciesKHz.max() ?? trace.distinctKHz(domain: traceDomain).last ?? 1
        let byScore = (0..<count).sorted {
            let a = selector.score(ofVariant: $0), b = selector.score(ofVariant: $1)
            return a != b ? a > b : selector.predictedMeanNs(variantIndex: $0, frequencyKHz: topKHz) < selector.predictedMeanNs(variantIndex: $1, frequencyKHz: topKHz)
        }
        let fastest = (0..<count).min {
            selector.predictedMeanNs(variantIndex: $0, frequencyKHz: topKHz) < selector.predictedMeanNs(variantIndex: $1, frequencyKHz: topKHz)
        } ?? 0

        var rows: [TimelineRow] = []
        var current: Int?
        var sampleIndex = -1
        var appliedKHz = 0
        var frequencyChanges = 0
        var settling = false
        var settleInferences = 0
        var settledNs: Int64 = 0
        let start = clock()
        let end = Int64(durationMs * 1e6)
        while true {
            let now = clock() - start
            if now >= end { break }
            let index = trace.sampleIndex(atMs: Double(now) / 1e6)
            if index != sampleIndex {
                let wanted = trace.samples[index].kHz[traceDomain]
                do {
                    appliedKHz = try controller.setFrequency(.kHz(wanted), forDomain: controllerDomain).appliedKHz
                } catch {
                    throw PolicyError.runFailed(reason: "setting \(wanted) kHz on domain \(controllerDomain) failed: \(error)")
                }
                sampleIndex = index
                frequencyChanges += 1
                settling = settleClockNs > 0
            }
            var chosen: Int
            switch policy {
            case .gearbox, .gearboxJoint: chosen = selector.decide(frequencyKHz: appliedKHz, atNs: clock() - start).variantIndex
            case .staticAccurate: chosen = byScore[0]
            case .staticFast: chosen = fastest
            case .oracle: chosen = oracleSelector.decide(frequencyKHz: appliedKHz, atNs: clock() - start).variantIndex
            }
            var switchNs = 0.0
            let switched = current != nil && current != chosen
            if current != chosen {
                let before = clock()
                do { try runner.activate(variantNamed: names[chosen]) } catch {
                    throw PolicyError.runFailed(reason: "switching to \(names[chosen]) failed: \(error)")
                }
                switchNs = Double(clock() - before)
                if current == nil { switchNs = 0 }  // the initial load is not a switch
            }
            current = chosen
            if settling {
                // Run, untimed, until the controller's new step has settled (see `settleNs`).
                settling = false
                let settleStart = clock()
                repeat {
                    do { try runner.runInference() } catch {
                        throw PolicyError.runFailed(reason: "inference with \(names[chosen]) failed: \(error)")
                    }
                    settleInferences += 1
                } while clock() - settleStart < settleClockNs
                settledNs += clock() - settleStart
            }
            let before = clock()
            var inferences = 0
            repeat {
                do { try runner.runInference() } catch {
                    throw PolicyError.runFailed(reason: "inference with \(names[chosen]) failed: \(error)")
                }
                inferences += 1
                // As the profiler does under emulated DVFS: the quota is charged at the inference
                // boundary, not at the next scheduler tick (GearboxProfiler.SampleWindow).
                if windowClockNs > 0 { sched_yield() }
            } while windowClockNs > 0 && clock() - before < windowClockNs
            let latency = Double(clock() - before) / Double(inferences)
            if policy == .gearbox { selector.observe(latencyNs: Nanoseconds(latency)) }
            // A switch delays the first inference of the row: in a windowed row it is spread over the batch's mean.
            let charged = (policy == .oracle ? 0 : switchNs) / Double(inferences)
            rows.append(TimelineRow(
                timeMs: Double(now) / 1e6, kHz: appliedKHz, policy: policy, variant: names[chosen],
                latencyNs: Nanoseconds(charged + latency), violation: charged + latency > target, switched: switched,
                switchNs: Nanoseconds(switchNs),
                inferences: inferences))
        }

        var notes = ["\(controller.source) controller applied \(frequencyChanges) frequency changes between inferences"]
        if settleNs > .zero {
            notes.append("after each frequency change the chosen variant ran untimed for \(DurationText.format(settleNs)) while the throttle settled (\(settleInferences) inferences, \(DurationText.format(Nanoseconds(settledNs))) in all, not in the rows), as the table was measured after a settle time")
        }
        if rows.count < 100 {
            // Nearest rank: with fewer than 100 rows the p99 is the worst row, so one stalled window
            // (a throttle transient, a preemption on a loaded machine) is the whole p99.
            notes.append("p99 of \(rows.count) rows is its worst row: one slow row decides it (see timeline.csv)")
        }
        if sampleWindowNs > .zero {
            notes.append("each timeline row is the mean latency of the inferences run back to back in a \(DurationText.format(sampleWindowNs)) window (\(rows.reduce(0) { $0 + $1.inferences }) inferences in \(rows.count) rows), as the table was measured")
        }
        switch policy {
        case .gearbox, .gearboxJoint:
            notes.append("ranking by \(selector.ranking.rawValue); final feedback correction \(DurationText.compact(selector.correction))")
        case .staticAccurate: notes.append("always \(names[byScore[0]])")
        case .staticFast: notes.append("always \(names[fastest])")
        case .oracle:
            notes.append("table oracle: per frequency the most accurate variant whose table \(objective.statisticName) meets the target without margin; switch time not charged")
        }
        var accuracy: [String: Double] = [:]
        if selector.variants.allSatisfy({ $0.accuracy != nil }) {
            for v in selector.variants { if let a = v.accuracy { accuracy[v.name] = a } }
        }
        return PolicyRun(policy: policy, rows: rows, accuracyByVariant: accuracy, notes: notes)
    }
}
