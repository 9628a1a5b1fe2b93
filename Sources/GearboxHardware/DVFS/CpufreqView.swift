// GearboxHardware/CpufreqView: makes libcpufreq's fixed `/sys/devices/system/cpu` paths show a
// chosen `SysfsRoot`. For the live machine calls run inline. For a dump they run on one private
// OS thread that has unshared its mount namespace (unshare(CLONE_NEWNS) is per thread: it implies
// CLONE_FS, not CLONE_VM, so a multi-threaded process may do it), made every mount in that
// namespace private, and bind-mounted the dump's cpu folder over `/sys/devices/system/cpu`. The
// rest of the process, and the machine, keep the real view; the namespace dies with the thread.

import CGearboxShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where libcpufreq reads and writes: the live cpufreq tree or a sysfs dump shown in its place.
final class CpufreqView: @unchecked Sendable {
    /// The folder libcpufreq reads (compiled into it).
    static let cpuDirectory = "/sys/devices/system/cpu"

    let root: SysfsRoot
    /// True when the cpu folder holds regular files (a dump), not sysfs attributes: writes then
    /// need the care `prepareWrite`/`finishWrite` give them.
    let holdsRegularFiles: Bool
    private let worker: NamespaceThread?

    /// Opens the view of `root`. For a dump this sets up the private mount namespace.
    /// - Throws: `HardwareError.mountNamespace` (not root, no namespace support) or
    ///   `HardwareError.sysfsRoot` (the dump has no `sys/devices/system/cpu`).
    init(root: SysfsRoot) throws {
        self.root = root
        if let directory = root.directory {
            let source = directory + "/sys/devices/system/cpu"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw HardwareError.sysfsRoot(path: directory, reason: "it has no sys/devices/system/cpu folder")
            }
            let thread = try NamespaceThread(showing: source, over: Self.cpuDirectory)
            worker = thread
            holdsRegularFiles = try thread.run { !Self.isSysfs(Self.cpuDirectory) }
        } else {
            worker = nil
            holdsRegularFiles = !Self.isSysfs(Self.cpuDirectory)
        }
    }

    deinit { worker?.stop() }

    /// Runs `body` where `/sys/devices/system/cpu` shows this view's root. Every libcpufreq call
    /// and every direct read of that folder must go through here.
    func perform<T>(_ body: () throws -> T) throws -> T {
        guard let worker else { return try body() }
        return try worker.run(body)
    }

    /// The path of `file` in CPU `cpu`'s cpufreq folder, as seen inside `perform`.
    static func cpufreqPath(cpu: Int, _ file: String) -> String {
        "\(cpuDirectory)/cpu\(cpu)/cpufreq/\(file)"
    }

    /// The path a user should look at for `path` seen inside `perform` (the dump's own path).
    func displayPath(_ path: String) -> String {
        guard let directory = root.directory, path.hasPrefix(Self.cpuDirectory) else { return path }
        return directory + "/sys/devices/system/cpu" + path.dropFirst(Self.cpuDirectory.count)
    }

    private static func isSysfs(_ path: String) -> Bool {
        gearbox_filesystem_type(path) == 0x6265_6572  // SYSFS_MAGIC
    }
}

/// One OS thread living in its own mount namespace, running submitted closures one at a time.
private final class NamespaceThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var thread: Thread?

    init(showing source: String, over target: String) throws {
        let ready = DispatchSemaphore(value: 0)
        let outcome = SetupOutcome()
        let thread = Thread { [self] in
            outcome.error = Self.enterPrivateNamespace(showing: source, over: target)
            let failed = outcome.error != nil
            ready.signal()
            if !failed { serve() }
        }
        thread.name = "gearbox-sysfs-namespace"
        self.thread = thread
        thread.start()
        ready.wait()
        if let error = outcome.error { throw error }
    }

    /// Runs `body` on the namespace thread and waits for it.
    func run<T>(_ body: () throws -> T) throws -> T {
        if Thread.current === thread { return try body() }
        return try withoutActuallyEscaping(body) { escapable in
            // The job holds the closure only through `slot`, emptied before `done` is signalled,
            // so the closure has not escaped once `run` returns.
            let slot = JobSlot<T>(escapable)
            let done = DispatchSemaphore(value: 0)
            condition.lock()
            jobs.append {
                if let body = slot.body { slot.result = Result { try body() } }
                slot.body = nil
                done.signal()
            }
            condition.signal()
            condition.unlock()
            done.wait()
            guard let result = slot.result else { throw HardwareError.mountNamespace(reason: "the namespace thread stopped") }
            return try result.get()
        }
    }

    private final class JobSlot<T>: @unchecked Sendable {
        var body: (() throws -> T)?
        var result: Result<T, Error>?
        init(_ body: @escaping () throws -> T) { self.body = body }
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping { condition.unlock(); return }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Carries the set-up result from the new thread (written before `ready` is signalled).
    private final class SetupOutcome: @unchecked Sendable { var error: HardwareError? }

    /// A private mount namespace (``PrivateMountNamespace``) with `source` bind-mounted over `target`.
    private static func enterPrivateNamespace(showing source: String, over target: String) -> HardwareError? {
        if let problem = PrivateMountNamespace.enterOnThisThread() { return .mountNamespace(reason: problem) }
        if mount(source, target, nil, UInt(MS_BIND), nil) != 0 {
            return .mountNamespace(reason: "bind-mounting \(source) over \(target) failed: \(String(cString: strerror(errno)))")
        }
        return nil
    }
}
