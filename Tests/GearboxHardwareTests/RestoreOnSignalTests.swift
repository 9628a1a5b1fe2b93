// Tests for GearboxHardware/RestoreOnSignal: a signal restores every controller through the
// bounded signal-time path, prints the resume hint, and ends the process (here: an injected
// terminate) even when a controller's restore never returns. SIGUSR2 stands in for SIGINT so
// that the test runner itself is never interrupted.

import Foundation
import GearboxCore
@testable import GearboxHardware
import Synchronization
import Testing

/// A controller that records how it was restored; `stuck` makes the interrupt restore block forever.
private final class RecordingController: FrequencyController, @unchecked Sendable {
    let source = MeasurementSource.simulated
    let domains: [DeviceDescription.Domain] = []
    let stuck: Bool
    private let lock = NSLock()
    private var log: [String] = []
    init(stuck: Bool) { self.stuck = stuck }
    var restores: [String] { lock.withLock { log } }
    func setFrequency(_ frequency: Frequency, forDomain domainIndex: Int) throws -> FrequencyChange {
        FrequencyChange(requestedKHz: frequency.kHz, appliedKHz: frequency.kHz, speedRatio: 1, settleNs: 0, source: .simulated)
    }
    func enrollCurrentThread() throws {}
    func restore() throws { lock.withLock { log.append("restore") } }
    func restoreAfterInterrupt(lockWaitNs: Nanoseconds) throws {
        lock.withLock { log.append("interrupt(\(lockWaitNs.wholeNanoseconds))") }
        if stuck { while true { sleep(1) } }
    }
}

private final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var terminatedWith: Int32?
    let terminated = DispatchSemaphore(value: 0)
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    func terminate(_ signal: Int32) { lock.withLock { terminatedWith = signal }; terminated.signal() }
    var all: [String] { lock.withLock { lines } }
    var status: Int32? { lock.withLock { terminatedWith } }
}

@Suite(.serialized) struct RestoreOnSignalTests {
    @Test func aSignalRestoresThroughTheInterruptPathPrintsTheHintAndTerminates() throws {
        let controller = RecordingController(stuck: false)
        let lines = Lines()
        let guardSignals = RestoreOnSignal(
            restoring: [controller], signals: [SIGUSR2], afterRestore: "continue with: gearbox profile --resume",
            lockWaitNs: 1234, report: { lines.add($0) }, terminate: { lines.terminate($0) })
        defer { guardSignals.cancel() }
        kill(getpid(), SIGUSR2)
        #expect(lines.terminated.wait(timeout: .now() + 10) == .success)
        #expect(controller.restores == ["interrupt(1234)"])
        #expect(lines.status == SIGUSR2)
        #expect(lines.all.contains { $0.contains("DVFS state restored") })
        #expect(lines.all.last == "continue with: gearbox profile --resume")
    }

    @Test func aRestoreThatNeverReturnsStillEndsTheProcessAtTheDeadline() throws {
        let controller = RecordingController(stuck: true)
        let lines = Lines()
        let guardSignals = RestoreOnSignal(
            restoring: [controller], signals: [SIGUSR2], deadlineNs: 200_000_000,
            report: { lines.add($0) }, terminate: { lines.terminate($0) })
        defer { guardSignals.cancel() }
        kill(getpid(), SIGUSR2)
        #expect(lines.terminated.wait(timeout: .now() + 10) == .success, "terminate was never called: the handler waited on the stuck restore")
        #expect(lines.all.contains { $0.contains("did not finish") && $0.contains("gearbox dvfs restore") })
    }
}
