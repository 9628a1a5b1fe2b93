// GearboxRuntime/LookupTable: the `Profiles/<device>/<portfolio>.lut.json` file format that the
// runtime policy reads. Keys are fixed by the profiler issue; more keys are welcome.

import GearboxCore

public struct LookupTable: VersionedFile, Equatable, Sendable {
    public static let currentSchemaVersion = 1

    /// One measured (or predicted) latency distribution at one frequency.
    public struct LatencyCell: Codable, Equatable, Sendable {
        public var p50Ns: Nanoseconds
        public var p90Ns: Nanoseconds
        public var p99Ns: Nanoseconds
        public var p999Ns: Nanoseconds?
        public var maxNs: Nanoseconds?
        public var meanNs: Nanoseconds
        public var stddevNs: Nanoseconds
        public var ciHalfWidthNs: Nanoseconds
        public var samples: Int
        /// real | emulated | simulated | predicted
        public var source: MeasurementSource
        /// Which stop rule ended the cell: "ci", "maxSamples", "maxTime".
        public var stopRule: String?
        public var noisy: Bool?
        /// Coefficient of variation (stddev / mean).
        public var cv: Double?
        /// True when this cell is a noisy cell's retry (the less noisy attempt is kept).
        public var retried: Bool?
        /// The controller's effective speed (f / fmax) for this cell: read-back, calibrated or exact.
        public var speedRatio: Double?
        /// Consecutive inferences averaged into one sample (absent = 1). Emulated sweeps average
        /// over windows of several throttling periods, so their percentiles describe window means.
        public var inferencesPerSample: Int?
        /// Windows set aside because a quarter or more of their inferences ran over 20% slower
        /// than the cell's undisturbed ones (another tenant of the host; absent = none). The
        /// other figures are of the rest.
        public var interferedWindows: Int?
        /// Energy per inference in joules over the cell, from the board's energy counter (differenced,
        /// wrap-around handled) or its power sensor integrated over the cell; nil without a sensor.
        public var energyPerInferenceJ: Double?
        /// Mean power over the cell in watts, from the same sensor; nil without one.
        public var powerW: Double?
        /// Hottest thermal zone at the cell's start and end, °C; nil without thermal zones.
        public var temperatureStartC: Double?
        public var temperatureEndC: Double?
        /// True when the delivered frequency fell below the set one or a trip point was crossed
        /// during the cell, and no cooled-down retry was clean (absent = not throttled).
        public var throttled: Bool?
        /// Separate visits merged into this cell (absent = 1); the CI then spans between-visit spread.
        public var visits: Int?
        public init(
            p50Ns: Nanoseconds, p90Ns: Nanoseconds, p99Ns: Nanoseconds, p999Ns: Nanoseconds? = nil, maxNs: Nanoseconds? = nil, meanNs: Nanoseconds,
            stddevNs: Nanoseconds, ciHalfWidthNs: Nanoseconds, samples: Int, source: MeasurementSource, stopRule: String? = nil,
            noisy: Bool? = nil, cv: Double? = nil, retried: Bool? = nil, speedRatio: Double? = nil,
            inferencesPerSample: Int? = nil, interferedWindows: Int? = nil, energyPerInferenceJ: Double? = nil,
            powerW: Double? = nil, temperatureStartC: Double? = nil, temperatureEndC: Double? = nil,
            throttled: Bool? = nil, visits: Int? = nil
        ) {
            self.p50Ns = p50Ns; self.p90Ns = p90Ns; self.p99Ns = p99Ns; self.p999Ns = p999Ns; self.maxNs = maxNs
            self.meanNs = meanNs; self.stddevNs = stddevNs; self.ciHalfWidthNs = ciHalfWidthNs; self.samples = samples
            self.source = source; self.stopRule = stopRule; self.noisy = noisy; self.cv = cv; self.retried = retried
            self.speedRatio = speedRatio; self.inferencesPerSample = inferencesPerSample
            self.interferedWindows = interferedWindows; self.energyPerInferenceJ = energyPerInferenceJ
            self.powerW = powerW; self.temperatureStartC = temperatureStartC; self.temperatureEndC = temperatureEndC
            self.throttled = throttled; self.visits = visits
        }
    }

    /// A counter reading per inference at one frequency; nil value = unsupported (never zero-filled).
    public struct CounterCell: Codable, Equatable, Sendable {
        public var values: [String: Double]
        public var unsupported: [String: String]
        public var derived: [String: Double]
        public init(values: [String: Double], unsupported: [String: String], derived: [String: Double]) {
            self.values = values; self.unsupported = unsupported; self.derived = derived
        }
    }

    /// t(f) = a + b / f, with f in kHz.
    public struct FrequencyModel: Codable, Equatable, Sendable {
        public var aNs: Nanoseconds
        public var bNsKHz: Double
        public var r2: Double
        /// Leave-one-frequency-out mean absolute percentage error (fraction, e.g. 0.03 = 3%).
        public var looMape: Double
        /// Which clock f is: "delivered" (each cell's read-back frequency, or under emulation its
        /// calibrated speed × fmax) or nil for the step's nominal kHz (tables written before).
        public var frequencyBasis: String?
        public init(aNs: Nanoseconds, bNsKHz: Double, r2: Double, looMape: Double, frequencyBasis: String? = nil) {
            self.aNs = aNs; self.bNsKHz = bNsKHz; self.r2 = r2; self.looMape = looMape; self.frequencyBasis = frequencyBasis
        }
        public func predictNs(kHz: Int) -> Nanoseconds { aNs + Nanoseconds(bNsKHz / Double(kHz)) }
    }

    public struct Memory: Codable, Equatable, Sendable {
        /// Weights + workspace as the engine accounts them.
        public var engineBytes: Int
        public var rssDeltaBytes: Int?
        public var peakRSSDeltaBytes: Int?
        public init(engineBytes: Int, rssDeltaBytes: Int?, peakRSSDeltaBytes: Int?) {
            self.engineBytes = engineBytes; self.rssDeltaBytes = rssDeltaBytes; self.peakRSSDeltaBytes = peakRSSDeltaBytes
        }
    }

    public struct Variant: Codable, Equatable, Sendable {
        public var name: String
        public var format: String
        public var accuracy: Double?
        public var params: Int
        public var macs: Int
        public var memoryBytes: Int
        public var memory: Memory?
        /// Keyed by frequency in kHz as a decimal string.
        public var latency: [String: LatencyCell]
        public var counters: [String: CounterCell]
        public var model: FrequencyModel?
        public init(
            name: String, format: String, accuracy: Double?, params: Int, macs: Int, memoryBytes: Int,
            memory: Memory? = nil, latency: [String: LatencyCell], counters: [String: CounterCell],
            model: FrequencyModel?
        ) {
            self.name = name; self.format = format; self.accuracy = accuracy; self.params = params; self.macs = macs
            self.memoryBytes = memoryBytes; self.memory = memory; self.latency = latency; self.counters = counters
            self.model = model
        }
    }

    public struct SwitchCost: Codable, Equatable, Sendable {
        public var cold: Nanoseconds?
        public var warm: Nanoseconds?
        /// "cold" measured with the page cache dropped, or "warm-cache" when that was not permitted.
        public var coldCache: String?
        /// For masked variants sharing one model: the mask switch alone, in ns.
        public var maskSwitch: Nanoseconds?
        public init(cold: Nanoseconds?, warm: Nanoseconds?, coldCache: String? = nil, maskSwitch: Nanoseconds? = nil) {
            self.cold = cold; self.warm = warm; self.coldCache = coldCache; self.maskSwitch = maskSwitch
        }
    }

    /// The whole portfolio resident at once against the sum of separately loaded variants.
    public struct PortfolioMemory: Codable, Equatable, Sendable {
        public var allResidentEngineBytes: Int
        public var sumSeparateEngineBytes: Int
        public var allResidentRSSDeltaBytes: Int?
        public var sumSeparateRSSDeltaBytes: Int?
        public init(allResidentEngineBytes: Int, sumSeparateEngineBytes: Int, allResidentRSSDeltaBytes: Int?,
                    sumSeparateRSSDeltaBytes: Int?) {
            self.allResidentEngineBytes = allResidentEngineBytes; self.sumSeparateEngineBytes = sumSeparateEngineBytes
            self.allResidentRSSDeltaBytes = allResidentRSSDeltaBytes; self.sumSeparateRSSDeltaBytes = sumSeparateRSSDeltaBytes
        }
    }

    /// How the table was measured: clock, stop rules, order, pinning. Enough to judge and rerun it.
    public struct Method: Codable, Equatable, Sendable {
        public var clock: String
        public var clockResolutionNs: Nanoseconds
        public var clockReadCostNs: Nanoseconds
        /// e.g. "95% CI of the median (order statistics) within ±1.0%, 30...4000 samples, ≤ 4.0 s per cell"
        public var stopRule: String
        /// How many cells each stop rule ended ("ci", "maxSamples", "maxTime").
        public var stopRuleCounts: [String: Int]
        public var noisyCV: Double
        public var noisyCells: Int
        public var retriedCells: Int
        public var seed: UInt64
        /// The order the frequencies were visited in.
        public var frequencyOrderKHz: [Int]
        /// The CPUs the measuring thread was bound to, and how.
        public var placement: String
        /// The backend that ran the variants ("engine", "simulated", ...).
        public var backend: String
        public var resumes: Int
        /// Frequencies that were not measured but predicted from each variant's model.
        public var predictedKHz: [Int]
        /// Cells found throttled, and how many of them a cooled-down retry measured clean (absent = none).
        public var throttledCells: Int?
        public var throttleRetriedCells: Int?
        /// The energy or power sensor the cells' energy figures come from, with its update interval
        /// (e.g. "powercap intel-rapl:0 energy_uj, updates every 1 ms"); nil without one.
        public var energySensor: String?
        public init(clock: String, clockResolutionNs: Nanoseconds, clockReadCostNs: Nanoseconds, stopRule: String,
                    stopRuleCounts: [String: Int], noisyCV: Double, noisyCells: Int, retriedCells: Int, seed: UInt64,
                    frequencyOrderKHz: [Int], placement: String, backend: String, resumes: Int, predictedKHz: [Int],
                    throttledCells: Int? = nil, throttleRetriedCells: Int? = nil, energySensor: String? = nil) {
            self.clock = clock; self.clockResolutionNs = clockResolutionNs; self.clockReadCostNs = clockReadCostNs
            self.stopRule = stopRule; self.stopRuleCounts = stopRuleCounts; self.noisyCV = noisyCV
            self.noisyCells = noisyCells; self.retriedCells = retriedCells; self.seed = seed
            self.frequencyOrderKHz = frequencyOrderKHz; self.placement = placement; self.backend = backend
            self.resumes = resumes; self.predictedKHz = predictedKHz; self.throttledCells = throttledCells
            self.throttleRetriedCells = throttleRetriedCells; self.energySensor = energySensor
        }
    }

    public var schemaVersion: Int
    public var device: String
    public var portfolio: String
    /// real | emulated | simulated
    public var controller: MeasurementSource
    public var provenance: Provenance
    public var frequenciesKHz: [Int]
    public var threads: Int?
    public var pin: String?
    public var residentPortfolioBytes: Int?
    public var variants: [Variant]
    /// switchCostNs[from][to]
    public var switchCostNs: [String: [String: SwitchCost]]
    public var portfolioMemory: PortfolioMemory?
    public var method: Method?

    public init(
        device: String, portfolio: String, controller: MeasurementSource, provenance: Provenance,
        frequenciesKHz: [Int], threads: Int? = nil, pin: String? = nil, residentPortfolioBytes: Int? = nil,
        variants: [Variant], switchCostNs: [String: [String: SwitchCost]], portfolioMemory: PortfolioMemory? = nil,
        method: Method? = nil
    ) {
        self.schemaVersion = Self.currentSchemaVersion
        self.device = device; self.portfolio = portfolio; self.controller = controller; self.provenance = provenance
        self.frequenciesKHz = frequenciesKHz; self.threads = threads; self.pin = pin
        self.residentPortfolioBytes = residentPortfolioBytes; self.variants = variants; self.switchCostNs = switchCostNs
        self.portfolioMemory = portfolioMemory; self.method = method
    }

    /// Reads and checks a LUT file (see `validate`); a missing, truncated, corrupt or impossible
    /// file is one line naming it and the offending key.
    public static func read(from path: String) throws -> LookupTable {
        try JSONFile.read(LookupTable.self, from: path)
    }

    /// The variant called `name`.
    public func variant(named name: String) -> Variant? { variants.first { $0.name == name } }
}
