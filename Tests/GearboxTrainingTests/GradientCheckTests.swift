// Numerical gradient checks for every backward pass the trainer has: each operator sits behind a
// 1×1 convolution so that its input gradient is checked through that conv's weight gradient.

import Testing
@testable import GearboxTraining

/// L = Σ logits · r, in Double, so that dL/dlogits = r.
private func loss(_ network: Network, _ x: TrainingTensor, _ r: [Float]) -> Double {
    let y = network.forward(x, training: true).logits
    return zip(y.data, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

/// Compares analytic and central-difference gradients for every parameter entry.
/// BatchNorm on tiny batches is strongly curved, so deep BN stacks need a small `eps`.
private func checkGradients(_ network: Network, input: TrainingTensor, seed: UInt64 = 7, eps: Float = 1e-3) {
    var random = SeededRandom(seed: seed)
    let out = network.forward(input, training: true).logits
    let r = (0..<out.count).map { _ in random.nextNormal() }
    for p in network.parameters { p.zeroGrad() }
    let pass = network.forward(input, training: true)
    network.backward(pass, outputGradient: TrainingTensor(shape: out.shape, data: r))
    var worst = 0.0
    var worstName = ""
    for p in network.parameters {
        for i in 0..<p.count {
            let saved = p.value[i]
            p.value[i] = saved + eps
            let up = loss(network, input, r)
            p.value[i] = saved - eps
            let down = loss(network, input, r)
            p.value[i] = saved
            let numeric = (up - down) / Double(2 * eps)
            let analytic = Double(p.grad[i])
            let error = abs(numeric - analytic) / max(1, abs(numeric), abs(analytic))
            if error > worst { worst = error; worstName = "\(p.name)[\(i)] numeric \(numeric) analytic \(analytic)" }
        }
    }
    #expect(worst < 2e-2, "worst gradient mismatch \(worst) at \(worstName)")
}

private func input(_ shape: [Int], seed: UInt64) -> TrainingTensor {
    var random = SeededRandom(seed: seed)
    return TrainingTensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in random.nextNormal() })
}

/// A 1×1 conv in front of `ops`, then flatten + linear to 3 outputs.
private func network(channels: Int, size: Int, _ ops: (inout GraphBuilder, inout SeededRandom, Int) -> Int) -> Network {
    var random = SeededRandom(seed: 3)
    var b = GraphBuilder()
    let front = b.add("front", .conv(Conv2d(name: "front", inChannels: 2, outChannels: channels, kernel: 1, bias: true,
                                            random: &random)), 0)
    let x = ops(&b, &random, front)
    let shapes = Network(family: "t", inputShape: [2, size, size], classes: 3, nodes: b.nodes).tensorShapes()
    let features = shapes[x].reduce(1, *)
    let f = b.add("flatten", .flatten, x)
    _ = b.add("fc", .linear(Linear(name: "fc", inFeatures: features, outFeatures: 3, random: &random)), f)
    return Network(family: "t", inputShape: [2, size, size], classes: 3, nodes: b.nodes)
}

@Test func convolutionBackwardMatchesNumericalGradients() {
    for (stride, pad, kernel) in [(1, 1, 3), (2, 1, 3), (1, 0, 3), (2, 0, 1)] {
        let net = network(channels: 3, size: 6) { b, r, x in
            b.add("conv", .conv(Conv2d(name: "conv", inChannels: 3, outChannels: 4, kernel: kernel, stride: stride,
                                       padding: pad, bias: true, random: &r)), x)
        }
        checkGradients(net, input: input([2, 2, 6, 6], seed: 11))
    }
}

@Test func batchNormBackwardMatchesNumericalGradients() {
    let net = network(channels: 3, size: 4) { b, _, x in
        b.add("bn", .batchNorm(BatchNorm(name: "bn", channels: 3)), x)
    }
    checkGradients(net, input: input([2, 3, 4, 4], seed: 12))
}

@Test func reluAndMaxPoolBackwardMatchNumericalGradients() {
    let net = network(channels: 3, size: 6) { b, _, x in
        let y = b.add("relu", .relu, x)
        return b.add("pool", .maxPool(kernel: 2, stride: 2), y)
    }
    checkGradients(net, input: input([2, 2, 6, 6], seed: 13))
}

@Test func residualAddAndGlobalPoolBackwardMatchNumericalGradients() {
    let net = network(channels: 3, size: 4) { b, r, x in
        let y = b.add("conv", .conv(Conv2d(name: "conv", inChannels: 3, outChannels: 3, kernel: 3, padding: 1,
                                           bias: false, random: &r)), x)
        let s = b.add("add", .add, y, x)
        return b.add("gap", .globalAveragePool, s)
    }
    checkGradients(net, input: input([2, 2, 4, 4], seed: 14))
}

@Test func gateBackwardSilencesMaskedChannels() {
    let gate = ChannelGate(channels: 3)
    gate.keep = [1, 0, 1]
    let net = network(channels: 3, size: 3) { b, _, x in b.add("gate", .gate(gate), x) }
    checkGradients(net, input: input([2, 2, 3, 3], seed: 15))
    // The front conv's filter 1 feeds only the silenced channel: its gradient must be zero.
    guard case let .conv(front) = net.nodes[0].op else { Issue.record("the first node is not a convolution"); return }
    #expect(front.weight.grad[2] == 0 && front.weight.grad[3] == 0)
}

@Test func softmaxCrossEntropyGradientMatchesNumericalGradient() {
    var random = SeededRandom(seed: 5)
    let logits = TrainingTensor(shape: [3, 4], data: (0..<12).map { _ in random.nextNormal() })
    let labels = [0, 3, 2]
    let (_, grad) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
    for i in 0..<12 {
        var up = logits, down = logits
        up.data[i] += 1e-2
        down.data[i] -= 1e-2
        let numeric = (SoftmaxCrossEntropy.lossAndGradient(logits: up, labels: labels).loss
            - SoftmaxCrossEntropy.lossAndGradient(logits: down, labels: labels).loss) / 2e-2
        #expect(abs(numeric - grad.data[i]) < 1e-3)
    }
}

@Test func fullModelsBackwardMatchNumericalGradients() {
    // Narrow versions of the shipped architectures on 2 tiny images.
    var r1 = SeededRandom(seed: 1)
    let cnn = ModelKind.cnn(widths: [2, 2, 3, 3], inputShape: [1, 8, 8], classes: 3, random: &r1)
    checkGradients(cnn, input: input([1, 2, 8, 8], seed: 21))
    var r2 = SeededRandom(seed: 2)
    let resnet = ModelKind.resnet(widths: [2, 3], inputShape: [1, 6, 6], classes: 3, random: &r2)
    checkGradients(resnet, input: input([1, 3, 6, 6], seed: 22), eps: 1e-4)
}

