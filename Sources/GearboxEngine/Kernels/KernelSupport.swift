// GearboxEngine/KernelSupport: whether this CPU can run GearboxKernels' SIMD micro-kernels
// (x86-64: AVX2 and FMA, read from /proc/cpuinfo; arm64: always). Checked in baseline code,
// before any kernel runs, so an older CPU falls back to OpenBLAS instead of faulting.

import Foundation

enum KernelSupport {
    /// True when the packed micro-kernels may run here.
    static let packedKernelsAvailable: Bool = {
        #if arch(x86_64)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return false }
        let flags = Set(line.split(separator: " ").map(String.init))
        return flags.contains("avx2") && flags.contains("fma")
        #elseif arch(arm64)
        return true
        #else
        return false
        #endif
    }()
}

/// Which kernel runs dense convolutions.
public enum DenseConvolutionKernel: String, Sendable, Codable, CaseIterable {
    /// XNNPACK for dense, ungrouped layers when it runs on this CPU (it measured fastest on every
    /// ResNet layer shape here), else Gearbox's packed kernels when the CPU supports them
    /// (AVX2+FMA or arm64), else OpenBLAS.
    case automatic
    /// Gearbox's packed kernels (when the CPU supports them, else OpenBLAS), never XNNPACK.
    case packed
    /// im2col + OpenBLAS sgemm through `DenseWeightMatrix`.
    case openBLAS
}
