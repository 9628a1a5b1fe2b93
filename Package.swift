// swift-tools-version:6.1
// Gearbox: hardware-in-the-loop profiling of pruned DNN variants on edge boards.
// Layering (imports point down only):
//   C bridges → GearboxHardware → GearboxEngine → GearboxPortfolio → GearboxProfiler
//   → GearboxPolicy → GearboxStore → GearboxReport → GearboxPipeline, GearboxBenchmarks (bench and conformance harness) → gearbox (CLI)
//   GearboxCore → GearboxRuntime (lookup table + selector, for embedding: no C library, no
//   unsafe flags) → GearboxProfiler, GearboxPolicy
import PackageDescription

// GearboxKernels holds only SIMD micro-kernels. It is always optimised (also in debug builds)
// and, on x86-64 hosts, compiled for AVX2 + FMA; the engine calls it only after checking the
// CPU, and falls back to OpenBLAS otherwise.
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "haswell", "-enforce-exclusivity=unchecked"])]
#else
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-enforce-exclusivity=unchecked"])]
#endif

let package = Package(
    name: "Gearbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gearbox", targets: ["gearbox"]),
        .library(name: "GearboxCore", targets: ["GearboxCore"]),
        .library(name: "GearboxRuntime", targets: ["GearboxRuntime"]),
        .library(name: "GearboxHardware", targets: ["GearboxHardware"]),
        .library(name: "GearboxEngine", targets: ["GearboxEngine"]),
        .library(name: "GearboxPortfolio", targets: ["GearboxPortfolio"]),
        .library(name: "GearboxProfiler", targets: ["GearboxProfiler"]),
        .library(name: "GearboxPolicy", targets: ["GearboxPolicy"]),
        .library(name: "GearboxStore", targets: ["GearboxStore"]),
        .library(name: "GearboxReport", targets: ["GearboxReport"]),
        .library(name: "GearboxPipeline", targets: ["GearboxPipeline"]),
        .library(name: "GearboxTraining", targets: ["GearboxTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // The results store's PostgreSQL backend (a lab's shared database); SQLite via GRDB is the default.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // postgres-nio's own dependencies, named because the PostgreSQL backend imports them.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.3"),
    ],
    targets: [
        // C bridges: module maps and tiny shims only, no logic.
        .systemLibrary(name: "CHwloc", pkgConfig: "hwloc", providers: [.apt(["libhwloc-dev"])]),
        .systemLibrary(name: "CPfm", providers: [.apt(["libpfm4-dev"])]),
        .systemLibrary(name: "CCpufreq", providers: [.apt(["libcpufreq-dev"])]),
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CXNNPACK", providers: [.apt(["libxnnpack-dev", "libpthreadpool-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMalloc"),
        .target(name: "CGearboxShims"),

        // File formats' common ground: atomic writes, JSON conventions, provenance labels.
        .target(name: "GearboxCore"),
        // What an app embeds to pick variants at run time: the lookup table, objectives and the
        // selector. Depends on GearboxCore only, so embedding it links no C library.
        .target(name: "GearboxRuntime", dependencies: ["GearboxCore"]),

        .target(
            name: "GearboxHardware",
            dependencies: [
                "GearboxCore", "CHwloc", "CPfm", "CCpufreq", "CGearboxShims",
            ]),
        .target(name: "GearboxKernels", swiftSettings: kernelFlags),
        .target(
            name: "GearboxEngine",
            dependencies: [
                "GearboxCore", "GearboxHardware", "GearboxKernels", "COpenBLAS", "CXNNPACK", "CGearboxShims",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: engineKernelSettings),
        .target(
            name: "GearboxPortfolio",
            dependencies: [
                "GearboxCore", "GearboxEngine",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "GearboxProfiler",
            dependencies: [
                "GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxPortfolio",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),
        .target(
            name: "GearboxPolicy",
            dependencies: ["GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxPortfolio", "GearboxProfiler"]),
        // Every result Gearbox measures (devices, portfolios, runs, validations, failures) in one
        // schema, behind one interface: SQLite (GRDB) by default, PostgreSQL (postgres-nio) for a lab.
        .target(
            name: "GearboxStore",
            dependencies: [
                "GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxPortfolio", "GearboxPolicy",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "GearboxReport",
            dependencies: ["GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxProfiler", "GearboxPolicy", "GearboxStore"]),
        // The pipelines that chain the steps (gearbox demo: probe → profile → validate → report).
        .target(
            name: "GearboxPipeline",
            dependencies: ["GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxProfiler", "GearboxPolicy", "GearboxReport"]),
        .target(
            name: "GearboxTraining",
            dependencies: ["GearboxCore", "GearboxEngine", "GearboxPortfolio", "COpenBLAS", "CZlib", "CMalloc"]),
        // The benchmark and conformance harnesses behind `gearbox bench` and `gearbox onnx
        // conformance`, kept out of the library modules.
        .target(
            name: "GearboxBenchmarks",
            dependencies: [
                "GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxEngine", "GearboxPortfolio",
                "GearboxProfiler", "GearboxPolicy", "COpenBLAS", "CXNNPACK",
            ],
            resources: [.copy("Scripts/onnxruntime_bench.py")]),
        .executableTarget(
            name: "gearbox",
            dependencies: [
                "GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxEngine", "GearboxPortfolio", "GearboxProfiler",
                "GearboxPolicy", "GearboxStore", "GearboxReport", "GearboxPipeline", "GearboxTraining", "GearboxBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "GearboxCoreTests", dependencies: ["GearboxCore", "GearboxTestSupport"]),
        .testTarget(name: "GearboxHardwareTests", dependencies: ["GearboxCore", "GearboxHardware", "CGearboxShims", "GearboxTestSupport"]),
        // Helpers shared by test targets (file-tree snapshots, scratch directories); no product depends on it.
        .target(name: "GearboxTestSupport", path: "Tests/GearboxTestSupport"),
        // Test-only malloc counter: proves steady-state inference allocates nothing.
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .testTarget(
            name: "GearboxEngineTests",
            dependencies: ["GearboxCore", "GearboxEngine", "GearboxBenchmarks", "CAllocationCounter", "GearboxTestSupport"]),
        .testTarget(name: "GearboxPortfolioTests", dependencies: ["GearboxCore", "GearboxEngine", "GearboxPortfolio", "GearboxTestSupport"]),
        .testTarget(
            name: "GearboxProfilerTests",
            dependencies: ["GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxPortfolio", "GearboxProfiler", "GearboxBenchmarks", "GearboxTestSupport"]),
        .testTarget(
            name: "GearboxPolicyTests",
            dependencies: [
                "GearboxCore", "GearboxHardware", "GearboxPortfolio", "GearboxProfiler", "GearboxPolicy",
                "GearboxTestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(
            name: "GearboxPipelineTests",
            dependencies: ["GearboxCore", "GearboxHardware", "GearboxPolicy", "GearboxPipeline", "GearboxTestSupport"]),
        .testTarget(
            name: "GearboxStoreTests",
            dependencies: ["GearboxCore", "GearboxRuntime", "GearboxHardware", "GearboxPolicy", "GearboxStore", "GearboxTestSupport"]),
        .testTarget(
            name: "GearboxReportTests",
            dependencies: ["GearboxCore", "GearboxRuntime", "GearboxProfiler", "GearboxStore", "GearboxReport", "GearboxTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "GearboxTrainingTests",
            dependencies: ["GearboxCore", "GearboxEngine", "GearboxPortfolio", "GearboxTraining", "GearboxTestSupport"]),
        // Drives the built `gearbox` binary end to end (namespaces, signals, exit codes).
        .testTarget(name: "GearboxCLITests", dependencies: ["gearbox", "GearboxCore", "GearboxEngine", "GearboxTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)

// The engine's SIMD kernels: Swift compiles for baseline x86-64 (SSE2, no FMA) unless told
// otherwise, which would pit 128-bit Swift kernels against OpenBLAS's runtime-dispatched AVX
// ones. On an x86-64 host, build the engine for x86-64-v3 (AVX2 + FMA; any x86-64 CPU since
// 2015). aarch64 has NEON and FMA in its baseline and needs nothing. (Not keyed on an
// environment variable: that would make every change of the environment rebuild the package.)
var engineKernelSettings: [SwiftSetting] {
    #if arch(x86_64)
    return [.unsafeFlags(["-Xcc", "-march=x86-64-v3"]), .define("GEARBOX_FMA")]
    #else
    return []
    #endif
}
