// GearboxEngine/LayoutConversion: the NCHW ↔ NHWC transposes at the boundaries of NHWC runs
// (graph inputs, layers on Gearbox's own NCHW kernels, views, graph outputs). Tasks are fixed
// ranges of pixels, so results do not depend on the thread count; each task walks blocks of
// 32 pixels so that one block of NHWC rows stays in L1 while its channels are visited.

/// Transposes between NCHW and NHWC over a range of (image, pixel) positions.
enum LayoutTranspose {
    /// Pixels per block.
    static let pixelBlock = 32

    /// Tasks of whole pixel blocks (so every block but the last takes the 4×4 path), about
    /// 32 Ki floats each.
    static func split(pixels: Int, channels: Int) -> (tasks: Int, perTask: Int) {
        let even = taskSplit(pixels, grain: max(pixelBlock, 32_768 / max(channels, 1) / pixelBlock * pixelBlock))
        guard even.perTask > 0 else { return even }
        let perTask = (even.perTask + pixelBlock - 1) / pixelBlock * pixelBlock
        return ((pixels + perTask - 1) / perTask, perTask)
    }

    /// NCHW `source` → NHWC `destination` for positions `pixels` of the batch (position =
    /// image · plane + pixel); `plane` is H · W, `c` the channels.
    static func toNHWC(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, channels c: Int, plane: Int,
                       pixels: Range<Int>) {
        var p0 = pixels.lowerBound
        while p0 < pixels.upperBound {
            let image = p0 / plane, q0 = p0 % plane
            let n = min(pixelBlock, pixels.upperBound - p0, plane - q0)
            let s0 = source + image * c * plane + q0
            let d0 = destination + p0 * c
            var channel = 0
            if n == pixelBlock {
                // 4×4 tiles: four channel rows in, four pixel rows out.
                while channel + 4 <= c {
                    let s = s0 + channel * plane
                    var q = 0
                    while q < n {
                        let r0 = UnsafeRawPointer(s + q).loadUnaligned(as: SIMD4<Float>.self)
                        let r1 = UnsafeRawPointer(s + plane + q).loadUnaligned(as: SIMD4<Float>.self)
                        let r2 = UnsafeRawPointer(s + 2 * plane + q).loadUnaligned(as: SIMD4<Float>.self)
                        let r3 = UnsafeRawPointer(s + 3 * plane + q).loadUnaligned(as: SIMD4<Float>.self)
                        let d = UnsafeMutableRawPointer(d0 + q * c + channel), rowBytes = c * 4
                        d.storeBytes(of: SIMD4(r0[0], r1[0], r2[0], r3[0]), as: SIMD4<Float>.self)
                        (d + rowBytes).storeBytes(of: SIMD4(r0[1], r1[1], r2[1], r3[1]), as: SIMD4<Float>.self)
                        (d + 2 * rowBytes).storeBytes(of: SIMD4(r0[2], r1[2], r2[2], r3[2]), as: SIMD4<Float>.self)
                        (d + 3 * rowBytes).storeBytes(of: SIMD4(r0[3], r1[3], r2[3], r3[3]), as: SIMD4<Float>.self)
                        q &+= 4
                    }
                    channel &+= 4
                }
            }
            while channel < c {
                let s = s0 + channel * plane
                var q = 0
                while q < n { d0[q &* c &+ channel] = s[q]; q &+= 1 }
                channel &+= 1
            }
            p0 += n
        }
    }

    /// NHWC `source` → NCHW `destination` for positions `pixels` of the batch.
    static func toNCHW(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, channels c: Int, plane: Int,
                       pixels: Range<Int>) {
        var p0 = pixels.lowerBound
        while p0 < pixels.upperBound {
            let image = p0 / plane, q0 = p0 % plane
            let n = min(pixelBlock, pixels.upperBound - p0, plane - q0)
            let s0 = source + p0 * c
            let d0 = destination + image * c * plane + q0
            var channel = 0
            if n == pixelBlock {
                // 4×4 tiles: four pixel rows in, four channel rows out.
                while channel + 4 <= c {
                    let d = d0 + channel * plane
                    var q = 0
                    while q < n {
                        let s = UnsafeRawPointer(s0 + q * c + channel), rowBytes = c * 4
                        let r0 = s.loadUnaligned(as: SIMD4<Float>.self)
                        let r1 = (s + rowBytes).loadUnaligned(as: SIMD4<Float>.self)
                        let r2 = (s + 2 * rowBytes).loadUnaligned(as: SIMD4<Float>.self)
                        let r3 = (s + 3 * rowBytes).loadUnaligned(as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(d + q).storeBytes(of: SIMD4(r0[0], r1[0], r2[0], r3[0]), as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(d + plane + q).storeBytes(of: SIMD4(r0[1], r1[1], r2[1], r3[1]), as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(d + 2 * plane + q).storeBytes(of: SIMD4(r0[2], r1[2], r2[2], r3[2]), as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(d + 3 * plane + q).storeBytes(of: SIMD4(r0[3], r1[3], r2[3], r3[3]), as: SIMD4<Float>.self)
                        q &+= 4
                    }
                    channel &+= 4
                }
            }
            while channel < c {
                let d = d0 + channel * plane
                var q = 0
                while q < n { d[q] = s0[q &* c &+ channel]; q &+= 1 }
                channel &+= 1
            }
            p0 += n
        }
    }
}

/// One layout conversion of a rank-4 value [N, C, H, W] into a new value of the other layout.
final class LayoutConversionOperation: PlannedOperation {
    let label: NodeLabel
    let input: Int
    let output: Int
    /// The logical shape [N, C, H, W].
    let shape: [Int]
    /// The layout written (the input has the other one).
    let target: TensorLayout
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, shape: [Int], target: TensorLayout) {
        self.label = label
        self.input = input
        self.output = output
        self.shape = shape
        self.target = target
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        LayoutConversionStep(input: binding.address(input), output: binding.address(output), shape: shape, target: target)
    }
}

final class LayoutConversionStep: ExecutionStep, ParallelWork {
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let channels: Int, plane: Int, positions: Int
    let target: TensorLayout
    let split: (tasks: Int, perTask: Int)

    init(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, shape: [Int], target: TensorLayout) {
        self.input = UnsafePointer(input)
        self.output = output
        channels = shape[1]
        plane = shape[2] * shape[3]
        positions = shape[0] * plane
        self.target = target
        split = LayoutTranspose.split(pixels: positions, channels: channels)
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let first = task * split.perTask
        let range = first..<min(positions, first + split.perTask)
        switch target {
        case .nhwc: LayoutTranspose.toNHWC(input, output, channels: channels, plane: plane, pixels: range)
        case .nchw: LayoutTranspose.toNCHW(input, output, channels: channels, plane: plane, pixels: range)
        }
    }
}
