// GearboxPortfolio/SpinRunner: a fake backend for tests and for the profiler's own overhead
// checks: each "inference" spins on the monotonic raw clock for a fixed number of nanoseconds.

#if canImport(Glibc)
import Glibc
#endif
import GearboxCore

/// A runner whose inference busy-waits for `spinNs` (0 = an empty workload).
public final class SpinRunner: VariantRunner {
    public let variant: PortfolioManifest.Variant
    public let spinNs: Nanoseconds
    public let residentBytes: Int
    public let weightBytes: Int
    public let loadNs: Nanoseconds
    public let sharedModelID: String
    /// How many times `activate()` and `runOnce()` were called (tests check the call pattern).
    public private(set) var activations = 0
    public private(set) var runs = 0

    public init(variant: PortfolioManifest.Variant, spinNs: Nanoseconds, residentBytes: Int = 0, loadNs: Nanoseconds = .zero,
                sharedModelID: String? = nil) {
        self.variant = variant; self.spinNs = spinNs; self.residentBytes = residentBytes
        self.weightBytes = residentBytes; self.loadNs = loadNs; self.sharedModelID = sharedModelID ?? variant.name
    }

    public func activate() throws { activations += 1 }

    public func runOnce() throws {
        runs += 1
        guard spinNs > .zero else { return }
        let end = MonotonicClock.nowNs() &+ UInt64(spinNs.wholeNanoseconds)
        while MonotonicClock.nowNs() < end {}
    }
}

/// A backend of spin runners: each variant spins for `spinNs(variant)`; masked variants of one
/// file share a model ID, as the engine backend's do.
public final class SpinBackend: VariantBackend {
    public let name = "spin"
    private let spinNs: (PortfolioManifest.Variant) -> Nanoseconds
    /// Loads performed since creation (tests check that masked variants share one model).
    public private(set) var modelsLoaded = 0
    private var loadedFiles = Set<String>()

    public init(spinNs: @escaping (PortfolioManifest.Variant) -> Nanoseconds) { self.spinNs = spinNs }

    public func load(_ variant: PortfolioManifest.Variant, from portfolio: Portfolio) throws -> VariantRunner {
        let path = portfolio.path(of: variant)
        if variant.format != .masked || !loadedFiles.contains(path) {
            modelsLoaded += 1
            loadedFiles.insert(path)
        }
        return SpinRunner(
            variant: variant, spinNs: spinNs(variant), residentBytes: variant.params * 4,
            sharedModelID: variant.format == .masked ? path : variant.name)
    }

    public func releaseAll() { loadedFiles.removeAll() }

    public func release(fileOf variant: PortfolioManifest.Variant, in portfolio: Portfolio) {
        loadedFiles.remove(portfolio.path(of: variant))
    }
}
