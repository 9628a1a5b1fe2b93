import GearboxCore
import Testing

@testable import GearboxProfiler

@Test func theFitRecoversAAndBFromExactPoints() throws {
    let a = 120_000.0, b = 2.4e12  // ns, ns·kHz
    let points = [400_000, 700_000, 1_000_000, 1_400_000, 2_000_000].map { ($0, Nanoseconds(a + b / Double($0))) }
    let model = try #require(LookupTable.FrequencyModel.fit(points: points))
    #expect(abs(model.aNs.value - a) / a < 1e-6)
    #expect(abs(model.bNsKHz - b) / b < 1e-9)
    #expect(abs(model.r2 - 1) < 1e-9)
    #expect(model.looMape < 1e-9)
    #expect(abs(model.predictNs(kHz: 500_000).value - (a + b / 500_000)) < 1e-3)
}

@Test func theFitIsCloseUnderNoiseAndReportsItsLeaveOneOutError() throws {
    var random = SplitMix64(seed: 9)
    let a = 300_000.0, b = 3e12
    var points: [(kHz: Int, ns: Nanoseconds)] = []
    for f in stride(from: 400_000, through: 2_000_000, by: 200_000) {
        points.append((f, Nanoseconds((a + b / Double(f)) * (1 + 0.01 * random.nextGaussian()))))
    }
    let model = try #require(LookupTable.FrequencyModel.fit(points: points))
    #expect(abs(model.bNsKHz - b) / b < 0.05)
    #expect(model.r2 > 0.99)
    #expect(model.looMape > 0 && model.looMape < 0.03)
}

@Test func fewerThanThreeFrequenciesGiveNoModel() {
    #expect(LookupTable.FrequencyModel.fit(points: [(1_000_000, 1e6), (2_000_000, 5e5)]) == nil)
    #expect(LookupTable.FrequencyModel.fit(points: [(1_000_000, 1e6), (1_000_000, 1.1e6), (1_000_000, 9e5)]) == nil)
}

@Test func aLatencyThatIgnoresTheClockFitsAsPureMemoryTime() throws {
    let points = [500_000, 1_000_000, 1_500_000].map { ($0, Nanoseconds(2_000_000)) }
    let model = try #require(LookupTable.FrequencyModel.fit(points: points))
    #expect(abs(model.aNs.value - 2_000_000) < 1e-3)
    #expect(abs(model.bNsKHz) < 1e-3)
}
