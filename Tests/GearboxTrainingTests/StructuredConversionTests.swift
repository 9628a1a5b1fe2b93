// Tests for lossless structured conversion: channels whose filters are pruned (with their bias
// and BatchNorm entry) or whose consumers ignore them disappear, and outputs stay the same.

import GearboxTestSupport
import Testing
@testable import GearboxTraining

private func randomInput(n: Int, size: Int, seed: UInt64) -> TrainingTensor {
    var random = SeededRandom(seed: seed)
    return TrainingTensor(shape: [1, n, size, size], data: (0..<(n * size * size)).map { _ in random.nextNormal() })
}

/// Masks whole output filters of a conv (and, through propagation, its bias / BatchNorm).
private func killFilters(_ network: Network, node name: String, _ filters: [Int]) {
    guard let node = network.nodes.first(where: { $0.name == name }), case let .conv(c) = node.op else {
        Issue.record("no conv named \(name)")
        return
    }
    var mask = c.weight.mask ?? [Float](repeating: 1, count: c.weight.count)
    for f in filters { for j in 0..<c.columns { mask[f * c.columns + j] = 0 } }
    c.weight.mask = mask
    c.weight.applyMask()
    MagnitudePruning.propagateDeadChannels(network)
}

private func convs(_ network: Network) -> [String: Conv2d] {
    var out: [String: Conv2d] = [:]
    for node in network.nodes { if case let .conv(c) = node.op { out[node.name] = c } }
    return out
}

private func maxDifference(_ a: Network, _ b: Network, _ x: TrainingTensor) -> Float {
    let ya = a.forward(x, training: false).logits.data
    let yb = b.forward(x, training: false).logits.data
    return zip(ya, yb).map { abs($0 - $1) }.max() ?? 0
}

@Test func deadFiltersAreRemovedFromTheCNNWithoutChangingOutputs() {
    var random = SeededRandom(seed: 9)
    let net = ModelKind.cnn(widths: [4, 6, 6, 8], inputShape: [1, 12, 12], classes: 5, random: &random)
    // Give biases values so that a forgotten bias would change the outputs.
    for p in net.parameters where p.role == .bias { for i in 0..<p.count { p.value[i] = 0.1 * Float(i + 1) } }
    killFilters(net, node: "conv1", [1])
    killFilters(net, node: "conv2", [0, 5])
    killFilters(net, node: "conv4", [2, 3, 7])
    let (small, removed) = StructuredConversion.convert(net)
    let c = convs(small)
    #expect(c["conv1"]?.outChannels == 3)
    #expect(c["conv2"]?.outChannels == 4 && c["conv2"]?.inChannels == 3)
    #expect(c["conv4"]?.outChannels == 5)
    #expect(removed == 6)
    #expect(small.parameterCount < net.parameterCount)
    #expect(small.denseMACs < net.denseMACs)
    #expect(maxDifference(net, small, randomInput(n: 3, size: 12, seed: 4)) < 1e-5)
}

@Test func channelsNoLayerReadsAreRemovedToo() {
    var random = SeededRandom(seed: 10)
    let net = ModelKind.cnn(widths: [4, 4, 4, 4], inputShape: [1, 8, 8], classes: 3, random: &random)
    // conv3 ignores input channel 2 of conv2's output: conv2's filter 2 does useless work.
    guard case let .conv(conv3) = net.nodes.first(where: { $0.name == "conv3" })!.op else { Issue.record("conv3 is not a convolution"); return }
    var mask = [Float](repeating: 1, count: conv3.weight.count)
    for o in 0..<conv3.outChannels { for j in 0..<9 { mask[o * conv3.columns + 2 * 9 + j] = 0 } }
    conv3.weight.mask = mask
    conv3.weight.applyMask()
    let (small, removed) = StructuredConversion.convert(net)
    #expect(removed == 1)
    #expect(convs(small)["conv2"]?.outChannels == 3)
    #expect(maxDifference(net, small, randomInput(n: 2, size: 8, seed: 5)) < 1e-5)
}

@Test func residualNetworksKeepStreamChannelsOthersStillRead() {
    var random = SeededRandom(seed: 11)
    let net = ModelKind.resnet(widths: [4, 6], inputShape: [1, 8, 8], classes: 3, random: &random)
    // Train-mode passes give BatchNorm non-trivial running statistics.
    for _ in 0..<3 { _ = net.forward(randomInput(n: 4, size: 8, seed: 6), training: true) }
    killFilters(net, node: "block1.conv1", [0, 2])  // block-internal: removable
    killFilters(net, node: "block1.conv2", [1])  // stream channel 1: the stem still writes it, so it stays
    let (small, removed) = StructuredConversion.convert(net)
    let c = convs(small)
    #expect(c["block1.conv1"]?.outChannels == 2)
    #expect(c["block1.conv2"]?.outChannels == 4)
    #expect(removed == 2)
    #expect(maxDifference(net, small, randomInput(n: 2, size: 8, seed: 7)) < 1e-4)
}

@Test func aStreamChannelDeadEverywhereIsRemovedFromEveryLayerThatTouchesIt() {
    var random = SeededRandom(seed: 12)
    let net = ModelKind.resnet(widths: [4, 6], inputShape: [1, 8, 8], classes: 3, random: &random)
    for _ in 0..<3 { _ = net.forward(randomInput(n: 4, size: 8, seed: 8), training: true) }
    killFilters(net, node: "stem", [3])
    killFilters(net, node: "block1.conv2", [3])
    let (small, _) = StructuredConversion.convert(net)
    let c = convs(small)
    #expect(c["stem"]?.outChannels == 3)
    #expect(c["block1.conv1"]?.inChannels == 3)
    #expect(c["block1.conv2"]?.outChannels == 3)
    #expect(c["block2.proj"]?.inChannels == 3)
    #expect(maxDifference(net, small, randomInput(n: 2, size: 8, seed: 9)) < 1e-4)
}

@Test func globalMagnitudePruningPrunesTheRequestedFractionOfRemainingWeights() {
    var random = SeededRandom(seed: 13)
    let net = ModelKind.cnn(widths: [4, 4, 4, 4], inputShape: [1, 8, 8], classes: 3, random: &random)
    let total = net.prunableWeights.reduce(0) { $0 + $1.count }
    MagnitudePruning.pruneGlobally(net, fraction: 0.2)
    let kept1 = net.prunableWeights.reduce(0) { $0 + $1.keptCount }
    #expect(kept1 == total - Int((0.2 * Double(total)).rounded()))
    MagnitudePruning.pruneGlobally(net, fraction: 0.2)
    let kept2 = net.prunableWeights.reduce(0) { $0 + $1.keptCount }
    #expect(kept2 == kept1 - Int((0.2 * Double(kept1)).rounded()))
    // The smallest surviving magnitude is at least the largest pruned one.
    let weights = net.prunableWeights
    let survivors = weights.flatMap { p in (0..<p.count).filter { p.mask![$0] != 0 }.map { abs(p.value[$0]) } }
    #expect(survivors.allSatisfy { $0 != 0 })
}

@Test func checkpointsRoundTripAndRejectTruncation() throws {
    var random = SeededRandom(seed: 14)
    let net = ModelKind.resnet(widths: [2, 3], inputShape: [1, 6, 6], classes: 3, random: &random)
    MagnitudePruning.pruneGlobally(net, fraction: 0.5)
    let scratch = ScratchDirectory("ck")
    let path = scratch.file("resnet.gbck")
    try NetworkState(of: net, metadata: ["round": "3"]).write(to: path)
    let state = try NetworkState.read(from: path)
    #expect(state.metadata["round"] == "3")
    var r2 = SeededRandom(seed: 99)
    let other = ModelKind.resnet(widths: [2, 3], inputShape: [1, 6, 6], classes: 3, random: &r2)
    try state.restore(into: other)
    let x = randomInput(n: 2, size: 6, seed: 1)
    #expect(maxDifference(net, other, x) == 0)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    try data.prefix(data.count - 3).write(to: URL(fileURLWithPath: path))
    #expect(throws: TrainingError.self) { try NetworkState.read(from: path) }
}

import Foundation
