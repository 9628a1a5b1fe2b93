// Tests for Charts/Formatting: units and deterministic numbers.

import GearboxCore
import Testing
@testable import GearboxReport

@Test func durationsPickAReadableUnit() {
    #expect(Formatting.duration(850) == "850 ns")
    #expect(Formatting.duration(12_400) == "12.4 µs")
    #expect(Formatting.duration(1_234_567) == "1.23 ms")
    #expect(Formatting.duration(2_500_000_000) == "2.5 s")
    #expect(Formatting.duration(Nanoseconds(.nan)) == "n/a")
}

@Test func bytesUseBinaryUnits() {
    #expect(Formatting.bytes(512) == "512 B")
    #expect(Formatting.bytes(1_790_000) == "1.71 MiB")
    #expect(Formatting.bytes(32 * 1024) == "32 KiB")
}

@Test func frequenciesReadAsMHzOrGHz() {
    #expect(Formatting.frequency(kHz: 800_000) == "800 MHz")
    #expect(Formatting.frequency(kHz: 2_400_000) == "2.4 GHz")
    #expect(Formatting.frequency(kHz: 1_100_000) == "1.1 GHz")
}

@Test func coordinatesAreShortAndNeverNegativeZero() {
    #expect(Formatting.coordinate(12.0) == "12")
    #expect(Formatting.coordinate(12.345) == "12.35")
    #expect(Formatting.coordinate(-0.001) == "0")
    #expect(Formatting.coordinate(.infinity) == "0")
}

@Test func percentagesAndRatios() {
    #expect(Formatting.percent(0.0312) == "3.12%")
    #expect(Formatting.percent(0) == "0%")
    #expect(Formatting.ratio(0.9621) == "0.962×")
}
