// GearboxPolicy/ValidationSummary: the `Reports/<name>/summary.json` file format written by
// `gearbox validate`. Keys per policy are fixed by the policy issue.

import GearboxCore

public struct ValidationSummary: VersionedFile, Equatable, Sendable {
    public static let currentSchemaVersion = 1

    public struct PolicyResult: Codable, Equatable, Sendable {
        public var violationRate: Double
        public var meanAccuracy: Double?
        public var switches: Int
        public var switchTimeNs: Nanoseconds
        public var p50Ns: Nanoseconds
        public var p99Ns: Nanoseconds
        public var regretVsOracle: Double?
        public var inferences: Int
        /// Coefficient of variation of per-frequency mean latency ("stable latency under DVFS").
        public var latencyCVAcrossFrequencies: Double?
        /// Violation rate per trace segment (segment index as a decimal string).
        public var segmentViolationRates: [String: Double]?
        public var note: String?
        /// Mean energy per inference over the run in J (see the summary's `energySource`); nil
        /// without energy figures.
        public var energyPerInferenceJ: Double?
        public init(
            violationRate: Double, meanAccuracy: Double?, switches: Int, switchTimeNs: Nanoseconds, p50Ns: Nanoseconds,
            p99Ns: Nanoseconds, regretVsOracle: Double?, inferences: Int, latencyCVAcrossFrequencies: Double? = nil,
            segmentViolationRates: [String: Double]? = nil, note: String? = nil, energyPerInferenceJ: Double? = nil
        ) {
            self.energyPerInferenceJ = energyPerInferenceJ
            self.violationRate = violationRate; self.meanAccuracy = meanAccuracy; self.switches = switches
            self.switchTimeNs = switchTimeNs; self.p50Ns = p50Ns; self.p99Ns = p99Ns
            self.regretVsOracle = regretVsOracle; self.inferences = inferences
            self.latencyCVAcrossFrequencies = latencyCVAcrossFrequencies
            self.segmentViolationRates = segmentViolationRates; self.note = note
        }
    }

    public var schemaVersion: Int
    public var lut: String
    public var trace: String
    /// e.g. "p99<=8ms"
    public var objective: String
    /// real | emulated | simulated
    public var controller: MeasurementSource
    public var seed: UInt64?
    public var durationMs: Double
    public var provenance: Provenance
    /// Keyed by policy name: gearbox, static-accurate, static-fast, oracle, gearbox-joint.
    public var policies: [String: PolicyResult]
    public var notes: [String]
    /// Which figure the policies' `energyPerInferenceJ` is: the table's cells' label (`real`,
    /// `emulated`) when measured, `simulated` from a board model's power model; nil without energy.
    public var energySource: MeasurementSource?

    public init(
        lut: String, trace: String, objective: String, controller: MeasurementSource, seed: UInt64?,
        durationMs: Double, provenance: Provenance, policies: [String: PolicyResult], notes: [String] = [],
        energySource: MeasurementSource? = nil
    ) {
        self.energySource = energySource
        self.schemaVersion = Self.currentSchemaVersion
        self.lut = lut; self.trace = trace; self.objective = objective; self.controller = controller; self.seed = seed
        self.durationMs = durationMs; self.provenance = provenance; self.policies = policies; self.notes = notes
    }
}
