// GearboxProfiler/MemoryMeter: memory per variant (the backend's resident bytes, and the process
// RSS and peak change while loading and running it on its own), and the whole portfolio resident
// at once against the sum of separate loads.

import GearboxCore
import GearboxPortfolio

/// Measures the memory of each variant and of the whole portfolio.
public struct MemoryMeter {
    public let portfolio: Portfolio
    public let makeBackend: () -> VariantBackend
    /// False for simulated sweeps: the process's RSS says nothing about a simulated board.
    public let measureRSS: Bool
    /// Inferences run after each load so that lazily allocated workspace is counted.
    public let runsAfterLoad: Int

    public init(portfolio: Portfolio, makeBackend: @escaping () -> VariantBackend, measureRSS: Bool, runsAfterLoad: Int = 3) {
        self.portfolio = portfolio; self.makeBackend = makeBackend; self.measureRSS = measureRSS
        self.runsAfterLoad = runsAfterLoad
    }

    public func measure() throws -> PortfolioMemoryRecord {
        var records: [VariantMemoryRecord] = []
        var peakResetWorked = measureRSS
        for variant in portfolio.variants {
            let (record, reset) = try measureAlone(variant)
            records.append(record)
            peakResetWorked = peakResetWorked && reset
        }
        // Everything resident at once, as a switching policy would keep it.
        ProcessMemory.trimHeap()
        let before = measureRSS ? ProcessMemory.current() : nil
        let backend = makeBackend()
        var runners: [VariantRunner] = []
        for variant in portfolio.variants {
            let runner = try backend.load(variant, from: portfolio)
            try runner.activate()
            for _ in 0..<runsAfterLoad { try runner.runOnce() }
            runners.append(runner)
        }
        let after = measureRSS ? ProcessMemory.current() : nil
        let allResident = Self.residentBytes(of: runners)
        runners.removeAll()
        backend.releaseAll()
        ProcessMemory.trimHeap()
        let separateRSS = records.compactMap(\.rssDeltaBytes)
        return PortfolioMemoryRecord(
            allResidentEngineBytes: allResident, sumSeparateEngineBytes: records.map(\.engineBytes).reduce(0, +),
            allResidentRSSDeltaBytes: before.flatMap { b in after.map { $0.rssBytes - b.rssBytes } },
            sumSeparateRSSDeltaBytes: separateRSS.count == records.count ? separateRSS.reduce(0, +) : nil,
            peakResetWorked: peakResetWorked, variants: records)
    }

    /// Resident bytes of several runners, counting each shared model once (its weights and its
    /// workspace are both shared: masked variants run in the same model).
    public static func residentBytes(of runners: [VariantRunner]) -> Int {
        var perModel: [String: Int] = [:]
        for runner in runners { perModel[runner.sharedModelID] = max(perModel[runner.sharedModelID] ?? 0, runner.residentBytes) }
        return perModel.values.reduce(0, +)
    }

    private func measureAlone(_ variant: PortfolioManifest.Variant) throws -> (VariantMemoryRecord, Bool) {
        ProcessMemory.trimHeap()
        let reset = measureRSS && ProcessMemory.resetPeak()
        let before = measureRSS ? ProcessMemory.current() : nil
        let backend = makeBackend()
        var runner: VariantRunner? = try backend.load(variant, from: portfolio)
        guard let loaded = runner else { throw ProfilerError.measurement(variant: variant.name, reason: "load returned nothing") }
        try loaded.activate()
        for _ in 0..<runsAfterLoad { try loaded.runOnce() }
        let after = measureRSS ? ProcessMemory.current() : nil
        let record = VariantMemoryRecord(
            variant: variant.name, engineBytes: loaded.residentBytes, weightBytes: loaded.weightBytes, loadNs: loaded.loadNs,
            rssDeltaBytes: before.flatMap { b in after.map { $0.rssBytes - b.rssBytes } },
            peakRSSDeltaBytes: reset ? before.flatMap { b in after.map { $0.peakBytes - b.rssBytes } } : nil)
        runner = nil
        backend.releaseAll()
        return (record, reset)
    }
}
