// Tests for the NCHW ↔ NHWC transposes at the boundaries of NHWC runs (`LayoutTranspose`,
// `LayoutConversionStep`): every element lands where the index arithmetic says, in full 32-pixel
// blocks (the 4×4 tile path) and ragged ones, across image boundaries, for sub-ranges of
// positions (nothing else written), and task by task as the step splits the work.

import Testing
@testable import GearboxEngine

@Suite struct LayoutConversionTests {
    /// NCHW index → NHWC index of the same element.
    static func nhwcIndex(image: Int, channel: Int, pixel: Int, channels: Int, plane: Int) -> Int {
        (image * plane + pixel) * channels + channel
    }

    static func nchwIndex(image: Int, channel: Int, pixel: Int, channels: Int, plane: Int) -> Int {
        (image * channels + channel) * plane + pixel
    }

    /// Runs `body` on a source filled with distinct values and a destination filled with
    /// `sentinel`; returns the source and destination.
    static func transpose(count: Int, sentinel: Float = -1,
                          _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> (source: [Float], destination: [Float]) {
        let source = (0..<count).map { Float($0) + 0.5 }
        let s = UnsafeMutablePointer<Float>.allocate(capacity: count), d = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { s.deallocate(); d.deallocate() }
        s.initialize(from: source, count: count)
        d.initialize(repeating: sentinel, count: count)
        body(s, d)
        return (source, Array(UnsafeBufferPointer(start: d, count: count)))
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var batch: Int, channels: Int, plane: Int
        var testDescription: String { "\(batch)×\(channels)×\(plane)" }
    }

    static let cases: [Case] = [1, 2].flatMap { batch in
        [1, 3, 4, 5, 8, 13].flatMap { channels in [1, 5, 31, 32, 33, 64, 70].map { Case(batch: batch, channels: channels, plane: $0) } }
    }

    @Test(arguments: cases)
    func everyElementMovesToItsIndexInTheOtherLayout(_ c: Case) {
        let count = c.batch * c.channels * c.plane, positions = c.batch * c.plane
        let toNHWC = Self.transpose(count: count) { LayoutTranspose.toNHWC($0, $1, channels: c.channels, plane: c.plane, pixels: 0..<positions) }
        let toNCHW = Self.transpose(count: count) { LayoutTranspose.toNCHW($0, $1, channels: c.channels, plane: c.plane, pixels: 0..<positions) }
        var nhwcRight = true, nchwRight = true
        for image in 0..<c.batch {
            for channel in 0..<c.channels {
                for pixel in 0..<c.plane {
                    let nchw = Self.nchwIndex(image: image, channel: channel, pixel: pixel, channels: c.channels, plane: c.plane)
                    let nhwc = Self.nhwcIndex(image: image, channel: channel, pixel: pixel, channels: c.channels, plane: c.plane)
                    nhwcRight = nhwcRight && toNHWC.destination[nhwc] == toNHWC.source[nchw]
                    nchwRight = nchwRight && toNCHW.destination[nchw] == toNCHW.source[nhwc]
                }
            }
        }
        #expect(nhwcRight, "NCHW → NHWC")
        #expect(nchwRight, "NHWC → NCHW")
    }

    @Test(arguments: cases)
    func aRoundTripRestoresEveryBit(_ c: Case) {
        let count = c.batch * c.channels * c.plane, positions = c.batch * c.plane
        var original = Tensor.random(shape: [count], seed: 3, in: -1000...1000).scalars
        original[0] = -0.0
        if count > 1 { original[count - 1] = .infinity }
        let middle = UnsafeMutablePointer<Float>.allocate(capacity: count), back = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { middle.deallocate(); back.deallocate() }
        middle.initialize(repeating: 0, count: count)
        back.initialize(repeating: 0, count: count)
        LayoutTranspose.toNHWC(original, middle, channels: c.channels, plane: c.plane, pixels: 0..<positions)
        LayoutTranspose.toNCHW(middle, back, channels: c.channels, plane: c.plane, pixels: 0..<positions)
        #expect(UnsafeBufferPointer(start: back, count: count).map(\.bitPattern) == original.map(\.bitPattern))
    }

    @Test(arguments: [(0, 7), (7, 50), (31, 97), (32, 64), (60, 140), (139, 140)])
    func aRangeOfPositionsWritesOnlyThosePositions(first: Int, end: Int) {
        // Two images of 70 pixels, 12 channels: ranges start and end inside blocks and cross the image boundary.
        let channels = 12, plane = 70, batch = 2, count = batch * channels * plane
        let sentinel: Float = -7
        let toNHWC = Self.transpose(count: count, sentinel: sentinel) {
            LayoutTranspose.toNHWC($0, $1, channels: channels, plane: plane, pixels: first..<end)
        }
        let toNCHW = Self.transpose(count: count, sentinel: sentinel) {
            LayoutTranspose.toNCHW($0, $1, channels: channels, plane: plane, pixels: first..<end)
        }
        var rightInside = true, untouchedOutside = true
        for position in 0..<(batch * plane) {
            let image = position / plane, pixel = position % plane
            for channel in 0..<channels {
                let nchw = Self.nchwIndex(image: image, channel: channel, pixel: pixel, channels: channels, plane: plane)
                let nhwc = Self.nhwcIndex(image: image, channel: channel, pixel: pixel, channels: channels, plane: plane)
                if (first..<end).contains(position) {
                    rightInside = rightInside && toNHWC.destination[nhwc] == toNHWC.source[nchw] && toNCHW.destination[nchw] == toNCHW.source[nhwc]
                } else {
                    untouchedOutside = untouchedOutside && toNHWC.destination[nhwc] == sentinel && toNCHW.destination[nchw] == sentinel
                }
            }
        }
        #expect(rightInside)
        #expect(untouchedOutside, "positions outside \(first)..<\(end) were written")
    }

    @Test func theSplitCoversEveryPositionOnceInWholeBlocksWhereItCan() {
        for pixels in [1, 31, 32, 33, 100, 1000, 12_544, 50_176, 200_704] {
            for channels in [1, 3, 16, 96, 1000, 5000] {
                let split = LayoutTranspose.split(pixels: pixels, channels: channels)
                #expect(split.tasks >= 1 && split.perTask >= 1)
                #expect(split.tasks * split.perTask >= pixels, "\(pixels) × \(channels): positions left over")
                #expect((split.tasks - 1) * split.perTask < pixels, "\(pixels) × \(channels): an empty task")
                #expect(split.perTask % LayoutTranspose.pixelBlock == 0, "\(pixels) × \(channels): tasks of whole blocks")
                // About 32 Ki floats a task: never many times more (unless a block alone is more).
                #expect(split.perTask * channels <= 2 * max(32_768, LayoutTranspose.pixelBlock * channels), "\(pixels) × \(channels)")
            }
        }
    }

    struct StepCase: CustomTestStringConvertible, Sendable {
        var shape: [Int]
        var testDescription: String { "\(shape)" }
    }

    @Test(arguments: [StepCase(shape: [1, 3, 100, 100]), StepCase(shape: [2, 40, 33, 31]), StepCase(shape: [1, 1000, 7, 7]), StepCase(shape: [3, 5, 1, 1])])
    func theStepConvertsTheWholeValueTaskByTaskAndOnTwoWorkers(_ c: StepCase) {
        let (n, channels, plane) = (c.shape[0], c.shape[1], c.shape[2] * c.shape[3])
        let count = n * channels * plane
        let pool = WorkerPool(workerCount: 2, pinning: nil)
        for target in [TensorLayout.nhwc, .nchw] {
            let byTask = Self.transpose(count: count) { source, destination in
                let step = LayoutConversionStep(input: UnsafeMutablePointer(mutating: source), output: destination, shape: c.shape, target: target)
                for task in (0..<step.split.tasks).reversed() { step.perform(task: task, worker: 0) }
            }
            let pooled = Self.transpose(count: count) { source, destination in
                LayoutConversionStep(input: UnsafeMutablePointer(mutating: source), output: destination, shape: c.shape, target: target).execute(pool)
            }
            var right = true
            for image in 0..<n {
                for channel in 0..<channels {
                    for pixel in 0..<plane {
                        let nchw = Self.nchwIndex(image: image, channel: channel, pixel: pixel, channels: channels, plane: plane)
                        let nhwc = Self.nhwcIndex(image: image, channel: channel, pixel: pixel, channels: channels, plane: plane)
                        right = right && (target == .nhwc ? byTask.destination[nhwc] == byTask.source[nchw] : byTask.destination[nchw] == byTask.source[nhwc])
                    }
                }
            }
            #expect(right, "\(target)")
            #expect(pooled.destination == byTask.destination, "\(target): two workers give the same result")
        }
    }

    @Test func theOperationReadsOneValueAndWritesAnother() {
        let op = LayoutConversionOperation(label: NodeLabel(name: "x to NHWC", opType: "LayoutConversion"), input: 3, output: 7,
                                           shape: [1, 8, 4, 4], target: .nhwc)
        #expect(op.inputs == [3] && op.outputs == [7])
    }
}
