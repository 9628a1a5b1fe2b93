// GearboxHardwareTests/Support/SysfsFixtures: finds the shared sysfs dump fixtures
// (`../shared/fixtures/sysfs/*.tar.bz2` next to the checkout) and extracts each one once per
// test process into a private temp dir, removed when the process exits. The extracted trees are
// shared between tests: treat them as read-only and call `writableCopy(of:)` before changing
// anything.

import Foundation
import GearboxHardware
#if canImport(Glibc)
import Glibc
#endif

enum SysfsFixtures {
    /// The fixtures shipped with the project, by archive base name.
    static let armBoard = "2arm-2c"
    static let intelHybrid = "20em64t-hybrid-1p6c2t+2ca4co1t"
    static let fakeHeterogeneousNUMA = "fakeheterocpunuma"
    static let all = [armBoard, intelHybrid, fakeHeterogeneousNUMA]

    /// The folder holding the `.tar.bz2` archives, or nil (tests then skip with a printed reason).
    static let directory: String? = {
        guard let repository = SysfsRoot.repositoryRoot(containing: #filePath) else { return nil }
        return SysfsRoot.fixturesDirectory(repositoryRoot: repository)
    }()

    /// The extracted root of fixture `name`, or nil when the fixtures are not on this machine.
    /// Throws if the archive exists but does not extract.
    static func root(_ name: String) throws -> SysfsRoot? {
        guard let directory else {
            print("skipped: sysfs fixtures not found (expected ../shared/fixtures/sysfs or GEARBOX_SYSFS_FIXTURES)")
            return nil
        }
        return try cache.root(name, archiveDirectory: directory)
    }

    /// A private, writable copy of fixture `name` (a fresh temp dir per call).
    static func writableCopy(of name: String) throws -> SysfsRoot? {
        guard let source = try root(name), let sourceDirectory = source.directory else { return nil }
        let destination = NSTemporaryDirectory() + "gearbox-sysfs-copy-" + UUID().uuidString
        try FileManager.default.copyItem(atPath: sourceDirectory, toPath: destination)
        return try SysfsRoot.dump(at: destination)
    }

    /// One extraction per fixture per process; safe to call from parallel tests.
    private static let cache = ExtractionCache()

    private final class ExtractionCache: @unchecked Sendable {
        private let lock = NSLock()
        private var roots: [String: SysfsRoot] = [:]
        private let base: String

        private static let parent = NSTemporaryDirectory() + "gearbox-test-sysfs"
        private static var processDirectory: String { parent + "/\(getpid())" }

        init() {
            // Swift Testing has no global teardown, but the test process ends in exit(3): remove
            // this process's trees there, and the shared parent once no other process uses it.
            atexit {
                try? FileManager.default.removeItem(atPath: ExtractionCache.processDirectory)
                rmdir(ExtractionCache.parent)
            }
            // A test process that crashed or was killed could not, so remove the trees of
            // processes that are gone.
            let parent = ExtractionCache.parent
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
                if let pid = Int32(entry), kill(pid, 0) != 0, errno == ESRCH {
                    try? FileManager.default.removeItem(atPath: parent + "/" + entry)
                }
            }
            base = ExtractionCache.processDirectory
        }

        func root(_ name: String, archiveDirectory: String) throws -> SysfsRoot {
            lock.lock()
            defer { lock.unlock() }
            if let known = roots[name] { return known }
            let extracted = try SysfsRoot.extract(archive: archiveDirectory + "/" + name + ".tar.bz2", into: base)
            roots[name] = extracted
            return extracted
        }
    }
}
