// gearbox bench profiler: the profiler's quality bars side by side in one run: loop overhead
// vs an empty workload, rerun stability of two sweeps, the emulated latency ratio vs the
// calibrated slow-down, the frequency model's leave-one-out error, and the full-sweep time.

import ArgumentParser
import Foundation
import GearboxBenchmarks
import GearboxCore
import GearboxProfiler

struct BenchProfilerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiler",
        abstract: "Profiler quality: loop overhead and rerun stability.",
        discussion: """
            Runs two sweeps of the portfolio (the second without memory and switch costs) and \
            prints: sampling-loop overhead as a fraction of a 1 ms workload (bar < 0.5%); coverage, \
            the share of cells above 1 ms whose second-sweep p50 falls inside the first sweep's 95% \
            CI (bar 90%; measured sweeps visit each cell twice, so the CI holds between-visit \
            spread), with the share within 3% as information; per variant, the \
            lowest/highest-step latency ratio against the controller's calibrated slow-down (bar \
            10%); the worst leave-one-frequency-out error of t(f) = a + b/f (bar 5%); and the first \
            sweep's wall time (bar 10 min). Exit 1 when a bar fails. For emulated sweeps it also \
            prints, as information, the share of windows whose inferences ran slowed by something \
            outside the measuring thread (other tenants of a shared host): what a rerun cannot repeat; \
            and, for real and emulated sweeps, the shared-cache probe taken after each cell (a 4 MiB \
            pointer chase: slow when other tenants hold the last-level cache) with the rerun \
            agreement of cells that ran in the same phase of it in both sweeps and of those that did not.

            Examples:
              gearbox bench profiler
              gearbox bench profiler --quick --frequencies 500000,1000000,1500000,2000000
              gearbox bench profiler --controller simulated --json
            """
    )

    @Option(help: "The portfolio directory.") var portfolio: String = "Portfolios/default"
    @Option(help: "emulated (default), real or simulated.") var controller: ControllerArgument = .emulated
    @Option(help: "all, or a comma-separated list of kHz.") var frequencies: String = "all"
    @Option(help: "Where the two sweeps' LUTs and sample databases go.") var out: String = "Profiles/bench"
    @Flag(help: "CI-sized budget (±2% CI, ≤ 1 s per cell).") var quick = false
    @Option(help: "One cell's sampling-time limit, in seconds (default 3; 1 with --quick). A cell's CI narrows about as the square root of its time.") var maxCellSeconds: Double?
    @Flag(help: "Emulated: leave the throttle gaps idle instead of filling them with a SCHED_IDLE spinner (for comparison).") var idleGaps = false
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "No progress output.") var noProgress = false
    @OptionGroup var lock: MeasuringLockOptions

    func run() throws {
        let source = controller.source
        // Held across both sweeps, so that nothing else measures between them.
        let measuring = try lock.hold(for: source)
        defer { measuring?.release() }
        let request = ProfileRequest(
            portfolioDirectory: portfolio, controller: source,
            frequencies: frequencies, quick: quick, maxCellSeconds: maxCellSeconds, fillGaps: !idleGaps,
            waitForLocks: lock.wait)
        let display = ProgressDisplay(enabled: !noProgress)
        let report = try ProfilerBenchmark.run(request: request, outputDirectory: out) { display.show($0) }
        display.finish()
        if json {
            print(String(decoding: try JSONFile.encoder().encode(report), as: UTF8.self))
        } else {
            print(Self.render(report))
        }
        let pass = report.loopOverhead.pass && (report.rerun?.pass ?? false)
            && (report.controller != .emulated || report.emulatedRatioPass) && (report.frequencyModel?.pass ?? false)
            && (report.secondFrequencyModel?.pass ?? true)
            && (report.sweepTime?.pass ?? false)
        if !pass { throw CommandError.failure("a profiler quality bar failed (marked FAIL above)") }
    }

    static func render(_ r: ProfilerBenchmarkReport) -> String {
        func mark(_ pass: Bool) -> String { pass ? "PASS" : "FAIL" }
        func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
        var lines = ["gearbox bench profiler — \(r.portfolio), \(r.controller) controller, \(r.cpuModel) (\(r.host)), \(r.date)", ""]
        let o = r.loopOverhead
        lines.append("loop overhead      \(mark(o.pass))  \(String(format: "%.0f", o.emptyPerIterationNs.value)) ns/iteration on an empty workload (\(String(format: "%.0f", o.emptyWindowNs.value)) ns in the timed window) = \(pct(o.fraction)) of a \(String(format: "%.3f", o.workloadMedianNs.milliseconds)) ms workload (bar < \(pct(o.bar)))")
        if abs(o.workloadMedianNs.milliseconds - 1) > 0.05 {
            lines.append("    the 1 ms reference measured \(String(format: "%.3f", o.workloadMedianNs.milliseconds)) ms in three tries: the machine stalled the measuring thread, so this is not a figure")
        }
        if let rerun = r.rerun {
            lines.append("rerun coverage     \(mark(rerun.pass))  \(rerun.cellsInsideFirstCI)/\(rerun.cellsCompared) cells > 1 ms have a rerun p50 inside the first sweep's 95% CI = \(pct(rerun.coverage)) (bar \(pct(rerun.coverageBar)))")
            lines.append("rerun stability    info  \(rerun.cellsWithin3Percent)/\(rerun.cellsCompared) cells > 1 ms within 3%; median deviation \(pct(rerun.medianDeviation)), max \(pct(rerun.maxDeviation)) (\(rerun.worstCell))")
            for f in rerun.byFormat ?? [] {
                lines.append(String(format: "    %-8@ %3d/%-3d within 3%%  median %@  max %@", f.format as NSString, f.cellsWithin3Percent,
                                    f.cellsCompared, pct(f.medianDeviation), pct(f.maxDeviation)))
            }
        }
        if !r.emulatedRatio.isEmpty {
            let worst = r.emulatedRatio.max { $0.error < $1.error }
            lines.append("\(r.controller) ratio     \(mark(r.emulatedRatioPass))  lowest/highest step p50 ratio vs calibrated slow-down: worst error \(pct(worst?.error ?? 0)) (\(worst?.variant ?? "")), bar 10%")
            for c in r.emulatedRatio {
                lines.append(String(format: "    %-22@ p50 ×%.2f  mean ×%.2f  calibrated ×%.2f  error %@", c.variant as NSString, c.p50Ratio, c.meanRatio, c.calibratedSlowDown, pct(c.error)))
            }
        }
        if let m = r.frequencyModel {
            lines.append("model LOO error    \(mark(m.pass))  t(f) = a + b/f: median \(pct(m.medianLooMape)), worst \(pct(m.maxLooMape)) (\(m.worstVariant)), bar \(pct(m.bar))")
            if let second = r.secondFrequencyModel {
                lines.append("    second sweep \(mark(second.pass)): median \(pct(second.medianLooMape)), worst \(pct(second.maxLooMape)) (\(second.worstVariant))")
            }
        }
        if let t = r.sweepTime {
            lines.append("full sweep time    \(mark(t.pass))  \(t.variants) variants × \(t.frequencies) frequencies in \(String(format: "%.0f", t.firstSweepSeconds)) s (with memory and switch costs; second sweep \(String(format: "%.0f", t.secondSweepSeconds)) s), bar \(String(format: "%.0f", t.bar)) s")
        }
        for (index, contention) in (r.hostContention ?? []).enumerated() {
            if index == 0 {
                lines.append("host contention    info  windows whose gap-free inferences ran > \(Int((contention.tolerance * 100).rounded()))% above their variant's fastest tenth (what a rerun cannot repeat)")
            }
            let formats = contention.byFormat.map { "\($0.name) \(Int(($0.fraction * 100).rounded()))%" }.joined(separator: ", ")
            lines.append("    sweep \(index + 1): \(Int((contention.total.fraction * 100).rounded()))% of \(contention.total.windows) windows, \(contention.total.mostlySlowCells)/\(contention.total.cells) cells mostly (\(formats))")
        }
        for (index, precision) in r.cellPrecision.enumerated() {
            if index == 0 {
                lines.append("cell precision     info  95% CI of each cell's p50, median over the cells > 1 ms (a rerun cannot agree more closely)")
            }
            lines.append("    sweep \(index + 1): \(precision.summary)")
        }
        if let cache = r.sharedCache {
            lines.append("shared cache       info  a \(cache.sweeps.first.map { "\($0.probeBytes >> 20) MiB" } ?? "") pointer chase after each cell: which phase of the host's shared cache the cell ran in")
            for (index, state) in cache.sweeps.enumerated() {
                lines.append("    sweep \(index + 1): \(state.summary)")
            }
            lines.append("    rerun within 3%: \(cache.samePhaseWithin3Percent)/\(cache.samePhaseCompared) cells that ran in the same phase in both sweeps, \(cache.differentPhaseWithin3Percent)/\(cache.differentPhaseCompared) that did not")
        }
        lines.append("")
        lines.append("LUTs: " + r.luts.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
