// GearboxPortfolio/PortfolioManifest: the `Portfolios/<name>/portfolio.json` file format: the
// task a portfolio solves and its variants. Keys are fixed by the profiler issue.

import GearboxCore
import GearboxEngine

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

extension PortfolioManifest: ValidatedFile {
    /// A safe `name` (it names `Profiles/<device>/<name>.lut.json`), an input shape of positive
    /// dimensions within ``EngineBudget/maximumInputElements``, at least one variant, variant
    /// names non-empty and unique, files relative and inside the portfolio folder, fractions in
    /// 0...1. (Symlinks leading out are caught by `Portfolio.open`, which resolves the files.)
    public func validate(_ file: FileValidator) throws {
        try file.at("name").checkSafeName(name)
        let taskKey = file.at("task")
        try taskKey.at("inputName").checkNonEmpty(task.inputName)
        let shapeKey = taskKey.at("inputShape")
        let shapeText = "[" + task.inputShape.map(String.init).joined(separator: ", ") + "]"
        try shapeKey.require(!task.inputShape.isEmpty, value: "[]", allowed: "allowed: at least one dimension")
        for (index, dimension) in task.inputShape.enumerated() {
            try shapeKey.at(index).check(dimension, in: 1...EngineBudget.maximumInputElements, "allowed: a positive dimension")
        }
        try shapeKey.require(
            EngineBudget.elementCount(task.inputShape) != nil, value: shapeText,
            allowed: "allowed: at most \(EngineBudget.maximumInputElements) elements (EngineBudget.maximumInputElements)")
        try taskKey.at("classes").check(task.classes, in: 1...1_000_000)
        let preprocessKey = taskKey.at("preprocess")
        let any = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
        try preprocessKey.at("scale").check(task.preprocess.scale, in: any)
        try preprocessKey.at("mean").check(task.preprocess.mean, in: any)
        try preprocessKey.at("std").checkPositive(task.preprocess.std, atMost: .greatestFiniteMagnitude)
        let variantsKey = file.at("variants")
        try variantsKey.require(!variants.isEmpty, value: "empty", allowed: "allowed: at least one variant")
        try variantsKey.checkUniqueNames(variants.map(\.name), key: "name")
        for (index, variant) in variants.enumerated() {
            let key = variantsKey.at(index)
            try ContainedPath.checkRelative(variant.file, key: key.at("file"))
            try key.at("sparsity").check(variant.sparsity, in: 0...1, "allowed: a fraction in 0...1")
            if let accuracy = variant.accuracy { try key.at("accuracy").check(accuracy, in: 0...1, "allowed: a fraction in 0...1") }
            try key.at("params").checkCount(variant.params)
            try key.at("macs").checkCount(variant.macs)
            if let sha256 = variant.sha256 {
                try key.at("sha256").require(
                    sha256.count == 64 && sha256.allSatisfy(\.isHexDigit), value: "'\(sha256)'", allowed: "allowed: 64 hex digits")
            }
        }
    }
}
