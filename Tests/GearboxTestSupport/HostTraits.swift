// GearboxTestSupport/HostTraits: the skip conditions shared by several test targets, as Swift
// Testing traits, so each reads as one word on the test and says its reason in the results.

import Testing

extension Trait where Self == ConditionTrait {
    /// Private mount namespaces (sysfs dumps shown to libcpufreq), cgroup and DVFS writes.
    public static var requiresRoot: Self {
        .enabled(if: HostFacts.isRoot, "needs root (a private mount namespace, cgroup or DVFS writes)")
    }

    /// The shared sysfs dump fixtures beside the checkout.
    public static var requiresSysfsDumps: Self {
        .enabled(if: SharedFixtures.hasSysfsDumps, "needs the sysfs dumps in ../shared/fixtures/sysfs (or GEARBOX_SYSFS_FIXTURES)")
    }

    /// Debian's libonnx-testdata.
    public static var requiresONNXTestData: Self {
        .enabled(if: HostFacts.hasONNXTestData, "needs libonnx-testdata (apt-get install libonnx-testdata)")
    }
}

extension Trait where Self == TimeLimitTrait {
    /// For a test that waits on another program (headless Chromium, a PostgreSQL cluster) that
    /// could hang. Swift Testing counts the limit from when the test is scheduled, and on a
    /// 2-core machine the full suite's synchronous tests can hold both cooperative threads for
    /// most of the run first; the limit is there to catch a hang, not a late start
    /// (docs/measurements.md, "Test suite and demo").
    public static var waitsOnAnotherProgram: Self { .timeLimit(.minutes(20)) }
}
