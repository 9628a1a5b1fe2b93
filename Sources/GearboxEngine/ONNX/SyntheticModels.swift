// GearboxEngine/SyntheticModels: deterministic ONNX models with random weights for benchmarks
// and tests — a small Fashion-MNIST-sized CNN, ResNet-style networks (basic blocks with
// BatchNorm, residual Adds, stride-2 downsampling; ResNet-18/34 at their published depths) and
// MobileNetV2 (inverted residuals with depthwise convolutions, width multiplier and resolution
// as in the paper). Same seed, same bytes.

import GearboxCore

/// Generators for reproducible benchmark models.
public enum SyntheticModels {
    /// A Fashion-MNIST-sized classifier: 1×1×28×28 → conv3×3(16)+BN+ReLU → maxpool →
    /// conv3×3(32)+BN+ReLU → maxpool → Linear(128)+ReLU → Linear(10) → Softmax. About 1.2 M MACs.
    public static func fashionMNISTCNN(seed: UInt64 = 1, batch: Int = 1) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "fashion_mnist_cnn")
        var rng = SplitMix64(seed: seed)
        b.addInput("input", shape: [batch, 1, 28, 28])
        var x = convBNReLU(&b, "input", in: 1, out: 16, kernel: 3, stride: 1, rng: &rng)
        x = b.maxPool(x, kernel: [2, 2], strides: [2, 2])
        x = convBNReLU(&b, x, in: 16, out: 32, kernel: 3, stride: 1, rng: &rng)
        x = b.maxPool(x, kernel: [2, 2], strides: [2, 2])
        x = b.flatten(x)
        x = b.relu(b.linear(x, weights: heUniform([128, 32 * 7 * 7], fanIn: 32 * 7 * 7, rng: &rng), bias: small([128], rng: &rng)))
        x = b.linear(x, weights: heUniform([10, 128], fanIn: 128, rng: &rng), bias: small([10], rng: &rng))
        b.addOutput(b.softmax(x, axis: 1))
        return b
    }

    /// A ResNet-18-style network: conv7×7/2 + BN + ReLU + maxpool/2, four stages of two basic
    /// blocks (widths `widths`, stride 2 from the second stage on, 1×1 projection shortcuts),
    /// global average pooling and a Linear classifier.
    public static func resNet(seed: UInt64 = 2, batch: Int = 1, imageSize: Int = 112, widths: [Int] = [64, 128, 256, 512],
                              blocksPerStage: Int = 2, classes: Int = 1000) -> ONNXModelBuilder {
        resNet(graphName: "resnet_style", seed: seed, batch: batch, imageSize: imageSize, widths: widths,
               stageBlocks: Array(repeating: blocksPerStage, count: widths.count), classes: classes)
    }

    /// ResNet-18 (He et al. 2016: basic blocks 2-2-2-2, widths 64-128-256-512, about 1.8 G MACs
    /// at 224×224) with seeded random weights.
    public static func resNet18(seed: UInt64 = 18, batch: Int = 1, imageSize: Int = 224, classes: Int = 1000) -> ONNXModelBuilder {
        resNet(graphName: "resnet18", seed: seed, batch: batch, imageSize: imageSize, widths: [64, 128, 256, 512],
               stageBlocks: [2, 2, 2, 2], classes: classes)
    }

    /// ResNet-34 (basic blocks 3-4-6-3, about 3.6 G MACs at 224×224) with seeded random weights.
    public static func resNet34(seed: UInt64 = 34, batch: Int = 1, imageSize: Int = 224, classes: Int = 1000) -> ONNXModelBuilder {
        resNet(graphName: "resnet34", seed: seed, batch: batch, imageSize: imageSize, widths: [64, 128, 256, 512],
               stageBlocks: [3, 4, 6, 3], classes: classes)
    }

    /// A CIFAR-style ResNet (He et al. 2016, section 4.2): 3×3 stem without pooling, one stage per
    /// width (stride 2 from the second on) of `blocksPerStage` basic blocks, global average
    /// pooling and a Linear classifier. Widths 16-32-64 with one block per stage is ResNet-8
    /// (about 12.5 M MACs at 32×32); narrower widths give its channel-pruned variants.
    public static func cifarResNet(seed: UInt64 = 8, batch: Int = 1, imageSize: Int = 32, widths: [Int] = [16, 32, 64],
                                   blocksPerStage: Int = 1, classes: Int = 10) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "cifar_resnet")
        var rng = SplitMix64(seed: seed)
        b.addInput("input", shape: [batch, 3, imageSize, imageSize])
        var x = convBNReLU(&b, "input", in: 3, out: widths[0], kernel: 3, stride: 1, rng: &rng)
        var channels = widths[0]
        for (stage, width) in widths.enumerated() {
            for block in 0..<blocksPerStage {
                (x, channels) = basicBlock(&b, x, in: channels, out: width, stride: stage > 0 && block == 0 ? 2 : 1, rng: &rng)
            }
        }
        x = b.flatten(b.globalAveragePool(x))
        b.addOutput(b.linear(x, weights: heUniform([classes, channels], fanIn: channels, rng: &rng), bias: small([classes], rng: &rng)))
        return b
    }

    /// A multilayer perceptron on flattened 28×28 images: Linear+ReLU per hidden width, then a
    /// Linear classifier.
    public static func mlp(seed: UInt64 = 4, batch: Int = 1, inputs: Int = 784, hidden: [Int] = [512, 256], classes: Int = 10) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "mlp")
        var rng = SplitMix64(seed: seed)
        b.addInput("input", shape: [batch, inputs])
        var x = "input", width = inputs
        for next in hidden {
            x = b.relu(b.linear(x, weights: heUniform([next, width], fanIn: width, rng: &rng), bias: small([next], rng: &rng)))
            width = next
        }
        b.addOutput(b.linear(x, weights: heUniform([classes, width], fanIn: width, rng: &rng), bias: small([classes], rng: &rng)))
        return b
    }

    /// conv3×3/stride + BN + ReLU, conv3×3 + BN, Add of the (projected when the shape changes)
    /// input, ReLU. Returns the output and its width.
    static func basicBlock(_ b: inout ONNXModelBuilder, _ x: String, in channels: Int, out width: Int, stride: Int,
                           rng: inout SplitMix64) -> (String, Int) {
        var y = convBNReLU(&b, x, in: channels, out: width, kernel: 3, stride: stride, rng: &rng)
        y = convBN(&b, y, in: width, out: width, kernel: 3, stride: 1, rng: &rng)
        let shortcut = stride != 1 || channels != width ? convBN(&b, x, in: channels, out: width, kernel: 1, stride: stride, rng: &rng) : x
        return (b.relu(b.add(y, shortcut)), width)
    }

    /// The ResNet body: `stageBlocks[s]` basic blocks of width `widths[s]` per stage.
    static func resNet(graphName: String, seed: UInt64, batch: Int, imageSize: Int, widths: [Int], stageBlocks: [Int],
                       classes: Int) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: graphName)
        var rng = SplitMix64(seed: seed)
        b.addInput("input", shape: [batch, 3, imageSize, imageSize])
        var x = convBNReLU(&b, "input", in: 3, out: widths[0], kernel: 7, stride: 2, rng: &rng)
        x = b.maxPool(x, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])
        var channels = widths[0]
        for (stage, width) in widths.enumerated() {
            for block in 0..<stageBlocks[stage] {
                (x, channels) = basicBlock(&b, x, in: channels, out: width, stride: stage > 0 && block == 0 ? 2 : 1, rng: &rng)
            }
        }
        x = b.flatten(b.globalAveragePool(x))
        b.addOutput(b.linear(x, weights: heUniform([classes, channels], fanIn: channels, rng: &rng), bias: small([classes], rng: &rng)))
        return b
    }

    /// A MobileNetV2-style network: conv3×3/2 + BN + ReLU6, inverted residual blocks (1×1
    /// expansion, depthwise 3×3, linear 1×1 projection, residual Add when stride is 1 and the
    /// width is unchanged) given as (expansion, width, repeats, stride), a 1×1 head conv, global
    /// average pooling and a Linear classifier. `widthMultiplier` scales every width as in the
    /// paper (rounded to multiples of 8, never below 90% of the scaled width; the head only grows).
    public static func mobileNetV2(seed: UInt64 = 3, batch: Int = 1, imageSize: Int = 224, widthMultiplier: Double = 1.0, stem: Int = 32,
                                   blocks: [(expansion: Int, width: Int, repeats: Int, stride: Int)] = [
                                       (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
                                   ], head: Int = 1280, classes: Int = 1000) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "mobilenetv2_style")
        var rng = SplitMix64(seed: seed)
        let stem = widthMultiplier == 1 ? stem : divisibleWidth(Double(stem) * widthMultiplier)
        let head = widthMultiplier <= 1 ? head : divisibleWidth(Double(head) * widthMultiplier)
        let blocks = widthMultiplier == 1 ? blocks : blocks.map { ($0.expansion, divisibleWidth(Double($0.width) * widthMultiplier), $0.repeats, $0.stride) }
        b.addInput("input", shape: [batch, 3, imageSize, imageSize])
        b.addInitializer("relu6.min", Tensor(shape: [], scalars: [0]))
        b.addInitializer("relu6.max", Tensor(shape: [], scalars: [6]))
        func relu6(_ b: inout ONNXModelBuilder, _ x: String) -> String {
            let y = b.uniqueName("clip") + ".out"
            b.addNode("Clip", inputs: [x, "relu6.min", "relu6.max"], outputs: [y])
            return y
        }
        var x = relu6(&b, convBN(&b, "input", in: 3, out: stem, kernel: 3, stride: 2, rng: &rng))
        var channels = stem
        for block in blocks {
            for repeat_ in 0..<block.repeats {
                let stride = repeat_ == 0 ? block.stride : 1
                let hidden = channels * block.expansion
                var y = x
                if block.expansion != 1 { y = relu6(&b, convBN(&b, y, in: channels, out: hidden, kernel: 1, stride: 1, rng: &rng)) }
                let dw = b.conv(y, weights: heUniform([hidden, 1, 3, 3], fanIn: 9, rng: &rng), strides: [stride, stride], pads: [1, 1, 1, 1], group: hidden)
                y = relu6(&b, b.batchNormalization(dw, scale: uniform([hidden], 0.5...1.5, rng: &rng), bias: small([hidden], rng: &rng),
                                                   mean: small([hidden], rng: &rng), variance: uniform([hidden], 0.5...1.5, rng: &rng)))
                y = convBN(&b, y, in: hidden, out: block.width, kernel: 1, stride: 1, rng: &rng)
                x = stride == 1 && channels == block.width ? b.add(x, y) : y
                channels = block.width
            }
        }
        x = relu6(&b, convBN(&b, x, in: channels, out: head, kernel: 1, stride: 1, rng: &rng))
        x = b.flatten(b.globalAveragePool(x))
        b.addOutput(b.linear(x, weights: heUniform([classes, head], fanIn: head, rng: &rng), bias: small([classes], rng: &rng)))
        return b
    }

    /// MobileNet's channel rounding: the nearest multiple of 8 (at least 8), bumped up by 8 when
    /// rounding lost more than 10%.
    static func divisibleWidth(_ width: Double) -> Int {
        var rounded = max(8, Int(width + 4) / 8 * 8)
        if Double(rounded) < 0.9 * width { rounded += 8 }
        return rounded
    }

    static func convBN(_ b: inout ONNXModelBuilder, _ x: String, in c: Int, out m: Int, kernel k: Int, stride: Int,
                       rng: inout SplitMix64) -> String {
        let pad = k / 2
        let y = b.conv(x, weights: heUniform([m, c, k, k], fanIn: c * k * k, rng: &rng), strides: [stride, stride], pads: [pad, pad, pad, pad])
        return b.batchNormalization(y, scale: uniform([m], 0.5...1.5, rng: &rng), bias: small([m], rng: &rng),
                                    mean: small([m], rng: &rng), variance: uniform([m], 0.5...1.5, rng: &rng))
    }

    static func convBNReLU(_ b: inout ONNXModelBuilder, _ x: String, in c: Int, out m: Int, kernel k: Int, stride: Int,
                           rng: inout SplitMix64) -> String {
        b.relu(convBN(&b, x, in: c, out: m, kernel: k, stride: stride, rng: &rng))
    }

    static func heUniform(_ shape: [Int], fanIn: Int, rng: inout SplitMix64) -> Tensor {
        let limit = (6 / Float(max(fanIn, 1))).squareRoot()
        return uniform(shape, -limit...limit, rng: &rng)
    }

    static func small(_ shape: [Int], rng: inout SplitMix64) -> Tensor { uniform(shape, -0.1...0.1, rng: &rng) }

    static func uniform(_ shape: [Int], _ range: ClosedRange<Float>, rng: inout SplitMix64) -> Tensor {
        let width = range.upperBound - range.lowerBound
        return Tensor(shape: shape) { _ in range.lowerBound + width * rng.nextUnitFloat() }
    }
}
