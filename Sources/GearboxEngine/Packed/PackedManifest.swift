// GearboxEngine/Packed/PackedManifest: the layout of a packed variant file (`.gbpk`) and the
// JSON manifest inside it. The file is
//
//   [0, 64)      header: magic "GBPK\r\n\u{1A}\n", version, byte-order mark, CPU tag, panel
//                layout, manifest offset/length, file length (little- or big-endian as written)
//   [64, …)      sections, each 64-byte aligned (page-aligned from 64 KiB): raw float32 /
//                int32 / int64 arrays exactly as the kernels read them
//   manifest     JSON (`PackedManifest`): the graph IR (nodes, interface, small constants as
//                section references) and, per weight layer, its matrices' kind and sections
//
// so that a loader maps the file once and points every kernel at its sections.

/// Where one array lives in the file.
struct PackedSection: Codable, Hashable {
    enum ElementKind: String, Codable { case f32, i32, i64 }
    /// Byte offset from the start of the file.
    var offset: Int
    /// Number of elements.
    var count: Int
    var type: ElementKind

    var elementBytes: Int { type == .i64 ? 8 : 4 }
}

/// A constant of the graph: stored in a section, or (weights the layers hold in kernel layout)
/// only its shape.
struct PackedConstant: Codable {
    var shape: [Int]
    /// ONNX element type code (1 = float).
    var elementType: Int32
    /// Nil for a weight whose layer stores it in kernel layout (`PackedLayer`).
    var section: PackedSection?
}

/// An attribute value (one of the fields is set, per `kind`).
struct PackedAttribute: Codable {
    var kind: String
    var int: Int?
    var float: Float?
    var string: String?
    var ints: [Int]?
    var floats: [Float]?
    var strings: [String]?
    var tensor: PackedConstant?
}

struct PackedNode: Codable {
    var name: String
    var opType: String
    var domain: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [String: PackedAttribute]
}

/// A declared graph input or output; a dimension is a number, a symbol or nil (unknown).
struct PackedValue: Codable {
    struct Dimension: Codable {
        var fixed: Int?
        var symbol: String?
    }
    var name: String
    var elementType: Int32
    var dimensions: [Dimension]?
}

struct PackedGraph: Codable {
    var name: String
    var opsetVersion: Int
    var nodes: [PackedNode]
    var initializers: [String: PackedConstant]
    var inputs: [PackedValue]
    var outputs: [PackedValue]
}

/// One weight matrix in kernel layout.
struct PackedMatrix: Codable {
    enum Kind: String, Codable {
        /// Row-major values for sgemm (`DenseWeightMatrix`).
        case dense
        /// 6-row panels blocked by 256 columns (`PackedDenseWeightMatrix`); depends on the CPU's kernels.
        case packedDense
        case csr, bsr, ubp, masked
    }
    var kind: Kind
    var rows: Int
    var columns: Int
    var blockRows: Int?
    var blockColumns: Int?
    /// Arrays by name: values; rowOffsets, columnIndices (csr); the band tables (bsr, ubp).
    var sections: [String: PackedSection]
    /// One channel-prefix mask per level (masked).
    var masks: [ChannelPrefixMask]?
}

/// One Conv/Gemm/MatMul layer as the compiler left it: matrices (a Conv has one per group),
/// folded bias, and for depthwise Convs the folded direct-kernel weights.
struct PackedLayer: Codable {
    var node: String
    var op: String
    var descriptions: [PackedLayerDescription]
    var matrices: [PackedMatrix]
    var bias: PackedSection?
    /// Gemm bias: "perFeature" or "full" (with `biasShape`), nil for none.
    var biasKind: String?
    var biasShape: [Int]?
    var depthwiseWeights: PackedSection?
    var depthwiseShape: [Int]?
}

struct PackedLayerDescription: Codable {
    var kernelShape: [Int]
    var groupIndex: Int
    var groupCount: Int
    var layerIndex: Int
}

/// The JSON manifest at the end of a packed file.
struct PackedManifest: Codable {
    static let currentSchemaVersion = 1
    var schemaVersion: Int
    /// Where the variant came from (ONNX path) and what wrote it.
    var source: String
    var writer: String
    /// The weight format the layers were converted to, and the block shape (bsr, ubp).
    var weightFormat: String
    var weightBlock: String?
    /// Compile settings the layer order depends on.
    var fusesOperators: Bool
    var inputShapes: [String: [Int]]
    /// CPU architecture and panel layout of `packedDense` matrices.
    var architecture: String
    var panelRows: Int
    var reductionBlock: Int
    /// Masked variants: number of mask levels, the level in force when written, and (when the
    /// writer knew them) each level's kept channel fraction.
    var maskLevels: Int?
    var maskInitialLevel: Int?
    var maskFractions: [Double]?
    var graph: PackedGraph
    var layers: [PackedLayer]
}

/// The fixed 64-byte header.
struct PackedHeader {
    static let magic: [UInt8] = Array("GBPK\r\n".utf8) + [0x1A, 0x0A]
    static let version: UInt32 = 1
    static let byteOrderMark: UInt32 = 0x0A0B_0C0D
    static let size = 64

    var manifestOffset: UInt64
    var manifestLength: UInt64
    var fileLength: UInt64
    var architecture: String
    var panelRows: UInt32
    var reductionBlock: UInt32

    static var currentArchitecture: String {
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "other"
        #endif
    }

    /// Layout: magic(8) version(4) byteOrder(4) manifestOffset(8) manifestLength(8)
    /// fileLength(8) architecture(8, NUL-padded) panelRows(4) reductionBlock(4) reserved(8).
    func encoded() -> [UInt8] {
        var bytes = Self.magic
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        put(Self.version)
        put(Self.byteOrderMark)
        put(manifestOffset)
        put(manifestLength)
        put(fileLength)
        bytes.append(contentsOf: Array(architecture.utf8.prefix(8)) + [UInt8](repeating: 0, count: 8 - min(8, architecture.utf8.count)))
        put(panelRows)
        put(reductionBlock)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: Self.size - bytes.count))
        return bytes
    }
}
