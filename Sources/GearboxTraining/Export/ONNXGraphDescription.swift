// GearboxTraining/ONNXGraphDescription: a trainer network described as an ONNX graph (opset 13):
// nodes with attributes, float initializers, one NCHW input and one logits output. The engine's
// ONNX writer turns this into a file. Channel gates (All-in-One training) are not exported: the
// masked format applies masks at run time instead.

/// A format-neutral description of an ONNX model built from a `Network`.
public struct ONNXGraphDescription: Sendable {
    public enum Attribute: Sendable, Equatable {
        case int(Int)
        case ints([Int])
        case float(Float)
    }

    public struct Node: Sendable {
        public var name: String
        public var opType: String
        public var inputs: [String]
        public var outputs: [String]
        public var attributes: [(String, Attribute)]
    }

    public struct Initializer: Sendable {
        public var name: String
        public var dims: [Int]
        public var values: [Float]
    }

    public var graphName: String
    public var inputName: String
    /// NCHW with batch 1.
    public var inputShape: [Int]
    public var outputName: String
    public var outputShape: [Int]
    public var nodes: [Node]
    public var initializers: [Initializer]
    public static let opsetVersion = 13

    public static let defaultInputName = "input"
    public static let defaultOutputName = "logits"

    /// Describes `network` for batch size `batch`.
    public init(_ network: Network, name: String, batch: Int = 1) {
        graphName = name
        inputName = Self.defaultInputName
        inputShape = [batch] + network.inputShape
        outputName = Self.defaultOutputName
        outputShape = [batch, network.classes]
        nodes = []
        initializers = []
        // Tensor names: the input, then one per node (gates pass their input through).
        var tensorName = [inputName]
        for (i, node) in network.nodes.enumerated() {
            let inputs = node.inputs.map { tensorName[$0] }
            let out = i == network.nodes.count - 1 ? outputName : node.name
            func add(_ op: String, _ extra: [String] = [], _ attributes: [(String, Attribute)] = []) {
                nodes.append(Node(name: node.name, opType: op, inputs: inputs + extra, outputs: [out], attributes: attributes))
                tensorName.append(out)
            }
            func weight(_ p: Parameter) -> String {
                initializers.append(Initializer(name: p.name, dims: p.shape, values: p.value))
                return p.name
            }
            switch node.op {
            case let .conv(c):
                var extra = [weight(c.weight)]
                if let b = c.bias { extra.append(weight(b)) }
                add("Conv", extra, [("kernel_shape", .ints([c.kernel, c.kernel])),
                                    ("pads", .ints([c.padding, c.padding, c.padding, c.padding])),
                                    ("strides", .ints([c.stride, c.stride]))])
            case let .batchNorm(b):
                let mean = Initializer(name: node.name + ".mean", dims: [b.channels], values: b.runningMean)
                let variance = Initializer(name: node.name + ".var", dims: [b.channels], values: b.runningVariance)
                let extra = [weight(b.scale), weight(b.shift)]
                initializers += [mean, variance]
                add("BatchNormalization", extra + [mean.name, variance.name], [("epsilon", .float(b.epsilon))])
            case .relu: add("Relu")
            case let .maxPool(k, s): add("MaxPool", [], [("kernel_shape", .ints([k, k])), ("strides", .ints([s, s]))])
            case .globalAveragePool: add("GlobalAveragePool")
            case .flatten: add("Flatten", [], [("axis", .int(1))])
            case let .linear(l): add("Gemm", [weight(l.weight), weight(l.bias)], [("transB", .int(1))])
            case .add: add("Add")
            case .gate: tensorName.append(inputs[0])
            }
        }
    }
}
