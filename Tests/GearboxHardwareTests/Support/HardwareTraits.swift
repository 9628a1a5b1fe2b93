// GearboxHardwareTests/Support/HardwareTraits: skip conditions only the hardware tests need.

import GearboxHardware
import Testing

extension Trait where Self == ConditionTrait {
    /// Emulated DVFS: a cgroup cpu controller this process may create throttled children in.
    static var requiresCgroupCPUController: Self {
        .enabled(if: {
            if case .success = CgroupCPUBandwidth.detect() { return true }
            return false
        }(), "needs a writable cgroup cpu controller (emulated DVFS)")
    }
}
