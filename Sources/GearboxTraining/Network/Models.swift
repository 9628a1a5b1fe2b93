// GearboxTraining/Models: the two architectures portfolios are built from: a small CNN
// (conv–conv–pool twice, then a fully connected classifier) and a small ResNet-style network
// with BatchNormalization and residual additions.

/// The architectures `gearbox portfolio build --model` accepts.
public enum ModelKind: String, CaseIterable, Codable, Sendable {
    case cnn, resnet

    /// A freshly initialised network for 1×28×28 inputs and 10 classes.
    public func make(seed: UInt64, widthScale: Double = 1) -> Network {
        var random = SeededRandom(seed: seed)
        func w(_ base: Int) -> Int { max(1, Int((Double(base) * widthScale).rounded())) }
        switch self {
        case .cnn: return ModelKind.cnn(widths: [w(16), w(32), w(32), w(64)], random: &random)
        case .resnet: return ModelKind.resnet(widths: [w(16), w(32), w(64)], random: &random)
        }
    }

    /// conv3×3–ReLU–conv3×3–ReLU–maxpool, twice, then Flatten and a Linear classifier.
    public static func cnn(widths: [Int], inputShape: [Int] = [1, 28, 28], classes: Int = 10,
                           random: inout SeededRandom) -> Network {
        precondition(widths.count == 4)
        var b = GraphBuilder()
        var channels = inputShape[0]
        var x = 0
        var size = inputShape[1]
        for stage in 0..<2 {
            for layer in 0..<2 {
                let out = widths[stage * 2 + layer]
                let name = "conv\(stage * 2 + layer + 1)"
                x = b.add(name, .conv(Conv2d(name: name, inChannels: channels, outChannels: out, kernel: 3,
                                             padding: 1, bias: true, random: &random)), x)
                x = b.add(name + ".relu", .relu, x)
                channels = out
            }
            x = b.add("pool\(stage + 1)", .maxPool(kernel: 2, stride: 2), x)
            size /= 2
        }
        x = b.add("flatten", .flatten, x)
        _ = b.add("fc", .linear(Linear(name: "fc", inFeatures: channels * size * size, outFeatures: classes,
                                       random: &random)), x)
        return Network(family: "cnn", inputShape: inputShape, classes: classes, nodes: b.nodes)
    }

    /// A stem conv, one basic residual block per width (stride 2 after the first, with a 1×1
    /// projection shortcut when the shape changes), global average pooling and a Linear classifier.
    public static func resnet(widths: [Int], inputShape: [Int] = [1, 28, 28], classes: Int = 10,
                              random: inout SeededRandom) -> Network {
        var b = GraphBuilder()
        var x = 0
        var channels = widths[0]
        x = b.add("stem", .conv(Conv2d(name: "stem", inChannels: inputShape[0], outChannels: channels, kernel: 3,
                                       padding: 1, bias: false, random: &random)), x)
        x = b.add("stem.bn", .batchNorm(BatchNorm(name: "stem.bn", channels: channels)), x)
        x = b.add("stem.relu", .relu, x)
        for (i, width) in widths.enumerated() {
            let name = "block\(i + 1)"
            let stride = i == 0 ? 1 : 2
            let input = x
            var y = b.add(name + ".conv1", .conv(Conv2d(name: name + ".conv1", inChannels: channels, outChannels: width,
                                                        kernel: 3, stride: stride, padding: 1, bias: false,
                                                        random: &random)), input)
            y = b.add(name + ".bn1", .batchNorm(BatchNorm(name: name + ".bn1", channels: width)), y)
            y = b.add(name + ".relu1", .relu, y)
            y = b.add(name + ".conv2", .conv(Conv2d(name: name + ".conv2", inChannels: width, outChannels: width,
                                                    kernel: 3, padding: 1, bias: false, random: &random)), y)
            y = b.add(name + ".bn2", .batchNorm(BatchNorm(name: name + ".bn2", channels: width)), y)
            var shortcut = input
            if stride != 1 || channels != width {
                shortcut = b.add(name + ".proj", .conv(Conv2d(name: name + ".proj", inChannels: channels,
                                                             outChannels: width, kernel: 1, stride: stride,
                                                             bias: false, random: &random)), input)
                shortcut = b.add(name + ".proj.bn", .batchNorm(BatchNorm(name: name + ".proj.bn", channels: width)),
                                 shortcut)
            }
            y = b.add(name + ".add", .add, y, shortcut)
            x = b.add(name + ".relu2", .relu, y)
            channels = width
        }
        x = b.add("gap", .globalAveragePool, x)
        x = b.add("flatten", .flatten, x)
        _ = b.add("fc", .linear(Linear(name: "fc", inFeatures: channels, outFeatures: classes, random: &random)), x)
        return Network(family: "resnet", inputShape: inputShape, classes: classes, nodes: b.nodes)
    }
}

/// Appends nodes and hands back the id of the tensor each one writes.
struct GraphBuilder {
    var nodes: [LayerNode] = []
    mutating func add(_ name: String, _ op: LayerOp, _ inputs: Int...) -> Int {
        nodes.append(LayerNode(name: name, op: op, inputs: inputs))
        return nodes.count
    }
}
