// Tests for GearboxTraining/Pruning/MagnitudePruning on a hand-built network whose every weight
// is chosen: which weights global magnitude pruning masks (ranked across layers, ties by
// position, already-pruned weights never re-counted, the count rounded), pruning by a custom
// score, dead-filter propagation into the bias and the BatchNorm reading the conv directly (and
// no other), and copying masks between networks of one architecture.

import Testing

@testable import GearboxTraining

@Suite struct MagnitudePruningTests {
    /// c1 (conv 1→2, 2×2, bias) → bn1 → relu → c2 (conv 2→2, 1×1, no bias) → relu → bn2 → flatten → fc (2→2).
    /// Prunable: c1.weight (8), c2.weight (4), fc.weight (4).
    static func network(
        c1: [Float] = [0.9, -0.1, 0.5, -0.6, 0.7, 0.2, -0.8, 0.3], c2: [Float] = [0.05, -0.4, 1.1, -1.2],
        fc: [Float] = [0.15, -0.25, 1.3, 0.35]
    ) -> Network {
        func parameter(_ name: String, _ shape: [Int], _ role: Parameter.Role, _ value: [Float]) -> Parameter {
            Parameter(name: name, shape: shape, role: role, value: value)
        }
        func batchNorm(_ name: String) -> BatchNorm {
            BatchNorm(scale: parameter(name + ".scale", [2], .scale, [1.5, 2.5]), shift: parameter(name + ".shift", [2], .shift, [0.3, 0.4]),
                      runningMean: [0.5, 0.7], runningVariance: [2, 3], epsilon: 1e-5, momentum: 0.1)
        }
        let conv1 = Conv2d(weight: parameter("c1.weight", [2, 1, 2, 2], .weight, c1), bias: parameter("c1.bias", [2], .bias, [0.1, 0.2]),
                           stride: 1, padding: 0)
        let conv2 = Conv2d(weight: parameter("c2.weight", [2, 2, 1, 1], .weight, c2), bias: nil, stride: 1, padding: 0)
        let linear = Linear(weight: parameter("fc.weight", [2, 2], .weight, fc), bias: parameter("fc.bias", [2], .bias, [0, 0]))
        return Network(family: "cnn", inputShape: [1, 2, 2], classes: 2, nodes: [
            LayerNode(name: "c1", op: .conv(conv1), inputs: [0]),
            LayerNode(name: "bn1", op: .batchNorm(batchNorm("bn1")), inputs: [1]),
            LayerNode(name: "r1", op: .relu, inputs: [2]),
            LayerNode(name: "c2", op: .conv(conv2), inputs: [3]),
            LayerNode(name: "r2", op: .relu, inputs: [4]),
            LayerNode(name: "bn2", op: .batchNorm(batchNorm("bn2")), inputs: [5]),
            LayerNode(name: "flat", op: .flatten, inputs: [6]),
            LayerNode(name: "fc", op: .linear(linear), inputs: [7]),
        ])
    }

    static func parameter(_ network: Network, _ name: String) throws -> Parameter {
        try #require(network.parameters.first { $0.name == name })
    }

    static func batchNorm(_ network: Network, _ name: String) throws -> BatchNorm {
        let node = try #require(network.nodes.first { $0.name == name })
        guard case let .batchNorm(b) = node.op else { throw TestFailure("\(name) is not a BatchNorm") }
        return b
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: pruneGlobally

    @Test func theSmallestMagnitudesAcrossAllLayersArePrunedAndZeroed() throws {
        let net = Self.network()
        // |w| ascending: 0.05 (c2), 0.1 (c1), 0.15 (fc), 0.2 (c1) are the 4 = 25% of 16.
        MagnitudePruning.pruneGlobally(net, fraction: 0.25)
        let c1 = try Self.parameter(net, "c1.weight"), c2 = try Self.parameter(net, "c2.weight"), fc = try Self.parameter(net, "fc.weight")
        #expect(c1.mask == [1, 0, 1, 1, 1, 0, 1, 1])
        #expect(c2.mask == [0, 1, 1, 1])
        #expect(fc.mask == [0, 1, 1, 1])
        #expect(c1.value == [0.9, 0, 0.5, -0.6, 0.7, 0, -0.8, 0.3])
        #expect(c2.value == [0, -0.4, 1.1, -1.2])
        #expect(fc.value == [0, -0.25, 1.3, 0.35])
        // No filter died: biases and BatchNorms are untouched.
        #expect(try Self.parameter(net, "c1.bias").mask == nil)
        #expect(try Self.parameter(net, "bn1.scale").mask == nil)
        #expect(try Self.parameter(net, "fc.bias").mask == nil)
    }

    @Test func aSecondRoundRanksOnlyTheWeightsStillKept() throws {
        let net = Self.network()
        MagnitudePruning.pruneGlobally(net, fraction: 0.25)
        // 12 kept; half of them: 0.25 (fc), 0.3 (c1), 0.35 (fc), 0.4 (c2), 0.5 (c1), 0.6 (c1). The
        // zeros left by the first round would rank first if they were counted again.
        MagnitudePruning.pruneGlobally(net, fraction: 0.5)
        #expect(try Self.parameter(net, "c1.weight").mask == [1, 0, 0, 0, 1, 0, 1, 0])
        #expect(try Self.parameter(net, "c2.weight").mask == [0, 0, 1, 1])
        #expect(try Self.parameter(net, "fc.weight").mask == [0, 0, 1, 0])
        #expect(net.prunableWeights.map(\.keptCount) == [3, 2, 1])
    }

    @Test func aFilterPrunedAwayOnlyTouchesABatchNormThatReadsTheConvDirectly() throws {
        let net = Self.network()
        MagnitudePruning.pruneGlobally(net, fraction: 0.25)
        MagnitudePruning.pruneGlobally(net, fraction: 0.5)
        // c2's filter 0 (weights 0 and 1) is gone, but bn2 reads c2 through a ReLU: left alone.
        let bn2 = try Self.batchNorm(net, "bn2")
        #expect(bn2.scale.mask == nil && bn2.shift.mask == nil)
        #expect(bn2.runningMean == [0.5, 0.7])
        #expect(bn2.runningVariance == [2, 3])
    }

    @Test func equalMagnitudesArePrunedInLayerThenPositionOrder() throws {
        let net = Self.network(c1: [Float](repeating: 2, count: 8), c2: [1, -1, 1, -1], fc: [-1, 1, -1, 1])
        // 3 of 16 (0.1875): the first three of the eight weights of magnitude 1, c2 before fc.
        MagnitudePruning.pruneGlobally(net, fraction: 0.1875)
        #expect(try Self.parameter(net, "c2.weight").mask == [0, 0, 0, 1])
        #expect(try Self.parameter(net, "fc.weight").mask == [1, 1, 1, 1], "every prunable weight gets a mask")
        #expect(try Self.parameter(net, "c1.weight").mask == [Float](repeating: 1, count: 8))
        MagnitudePruning.pruneGlobally(net, fraction: 0.2)  // 0.2 × 13 = 2.6 → 3
        #expect(try Self.parameter(net, "c2.weight").mask == [0, 0, 0, 0])
        #expect(try Self.parameter(net, "fc.weight").mask == [0, 0, 1, 1])
    }

    @Test func theCountIsRoundedAndARoundedZeroChangesNothing() throws {
        let net = Self.network()
        MagnitudePruning.pruneGlobally(net, fraction: 0.03)  // 0.48 weights → 0
        #expect(net.prunableWeights.allSatisfy { $0.mask == nil })
        MagnitudePruning.pruneGlobally(net, fraction: 0)
        #expect(net.prunableWeights.allSatisfy { $0.mask == nil })
        MagnitudePruning.pruneGlobally(net, fraction: 0.03125)  // 0.5 → 1
        #expect(net.prunableWeights.map(\.keptCount) == [8, 3, 4])
        #expect(try Self.parameter(net, "c2.weight").value[0] == 0)
    }

    @Test func pruningEverythingKillsEveryChannelAndResetsTheStatisticsBehindIt() throws {
        let net = Self.network()
        MagnitudePruning.pruneGlobally(net, fraction: 1)
        #expect(net.prunableWeights.allSatisfy { $0.keptCount == 0 && $0.value.allSatisfy { $0 == 0 } })
        let bias = try Self.parameter(net, "c1.bias")
        #expect(bias.mask == [0, 0] && bias.value == [0, 0])
        let bn1 = try Self.batchNorm(net, "bn1")
        #expect(bn1.scale.mask == [0, 0] && bn1.scale.value == [0, 0])
        #expect(bn1.shift.mask == [0, 0] && bn1.shift.value == [0, 0])
        #expect(bn1.runningMean == [0, 0])
        #expect(bn1.runningVariance == [1, 1])
        #expect(try Self.parameter(net, "fc.bias").mask == nil, "linear biases are never pruned")
        #expect(try Self.batchNorm(net, "bn2").runningMean == [0.5, 0.7])
    }

    @Test func aCustomScoreDecidesWhatGoesAndSeesOnlyKeptWeights() throws {
        let net = Self.network()
        // The largest weights by magnitude, but the lowest score: fc's four.
        var scored = 0
        MagnitudePruning.pruneGlobally(net, fraction: 0.25) { p, i in
            scored += 1
            return p.name == "fc.weight" ? -1 : Float(i)
        }
        #expect(scored == 16)
        #expect(try Self.parameter(net, "fc.weight").mask == [0, 0, 0, 0])
        #expect(try Self.parameter(net, "fc.weight").value == [0, 0, 0, 0])
        #expect(try Self.parameter(net, "c1.weight").keptCount == 8)
        scored = 0
        MagnitudePruning.pruneGlobally(net, fraction: 0.5) { _, _ in
            scored += 1
            return 0
        }
        #expect(scored == 12, "the 4 pruned weights are not scored again")
        // All scores tie: position order, c1 first — its 6 pruned weights include all of filter 0.
        #expect(try Self.parameter(net, "c1.weight").mask == [0, 0, 0, 0, 0, 0, 1, 1])
        #expect(try Self.parameter(net, "c1.bias").mask == [0, 1])
    }

    // MARK: propagateDeadChannels

    @Test func aFullyMaskedFilterTakesItsBiasAndBatchNormChannelWithIt() throws {
        let net = Self.network()
        let c1 = try Self.parameter(net, "c1.weight")
        c1.mask = [1, 1, 1, 1, 0, 0, 0, 0]
        c1.applyMask()
        MagnitudePruning.propagateDeadChannels(net)
        let bias = try Self.parameter(net, "c1.bias")
        #expect(bias.mask == [1, 0])
        #expect(bias.value == [0.1, 0])
        let bn1 = try Self.batchNorm(net, "bn1")
        #expect(bn1.scale.mask == [1, 0] && bn1.scale.value == [1.5, 0])
        #expect(bn1.shift.mask == [1, 0] && bn1.shift.value == [0.3, 0])
        #expect(bn1.runningMean == [0.5, 0])
        #expect(bn1.runningVariance == [2, 1])
    }

    @Test func aFilterWithOneWeightLeftIsAlive() throws {
        let net = Self.network()
        let c1 = try Self.parameter(net, "c1.weight")
        c1.mask = [0, 0, 0, 1, 1, 0, 0, 0]
        c1.applyMask()
        MagnitudePruning.propagateDeadChannels(net)
        #expect(try Self.parameter(net, "c1.bias").mask == nil)
        #expect(try Self.batchNorm(net, "bn1").scale.mask == nil)
        #expect(try Self.batchNorm(net, "bn1").runningMean == [0.5, 0.7])
    }

    @Test func unmaskedConvsAndZeroValuedButUnmaskedFiltersAreNotDead() throws {
        // A filter whose weights are zero but not masked is not pruned: only masks count.
        let net = Self.network(c1: [0, 0, 0, 0, 1, 1, 1, 1])
        MagnitudePruning.propagateDeadChannels(net)
        #expect(try Self.parameter(net, "c1.bias").mask == nil)
        #expect(try Self.batchNorm(net, "bn1").runningVariance == [2, 3])
    }

    @Test func existingMasksOnTheBiasAreKept() throws {
        let net = Self.network()
        let bias = try Self.parameter(net, "c1.bias")
        bias.mask = [0, 1]
        bias.applyMask()
        let c1 = try Self.parameter(net, "c1.weight")
        c1.mask = [1, 1, 1, 1, 0, 0, 0, 0]
        MagnitudePruning.propagateDeadChannels(net)
        #expect(bias.mask == [0, 0])
    }

    // MARK: copyMasks

    @Test func masksAreCopiedOntoAnotherNetworkOfTheSameArchitectureAndApplied() throws {
        let source = Self.network()
        MagnitudePruning.pruneGlobally(source, fraction: 0.25)
        let target = Self.network(c1: [Float](repeating: 3, count: 8), c2: [Float](repeating: 3, count: 4), fc: [Float](repeating: 3, count: 4))
        // A mask the source does not have is cleared on the target.
        let targetBias = try Self.parameter(target, "fc.bias")
        targetBias.mask = [0, 1]
        MagnitudePruning.copyMasks(from: source, to: target)
        for (s, t) in zip(source.parameters, target.parameters) {
            #expect(s.mask == t.mask, "\(s.name)")
        }
        #expect(try Self.parameter(target, "c1.weight").value == [3, 0, 3, 3, 3, 0, 3, 3])
        #expect(try Self.parameter(target, "c2.weight").value == [0, 3, 3, 3])
        #expect(try Self.parameter(target, "fc.weight").value == [0, 3, 3, 3])
        #expect(targetBias.mask == nil)
        #expect(try Self.parameter(target, "c1.bias").value == [0.1, 0.2], "values without a mask are kept")
    }
}
