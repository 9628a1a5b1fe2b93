import Testing

@testable import GearboxHardware

@Test func theChaseVisitsEveryLineOnceBeforeItRepeats() {
    for bytes in [128, 4096, 64 * 1000, 1 << 20] {
        let probe = SharedCacheProbe(bytes: bytes)
        #expect(probe.cycleLength == bytes / SharedCacheProbe.lineBytes)
    }
}

@Test func sizesAreWholeCacheLinesAndAtLeastTwo() {
    #expect(SharedCacheProbe(bytes: 100).bytes == 128)
    #expect(SharedCacheProbe(bytes: 1000).bytes == 960)
    #expect(SharedCacheProbe(bytes: 0).cycleLength == 2)
}

@Test func aSeedGivesTheSameChaseAndAnotherSeedAnother() {
    let a = SharedCacheProbe(bytes: 64 << 10, seed: 1), b = SharedCacheProbe(bytes: 64 << 10, seed: 1)
    let c = SharedCacheProbe(bytes: 64 << 10, seed: 2)
    #expect(a.order == b.order)
    #expect(a.order != c.order)
}

@Test func aReadingIsAPositiveTimePerLoadOfTheWholeBuffer() throws {
    let probe = SharedCacheProbe(bytes: 256 << 10)
    let reading = try #require(probe.measure(passes: 1))
    #expect(reading.bytes == 256 << 10)
    #expect(reading.loadNs.value.isFinite)
    #expect(reading.loadNs > .zero)
}
