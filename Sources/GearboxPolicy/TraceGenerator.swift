// GearboxPolicy/TraceGenerator: synthetic frequency traces from a spec string such as `step`,
// `square:period=2s`, `random-walk:seed=7` or `governor-like:seed=3`, and the resolution of a
// CLI `--trace` argument to a generator or a recorded CSV file.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxRuntime

/// A frequency-trace generator and its parameters, parsed from `kind[:key=value,...]`.
///
/// | kind | parameters (defaults) |
/// |---|---|
/// | `step` | `from` (max), `to` (min), `at` (half the duration) |
/// | `ramp` | `from` (max), `to` (min), `interval` (100ms): linear, off the table's grid |
/// | `square` | `period` (2s), `high` (max), `low` (min), `duty` (0.5): starts high |
/// | `sawtooth` | `period` (4s), `from` (max), `to` (min), `interval` (100ms): ramps from→to, then jumps back |
/// | `random-walk` | `seed` (1), `interval` (100ms), `start` (max): one grid level up, down or stay per interval |
/// | `governor-like` | `seed` (1), `interval` (50ms), `up` (0.8), `busy` (0.5), `burst` (1s): an ondemand-style rule on a synthetic bursty load |
/// | `board-twin` | `board` (st-u8500, from `Devices/boards`), `ambient` (the model's °C), `interval` (100ms), `domain` (0): ``BoardTwinTrace`` under sustained load, with `temp_c` |
///
/// Frequencies are `max`, `min`, plain kHz, or with a unit (`800MHz`, `1.2GHz`).
public struct TraceSpec: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, CaseIterable, Sendable {
        case step, ramp, square, sawtooth
        case randomWalk = "random-walk"
        case governorLike = "governor-like"
        case boardTwin = "board-twin"

        var keys: [String] {
            switch self {
            case .step: return ["from", "to", "at"]
            case .ramp: return ["from", "to", "interval"]
            case .square: return ["period", "high", "low", "duty"]
            case .sawtooth: return ["period", "from", "to", "interval"]
            case .randomWalk: return ["seed", "interval", "start"]
            case .governorLike: return ["seed", "interval", "up", "busy", "burst"]
            case .boardTwin: return ["board", "ambient", "interval", "domain"]
            }
        }
    }

    public var kind: Kind
    public var parameters: [String: String]

    public init(kind: Kind, parameters: [String: String] = [:]) {
        self.kind = kind; self.parameters = parameters
    }

    /// Parses `kind[:key=value,...]`.
    /// - Throws: ``PolicyError/badTraceSpec(spec:reason:)`` naming the unknown kind or key and the valid ones.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let first = parts.first, let kind = Kind(rawValue: first.lowercased()) else {
            throw PolicyError.badTraceSpec(spec: text, reason: "unknown generator (use one of \(kinds), or a CSV file path)")
        }
        var parameters: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2, !kv[1].isEmpty else {
                    throw PolicyError.badTraceSpec(spec: text, reason: "'\(pair)' is not key=value (e.g. \(kind.rawValue):\(kind.keys[0])=...)")
                }
                guard kind.keys.contains(kv[0]) else {
                    throw PolicyError.badTraceSpec(spec: text, reason: "\(kind.rawValue) has no parameter '\(kv[0])' (it takes \(kind.keys.joined(separator: ", ")))")
                }
                parameters[kv[0]] = kv[1]
            }
        }
        self.kind = kind
        self.parameters = parameters
    }

    /// `kind:key=value,...` with keys sorted: parses back to the same spec.
    public var description: String {
        parameters.isEmpty ? kind.rawValue
            : kind.rawValue + ":" + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Generates the trace over `durationMs` using the frequency levels `levelsKHz` (the lookup
    /// table's grid, or the min/max of a range). The result is labelled `simulated`.
    public func generate(levelsKHz: [Int], durationMs: Double) throws -> FrequencyTrace {
        // The board's own frequencies and trips make this trace; the levels are not used.
        if kind == .boardTwin { return try boardTwin(durationMs: durationMs) }
        let levels = Array(Set(levelsKHz.filter { $0 > 0 })).sorted()
        guard let low = levels.first, let high = levels.last else {
            throw PolicyError.badTraceSpec(spec: description, reason: "no frequency levels to generate from (give --lut or --min-khz/--max-khz)")
        }
        guard durationMs > 0, durationMs.isFinite else {
            throw PolicyError.badTraceSpec(spec: description, reason: "duration must be positive")
        }
        try FrequencyTrace.checkDuration(durationMs, setting: "--duration")
        var points: [(timeMs: Double, kHz: Int)] = []
        /// One point every `interval` ms from 0 (accumulated, not multiplied, so the times are the
        /// ones the generators always wrote), its frequency `kHz(t)`.
        func sample(every interval: Double, _ kHz: (Double) -> Int) {
            var t = 0.0
            while t < durationMs {
                points.append((t, kHz(t)))
                t += interval
            }
        }
        switch kind {
        case .boardTwin:
            return try boardTwin(durationMs: durationMs)
        case .step:
            let from = try frequency("from", default: high, levels: levels)
            let to = try frequency("to", default: low, levels: levels)
            let at = try duration("at", default: durationMs / 2)
            points = [(0, from), (min(at, durationMs), to)]
        case .ramp:
            let from = try frequency("from", default: high, levels: levels)
            let to = try frequency("to", default: low, levels: levels)
            let interval = try duration("interval", default: 100)
            try checkSampleCount(durationMs: durationMs, every: interval)
            sample(every: interval) { interpolate(from, to, $0 / durationMs) }
        case .square:
            let period = try duration("period", default: 2000)
            let highKHz = try frequency("high", default: high, levels: levels)
            let lowKHz = try frequency("low", default: low, levels: levels)
            let duty = try number("duty", default: 0.5, range: 0.01...0.99)
            try checkSampleCount(durationMs: durationMs, every: period / 2)
            var t = 0.0
            while t < durationMs {
                points.append((t, highKHz))
                if t + period * duty < durationMs { points.append((t + period * duty, lowKHz)) }
                t += period
            }
        case .sawtooth:
            let period = try duration("period", default: 4000)
            let from = try frequency("from", default: high, levels: levels)
            let to = try frequency("to", default: low, levels: levels)
            let interval = try duration("interval", default: 100)
            try checkSampleCount(durationMs: durationMs, every: interval)
            sample(every: interval) { interpolate(from, to, $0.truncatingRemainder(dividingBy: period) / period) }
        case .randomWalk:
            var rng = SplitMix64(seed: try seed())
            let interval = try duration("interval", default: 100)
            try checkSampleCount(durationMs: durationMs, every: interval)
            let start = try frequency("start", default: high, levels: levels)
            var index = levels.lastIndex { $0 <= start } ?? 0
            sample(every: interval) { _ in
                let kHz = levels[index]
                switch rng.next() % 3 {
                case 0: index = index > 0 ? index - 1 : 1
                case 1: index = index < levels.count - 1 ? index + 1 : levels.count - 2
                default: break
                }
                index = min(max(index, 0), levels.count - 1)
                return kHz
            }
        case .governorLike:
            var rng = SplitMix64(seed: try seed())
            let interval = try duration("interval", default: 50)
            try checkSampleCount(durationMs: durationMs, every: interval)
            let up = try number("up", default: 0.8, range: 0.1...0.99)
            let busy = try number("busy", default: 0.5, range: 0.01...0.99)
            let burst = try duration("burst", default: 1000)
            // Two-state load: busy bursts (load 0.85–1.0) and idle gaps (0.05–0.3) with
            // exponentially distributed lengths; means give the busy fraction asked for.
            var isBusy = true
            var stateEndsMs = -burst * log(1 - rng.nextUnit())
            sample(every: interval) { t in
                while t >= stateEndsMs {
                    isBusy.toggle()
                    let mean = isBusy ? burst : burst * (1 - busy) / busy
                    stateEndsMs += -mean * log(1 - rng.nextUnit())
                }
                let load = isBusy ? 0.85 + 0.15 * rng.nextUnit() : 0.05 + 0.25 * rng.nextUnit()
                // ondemand: above the up threshold go to max; else scale with load, rounded up to a level.
                let wanted = load > up ? high : low + Int(load * Double(high - low))
                return levels.first { $0 >= wanted } ?? high
            }
        }
        // Drop samples that repeat the previous frequency: they are not changes.
        var compact: [(timeMs: Double, kHz: Int)] = []
        for p in points where compact.last?.kHz != p.kHz { compact.append(p) }
        return FrequencyTrace(name: description, points: compact, durationMs: durationMs, source: .simulated)
    }

    /// `board-twin`: the board model (from `Devices/boards`) under sustained load.
    private func boardTwin(durationMs: Double) throws -> FrequencyTrace {
        let model = try BoardCatalog().load(parameters["board"] ?? "st-u8500")
        let ambient = try number("ambient", default: model.thermal.ambientCelsius, range: -60...150)
        let domain = Int(try number("domain", default: 0, range: 0...Double(model.domains.count - 1)))
        let interval = try duration("interval", default: 100)
        try checkSampleCount(durationMs: durationMs, every: interval)
        return try BoardTwinTrace(model: model, ambientCelsius: ambient, domain: domain)
            .trace(durationMs: durationMs, intervalMs: interval, name: description)
    }

    private func interpolate(_ from: Int, _ to: Int, _ fraction: Double) -> Int {
        Int((Double(from) + (Double(to) - Double(from)) * fraction).rounded())
    }

    private func frequency(_ key: String, default value: Int, levels: [Int]) throws -> Int {
        guard let text = parameters[key]?.lowercased() else { return value }
        if text == "max" { return levels.last ?? value }
        if text == "min" { return levels.first ?? value }
        for (suffix, scale) in [("khz", 1.0), ("mhz", 1e3), ("ghz", 1e6)] where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)), number > 0, let kHz = Int(exactly: (number * scale).rounded()),
               kHz <= FileLimits.maximumKHz {
                return kHz
            }
        }
        if let number = Int(text), number > 0, number <= FileLimits.maximumKHz { return number }
        throw PolicyError.badTraceSpec(spec: description, reason: "\(key)=\(text) is not a frequency (use max, min, kHz, or e.g. 800MHz)")
    }

    /// A generator emitting a sample every `interval` ms may not exceed the trace sample budget.
    private func checkSampleCount(durationMs: Double, every interval: Double) throws {
        if let problem = FrequencyTrace.sampleBudgetProblem(durationMs: durationMs, everyMs: interval) {
            throw PolicyError.badTraceSpec(
                spec: description, reason: problem + ": use a longer interval or period, or a shorter --duration")
        }
    }

    private func duration(_ key: String, default value: Double) throws -> Double {
        guard let text = parameters[key] else { return value }
        guard let span = DurationText.nanoseconds(text), span >= Nanoseconds(microseconds: 1) else {
            throw PolicyError.badTraceSpec(spec: description, reason: "\(key)=\(text) is not a duration of at least 1us (e.g. 2s, 100ms)")
        }
        return span.milliseconds
    }

    private func number(_ key: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = parameters[key] else { return value }
        guard let number = Double(text), range.contains(number) else {
            throw PolicyError.badTraceSpec(spec: description, reason: "\(key)=\(text) must be a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    private func seed() throws -> UInt64 {
        guard let text = parameters["seed"] else { return 1 }
        guard let seed = UInt64(text) else {
            throw PolicyError.badTraceSpec(spec: description, reason: "seed=\(text) must be a non-negative integer")
        }
        return seed
    }
}

/// Resolves a CLI `--trace` argument: a generator spec, or the path of a recorded CSV.
public enum TraceArgument {
    /// Whether `text` names a file rather than a generator (it has a `/`, ends in `.csv`, or exists).
    public static func isFile(_ text: String) -> Bool {
        text.contains("/") || text.lowercased().hasSuffix(".csv") || FileManager.default.fileExists(atPath: text)
    }

    /// The trace `text` names: read from the CSV file, or generated over `durationMs` from `levelsKHz`.
    public static func load(_ text: String, levelsKHz: [Int], durationMs: Double) throws -> FrequencyTrace {
        if isFile(text) { return try FrequencyTrace.read(csvAt: text) }
        return try TraceSpec(parsing: text).generate(levelsKHz: levelsKHz, durationMs: durationMs)
    }
}
