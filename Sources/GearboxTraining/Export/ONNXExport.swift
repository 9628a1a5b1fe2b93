// GearboxTraining/ONNXExport: writes a trainer network as an ONNX file through the engine's
// ONNXModelBuilder (so exported models and imported ones share one protobuf code path).

import Foundation
import GearboxEngine

extension ONNXGraphDescription {
    /// The model as an engine builder.
    func builder() -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: graphName, opset: Self.opsetVersion, producer: "gearbox portfolio build")
        b.addInput(inputName, shape: inputShape)
        for initializer in initializers {
            b.addInitializer(initializer.name, Tensor(shape: initializer.dims, scalars: initializer.values))
        }
        for node in nodes {
            var attributes: [String: ONNXModelBuilder.Attribute] = [:]
            for (name, value) in node.attributes {
                switch value {
                case let .int(v): attributes[name] = .int(v)
                case let .ints(v): attributes[name] = .ints(v)
                case let .float(v): attributes[name] = .float(v)
                }
            }
            b.addNode(node.opType, inputs: node.inputs, outputs: node.outputs, name: node.name, attributes: attributes)
        }
        b.addOutput(outputName, shape: outputShape)
        return b
    }

    /// Serialised ONNX bytes.
    public func serializedData() throws -> Data { try builder().serializedData() }

    /// Writes the ONNX file atomically.
    public func write(to path: String) throws { try builder().write(to: path) }
}
