// Tests for GearboxTraining/ChannelAnalysis: which channels a structured conversion may drop.
// A channel is removable exactly when its producers' filters are dead; the network's input and
// output spaces are never touched; and a space always keeps at least one channel.

import Testing
@testable import GearboxTraining

/// A small CNN with the first convolution's `filters` masked to zero (with their bias and
/// BatchNorm entries, as pruning leaves them), and the index of that convolution's node.
private func cnn(deadFiltersOfFirstConv filters: [Int]) throws -> (network: Network, node: Int, channels: Int) {
    var random = SeededRandom(seed: 5)
    let network = ModelKind.cnn(widths: [4, 6, 6, 8], inputShape: [1, 12, 12], classes: 5, random: &random)
    let index = try #require(network.nodes.firstIndex { if case .conv = $0.op { return true } else { return false } })
    guard case let .conv(conv) = network.nodes[index].op else { throw ChannelAnalysisTestError() }
    var mask = conv.weight.mask ?? [Float](repeating: 1, count: conv.weight.count)
    for filter in filters { for j in 0..<conv.columns { mask[filter * conv.columns + j] = 0 } }
    conv.weight.mask = mask
    conv.weight.applyMask()
    MagnitudePruning.propagateDeadChannels(network)
    return (network, index, conv.outChannels)
}

private struct ChannelAnalysisTestError: Error {}

@Test func aDenseNetworkHasNothingToRemove() throws {
    let (network, _, _) = try cnn(deadFiltersOfFirstConv: [])
    #expect(ChannelAnalysis(network).removableCount == 0)
}

@Test func exactlyTheDeadFiltersChannelsAreRemovable() throws {
    let (network, node, channels) = try cnn(deadFiltersOfFirstConv: [1, 2])
    let analysis = ChannelAnalysis(network)
    let space = analysis.spaceOfTensor[node + 1]
    #expect(analysis.channelCount[space] == channels)
    #expect(analysis.zeroChannels[node + 1].indices.filter { analysis.zeroChannels[node + 1][$0] } == [1, 2])
    #expect(analysis.removable[space].indices.filter { analysis.removable[space][$0] } == [1, 2])
    #expect(analysis.kept[space] == (0..<channels).filter { $0 != 1 && $0 != 2 })
    #expect(analysis.removableCount == 2)
}

@Test func theInputAndOutputSpacesAreProtected() throws {
    let (network, _, _) = try cnn(deadFiltersOfFirstConv: [0])
    let analysis = ChannelAnalysis(network)
    let input = analysis.spaceOfTensor[0], output = analysis.spaceOfTensor[network.outputID]
    #expect(analysis.isProtected[input] && analysis.isProtected[output])
    #expect(!analysis.removable[input].contains(true))
    #expect(!analysis.removable[output].contains(true))
}

@Test func aSpaceWithEveryFilterDeadKeepsOneChannel() throws {
    let (network, node, channels) = try cnn(deadFiltersOfFirstConv: Array(0..<4))
    let analysis = ChannelAnalysis(network)
    let space = analysis.spaceOfTensor[node + 1]
    #expect(channels == 4)
    #expect(analysis.kept[space] == [0])
}
