import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

@Test func aTruncatedLUTIsOneLineNamingTheFile() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    let lut = try simulatedSweep(dir: dir, frequencies: [400_000, 800_000, 1_400_000]).0.run().lut
    let path = dir + "/tiny.lut.json"
    let data = try JSONFile.encoder().encode(lut)
    for cut in [1, data.count / 3, data.count - 2] {
        try data.prefix(cut).write(to: URL(fileURLWithPath: path))
        do {
            _ = try LookupTable.read(from: path)
            Issue.record("truncated at \(cut) should fail")
        } catch let error as FileFormatError {
            #expect(error.description.contains(path))
            #expect(!error.description.contains("\n"))
        }
    }
}

@Test func aLUTWithAGarbledFrequencyKeyIsRejected() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    var lut = try simulatedSweep(dir: dir, frequencies: [400_000, 800_000, 1_400_000]).0.run().lut
    lut.variants[0].latency["fast"] = lut.variants[0].latency["400000"]
    let path = dir + "/garbled.lut.json"
    try JSONFile.write(lut, to: path)
    #expect(throws: FileFormatError.self) { try LookupTable.read(from: path) }
    #expect(throws: FileFormatError.cannotRead(path: dir + "/none.json", reason: "no such file")) {
        try LookupTable.read(from: dir + "/none.json")
    }
}

@Test func theCSVExportHasOneRowPerVariantAndFrequency() throws {
    let scratch = ScratchDirectory("profiler")
    let lut = try simulatedSweep(dir: scratch.path).0.run().lut
    let csv = LookupTableText.csv(lut)
    let lines = csv.split(separator: "\n")
    #expect(lines.count == 1 + lut.variants.count * testGrid.count)
    let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
    #expect(header.contains("p50Ns") && header.contains("source") && header.contains("kHz"))
    for line in lines.dropFirst() {
        #expect(line.split(separator: ",", omittingEmptySubsequences: false).count == header.count)
    }
}

@Test func theTableShowsEveryVariantAndMarksPredictions() throws {
    let scratch = ScratchDirectory("profiler")
    let lut = try simulatedSweep(dir: scratch.path, frequencies: [400_000, 800_000, 1_000_000, 1_400_000]).0.run().lut
    let text = LookupTableText.render(lut)
    for v in lut.variants { #expect(text.contains(v.name)) }
    #expect(text.contains("*"))
    #expect(text.contains("controller simulated"))
    #expect(text.contains("switch costs"))
    #expect(text.contains("p50 95% CI, median over the measured cells: ±"))
    // A simulated sweep has no windows, so no contention line; an emulated one carries it in its notes.
    #expect(!text.contains("host contention"))
    var noted = lut
    noted.provenance.notes.append("host contention: 12% of 300 windows ran more than 20% slower")
    #expect(LookupTableText.render(noted).contains("host contention: 12% of 300 windows"))
}

@Test func theLeastNoisyAttemptOfACellIsKept() {
    func cell(_ attempt: Int, cv: Double) -> CellRecord {
        let s = LatencySummary(p50Ns: 1, p90Ns: 1, p99Ns: 1, p999Ns: 1, minNs: 1, maxNs: 1, meanNs: 1, stddevNs: Nanoseconds(cv), cv: cv,
                               ciLowNs: 1, ciHighNs: 1, ciHalfWidthNs: 0, samples: 10)
        return CellRecord(kHz: 1, variant: "v", threads: 1, pin: "pu", attempt: attempt, source: .simulated, latency: s,
                          stopRule: .ci, warmupRule: .stable, warmupIterations: 1, appliedKHz: 1, speedRatio: 1,
                          frequencyVerified: true, counters: nil, milliCelsiusBefore: [:], milliCelsiusAfter: [:],
                          thermalPauseNs: 0, loopOverheadFraction: 0, noisy: cv > 0.05, startedAt: "")
    }
    #expect(LookupTableBuilder.keptCells([cell(0, cv: 0.2), cell(1, cv: 0.1)]).first?.attempt == 1)
    #expect(LookupTableBuilder.keptCells([cell(0, cv: 0.1), cell(1, cv: 0.2)]).first?.attempt == 0)
}

/// An emulated cell of variant "v" at `kHz` (delivered at the nominal speed) with p50 `ns`.
private func emulatedCell(kHz: Int, ns: Nanoseconds, attempt: Int = 0, cv: Double = 0.01) -> CellRecord {
    let s = LatencySummary(p50Ns: ns, p90Ns: ns, p99Ns: ns, p999Ns: ns, minNs: ns, maxNs: ns, meanNs: ns, stddevNs: cv * ns, cv: cv,
                           ciLowNs: ns, ciHighNs: ns, ciHalfWidthNs: 0, samples: 10)
    return CellRecord(kHz: kHz, variant: "v", threads: 1, pin: "pu", attempt: attempt, source: .emulated, latency: s,
                      stopRule: .maxTime, warmupRule: .stable, warmupIterations: 1, appliedKHz: kHz,
                      speedRatio: Double(kHz) / 2_000_000, frequencyVerified: true, counters: nil, milliCelsiusBefore: [:],
                      milliCelsiusAfter: [:], thermalPauseNs: 0, loopOverheadFraction: 0, noisy: cv > 0.05, startedAt: "")
}

@Test func aCellOffItsVariantsFrequencyModelIsAnOutlierAndItsRetryThatAgreesIsKept() {
    // t(f) = 0.2 ms + 2 ms·GHz / f; the 500 MHz cell ran 1.5× slow with a low CV.
    let grid = [250_000, 500_000, 1_000_000, 1_500_000, 2_000_000]
    func model(_ kHz: Int) -> Nanoseconds { Nanoseconds(200_000 + 2_000_000 * 1_000_000 / Double(kHz)) }
    var cells = grid.map { emulatedCell(kHz: $0, ns: model($0)) }
    cells[1] = emulatedCell(kHz: 500_000, ns: model(500_000) * 1.5)
    let outliers = LookupTableBuilder.modelOutliers(cells, maxKHz: 2_000_000)
    #expect(outliers.map(\.cell.kHz) == [500_000])
    #expect(abs(outliers[0].deviation - 0.5) < 0.01)
    // The retry agrees with the neighbours: it is kept although the slow attempt had the lower CV.
    let retried = cells + [emulatedCell(kHz: 500_000, ns: model(500_000) * 1.02, attempt: 1, cv: 0.03)]
    let kept = LookupTableBuilder.keptCells(retried, maxKHz: 2_000_000).first { $0.kHz == 500_000 }
    #expect(kept?.attempt == 1)
    // Two attempts that agree: the steadier one, as without a model.
    let agreeing = cells + [emulatedCell(kHz: 500_000, ns: model(500_000) * 1.48, attempt: 1, cv: 0.03)]
    #expect(LookupTableBuilder.keptCells(agreeing, maxKHz: 2_000_000).first { $0.kHz == 500_000 }?.attempt == 0)
    // Cells on the model are no outliers.
    #expect(LookupTableBuilder.modelOutliers(grid.map { emulatedCell(kHz: $0, ns: model($0)) }, maxKHz: 2_000_000).isEmpty)
}
