// GearboxEngine/WeightMatrix: the seam between the graph's Conv/Gemm operators and the weight
// formats of pruned variants (dense, csr, bsr, ubp, masked). An operator lowers its work to
// C = A · B, where A is the layer's weight matrix in one of these formats.

/// A layer's weight matrix A of shape `rows` × `columns` (M × K), in some storage format.
///
/// Conv lowers to A[outChannels × (inChannels·kH·kW)] · im2col[K × (outH·outW)];
/// Gemm/MatMul with weights lowers to the same shape with B the transposed activations.
public protocol WeightMatrix: Sendable {
    /// M: output channels or features.
    var rows: Int { get }
    /// K: reduction length.
    var columns: Int { get }
    /// Bytes this format keeps resident (values, indices, masks).
    var storedBytes: Int { get }
    /// The format's name as used in portfolio.json: dense, csr, bsr, ubp, masked.
    var formatName: String { get }

    /// C[M × N] = A · B[K × N]. B is row-major with leading dimension `ldb`, C with `ldc`.
    /// Every row of C is written (rows a format skips are written as zero).
    func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int)
}
