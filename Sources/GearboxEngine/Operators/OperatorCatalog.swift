// GearboxEngine/OperatorCatalog: one lowering per ONNX operator — attribute and input checks
// for every supported opset (1–18), shape inference, and the planned operation it becomes.
// Anything outside what the kernels implement is rejected here with the node, op and reason.

import Foundation

package enum OperatorCatalog {
    typealias Lowering = (NodeContext) throws -> Void

    /// The ONNX operator types the engine lowers.
    package static var operatorTypes: Set<String> { Set(lowerings.keys) }

    static let lowerings: [String: Lowering] = {
        var table: [String: Lowering] = [
            "Conv": lowerConv, "Gemm": lowerGemm, "MatMul": lowerMatMul,
            "MaxPool": { try lowerPool($0, average: false) }, "AveragePool": { try lowerPool($0, average: true) },
            "GlobalAveragePool": { try lowerGlobalPool($0, average: true) }, "GlobalMaxPool": { try lowerGlobalPool($0, average: false) },
            "BatchNormalization": lowerBatchNorm,
            "Flatten": lowerFlatten, "Reshape": lowerReshape, "Squeeze": lowerSqueeze, "Unsqueeze": lowerUnsqueeze,
            "Identity": lowerIdentity, "Dropout": lowerDropout, "Constant": lowerConstant,
            "Transpose": lowerTranspose, "Concat": lowerConcat, "Pad": lowerPad,
            "Softmax": { try lowerSoftmax($0, logarithmic: false) }, "LogSoftmax": { try lowerSoftmax($0, logarithmic: true) },
            "Clip": lowerClip,
        ]
        let binary: [String: BinaryFunction] = ["Add": .add, "Sub": .sub, "Mul": .mul, "Div": .div, "Pow": .pow,
                                                "Max": .max, "Min": .min, "PRelu": .prelu]
        for (name, function) in binary { table[name] = { try lowerBinary($0, function) } }
        let unary: [String: (NodeContext) throws -> Activation] = [
            "Relu": { _ in .relu },
            "LeakyRelu": { .leakyRelu(alpha: try $0.float("alpha", default: 0.01)) },
            "Sigmoid": { _ in .sigmoid },
            "HardSigmoid": { .hardSigmoid(alpha: try $0.float("alpha", default: 0.2), beta: try $0.float("beta", default: 0.5)) },
            "HardSwish": { _ in .hardSwish },
            "Tanh": { _ in .tanh },
            "Neg": { _ in .neg }, "Abs": { _ in .abs }, "Exp": { _ in .exp }, "Log": { _ in .log },
            "Sqrt": { _ in .sqrt }, "Reciprocal": { _ in .reciprocal }, "Floor": { _ in .floor }, "Ceil": { _ in .ceil },
            "Elu": { .elu(alpha: try $0.float("alpha", default: 1)) },
            "Selu": { .selu(alpha: try $0.float("alpha", default: 1.67326319217681884765625),
                            gamma: try $0.float("gamma", default: 1.05070102214813232421875)) },
            "Softplus": { _ in .softplus }, "Softsign": { _ in .softsign },
            "ThresholdedRelu": { .thresholdedRelu(alpha: try $0.float("alpha", default: 1)) },
        ]
        let unaryAttributes: [String: Set<String>] = [
            "LeakyRelu": ["alpha"], "HardSigmoid": ["alpha", "beta"], "Elu": ["alpha"], "Selu": ["alpha", "gamma"],
            "ThresholdedRelu": ["alpha"],
        ]
        for (name, make) in unary {
            table[name] = { context in
                try context.allowAttributes((unaryAttributes[name] ?? []).union(["consumed_inputs"]))
                try lowerUnary(context, try make(context))
            }
        }
        return table
    }()

    static var supportedOperators: [String] { lowerings.keys.sorted() }

    // MARK: Element-wise

    static func lowerUnary(_ c: NodeContext, _ activation: Activation) throws {
        try c.allowOutputs(1)
        let x = try c.floatInput(0, "X")
        let y = try c.defineOutput(0, shape: c.shape(x))
        try c.add(UnaryOperation(label: c.label, input: x, output: y, count: c.compiler.values[x].count, activation: activation))
    }

    static func lowerClip(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
        if c.opset < 11 {
            try c.allowAttributes(["min", "max", "consumed_inputs"])
            lo = try c.float("min", default: lo)
            hi = try c.float("max", default: hi)
        } else {
            try c.allowAttributes([])
            func bound(_ index: Int, _ what: String) throws -> Float? {
                guard c.optionalInput(index) != nil else { return nil }
                let value = try c.constantInput(index, what).floatValues
                guard value.count == 1 else { throw c.invalid("\(what) must be a scalar, got \(value.count) values") }
                return value[0]
            }
            lo = try bound(1, "min") ?? lo
            hi = try bound(2, "max") ?? hi
        }
        let x = try c.floatInput(0, "input")
        let y = try c.defineOutput(0, shape: c.shape(x))
        try c.add(UnaryOperation(label: c.label, input: x, output: y, count: c.compiler.values[x].count, activation: .clip(min: lo, max: hi)))
    }

    static func lowerBinary(_ c: NodeContext, _ function: BinaryFunction) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(["broadcast", "axis", "consumed_inputs"])
        if (function == .max || function == .min) && c.inputCount == 1 {
            let x = try c.floatInput(0, "data_0")
            try c.defineAlias(0, of: x, shape: c.shape(x))
            return
        }
        guard c.inputCount == 2 else { throw c.unsupported("\(c.inputCount) inputs (the engine implements the two-input form)") }
        let a = try c.floatInput(0, "A"), b = try c.floatInput(1, "B")
        let shapeA = c.shape(a)
        var shapeB = c.shape(b)
        let legacy = c.opset < 7 && function != .prelu
        if legacy {
            if try c.int("broadcast", default: 0) == 1 {
                let axis = c.has("axis") ? try c.axis(try c.int("axis", default: 0), rank: shapeA.count) : shapeA.count - shapeB.count
                guard axis >= 0, axis + shapeB.count <= shapeA.count else {
                    throw c.invalid("cannot broadcast \(shapeB) into \(shapeA) at axis \(axis)")
                }
                shapeB = [Int](repeating: 1, count: axis) + shapeB + [Int](repeating: 1, count: shapeA.count - axis - shapeB.count)
            } else if shapeA != shapeB {
                throw c.invalid("shapes \(shapeA) and \(shapeB) differ and broadcast=0")
            }
        } else if function == .prelu, broadcastShape(shapeA, shapeB) != shapeA, shapeB.count == 1, shapeA.count >= 2, shapeB[0] == shapeA[1] {
            // Older PRelu exports give one slope per channel as a 1-D tensor.
            shapeB = [shapeB[0]] + [Int](repeating: 1, count: shapeA.count - 2)
        }
        guard let out = broadcastShape(shapeA, shapeB) else {
            throw c.invalid("shapes \(shapeA) and \(shapeB) are not broadcastable")
        }
        let y = try c.defineOutput(0, shape: out)
        try c.add(BinaryOperation(label: c.label, a: a, b: b, output: y, function: function,
                                  plan: BroadcastPlan(output: out, a: shapeA, b: shapeB)))
    }

    // MARK: Convolution and pooling

    /// Spatial attributes shared by Conv and the pools, normalised to 2-D.
    struct Spatial {
        var kernel: [Int], strides: [Int], pads: [Int], dilations: [Int]
        var outputs: [Int], padBegin: [Int], padEnd: [Int]
    }

    static func spatial(_ c: NodeContext, input: [Int], kernel: [Int], ceilMode: Bool, allowDilations: Bool) throws -> Spatial {
        let n = kernel.count
        let strides = try c.ints("strides") ?? [Int](repeating: 1, count: n)
        let dilations = try c.ints("dilations") ?? [Int](repeating: 1, count: n)
        let pads = try c.ints("pads") ?? [Int](repeating: 0, count: 2 * n)
        let autoPad = try c.string("auto_pad", default: "NOTSET")
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else { throw c.unsupported("auto_pad \(autoPad)") }
        guard strides.count == n, dilations.count == n, pads.count == 2 * n else {
            throw c.invalid("strides \(strides), dilations \(dilations) or pads \(pads) do not match a \(n)-D kernel")
        }
        guard strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }), kernel.allSatisfy({ $0 > 0 }) else {
            throw c.invalid("kernel \(kernel), strides \(strides), dilations \(dilations) must be positive and pads \(pads) non-negative")
        }
        if !allowDilations && dilations.contains(where: { $0 != 1 }) { throw c.unsupported("dilations \(dilations)") }
        var out: [Int] = [], begin: [Int] = [], end: [Int] = []
        for i in 0..<n {
            guard let axis = convolutionAxis(input: input[i], kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                                             padBegin: pads[i], padEnd: pads[i + n], autoPad: autoPad, ceilMode: ceilMode)
            else { throw c.invalid("kernel \(kernel) with dilations \(dilations) does not fit the padded input \(input)") }
            out.append(axis.output); begin.append(axis.padBegin); end.append(axis.padEnd)
        }
        return Spatial(kernel: kernel, strides: strides, pads: pads, dilations: dilations, outputs: out, padBegin: begin, padEnd: end)
    }

    static func lowerConv(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
        let x = try c.floatInput(0, "X")
        let xShape = c.shape(x)
        guard xShape.count == 3 || xShape.count == 4 else {
            throw c.unsupported("\(xShape.count - 2)-D convolution (input \(xShape)); the engine implements 1-D and 2-D")
        }
        let w = try c.floatConstantInput(1, "W")
        let groups = try c.int("group", default: 1)
        let spatialRank = xShape.count - 2
        guard w.shape.count == xShape.count else { throw c.invalid("weights \(w.shape) do not match input \(xShape)") }
        guard groups > 0, xShape[1] % groups == 0, w.shape[0] % groups == 0, w.shape[1] * groups == xShape[1] else {
            throw c.invalid("weights \(w.shape) with group \(groups) do not match input channels \(xShape[1])")
        }
        let kernel = Array(w.shape[2...])
        if let declared = try c.ints("kernel_shape"), declared != kernel {
            throw c.invalid("kernel_shape \(declared) differs from the weights' \(kernel)")
        }
        let s = try spatial(c, input: Array(xShape[2...]), kernel: kernel, ceilMode: false, allowDilations: true)
        var bias: [Float]? = nil
        if c.optionalInput(2) != nil {
            let b = try c.floatConstantInput(2, "B")
            guard b.count == w.shape[0] else { throw c.invalid("bias has \(b.count) values for \(w.shape[0]) output channels") }
            bias = b.scalars
        }
        var g = ConvGeometry()
        g.batch = xShape[0]; g.inChannels = xShape[1]; g.outChannels = w.shape[0]; g.groups = groups
        if spatialRank == 1 {
            g.inWidth = xShape[2]; g.outWidth = s.outputs[0]; g.kernelWidth = kernel[0]
            g.strideWidth = s.strides[0]; g.dilationWidth = s.dilations[0]; g.padLeft = s.padBegin[0]; g.padRight = s.padEnd[0]
        } else {
            g.inHeight = xShape[2]; g.inWidth = xShape[3]; g.outHeight = s.outputs[0]; g.outWidth = s.outputs[1]
            g.kernelHeight = kernel[0]; g.kernelWidth = kernel[1]
            g.strideHeight = s.strides[0]; g.strideWidth = s.strides[1]
            g.dilationHeight = s.dilations[0]; g.dilationWidth = s.dilations[1]
            g.padTop = s.padBegin[0]; g.padLeft = s.padBegin[1]; g.padBottom = s.padEnd[0]; g.padRight = s.padEnd[1]
        }
        let y = try c.defineOutput(0, shape: [g.batch, g.outChannels] + s.outputs)
        try c.add(ConvOperation(label: c.label, input: x, output: y, geometry: g, weights: w, bias: bias))
    }

    static func lowerPool(_ c: NodeContext, average: Bool) throws {
        try c.allowOutputs(1, "MaxPool's Indices output is not implemented")
        try c.allowAttributes(average ? ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations"]
                                      : ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"])
        let x = try c.floatInput(0, "X")
        let xShape = c.shape(x)
        guard xShape.count == 3 || xShape.count == 4 else {
            throw c.unsupported("\(xShape.count - 2)-D pooling (input \(xShape)); the engine implements 1-D and 2-D")
        }
        guard let kernel = try c.ints("kernel_shape"), kernel.count == xShape.count - 2 else {
            throw c.invalid("kernel_shape is missing or does not match input \(xShape)")
        }
        let ceilMode = try c.int("ceil_mode", default: 0) != 0
        let s = try spatial(c, input: Array(xShape[2...]), kernel: kernel, ceilMode: ceilMode, allowDilations: !average)
        var g = PoolGeometry()
        g.planes = xShape[0] * xShape[1]
        if kernel.count == 1 {
            g.inWidth = xShape[2]; g.outWidth = s.outputs[0]; g.kernelWidth = kernel[0]; g.strideWidth = s.strides[0]
            g.dilationWidth = s.dilations[0]; g.padLeft = s.padBegin[0]; g.padRight = s.padEnd[0]
        } else {
            g.inHeight = xShape[2]; g.inWidth = xShape[3]; g.outHeight = s.outputs[0]; g.outWidth = s.outputs[1]
            g.kernelHeight = kernel[0]; g.kernelWidth = kernel[1]; g.strideHeight = s.strides[0]; g.strideWidth = s.strides[1]
            g.dilationHeight = s.dilations[0]; g.dilationWidth = s.dilations[1]
            g.padTop = s.padBegin[0]; g.padLeft = s.padBegin[1]; g.padBottom = s.padEnd[0]; g.padRight = s.padEnd[1]
        }
        let kind: PoolOperation.Kind = average ? .average(countIncludePad: try c.int("count_include_pad", default: 0) != 0) : .max
        let y = try c.defineOutput(0, shape: Array(xShape[0..<2]) + s.outputs)
        try c.add(PoolOperation(label: c.label, input: x, output: y, kind: kind, geometry: g))
    }

    static func lowerGlobalPool(_ c: NodeContext, average: Bool) throws {
        try c.allowOutputs(1)
        try c.allowAttributes([])
        let x = try c.floatInput(0, "X")
        let xShape = c.shape(x)
        guard xShape.count >= 3 else { throw c.invalid("input \(xShape) needs rank ≥ 3 (N, C, spatial…)") }
        var g = PoolGeometry()
        g.planes = xShape[0] * xShape[1]
        g.inWidth = xShape[2...].reduce(1, *)
        let y = try c.defineOutput(0, shape: Array(xShape[0..<2]) + [Int](repeating: 1, count: xShape.count - 2))
        try c.add(PoolOperation(label: c.label, input: x, output: y, kind: average ? .globalAverage : .globalMax, geometry: g))
    }

    static func lowerBatchNorm(_ c: NodeContext) throws {
        try c.allowOutputs(1, "training-mode statistics outputs are not implemented")
        try c.allowAttributes(["epsilon", "momentum", "spatial", "is_test", "consumed_inputs", "training_mode"])
        guard try c.int("training_mode", default: 0) == 0 else { throw c.unsupported("training_mode=1") }
        guard try c.int("spatial", default: 1) == 1 else { throw c.unsupported("spatial=0 (per-activation statistics)") }
        let x = try c.floatInput(0, "X")
        let xShape = c.shape(x)
        guard xShape.count >= 2 else { throw c.invalid("input \(xShape) needs rank ≥ 2") }
        let channels = xShape[1]
        let scale = try c.floatConstantInput(1, "scale").scalars
        let bias = try c.floatConstantInput(2, "B").scalars
        let mean = try c.floatConstantInput(3, "input_mean").scalars
        let variance = try c.floatConstantInput(4, "input_var").scalars
        guard [scale, bias, mean, variance].allSatisfy({ $0.count == channels }) else {
            throw c.invalid("scale, B, mean and var need \(channels) values each")
        }
        let epsilon = try c.float("epsilon", default: 1e-5)
        var a = [Float](repeating: 0, count: channels), b = a
        for i in 0..<channels {
            a[i] = scale[i] / (variance[i] + epsilon).squareRoot()
            b[i] = bias[i] - mean[i] * a[i]
        }
        let y = try c.defineOutput(0, shape: xShape)
        try c.add(ChannelAffineOperation(label: c.label, input: x, output: y, batch: xShape[0], channels: channels,
                                         spatial: xShape[2...].reduce(1, *), scale: a, shift: b))
    }

    // MARK: Matrix products

    static func lowerGemm(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(["alpha", "beta", "transA", "transB", "broadcast"])
        let alpha = try c.float("alpha", default: 1), beta = try c.float("beta", default: 1)
        let transA = try c.int("transA", default: 0) != 0, transB = try c.int("transB", default: 0) != 0
        let a = try c.floatInput(0, "A"), b = try c.floatInput(1, "B")
        let aShape = c.shape(a), bShape = c.shape(b)
        guard aShape.count == 2, bShape.count == 2 else { throw c.invalid("A \(aShape) and B \(bShape) must be 2-D") }
        let m = transA ? aShape[1] : aShape[0], k = transA ? aShape[0] : aShape[1]
        let kB = transB ? bShape[1] : bShape[0], n = transB ? bShape[0] : bShape[1]
        guard k == kB else { throw c.invalid("A \(aShape) (transA=\(transA ? 1 : 0)) and B \(bShape) (transB=\(transB ? 1 : 0)) disagree on K") }
        let cID = c.optionalInput(2)
        var cShape: [Int] = []
        if let cID {
            guard c.compiler.values[cID].type == .float else { throw c.unsupported("C has element type \(c.compiler.values[cID].type)") }
            cShape = c.shape(cID)
            guard cShape.count <= 2, broadcastShape([m, n], cShape) == [m, n] else {
                throw c.invalid("C \(cShape) cannot be broadcast to [\(m), \(n)]")
            }
        }
        let y = try c.defineOutput(0, shape: [m, n])
        let bConstant = c.constant(b)
        let cConstant = cID.flatMap { c.constant($0) }
        if case let .float(bt)? = bConstant, cID == nil || cConstant != nil, c.constant(a) == nil {
            // W[n×k] = alpha · op(B)ᵀ.
            // A packed load adopts the stored weights later; its placeholder is never read.
            let weights = c.compiler.packedLayers != nil ? bt.reshaped(to: [n, k]) : Tensor(shape: [n, k]) { [bv = bt.scalars] i in
                let row = i / k, col = i % k
                return alpha * (transB ? bv[row * k + col] : bv[col * n + row])
            }
            var bias: LinearOperation.Bias = .none
            if case let .float(ct)? = cConstant, beta != 0 {
                let cv = ct.scalars
                let rowsOfC = cShape.count == 2 ? cShape[0] : 1
                let colsOfC = cShape.last ?? 1
                if rowsOfC == 1 {
                    bias = .perFeature((0..<n).map { beta * cv[colsOfC == 1 ? 0 : $0] })
                } else {
                    bias = .full(Tensor(shape: [m, n]) { i in beta * cv[(i / n) * colsOfC + (colsOfC == 1 ? 0 : i % n)] })
                }
            }
            try c.add(LinearOperation(label: c.label, opType: "Gemm", input: a, output: y, rows: m, reduction: k, features: n,
                                      inputTransposed: transA, weights: weights, bias: bias))
            return
        }
        try c.add(GemmOperation(label: c.label, a: a, b: b, c: cID, output: y, m: m, n: n, k: k, transposeA: transA,
                                transposeB: transB, alpha: alpha, beta: beta, cShape: cShape))
    }

    static func lowerMatMul(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes([])
        let a = try c.floatInput(0, "A"), b = try c.floatInput(1, "B")
        let aShape = c.shape(a), bShape = c.shape(b)
        guard !aShape.isEmpty, !bShape.isEmpty else { throw c.invalid("MatMul operands must have rank ≥ 1") }
        let aMatrix = aShape.count == 1 ? [1, aShape[0]] : aShape
        let bMatrix = bShape.count == 1 ? [bShape[0], 1] : bShape
        let m = aMatrix[aMatrix.count - 2], k = aMatrix[aMatrix.count - 1]
        let kB = bMatrix[bMatrix.count - 2], n = bMatrix[bMatrix.count - 1]
        guard k == kB else { throw c.invalid("A \(aShape) and B \(bShape) disagree on K") }
        let aBatch = Array(aMatrix.dropLast(2)), bBatch = Array(bMatrix.dropLast(2))
        guard let batch = broadcastShape(aBatch, bBatch) else {
            throw c.invalid("batch dimensions of A \(aShape) and B \(bShape) are not broadcastable")
        }
        var outShape = batch
        if aShape.count > 1 { outShape.append(m) }
        if bShape.count > 1 { outShape.append(n) }
        if case let .float(bt)? = c.constant(b), bShape.count == 2, c.constant(a) == nil {
            let weights = c.compiler.packedLayers != nil ? bt.reshaped(to: [n, k]) : Tensor(shape: [n, k]) { [bv = bt.scalars] i in bv[(i % k) * n + i / k] }
            let y = try c.defineOutput(0, shape: aShape.count == 1 ? [n] : Array(aShape.dropLast()) + [n])
            try c.add(LinearOperation(label: c.label, opType: "MatMul", input: a, output: y, rows: aMatrix.dropLast().reduce(1, *),
                                      reduction: k, features: n, inputTransposed: false, weights: weights, bias: .none))
            return
        }
        // Batch offsets: plan a broadcast over the batch axes with matrix-sized elements.
        let batchCount = batch.reduce(1, *)
        func offsets(_ own: [Int], matrixSize: Int) -> [Int] {
            let padded = [Int](repeating: 1, count: batch.count - own.count) + own
            var strides = [Int](repeating: 0, count: batch.count)
            var running = matrixSize
            for i in stride(from: batch.count - 1, through: 0, by: -1) {
                strides[i] = padded[i] == 1 ? 0 : running
                running *= padded[i]
            }
            return (0..<batchCount).map { index in
                var rest = index, offset = 0
                for i in stride(from: batch.count - 1, through: 0, by: -1) {
                    offset += (rest % batch[i]) * strides[i]
                    rest /= batch[i]
                }
                return offset
            }
        }
        let y = try c.defineOutput(0, shape: outShape)
        try c.add(MatMulOperation(label: c.label, a: a, b: b, output: y, m: m, n: n, k: k,
                                  aOffsets: offsets(aBatch, matrixSize: m * k), bOffsets: offsets(bBatch, matrixSize: k * n)))
    }

    // MARK: Views

    static func lowerIdentity(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes([])
        let x = try c.input(0, "input")
        try c.defineAlias(0, of: x, shape: c.shape(x))
    }

    static func lowerDropout(_ c: NodeContext) throws {
        try c.allowOutputs(1, "the mask output (bool) is not implemented")
        try c.allowAttributes(["is_test", "ratio", "seed", "consumed_inputs"])
        if c.opset >= 12, c.optionalInput(2) != nil {
            let training = try c.constantInput(2, "training_mode").int64Values
            let ratio = c.optionalInput(1) != nil ? try c.constantInput(1, "ratio").floatValues.first ?? 0.5 : 0.5
            if training.first ?? 0 != 0 && ratio != 0 { throw c.unsupported("training_mode=true (random dropout)") }
        }
        if c.opset < 7, try c.int("is_test", default: 0) == 0 {
            // Opset < 7 exporters still mark inference graphs is_test=0; dropout at inference is identity anyway.
        }
        let x = try c.floatInput(0, "data")
        try c.defineAlias(0, of: x, shape: c.shape(x))
    }

    static func lowerFlatten(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(["axis"])
        let x = try c.input(0, "input")
        let shape = c.shape(x)
        var axis = try c.int("axis", default: 1)
        if axis < 0 { axis += shape.count }
        guard axis >= 0, axis <= shape.count else { throw c.invalid("axis \(try c.int("axis", default: 1)) is out of range for rank \(shape.count)") }
        try c.defineAlias(0, of: x, shape: [shape[..<axis].reduce(1, *), shape[axis...].reduce(1, *)])
    }

    static func lowerReshape(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(c.opset < 5 ? ["shape", "consumed_inputs"] : ["allowzero"])
        let x = try c.input(0, "data")
        let input = c.shape(x)
        let requested: [Int]
        if c.opset < 5 {
            guard let s = try c.ints("shape") else { throw c.invalid("missing attribute 'shape'") }
            requested = s
        } else {
            let s = try c.constantInput(1, "shape")
            guard s.elementType.isInteger, s.shape.count == 1 else { throw c.invalid("shape must be a 1-D integer tensor") }
            requested = s.int64Values.map { Int(clamping: $0) }
        }
        let allowZero = try c.int("allowzero", default: 0) != 0
        var out: [Int] = []
        var inferred: Int? = nil
        for (i, d) in requested.enumerated() {
            if d == 0 && !allowZero {
                guard i < input.count else { throw c.invalid("shape \(requested) copies dimension \(i) that input \(input) lacks") }
                out.append(input[i])
            } else if d == -1 {
                guard inferred == nil else { throw c.invalid("shape \(requested) has more than one -1") }
                inferred = i
                out.append(1)
            } else if d < 0 {
                throw c.invalid("shape \(requested) has a negative dimension")
            } else {
                out.append(d)
            }
        }
        let total = input.reduce(1, *)
        if let i = inferred {
            let known = out.reduce(1, *)
            guard known > 0, total % known == 0 else { throw c.invalid("cannot reshape \(input) to \(requested)") }
            out[i] = total / known
        }
        guard out.reduce(1, *) == total else { throw c.invalid("cannot reshape \(input) (\(total) elements) to \(requested)") }
        try c.defineAlias(0, of: x, shape: out)
    }

    static func axesList(_ c: NodeContext, inputIndex: Int) throws -> [Int]? {
        if c.opset < 13 { return try c.ints("axes") }
        guard c.optionalInput(inputIndex) != nil else { return nil }
        return try c.constantInput(inputIndex, "axes").int64Values.map { Int(clamping: $0) }
    }

    static func lowerSqueeze(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(c.opset < 13 ? ["axes"] : [])
        let x = try c.input(0, "data")
        let shape = c.shape(x)
        let out: [Int]
        if let axes = try axesList(c, inputIndex: 1) {
            let normalized = Set(try axes.map { try c.axis($0, rank: shape.count) })
            for a in normalized where shape[a] != 1 { throw c.invalid("cannot squeeze axis \(a) of size \(shape[a])") }
            out = shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        } else {
            out = shape.filter { $0 != 1 }
        }
        try c.defineAlias(0, of: x, shape: out)
    }

    static func lowerUnsqueeze(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(c.opset < 13 ? ["axes"] : [])
        let x = try c.input(0, "data")
        let shape = c.shape(x)
        guard let axes = try axesList(c, inputIndex: 1) else { throw c.invalid("missing axes") }
        let rank = shape.count + axes.count
        let normalized = Set(try axes.map { try c.axis($0, rank: rank) })
        guard normalized.count == axes.count else { throw c.invalid("axes \(axes) repeat an axis") }
        var out: [Int] = []
        var next = 0
        for i in 0..<rank {
            if normalized.contains(i) { out.append(1) } else { out.append(shape[next]); next += 1 }
        }
        try c.defineAlias(0, of: x, shape: out)
    }

    static func lowerConstant(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(["value", "value_float", "value_floats", "value_int", "value_ints"])
        guard c.node.attributes.count == 1, let (name, attribute) = c.node.attributes.first else {
            throw c.invalid("needs exactly one value attribute")
        }
        let value: ConstantTensor
        switch (name, attribute) {
        case let ("value", .tensor(t)): value = t
        case let ("value_float", .float(f)): value = .float(Tensor(shape: [], scalars: [f]))
        case let ("value_floats", .floats(f)): value = .float(Tensor(shape: [f.count], scalars: f))
        case let ("value_int", .int(i)): value = .integer(shape: [], values: [Int64(i)], type: .int64)
        case let ("value_ints", .ints(i)): value = .integer(shape: [i.count], values: i.map { Int64($0) }, type: .int64)
        default: throw c.invalid("attribute '\(name)' has the wrong kind")
        }
        try c.defineConstantOutput(0, value)
    }

    // MARK: Data movement

    static func lowerTranspose(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(["perm"])
        let x = try c.floatInput(0, "data")
        let shape = c.shape(x)
        let perm = try c.ints("perm") ?? Array((0..<shape.count).reversed())
        guard perm.count == shape.count, Set(perm) == Set(0..<shape.count) else {
            throw c.invalid("perm \(perm) is not a permutation of 0..<\(shape.count)")
        }
        guard shape.count <= maximumMovementRank else { throw c.unsupported("rank \(shape.count) (at most \(maximumMovementRank))") }
        let y = try c.defineOutput(0, shape: perm.map { shape[$0] })
        if perm == Array(0..<shape.count) {
            try c.add(UnaryOperation(label: c.label, input: x, output: y, count: c.compiler.values[x].count, activation: .identity))
        } else {
            try c.add(TransposeOperation(label: c.label, input: x, output: y, inputShape: shape, permutation: perm))
        }
    }

    static func lowerConcat(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(["axis"])
        let parts = try (0..<c.inputCount).map { try c.floatInput($0, "input \($0)") }
        guard let first = parts.first else { throw c.invalid("needs at least one input") }
        let rank = c.shape(first).count
        guard c.opset < 4 || c.has("axis") else { throw c.invalid("missing attribute 'axis'") }
        let axis = try c.axis(try c.int("axis", default: 1), rank: rank)
        var out = c.shape(first)
        out[axis] = 0
        for p in parts {
            let s = c.shape(p)
            guard s.count == rank, (0..<rank).allSatisfy({ $0 == axis || s[$0] == out[$0] }) else {
                throw c.invalid("input shapes \(parts.map { c.shape($0) }) differ outside axis \(axis)")
            }
            out[axis] += s[axis]
        }
        let outer = out[..<axis].reduce(1, *)
        let y = try c.defineOutput(0, shape: out)
        try c.add(ConcatOperation(label: c.label, parts: parts, output: y, outer: outer,
                                  partSizes: parts.map { c.shape($0)[axis...].reduce(1, *) }))
    }

    static func lowerPad(_ c: NodeContext) throws {
        try c.allowOutputs(1)
        let x = try c.floatInput(0, "data")
        let shape = c.shape(x)
        let rank = shape.count
        var pads: [Int]
        var value: Float = 0
        if c.opset < 11 {
            try c.allowAttributes(["mode", "pads", "paddings", "value"])
            guard let p = try c.ints("pads") ?? c.ints("paddings") else { throw c.invalid("missing attribute 'pads'") }
            pads = p
            value = try c.float("value", default: 0)
        } else {
            try c.allowAttributes(["mode"])
            pads = try c.constantInput(1, "pads").int64Values.map { Int(clamping: $0) }
            if c.optionalInput(2) != nil {
                let v = try c.constantInput(2, "constant_value").floatValues
                guard v.count == 1 else { throw c.invalid("constant_value must be a scalar") }
                value = v[0]
            }
            if c.optionalInput(3) != nil {
                let axes = try c.constantInput(3, "axes").int64Values.map { try c.axis(Int(clamping: $0), rank: rank) }
                guard pads.count == 2 * axes.count else { throw c.invalid("pads \(pads) do not match axes \(axes)") }
                var full = [Int](repeating: 0, count: 2 * rank)
                for (i, a) in axes.enumerated() { full[a] = pads[i]; full[a + rank] = pads[i + axes.count] }
                pads = full
            }
        }
        guard pads.count == 2 * rank else { throw c.invalid("pads \(pads) need \(2 * rank) values for rank \(rank)") }
        let modeName = try c.string("mode", default: "constant")
        guard let mode = PadOperation.Mode(rawValue: modeName) else { throw c.unsupported("mode '\(modeName)'") }
        guard rank <= maximumMovementRank else { throw c.unsupported("rank \(rank) (at most \(maximumMovementRank))") }
        let begin = Array(pads[..<rank]), end = Array(pads[rank...])
        let out = (0..<rank).map { shape[$0] + begin[$0] + end[$0] }
        guard out.allSatisfy({ $0 >= 0 }) else { throw c.invalid("pads \(pads) crop more than input \(shape)") }
        if mode != .constant {
            for i in 0..<rank where (begin[i] > 0 || end[i] > 0) && shape[i] == 0 { throw c.invalid("cannot \(modeName)-pad an empty axis") }
        }
        let y = try c.defineOutput(0, shape: out)
        try c.add(PadOperation(label: c.label, input: x, output: y, inputShape: shape, padsBegin: begin, padsEnd: end, mode: mode, value: value))
    }

    static func lowerSoftmax(_ c: NodeContext, logarithmic: Bool) throws {
        try c.allowOutputs(1)
        try c.allowAttributes(["axis"])
        let x = try c.floatInput(0, "input")
        let shape = c.shape(x)
        let axis = try c.axis(try c.int("axis", default: c.opset < 13 ? 1 : -1), rank: shape.count)
        let y = try c.defineOutput(0, shape: shape)
        let outer = shape[..<axis].reduce(1, *)
        if c.opset < 13 {
            try c.add(SoftmaxOperation(label: c.label, input: x, output: y, outer: outer, length: shape[axis...].reduce(1, *), inner: 1, logarithmic: logarithmic))
        } else {
            try c.add(SoftmaxOperation(label: c.label, input: x, output: y, outer: outer, length: shape.isEmpty ? 1 : shape[axis],
                                       inner: shape.isEmpty ? 1 : shape[(axis + 1)...].reduce(1, *), logarithmic: logarithmic))
        }
    }
}

extension OperatorCatalog {
    /// Input positions that must be known at load (weights, shapes, pads, bounds), per operator.
    static let parameterSlots: [String: Set<Int>] = [
        "Conv": [1, 2], "BatchNormalization": [1, 2, 3, 4], "Reshape": [1], "Pad": [1, 2, 3], "Clip": [1, 2],
        "Dropout": [1, 2], "Squeeze": [1], "Unsqueeze": [1],
    ]

    /// Graph inputs that feed a parameter slot somewhere, so a caller must bind them at load.
    package static func parameterInputNames(of graph: Graph) -> Set<String> {
        let inputs = Set(graph.inputs.map(\.name))
        var names = Set<String>()
        for node in graph.nodes {
            for slot in parameterSlots[node.opType] ?? [] where slot < node.inputs.count && inputs.contains(node.inputs[slot]) {
                names.insert(node.inputs[slot])
            }
        }
        return names
    }
}
