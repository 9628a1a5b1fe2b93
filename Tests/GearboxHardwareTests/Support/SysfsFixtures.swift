// GearboxHardwareTests/Support/SysfsFixtures: extracts each shared sysfs dump fixture (found by
// GearboxTestSupport's `SharedFixtures`) once per test process into a private temp dir, removed when the process exits. The extracted trees are
// shared between tests: treat them as read-only and call `writableCopy(of:)` before changing
// anything.

import Foundation
import GearboxHardware
import GearboxTestSupport
#if canImport(Glibc)
import Glibc
#endif

enum SysfsFixtures {
    /// The fixtures shipped with the project, by archive base name.
    static let armBoard = SharedFixtures.armBoard
    static let intelHybrid = SharedFixtures.intelHybrid
    static let fakeHeterogeneousNUMA = SharedFixtures.fakeHeterogeneousNUMA
    static let all = SharedFixtures.allSysfsDumps

    /// The extracted root of fixture `name` (tests that call this carry `.requiresSysfsDumps`).
    /// Throws when the fixtures are not on this machine or the archive does not extract.
    static func root(_ name: String) throws -> SysfsRoot {
        try cache.root(archive: try SharedFixtures.sysfsArchive(named: name), name: name)
    }

    /// A private, writable copy of fixture `name` (a fresh temp dir per call).
    static func writableCopy(of name: String) throws -> SysfsRoot {
        let sourceDirectory = try root(name).directory ?? ""
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

        func root(archive: String, name: String) throws -> SysfsRoot {
            lock.lock()
            defer { lock.unlock() }
            if let known = roots[name] { return known }
            let extracted = try SysfsRoot.extract(archive: archive, into: base)
            roots[name] = extracted
            return extracted
        }
    }
}
