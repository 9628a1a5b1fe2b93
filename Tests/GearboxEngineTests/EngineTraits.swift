// GearboxEngineTests/EngineTraits: skip conditions only the engine tests need.

import CAllocationCounter
@testable import GearboxEngine
import Testing

extension Trait where Self == ConditionTrait {
    /// XNNPACK initialises on this CPU (Debian's libxnnpack is linked).
    static var requiresXNNPACK: Self {
        .enabled(if: XNNPACKSupport.isAvailable, "XNNPACK does not initialise on this CPU (or libxnnpack is missing)")
    }

    /// The packed AVX2/FMA (NEON on arm64) kernels run on this CPU.
    static var requiresPackedKernels: Self {
        .enabled(if: PackedDenseWeightMatrix.isSupported, "this CPU lacks AVX2/FMA, the packed kernels do not run here")
    }

    /// The test binary interposes malloc (Tests/CAllocationCounter), so allocations can be counted.
    static var requiresAllocationCounter: Self {
        .enabled(if: gearbox_allocation_counter_active() == 1, "malloc interposition is not active in this test binary")
    }
}
