// Tests for Charts/NiceTicks and Charts/Scale: tick choice and value-to-pixel mapping.

import Foundation
import Testing
@testable import GearboxReport

@Test func niceTicksCoverTheRangeWithRoundSteps() {
    let ticks = NiceTicks(covering: 0.33, 5.28, targetCount: 5)
    #expect(ticks.step == 1)
    #expect(ticks.values == [0, 1, 2, 3, 4, 5, 6])
    #expect(ticks.lower <= 0.33 && ticks.upper >= 5.28)
}

@Test func niceTicksUseOneTwoTwoPointFiveOrFiveTimesAPowerOfTen() {
    for (low, high) in [(0.0, 1.0), (800.0, 2400.0), (0.0012, 0.0047), (-3.0, 17.0), (123_456.0, 987_654.0), (0.0, 0.9)] {
        let ticks = NiceTicks(covering: low, high, targetCount: 5)
        let mantissa = ticks.step / pow10(floorLog10(ticks.step))
        #expect([1, 2, 2.5, 5, 10].contains { abs($0 - mantissa) < 1e-9 }, "step \(ticks.step) for \(low)...\(high)")
        #expect(ticks.lower <= low && ticks.upper >= high)
        #expect(ticks.values.count >= 3 && ticks.values.count <= 12, "\(ticks.values)")
        for pair in zip(ticks.values, ticks.values.dropFirst()) {
            #expect(abs((pair.1 - pair.0) - ticks.step) < ticks.step * 1e-9)
        }
    }
}

@Test func niceTicksHaveNoFloatingPointNoise() {
    let ticks = NiceTicks(covering: 0.1, 0.7, targetCount: 6)
    #expect(ticks.values.map { Formatting.coordinate($0) } == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"])
    #expect(ticks.values.contains(0.3))
}

@Test func degenerateRangesAreWidened() {
    let equal = NiceTicks(covering: 5, 5)
    #expect(equal.lower < 5 && equal.upper > 5)
    let zero = NiceTicks(covering: 0, 0)
    #expect(zero.lower < 0 && zero.upper > 0)
    let reversed = NiceTicks(covering: 10, 0)
    #expect(reversed.lower == 0 && reversed.upper == 10)
}

@Test func logTicksBracketTheRangeWithOneTwoFive() {
    #expect(NiceTicks.logarithmic(covering: 0.33, 12) == [0.2, 0.5, 1, 2, 5, 10, 20])
    let wide = NiceTicks.logarithmic(covering: 3, 40_000)
    #expect(wide == [1, 10, 100, 1000, 10_000, 100_000])
}

@Test func tickDecimalsMatchTheStep() {
    #expect(NiceTicks.decimals(forStep: 5) == 0)
    #expect(NiceTicks.decimals(forStep: 0.25) == 2)
    #expect(NiceTicks.decimals(forStep: 0.1) == 1)
}

@Test func linearScaleMapsEndsAndMidpoint() {
    let scale = Scale(domain: (0, 10), range: (100, 300))
    #expect(scale.position(of: 0) == 100)
    #expect(scale.position(of: 10) == 300)
    #expect(scale.position(of: 5) == 200)
    let inverted = Scale(domain: (0, 10), range: (300, 100))
    #expect(inverted.position(of: 10) == 100)
}

@Test func logScaleMapsDecadesEvenly() {
    let scale = Scale(kind: .logarithmic, domain: (1, 100), range: (0, 200))
    #expect(abs(scale.position(of: 10) - 100) < 1e-9)
    #expect(scale.position(of: 100) == 200)
}

@Test func niceScaleWidensToTicks() {
    let scale = Scale.nice(covering: 0.4, 9.3, range: (0, 100))
    #expect(scale.domainLower == 0 && scale.domainUpper == 10)
    #expect(scale.ticks() == [0, 2, 4, 6, 8, 10])
}

private func floorLog10(_ value: Double) -> Double { (log10(value)).rounded(.down) }
private func pow10(_ exponent: Double) -> Double { pow(10, exponent) }
