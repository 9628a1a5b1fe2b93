// GearboxEngine/NHWCPooling: MaxPool, AveragePool and GlobalAveragePool on NHWC values inside an NHWC run
// (see `LayoutPlanner`). Each output pixel's channels are one contiguous vector, so the window
// loops run over whole channel rows. Tasks are fixed ranges of output rows or channel blocks,
// so results do not depend on the thread count.

/// What the windowed NHWC pools share: the buffers, the geometry and the split of the output rows
/// (over all images) into fixed tasks of about 64 K window taps each.
struct NHWCPoolRows {
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let geometry: PoolGeometry
    let channels: Int
    /// Output rows over all images.
    let count: Int
    let split: (tasks: Int, perTask: Int)

    init(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, geometry: PoolGeometry, channels: Int) {
        self.input = UnsafePointer(input)
        self.output = output
        self.geometry = geometry
        self.channels = channels
        count = geometry.planes / max(channels, 1) * geometry.outHeight
        let rowWork = max(1, geometry.outWidth * geometry.kernelHeight * geometry.kernelWidth * channels)
        split = taskSplit(count, grain: max(1, 65_536 / rowWork))
    }

    func outputRows(ofTask task: Int) -> Range<Int> {
        let first = task * split.perTask
        return first..<min(first + split.perTask, count)
    }
}

/// MaxPool (2-D, pads, strides, dilations, ceil mode) of an NHWC input into an NHWC output.
/// Padding never wins (windows take the maximum over their taps inside the input).
final class MaxPoolNHWCStep: ExecutionStep, ParallelWork {
    let rows: NHWCPoolRows

    init(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, geometry: PoolGeometry, channels: Int) {
        rows = NHWCPoolRows(input: input, output: output, geometry: geometry, channels: channels)
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(rows.split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let g = rows.geometry, c = rows.channels, input = rows.input, output = rows.output
        for row in rows.outputRows(ofTask: task) {
            let image = row / g.outHeight, oy = row % g.outHeight
            let y0 = oy * g.strideHeight - g.padTop
            let (kyLo, kyHi) = PoolStep.validTaps(start: y0, kernel: g.kernelHeight, dilation: g.dilationHeight, size: g.inHeight)
            let source = input + image * g.inHeight * g.inWidth * c
            for ox in 0..<g.outWidth {
                let x0 = ox * g.strideWidth - g.padLeft
                let (kxLo, kxHi) = PoolStep.validTaps(start: x0, kernel: g.kernelWidth, dilation: g.dilationWidth, size: g.inWidth)
                let out = output + ((image * g.outHeight + oy) * g.outWidth + ox) * c
                out.update(repeating: -.infinity, count: c)
                for ky in kyLo..<kyHi {
                    let line = source + (y0 + ky * g.dilationHeight) * g.inWidth * c
                    for kx in kxLo..<kxHi {
                        let tap = line + (x0 + kx * g.dilationWidth) * c
                        for i in 0..<c { out[i] = tap[i] > out[i] ? tap[i] : out[i] }
                    }
                }
            }
        }
    }
}

/// AveragePool (2-D, pads, strides, ceil mode, count_include_pad) of an NHWC input into an
/// NHWC output. Each channel sums its window row by row and divides by the count the NCHW step
/// uses (`PoolStep.averageDivisor`), so both layouts give the same bits.
final class AveragePoolNHWCStep: ExecutionStep, ParallelWork {
    let rows: NHWCPoolRows
    let countIncludePad: Bool

    init(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, geometry: PoolGeometry, channels: Int, countIncludePad: Bool) {
        rows = NHWCPoolRows(input: input, output: output, geometry: geometry, channels: channels)
        self.countIncludePad = countIncludePad
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(rows.split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let g = rows.geometry, c = rows.channels, input = rows.input, output = rows.output
        for row in rows.outputRows(ofTask: task) {
            let image = row / g.outHeight, oy = row % g.outHeight
            let y = PoolStep.averageTaps(start: oy * g.strideHeight - g.padTop, kernel: g.kernelHeight, size: g.inHeight, padEnd: g.padBottom)
            let source = input + image * g.inHeight * g.inWidth * c
            for ox in 0..<g.outWidth {
                let x = PoolStep.averageTaps(start: ox * g.strideWidth - g.padLeft, kernel: g.kernelWidth, size: g.inWidth, padEnd: g.padRight)
                let out = output + ((image * g.outHeight + oy) * g.outWidth + ox) * c
                out.update(repeating: 0, count: c)
                var iy = y.lo
                while iy < y.hi {
                    var ix = x.lo
                    while ix < x.hi {
                        let tap = source + (iy * g.inWidth + ix) * c
                        for i in 0..<c { out[i] += tap[i] }
                        ix += 1
                    }
                    iy += 1
                }
                let divisor = PoolStep.averageDivisor(y, x, countIncludePad: countIncludePad)
                if divisor > 0 {
                    let d = Float(divisor)
                    for i in 0..<c { out[i] = out[i] / d }
                }
            }
        }
    }
}

/// GlobalAveragePool of an NHWC input: the output [N, C, 1, 1] is the same bytes in either
/// layout. Each channel sums its pixels in pixel order, as the NCHW step does, so both give the
/// same bits. Tasks are fixed (image, 64-channel block) pairs.
final class GlobalAveragePoolNHWCStep: ExecutionStep, ParallelWork {
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let batch: Int, channels: Int, pixels: Int
    static let channelBlock = 64
    let blocksPerImage: Int

    init(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, channels: Int, pixels: Int) {
        self.input = UnsafePointer(input)
        self.output = output
        self.batch = batch
        self.channels = channels
        self.pixels = pixels
        blocksPerImage = (channels + Self.channelBlock - 1) / Self.channelBlock
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(batch * blocksPerImage, self) }

    func perform(task: Int, worker: Int) {
        let image = task / blocksPerImage
        let first = (task % blocksPerImage) * Self.channelBlock
        let width = min(Self.channelBlock, channels - first)
        let sums = output + image * channels + first
        sums.update(repeating: 0, count: width)
        var source = input + image * pixels * channels + first
        for _ in 0..<pixels {
            for c in 0..<width { sums[c] += source[c] }
            source += channels
        }
        let divisor = Float(pixels)
        for c in 0..<width { sums[c] = sums[c] / divisor }
    }
}
