// GearboxBenchmarks/FormatBenchmark: `gearbox bench formats` — the pruned formats measured
// side by side in one run on one realistic Conv layer lowered to A·im2col: csr vs dense across
// sparsities (with the break-even sparsity), ubp vs bsr at equal density and both vs csr, and
// masked channel prefixes vs the equivalent structurally pruned (smaller) dense layer. Runs of
// the matrices compared are interleaved round-robin so machine noise hits them alike; every
// kernel runs single-threaded, as the engine runs it (its worker pool splits the work).

import COpenBLAS
import Foundation
import GearboxCore
import GearboxEngine

/// Side-by-side benchmark of the weight formats on one Conv layer.
public struct FormatBenchmark: Sendable {
    /// The Conv layer measured: A[outputChannels × inputChannels·k·k] · im2col[K × outH·outW].
    public struct Layer: Codable, Sendable, Hashable, CustomStringConvertible {
        public var outputChannels: Int
        public var inputChannels: Int
        public var kernelSize: Int
        public var outputHeight: Int
        public var outputWidth: Int

        public init(outputChannels: Int = 128, inputChannels: Int = 64, kernelSize: Int = 3,
                    outputHeight: Int = 28, outputWidth: Int = 28) {
            self.outputChannels = outputChannels
            self.inputChannels = inputChannels
            self.kernelSize = kernelSize
            self.outputHeight = outputHeight
            self.outputWidth = outputWidth
        }

        /// M.
        public var rows: Int { outputChannels }
        /// K.
        public var columns: Int { inputChannels * kernelSize * kernelSize }
        /// N.
        public var pixels: Int { outputHeight * outputWidth }
        public var kernelArea: Int { kernelSize * kernelSize }

        public var description: String {
            "Conv \(inputChannels)→\(outputChannels) \(kernelSize)×\(kernelSize) at \(outputHeight)×\(outputWidth) "
                + "(A \(rows)×\(columns) · im2col \(columns)×\(pixels))"
        }
    }

    /// What to measure and for how long.
    public struct Options: Sendable {
        public var layer = Layer()
        /// Sparsities of the csr-vs-dense sweep (extra points sharpen the break-even estimate).
        public var csrSparsities: [Double] = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
        public var blockShapes: [BlockShape] = [.fourByFour, .oneByFour, .eightByOne]
        public var blockSparsities: [Double] = [0.7, 0.9]
        public var maskFractions: [Double] = [0.25, 0.5, 0.75]
        /// Whether to add the ONNX-vs-packed cold-load rows.
        public var measuresLoads = true
        /// Wall time spent on each group of interleaved matrices.
        public var secondsPerGroup: Double = 0.4
        public var seed: UInt64 = 2024

        public init() {}
    }

    /// Timings of one matrix within a group.
    public struct Timing: Codable, Sendable, Hashable {
        public var name: String
        public var format: String
        public var storedBytes: Int
        public var samples: Int
        public var bestNs: Nanoseconds
        public var medianNs: Nanoseconds
    }

    /// subject time / baseline time, both measured in the same interleaved group.
    public struct Comparison: Codable, Sendable, Hashable {
        /// csr-vs-dense, ubp-vs-bsr, bsr-vs-csr, ubp-vs-csr or masked-vs-dense.
        public var kind: String
        public var subject: Timing
        public var baseline: Timing
        /// Ratio of the fastest runs (robust to preemption on a shared machine).
        public var ratio: Double
        /// Ratio of the medians.
        public var medianRatio: Double
        /// The ratio the issue asks for (subject ≤ target × baseline), if any.
        public var target: Double?
        /// Whether `ratio` meets `target` (nil without a target).
        public var meetsTarget: Bool?
    }

    /// Everything one run measured, with where and when.
    public struct Report: Codable, Sendable {
        public var schemaVersion = 1
        /// Always `real`: wall-clock times of the kernels on this machine.
        public var source = MeasurementSource.real
        public var machine: String
        public var date: String
        public var blas: String
        public var threads = 1
        public var layer: Layer
        public var comparisons: [Comparison]
        /// Sparsity where csr's time equals dense's, interpolated linearly between the two
        /// measured sparsities around the crossing; nil if no crossing was bracketed.
        public var csrBreakEvenSparsity: Double?
        public var breakEvenNote: String
        /// Cold loads: ONNX file vs packed file of the same variant (nil when not measured).
        public var loads: [PackedLoadComparison]? = nil
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Runs every group; `progress` receives one line per group as it starts.
    public func run(progress: (String) -> Void = { _ in }) throws -> Report {
        let layer = options.layer
        let (m, k, n) = (layer.rows, layer.columns, layer.pixels)
        guard m > 0, k > 0, n > 0 else { throw WeightFormatError.invalidShape(rows: m, columns: k) }
        var generator = SplitMix64(seed: options.seed)
        let weights = try DenseWeights(rows: m, columns: k, values: (0..<(m * k)).map { _ in generator.nextUnitFloat() * 2 - 1 })
        let b = (0..<(k * n)).map { _ in generator.nextUnitFloat() * 2 - 1 }
        var c = [Float](repeating: 0, count: m * n)

        BLAS.useSingleThread()  // as in the engine: kernels are single-threaded, the pool splits work

        var comparisons = [Comparison]()
        let measure = { (entries: [(String, any WeightMatrix)]) -> [Timing] in
            Self.interleaved(entries, b: b, c: &c, n: n, seconds: self.options.secondsPerGroup)
        }

        // csr vs dense across sparsities.
        progress("csr vs dense at \(options.csrSparsities.map { Self.percent($0) }.joined(separator: ", ")) sparsity")
        var csrEntries: [(String, any WeightMatrix)] = [
            ("dense", DenseWeightMatrix(rows: m, columns: k, values: weights.values)),
        ]
        for sparsity in options.csrSparsities {
            csrEntries.append(("csr \(Self.percent(sparsity))", CSRWeightMatrix(dense: try Pruning.magnitude(weights, sparsity: sparsity))))
        }
        let csrTimings = measure(csrEntries)
        for timing in csrTimings.dropFirst() {
            comparisons.append(Self.compare("csr-vs-dense", timing, csrTimings[0], target: nil))
        }
        let (breakEven, note) = Self.breakEven(sparsities: options.csrSparsities, ratios: comparisons.map(\.ratio))

        // ubp vs bsr at equal density, both vs csr.
        for block in options.blockShapes {
            for sparsity in options.blockSparsities {
                progress("\(block) blocks at \(Self.percent(sparsity)) sparsity: bsr, ubp, csr")
                let bsr = BlockSparseWeightMatrix(
                    dense: try Pruning.alignedBlocks(weights, block: block, sparsity: sparsity), block: block)
                let ubp = try Pruning.unalignedBlocks(weights, block: block, sparsity: sparsity).weightMatrix()
                let csr = CSRWeightMatrix(dense: try Pruning.magnitude(weights, sparsity: sparsity))
                let label = "\(block) \(Self.percent(sparsity))"
                let timings = measure([("bsr \(label)", bsr), ("ubp \(label)", ubp), ("csr \(Self.percent(sparsity))", csr)])
                comparisons.append(Self.compare("ubp-vs-bsr", timings[1], timings[0], target: 1.1))
                comparisons.append(Self.compare("bsr-vs-csr", timings[0], timings[2], target: nil))
                comparisons.append(Self.compare("ubp-vs-csr", timings[1], timings[2], target: nil))
            }
        }

        // masked channel prefixes vs the smaller dense layer with those channels.
        let storage = SharedWeightStorage(weights)
        for fraction in options.maskFractions {
            progress("masked at \(Self.percent(fraction)) channels vs the structurally pruned dense layer")
            let mask = try Pruning.channelPrefixMasks(
                outputChannels: layer.outputChannels, inputChannels: layer.inputChannels, kernelArea: layer.kernelArea,
                fractions: [fraction])[0]
            let masked = try MaskedWeightMatrix(storage: storage, mask: mask)
            var smallValues = [Float]()
            smallValues.reserveCapacity(mask.multiplyAddsPerColumn)
            for row in 0..<mask.activeRows {
                smallValues.append(contentsOf: weights.values[(row * k)..<(row * k + mask.activeColumns)])
            }
            let small = DenseWeightMatrix(rows: mask.activeRows, columns: mask.activeColumns, values: smallValues)
            let label = "\(mask.activeRows)×\(mask.activeColumns)"
            let timings = measure([("masked \(Self.percent(fraction)) \(label)", masked), ("dense \(label)", small)])
            comparisons.append(Self.compare("masked-vs-dense", timings[0], timings[1], target: 1.15))
        }

        var loads: [PackedLoadComparison]?
        if options.measuresLoads {
            progress("cold loads: ONNX vs packed (.gbpk)")
            loads = try Self.coldLoads()
        }
        return Report(
            machine: Self.machineDescription(), date: ISO8601DateFormatter().string(from: Date()),
            blas: Self.blasDescription(), layer: layer, comparisons: comparisons, csrBreakEvenSparsity: breakEven,
            breakEvenNote: note, loads: loads)
    }

    /// ONNX vs packed loads of a ResNet-style model (dense) and the Fashion-MNIST CNN pruned to 80 % (csr).
    static func coldLoads() throws -> [PackedLoadComparison] {
        let resNet = try SyntheticModels.resNet(imageSize: 56, widths: [32, 64, 128, 256], classes: 100).serializedData()
        let cnn = try SyntheticModels.fashionMNISTCNN(seed: 3).serializedData()
        let (pruned, _) = try VariantConversion(request: .init(format: .csr, sparsity: 0.8)).convert(onnx: cnn, source: "cnn.onnx")
        return [
            try PackedLoadComparison.measure(variant: "ResNet-style 56 px, dense", onnx: resNet, options: EngineOptions()),
            try PackedLoadComparison.measure(variant: "Fashion-MNIST CNN, csr 80%", onnx: pruned,
                                             options: EngineOptions(weightFormat: "csr", weightFormats: .prunedFormats)),
        ]
    }

    // MARK: - Measurement

    /// Round-robin runs of every entry until `seconds` have passed (at least 5 runs each).
    static func interleaved(
        _ entries: [(String, any WeightMatrix)], b: [Float], c: inout [Float], n: Int, seconds: Double
    ) -> [Timing] {
        var samples = [[Int]](repeating: [], count: entries.count)
        let clock = ContinuousClock()
        b.withUnsafeBufferPointer { bBuffer in
            c.withUnsafeMutableBufferPointer { cBuffer in
                guard let bBase = bBuffer.baseAddress, let cBase = cBuffer.baseAddress else { return }
                for (_, matrix) in entries {  // warm-up: caches, lazy page faults
                    matrix.multiply(bBase, ldb: n, n: n, into: cBase, ldc: n)
                }
                let deadline = clock.now.advanced(by: .nanoseconds(Int64(seconds * 1e9)))
                var round = 0
                while round < 5 || (clock.now < deadline && round < 2000) {
                    for (index, (_, matrix)) in entries.enumerated() {
                        let start = clock.now
                        matrix.multiply(bBase, ldb: n, n: n, into: cBase, ldc: n)
                        let elapsed = start.duration(to: clock.now)
                        samples[index].append(Int(elapsed.components.seconds) * 1_000_000_000
                            + Int(elapsed.components.attoseconds / 1_000_000_000))
                    }
                    round += 1
                }
            }
        }
        return entries.enumerated().map { index, entry in
            let sorted = samples[index].sorted()
            return Timing(name: entry.0, format: entry.1.formatName, storedBytes: entry.1.storedBytes,
                          samples: sorted.count, bestNs: Nanoseconds(sorted.first ?? 0), medianNs: Nanoseconds(sorted.isEmpty ? 0 : sorted[sorted.count / 2]))
        }
    }

    static func compare(_ kind: String, _ subject: Timing, _ baseline: Timing, target: Double?) -> Comparison {
        let ratio = subject.bestNs / max(1, baseline.bestNs)
        return Comparison(kind: kind, subject: subject, baseline: baseline, ratio: ratio,
                          medianRatio: subject.medianNs / max(1, baseline.medianNs), target: target,
                          meetsTarget: target.map { ratio <= $0 })
    }

    /// Linear interpolation of the sparsity where csr/dense crosses 1.
    static func breakEven(sparsities: [Double], ratios: [Double]) -> (Double?, String) {
        let points = zip(sparsities, ratios).sorted { $0.0 < $1.0 }
        guard let first = points.first, let last = points.last else { return (nil, "no csr points measured") }
        if first.1 <= 1 { return (nil, "csr already at least as fast as dense at \(percent(first.0)) (lowest measured)") }
        for (low, high) in zip(points, points.dropFirst()) where low.1 > 1 && high.1 <= 1 {
            let fraction = (low.1 - 1) / (low.1 - high.1)
            let sparsity = low.0 + fraction * (high.0 - low.0)
            return (sparsity, "interpolated between \(percent(low.0)) and \(percent(high.0)) sparsity")
        }
        return (nil, "csr slower than dense up to \(percent(last.0)) (highest measured)")
    }

    static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }

    // MARK: - Where

    /// CPU model and logical CPU count, from /proc/cpuinfo where present.
    public static func machineDescription() -> String {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        var model = "unknown CPU"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") || $0.hasPrefix("Model") }),
           let colon = line.firstIndex(of: ":") {
            model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "other"
        #endif
        #if GEARBOX_FMA
        let build = "kernels built for x86-64-v3 (AVX2+FMA)"
        #elseif arch(arm64)
        let build = "kernels built for NEON"
        #else
        let build = "kernels built for baseline SIMD (no FMA)"
        #endif
        return "\(model), \(cpus) logical CPUs, \(arch), \(build)"
    }

    /// OpenBLAS's build configuration and the core kernel it dispatched to.
    public static func blasDescription() -> String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown core"
        return "\(config.trimmingCharacters(in: .whitespaces)) (core \(core))"
    }
}

extension FormatBenchmark.Report {
    /// Targets that the run missed, one line each (empty when every target was met).
    public var missedTargets: [String] {
        comparisons.compactMap { comparison in
            guard comparison.meetsTarget == false, let target = comparison.target else { return nil }
            return "\(comparison.subject.name) vs \(comparison.baseline.name): \(Self.times(comparison.ratio)) > target \(Self.times(target))"
        }
    }

    /// The report as text lines for a terminal.
    public var lines: [String] {
        var lines = [
            "gearbox bench formats: \(layer)",
            "machine: \(machine)",
            "date: \(date); BLAS: \(blas); threads: \(threads); source: \(source) (wall clock)",
            "ratio = subject / baseline, fastest runs, measured interleaved in this run [median ratio in brackets]",
            "",
        ]
        let csr = comparisons.filter { $0.kind == "csr-vs-dense" }
        if let dense = csr.first?.baseline {
            lines.append("csr vs dense (dense sgemm: \(Self.milliseconds(dense.bestNs)))")
            for comparison in csr {
                lines.append("  \(Self.padded(comparison.subject.name, 10)) \(Self.milliseconds(comparison.subject.bestNs))  "
                    + "\(Self.times(comparison.ratio)) [\(Self.times(comparison.medianRatio))]")
            }
            let breakEven = csrBreakEvenSparsity.map { "\(Int(($0 * 100).rounded()))%" } ?? "not bracketed"
            lines.append("  break-even sparsity: \(breakEven) (\(breakEvenNote))")
            lines.append("")
        }
        let ubp = comparisons.filter { $0.kind == "ubp-vs-bsr" }
        if !ubp.isEmpty {
            lines.append("ubp vs bsr at equal density (target ≤ 1.10×), and both vs csr at the same density")
            for comparison in ubp {
                let label = comparison.subject.name.replacingOccurrences(of: "ubp ", with: "")
                let bsrCSR = comparisons.first { $0.kind == "bsr-vs-csr" && $0.subject == comparison.baseline }
                let ubpCSR = comparisons.first { $0.kind == "ubp-vs-csr" && $0.subject == comparison.subject }
                lines.append("  \(Self.padded(label, 9)) ubp/bsr \(Self.times(comparison.ratio)) [\(Self.times(comparison.medianRatio))] "
                    + "\(Self.verdict(comparison))   bsr/csr \(bsrCSR.map { Self.times($0.ratio) } ?? "-")   "
                    + "ubp/csr \(ubpCSR.map { Self.times($0.ratio) } ?? "-")   "
                    + "(bsr \(Self.milliseconds(comparison.baseline.bestNs)), ubp \(Self.milliseconds(comparison.subject.bestNs)))")
            }
            lines.append("")
        }
        let masked = comparisons.filter { $0.kind == "masked-vs-dense" }
        if !masked.isEmpty {
            lines.append("masked channel prefix vs the structurally pruned dense layer (target ≤ 1.15×)")
            for comparison in masked {
                lines.append("  \(Self.padded(comparison.subject.name, 22)) \(Self.times(comparison.ratio)) "
                    + "[\(Self.times(comparison.medianRatio))] \(Self.verdict(comparison))   "
                    + "(dense \(Self.milliseconds(comparison.baseline.bestNs)), masked \(Self.milliseconds(comparison.subject.bestNs)))")
            }
        }
        if let loads, !loads.isEmpty {
            lines.append("")
            lines.append("cold load: packed file (.gbpk, mapped) vs ONNX file, ratio = packed / ONNX, best of \(loads[0].rounds) alternating loads")
            loads.forEach { lines.append($0.line) }
            lines.append("  (\(loads[0].note))")
        }
        return lines
    }

    static func times(_ ratio: Double) -> String { String(format: "%.2f×", ratio) }
    static func milliseconds(_ span: Nanoseconds) -> String { String(format: "%.3f ms", span.milliseconds) }
    static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
    static func verdict(_ comparison: FormatBenchmark.Comparison) -> String {
        switch comparison.meetsTarget {
        case true?: return "meets target"
        case false?: return "MISSES target"
        case nil: return ""
        }
    }
}
