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
