import Foundation
import GearboxCore
import GearboxHardware
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

@Test func aSimulatedSweepWritesACompleteLabelledLUTAndSampleDatabase() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    let (sweep, controller) = simulatedSweep(dir: dir)
    let result = try sweep.run()
    let lut = try LookupTable.read(from: dir + "/tiny.lut.json")
    #expect(lut == result.lut)
    #expect(lut.controller == .simulated)
    #expect(lut.frequenciesKHz == testGrid)
    #expect(lut.variants.count == 5)
    for v in lut.variants {
        #expect(v.latency.count == testGrid.count, "\(v.name)")
        #expect(v.latency.values.allSatisfy { $0.source == .simulated })
        #expect(v.memoryBytes > 0)
        let model = try #require(v.model)
        #expect(model.looMape < 0.05, "\(v.name) LOO \(model.looMape)")
        // Lower frequency, higher latency.
        let low = try #require(v.latency["400000"]), high = try #require(v.latency["1400000"])
        #expect(low.p50Ns > high.p50Ns)
    }
    // Every ordered pair has a switch cost; the masked pair has a mask-switch cost.
    #expect(lut.switchCostNs.values.map(\.count).reduce(0, +) == 20)
    #expect(lut.switchCostNs["m50"]?["m75"]?.maskSwitch != nil)
    #expect(lut.switchCostNs["big"]?["small"]?.maskSwitch == nil)
    #expect(lut.provenance.notes.contains { $0.contains("simulated") })
    #expect(controller.restores >= 1)
    #expect(controller.enrolled == 1)
    #expect(!FileManager.default.fileExists(atPath: dir + "/tiny.checkpoint.json"))
    // Raw samples: one row per timed inference of every kept and retried cell.
    let store = try SampleStore(path: dir + "/tiny.samples.sqlite")
    let expected = result.checkpoint.cells.map(\.latency.samples).reduce(0, +)
    #expect(try store.totalSamples() == expected)
    #expect(try store.metaJSON("provenance")?.contains("test-device") == true)
}

@Test func twoSimulatedSweepsWithOneSeedAreIdentical() throws {
    let scratchA = ScratchDirectory("profiler"), scratchB = ScratchDirectory("profiler"), scratchC = ScratchDirectory("profiler")
    let first = try simulatedSweep(dir: scratchA.path).0.run()
    // Simulated cells sample single virtual inferences: no windows, so no host contention.
    #expect(first.hostContention == nil)
    let a = first.lut
    let b = try simulatedSweep(dir: scratchB.path).0.run().lut
    #expect(a.variants == b.variants)
    #expect(a.switchCostNs == b.switchCostNs)
    #expect(a.method?.frequencyOrderKHz == b.method?.frequencyOrderKHz)
    let c = try simulatedSweep(dir: scratchC.path, seed: 8).0.run().lut
    #expect(a.variants != c.variants)
}

@Test func frequenciesAreVisitedInSeededRandomOrderWithVariantsInterleaved() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    let (sweep, controller) = simulatedSweep(dir: dir)
    var cells: [CellRecord] = []
    _ = try sweep.run(options: SweepOptions(progress: { if case let .cell(c, _, _, _) = $0 { cells.append(c) } }))
    let visited = cells.filter { $0.attempt == 0 }.map(\.kHz)
    // Each frequency is one contiguous block holding every variant once.
    var blocks: [Int] = []
    for f in visited where blocks.last != f { blocks.append(f) }
    #expect(blocks.count == testGrid.count)
    #expect(Set(blocks) == Set(testGrid))
    #expect(blocks != testGrid && blocks != testGrid.reversed())
    #expect(controller.sets.contains(testGrid.max()!))
}

@Test func aKilledSweepResumesToTheSameCompleteLUT() throws {
    let referenceScratch = ScratchDirectory("profiler")
    let reference = try simulatedSweep(dir: referenceScratch.path).0.run().lut

    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    let (first, _) = simulatedSweep(dir: dir)
    #expect(throws: ProfilerError.self) { try first.run(options: SweepOptions(stopAfterCells: 7)) }
    #expect(FileManager.default.fileExists(atPath: dir + "/tiny.checkpoint.json"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/tiny.lut.json"))
    let checkpoint = try JSONFile.read(SweepCheckpoint.self, from: dir + "/tiny.checkpoint.json")
    #expect(checkpoint.cells.count == 7)

    // Without --resume the unfinished sweep is protected.
    let (again, _) = simulatedSweep(dir: dir)
    #expect(throws: ProfilerError.checkpointExists(path: dir + "/tiny.checkpoint.json")) { try again.run() }

    let (second, _) = simulatedSweep(dir: dir)
    let result = try second.run(options: SweepOptions(resume: true))
    #expect(result.cellsFromCheckpoint == 7)
    #expect(result.lut.variants == reference.variants)
    #expect(result.lut.method?.resumes == 1)
    let store = try SampleStore(path: dir + "/tiny.samples.sqlite")
    #expect(try store.cellKeys().count == result.checkpoint.cells.count)
}

@Test func aCellInterruptedAfterItsDatabaseWriteIsDroppedOnResume() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    let (first, _) = simulatedSweep(dir: dir)
    _ = try? first.run(options: SweepOptions(stopAfterCells: 3))
    // Simulate a kill between the database transaction and the checkpoint: an orphan cell.
    let store = try SampleStore(path: dir + "/tiny.samples.sqlite")
    let orphan = try JSONFile.read(SweepCheckpoint.self, from: dir + "/tiny.checkpoint.json").cells[0]
    var copy = orphan
    copy.variant = "orphan"
    try store.record(copy, samplesNs: [1, 2, 3])
    #expect(try store.cellKeys().count == 4)
    let (second, _) = simulatedSweep(dir: dir)
    let result = try second.run(options: SweepOptions(resume: true))
    let keys = try SampleStore(path: dir + "/tiny.samples.sqlite").cellKeys()
    #expect(!keys.contains(copy.key))
    #expect(keys.count == result.checkpoint.cells.count)
}

@Test func resumingWithDifferentSettingsIsRefused() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    _ = try? simulatedSweep(dir: dir).0.run(options: SweepOptions(stopAfterCells: 2))
    let (other, _) = simulatedSweep(dir: dir, seed: 99)
    do {
        _ = try other.run(options: SweepOptions(resume: true))
        Issue.record("expected a mismatch")
    } catch let error as ProfilerError {
        guard case .checkpointMismatch = error else { Issue.record("wrong error \(error)"); return }
        #expect(error.description.contains("seed"))
        #expect(error.exitStatus == .inputError)
    }
}

@Test func unmeasuredGridFrequenciesArePredictedAndMarked() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    let measured = [400_000, 800_000, 1_000_000, 1_400_000]
    let (sweep, _) = simulatedSweep(dir: dir, frequencies: measured)
    let lut = try sweep.run().lut
    #expect(lut.frequenciesKHz == testGrid)
    #expect(lut.method?.predictedKHz == [600_000, 1_200_000])
    for v in lut.variants {
        let predicted = try #require(v.latency["600000"])
        #expect(predicted.source == .predicted)
        #expect(predicted.samples == 0)
        let lo = try #require(v.latency["400000"]), hi = try #require(v.latency["800000"])
        #expect(predicted.p50Ns < lo.p50Ns && predicted.p50Ns > hi.p50Ns)
        #expect(v.latency["400000"]?.source == .simulated)
    }
}

@Test func theNoisiestCellsAreRetriedOnceWithinTheRetryBudget() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    // 8% noise against a 5% threshold: every cell is noisy; 15% of 15 cells = 2 retries, the noisiest.
    let (sweep, _) = simulatedSweep(dir: dir, frequencies: [400_000, 800_000, 1_400_000], noiseCV: 0.08)
    let result = try sweep.run()
    let retries = result.checkpoint.cells.filter { $0.attempt == 1 }
    let firsts = result.checkpoint.cells.filter { $0.attempt == 0 }
    #expect(firsts.allSatisfy { $0.noisy })
    #expect(retries.count == 2)
    let noisiest = firsts.sorted { $0.latency.cv > $1.latency.cv }.prefix(2).map { "\($0.kHz)/\($0.variant)" }
    #expect(Set(retries.map { "\($0.kHz)/\($0.variant)" }) == Set(noisiest))
    #expect(result.lut.method?.retriedCells == 2)
    #expect(result.lut.method?.noisyCells == firsts.count)
    #expect(result.lut.variants.allSatisfy { $0.latency.values.filter { $0.source != .predicted }.allSatisfy { $0.noisy == true } })
}

@Test func frequencyVerificationFollowsTheController() {
    let exact = FrequencyChange(requestedKHz: 500_000, appliedKHz: 500_000, speedRatio: 0.5, settleNs: 0, source: .emulated)
    #expect(ProfileSweep.verify(exact, requestedKHz: 500_000, maxKHz: 1_000_000))
    let off = FrequencyChange(requestedKHz: 500_000, appliedKHz: 500_000, speedRatio: 0.6, settleNs: 0, source: .emulated)
    #expect(!ProfileSweep.verify(off, requestedKHz: 500_000, maxKHz: 1_000_000))
    let real = FrequencyChange(requestedKHz: 800_000, appliedKHz: 600_000, speedRatio: 0.6, settleNs: 0, source: .real)
    #expect(!ProfileSweep.verify(real, requestedKHz: 800_000, maxKHz: 1_000_000))
}

@Test func pinningRequestsParseAndRejectNonsense() throws {
    #expect(try PinningRequest(parsing: "pu") == .pu)
    #expect(try PinningRequest(parsing: "kind:1") == .kind(1))
    #expect(try PinningRequest(parsing: "NONE") == PinningRequest.none)
    #expect(throws: ProfilerError.self) { try PinningRequest(parsing: "kind:x") }
    #expect(throws: ProfilerError.self) { try PinningRequest(parsing: "socket") }
}
