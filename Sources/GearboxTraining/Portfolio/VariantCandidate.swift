// GearboxTraining/VariantCandidate: a variant a method produced, before export: the in-trainer
// network, how it is stored and run (format, block, mask), its counts, and method figures.

import GearboxPortfolio

/// A variant ready to export and measure.
struct VariantCandidate {
    var name: String
    /// The in-trainer form; for `masked` variants the shared full network.
    var network: Network
    var format: PortfolioManifest.Format
    var method: String
    var sparsity: Double
    var params: Int
    var macs: Int
    var block: String?
    /// For `masked`: the channel keep ratio, e.g. "0.50".
    var mask: String?
    /// File name without extension; masked variants of one weight set share it.
    var fileStem: String
    var figures: [String: Double] = [:]
    var notes: [String] = []
    /// Another variant to time this one against (e.g. a structured variant's csr parent).
    var latencyBaseline: String?

    /// An unstructured sparse model run with the csr kernels.
    static func sparse(_ name: String, _ network: Network, method: String, format: PortfolioManifest.Format = .csr,
                       block: String? = nil) -> VariantCandidate {
        VariantCandidate(name: name, network: network, format: format, method: method, sparsity: network.sparsity,
                         params: network.nonzeroParameterCount, macs: network.nonzeroMACs, block: block, mask: nil,
                         fileStem: name)
    }

    /// A dense model (possibly structurally smaller than `reference`), run with dense kernels.
    static func dense(_ name: String, _ network: Network, method: String, reference: Network) -> VariantCandidate {
        let weights = network.prunableWeights.reduce(0) { $0 + $1.count }
        let original = reference.prunableWeights.reduce(0) { $0 + $1.count }
        return VariantCandidate(name: name, network: network, format: .dense, method: method,
                                sparsity: original == 0 ? 0 : 1 - Double(weights) / Double(original),
                                params: network.parameterCount, macs: network.denseMACs, block: nil, mask: nil,
                                fileStem: name)
    }
}

/// What a method hands to the portfolio writer.
struct MethodResult {
    var candidates: [VariantCandidate]
    var ratios: [PortfolioBuildReport.Ratio]
    var checks: [PortfolioBuildReport.Check]
    var notes: [String]
    var denseTrainingSeconds: Double
}
