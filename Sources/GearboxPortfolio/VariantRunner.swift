// GearboxPortfolio/VariantRunner: the seam between the profiler and whatever executes a variant.
// A backend loads variants (sharing one model between masked variants of the same weight file);
// a runner runs one inference on its prepared input, reports resident bytes and load time, and
// becomes the active variant on `activate()` (a mask switch for masked variants, no weight copy).

import GearboxCore

/// One loaded variant, ready to run inference on an input prepared at load time.
///
/// Runners are not thread-safe: the profiler calls them from its single pinned measuring thread.
public protocol VariantRunner: AnyObject {
    /// The manifest entry this runner was loaded from.
    var variant: PortfolioManifest.Variant { get }
    /// Bytes this variant keeps resident as the backend accounts them: weights (shared weights
    /// counted in full for each masked variant) plus the planned workspace.
    var residentBytes: Int { get }
    /// Bytes of weights alone (shared weights counted in full).
    var weightBytes: Int { get }
    /// Wall time the load took (file read, decode, planning).
    var loadNs: Nanoseconds { get }
    /// Identifies the loaded model backing this runner; masked variants of one weight file share it.
    var sharedModelID: String { get }
    /// Makes this variant the active one. For masked variants: selects this variant's mask in the
    /// shared weights (no copy); for the other formats a no-op.
    func activate() throws
    /// Runs one inference on the prepared input (the variant must be active).
    func runOnce() throws
    /// Of `weightBytes`, the bytes read straight from a memory-mapped packed file (`.gbpk`):
    /// file-backed pages, resident once touched, shared with the page cache. 0 for heap weights.
    var mappedWeightBytes: Int { get }
}

extension VariantRunner {
    public var mappedWeightBytes: Int { 0 }
}

/// Loads variants of a portfolio into runners.
public protocol VariantBackend: AnyObject {
    /// Short name for provenance ("engine", "spin", "simulated").
    var name: String { get }
    /// Loads `variant` of `portfolio`. Masked variants naming a weight file that is already loaded
    /// reuse that model (one copy of the weights) and differ only by their mask.
    func load(_ variant: PortfolioManifest.Variant, from portfolio: Portfolio) throws -> VariantRunner
    /// Forgets every shared model this backend keeps, so that the next load reads from disk.
    func releaseAll()
    /// Forgets the shared model kept for `variant`'s file (if any): the next load of a variant of
    /// that file reads it from disk again. Runners still holding the model keep it alive.
    func release(fileOf variant: PortfolioManifest.Variant, in portfolio: Portfolio)
}
