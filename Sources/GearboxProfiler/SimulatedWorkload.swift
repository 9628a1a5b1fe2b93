// GearboxProfiler/SimulatedWorkload: what "running" a variant means under the simulated
// controller. No inference happens: each run advances a virtual clock by a deterministic model,
// t = memoryNs + computeNs / speedRatio, with seeded noise, so simulated sweeps are fast and
// reproducible. Every figure measured this way is labelled simulated.

import GearboxCore
import GearboxPortfolio

/// The simulated machine: a virtual clock, the current speed ratio (f / fmax) and the noise.
public final class SimulationState {
    public let clock: VirtualLatencyClock
    public let seed: UInt64
    /// f / fmax as the simulated controller last reported it.
    public var speedRatio: Double = 1
    /// Relative standard deviation of the multiplicative noise on each inference.
    public var noiseCV: Double
    /// Probability that one inference is an outlier (×1.5, e.g. an interrupt).
    public var outlierProbability: Double
    var random: SplitMix64

    public init(seed: UInt64 = 1, noiseCV: Double = 0.01, outlierProbability: Double = 0.002, clock: VirtualLatencyClock = VirtualLatencyClock()) {
        self.clock = clock; self.seed = seed; self.noiseCV = noiseCV; self.outlierProbability = outlierProbability
        random = SplitMix64(seed: seed)
    }

    /// Reseeds the noise for one cell, so that a cell's samples depend only on its key (a
    /// resumed sweep reproduces exactly what an uninterrupted one would have measured).
    public func beginCell(key: String) { random = SplitMix64(seed: seed, key: key) }

    /// One noisy draw around `ns`.
    func noisy(_ ns: Double) -> UInt64 {
        var factor = 1 + noiseCV * random.nextGaussian()
        if random.nextUnit() < outlierProbability { factor *= 1.5 }
        return UInt64(Swift.max(ns * Swift.max(factor, 0.5), 1))
    }
}

/// The modelled cost of one variant: memory-bound time and compute-bound time at fmax.
public struct SimulatedCost: Equatable, Sendable {
    public var memoryNs: Nanoseconds
    public var computeNsAtMax: Nanoseconds
    public var loadNs: Nanoseconds
    public var residentBytes: Int

    /// A plausible small-board cost: 1.5 GMAC/s single-threaded dense at fmax, sparse formats pay
    /// an index overhead on the kept work, weights stream at 8 GB/s, 30 µs fixed per inference.
    public init(variant: PortfolioManifest.Variant, threads: Int) {
        let density = 1 - variant.sparsity
        let formatFactor: Double
        switch variant.format {
        case .dense: formatFactor = 1
        case .csr: formatFactor = density * 2.2
        case .bsr: formatFactor = density * 1.25
        case .ubp: formatFactor = density * 1.3
        case .masked: formatFactor = density * 1.05
        }
        let threadSpeedup = Double(Swift.max(threads, 1)).squareRoot() * 0.9 + 0.1
        let weightBytes = Double(variant.params) * 4 * (variant.format == .dense ? 1 : Swift.max(density * 1.5, 0.05))
        computeNsAtMax = Nanoseconds(Double(variant.macs) / 1.5 * formatFactor / threadSpeedup)
        memoryNs = Nanoseconds(30_000 + weightBytes / 8)
        loadNs = Nanoseconds(200_000 + weightBytes / 1.0)
        residentBytes = Int(weightBytes) + 64 * 1024
    }
}

/// A runner that advances the simulated clock instead of running inference.
public final class SimulatedRunner: VariantRunner {
    public let variant: PortfolioManifest.Variant
    public let cost: SimulatedCost
    public let state: SimulationState
    public let sharedModelID: String
    public var residentBytes: Int { cost.residentBytes }
    public var weightBytes: Int { cost.residentBytes - 64 * 1024 }
    public var loadNs: Nanoseconds { cost.loadNs }

    init(variant: PortfolioManifest.Variant, cost: SimulatedCost, state: SimulationState, sharedModelID: String) {
        self.variant = variant; self.cost = cost; self.state = state; self.sharedModelID = sharedModelID
    }

    /// A mask switch costs 2 µs of virtual time; other formats switch for free.
    public func activate() throws {
        if variant.format == .masked { state.clock.advance(byNs: 2_000) }
    }

    public func runOnce() throws {
        let ns = cost.memoryNs + cost.computeNsAtMax / Swift.max(state.speedRatio, 0.01)
        state.clock.advance(byNs: state.noisy(ns.value))
    }
}

/// Loads simulated runners; loading advances the virtual clock by the modelled load time.
public final class SimulatedBackend: VariantBackend {
    public let name = "simulated"
    public let state: SimulationState
    public let threads: Int
    private var loaded = Set<String>()

    public init(state: SimulationState, threads: Int = 1) { self.state = state; self.threads = threads }

    public func load(_ variant: PortfolioManifest.Variant, from portfolio: Portfolio) throws -> VariantRunner {
        let cost = SimulatedCost(variant: variant, threads: threads)
        let shared = variant.format == .masked ? portfolio.path(of: variant) : variant.name
        if !loaded.contains(shared) {
            state.clock.advance(byNs: UInt64(cost.loadNs.value))
            loaded.insert(shared)
        }
        return SimulatedRunner(variant: variant, cost: cost, state: state, sharedModelID: shared)
    }

    public func releaseAll() { loaded.removeAll() }

    public func release(fileOf variant: PortfolioManifest.Variant, in portfolio: Portfolio) {
        loaded.remove(variant.format == .masked ? portfolio.path(of: variant) : variant.name)
    }
}
