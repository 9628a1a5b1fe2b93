// GearboxPortfolio/PortfolioManifest: the `Portfolios/<name>/portfolio.json` file format: the
// task a portfolio solves and its variants. Keys are fixed by the profiler issue.

import GearboxCore

public struct PortfolioManifest: VersionedFile, Equatable, Sendable {
    public static let currentSchemaVersion = 1

    public struct Preprocess: Codable, Equatable, Sendable {
        /// x = (pixel × scale − mean) / std
        public var scale: Double
        public var mean: Double
        public var std: Double
        public init(scale: Double, mean: Double, std: Double) { self.scale = scale; self.mean = mean; self.std = std }
    }

    public struct Task: Codable, Equatable, Sendable {
        public var dataset: String
        public var inputName: String
        public var inputShape: [Int]
        public var classes: Int
        public var preprocess: Preprocess
        public init(dataset: String, inputName: String, inputShape: [Int], classes: Int, preprocess: Preprocess) {
            self.dataset = dataset; self.inputName = inputName; self.inputShape = inputShape
            self.classes = classes; self.preprocess = preprocess
        }
    }

    /// The weight formats the engine runs.
    public enum Format: String, Codable, Sendable, CaseIterable {
        case dense, csr, bsr, ubp, masked

        /// The distinct names among `names` in declaration order (dense, csr, bsr, ubp, masked),
        /// names of no known format last: the row order of tables broken down by format.
        public static func sortedNames(_ names: some Sequence<String>) -> [String] {
            let rank = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1.rawValue, $0) })
            return Set(names).sorted { (rank[$0] ?? allCases.count, $0) < (rank[$1] ?? allCases.count, $1) }
        }
    }

    public struct Variant: Codable, Equatable, Sendable {
        public var name: String
        /// Relative to the portfolio directory.
        public var file: String
        public var format: Format
        /// How it was made: "structured", "imp", "ubp", "allinone", "synthetic", ...
        public var method: String
        public var sparsity: Double
        public var params: Int
        public var macs: Int
        /// Top-1 accuracy as a fraction, or nil when unknown.
        public var accuracy: Double?
        /// How `accuracy` was obtained (e.g. "engine on fashion-mnist test set (10000 images)").
        public var accuracySource: String?
        /// Lower-case hex SHA-256 of `file`.
        public var sha256: String?
        /// Block shape "RxC" for bsr/ubp.
        public var block: String?
        /// For `masked`: the mask (channel keep ratio) this variant selects in the shared weights.
        public var mask: String?
        public init(
            name: String, file: String, format: Format, method: String, sparsity: Double, params: Int, macs: Int,
            accuracy: Double?, accuracySource: String?, sha256: String? = nil, block: String? = nil, mask: String? = nil
        ) {
            self.name = name; self.file = file; self.format = format; self.method = method; self.sparsity = sparsity
            self.params = params; self.macs = macs; self.accuracy = accuracy; self.accuracySource = accuracySource
            self.sha256 = sha256; self.block = block; self.mask = mask
        }
    }

    public var schemaVersion: Int
    public var name: String
    public var task: Task
    public var variants: [Variant]

    public init(name: String, task: Task, variants: [Variant]) {
        self.schemaVersion = Self.currentSchemaVersion
        self.name = name; self.task = task; self.variants = variants
    }
}
