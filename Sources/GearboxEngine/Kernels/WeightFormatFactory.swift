// GearboxEngine/WeightFormatFactory: the hook through which the loader converts a layer's dense
// weights to a requested pruned format (csr, bsr, ubp, masked). The engine knows only `dense`;
// formats register factories in a `WeightFormatRegistry` value passed in `EngineOptions`, so
// there is no global registry to mutate.

/// A block shape r × c for block-sparse formats ("4x4", "1x4", "8x1").
public struct WeightBlockShape: Hashable, Sendable, CustomStringConvertible {
    public var rows: Int
    public var columns: Int

    public init(rows: Int, columns: Int) {
        precondition(rows > 0 && columns > 0, "block dimensions must be positive")
        self.rows = rows
        self.columns = columns
    }

    /// Parses "RxC" (e.g. "4x4"); nil when malformed.
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let r = Int(parts[0]), let c = Int(parts[1]), r > 0, c > 0 else { return nil }
        self.init(rows: r, columns: c)
    }

    public var description: String { "\(rows)x\(columns)" }
}

/// What the loader knows about a layer whose weights it is converting.
public struct WeightLayerDescription: Sendable, Hashable {
    /// The ONNX node's name (or "<first output>" when unnamed).
    public var nodeName: String
    /// "Conv", "Gemm" or "MatMul".
    public var opType: String
    /// For Conv: [outChannels, inChannels/groups, kH, kW]; for Gemm/MatMul: [outFeatures, inFeatures].
    public var kernelShape: [Int]
    /// Which group of a grouped Conv this matrix is (0 for ungrouped layers).
    public var groupIndex: Int
    /// Number of groups of the Conv (1 for Gemm/MatMul).
    public var groupCount: Int
    /// Position of the layer among the model's weight layers, in execution order.
    public var layerIndex: Int

    public init(nodeName: String, opType: String, kernelShape: [Int], groupIndex: Int = 0, groupCount: Int = 1, layerIndex: Int = 0) {
        self.nodeName = nodeName
        self.opType = opType
        self.kernelShape = kernelShape
        self.groupIndex = groupIndex
        self.groupCount = groupCount
        self.layerIndex = layerIndex
    }
}

/// Builds one weight format from dense weights. Implementations must be lossless: the returned
/// matrix's `multiply` equals the dense product within float tolerance.
public protocol WeightFormatFactory: Sendable {
    /// The format's name as used in portfolio.json and `--format` (csr, bsr, ubp, masked).
    var formatName: String { get }

    /// Converts `dense` (the layer's M × K matrix, BatchNorm already folded in) to this format.
    /// May return `dense` itself for layers the format does not apply to.
    /// - Throws: `EngineError.weightFormat` when the block shape or layer does not fit.
    func makeWeightMatrix(from dense: DenseWeightMatrix, layer: WeightLayerDescription,
                          block: WeightBlockShape?) throws -> any WeightMatrix
}

/// The weight formats a loader may convert to, by name. `dense` is always available.
public struct WeightFormatRegistry: Sendable {
    private var factories: [String: any WeightFormatFactory] = [:]

    /// A registry with `dense` only.
    public init() {}

    /// A registry with the given factories (later ones win on equal names).
    public init(_ factories: [any WeightFormatFactory]) {
        for factory in factories { register(factory) }
    }

    /// Adds or replaces a factory under its `formatName`.
    public mutating func register(_ factory: any WeightFormatFactory) {
        factories[factory.formatName] = factory
    }

    /// The factory for `name`, nil for `dense` or unknown names.
    public func factory(named name: String) -> (any WeightFormatFactory)? { factories[name] }

    /// All format names this registry can produce, `dense` included, sorted.
    public var formatNames: [String] { (["dense"] + factories.keys).sorted() }
}
