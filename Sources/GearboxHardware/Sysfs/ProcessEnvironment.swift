// GearboxHardware/ProcessEnvironment: the one lock around changes to and copies of the
// process environment. hwloc 2.9 takes its sysfs root only from HWLOC_FSROOT, so loading a
// dump's topology briefly sets that variable; spawning a child process copies `environ`. Both
// happen under this lock so a copy never races a change (glibc may reallocate `environ`).

import Foundation

enum ProcessEnvironment {
    private static let lock = NSLock()

    /// Runs `body` while no other code in this module changes or copies the environment.
    static func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
