// GearboxCore/FileLock: an advisory lock (flock(2)) on a lock file, so that two Gearbox
// processes never write one output at once, nor measure under DVFS at once. The lock file
// holds its holder's pid and command line, so a refused process can say who is in the way.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The process holding a lock, as written into the lock file.
public struct LockHolder: Equatable, Sendable, CustomStringConvertible {
    public var pid: Int32
    /// The holder's command line (shortened to 200 characters).
    public var command: String

    public init(pid: Int32, command: String) {
        self.pid = pid
        self.command = command.count > 200 ? String(command.prefix(199)) + "…" : command
    }

    /// This process.
    public static var current: LockHolder {
        LockHolder(pid: getpid(), command: CommandLine.arguments.joined(separator: " "))
    }

    public var description: String { "pid \(pid) (\(command))" }

    /// The lock file's text: the pid on the first line, the command line on the second.
    var fileText: String { "\(pid)\n\(command)\n" }

    init?(fileText: String) {
        let lines = fileText.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = lines.first, let pid = Int32(first) else { return nil }
        self.init(pid: pid, command: lines.count > 1 ? lines[1].trimmingCharacters(in: .newlines) : "")
    }
}

/// Why a lock could not be taken.
public enum FileLockError: Error, Equatable, CustomStringConvertible {
    /// Another process holds the lock (`holder` is nil when it has not written its name yet).
    case held(path: String, purpose: String, holder: LockHolder?)
    /// The lock file could not be created or locked.
    case cannotLock(path: String, reason: String)

    public var description: String {
        switch self {
        case let .held(path, purpose, holder):
            return "\(purpose) is in use by \(holder.map(\.description) ?? "another process") (lock \(path)); "
                + "wait for it to finish, or pass --wait to queue behind it"
        case let .cannotLock(path, reason):
            return "cannot lock \(path): \(reason) (check the directory exists and is writable)"
        }
    }
}

extension FileLockError: ClassifiedError {
    /// A busy output or machine is the environment's state, not a wrong input: exit 1.
    public var exitStatus: ExitStatus { .failure }
}

/// An exclusive advisory lock on the file at `path`, held until `release()` or deinit.
///
/// The lock file exists only while the lock is held: releasing unlinks it before closing, and
/// `acquire` checks that the file it locked is still the one at `path`, so a waiter never ends up
/// holding a lock on an unlinked file. A holder killed by SIGKILL leaves its file behind, unlocked;
/// the next `acquire` takes it over.
public final class FileLock {
    public let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Takes the lock at `path`, creating the file (not its directory).
    ///
    /// - Parameters:
    ///   - purpose: what the lock guards, for the error message ("the output x.lut.json").
    ///   - wait: block until the holder releases it instead of throwing `held`.
    ///   - whileWaiting: called once, before blocking, with the holder.
    /// - Throws: `FileLockError.held` when another process holds it and `wait` is false;
    ///   `FileLockError.cannotLock` when the file cannot be created or locked.
    public static func acquire(
        _ path: String, purpose: String, wait: Bool = false, whileWaiting: (LockHolder?) -> Void = { _ in }
    ) throws -> FileLock {
        var announced = false
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw FileLockError.cannotLock(path: path, reason: String(cString: strerror(errno))) }
            // Anyone allowed to measure may queue on a machine-wide lock another user created.
            _ = fchmod(fd, 0o666)
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                guard code == EWOULDBLOCK else {
                    close(fd)
                    throw FileLockError.cannotLock(path: path, reason: String(cString: strerror(code)))
                }
                let holder = Self.holder(ofLockAt: path)
                guard wait else {
                    close(fd)
                    throw FileLockError.held(path: path, purpose: purpose, holder: holder)
                }
                if !announced { whileWaiting(holder); announced = true }
                while flock(fd, LOCK_EX) != 0 {
                    guard errno == EINTR else {
                        let reason = String(cString: strerror(errno))
                        close(fd)
                        throw FileLockError.cannotLock(path: path, reason: reason)
                    }
                }
            }
            // The holder we waited for unlinked the file it locked: lock the one at `path` now.
            var locked = stat(), current = stat()
            guard fstat(fd, &locked) == 0, stat(path, &current) == 0,
                  locked.st_dev == current.st_dev, locked.st_ino == current.st_ino else {
                close(fd)
                continue
            }
            let text = LockHolder.current.fileText
            _ = ftruncate(fd, 0)
            _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
            return FileLock(path: path, descriptor: fd)
        }
    }

    /// The holder written into the lock file at `path`, if it can be read.
    public static func holder(ofLockAt path: String) -> LockHolder? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return LockHolder(fileText: text)
    }

    /// Unlinks the lock file and releases the lock. Safe to call twice.
    public func release() {
        guard descriptor >= 0 else { return }
        unlink(path)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// The machine-wide lock every process measuring under emulated or real DVFS holds, so that two
/// measurements never share the CPU (or its frequency) unknowingly. Commands that only read
/// (tables, reports, simulated runs) never take it.
public enum MeasuringLock {
    /// `$GEARBOX_LOCK_DIR/gearbox-measuring.lock`, else `/run/lock/…` where that folder is
    /// writable, else `/tmp/…`.
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let directory: String
        if let override = environment["GEARBOX_LOCK_DIR"], !override.isEmpty {
            directory = override
        } else if access("/run/lock", W_OK) == 0 {
            directory = "/run/lock"
        } else {
            directory = "/tmp"
        }
        return directory + "/" + fileName
    }

    public static let fileName = "gearbox-measuring.lock"

    /// Takes the machine-wide measuring lock (see `FileLock.acquire`).
    public static func acquire(wait: Bool, whileWaiting: (LockHolder?) -> Void = { _ in }) throws -> FileLock {
        try FileLock.acquire(path(), purpose: "this machine's DVFS measurement slot", wait: wait, whileWaiting: whileWaiting)
    }

    /// Takes the lock when `source` measures under real or emulated DVFS; nil otherwise
    /// (simulated and predicted runs share nothing).
    public static func acquire(
        for source: MeasurementSource, wait: Bool, whileWaiting: (LockHolder?) -> Void = { _ in }
    ) throws -> FileLock? {
        guard source == .real || source == .emulated else { return nil }
        return try acquire(wait: wait, whileWaiting: whileWaiting)
    }

    /// What a process queued behind the lock says, naming the holder.
    public static func waitingMessage(for holder: LockHolder?) -> String {
        "waiting for \(holder.map(\.description) ?? "another process") to finish measuring (\(path()))"
    }
}
