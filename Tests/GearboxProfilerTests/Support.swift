// Test support: a fake frequency controller, a simulated environment and a small portfolio.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxPortfolio

@testable import GearboxProfiler

/// A controller that records its calls; reports exact speed ratios like the simulated one.
final class FakeController: FrequencyController {
    let source: MeasurementSource
    let domains: [DeviceDescription.Domain]
    private(set) var sets: [Int] = []
    private(set) var restores = 0
    private(set) var enrolled = 0
    /// Emulated-style reported speed ratio as a function of kHz (default exact f/fmax).
    var reportedRatio: ((Int) -> Double)?

    init(gridKHz: [Int], source: MeasurementSource = .simulated) {
        self.source = source
        domains = [DeviceDescription.Domain(
            cpus: [0, 1], driver: "fake", governor: "fake", governors: ["fake"], minKHz: gridKHz.min() ?? 0,
            maxKHz: gridKHz.max() ?? 0, availableKHz: gridKHz, gridKHz: gridKHz)]
    }

    func setFrequency(_ frequency: Frequency, forDomain domainIndex: Int) throws -> FrequencyChange {
        sets.append(frequency.kHz)
        let max = Double(domains[domainIndex].maxKHz)
        let ratio = reportedRatio?(frequency.kHz) ?? Double(frequency.kHz) / max
        return FrequencyChange(requestedKHz: frequency.kHz, appliedKHz: frequency.kHz, speedRatio: ratio, settleNs: 0, source: source)
    }
    func enrollCurrentThread() throws { enrolled += 1 }
    func restore() throws { restores += 1 }
}

func variant(_ name: String, _ format: PortfolioManifest.Format = .dense, sparsity: Double = 0, macs: Int = 2_000_000,
             params: Int = 50_000, file: String? = nil) -> PortfolioManifest.Variant {
    PortfolioManifest.Variant(
        name: name, file: file ?? "\(name).onnx", format: format, method: "synthetic", sparsity: sparsity, params: params,
        macs: macs, accuracy: nil, accuracySource: "synthetic")
}

/// A portfolio that needs no files (simulated and spin backends never open them).
func testPortfolio() -> Portfolio {
    Portfolio(directory: "/nonexistent", manifest: PortfolioManifest(
        name: "tiny",
        task: .init(dataset: "none", inputName: "x", inputShape: [1, 1, 28, 28], classes: 10,
                    preprocess: .init(scale: 1, mean: 0, std: 1)),
        variants: [
            variant("big", macs: 6_000_000, params: 200_000),
            variant("small", macs: 1_500_000, params: 50_000),
            variant("sparse", .csr, sparsity: 0.8, macs: 6_000_000, params: 200_000),
            variant("m50", .masked, sparsity: 0.5, macs: 6_000_000, params: 200_000, file: "shared.onnx"),
            variant("m75", .masked, sparsity: 0.25, macs: 6_000_000, params: 200_000, file: "shared.onnx"),
        ]))
}

let testGrid = [400_000, 600_000, 800_000, 1_000_000, 1_200_000, 1_400_000]

let tinySampling = SamplingPolicy(
    warmupBatchTargetNs: 5_000_000, warmupMaxBatches: 6, warmupMaxNs: 50_000_000, targetRelativeCI: 0.01, minSamples: 20,
    maxSamples: 400, maxNs: 500_000_000)

/// A simulated sweep of the test portfolio writing under `dir`.
func simulatedSweep(dir: String, seed: UInt64 = 7, frequencies: [Int] = testGrid, grid: [Int] = testGrid,
                    noiseCV: Double = 0.01, portfolio: Portfolio = testPortfolio(),
                    cacheProbe: SharedCacheProbe? = nil, visits: Int = 1) -> (ProfileSweep, FakeController) {
    let controller = FakeController(gridKHz: grid)
    let state = SimulationState(seed: seed, noiseCV: noiseCV)
    let configuration = SweepConfiguration(
        deviceID: "test-device", portfolioName: portfolio.name, portfolioDigest: "digest", controller: .simulated,
        frequenciesKHz: frequencies, gridKHz: grid, threads: 1, pin: .none, seed: seed, sampling: tinySampling,
        settleNs: 1_000_000, switchRepetitions: 2, visits: visits)
    let environment = SweepEnvironment(
        controller: controller, makeBackend: { SimulatedBackend(state: state) }, clock: state.clock, simulation: state,
        makeCounters: { UnavailableCounters(reason: "simulated: no counters") }, thermal: FixedThermalSensor(),
        binder: UnpinnedThreadBinder(), cacheProbe: cacheProbe)
    return (ProfileSweep(portfolio: portfolio, configuration: configuration, environment: environment,
                         paths: SweepPaths(lut: dir + "/tiny.lut.json")), controller)
}
