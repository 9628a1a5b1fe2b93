import Foundation
import GearboxCore
import Testing

@testable import GearboxProfiler

@Test func percentilesOfAUniformRampAreWithinTheHistogramPrecision() {
    let samples = (1...10_000).map { UInt64($0) * 1000 }  // 1 µs ... 10 ms
    let s = LatencySummary(samplesNs: samples.shuffled())
    #expect(abs(s.p50Ns.value - 5_000_000) / 5_000_000 < 0.002)
    #expect(abs(s.p90Ns.value - 9_000_000) / 9_000_000 < 0.002)
    #expect(abs(s.p99Ns.value - 9_900_000) / 9_900_000 < 0.002)
    #expect(abs(s.p999Ns.value - 9_990_000) / 9_990_000 < 0.002)
    #expect(s.maxNs == 10_000_000)
    #expect(s.minNs == 1000)
    #expect(abs(s.meanNs.value - 5_000_500) < 1)
    // Sample stddev of 1..n times 1000: sqrt(n(n+1)/12) * 1000.
    let expected = (10_000.0 * 10_001.0 / 12).squareRoot() * 1000
    #expect(abs(s.stddevNs.value - expected) / expected < 1e-6)
    #expect(abs(s.cv - expected / 5_000_500) < 1e-9)
    #expect(s.samples == 10_000)
}

@Test func medianConfidenceRanksMatchTheBinomialTables() throws {
    // Classic table values for a 95% distribution-free CI of the median.
    #expect(MedianConfidence.ranks(sampleCount: 5) == nil)
    let six = try #require(MedianConfidence.ranks(sampleCount: 6))
    #expect(six == (1, 6))
    let ten = try #require(MedianConfidence.ranks(sampleCount: 10))
    #expect(ten == (2, 9))
    let hundred = try #require(MedianConfidence.ranks(sampleCount: 100))
    #expect(hundred == (40, 61))
    // The normal approximation above 2000 continues the exact ranks smoothly.
    let exact = try #require(MedianConfidence.ranks(sampleCount: 2000))
    let approx = try #require(MedianConfidence.ranks(sampleCount: 2001))
    #expect(abs(exact.lower - approx.lower) <= 1)
}

@Test func theMedianIntervalCoversTheTrueMedianAboutNinetyFivePercentOfTheTime() {
    // Exponential latencies (skewed), true median ln 2 × scale.
    var random = SplitMix64(seed: 42)
    let scale = 1_000_000.0
    let trueMedian = log(2.0) * scale
    var covered = 0
    let trials = 400
    for _ in 0..<trials {
        let samples = (0..<150).map { _ in UInt64(-log(1 - random.nextUnit()) * scale) }
        let s = LatencySummary(samplesNs: samples)
        if s.ciLowNs.value <= trueMedian && trueMedian <= s.ciHighNs.value { covered += 1 }
    }
    let coverage = Double(covered) / Double(trials)
    #expect(coverage > 0.92 && coverage < 0.995, "coverage \(coverage)")
}

@Test func theIntervalNarrowsWithMoreSamples() {
    var random = SplitMix64(seed: 3)
    func width(_ n: Int) -> Double {
        let samples = (0..<n).map { _ in UInt64(1_000_000 * (1 + 0.05 * random.nextGaussian())) }
        return LatencySummary(samplesNs: samples).relativeCIHalfWidth
    }
    #expect(width(2000) < width(100))
}

@Test func normalQuantileMatchesKnownValues() {
    #expect(abs(MedianConfidence.normalQuantile(0.975) - 1.959964) < 1e-5)
    #expect(abs(MedianConfidence.normalQuantile(0.5)) < 1e-9)
    #expect(abs(MedianConfidence.normalQuantile(0.01) + 2.326348) < 1e-5)
}

@Test func tooFewSamplesFallBackToTheFullRange() {
    let s = LatencySummary(samplesNs: [100, 200, 300])
    #expect(s.ciLowNs == 100 && s.ciHighNs == 300)
    #expect(s.ciHalfWidthNs == 100)
}
