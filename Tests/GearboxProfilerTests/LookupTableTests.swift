import Foundation
import GearboxCore
import Testing

@testable import GearboxProfiler

@Test func aTruncatedLUTIsOneLineNamingTheFile() throws {
    let dir = temporaryDirectory()
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
    let dir = temporaryDirectory()
    var lut = try simulatedSweep(dir: dir, frequencies: [400_000, 800_000, 1_400_000]).0.run().lut
    lut.variants[0].latency["fast"] = lut.variants[0].latency["400000"]
    let path = dir + "/garbled.lut.json"
    try JSONFile.write(lut, to: path)
    #expect(throws: FileFormatError.self) { try LookupTable.read(from: path) }
    #expect(throws: FileFormatError.cannotRead(path: dir + "/none.json", reason: "no such file or not readable")) {
        try LookupTable.read(from: dir + "/none.json")
    }
}

@Test func theCSVExportHasOneRowPerVariantAndFrequency() throws {
    let lut = try simulatedSweep(dir: temporaryDirectory()).0.run().lut
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
    let lut = try simulatedSweep(dir: temporaryDirectory(), frequencies: [400_000, 800_000, 1_000_000, 1_400_000]).0.run().lut
    let text = LookupTableText.render(lut)
    for v in lut.variants { #expect(text.contains(v.name)) }
    #expect(text.contains("*"))
    #expect(text.contains("controller simulated"))
    #expect(text.contains("switch costs"))
}

@Test func theLeastNoisyAttemptOfACellIsKept() {
    func cell(_ attempt: Int, cv: Double) -> CellRecord {
        let s = LatencySummary(p50Ns: 1, p90Ns: 1, p99Ns: 1, p999Ns: 1, minNs: 1, maxNs: 1, meanNs: 1, stddevNs: cv, cv: cv,
                               ciLowNs: 1, ciHighNs: 1, ciHalfWidthNs: 0, samples: 10)
        return CellRecord(kHz: 1, variant: "v", threads: 1, pin: "pu", attempt: attempt, source: .simulated, latency: s,
                          stopRule: .ci, warmupRule: .stable, warmupIterations: 1, appliedKHz: 1, speedRatio: 1,
                          frequencyVerified: true, counters: nil, milliCelsiusBefore: [:], milliCelsiusAfter: [:],
                          thermalPauseNs: 0, loopOverheadFraction: 0, noisy: cv > 0.05, startedAt: "")
    }
    #expect(LookupTableBuilder.keptCells([cell(0, cv: 0.2), cell(1, cv: 0.1)]).first?.attempt == 1)
    #expect(LookupTableBuilder.keptCells([cell(0, cv: 0.1), cell(1, cv: 0.2)]).first?.attempt == 0)
}
