// GearboxHardware/RestoreOnSignal: puts DVFS state back when SIGINT or SIGTERM arrives, then
// ends the process. The signal handler (C, async-signal-safe) only writes the signal number to a
// pipe; a dedicated watcher thread reads it and restores. The interrupted work may hold a
// controller's lock for seconds (an emulated calibration step), so the restore never waits on it
// unboundedly: it runs on its own thread through `restoreAfterInterrupt(lockWaitNs:)` (a bounded
// try-lock, then a lock-free restore), and the process exits after a hard deadline even if that
// thread is stuck. (DispatchSource signal sources were not used: on Linux they did not see a
// signal again after an earlier source for it had been cancelled.)

import CGearboxShims
import Dispatch
import Foundation
import GearboxCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// While alive, turns SIGINT/SIGTERM into "restore every controller, say so, then exit 128+signal".
public final class RestoreOnSignal: @unchecked Sendable {
    /// How long a controller's restore waits for its lock before restoring without it.
    public static let defaultLockWaitNs = Nanoseconds(milliseconds: 300)
    /// How long the whole restore may take before the process exits regardless.
    public static let defaultDeadlineNs = Nanoseconds(seconds: 3)

    private let signals: [Int32]
    private let once = FiredFlag()
    /// The pipe the C handler writes signal numbers to: [read end, write end].
    private var pipeFDs: [Int32] = [-1, -1]
    private var cancelled = false

    /// Installs the guard.
    ///
    /// - Parameters:
    ///   - controllers: restored in order when a signal arrives.
    ///   - signals: the signals to catch.
    ///   - afterRestore: printed (through `report`) once the state is back, e.g. how to resume.
    ///   - lockWaitNs: how long each controller may wait for its own lock.
    ///   - deadlineNs: when the process ends even if a restore has not returned.
    ///   - report: receives each message line (default: standard error).
    ///   - terminate: ends the process afterwards. nil (the default): flush stdio and
    ///     `_exit(128 + signal)` (`exit` would run atexit handlers while the interrupted threads
    ///     still run); meanwhile a thread of the interrupted work that fails and calls `exit`
    ///     itself waits in an atexit handler until the restore's messages are out, and the status
    ///     stays 128 + signal. Tests pass their own.
    public init(
        restoring controllers: [FrequencyController], signals: [Int32] = [SIGINT, SIGTERM], afterRestore: String? = nil,
        lockWaitNs: Nanoseconds = RestoreOnSignal.defaultLockWaitNs, deadlineNs: Nanoseconds = RestoreOnSignal.defaultDeadlineNs,
        report: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
        terminate: (@Sendable (Int32) -> Void)? = nil
    ) {
        self.signals = signals
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            report("gearbox: cannot watch for SIGINT/SIGTERM (pipe: \(String(cString: strerror(errno)))); an interrupt will not restore DVFS: run `gearbox dvfs restore` after one")
            return
        }
        pipeFDs = fds
        let readFD = fds[0]
        let once = self.once
        let watcher = Thread {
            // A parent may have started us with these signals blocked (the mask is inherited
            // across exec; Foundation's Process does this): then no thread would ever take them.
            // The watcher accepts them, so a process-directed signal always reaches the handler.
            var accepted = sigset_t()
            sigemptyset(&accepted)
            for number in signals { sigaddset(&accepted, number) }
            pthread_sigmask(SIG_UNBLOCK, &accepted, nil)
            var byte: UInt8 = 0
            while true {
                let count = read(readFD, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                // 0 (end of file) or a zero byte: the guard was cancelled.
                guard count == 1, byte != 0 else { break }
                let number = Int32(byte)
                // A second signal while restoring changes nothing: the first one's exit follows.
                guard !once.fired.exchange(true, ordering: .sequentiallyConsistent) else { continue }
                if terminate == nil { gearbox_interrupt_started(number, Int32(clamping: Int(deadlineNs.milliseconds) + 1000)) }
                Self.restore(controllers, after: number, afterRestore: afterRestore, lockWaitNs: lockWaitNs,
                             deadlineNs: deadlineNs, report: report)
                if let terminate {
                    terminate(number)
                } else {
                    gearbox_interrupt_finished()
                    Self.exitImmediately(status: 128 + number)
                }
            }
            close(readFD)
        }
        watcher.name = "gearbox-signal-watcher"
        watcher.start()
        for number in signals { _ = gearbox_forward_signal(number, fds[1]) }
    }

    /// Restores on a worker thread and waits for it at most `deadlineNs`.
    private static func restore(
        _ controllers: [FrequencyController], after number: Int32, afterRestore: String?, lockWaitNs: Nanoseconds, deadlineNs: Nanoseconds,
        report: @escaping @Sendable (String) -> Void
    ) {
        let done = DispatchSemaphore(value: 0)
        let worker = Thread {
            var failed = false
            for controller in controllers {
                do { try controller.restoreAfterInterrupt(lockWaitNs: lockWaitNs) } catch {
                    failed = true
                    report("gearbox: restore after \(name(of: number)) failed: \(error)")
                }
            }
            report("gearbox: interrupted by \(name(of: number))" + (controllers.isEmpty ? "" : failed
                ? "; DVFS state only partly restored (run `gearbox dvfs restore`)"
                : "; DVFS state restored"))
            if let afterRestore { report(afterRestore) }
            done.signal()
        }
        worker.name = "gearbox-restore-on-signal"
        worker.start()
        if done.wait(timeout: .now() + .nanoseconds(Int(deadlineNs.wholeNanoseconds))) == .timedOut {
            report("gearbox: interrupted by \(name(of: number)); the DVFS restore did not finish in \(Int(deadlineNs.milliseconds)) ms: run `gearbox dvfs restore`")
        }
    }

    /// Removes the guard and gives the signals their default action back.
    public func cancel() {
        guard !cancelled else { return }
        cancelled = true
        for number in signals { _ = gearbox_stop_forwarding_signal(number) }
        guard pipeFDs[1] >= 0 else { return }
        // Wake the watcher with a zero byte (it closes the read end), then close the write end.
        var stop: UInt8 = 0
        _ = write(pipeFDs[1], &stop, 1)
        close(pipeFDs[1])
    }

    deinit { cancel() }

    /// Flushes standard output and error and ends the process without running atexit handlers
    /// or waiting for other threads.
    public static func exitImmediately(status: Int32) -> Never {
        fflush(stdout)
        fflush(stderr)
        _exit(status)
    }

    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signal)"
        }
    }
}

/// Whether a signal has already started the restore (shared with the dispatch handlers).
private final class FiredFlag: Sendable {
    let fired = Atomic<Bool>(false)
}
