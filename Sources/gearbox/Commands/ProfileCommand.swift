// gearbox profile: sweeps DVFS frequencies and measures every variant of a portfolio into a
// lookup table and a raw-sample database. Parsing, progress display and exit codes only; the
// sweep is GearboxProfiler's ProfileSession.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxHardware
import GearboxPortfolio
import GearboxProfiler

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Sweep DVFS frequencies and measure every variant into a lookup table.",
        discussion: """
            For every frequency (in seeded random order) and every variant (interleaved), warms \
            up until batch medians stop trending, then samples until the 95% CI of the median is \
            within ±1% (or a sample/time limit). Also measures memory per variant and the \
            switch-cost matrix. Writes the LUT (atomically), a raw-sample SQLite database beside \
            it, and a checkpoint after every cell: --resume continues a killed sweep. DVFS state is \
            restored at the end and on SIGINT/SIGTERM. Where the device has a power sensor (RAPL \
            energy_uj, hwmon power or current) each cell gets energyPerInferenceJ and powerW; where \
            it has thermal zones, its temperature at start and end. A cell during which the driver \
            delivered less than the set frequency, or a trip point was crossed, is flagged \
            throttled and measured again after a cool-down (at most --max-cool-down-seconds). \
            Every figure is labelled real, emulated, \
            simulated or predicted. The emulated controller's per-step throttle calibration is saved \
            beside the LUT (emulated-dvfs-calibration.json) and reused for a day by profile and \
            validate on this host; --recalibrate measures it again.

            One process at a time: the table and its checkpoint are locked (<out>.lock, naming the \
            holder's pid and command), and real or emulated sweeps hold the machine-wide measuring \
            lock, so a second run exits 1 naming the first, or queues behind it with --wait. \
            Simulated sweeps load and run every variant once before simulating, so a broken file \
            is an input error (exit 2) in every mode.

            Examples:
              gearbox profile --portfolio Portfolios/default --controller emulated
              gearbox profile --portfolio Portfolios/default --controller simulated --json
              gearbox profile --portfolio Portfolios/default --frequencies 500000,1000000,2000000 --quick
              gearbox profile --portfolio Portfolios/default --resume
            """
    )

    @Option(help: "The portfolio directory (holding portfolio.json).") var portfolio: String = "Portfolios/default"
    @Option(help: "The device description (Devices/ID.json); derived from this machine when omitted.") var device: String?
    @Option(help: "real (cpufreq), emulated (cgroup throttling) or simulated (virtual clock).") var controller: ControllerArgument = .emulated
    @Option(help: "all, or a comma-separated list in kHz (or with MHz/GHz suffixes).") var frequencies: String = "all"
    @Option(help: "Inference threads per variant.") var threads: Int = 1
    @Option(help: "Where the measuring thread runs: pu, core, kind:N or none.") var pin: PinningRequest = .pu
    @Option(help: "The LUT to write (default Profiles/<device>/<portfolio>.lut.json).") var out: String?
    @Flag(help: "Continue the unfinished sweep whose checkpoint is beside --out.") var resume = false
    @Flag(help: "CI-sized budget: ±2% CI, at most 1 s per cell, fewer switch repetitions.") var quick = false
    @Option(help: "One cell's sampling-time limit, in seconds (default 3; 1 with --quick). A cell's CI narrows about as the square root of its time.") var maxCellSeconds: Double?
    @Option(help: "Seed of the frequency and variant order (and of simulated noise).") var seed: UInt64 = 1
    @Flag(help: "Skip the switch-cost matrix.") var skipSwitchCosts = false
    @Flag(help: "Skip the memory measurements.") var skipMemory = false
    @Flag(help: "Emulated: measure every throttle step again instead of reusing the calibration saved beside the LUT.") var recalibrate = false
    @Flag(help: "Emulated: leave the throttle gaps idle instead of filling them with a SCHED_IDLE spinner (for comparison).") var idleGaps = false
    @Option(help: "The longest wait for the device to cool down (a cell starting hot, a throttled cell's retry), in seconds.") var maxCoolDownSeconds: Double = 120
    @Option(help: .hidden) var stopAfterCells: Int?
    @Flag(help: "Print the result as JSON (the LUT's path, counts and the LUT itself).") var json = false
    @Flag(help: "No progress output.") var noProgress = false

    struct Report: Codable {
        var lut: String
        var samples: String
        var controller: MeasurementSource
        var cellsMeasured: Int
        var cellsFromCheckpoint: Int
        var notes: [String]
        var table: LookupTable
    }

    @OptionGroup var lock: MeasuringLockOptions

    func run() throws {
        let source = controller.source
        let measuring = try lock.hold(for: source)
        defer { measuring?.release() }
        let request = ProfileRequest(
            portfolioDirectory: portfolio, devicePath: device, controller: source, frequencies: frequencies,
            threads: threads, pin: pin, outPath: out, resume: resume, quick: quick,
            maxCellSeconds: maxCellSeconds, seed: seed, measureSwitchCosts: !skipSwitchCosts, measureMemory: !skipMemory,
            reuseCalibration: !recalibrate, fillGaps: !idleGaps, waitForLocks: lock.wait,
            maxCoolDownSeconds: maxCoolDownSeconds)
        let session = try ProfileSession.prepare(request)
        let display = ProgressDisplay(enabled: !noProgress)
        for note in session.notes { display.line("note: \(note)") }
        let result = try session.run(
            stopAfterCells: stopAfterCells, waiting: { FileHandle.standardError.write(Data("gearbox: \($0)\n".utf8)) },
            progress: { display.show($0) })
        display.finish()
        if json {
            let report = Report(lut: result.paths.lut, samples: result.paths.samples, controller: result.lut.controller,
                                cellsMeasured: result.cellsMeasured, cellsFromCheckpoint: result.cellsFromCheckpoint,
                                notes: session.notes, table: result.lut)
            print(String(decoding: try JSONFile.encoder().encode(report), as: UTF8.self))
        } else {
            Self.printResult(result)
        }
    }

    /// The table and what was written (also `gearbox demo`).
    static func printResult(_ result: SweepResult) {
        print(LookupTableText.render(result.lut))
        print("")
        print("wrote \(result.paths.lut) and \(result.paths.samples) (\(result.cellsMeasured) cells measured" +
              (result.cellsFromCheckpoint > 0 ? ", \(result.cellsFromCheckpoint) from the checkpoint)" : ")"))
    }
}

/// Progress: a bar with ETA redrawn in place on a terminal, plain lines otherwise (both on stderr).
final class ProgressDisplay {
    let enabled: Bool
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var barShown = false

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ event: SweepEvent) {
        guard enabled else { return }
        switch event {
        case let .phase(text): line("== \(text)")
        case let .note(text): line("note: \(text)")
        case let .frequencySet(kHz, change, verified):
            if !isTerminal {
                line(String(format: "frequency %d kHz (%@): applied %d kHz, speed ratio %.3f%@", kHz, change.source.rawValue,
                            change.appliedKHz, change.speedRatio, verified ? "" : " NOT VERIFIED"))
            }
        case let .switchPair(done, total):
            if isTerminal { bar(done: done, total: total, label: "switch pairs", eta: nil) }
            else if done == total || done % 20 == 0 { line("switch costs: \(done)/\(total) pairs") }
        case let .cell(cell, done, total, eta):
            let text = String(format: "%@ @ %d kHz: p50 %.3f ms ±%.2f%% (%d samples, %@)%@", cell.variant, cell.kHz,
                              cell.latency.p50Ns.milliseconds, cell.latency.relativeCIHalfWidth * 100, cell.latency.samples,
                              cell.stopRule.rawValue, cell.noisy ? ", noisy" : "")
            if isTerminal { bar(done: done, total: total, label: text, eta: eta) }
            else { line("[\(done)/\(total)] \(text)\(eta.map { String(format: ", ETA %@", Self.duration($0)) } ?? "")") }
        }
    }

    func line(_ text: String) {
        guard enabled else { return }
        if barShown { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)); barShown = false }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    func finish() {
        if barShown { FileHandle.standardError.write(Data("\n".utf8)); barShown = false }
    }

    private func bar(done: Int, total: Int, label: String, eta: Double?) {
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let etaText = eta.map { " ETA " + Self.duration($0) } ?? ""
        let text = "\r\u{1B}[2K\(bar) \(done)/\(total)\(etaText)  \(label)"
        FileHandle.standardError.write(Data(text.prefix(160).utf8))
        barShown = true
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
