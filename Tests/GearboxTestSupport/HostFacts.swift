// GearboxTestSupport/HostFacts: what this machine offers that some tests need (root, Debian
// packages, kernel files). Tests that need one say so in a trait, e.g.
// `@Test(.enabled(if: HostFacts.isRoot, "needs root: ..."))`, so a test that cannot run here is
// reported as skipped with its reason instead of passing without checking anything.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the test host, each computed once on first use.
public enum HostFacts {
    /// Running as root (private mount namespaces, cgroup and DVFS writes need it).
    public static let isRoot: Bool = geteuid() == 0

    /// Debian's `libonnx-testdata`: the official ONNX backend test data.
    public static let onnxTestDataDirectory = "/usr/share/libonnx-testdata/data"
    public static let hasONNXTestData: Bool = FileManager.default.fileExists(atPath: onnxTestDataDirectory)

    /// A headless Chromium on `PATH` (the report render check uses it).
    public static let chromium: String? = executable(named: ["chromium", "chromium-browser", "google-chrome"])
    public static var hasChromium: Bool { chromium != nil }

    /// util-linux's `setpriv` (runs a command as another user).
    public static let hasSetpriv: Bool = FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    /// Linux procfs files some readers parse.
    public static let hasProcLoadAverage: Bool = FileManager.default.fileExists(atPath: "/proc/loadavg")
    public static let hasProcSelfStatus: Bool = FileManager.default.fileExists(atPath: "/proc/self/status")

    /// `python3` on `PATH` (`make test` puts its venv first).
    public static let python: String? = executable(named: ["python3"])

    /// `python3` on `PATH` can import onnxruntime, the reference runtime for exported models.
    public static let hasONNXRuntime: Bool = pythonCanImport("onnxruntime")
    /// `python3` on `PATH` can import NumPy (tests write `.npz` files with it).
    public static let hasNumPy: Bool = pythonCanImport("numpy")

    /// Runs `python3 -c script arguments…` and returns its exit status; output goes to this
    /// process's unless `quiet`.
    public static func runPython(_ script: String, arguments: [String] = [], quiet: Bool = false) throws -> Int32 {
        guard let python else { throw CocoaError(.executableNotLoadable) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script] + arguments
        if quiet {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private static func pythonCanImport(_ module: String) -> Bool {
        (try? runPython("import \(module)", quiet: true)) == 0
    }

    /// The first of `names` found as an executable file on `PATH`, as a full path.
    public static func executable(named names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in names {
            for directory in path.split(separator: ":") {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }
}
