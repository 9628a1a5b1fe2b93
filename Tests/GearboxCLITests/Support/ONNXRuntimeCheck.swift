// Runs ONNX files in onnxruntime (python3 on PATH) to prove a model Gearbox wrote loads in
// another runtime and keeps its interface.

import Foundation
import GearboxTestSupport

enum ONNXRuntimeCheck {
    /// True when onnxruntime loads every file in `paths`, runs each on one input of its declared
    /// shape (symbolic dimensions as 1), and every first output has the first file's shape.
    static func outputShapesAgree(_ paths: [String]) throws -> Bool {
        let script = """
            import sys, numpy as np, onnxruntime as ort
            shapes = []
            for path in sys.argv[1:]:
                s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                i = s.get_inputs()[0]
                shapes.append(s.run(None, {i.name: np.ones([d if isinstance(d, int) else 1 for d in i.shape], np.float32)})[0].shape)
            sys.exit(0 if all(s == shapes[0] for s in shapes) else 1)
            """
        return try HostFacts.runPython(script, arguments: paths) == 0
    }
}
