// Tests for GearboxHardware/SpinWorkload: the iteration count for a target time really takes
// about that time (a ratio with generous bounds, best of several runs, no absolute timing). In a
// release build the optimiser once moved the side-effect-free spin out of the timed probe, so a
// 4 ms calibration chunk took minutes; this pins the probe to the work it stands for (it guards
// release builds; in debug builds nothing is moved).

@testable import GearboxHardware
import Testing

@Test func iterationsForATargetTimeTakeAboutThatTime() {
    let targetNs = 2_000_000
    let iterations = SpinWorkload.iterations(forNs: targetNs)
    // Preemption only lengthens a run, so the fastest of several is the workload's own time.
    let fastest = (0..<7).map { _ in SpinWorkload.timeNs(iterations: iterations) }.min() ?? 0
    let ratio = Double(fastest) / Double(targetNs)
    print("SpinWorkload: \(iterations) iterations for 2 ms ran in \(fastest) ns (ratio \(ratio))")
    #expect(ratio > 0.25 && ratio < 4, "measured/target = \(ratio)")
}
