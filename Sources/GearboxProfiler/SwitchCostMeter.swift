// GearboxProfiler/SwitchCostMeter: the switch-overhead matrix. For each ordered pair (from, to):
// `cold` = load `to` from disk (its file's pages dropped from the page cache where the kernel
// allows, else labelled warm-cache) + its first inference, while `from` is loaded and hot (one
// backend per `from`, so `from` is loaded once per row, not once per pair);
// `warm` = everything resident: activate `to` + its first inference, minus a steady inference of
// `to`; for masked variants sharing one model, the mask switch alone. Medians over repetitions.

import GearboxCore
import GearboxPortfolio

public struct SwitchCostMeter {
    public let portfolio: Portfolio
    public let makeBackend: () -> VariantBackend
    public let clock: LatencyClock
    public let repetitions: Int
    public let source: MeasurementSource
    /// Whether to drop page caches for cold loads (false for simulated sweeps, where there is no disk).
    public let dropPageCache: Bool
    public let simulation: SimulationState?

    public init(portfolio: Portfolio, makeBackend: @escaping () -> VariantBackend, clock: LatencyClock, repetitions: Int,
                source: MeasurementSource, dropPageCache: Bool, simulation: SimulationState? = nil) {
        self.portfolio = portfolio; self.makeBackend = makeBackend; self.clock = clock
        self.repetitions = Swift.max(1, repetitions); self.source = source; self.dropPageCache = dropPageCache
        self.simulation = simulation
    }

    /// Measures every ordered pair; `progress(done, total)` after each pair.
    public func measure(progress: (Int, Int) -> Void = { _, _ in }) throws -> [SwitchRecord] {
        let variants = portfolio.variants
        let pairs = variants.flatMap { a in variants.filter { $0.name != a.name }.map { (a, $0) } }
        guard !pairs.isEmpty else { return [] }

        // Warm: one backend with every variant resident.
        let backend = makeBackend()
        var runners: [String: VariantRunner] = [:]
        for variant in variants { runners[variant.name] = try backend.load(variant, from: portfolio) }
        var steady: [String: Double] = [:]
        for variant in variants {
            guard let runner = runners[variant.name] else { continue }
            simulation?.beginCell(key: "steady/\(variant.name)")
            try runner.activate()
            for _ in 0..<3 { try runner.runOnce() }
            var times: [Double] = []
            for _ in 0..<9 {
                let t0 = clock.nowNs()
                try runner.runOnce()
                times.append(Double(clock.nowNs() - t0))
            }
            steady[variant.name] = Self.median(times)
        }

        var warmCosts: [String: (warm: Double, mask: Double?)] = [:]
        for (from, to) in pairs {
            guard let a = runners[from.name], let b = runners[to.name] else { continue }
            simulation?.beginCell(key: "switch/\(from.name)/\(to.name)")
            var warm: [Double] = [], mask: [Double] = []
            let sharesModel = a.sharedModelID == b.sharedModelID
            for _ in 0..<repetitions {
                try a.activate()
                try a.runOnce(); try a.runOnce()
                let t0 = clock.nowNs()
                try b.activate()
                let t1 = clock.nowNs()
                try b.runOnce()
                let t2 = clock.nowNs()
                warm.append(Double(t2 - t0) - (steady[to.name] ?? 0))
                if sharesModel { mask.append(Double(t1 - t0)) }
            }
            warmCosts["\(from.name)\u{0}\(to.name)"] = (Swift.max(0, Self.median(warm)), sharesModel ? Self.median(mask) : nil)
        }
        runners.removeAll()
        backend.releaseAll()

        // Cold: per `from`, one fresh backend holding only `from` (loaded and hot); each `to` is
        // then loaded from disk (its file's pages dropped where permitted), run once, and forgotten.
        var cold: [String: (Double, PageCache.Outcome?)] = [:]
        var done = 0
        for from in variants {
            let coldBackend = makeBackend()
            let a = try coldBackend.load(from, from: portfolio)
            var times: [String: [Double]] = [:]
            var outcomes: [String: PageCache.Outcome] = [:]
            for _ in 0..<repetitions {
                for to in variants where to.name != from.name {
                    simulation?.beginCell(key: "cold/\(from.name)/\(to.name)")
                    try a.activate()
                    try a.runOnce(); try a.runOnce()
                    // A masked `to` sharing `from`'s file reuses the loaded model: nothing to read from disk.
                    let sharesFile = portfolio.path(of: from) == portfolio.path(of: to)
                    if dropPageCache && !sharesFile {
                        let outcome = PageCache.drop(path: portfolio.path(of: to))
                        if outcomes[to.name] != .warmCache { outcomes[to.name] = outcome }
                    }
                    let t0 = clock.nowNs()
                    let b = try coldBackend.load(to, from: portfolio)
                    try b.activate()
                    try b.runOnce()
                    times[to.name, default: []].append(Double(clock.nowNs() - t0))
                    if !sharesFile { coldBackend.release(fileOf: to, in: portfolio) }
                }
            }
            for (name, values) in times { cold["\(from.name)\u{0}\(name)"] = (Self.median(values), outcomes[name]) }
            coldBackend.releaseAll()
            done += variants.count - 1
            progress(done, pairs.count)
        }

        return pairs.map { from, to in
            let key = "\(from.name)\u{0}\(to.name)"
            return SwitchRecord(
                from: from.name, to: to.name, coldNs: cold[key].map { Nanoseconds($0.0) }, coldCache: cold[key]?.1,
                warmNs: warmCosts[key].map { Nanoseconds($0.warm) }, maskSwitchNs: (warmCosts[key]?.mask ?? nil).map { Nanoseconds($0) },
                source: source)
        }
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}
