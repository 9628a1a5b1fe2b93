import GearboxCore
import Testing
import GearboxProfiler
@testable import GearboxPolicy

@Suite struct LatencyDistributionTests {
    let cell = LookupTable.LatencyCell(
        p50Ns: 1000, p90Ns: 1200, p99Ns: 1500, p999Ns: 1800, maxNs: 2500, meanNs: 1050, stddevNs: 100,
        ciHalfWidthNs: 5, samples: 1000, source: .real)

    @Test func reproducesTheMeasuredPercentilesExactly() {
        let d = LatencyDistribution(cell: cell)
        #expect(d.quantileNs(0.5) == 1000)
        #expect(d.quantileNs(0.9) == 1200)
        #expect(d.quantileNs(0.99) == 1500)
        #expect(d.quantileNs(0.999) == 1800)
        #expect(d.value(of: .percentile(99)) == 1500)
        #expect(d.value(of: .mean) == 1050)
    }

    @Test func isMonotoneAndBoundedByTheMax() {
        let d = LatencyDistribution(cell: cell)
        var previous = -1.0
        for i in 0...10_000 {
            let q = d.quantileNs(Double(i) / 10_000).value
            #expect(q >= previous)
            previous = q
        }
        #expect(d.quantileNs(1) <= 2500)
        #expect(d.quantileNs(0) >= 500)
    }

    @Test func lowerHalfIsFittedToTheMeasuredMean() {
        let d = LatencyDistribution(cell: cell)
        #expect(abs(d.reconstructedMeanNs.value - 1050) < 1)
        // Sampling agrees with the mean too.
        var rng = SplitMix64(seed: 3)
        var sum = 0.0
        for _ in 0..<200_000 { sum += d.quantileNs(rng.nextUnit()).value }
        #expect(abs(sum / 200_000 - 1050) < 5)
    }

    @Test func degeneratePercentilesFallBackToMeanAndStddev() {
        let flat = LookupTable.LatencyCell(p50Ns: 0, p90Ns: 0, p99Ns: 0, meanNs: 1000, stddevNs: 100, ciHalfWidthNs: 0, samples: 10, source: .real)
        let d = LatencyDistribution(cell: flat)
        #expect(d.p50Ns == 1000)
        #expect(abs(d.p99Ns.value - 1232.63) < 0.01)
    }

    @Test func scalingMultipliesEveryQuantile() {
        let d = LatencyDistribution(cell: cell).scaled(by: 2)
        #expect(d.quantileNs(0.99) == 3000)
        #expect(d.meanNs == 2100)
    }

    @Test func seededGeneratorRepeatsItsSequence() {
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42), c = SplitMix64(seed: 43)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
    }
}
