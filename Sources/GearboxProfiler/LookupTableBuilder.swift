// GearboxProfiler/LookupTableBuilder: turns a finished sweep (its checkpoint) into the lookup
// table: the kept attempt of each cell, a t(f) = a + b/f model per variant, predictions (marked
// predicted) for grid frequencies that were not measured, memory and the switch-cost matrix.

import GearboxCore
import GearboxPortfolio

public enum LookupTableBuilder {
    /// Builds the LUT of a complete sweep.
    public static func build(checkpoint: SweepCheckpoint, manifest: PortfolioManifest, provenance: Provenance) -> LookupTable {
        let config = checkpoint.configuration
        let maxKHz = config.gridKHz.max() ?? checkpoint.cells.map(\.kHz).max() ?? 1
        let merged = mergedVisits(keptCells(checkpoint.cells, maxKHz: maxKHz), confidence: config.sampling.confidence)
        let kept = merged.map(\.cell)
        let visitCounts = Dictionary(merged.map { ($0.cell.cellKey, $0.visits) }, uniquingKeysWith: Swift.max)
        var predictedKHz = Set<Int>()
        var variants: [LookupTable.Variant] = []
        for variant in manifest.variants {
            let cells = kept.filter { $0.variant == variant.name }.sorted { $0.kHz < $1.kHz }
            var latency: [String: LookupTable.LatencyCell] = [:]
            var counters: [String: LookupTable.CounterCell] = [:]
            for cell in cells {
                let l = cell.latency
                latency[String(cell.kHz)] = LookupTable.LatencyCell(
                    p50Ns: l.p50Ns, p90Ns: l.p90Ns, p99Ns: l.p99Ns, p999Ns: l.p999Ns, maxNs: l.maxNs, meanNs: l.meanNs,
                    stddevNs: l.stddevNs, ciHalfWidthNs: l.ciHalfWidthNs, samples: l.samples, source: cell.source,
                    stopRule: cell.stopRule.rawValue, noisy: cell.noisy, cv: l.cv, retried: cell.attempt > 0 ? true : nil,
                    speedRatio: cell.speedRatio,
                    inferencesPerSample: (cell.inferencesPerSample ?? 1) > 1 ? cell.inferencesPerSample : nil,
                    interferedWindows: (cell.interferedWindows ?? 0) > 0 ? cell.interferedWindows : nil,
                    energyPerInferenceJ: cell.energyPerInferenceJ, powerW: cell.powerW,
                    temperatureStartC: cell.milliCelsiusBefore.values.max().map { Double($0) / 1000 },
                    temperatureEndC: cell.milliCelsiusAfter.values.max().map { Double($0) / 1000 },
                    throttled: cell.throttled ? true : nil,
                    visits: visitCounts[cell.cellKey].flatMap { $0 > 1 ? $0 : nil })
                if let c = cell.counters { counters[String(cell.kHz)] = c }
            }
            var model = LookupTable.FrequencyModel.fit(points: cells.map { (deliveredKHz($0, maxKHz: maxKHz), $0.latency.p50Ns) })
            model?.frequencyBasis = "delivered"
            if let model {
                // A fit extrapolated to a latency of zero or less predicts nothing: such a cell is
                // left out rather than written into a table every reader would refuse.
                for kHz in config.gridKHz where latency[String(kHz)] == nil && model.predictNs(kHz: kHz) > 0 {
                    latency[String(kHz)] = predictedCell(kHz: kHz, model: model, measured: cells)
                    predictedKHz.insert(kHz)
                }
            }
            let memory = checkpoint.memory?.variants.first { $0.variant == variant.name }
            variants.append(LookupTable.Variant(
                name: variant.name, format: variant.format.rawValue, accuracy: variant.accuracy, params: variant.params,
                macs: variant.macs, memoryBytes: memory?.engineBytes ?? 0,
                memory: memory.map {
                    LookupTable.Memory(engineBytes: $0.engineBytes, rssDeltaBytes: $0.rssDeltaBytes, peakRSSDeltaBytes: $0.peakRSSDeltaBytes)
                },
                latency: latency, counters: counters, model: model))
        }
        var switchCosts: [String: [String: LookupTable.SwitchCost]] = [:]
        for record in checkpoint.switchCosts ?? [] {
            switchCosts[record.from, default: [:]][record.to] = LookupTable.SwitchCost(
                cold: record.coldNs, warm: record.warmNs, coldCache: record.coldCache?.rawValue, maskSwitch: record.maskSwitchNs)
        }
        let measuredKHz = Set(kept.map(\.kHz))
        let memory = checkpoint.memory
        var stopCounts: [String: Int] = [:]
        for cell in kept { stopCounts[cell.stopRule.rawValue, default: 0] += 1 }
        let s = config.sampling
        // Cells (kHz/variant) whose first attempt the board throttled.
        let throttled = Set(checkpoint.cells.filter { $0.attempt == 0 && $0.throttled }.map { "\($0.kHz)/\($0.variant)" })
        let method = LookupTable.Method(
            clock: checkpoint.clock.clock, clockResolutionNs: checkpoint.clock.observedResolutionNs,
            clockReadCostNs: checkpoint.clock.readCostNs,
            stopRule: (config.visitCount > 1
                ? "each cell visited \(config.visitCount) times at different points of the sweep (each visit in its own seeded order, with 1/\(config.visitCount) of the time limit); p50 the mean of the visits' p50s, CI half-width √(mean of the visits' squared half-widths + z²·s²), s² the variance of the visits' p50s, at least the sweep's mean relative between-visit variance × p50²; " : "")
                + (kept.contains { ($0.inferencesPerSample ?? 1) > 1 }
                ? "one sample = the mean latency of the inferences in a window of whole throttle periods (at least 4, closed right after a throttle gap; a yield after each inference; windows whose upper-quartile inference is over \(percent(ProfileSweep.interferenceTolerance)) above the cell's lowest set aside as interfered) (emulated DVFS); " : "")
                + "95% CI of the median (order statistics) within ±\(percent(s.targetRelativeCI)), \(s.minSamples)...\(s.maxSamples) samples, ≤ \(seconds(s.maxNs)) per cell; warm-up until successive batch medians are within \(percent(s.warmupStableTolerance)) (≤ \(s.warmupMaxBatches) batches, ≤ \(seconds(s.warmupMaxNs)))",
            stopRuleCounts: stopCounts, noisyCV: config.noisyCV,
            noisyCells: checkpoint.cells.filter { $0.attempt == 0 && $0.noisy }.count,
            retriedCells: checkpoint.cells.filter { $0.attempt > 0 }.count, seed: config.seed,
            frequencyOrderKHz: checkpoint.frequencyOrderKHz,
            placement: checkpoint.placement.map { "\($0.cpus) (\($0.note))" } ?? "unknown",
            backend: checkpoint.backend, resumes: checkpoint.resumes, predictedKHz: predictedKHz.sorted(),
            throttledCells: throttled.isEmpty ? nil : throttled.count,
            throttleRetriedCells: throttled.isEmpty ? nil : throttled.filter { key in
                checkpoint.cells.contains { $0.attempt > 0 && "\($0.kHz)/\($0.variant)" == key && !$0.throttled }
            }.count,
            energySensor: checkpoint.energySensor)
        return LookupTable(
            device: config.deviceID, portfolio: manifest.name, controller: config.controller, provenance: provenance,
            frequenciesKHz: measuredKHz.union(predictedKHz).sorted(), threads: config.threads, pin: config.pin.description,
            residentPortfolioBytes: memory?.allResidentEngineBytes, variants: variants, switchCostNs: switchCosts,
            portfolioMemory: memory.map {
                LookupTable.PortfolioMemory(
                    allResidentEngineBytes: $0.allResidentEngineBytes, sumSeparateEngineBytes: $0.sumSeparateEngineBytes,
                    allResidentRSSDeltaBytes: $0.allResidentRSSDeltaBytes, sumSeparateRSSDeltaBytes: $0.sumSeparateRSSDeltaBytes)
            },
            method: method)
    }

    /// One record per visit of each cell (frequency, variant): of several attempts, the least
    /// noisy (lowest CV); with
    /// `maxKHz`, attempts that disagree by more than ``modelOutlierTolerance`` are decided by the
    /// variant's frequency model instead.
    public static func keptCells(_ cells: [CellRecord], maxKHz: Int? = nil) -> [CellRecord] {
        var attempts: [String: [CellRecord]] = [:]
        var steadiest: [String: CellRecord] = [:]
        // A throttled attempt measured the board's cap, not the cell's frequency: it is kept only
        // when no attempt of the cell ran unthrottled (and then the cell says `throttled`).
        let unthrottled = Set(cells.filter { !$0.throttled }.map(\.visitKey))
        for cell in cells where !cell.throttled || !unthrottled.contains(cell.visitKey) {
            let key = cell.visitKey
            attempts[key, default: []].append(cell)
            if let current = steadiest[key], current.latency.cv <= cell.latency.cv { continue }
            steadiest[key] = cell
        }
        // Of a cell throttled at every attempt, the last (the one after the cool-down) is kept.
        for (key, tries) in attempts where !unthrottled.contains(key) {
            if let last = tries.max(by: { $0.attempt < $1.attempt }) { steadiest[key] = last }
        }
        func ordered(_ cells: Dictionary<String, CellRecord>.Values) -> [CellRecord] {
            cells.sorted { ($0.kHz, $0.variant, $0.visit ?? 1) < ($1.kHz, $1.variant, $1.visit ?? 1) }
        }
        guard let maxKHz else { return ordered(steadiest.values) }
        // Where two attempts disagree by more than the outlier tolerance, the one that agrees
        // with the variant's other frequencies is kept: a transient (a neighbour on the host,
        // a slow mode of the machine) does not repeat, a property of the cell does, and then
        // both attempts agree and the steadier one is kept as usual.
        var kept = steadiest
        for (key, tries) in attempts where tries.count > 1 {
            let p50s = tries.map(\.latency.p50Ns)
            guard let low = p50s.min(), let high = p50s.max(), low > 0, high / low - 1 > modelOutlierTolerance else { continue }
            let cell = tries[0]
            let others = steadiest.values.filter { $0.variant == cell.variant && $0.kHz != cell.kHz }
            guard let predicted = predictedP50(at: cell, from: others, maxKHz: maxKHz) else { continue }
            kept[key] = tries.min { abs($0.latency.p50Ns / predicted - 1) < abs($1.latency.p50Ns / predicted - 1) }
        }
        return ordered(kept.values)
    }

    /// One record per cell (frequency, variant) from its kept visits (`keptCells`, one attempt per
    /// visit), with how many visits it merges: a cell's unthrottled visits where it has any, else
    /// all of them, combined by `CellRecord.merging`.
    static func mergedVisits(_ kept: [CellRecord], confidence: Double) -> [(cell: CellRecord, visits: Int)] {
        var groups: [String: [CellRecord]] = [:]
        for cell in kept { groups[cell.cellKey, default: []].append(cell) }
        let used = groups.values.map { visits in
            let clean = visits.filter { !$0.throttled }
            return clean.isEmpty ? visits : clean
        }
        let spread = SweepVisitSpread(used, confidence: confidence)
        return used.map { visits in
            (CellRecord.merging(visits: visits, confidence: confidence, spread: spread), visits.count)
        }.sorted { ($0.cell.kHz, $0.cell.variant) < ($1.cell.kHz, $1.cell.variant) }
    }

    /// A cell whose p50 is further than this from the model fitted to its variant's other
    /// frequencies is measured again (see ``modelOutliers(_:maxKHz:)``).
    public static let modelOutlierTolerance = 0.10

    /// Cells whose p50 is off the `t(f) = a + b/f` fit of the same variant's other frequencies
    /// by more than ``modelOutlierTolerance``, the furthest first. Measured on this VM: a
    /// memory-bound variant now and then ran a whole 3 s cell 1.5× slower than the cells around
    /// it (and than the same cell in a rerun), with a low CV, so the noise flag missed it.
    public static func modelOutliers(_ cells: [CellRecord], maxKHz: Int) -> [(cell: CellRecord, deviation: Double)] {
        var found: [(cell: CellRecord, deviation: Double)] = []
        for variant in Set(cells.map(\.variant)) {
            // One at a time, furthest first, each judged against the cells not yet flagged: a
            // 50% outlier would otherwise pull the fit of its neighbours off the model too.
            var remaining = cells.filter { $0.variant == variant && $0.latency.p50Ns > 0 }
            while remaining.count > 4 {
                var worst: (cell: CellRecord, deviation: Double)?
                for cell in remaining {
                    let others = remaining.filter { $0.kHz != cell.kHz }
                    guard let predicted = predictedP50(at: cell, from: others, maxKHz: maxKHz), predicted > 0 else { continue }
                    let deviation = abs(cell.latency.p50Ns / predicted - 1)
                    if deviation > (worst?.deviation ?? modelOutlierTolerance) { worst = (cell, deviation) }
                }
                guard let worst else { break }
                found.append(worst)
                remaining.removeAll { $0.key == worst.cell.key }
            }
        }
        return found.sorted { $0.deviation > $1.deviation }
    }

    /// The p50 that `others` (one variant's cells at other frequencies, at least 3) predict at
    /// `cell`'s delivered clock.
    static func predictedP50(at cell: CellRecord, from others: [CellRecord], maxKHz: Int) -> Nanoseconds? {
        guard Set(others.map(\.kHz)).count >= 3 else { return nil }
        let points = others.map { (kHz: deliveredKHz($0, maxKHz: maxKHz), ns: $0.latency.p50Ns.value) }
        guard let (a, b) = LookupTable.FrequencyModel.leastSquares(points) else { return nil }
        return Nanoseconds(a + b / Double(deliveredKHz(cell, maxKHz: maxKHz)))
    }

    /// The clock a cell actually ran at, which the frequency model is fitted to: the read-back
    /// frequency under real DVFS, the calibrated speed × fmax under emulation (a throttle asked
    /// for 3/4 of fmax delivered 0.73 on this VM, and the latency follows what was delivered),
    /// the nominal step otherwise.
    static func deliveredKHz(_ cell: CellRecord, maxKHz: Int) -> Int {
        switch cell.source {
        case .emulated where cell.speedRatio > 0: return max(1, Int((cell.speedRatio * Double(maxKHz)).rounded()))
        case .real where cell.appliedKHz > 0: return cell.appliedKHz
        default: return cell.kHz
        }
    }

    /// A predicted cell: p50 from the model; the other percentiles keep their ratio to p50 at the
    /// nearest measured frequency; the CI half-width is the model's leave-one-out error × p50.
    static func predictedCell(kHz: Int, model: LookupTable.FrequencyModel, measured: [CellRecord]) -> LookupTable.LatencyCell {
        let p50 = model.predictNs(kHz: kHz)
        guard let nearest = measured.min(by: { abs($0.kHz - kHz) < abs($1.kHz - kHz) }), nearest.latency.p50Ns > 0 else {
            return LookupTable.LatencyCell(
                p50Ns: p50, p90Ns: p50, p99Ns: p50, meanNs: p50, stddevNs: 0, ciHalfWidthNs: p50 * model.looMape,
                samples: 0, source: .predicted)
        }
        let l = nearest.latency
        let scale = p50 / l.p50Ns
        return LookupTable.LatencyCell(
            p50Ns: p50, p90Ns: l.p90Ns * scale, p99Ns: l.p99Ns * scale, p999Ns: l.p999Ns * scale, maxNs: nil,
            meanNs: l.meanNs * scale, stddevNs: l.stddevNs * scale, ciHalfWidthNs: p50 * model.looMape, samples: 0,
            source: .predicted, cv: l.cv)
    }

    static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        return value == value.rounded() ? "\(Int(value))%" : String(format: "%.1f%%", value)
    }

    static func seconds(_ span: Nanoseconds) -> String { String(format: "%.1f s", span.seconds) }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GearboxRuntime
