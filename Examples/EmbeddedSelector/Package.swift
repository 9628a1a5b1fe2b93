// swift-tools-version:6.1
// An app that embeds Gearbox's variant selector: it depends on the GearboxRuntime product only,
// so it links none of the profiler's C libraries (hwloc, libpfm, OpenBLAS, XNNPACK, ...).
import PackageDescription

let package = Package(
    name: "EmbeddedSelector",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Gearbox", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "EmbeddedSelector",
            dependencies: [.product(name: "GearboxRuntime", package: "Gearbox")]),
    ]
)
