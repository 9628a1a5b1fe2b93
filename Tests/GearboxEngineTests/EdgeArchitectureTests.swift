// Tests for the edge architectures' layers and models: the vectorised depthwise kernel (stride,
// padding, dilation, channel multiplier, fused bias/residual/ReLU6) against a direct-loop
// reference, ReLU6 in both Clip forms, and the generated MobileNetV2 / ResNet-18 against the
// engine's plain reference path (no fusion, OpenBLAS im2col, scalar depthwise loop).

import GearboxCore
import Testing
@testable import GearboxEngine

@Suite struct EdgeArchitectureTests {
    struct DepthwiseCase: CustomTestStringConvertible, Sendable {
        var channels = 8, multiplier = 1, size = 37, kernel = 3, stride = 1, pad = 1, dilation = 1
        var testDescription: String { "c\(channels)×\(multiplier) \(size)px k\(kernel) s\(stride) p\(pad) d\(dilation)" }
    }

    static let depthwiseCases: [DepthwiseCase] = [
        DepthwiseCase(),                                           // 3×3 stride 1: the register-resident row kernel
        DepthwiseCase(stride: 2),                                  // 3×3 stride 2: even/odd lanes
        DepthwiseCase(size: 36, stride: 2),                        // even width: the last vector stays in the row
        DepthwiseCase(size: 40, stride: 2, pad: 0),                // no padding
        DepthwiseCase(size: 33, pad: 2, dilation: 2),              // dilated: the general interior kernel
        DepthwiseCase(channels: 4, multiplier: 2, size: 30),       // channel multiplier 2
        DepthwiseCase(channels: 3, multiplier: 3, size: 29, stride: 2), // multiplier 3, stride 2
        DepthwiseCase(size: 25, kernel: 5, pad: 2),                // 5×5
        DepthwiseCase(size: 31, kernel: 3, stride: 3, pad: 1),     // stride 3: the checked path
        DepthwiseCase(size: 7, kernel: 3),                         // a 7×7 plane: no full vector
    ]

    @Test(arguments: depthwiseCases)
    func depthwiseMatchesTheDirectReference(_ c: DepthwiseCase) throws {
        let out = c.channels * c.multiplier
        let w = Tensor.random(shape: [out, 1, c.kernel, c.kernel], seed: 21)
        let bias = Tensor.random(shape: [out], seed: 22)
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, c.channels, c.size, c.size])
        b.addOutput(b.conv("x", weights: w, bias: bias, strides: [c.stride, c.stride], pads: [c.pad, c.pad, c.pad, c.pad],
                           dilations: [c.dilation, c.dilation], group: c.channels))
        let x = Tensor.random(shape: [1, c.channels, c.size, c.size], seed: 23)
        let expected = referenceConv(x, w, bias: bias.scalars, stride: (c.stride, c.stride), pads: (c.pad, c.pad, c.pad, c.pad),
                                     dilation: (c.dilation, c.dilation), groups: c.channels)
        var outputs: [Tensor] = []
        for (threads, kernel) in [(1, DenseConvolutionKernel.automatic), (2, .automatic), (1, .openBLAS)] {
            var options = EngineOptions(threads: threads)
            options.denseConvolutionKernel = kernel
            let model = try load(b, options)
            let expectedKernel = kernel == .openBLAS || !KernelSupport.packedKernelsAvailable ? "depthwise-plain" : "depthwise"
            #expect(model.convolutionKernels[expectedKernel] == 1)
            let y = try #require(try model.run(["x": x]).values.first)
            #expect(y.shape == expected.shape)
            #expect(maxRelativeError(y, expected) < 1e-5, "\(kernel), \(threads) threads")
            outputs.append(y)
        }
        #expect(bits(outputs[0]) == bits(outputs[1]), "1 and 2 threads give the same bits")
    }

    /// x → depthwise 3×3 (+bias) → Add(x) → ReLU6 as Clip, in the opset-6 form (attributes) or
    /// the opset-11+ form (constant inputs).
    static func depthwiseResidualReLU6(opset: Int, weights: Tensor, bias: Tensor, channels: Int, size: Int) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(opset: opset)
        b.addInput("x", shape: [1, channels, size, size])
        let y = b.add(b.conv("x", weights: weights, bias: bias, pads: [1, 1, 1, 1], group: channels), "x")
        if opset < 11 {
            b.addOutput(b.unary("Clip", y, attributes: ["min": .float(0), "max": .float(6)]))
        } else {
            b.addInitializer("lo", Tensor(shape: [], scalars: [0]))
            b.addInitializer("hi", Tensor(shape: [], scalars: [6]))
            b.addNode("Clip", inputs: [y, "lo", "hi"], outputs: ["clipped"])
            b.addOutput("clipped")
        }
        return b
    }

    @Test(arguments: [6, 13])
    func reLU6InEitherClipFormFusesIntoTheDepthwiseKernel(opset: Int) throws {
        let channels = 6, size = 26
        // Weights large enough that outputs cross both 0 and 6.
        let w = Tensor.random(shape: [channels, 1, 3, 3], seed: 31, in: -3...3)
        let bias = Tensor.random(shape: [channels], seed: 32, in: -2...2)
        let x = Tensor.random(shape: [1, channels, size, size], seed: 33, in: -3...3)
        let conv = referenceConv(x, w, bias: bias.scalars, stride: (1, 1), pads: (1, 1, 1, 1), dilation: (1, 1), groups: channels)
        let expected = Tensor(shape: conv.shape) { i in min(max(conv.scalars[i] + x.scalars[i], 0), 6) }
        #expect(expected.scalars.contains(0) && expected.scalars.contains(6), "the clamp is exercised at both ends")
        let model = try load(Self.depthwiseResidualReLU6(opset: opset, weights: w, bias: bias, channels: channels, size: size))
        #expect(model.planLabels.map(\.opType) == ["Conv"], "Add and Clip run in the convolution's epilogue")
        let y = try #require(try model.run(["x": x]).values.first)
        #expect(maxRelativeError(y, expected) < 1e-5)
    }

    /// The engine's plain reference path: no fusion, im2col + OpenBLAS, the scalar depthwise loop.
    static var plainReference: EngineOptions {
        var options = EngineOptions(threads: 1, fusesOperators: false)
        options.denseConvolutionKernel = .openBLAS
        return options
    }

    static let generatedModels: [(name: String, builder: @Sendable () -> ONNXModelBuilder)] = [
        ("mobilenetv2-1.0-64", { SyntheticModels.mobileNetV2(imageSize: 64, classes: 10) }),
        ("mobilenetv2-0.5-64", { SyntheticModels.mobileNetV2(imageSize: 64, widthMultiplier: 0.5, classes: 10) }),
        ("resnet18-64", { SyntheticModels.resNet18(imageSize: 64, classes: 10) }),
    ]

    @Test(arguments: generatedModels.indices)
    func generatedModelsMatchThePlainReferencePath(_ index: Int) throws {
        let (name, makeBuilder) = Self.generatedModels[index]
        let builder = makeBuilder()
        let reference = try runRandom(try load(builder, Self.plainReference))
        let one = try runRandom(try load(builder, EngineOptions(threads: 1)))
        let two = try runRandom(try load(builder, EngineOptions(threads: 2)))
        #expect(one.shape == [1, 10])
        #expect(maxRelativeError(one, reference) < 1e-3, "\(name)")
        #expect(bits(one) == bits(two), "\(name): 1 and 2 threads give the same bits")
    }

    @Test func profiledStepsCarryTheirMACsAndKernel() throws {
        let model = try load(SyntheticModels.mobileNetV2(imageSize: 32, widthMultiplier: 0.5, classes: 10))
        let steps = model.profileSteps(runs: 2, warmupRuns: 1)
        #expect(steps.reduce(0) { $0 + $1.macs } == model.statistics.macs, "every MAC belongs to one step")
        let depthwise = steps.filter { ["depthwise", "depthwise-plain", "xnnpack-depthwise", "depthwise-nhwc"].contains($0.kernel) }
        #expect(depthwise.count == 17, "MobileNetV2 has 17 depthwise layers")
        #expect(depthwise.allSatisfy { $0.macs > 0 && $0.opType == "Conv" })
        #expect(steps.filter { $0.opType != "Conv" && $0.opType != "Gemm" }.allSatisfy { $0.macs == 0 && $0.kernel == nil })
    }

    @Test func widthMultiplierRoundsChannelsAsMobileNetDoes() {
        #expect(SyntheticModels.divisibleWidth(32 * 0.5) == 16)
        #expect(SyntheticModels.divisibleWidth(16 * 0.35) == 8)
        #expect(SyntheticModels.divisibleWidth(24 * 0.75) == 24, "18 rounds to 16, which loses more than 10%")
        #expect(SyntheticModels.divisibleWidth(1280 * 1.4) == 1792)
    }

    @Test func resNetBuildersHaveThePublishedDepths() throws {
        func convolutions(_ b: ONNXModelBuilder) throws -> Int {
            try load(b, EngineOptions(fusesOperators: true)).convolutionKernels.values.reduce(0, +)
        }
        // 1 stem + 2 per basic block + 3 projections: 20 (ResNet-18), 36 (ResNet-34).
        #expect(try convolutions(SyntheticModels.resNet18(imageSize: 32, classes: 10)) == 20)
        #expect(try convolutions(SyntheticModels.resNet34(imageSize: 32, classes: 10)) == 36)
    }
}
