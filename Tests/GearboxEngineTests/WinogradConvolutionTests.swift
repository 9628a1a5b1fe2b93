// Tests for Winograd F(2×2, 3×3) convolutions inside NHWC runs: the same outputs as a direct
// reference (odd sizes leave partial edge tiles; asymmetric pads; bias, residual Add and ReLU
// fused), the same bits for any thread count, and the tiling's task split independent of threads.

import Testing
@testable import GearboxEngine

@Suite struct WinogradConvolutionTests {
    static let input = [1, 32, 13, 11]

    /// x → 3×3 (32→40) + ReLU = a → 3×3 (40→40) + a, ReLU = b → 3×3 (40→32), pads (top 0, left 2, bottom 1, right 0).
    static func chain() -> (ONNXModelBuilder, [Tensor]) {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: input)
        let w = [Tensor.random(shape: [40, 32, 3, 3], seed: 1, in: -0.3...0.3), Tensor.random(shape: [40, 40, 3, 3], seed: 2, in: -0.3...0.3),
                 Tensor.random(shape: [32, 40, 3, 3], seed: 3, in: -0.3...0.3), Tensor.random(shape: [40], seed: 4)]
        let a = b.relu(b.conv("x", weights: w[0], pads: [1, 1, 1, 1]))
        let r = b.relu(b.add(b.conv(a, weights: w[1], bias: w[3], pads: [1, 1, 1, 1]), a))
        b.addOutput(b.conv(r, weights: w[2], pads: [0, 2, 1, 0]))
        return (b, w)
    }

    static func options(threads: Int = 1, winograd: Bool = true) -> EngineOptions {
        var options = EngineOptions(threads: threads)
        options.winogradConvolutions = winograd
        return options
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels) func aChainOfThreeByThreeLayersMatchesTheDirectReference() throws {
        let (builder, w) = Self.chain()
        let model = try load(builder, Self.options())
        #expect(model.convolutionKernels["winograd"] == 3)
        let x = Tensor.random(shape: Self.input, seed: 9)
        let relu = { (t: Tensor) in Tensor(shape: t.shape) { max(0, t.scalars[$0]) } }
        let one = (1, 1), same = (1, 1, 1, 1)
        let a = relu(referenceConv(x, w[0], bias: nil, stride: one, pads: same, dilation: one, groups: 1))
        let z = referenceConv(a, w[1], bias: w[3].scalars, stride: one, pads: same, dilation: one, groups: 1)
        let r = relu(Tensor(shape: z.shape) { z.scalars[$0] + a.scalars[$0] })
        let expected = referenceConv(r, w[2], bias: nil, stride: one, pads: (0, 2, 1, 0), dilation: one, groups: 1)
        let y = try #require(try model.run(["x": x]).values.first)
        #expect(y.shape == expected.shape)
        #expect(maxRelativeError(y, expected) < 1e-4)
        let direct = try #require(try load(builder, Self.options(winograd: false)).run(["x": x]).values.first)
        #expect(maxRelativeError(y, direct) < 1e-4, "Winograd and XNNPACK agree")
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels) func outputsAreTheSameBitsForOneTwoAndThreeThreads() throws {
        let (builder, _) = Self.chain()
        let one = try runRandom(try load(builder, Self.options(threads: 1)))
        for threads in [2, 3] {
            #expect(bits(try runRandom(try load(builder, Self.options(threads: threads)))) == bits(one), "\(threads) threads")
        }
    }

    @Test func tilingDependsOnTheShapeOnlyAndCoversEveryTile() {
        var g = ConvGeometry()
        (g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth) = (64, 64, 3, 3)
        (g.inHeight, g.inWidth, g.outHeight, g.outWidth) = (56, 56, 56, 56)
        let tiling = WinogradTiling(g)
        #expect(tiling.tiles == 28 * 28)
        #expect(tiling.tasks % 4 == 0 && tiling.tasks * tiling.tilesPerTask >= tiling.tiles)
        #expect((tiling.tasks - 1) * tiling.tilesPerTask < tiling.tiles, "no empty task")
        #expect(tiling.scratchFloats(g) <= WinogradTiling.scratchBudgetFloats)
        (g.inHeight, g.inWidth, g.outHeight, g.outWidth) = (8, 8, 8, 8)
        #expect(WinogradTiling.applies(to: g), "an 8×8 output (16 tiles) of 64 channels: the matrices stay in cache")
        (g.inChannels, g.outChannels) = (512, 512)
        #expect(!WinogradTiling.applies(to: g), "16 tiles of 512 channels stream 16 MiB per task: XNNPACK")
        (g.inHeight, g.inWidth, g.outHeight, g.outWidth) = (6, 6, 6, 6)
        (g.inChannels, g.outChannels) = (64, 64)
        #expect(!WinogradTiling.applies(to: g), "a 6×6 output (9 tiles) stays on XNNPACK")
        (g.inHeight, g.inWidth, g.outHeight, g.outWidth) = (14, 14, 14, 14)
        (g.inChannels, g.outChannels) = (512, 512)
        #expect(WinogradTiling.applies(to: g), "49 tiles pay for streaming the matrices")
        (g.inChannels, g.outChannels) = (64, 64)
        (g.inHeight, g.inWidth, g.outHeight, g.outWidth) = (56, 56, 56, 56)
        g.strideHeight = 2
        #expect(!WinogradTiling.applies(to: g), "stride 2 stays on XNNPACK")
        g.strideHeight = 1
        g.inChannels = 36
        #expect(!WinogradTiling.applies(to: g), "channels not a multiple of 8 stay on XNNPACK")
        g.inChannels = 16
        #expect(!WinogradTiling.applies(to: g), "fewer than 32 input channels stay on XNNPACK")
    }
}
