// GearboxProfiler/SweepRecords: the values a sweep produces and checkpoints: its configuration
// (what makes two sweeps the same sweep), one record per measured cell, the switch-cost matrix
// and the memory report.

import GearboxCore
import GearboxRuntime

/// What defines a sweep. A checkpoint is resumed only under an identical configuration.
public struct SweepConfiguration: Codable, Equatable, Sendable {
    public var deviceID: String
    public var portfolioName: String
    /// SHA-256 of the portfolio's manifest bytes: a changed portfolio is a different sweep.
    public var portfolioDigest: String
    public var controller: MeasurementSource
    public var domainIndex: Int
    /// The frequencies to measure (ascending); the visiting order is derived from `seed`.
    public var frequenciesKHz: [Int]
    /// Every frequency of the domain's grid, so that unmeasured ones can be predicted.
    public var gridKHz: [Int]
    public var threads: Int
    public var pin: PinningRequest
    public var seed: UInt64
    public var sampling: SamplingPolicy
    /// Cells whose coefficient of variation exceeds this are flagged noisy; the noisiest of them
    /// (at most `maxRetryFraction` of all cells) are retried once at the end.
    public var noisyCV: Double
    public var maxRetryFraction: Double
    /// Time to wait after a frequency change before measuring.
    public var settleNs: Nanoseconds
    public var measureMemory: Bool
    public var measureSwitchCosts: Bool
    /// Repetitions per ordered pair in the switch matrix (median reported).
    public var switchRepetitions: Int
    public var thermal: ThermalGuard
    /// How many times each cell is visited, each visit at its own point of the sweep (its own
    /// seeded frequency and variant order) with its share of the cell's time limit; nil = 1
    /// (checkpoints written before visits existed decode as 1, so they do not resume under 2).
    public var visits: Int?

    /// `visits`, at least 1.
    public var visitCount: Int { Swift.max(visits ?? 1, 1) }

    public init(
        deviceID: String, portfolioName: String, portfolioDigest: String, controller: MeasurementSource,
        domainIndex: Int = 0, frequenciesKHz: [Int], gridKHz: [Int]? = nil, threads: Int = 1, pin: PinningRequest = .pu,
        seed: UInt64 = 1, sampling: SamplingPolicy = .standard, noisyCV: Double = 0.05, maxRetryFraction: Double = 0.15,
        settleNs: Nanoseconds = Nanoseconds(milliseconds: 50),
        measureMemory: Bool = true, measureSwitchCosts: Bool = true, switchRepetitions: Int = 3,
        thermal: ThermalGuard = ThermalGuard(), visits: Int = 1
    ) {
        self.deviceID = deviceID; self.portfolioName = portfolioName; self.portfolioDigest = portfolioDigest
        self.controller = controller; self.domainIndex = domainIndex; self.frequenciesKHz = frequenciesKHz.sorted()
        self.gridKHz = (gridKHz ?? frequenciesKHz).sorted(); self.threads = threads; self.pin = pin; self.seed = seed
        self.sampling = sampling; self.noisyCV = noisyCV; self.maxRetryFraction = maxRetryFraction; self.settleNs = settleNs; self.measureMemory = measureMemory
        self.measureSwitchCosts = measureSwitchCosts; self.switchRepetitions = switchRepetitions; self.thermal = thermal
        self.visits = visits > 1 ? visits : nil
    }
}

/// One measured cell: (frequency, variant, threads, pinning), and attempt (1 = a noisy retry).
public struct CellRecord: Codable, Equatable, Sendable {
    public var kHz: Int
    public var variant: String
    public var threads: Int
    public var pin: String
    public var attempt: Int
    public var source: MeasurementSource
    public var latency: LatencySummary
    /// Consecutive inferences averaged per sample (1 except under emulated DVFS, see `Sampler`).
    public var inferencesPerSample: Int?
    public var stopRule: StopRule
    public var warmupRule: WarmupRule
    public var warmupIterations: Int
    /// What the controller reported for this frequency.
    public var appliedKHz: Int
    public var speedRatio: Double
    /// Whether the read-back (real) or calibrated ratio (emulated) agreed with the request.
    public var frequencyVerified: Bool
    public var counters: LookupTable.CounterCell?
    public var milliCelsiusBefore: [String: Int]
    public var milliCelsiusAfter: [String: Int]
    public var thermalPauseNs: Nanoseconds
    /// Sampler time outside the timed windows, per iteration, as a fraction of the median.
    public var loopOverheadFraction: Double
    public var noisy: Bool
    public var startedAt: String
    /// Windows set aside as interfered (see `SampleWindow.interferenceTolerance`); the latency
    /// summary is of the other windows. nil: none.
    public var interferedWindows: Int? = nil
    /// Time per load of the shared-cache probe right after the cell's sampling (see
    /// `SharedCacheProbe`): which phase of the host's shared cache the cell ran in. nil: not probed
    /// (simulated sweeps, or no thread CPU clock).
    public var sharedCacheLoadNs: Nanoseconds? = nil
    /// Energy over the sampling phase (J), mean power over it (W), and per inference (J: mean
    /// power × mean latency), from the sweep's energy sensor (`SweepCheckpoint.energySensor`);
    /// nil without one.
    public var energyJ: Double? = nil
    public var energyPerInferenceJ: Double? = nil
    public var powerW: Double? = nil
    /// The lowest frequency the driver reported during the sampling phase; nil when the
    /// controller cannot read one back.
    public var lowestDeliveredKHz: Int? = nil
    /// Why the cell counts as throttled (the driver delivered less than was set, or a trip point
    /// was crossed); nil: it was not.
    public var throttleReason: String? = nil
    /// Time spent cooling down before this attempt (a throttled cell's retry).
    public var coolDownNs: Nanoseconds? = nil

    /// Which visit of the cell this is (see `SweepConfiguration.visits`); nil = the first.
    public var visit: Int? = nil

    /// Whether the board throttled this cell.
    public var throttled: Bool { throttleReason != nil }

    /// "kHz/variant/tN/pin#attempt", and "@vV" for a later visit V: unique within a sweep (a
    /// first visit's key is the one sweeps had before visits existed).
    public var key: String { Self.key(kHz: kHz, variant: variant, threads: threads, pin: pin, attempt: attempt, visit: visit ?? 1) }

    public static func key(kHz: Int, variant: String, threads: Int, pin: String, attempt: Int, visit: Int = 1) -> String {
        "\(kHz)/\(variant)/t\(threads)/\(pin)#\(attempt)" + (visit > 1 ? "@v\(visit)" : "")
    }

    /// "kHz/variant": the cell whatever the attempt and visit.
    var cellKey: String { "\(kHz)/\(variant)" }
    /// "kHz/variant/vV": one visit of the cell, whatever the attempt.
    var visitKey: String { "\(kHz)/\(variant)/v\(visit ?? 1)" }
}

/// The cost of switching from one variant to another, in ns.
public struct SwitchRecord: Codable, Equatable, Sendable {
    public var from: String
    public var to: String
    /// Load `to` from disk + its first inference, while `from` is loaded.
    public var coldNs: Nanoseconds?
    /// `cold` (page cache dropped) or `warm-cache` (the kernel kept the file's pages).
    public var coldCache: PageCache.Outcome?
    /// Both resident: activate `to` + its first inference, minus a steady inference of `to`.
    public var warmNs: Nanoseconds?
    /// For masked variants sharing one model: selecting the mask alone.
    public var maskSwitchNs: Nanoseconds?
    public var source: MeasurementSource
    public init(from: String, to: String, coldNs: Nanoseconds?, coldCache: PageCache.Outcome?, warmNs: Nanoseconds?,
                maskSwitchNs: Nanoseconds?, source: MeasurementSource) {
        self.from = from; self.to = to; self.coldNs = coldNs; self.coldCache = coldCache; self.warmNs = warmNs
        self.maskSwitchNs = maskSwitchNs; self.source = source
    }
}

/// Memory of one variant loaded on its own.
public struct VariantMemoryRecord: Codable, Equatable, Sendable {
    public var variant: String
    /// Weights + workspace as the backend accounts them.
    public var engineBytes: Int
    public var weightBytes: Int
    public var loadNs: Nanoseconds
    /// VmRSS after load + runs minus before; nil when /proc is unavailable or simulated.
    public var rssDeltaBytes: Int?
    /// VmHWM after (peak reset before the load) minus VmRSS before.
    public var peakRSSDeltaBytes: Int?
}

/// Memory of the whole portfolio resident at once against the sum of separate loads.
public struct PortfolioMemoryRecord: Codable, Equatable, Sendable {
    public var allResidentEngineBytes: Int
    public var sumSeparateEngineBytes: Int
    public var allResidentRSSDeltaBytes: Int?
    public var sumSeparateRSSDeltaBytes: Int?
    /// True when the peak could be reset before each load (/proc/self/clear_refs).
    public var peakResetWorked: Bool
    public var variants: [VariantMemoryRecord]
}

/// Everything a sweep has finished, rewritten atomically after every cell.
public struct SweepCheckpoint: VersionedFile, Equatable, Sendable {
    public static let currentSchemaVersion = 1
    public var schemaVersion: Int
    public var configuration: SweepConfiguration
    public var startedAt: String
    public var clock: LatencyClockCalibration
    public var frequencyOrderKHz: [Int]
    public var backend: String
    public var placement: Placement?
    public var memory: PortfolioMemoryRecord?
    public var switchCosts: [SwitchRecord]?
    public var cells: [CellRecord]
    /// Keys (attempt 0) of cells whose noisy retry has been done.
    public var retriedKeys: [String]
    public var notes: [String]
    /// How many times the sweep was resumed.
    public var resumes: Int
    /// The sensor the cells' energy figures come from (`EnergySource.summary`); nil without one.
    public var energySensor: String? = nil

    public init(configuration: SweepConfiguration, startedAt: String, clock: LatencyClockCalibration,
                frequencyOrderKHz: [Int], backend: String) {
        schemaVersion = Self.currentSchemaVersion
        self.configuration = configuration; self.startedAt = startedAt; self.clock = clock
        self.frequencyOrderKHz = frequencyOrderKHz; self.backend = backend
        cells = []; retriedKeys = []; notes = []; resumes = 0
    }
}
