// gearbox trace: records the real CPU frequency (scaling_cur_freq) into a trace CSV, or writes a
// generated trace (step, square, random-walk, …) to a CSV for inspection and replay.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxPolicy
import GearboxProfiler

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Record or generate frequency traces.",
        discussion: """
            Example:
              gearbox trace record --duration 60s --interval 100ms --out traces/board.csv
              gearbox trace generate random-walk:seed=7 --lut Profiles/board/fmnist.lut.json --duration 60s --out traces/rw.csv
            """,
        subcommands: [TraceRecordCommand.self, TraceGenerateCommand.self]
    )
}

struct TraceRecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Sample every cpufreq domain's scaling_cur_freq into a trace CSV.",
        discussion: """
            Reads <sysfs-root>/sys/devices/system/cpu/cpufreq/policy*/scaling_cur_freq every --interval \
            for --duration of wall time, or while --while's command runs (at most --duration, default \
            24h; a command still running then is stopped). Where thermal zones exist, the hottest \
            zone's temperature is recorded too (a temp_c column). On a machine without cpufreq it says \
            so and exits 1 without writing anything.

            Example:
              gearbox trace record --duration 60s --interval 100ms --out traces/board.csv
              gearbox board run st-u8500 -- gearbox trace record --out T.csv --while "gearbox run MODEL --repeat 5000"
            """
    )

    @Option(help: "How long to record (e.g. 60s; at most 24h and 1,000,000 samples); with --while the longest to wait (default 24h).")
    var duration: String?

    @Option(name: .customLong("while"), help: "Record while this shell command runs (started by the recorder, /bin/sh -c).")
    var whileCommand: String?

    @Option(help: "Sampling interval.")
    var interval: String = "100ms"

    @Option(help: "Output CSV.")
    var out: String = "recorded-trace.csv"

    @Option(name: .customLong("sysfs-root"), help: "Read sysfs from this root (an extracted dump) instead of /.")
    var sysfsRoot: String = "/"

    @Flag(help: "Print a JSON summary of the recording.")
    var json = false

    func run() throws {
        guard duration != nil || whileCommand != nil else {
            throw CommandError.input("trace record: give --duration (e.g. 60s) or --while COMMAND")
        }
        let duration = self.duration ?? "24h"
        let durationMs = try DurationText.milliseconds(duration, setting: "--duration")
        let intervalMs = try DurationText.milliseconds(interval, setting: "--interval")
        try FrequencyTrace.checkDuration(durationMs, setting: "--duration")
        guard intervalMs > 0 else { throw PolicyError.badSetting(name: "--interval", reason: "\(interval) must be positive") }
        if let problem = FrequencyTrace.sampleBudgetProblem(durationMs: durationMs, everyMs: intervalMs) {
            throw PolicyError.badSetting(name: "--interval", reason: "\(interval) over \(duration) is \(problem); use a longer interval")
        }
        let recorder = try TraceRecorder(sysfsRoot: sysfsRoot)
        let temperature = recorder.thermalZones.isEmpty ? "" : " and the hottest of \(recorder.thermalZones.count) thermal zone(s)"
        let span = whileCommand.map { "while `\($0)` runs (at most \(duration))" } ?? "for \(duration)"
        if !json {
            print("recording \(recorder.domains.map(\.name).joined(separator: ", "))\(temperature) every \(interval) \(span)")
        }
        let command = try whileCommand.map(Self.start)
        let trace = try recorder.record(durationMs: durationMs, intervalMs: intervalMs, whileRunning: { command?.isRunning ?? true })
        var status: Int32 = 0
        if let command {
            if command.isRunning {
                command.terminate()
                if !json { print("stopped `\(whileCommand ?? "")` (pid \(command.processIdentifier)): --duration \(duration) reached") }
            }
            command.waitUntilExit()
            status = command.terminationStatus
        }
        try trace.write(to: out)
        try TraceOutput.print(trace, path: out, json: json)
        if status != 0, command?.terminationReason == .exit {
            throw CommandError.failure("trace record: `\(whileCommand ?? "")` exited with status \(status) (the trace up to then is in \(out))")
        }
    }

    /// Starts `command` under /bin/sh, its output passed through.
    static func start(_ command: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        do { try process.run() } catch {
            throw CommandError.failure("trace record: cannot start `\(command)`: \(error)")
        }
        return process
    }
}

struct TraceGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a generated trace (step, ramp, square, sawtooth, random-walk, governor-like, board-twin) to a CSV.",
        discussion: """
            Frequency levels come from the lookup table's grid (--lut) or from --min-khz/--max-khz \
            (plus --levels evenly spaced levels). The CSV is labelled simulated.

            Example:
              gearbox trace generate square:period=2s --min-khz 600000 --max-khz 1800000 --duration 20s --out traces/square.csv
            """
    )

    @Argument(help: "Generator spec, e.g. step, square:period=2s, random-walk:seed=7, governor-like:seed=3, board-twin:board=st-u8500,ambient=65.")
    var spec: String

    @Option(help: "Take the frequency levels from this lookup table.")
    var lut: String?

    @Option(name: .customLong("min-khz"), help: "Lowest frequency (without --lut).")
    var minKHz: Int?

    @Option(name: .customLong("max-khz"), help: "Highest frequency (without --lut).")
    var maxKHz: Int?

    @Option(help: "Number of evenly spaced levels between --min-khz and --max-khz.")
    var levels: Int = 7

    @Option(help: "Trace length (at most 24h).")
    var duration: String = "20s"

    @Option(help: "Output CSV.")
    var out: String

    @Flag(help: "Print a JSON summary of the trace.")
    var json = false

    func run() throws {
        let durationMs = try DurationText.milliseconds(duration, setting: "--duration")
        let spec = try TraceSpec(parsing: spec)
        let levelsKHz: [Int]
        if spec.kind == .boardTwin {
            levelsKHz = []  // the board model's frequencies and trips make the trace
        } else if let lut {
            levelsKHz = try LookupTable.read(from: lut).frequenciesKHz
        } else if let minKHz, let maxKHz, minKHz > 0, maxKHz >= minKHz, maxKHz <= FileLimits.maximumKHz {
            guard levels <= 1000 else { throw PolicyError.badSetting(name: "--levels", reason: "\(levels) is more than 1000 levels") }
            let n = max(2, levels)
            levelsKHz = (0..<n).map { minKHz + (maxKHz - minKHz) * $0 / (n - 1) }
        } else {
            throw PolicyError.badSetting(name: "--lut or --min-khz/--max-khz", reason: "give a lookup table or a frequency range (min ≤ max, both positive, at most \(FileLimits.maximumKHz) kHz)")
        }
        let trace = try spec.generate(levelsKHz: levelsKHz, durationMs: durationMs)
        try trace.write(to: out)
        try TraceOutput.print(trace, path: out, json: json)
    }
}

/// What both trace commands print after writing a CSV.
enum TraceOutput {
    struct Summary: Encodable {
        var path: String
        var name: String
        var source: MeasurementSource
        var domains: [String]
        var samples: Int
        var segments: Int
        var durationMs: Double
        var distinctKHz: [Int]
    }

    static func print(_ trace: FrequencyTrace, path: String, json: Bool) throws {
        let summary = Summary(
            path: path, name: trace.name, source: trace.source, domains: trace.domainNames, samples: trace.samples.count,
            segments: trace.segments().count, durationMs: trace.durationMs, distinctKHz: trace.distinctKHz())
        if json {
            Swift.print(String(decoding: try JSONFile.encoder().encode(summary), as: UTF8.self))
        } else {
            Swift.print("wrote \(path): \(summary.samples) samples, \(summary.segments) segments over \(DurationText.format(Nanoseconds(milliseconds: trace.durationMs))), "
                + "\(summary.distinctKHz.count) distinct frequencies (\(summary.distinctKHz.first ?? 0)–\(summary.distinctKHz.last ?? 0) kHz on \(trace.domainNames[0])), \(trace.source)")
        }
    }
}
