// Tests for GearboxHardware/CounterGroup and PerformanceCounters: software events count a
// busy loop that touches fresh pages; hardware events either count or say why they cannot.

import Foundation
import GearboxHardware
import Testing

/// Runs a loop that touches `pages` fresh pages (so page faults happen) and burns some CPU.
private func busyLoopTouchingFreshPages(pages: Int = 256) -> UInt64 {
    let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    let memory = mmap(nil, pages * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    guard let memory, memory != MAP_FAILED else { return 0 }
    defer { munmap(memory, pages * pageSize) }
    var accumulator: UInt64 = 1
    for page in 0..<pages {
        memory.storeBytes(of: UInt8(truncatingIfNeeded: page), toByteOffset: page * pageSize, as: UInt8.self)
        for step in 0..<2_000 { accumulator = accumulator &* 2862933555777941757 &+ UInt64(step) }
    }
    return accumulator
}

@Suite struct CounterGroupTests {
    @Test func libpfmInitialisesAndListsThePerfPMU() throws {
        try PerformanceCounters.initialize()
        try PerformanceCounters.initialize()  // idempotent
        let pmus = try PerformanceCounters.pmus()
        let perf = try #require(pmus.first { $0.name == "perf" })
        let events = try PerformanceCounters.events(of: perf)
        #expect(events.contains { $0.qualifiedName == "perf::TASK-CLOCK" })
    }

    @Test func namedEventsEncode() throws {
        for name in PerformanceCounters.standardEventNames {
            let encoded = try PerformanceCounters.encode(name)
            #expect(!encoded.qualifiedName.isEmpty)
        }
        let taskClock = try PerformanceCounters.encode("perf::TASK-CLOCK")
        #expect(taskClock.perfType == 1)  // PERF_TYPE_SOFTWARE
        #expect(taskClock.perfConfig == 1)  // PERF_COUNT_SW_TASK_CLOCK
        let raw = try PerformanceCounters.encode("r003c")
        #expect(raw.perfType == 4)  // PERF_TYPE_RAW
        #expect(raw.perfConfig == 0x3c)
        #expect(try PerformanceCounters.encode("cycles").perfType == 0)  // PERF_TYPE_HARDWARE
    }

    @Test func anUnknownEventIsAOneLineEncodingError() {
        do {
            _ = try PerformanceCounters.encode("no-such-event-xyz")
            Issue.record("an unknown event encoded")
        } catch let error as HardwareError {
            #expect(error.description.contains("no-such-event-xyz"))
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func taskClockAndPageFaultsCountABusyLoop() throws {
        let group = CounterGroup(events: ["perf::TASK-CLOCK", "perf::PAGE-FAULTS", "perf::CONTEXT-SWITCHES"])
        #expect(group.unsupportedEvents.isEmpty, "software events failed: \(group.unsupportedEvents)")
        try group.start()
        let result = busyLoopTouchingFreshPages()
        try group.stop()
        #expect(result != 0)
        let readings = try group.read()
        let taskClock = try #require(readings[0].value, "\(readings[0])")
        let pageFaults = try #require(readings[1].value, "\(readings[1])")
        #expect(taskClock.rawCount > 0)
        #expect(pageFaults.rawCount > 0)
        #expect(taskClock.timeEnabledNs > 0 && taskClock.timeRunningNs > 0)
        #expect(taskClock.scalingRatio > 0 && taskClock.scalingRatio <= 1)
        #expect(readings[2].value != nil)  // context switches counted (possibly zero, but counted)
    }

    @Test func stoppedCountersDoNotAdvanceAndResetZeroes() throws {
        let group = CounterGroup(events: ["perf::PAGE-FAULTS"])
        try group.start()
        _ = busyLoopTouchingFreshPages(pages: 64)
        try group.stop()
        let first = try #require(try group.read()[0].value)
        _ = busyLoopTouchingFreshPages(pages: 64)
        let second = try #require(try group.read()[0].value)
        #expect(first.rawCount == second.rawCount)
        try group.reset()
        #expect(try group.read()[0].value?.rawCount == 0)
    }

    @Test func anUnstartedGroupReportsNotCountedRatherThanZero() throws {
        let group = CounterGroup(events: ["perf::TASK-CLOCK"])
        let reading = try group.read()[0]
        #expect(reading.value == nil)
        guard case .notCounted = reading.outcome else { Issue.record("got \(reading)"); return }
    }

    @Test func cyclesIsUnsupportedWithAReasonOrCountsOnCapableHardware() throws {
        let group = CounterGroup(events: ["cycles", "perf::TASK-CLOCK"])
        try group.start()
        _ = busyLoopTouchingFreshPages(pages: 16)
        try group.stop()
        let readings = try group.read()
        switch readings[0].outcome {
        case let .unsupported(reason):
            #expect(!reason.isEmpty)
            #expect(readings[0].value == nil)
        case let .counted(value):
            #expect(value.rawCount > 0, "cycles counted zero over real work")
        case let .notCounted(reason):
            #expect(!reason.isEmpty)
        }
        // The unsupported event did not take the working one down.
        #expect((readings[1].value?.rawCount ?? 0) > 0)
    }

    @Test func aGarbageRawEventIsUnsupportedNotFatal() throws {
        let group = CounterGroup(events: ["not_a_pmu::NOPE", "perf::TASK-CLOCK"])
        #expect(group.unsupportedEvents.map(\.event) == ["not_a_pmu::NOPE"])
        try group.start()
        try group.stop()
        let readings = try group.read()
        guard case .unsupported = readings[0].outcome else { Issue.record("got \(readings[0])"); return }
        #expect(readings[1].value != nil)
    }

    @Test func countsAnotherThreadByItsID() throws {
        let ready = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var workerID: Int32 = 0
        let worker = Thread {
            workerID = CounterGroup.currentThreadID()
            ready.signal()
            go.wait()
            _ = busyLoopTouchingFreshPages(pages: 32)
            done.signal()
        }
        worker.start()
        ready.wait()
        #expect(workerID != CounterGroup.currentThreadID())
        let group = CounterGroup(events: ["perf::TASK-CLOCK", "perf::PAGE-FAULTS"], threadID: workerID)
        #expect(group.threadID == workerID)
        try group.start()
        go.signal()
        done.wait()
        try group.stop()
        let readings = try group.read()
        #expect((readings[0].value?.rawCount ?? 0) > 0, "\(readings[0])")
        #expect((readings[1].value?.rawCount ?? 0) >= 32, "\(readings[1])")
    }

    @Test func probeReportsEveryStandardEventWithAStatus() {
        let counters = CounterProbe.probe()
        for counter in counters { print("probe: \(counter.name) \(counter.status): \(counter.reason)") }
        #expect(counters.map(\.name) == PerformanceCounters.standardEventNames)
        for counter in counters {
            #expect(counter.status == "supported" || counter.status == "unsupported")
            #expect(!counter.reason.isEmpty)
        }
        #expect(counters.first { $0.name == "perf::TASK-CLOCK" }?.status == "supported")
    }
}
