// GearboxEngine/EngineOptions: everything a caller can choose when loading a model — threads and
// their pinning, the weight format to convert layers to, concrete input shapes, and inputs to fix
// as constants at load.

/// Options for `InferenceModel` loading.
public struct EngineOptions: Sendable {
    /// Worker threads including the calling thread (≥ 1). Results are identical for any value.
    public var threads: Int
    /// Pins each helper thread when the pool starts; nil leaves them to the scheduler.
    public var pinning: (any WorkerPinning)?
    /// Weight format for Conv/Gemm/MatMul weights: "dense" or a name in `weightFormats`.
    public var weightFormat: String
    /// Block shape for block formats (bsr, ubp); nil lets the format choose.
    public var weightBlock: WeightBlockShape?
    /// Factories for non-dense formats, keyed by name.
    public var weightFormats: WeightFormatRegistry
    /// Concrete shapes for inputs whose declared shape has symbolic or unknown dimensions
    /// (or to override a declared shape).
    public var inputShapes: [String: [Int]]
    /// Inputs whose values are fixed at load: they become constants (and may then feed
    /// parameter slots such as Reshape's shape or Clip's bounds). They disappear from `inputs`.
    public var constantInputs: [String: Tensor] {
        get { boundInputs.compactMapValues { if case let .float(t) = $0 { return t } else { return nil } } }
        set { boundInputs = newValue.mapValues { .float($0) } }
    }
    /// Fuse BatchNorm, activations and residual Adds into Conv/Gemm (on by default; off for debugging).
    public var fusesOperators: Bool
    /// Kernel for dense convolutions: Gearbox's packed kernels when the CPU allows, or OpenBLAS.
    public var denseConvolutionKernel: DenseConvolutionKernel = .automatic
    /// Keep runs of layers XNNPACK executes in NHWC, converting layouts only at their boundaries
    /// (on by default; off gives every layer its own NCHW step, for comparisons).
    public var plansNHWCRuns = true
    /// Run dense 3×3 stride-1 layers inside NHWC runs by Winograd F(2×2, 3×3) on Gearbox's own
    /// transforms and sgemm instead of XNNPACK (on by default; off for comparisons).
    public var winogradConvolutions = true
    /// Compute inverted-residual blocks (1×1 → depthwise → 1×1) with a large expanded tensor in
    /// bands of rows, so that the expanded tensor stays in cache (on by default; off runs each
    /// layer over the whole tensor, for comparisons).
    public var bandsInvertedResiduals = true

    /// Bound inputs of any element type (the conformance runner binds int64 shape inputs).
    var boundInputs: [String: ConstantTensor] = [:]

    public init(threads: Int = 1, pinning: (any WorkerPinning)? = nil, weightFormat: String = "dense",
                weightBlock: WeightBlockShape? = nil, weightFormats: WeightFormatRegistry = WeightFormatRegistry(),
                inputShapes: [String: [Int]] = [:], fusesOperators: Bool = true) {
        self.threads = threads
        self.pinning = pinning
        self.weightFormat = weightFormat
        self.weightBlock = weightBlock
        self.weightFormats = weightFormats
        self.inputShapes = inputShapes
        self.fusesOperators = fusesOperators
    }

    /// Fixes an input read from a TensorProto file (any element type) as a constant.
    public mutating func bindConstantInput(_ name: String, from file: TensorProtoFile) {
        boundInputs[name] = file.constant
    }
}
