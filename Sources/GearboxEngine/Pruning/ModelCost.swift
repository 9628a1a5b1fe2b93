// GearboxEngine/Pruning/ModelCost: the multiply-adds and parameters a variant really computes,
// for portfolio manifests. The engine's statistics count a layer's full weight matrix; a sparse
// variant (csr, bsr, ubp) only multiplies its nonzero weights, and a masked variant only the
// channel prefix its mask keeps. Both are derived from the engine's own per-operation MACs.

import Foundation

/// Multiply-adds and parameters of one variant, and how they were obtained.
public struct ModelCost: Codable, Sendable, Hashable {
    public var macs: Int
    public var params: Int
    /// "engine statistics", "engine statistics × nonzero weight fraction per layer", ...
    public var method: String

    /// All weights counted (dense and structured variants): the engine's statistics.
    public static func dense(_ model: InferenceModel) -> ModelCost {
        ModelCost(macs: model.statistics.macs, params: model.statistics.parameters, method: "engine statistics")
    }

    /// Only nonzero weights counted: each Conv/Gemm/MatMul's MACs scaled by the nonzero
    /// fraction of its weights.
    public static func nonzero(onnxFile path: String) throws -> ModelCost {
        try scaled(path, method: "engine statistics, each weight layer scaled by its nonzero fraction") { _, weights in
            weights.withUnsafeBufferPointer { $0.reduce(0) { $1 != 0 ? $0 + 1 : $0 } }
        }
    }

    /// Channel-prefix mask keeping `fraction` of the channels, with the rule of the engine's
    /// masked format: Conv layers keep round(f·M) filters and round(f·C) input channels (all
    /// inputs for the first layer), Gemm layers keep every output and round(f·K) inputs.
    public static func masked(onnxFile path: String, fraction: Double) throws -> ModelCost {
        func keep(_ n: Int) -> Int { min(n, max(1, Int((fraction * Double(n)).rounded()))) }
        return try scaled(path, method: "engine statistics, each weight layer scaled by the channel prefix mask \(fraction) keeps") { layer, weights in
            let shape = weights.shape
            guard shape.count >= 2 else { return weights.count }
            // Grouped (e.g. depthwise) Convs are not masked by the engine: all their work stays.
            if layer.opType == "Conv", layer.groups > 1 { return weights.count }
            if layer.opType == "Conv" {
                let area = shape.dropFirst(2).reduce(1, *)
                return keep(shape[0]) * (layer.index == 0 ? shape[1] * area : keep(shape[1]) * area)
            }
            // Gemm/MatMul: every output, the first round(f·K) inputs.
            return weights.count / shape[layer.inputAxis] * keep(shape[layer.inputAxis])
        }
    }

    /// A weight layer as the cost rules see it.
    struct Layer {
        var opType: String
        /// Position among the model's weight layers (0: the one reading the input).
        var index: Int
        /// The weights' input-feature axis.
        var inputAxis: Int
        /// Conv groups (1 otherwise).
        var groups: Int
    }

    /// Scales every Conv/Gemm/MatMul's MACs and the parameter count by `active(layer, weights)`
    /// out of the weights' element count.
    private static func scaled(_ path: String, method: String, active: (Layer, Tensor) -> Int) throws -> ModelCost {
        let graph = try ONNXImporter.graph(fromFile: path)
        let compiler = ModelCompiler(graph: graph, options: EngineOptions(fusesOperators: false), source: path)
        _ = try compiler.compile()
        var weightsOf: [String: (Layer, Tensor)] = [:]
        var index = 0
        for node in graph.nodes where ["Conv", "Gemm", "MatMul"].contains(node.opType) && node.inputs.count >= 2 {
            guard case let .float(weights)? = graph.initializers[node.inputs[1]] else { continue }
            var inputAxis = 1
            if node.opType == "MatMul" { inputAxis = 0 }
            if node.opType == "Gemm", case let .int(transB)? = node.attributes["transB"], transB != 0 { inputAxis = 1 }
            else if node.opType == "Gemm" { inputAxis = 0 }
            var groups = 1
            if case let .int(g)? = node.attributes["group"] { groups = g }
            weightsOf[node.displayName] = (Layer(opType: node.opType, index: index, inputAxis: inputAxis, groups: groups), weights)
            index += 1
        }
        var macs = 0, params = compiler.parameterCount
        for operation in compiler.flattenedOperations {
            guard let (layer, weights) = weightsOf[operation.label.name], weights.count > 0 else {
                macs += operation.macs
                continue
            }
            let kept = active(layer, weights)
            macs += Int((Double(operation.macs) * Double(kept) / Double(weights.count)).rounded())
            params -= weights.count - kept
        }
        return ModelCost(macs: macs, params: params, method: method)
    }
}
