// GearboxEngine/Pooling: MaxPool and AveragePool (1-D/2-D; pads, auto_pad, strides,
// dilations, ceil_mode, count_include_pad), GlobalAveragePool and GlobalMaxPool. Tasks are
// groups of whole (image, channel) planes. MaxPool without column dilation is separable: each
// output row first takes the maximum over its window's input rows (vectorised over the row),
// then over its window's columns in that one padded row.

struct PoolGeometry: Sendable {
    var planes = 1
    var inHeight = 1, inWidth = 1, outHeight = 1, outWidth = 1
    var kernelHeight = 1, kernelWidth = 1
    var strideHeight = 1, strideWidth = 1
    var padTop = 0, padLeft = 0, padBottom = 0, padRight = 0
    var dilationHeight = 1, dilationWidth = 1
}

final class PoolOperation: PlannedOperation {
    enum Kind: Sendable { case max, average(countIncludePad: Bool), globalAverage, globalMax }

    let label: NodeLabel
    var input: Int, output: Int
    let kind: Kind
    let geometry: PoolGeometry
    /// Set by `LayoutPlanner` when a MaxPool, AveragePool or GlobalAveragePool reads and writes NHWC values:
    /// the channels per image.
    var nhwcChannels: Int?
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, kind: Kind, geometry: PoolGeometry) {
        self.label = label
        self.input = input
        self.output = output
        self.kind = kind
        self.geometry = geometry
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        if let channels = nhwcChannels, channels > 0 {
            switch kind {
            case .globalAverage:
                return GlobalAveragePoolNHWCStep(input: binding.address(input), output: binding.address(output), batch: geometry.planes / channels,
                                                 channels: channels, pixels: geometry.inWidth)
            case .max:
                return MaxPoolNHWCStep(input: binding.address(input), output: binding.address(output), geometry: geometry, channels: channels)
            case let .average(countIncludePad):
                return AveragePoolNHWCStep(input: binding.address(input), output: binding.address(output), geometry: geometry,
                                           channels: channels, countIncludePad: countIncludePad)
            case .globalMax:
                break  // The planner keeps GlobalMaxPool in NCHW.
            }
        }
        return PoolStep(input: binding.address(input), output: binding.address(output), kind: kind, geometry: geometry)
    }
}

final class PoolStep: ExecutionStep, ParallelWork {
    let input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    let kind: PoolOperation.Kind
    let g: PoolGeometry
    let split: (tasks: Int, perTask: Int)
    /// For each output column: window start x0, first and last+1 valid kernel column.
    let columnTaps: UnsafeMutablePointer<Int32>
    /// Separable MaxPool: one padded row per task, −∞ outside the input columns (written once).
    let rowMaxima: UnsafeMutablePointer<Float>
    let rowMaximaStride: Int

    init(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, kind: PoolOperation.Kind, geometry: PoolGeometry) {
        self.input = input
        self.output = output
        self.kind = kind
        g = geometry
        columnTaps = .allocate(capacity: max(1, 3 * geometry.outWidth))
        for ox in 0..<geometry.outWidth {
            let x0 = ox * geometry.strideWidth - geometry.padLeft
            let (lo, hi) = Self.validTaps(start: x0, kernel: geometry.kernelWidth, dilation: geometry.dilationWidth, size: geometry.inWidth)
            columnTaps[3 * ox] = Int32(x0)
            columnTaps[3 * ox + 1] = Int32(lo)
            columnTaps[3 * ox + 2] = Int32(hi)
        }
        let work = max(1, geometry.outHeight * geometry.outWidth * geometry.kernelHeight * geometry.kernelWidth)
        let global = geometry.inHeight * geometry.inWidth
        switch kind {
        case .globalAverage, .globalMax: split = taskSplit(geometry.planes, grain: max(1, 32_768 / max(global, 1)))
        default: split = taskSplit(geometry.planes, grain: max(1, 32_768 / work))
        }
        if case .max = kind, geometry.dilationWidth == 1 {
            let width = max(geometry.padLeft + geometry.inWidth, (geometry.outWidth - 1) * geometry.strideWidth + geometry.kernelWidth)
            rowMaximaStride = (width + 8 + 15) / 16 * 16  // slack: the 4-wide column pass reads past the last window
            rowMaxima = .allocate(capacity: split.tasks * rowMaximaStride)
            rowMaxima.initialize(repeating: -.infinity, count: split.tasks * rowMaximaStride)
        } else {
            rowMaximaStride = 0
            rowMaxima = .allocate(capacity: 0)
        }
    }

    deinit {
        columnTaps.deallocate()
        rowMaxima.deallocate()
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let first = task * split.perTask
        let last = min(first + split.perTask, g.planes)
        var plane = first
        while plane < last { run(plane: plane, task: task); plane += 1 }
    }

    @inline(__always)
    private func run(plane: Int, task: Int) {
        let inPlane = g.inHeight * g.inWidth
        let src = input + plane * inPlane
        switch kind {
        case .globalAverage:
            var sum: Float = 0
            for i in 0..<inPlane { sum += src[i] }
            output[plane] = sum / Float(inPlane)
            return
        case .globalMax:
            var best = -Float.infinity
            for i in 0..<inPlane { best = max(best, src[i]) }
            output[plane] = best
            return
        default: break
        }
        let dst = output + plane * g.outHeight * g.outWidth
        switch kind {
        case .max:
            if rowMaximaStride > 0 && !isPlainTwoByTwo {
                separableMaxPlane(src, dst, row: rowMaxima + task * rowMaximaStride)
            } else {
                maxPlane(src, dst)
            }
        case let .average(countIncludePad): averagePlane(src, dst, countIncludePad: countIncludePad)
        default: break
        }
    }

    /// First and last+1 kernel taps whose input index lies inside 0..<size.
    static func validTaps(start: Int, kernel: Int, dilation: Int, size: Int) -> (Int, Int) {
        let lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation
        let hi = min(kernel, size - start <= 0 ? 0 : (size - start + dilation - 1) / dilation)
        return (lo, max(lo, hi))
    }

    /// An AveragePool window along one axis: its taps inside the input (`lo..<hi`, empty when
    /// `hi <= lo`) and its length clipped to the padded input (PyTorch/ORT; with ceil_mode it can
    /// pass the end padding). Both layouts divide through `averageDivisor`, so they give the same bits.
    static func averageTaps(start: Int, kernel: Int, size: Int, padEnd: Int) -> (lo: Int, hi: Int, padded: Int) {
        let end = min(start + kernel, size + padEnd)
        return (max(start, 0), min(end, size), end - start)
    }

    static func averageDivisor(_ y: (lo: Int, hi: Int, padded: Int), _ x: (lo: Int, hi: Int, padded: Int), countIncludePad: Bool) -> Int {
        countIncludePad ? y.padded * x.padded : max(0, y.hi - y.lo) * max(0, x.hi - x.lo)
    }

    /// 2×2 windows with stride 2 and no padding, all inside the input: the common CNN pooling.
    private var isPlainTwoByTwo: Bool {
        g.kernelHeight == 2 && g.kernelWidth == 2 && g.strideHeight == 2 && g.strideWidth == 2
            && g.padTop == 0 && g.padLeft == 0 && g.dilationHeight == 1 && g.dilationWidth == 1
            && g.outHeight * 2 <= g.inHeight && g.outWidth * 2 <= g.inWidth
    }

    private func maxPlane(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        let inW = g.inWidth, outW = g.outWidth, dH = g.dilationHeight, dW = g.dilationWidth
        if isPlainTwoByTwo {
            for oy in 0..<g.outHeight {
                let r0 = src + (2 &* oy) &* inW, r1 = r0 + inW
                let out = dst + oy &* outW
                var ox = 0
                while ox < outW {
                    let x = 2 &* ox
                    let a = r0[x] > r0[x &+ 1] ? r0[x] : r0[x &+ 1]
                    let b = r1[x] > r1[x &+ 1] ? r1[x] : r1[x &+ 1]
                    out[ox] = a > b ? a : b
                    ox &+= 1
                }
            }
            return
        }
        let columns = columnTaps
        for oy in 0..<g.outHeight {
            let y0 = oy &* g.strideHeight &- g.padTop
            let (kyLo, kyHi) = Self.validTaps(start: y0, kernel: g.kernelHeight, dilation: dH, size: g.inHeight)
            let out = dst + oy &* outW
            let base = src + y0 &* inW
            for ox in 0..<outW {
                // Per-column window start and valid taps, precomputed at load.
                let x0 = Int(columns[3 &* ox]), kxLo = Int(columns[3 &* ox &+ 1]), kxHi = Int(columns[3 &* ox &+ 2])
                var best = -Float.infinity
                var ky = kyLo
                if dW == 1 && kxLo == 0 && kxHi == 2 {
                    // The common 2-wide window, unrolled.
                    while ky < kyHi {
                        let line = base + (ky &* dH &* inW &+ x0)
                        let m = line[0] > line[1] ? line[0] : line[1]
                        best = m > best ? m : best
                        ky &+= 1
                    }
                } else if dW == 1 && kxLo == 0 && kxHi == 3 {
                    while ky < kyHi {
                        let line = base + (ky &* dH &* inW &+ x0)
                        let m01 = line[0] > line[1] ? line[0] : line[1]
                        let m = m01 > line[2] ? m01 : line[2]
                        best = m > best ? m : best
                        ky &+= 1
                    }
                } else {
                    while ky < kyHi {
                        let line = base + (ky &* dH &* inW &+ x0)
                        var kx = kxLo
                        while kx < kxHi {
                            let v = line[kx &* dW]
                            best = v > best ? v : best
                            kx &+= 1
                        }
                        ky &+= 1
                    }
                }
                out[ox] = best
            }
        }
    }

    /// MaxPool without column dilation: per output row, the maximum over the window's valid
    /// input rows into `row` (offset by the left padding, −∞ around it), then each output is
    /// the maximum of its window's `kernelWidth` entries of `row`. Same result as `maxPlane`:
    /// both take the maximum over exactly the window's valid input elements.
    private func separableMaxPlane(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, row: UnsafeMutablePointer<Float>) {
        let inW = g.inWidth, outW = g.outWidth, kW = g.kernelWidth, sW = g.strideWidth, dH = g.dilationHeight
        let inside = row + g.padLeft
        for oy in 0..<g.outHeight {
            let y0 = oy &* g.strideHeight &- g.padTop
            let (kyLo, kyHi) = Self.validTaps(start: y0, kernel: g.kernelHeight, dilation: dH, size: g.inHeight)
            let out = dst + oy &* outW
            guard kyLo < kyHi else {
                out.update(repeating: -.infinity, count: outW)
                continue
            }
            let firstLine = src + (y0 &+ kyLo &* dH) &* inW
            var x = 0
            while x &+ 4 <= inW {
                var m = UnsafeRawPointer(firstLine + x).loadUnaligned(as: SIMD4<Float>.self)
                var ky = kyLo &+ 1
                while ky < kyHi {
                    let offset: Int = (y0 &+ ky &* dH) &* inW &+ x
                    let v = UnsafeRawPointer(src + offset).loadUnaligned(as: SIMD4<Float>.self)
                    m = m.replacing(with: v, where: v .> m)
                    ky &+= 1
                }
                UnsafeMutableRawPointer(inside + x).storeBytes(of: m, as: SIMD4<Float>.self)
                x &+= 4
            }
            while x < inW {
                var m = firstLine[x]
                var ky = kyLo &+ 1
                while ky < kyHi {
                    let offset: Int = (y0 &+ ky &* dH) &* inW &+ x
                    let v = src[offset]
                    m = v > m ? v : m
                    ky &+= 1
                }
                inside[x] = m
                x &+= 1
            }
            if kW == 3 && sW == 2 {
                // Four outputs at a time: windows start at even entries, so each tap is the
                // even lanes of two adjacent 4-vectors.
                var ox = 0
                while ox &+ 4 <= outW {
                    let p = UnsafeRawPointer(row + 2 &* ox)
                    let a = p.loadUnaligned(as: SIMD4<Float>.self), b = (p + 16).loadUnaligned(as: SIMD4<Float>.self)
                    let c = (p + 4).loadUnaligned(as: SIMD4<Float>.self), d = (p + 20).loadUnaligned(as: SIMD4<Float>.self)
                    let e = (p + 8).loadUnaligned(as: SIMD4<Float>.self), f = (p + 24).loadUnaligned(as: SIMD4<Float>.self)
                    let t0 = SIMD4(a[0], a[2], b[0], b[2]), t1 = SIMD4(c[0], c[2], d[0], d[2]), t2 = SIMD4(e[0], e[2], f[0], f[2])
                    var m = t0.replacing(with: t1, where: t1 .> t0)
                    m = m.replacing(with: t2, where: t2 .> m)
                    UnsafeMutableRawPointer(out + ox).storeBytes(of: m, as: SIMD4<Float>.self)
                    ox &+= 4
                }
                while ox < outW {
                    let start = 2 &* ox
                    let a = row[start], b = row[start &+ 1], c = row[start &+ 2]
                    let ab = b > a ? b : a
                    out[ox] = c > ab ? c : ab
                    ox &+= 1
                }
            } else if kW == 3 {
                var ox = 0, start = 0
                while ox < outW {
                    let a = row[start], b = row[start &+ 1], c = row[start &+ 2]
                    let ab = b > a ? b : a
                    out[ox] = c > ab ? c : ab
                    ox &+= 1
                    start &+= sW
                }
            } else {
                var ox = 0, start = 0
                while ox < outW {
                    var best = row[start]
                    var kx = 1
                    while kx < kW {
                        let v = row[start &+ kx]
                        best = v > best ? v : best
                        kx &+= 1
                    }
                    out[ox] = best
                    ox &+= 1
                    start &+= sW
                }
            }
        }
    }

    private func averagePlane(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, countIncludePad: Bool) {
        let inW = g.inWidth, inH = g.inHeight, outW = g.outWidth
        for oy in 0..<g.outHeight {
            let y = Self.averageTaps(start: oy * g.strideHeight - g.padTop, kernel: g.kernelHeight, size: inH, padEnd: g.padBottom)
            let out = dst + oy * outW
            for ox in 0..<outW {
                let x = Self.averageTaps(start: ox * g.strideWidth - g.padLeft, kernel: g.kernelWidth, size: inW, padEnd: g.padRight)
                var sum: Float = 0
                var iy = y.lo
                while iy < y.hi {
                    let line = src + iy * inW
                    var ix = x.lo
                    while ix < x.hi { sum += line[ix]; ix += 1 }
                    iy += 1
                }
                let divisor = Self.averageDivisor(y, x, countIncludePad: countIncludePad)
                out[ox] = divisor > 0 ? sum / Float(divisor) : 0
            }
        }
    }
}
