// GearboxPolicy/FrequencyTrace: a CPU frequency over time, per DVFS domain, held piecewise
// constant between samples; read from and written to the trace CSV (`time_ms,khz`, one `khz…`
// column per domain, and a last `temp_c` column when the trace recorded a thermal zone).

import Foundation
import GearboxCore
import GearboxRuntime

/// Frequencies over time for one or more DVFS domains; each sample holds until the next one.
public struct FrequencyTrace: Equatable, Sendable {
    /// One sample: the time it starts and each domain's frequency from then on.
    public struct Sample: Equatable, Sendable {
        public var timeMs: Double
        public var kHz: [Int]
        /// The hottest thermal zone at the sample, in °C; nil when not recorded.
        public var temperatureC: Double?
        public init(timeMs: Double, kHz: [Int], temperatureC: Double? = nil) {
            self.timeMs = timeMs; self.kHz = kHz; self.temperatureC = temperatureC
        }
    }

    /// A run of one frequency on one domain: `[startMs, endMs)`.
    public struct Segment: Equatable, Sendable {
        public var startMs: Double
        public var endMs: Double
        public var kHz: Int
    }

    /// The generator spec or file the trace came from.
    public var name: String
    /// One name per domain (the CSV's `khz…` column headers).
    public var domainNames: [String]
    /// Samples in time order; the first starts at 0 or later.
    public var samples: [Sample]
    /// When the trace ends; the last sample holds until then.
    public var durationMs: Double
    /// `real` for a recorded trace, `simulated` for a generated one.
    public var source: MeasurementSource

    public init(name: String, domainNames: [String] = ["khz"], samples: [Sample], durationMs: Double, source: MeasurementSource) {
        self.name = name; self.domainNames = domainNames; self.samples = samples
        self.durationMs = durationMs; self.source = source
    }

    /// A single-domain trace from `(timeMs, kHz)` pairs.
    public init(name: String, points: [(timeMs: Double, kHz: Int)], durationMs: Double, source: MeasurementSource = .simulated) {
        self.init(name: name, samples: points.map { Sample(timeMs: $0.timeMs, kHz: [$0.kHz]) }, durationMs: durationMs, source: source)
    }

    /// The frequency of `domain` at `timeMs` (the first sample's before it starts).
    public func kHz(atMs timeMs: Double, domain: Int = 0) -> Int {
        samples[sampleIndex(atMs: timeMs)].kHz[domain]
    }

    /// Index of the sample in force at `timeMs`.
    public func sampleIndex(atMs timeMs: Double) -> Int {
        var lo = 0, hi = samples.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if samples[mid].timeMs <= timeMs { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The runs of constant frequency on `domain`, merged across samples that repeat a frequency.
    public func segments(domain: Int = 0) -> [Segment] {
        var result: [Segment] = []
        for (i, sample) in samples.enumerated() {
            let end = i + 1 < samples.count ? samples[i + 1].timeMs : durationMs
            let start = i == 0 ? 0 : sample.timeMs
            if let last = result.last, last.kHz == sample.kHz[domain] {
                result[result.count - 1].endMs = end
            } else {
                result.append(Segment(startMs: start, endMs: end, kHz: sample.kHz[domain]))
            }
        }
        return result
    }

    /// The temperature in force at `timeMs` in °C, or nil when the trace has none.
    public func temperatureC(atMs timeMs: Double) -> Double? {
        samples.isEmpty ? nil : samples[sampleIndex(atMs: timeMs)].temperatureC
    }

    /// Whether the samples carry a temperature (the CSV's `temp_c` column).
    public var hasTemperature: Bool { samples.contains { $0.temperatureC != nil } }

    /// The distinct frequencies the trace visits on `domain`, ascending.
    public func distinctKHz(domain: Int = 0) -> [Int] { Array(Set(samples.map { $0.kHz[domain] })).sorted() }

    // MARK: Budgets

    /// Longest trace or run Gearbox replays: 24 hours (86 400 000 ms). A simulated run records one
    /// timeline row per inference, so a longer one would only exhaust memory.
    public static let maximumDurationMs: Double = 24 * 3600 * 1000
    /// Most samples a trace may have: 1 000 000 (a day sampled every 100 ms is 864 000).
    public static let maximumSamples = 1_000_000
    /// Largest trace CSV Gearbox reads: 64 MiB (a million rows of a few domains).
    public static let maximumFileBytes = 64 << 20

    /// Throws ``PolicyError/badSetting(name:reason:)`` unless `durationMs` is at most ``maximumDurationMs``.
    public static func checkDuration(_ durationMs: Double, setting: String) throws {
        guard durationMs <= maximumDurationMs else {
            throw PolicyError.badSetting(
                name: setting,
                reason: "\(DurationText.format(Nanoseconds(milliseconds: durationMs))) is longer than the \(DurationText.format(Nanoseconds(milliseconds: maximumDurationMs))) (24 h) Gearbox replays (FrequencyTrace.maximumDurationMs)")
        }
    }

    /// Why sampling every `intervalMs` for `durationMs` would make more than ``maximumSamples``
    /// samples, or nil when it would not: the budget every trace maker checks before sampling.
    public static func sampleBudgetProblem(durationMs: Double, everyMs intervalMs: Double) -> String? {
        let samples = durationMs / intervalMs
        if samples <= Double(maximumSamples) { return nil }  // also refuses NaN (0 / 0)
        return "\(DurationText.compact(samples)) samples, more than the \(maximumSamples) a trace may have (FrequencyTrace.maximumSamples)"
    }

    // MARK: CSV

    /// The trace as CSV: `time_ms,khz` (or `time_ms,khz_policy0,khz_policy4,…`), one row per sample.
    public func csv() -> String {
        var text = "# source=\(source.rawValue) duration_ms=\(DurationText.compact(durationMs)) name=\(name)\n"
        let temperature = hasTemperature
        text += "time_ms," + domainNames.joined(separator: ",") + (temperature ? "," + Self.temperatureColumn : "") + "\n"
        for s in samples {
            text += DurationText.compact(s.timeMs) + "," + s.kHz.map(String.init).joined(separator: ",")
            if temperature { text += "," + (s.temperatureC.map { String(format: "%.3f", $0) } ?? "") }
            text += "\n"
        }
        return text
    }

    /// The optional last CSV column: the hottest thermal zone in °C.
    public static let temperatureColumn = "temp_c"

    /// Writes the CSV atomically.
    public func write(to path: String) throws { try AtomicFile.write(csv(), to: path) }

    /// Reads a trace CSV. Blank lines and `#` comments are skipped (a `# source=simulated` comment
    /// labels a generated trace; without one a trace counts as recorded, `real`); the header is `time_ms` then
    /// one column per domain whose name starts with `khz`, optionally then `temp_c` (°C, may be
    /// empty); times must not go backwards.
    /// - Throws: ``PolicyError/badTraceFile(path:line:reason:)`` naming the file and line.
    ///   A file over ``maximumFileBytes``, with more than ``maximumSamples`` rows or a time past
    ///   ``maximumDurationMs`` is refused before it is held in memory.
    public static func read(csvAt path: String) throws -> FrequencyTrace {
        let data = try InputFile.read(path, maximumBytes: maximumFileBytes)
        guard let text = String(data: data, encoding: .utf8), !text.contains("\0") else {
            throw FileFormatError.malformed(path: path, reason: "not UTF-8 text (a binary file?); a trace CSV starts with 'time_ms,khz'")
        }
        return try parse(csv: text, path: path)
    }

    /// Parses trace CSV text; `path` names it in errors.
    public static func parse(csv text: String, path: String) throws -> FrequencyTrace {
        var header: [String]?
        var hasTemperature = false
        var samples: [Sample] = []
        var source = MeasurementSource.real
        var statedDurationMs: Double?
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("#") {
                for word in trimmed.dropFirst().split(separator: " ") where word.hasPrefix("source=") {
                    source = MeasurementSource(rawValue: String(word.dropFirst(7))) ?? source
                }
                for word in trimmed.dropFirst().split(separator: " ") where word.hasPrefix("duration_ms=") {
                    guard let stated = Double(word.dropFirst(12)), stated.isFinite, stated >= 0, stated <= maximumDurationMs else {
                        throw PolicyError.badTraceFile(
                            path: path, line: line,
                            reason: "\(word) is not a duration in 0...\(Int(maximumDurationMs)) ms (24 h, FrequencyTrace.maximumDurationMs)")
                    }
                    statedDurationMs = stated
                }
                continue
            }
            if trimmed.isEmpty { continue }
            let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard let columns = header else {
                hasTemperature = fields.count >= 3 && fields.last?.lowercased() == temperatureColumn
                let frequencyColumns = fields.dropFirst().dropLast(hasTemperature ? 1 : 0)
                guard fields.count >= 2, fields[0].lowercased() == "time_ms",
                      frequencyColumns.allSatisfy({ $0.lowercased().hasPrefix("khz") }) else {
                    throw PolicyError.badTraceFile(path: path, line: line, reason: "header must be 'time_ms,khz' (or time_ms,khz_<domain>,..., optionally ending in temp_c), found '\(trimmed)'")
                }
                header = Array(frequencyColumns)
                continue
            }
            let width = columns.count + 1 + (hasTemperature ? 1 : 0)
            guard fields.count == width else {
                throw PolicyError.badTraceFile(path: path, line: line, reason: "expected \(width) columns, found \(fields.count)")
            }
            guard samples.count < maximumSamples else {
                throw PolicyError.badTraceFile(
                    path: path, line: line, reason: "more than \(maximumSamples) samples (FrequencyTrace.maximumSamples); split or resample the trace")
            }
            guard let time = Double(fields[0]), time.isFinite, time >= 0 else {
                throw PolicyError.badTraceFile(path: path, line: line, reason: "time_ms '\(fields[0])' is not a non-negative number")
            }
            guard time <= maximumDurationMs else {
                throw PolicyError.badTraceFile(
                    path: path, line: line,
                    reason: "time_ms \(fields[0]) is past the longest trace Gearbox replays, \(Int(maximumDurationMs)) ms (24 h, FrequencyTrace.maximumDurationMs)")
            }
            if let previous = samples.last, time < previous.timeMs {
                throw PolicyError.badTraceFile(path: path, line: line, reason: "time_ms \(fields[0]) goes backwards (previous row is \(DurationText.compact(previous.timeMs)))")
            }
            var kHz: [Int] = []
            var temperature: Double?
            if hasTemperature, let text = fields.last, !text.isEmpty {
                guard let celsius = Double(text), celsius.isFinite, (-273...1000).contains(celsius) else {
                    throw PolicyError.badTraceFile(path: path, line: line, reason: "temp_c '\(text)' is not a temperature in °C (-273...1000, or empty)")
                }
                temperature = celsius
            }
            for (column, field) in zip(columns, fields.dropFirst()) {
                guard let value = Double(field), value.isFinite, value >= 1, let rounded = Int(exactly: value.rounded()),
                      rounded <= FileLimits.maximumKHz else {
                    throw PolicyError.badTraceFile(
                        path: path, line: line, reason: "\(column) '\(field)' is not a positive frequency in kHz (1...\(FileLimits.maximumKHz))")
                }
                kHz.append(rounded)
            }
            samples.append(Sample(timeMs: time, kHz: kHz, temperatureC: temperature))
        }
        guard let columns = header else {
            throw PolicyError.badTraceFile(path: path, line: 1, reason: "empty file")
        }
        guard let last = samples.last else {
            throw PolicyError.badTraceFile(path: path, line: 2, reason: "no samples after the header")
        }
        // The last sample holds until the stated end, else for one more typical interval.
        let intervals = zip(samples.dropFirst(), samples).map { $0.timeMs - $1.timeMs }.filter { $0 > 0 }.sorted()
        let typical = intervals.isEmpty ? 1000 : intervals[intervals.count / 2]
        let durationMs = min(max(statedDurationMs ?? last.timeMs + typical, last.timeMs), maximumDurationMs)
        return FrequencyTrace(name: path, domainNames: columns, samples: samples, durationMs: durationMs, source: source)
    }
}
