// GearboxHardware/RestoreOnSignal: puts DVFS state back when SIGINT or SIGTERM arrives. Signals
// are received through DispatchSource on a private queue (nothing runs inside a signal handler);
// the restore there takes each controller's lock, so it waits for a change in flight to finish.

import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// While alive, turns SIGINT/SIGTERM into "restore every controller, then exit 128+signal".
public final class RestoreOnSignal: @unchecked Sendable {
    private let queue = DispatchQueue(label: "gearbox.dvfs.restore-on-signal")
    private var sources: [DispatchSourceSignal] = []
    private let signals: [Int32]

    /// Installs the guard.
    ///
    /// - Parameters:
    ///   - controllers: restored in order when a signal arrives.
    ///   - signals: the signals to catch.
    ///   - report: receives a one-line message per restore failure (default: standard error).
    ///   - terminate: ends the process afterwards (default: `exit(128 + signal)`).
    public init(
        restoring controllers: [FrequencyController], signals: [Int32] = [SIGINT, SIGTERM],
        report: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
        terminate: @escaping @Sendable (Int32) -> Void = { exit(128 + $0) }
    ) {
        self.signals = signals
        for number in signals {
            // Ignore the default action (termination) so the dispatch source sees the signal.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                for controller in controllers {
                    do { try controller.restore() } catch { report("gearbox: restore after signal \(number) failed: \(error)") }
                }
                terminate(number)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Removes the guard and gives the signals their default action back.
    public func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
        for number in signals { signal(number, SIG_DFL) }
    }

    deinit { cancel() }
}
