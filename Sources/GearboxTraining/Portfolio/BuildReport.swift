// GearboxTraining/BuildReport: `Portfolios/<name>/build.json`, the facts behind a portfolio that
// portfolio.json has no keys for: per-variant trainer vs engine accuracy, losslessness checks,
// latencies against sparse parents, generation and training times, and the method's headline
// ratios measured here next to the ones its paper reports.

import Foundation
import GearboxCore

/// What a portfolio build measured, beyond portfolio.json.
public struct PortfolioBuildReport: VersionedFile, Sendable {
    public static let currentSchemaVersion = 1

    public struct VariantFacts: Codable, Sendable, Equatable {
        public var name: String
        public var format: String
        public var sparsity: Double
        public var params: Int
        public var macs: Int
        /// Engine-measured top-1 accuracy (the figure in portfolio.json).
        public var accuracy: Double?
        /// The trainer's own accuracy on the same images, for the export-equality check.
        public var trainerAccuracy: Double
        /// Largest |engine logit − trainer logit| over the test images.
        public var maxLogitDifference: Double?
        /// Method-specific figures (seconds, ratios, parents), each named with its unit.
        public var figures: [String: Double]
        public var notes: [String]
    }

    public struct Ratio: Codable, Sendable, Equatable {
        public var name: String
        /// Measured on this machine (nil when it could not be measured, with the reason in `note`).
        public var measured: Double?
        /// The paper's reported figure for the same ratio, when it reports one.
        public var paper: Double?
        public var note: String
    }

    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    public var schemaVersion: Int
    public var portfolio: String
    public var method: String
    public var model: String
    public var plan: BuildPlan
    public var date: String
    public var hostname: String
    public var gitCommit: String
    public var logicalCPUs: Int
    /// How latencies here were obtained (MeasurementSource raw value plus conditions).
    public var latencySource: String
    public var denseTrainingSeconds: Double
    public var buildSeconds: Double
    public var variants: [VariantFacts]
    public var ratios: [Ratio]
    public var checks: [Check]
    public var notes: [String]

    public init(portfolio: String, method: String, model: String, plan: BuildPlan, latencySource: String,
                denseTrainingSeconds: Double, buildSeconds: Double, variants: [VariantFacts], ratios: [Ratio],
                checks: [Check], notes: [String]) {
        schemaVersion = Self.currentSchemaVersion
        self.portfolio = portfolio
        self.method = method
        self.model = model
        self.plan = plan
        date = ISO8601DateFormatter().string(from: Date())
        hostname = ProcessInfo.processInfo.hostName
        gitCommit = GearboxBuild.gitCommit
        logicalCPUs = ProcessInfo.processInfo.activeProcessorCount
        self.latencySource = latencySource
        self.denseTrainingSeconds = denseTrainingSeconds
        self.buildSeconds = buildSeconds
        self.variants = variants
        self.ratios = ratios
        self.checks = checks
        self.notes = notes
    }
}
