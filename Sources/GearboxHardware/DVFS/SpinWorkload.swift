// GearboxHardware/SpinWorkload: a fixed, cache-resident CPU workload (a 64-bit LCG) whose run
// time scales with the CPU time it gets, used to calibrate the emulated DVFS controller and to
// check it. Timed with wall time only, `MonotonicClock` (see EmulatedFrequencyController on why
// not CPU time).

import GearboxCore

/// A spin loop that does a fixed amount of work and cannot be optimised away.
public enum SpinWorkload {
    /// Runs `iterations` LCG steps from `seed` and returns the final state (feed it to `consume`).
    @inline(never)
    public static func run(iterations: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> UInt64 {
        var state = seed
        for _ in 0..<max(0, iterations) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        }
        return state
    }

    /// Keeps a result alive so the loop producing it is not removed.
    @inline(never)
    public static func consume(_ value: UInt64) {
        if value == 0x0123_4567_89AB_CDEF { print("", terminator: "") }
    }

    /// Wall time in ns of `iterations` steps.
    public static func timeNs(iterations: Int) -> UInt64 {
        // `run` has no side effects, so an optimiser may hoist it above the first clock read or
        // merge repeated calls with the same count (release builds did: the probe below timed
        // nothing, and a 4 ms calibration chunk became billions of iterations, minutes of
        // spinning per step). Seeding it with the clock reading pins it between
        // the two reads; `consume` (a side effect) keeps it before the second.
        let start = MonotonicClock.nowNs()
        consume(run(iterations: iterations, seed: start))
        return MonotonicClock.nowNs() - start
    }

    /// How many iterations take about `targetNs` on the calling thread right now (the fastest
    /// of a few short probes, so a preemption does not inflate it).
    public static func iterations(forNs targetNs: Int) -> Int {
        let probe = 200_000
        var best = UInt64.max
        for _ in 0..<5 { best = min(best, timeNs(iterations: probe)) }
        let perIteration = Double(max(best, 1)) / Double(probe)
        return max(1000, Int(Double(targetNs) / perIteration))
    }
}
