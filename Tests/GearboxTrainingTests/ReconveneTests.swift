// Tests for GearboxTraining/Reconvene: almost-empty filters (at most the threshold's fraction of
// their weights left) are pruned whole and counted, empty and fuller ones are not, unmasked convs
// are left alone, and conversion then removes them; SNIP prunes the requested fraction globally,
// by |g·w| (a zero weight goes first), deterministically, and leaves no gradient behind.

import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxTraining

private let dataPresent = FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/train-images-idx3-ubyte.gz")

/// conv1 1→4, conv2 4→6 (36 weights a filter), conv3 6→6 (54), conv4 6→8.
private func network(seed: UInt64 = 21) -> Network {
    var random = SeededRandom(seed: seed)
    return ModelKind.cnn(widths: [4, 6, 6, 8], inputShape: [1, 12, 12], classes: 5, random: &random)
}

private func conv(_ network: Network, _ name: String) -> Conv2d? {
    guard let node = network.nodes.first(where: { $0.name == name }), case let .conv(c) = node.op else { return nil }
    return c
}

/// Masks `c` so that filter `filter` keeps only its first `left` weights (others keep all).
private func keep(_ c: Conv2d, filter: Int, left: Int) {
    var mask = c.weight.mask ?? [Float](repeating: 1, count: c.weight.count)
    for j in 0..<c.columns { mask[filter * c.columns + j] = j < left ? 1 : 0 }
    c.weight.mask = mask
    c.weight.applyMask()
}

private func filterKept(_ c: Conv2d, _ filter: Int) -> Int {
    guard let mask = c.weight.mask else { return c.columns }
    return mask[(filter * c.columns)..<((filter + 1) * c.columns)].filter { $0 != 0 }.count
}

@Suite struct ReconveneTests {
    @Test func filtersWithAtMostFivePercentLeftArePrunedAndCounted() throws {
        let net = network()
        let conv2 = try #require(conv(net, "conv2"))
        let conv3 = try #require(conv(net, "conv3"))
        try #require(conv2.columns == 36 && conv3.columns == 54)
        keep(conv2, filter: 0, left: 1)  // 2.8 %: pruned
        keep(conv2, filter: 1, left: 2)  // 5.6 %: kept
        keep(conv2, filter: 2, left: 0)  // already empty: not counted again
        keep(conv3, filter: 0, left: 2)  // 3.7 %: pruned
        keep(conv3, filter: 1, left: 3)  // 5.6 %: kept
        let conv1Before = try #require(conv(net, "conv1")).weight.value

        let pruned = Reconvene.pruneAlmostEmptyFilters(net, threshold: Reconvene.almostEmpty)
        #expect(pruned == 2)
        #expect([0, 1, 2, 3, 4, 5].map { filterKept(conv2, $0) } == [0, 2, 0, 36, 36, 36])
        #expect([0, 1, 2, 3, 4, 5].map { filterKept(conv3, $0) } == [0, 3, 54, 54, 54, 54])
        // The pruned filter's weight and bias are zero; the kept ones keep their values.
        #expect(conv2.weight.value[0..<36].allSatisfy { $0 == 0 })
        #expect(conv2.bias?.value[0] == 0)
        #expect(conv2.weight.value[36..<38].allSatisfy { $0 != 0 })
        // Convs without a mask are not touched.
        let conv1 = try #require(conv(net, "conv1"))
        #expect(conv1.weight.mask == nil)
        #expect(conv1.weight.value == conv1Before)
    }

    @Test func aFilterExactlyAtTheThresholdIsPrunedOneWeightMoreIsKept() throws {
        let net = network()
        let conv2 = try #require(conv(net, "conv2"))
        keep(conv2, filter: 3, left: 9)  // 9 of 36 = 25 %
        keep(conv2, filter: 4, left: 10)
        #expect(Reconvene.pruneAlmostEmptyFilters(net, threshold: 0.25) == 1)
        #expect(filterKept(conv2, 3) == 0)
        #expect(filterKept(conv2, 4) == 10)
    }

    @Test func conversionRemovesThePrunedAndTheEmptyFilters() throws {
        let net = network()
        let conv2 = try #require(conv(net, "conv2"))
        keep(conv2, filter: 0, left: 1)
        keep(conv2, filter: 2, left: 0)
        let conv3 = try #require(conv(net, "conv3"))
        keep(conv3, filter: 5, left: 1)
        #expect(Reconvene.pruneAlmostEmptyFilters(net, threshold: Reconvene.almostEmpty) == 2)
        let (small, removed) = StructuredConversion.convert(net)
        #expect(removed == 3)
        #expect(conv(small, "conv2")?.outChannels == 4)
        #expect(conv(small, "conv3")?.inChannels == 4)
        #expect(conv(small, "conv3")?.outChannels == 5)
        #expect(small.parameterCount < net.parameterCount)
    }

    @Test(.enabled(if: dataPresent, "needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"))
    func snipPrunesTheRequestedFractionByGradientTimesWeightAndLeavesNoGradient() throws {
        let ctx = try BuildContextTests.context(in: ScratchDirectory("reconvene"), method: .reconvene, seed: 5, fresh: true)

        let net = ctx.makeNetwork(seed: 1)
        let total = net.prunableWeights.reduce(0) { $0 + $1.count }
        // Weights that are exactly zero have zero saliency, whatever their gradient.
        let zeroed = 0..<10
        let first = try #require(net.prunableWeights.dropFirst().first)
        for i in zeroed { first.value[i] = 0 }
        let magnitude = net.copy()

        Reconvene.snipPrune(net, sparsity: 0.5, ctx: ctx)
        let kept = net.prunableWeights.reduce(0) { $0 + $1.keptCount }
        #expect(kept == total - Int((0.5 * Double(total)).rounded()))
        #expect(zeroed.allSatisfy { first.mask?[$0] == 0 })
        #expect(net.parameters.allSatisfy { $0.grad.allSatisfy { $0 == 0 } })

        // The same context and network prune the same weights; magnitude alone prunes others.
        let again = ctx.makeNetwork(seed: 1)
        for i in zeroed { again.prunableWeights[1].value[i] = 0 }
        Reconvene.snipPrune(again, sparsity: 0.5, ctx: ctx)
        #expect(again.prunableWeights.map(\.mask) == net.prunableWeights.map(\.mask))
        MagnitudePruning.pruneGlobally(magnitude, fraction: 0.5)
        #expect(magnitude.prunableWeights.map(\.mask) != net.prunableWeights.map(\.mask))
    }
}
