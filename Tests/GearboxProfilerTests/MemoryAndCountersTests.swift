import Foundation
import GearboxPortfolio
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

@Test func procStatusParsesRSSAndPeak() throws {
    let text = "Name:\tgearbox\nVmPeak:\t  100000 kB\nVmHWM:\t    5000 kB\nVmRSS:\t    4000 kB\n"
    let memory = try #require(ProcessMemory.parse(status: text))
    #expect(memory.rssBytes == 4000 * 1024)
    #expect(memory.peakBytes == 5000 * 1024)
    #expect(ProcessMemory.parse(status: "Name: x\n") == nil)
}

@Test(.enabled(if: HostFacts.hasProcSelfStatus, "needs /proc/self/status"))
func thisProcessReportsItsResidentMemory() throws {
    let memory = try #require(ProcessMemory.current())
    #expect(memory.rssBytes > 0 && memory.peakBytes >= memory.rssBytes)
}

@Test func sharedMaskedWeightsAreCountedOnceWhenAllAreResident() throws {
    let portfolio = testPortfolio()
    let backend = SpinBackend { _ in 0 }
    let runners = try portfolio.variants.map { try backend.load($0, from: portfolio) }
    let all = MemoryMeter.residentBytes(of: runners)
    let separate = runners.map(\.residentBytes).reduce(0, +)
    // The two masked variants share one 200k-parameter model.
    #expect(separate - all == 200_000 * 4)
}

@Test func countersDeriveRatiosOnlyFromCountedInputs() {
    let totals = CounterTotals(
        values: ["instructions": 2000, "cycles": 1000, "perf::TASK-CLOCK": 500],
        unsupported: ["cache-misses": "no PMU"])
    let cell = CounterDerivation.perInference(totals, inferences: 10)
    #expect(cell.values["instructions"] == 200)
    #expect(cell.derived["ipc"] == 2)
    #expect(cell.derived["cacheMissRate"] == nil)
    #expect(cell.unsupported["cache-misses"] == "no PMU")
    #expect(cell.values["cache-misses"] == nil)
}

@Test func unavailableCountersAreUnsupportedNotZero() throws {
    let counters = UnavailableCounters(reason: "no backend")
    try counters.start()
    let totals = try counters.stop()
    #expect(totals.values.isEmpty)
    #expect(totals.unsupported.count == CounterDerivation.defaultEvents.count)
}

@Test func perfCountersOnThisMachineCountTaskClockOrSayWhyNot() throws {
    let counters = PerfCellCounters(events: ["perf::TASK-CLOCK", "cycles"])
    try counters.start()
    var x = 0.0
    for i in 0..<200_000 { x += sin(Double(i)) }
    let totals = try counters.stop()
    #expect(x.isFinite)
    for event in ["perf::TASK-CLOCK", "cycles"] {
        // Every event is either counted or unsupported with a reason, never silently missing or zero.
        #expect((totals.values[event] ?? 0) > 0 || totals.unsupported[event] != nil, "\(event)")
    }
}

@Test func thermalGuardPausesWhileHotOnTheGivenClock() {
    let sensor = FixedThermalSensor(readings: ["zone0": 90_000])
    let clock = VirtualLatencyClock()
    let guardRule = ThermalGuard(pauseAtMilliCelsius: 85_000, resumeBelowMilliCelsius: 75_000, maxPauseNs: 5_000_000_000)
    #expect(guardRule.waitUntilCool(sensor, clock: clock) >= 5_000_000_000)
    sensor.readings = ["zone0": 50_000]
    #expect(guardRule.waitUntilCool(sensor, clock: clock) == 0)
}

@Test func droppingAFilesPagesIsReportedHonestly() throws {
    let scratch = ScratchDirectory("profiler")
    let path = scratch.file("weights.bin")
    try Data(repeating: 7, count: 1 << 20).write(to: URL(fileURLWithPath: path))
    _ = try Data(contentsOf: URL(fileURLWithPath: path))
    let outcome = PageCache.drop(path: path)
    let resident = PageCache.residentFraction(path: path)
    if outcome == .cold { #expect((resident ?? 0) < 0.05) }
    print("page cache drop: \(outcome.rawValue), resident afterwards \(resident.map { String(format: "%.2f", $0) } ?? "unknown")")
}
