// Tests for the sweep's records: the configuration orders its frequencies and defaults its grid,
// a cell's key names everything that makes it unique, and records written before the optional
// fields existed still decode.

import Foundation
import GearboxCore
import Testing

@testable import GearboxProfiler

private func sampleCell(attempt: Int = 0) -> CellRecord {
    let s = LatencySummary(p50Ns: 2, p90Ns: 3, p99Ns: 4, p999Ns: 5, minNs: 1, maxNs: 6, meanNs: 2.5, stddevNs: 0.5, cv: 0.2,
                           ciLowNs: 1.5, ciHighNs: 2.5, ciHalfWidthNs: 0.5, samples: 40)
    return CellRecord(kHz: 1_200_000, variant: "small", threads: 2, pin: "pu", attempt: attempt, source: .emulated, latency: s,
                      stopRule: .maxTime, warmupRule: .stable, warmupIterations: 3, appliedKHz: 1_190_000, speedRatio: 0.6,
                      frequencyVerified: true, counters: nil, milliCelsiusBefore: ["cpu": 41_000], milliCelsiusAfter: ["cpu": 43_000],
                      thermalPauseNs: 0, loopOverheadFraction: 0.001, noisy: true, startedAt: "2026-12-04T18:00:00Z")
}

@Suite struct SweepRecordsTests {
    @Test func configurationSortsFrequenciesAndDefaultsTheGridToThem() {
        let c = SweepConfiguration(deviceID: "d", portfolioName: "p", portfolioDigest: "x", controller: .simulated,
                                   frequenciesKHz: [1_400_000, 400_000, 800_000])
        #expect(c.frequenciesKHz == [400_000, 800_000, 1_400_000])
        #expect(c.gridKHz == [400_000, 800_000, 1_400_000])
        let withGrid = SweepConfiguration(deviceID: "d", portfolioName: "p", portfolioDigest: "x", controller: .simulated,
                                          frequenciesKHz: [800_000], gridKHz: [1_600_000, 800_000, 400_000])
        #expect(withGrid.gridKHz == [400_000, 800_000, 1_600_000])
        #expect(withGrid.frequenciesKHz == [800_000])
    }

    @Test func aConfigurationThatDiffersInAnyFieldIsAnotherSweep() {
        let base = SweepConfiguration(deviceID: "d", portfolioName: "p", portfolioDigest: "x", controller: .simulated,
                                      frequenciesKHz: [400_000, 800_000])
        var otherDigest = base
        otherDigest.portfolioDigest = "y"
        var otherSeed = base
        otherSeed.seed = 2
        #expect(base == SweepConfiguration(deviceID: "d", portfolioName: "p", portfolioDigest: "x", controller: .simulated,
                                           frequenciesKHz: [800_000, 400_000]))
        #expect(base != otherDigest && base != otherSeed)
    }

    @Test func aCellKeyNamesFrequencyVariantThreadsPinAndAttempt() {
        #expect(sampleCell().key == "1200000/small/t2/pu#0")
        #expect(sampleCell(attempt: 1).key == "1200000/small/t2/pu#1")
        #expect(CellRecord.key(kHz: 400_000, variant: "big", threads: 1, pin: "none", attempt: 0) == "400000/big/t1/none#0")
    }

    @Test func aCellRoundTripsThroughJSON() throws {
        var cell = sampleCell()
        cell.inferencesPerSample = 8
        cell.interferedWindows = 3
        cell.sharedCacheLoadNs = 1.25
        let decoded = try JSONDecoder().decode(CellRecord.self, from: JSONEncoder().encode(cell))
        #expect(decoded == cell)
    }

    @Test func aCellWrittenBeforeTheOptionalFieldsStillDecodes() throws {
        let data = try JSONEncoder().encode(sampleCell())
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["inferencesPerSample", "interferedWindows", "sharedCacheLoadNs", "counters"] { object.removeValue(forKey: key) }
        let old = try JSONSerialization.data(withJSONObject: object)
        let decoded = try JSONDecoder().decode(CellRecord.self, from: old)
        #expect(decoded.inferencesPerSample == nil && decoded.interferedWindows == nil && decoded.sharedCacheLoadNs == nil)
        #expect(decoded == sampleCell())
    }

    /// The `configuration` meta of `Profiles/amd-epyc-2c2t/default.samples.sqlite`, written when
    /// its spans were UInt64: as `Nanoseconds` they decode and encode to the same bytes.
    @Test func aConfigurationWrittenWithIntegerSpansKeepsItsBytes() throws {
        let stored = """
            {
              "controller" : "emulated",
              "deviceID" : "amd-epyc-2c2t",
              "domainIndex" : 0,
              "frequenciesKHz" : [
                250000,
                2000000
              ],
              "gridKHz" : [
                250000,
                2000000
              ],
              "maxRetryFraction" : 0.15,
              "measureMemory" : true,
              "measureSwitchCosts" : true,
              "noisyCV" : 0.05,
              "pin" : "pu",
              "portfolioDigest" : "213186841790678a6a2aeb5cd98ac47ed0fb07c4cfddfc99cd1d353b56415dee",
              "portfolioName" : "default",
              "sampling" : {
                "confidence" : 0.95,
                "maxNs" : 3000000000,
                "maxSamples" : 4000,
                "minSamples" : 30,
                "targetRelativeCI" : 0.01,
                "warmupBatchTargetNs" : 20000000,
                "warmupMaxBatches" : 25,
                "warmupMaxNs" : 1000000000,
                "warmupMinBatchIterations" : 3,
                "warmupStableBatches" : 2,
                "warmupStableTolerance" : 0.02
              },
              "seed" : 1,
              "settleNs" : 20000000,
              "switchRepetitions" : 3,
              "thermal" : {
                "maxPauseNs" : 120000000000,
                "pauseAtMilliCelsius" : 85000,
                "resumeBelowMilliCelsius" : 75000
              },
              "threads" : 1
            }
            """
        let configuration = try JSONDecoder().decode(SweepConfiguration.self, from: Data(stored.utf8))
        #expect(configuration.settleNs == Nanoseconds(milliseconds: 20) && configuration.thermal.maxPauseNs == Nanoseconds(seconds: 120))
        #expect(configuration.sampling == .standard)
        #expect(String(decoding: try JSONFile.encoder().encode(configuration), as: UTF8.self) == stored)
        // A capped cell time keeps whole nanoseconds (a third of 1 s is not a JSON real).
        let capped = configuration.sampling.cappingCellTime(atNs: Nanoseconds(seconds: 1))
        #expect(capped.warmupMaxNs == 333_333_333)
    }

    @Test func aNewCheckpointStartsEmptyAtTheCurrentSchema() {
        let c = SweepConfiguration(deviceID: "d", portfolioName: "p", portfolioDigest: "x", controller: .simulated, frequenciesKHz: [1])
        let checkpoint = SweepCheckpoint(configuration: c, startedAt: "t",
                                         clock: LatencyClockCalibration(clock: "c", declaredResolutionNs: 1, observedResolutionNs: 1, readCostNs: 1),
                                         frequencyOrderKHz: [1], backend: "simulated")
        #expect(checkpoint.schemaVersion == SweepCheckpoint.currentSchemaVersion)
        #expect(checkpoint.cells.isEmpty && checkpoint.retriedKeys.isEmpty && checkpoint.notes.isEmpty && checkpoint.resumes == 0)
        #expect(checkpoint.memory == nil && checkpoint.switchCosts == nil && checkpoint.placement == nil)
    }
}
