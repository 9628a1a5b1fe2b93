// GearboxHardware/BoardRunner: `gearbox board run`. Renders a board model's live sysfs tree
// into a private temporary folder, starts a command in its own mount namespace where
// /sys/devices/system/cpu, /sys/class/thermal, /sys/class/hwmon and /sys/class/powercap are
// that tree, and meanwhile ticks the simulation about every millisecond, reading back what the
// command wrote. The simulation is driven by the monotonic clock here (tests of the model
// itself step it by hand). The command is the only process started; it is waited for by pid,
// and the tree is removed afterwards.

import CGearboxShims
import Foundation
import GearboxCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs a command on a board model.
public enum BoardRunner {
    /// The folders the board's tree replaces, relative to the tree's root and to `/`.
    public static let mountedFolders = ["sys/devices/system/cpu", "sys/class/thermal", "sys/class/hwmon", "sys/class/powercap"]

    /// A marker in the board's cpu folder naming the model, so that a probe inside the board
    /// can say it describes a model, not hardware.
    public static let markerFile = "gearbox-board.json"

    /// The SCHED_FIFO priority of the tick loop (low among real-time ones: above every ordinary
    /// process, below the kernel's own threads).
    static let tickPriority: Int32 = 10

    public struct Options: Sendable {
        public var ambientCelsius: Double?
        /// The simulation's tick.
        public var tickNs: Nanoseconds
        /// Seeds the hwmon readings' noise (`SensorNoise`); nil: noiseless, deterministic readings.
        public var seed: UInt64?
        public init(ambientCelsius: Double? = nil, tickNs: Nanoseconds = Nanoseconds(milliseconds: 1), seed: UInt64? = nil) {
            self.ambientCelsius = ambientCelsius; self.tickNs = tickNs; self.seed = seed
        }
    }

    /// What the run did, for the CLI to report.
    public struct Outcome: Sendable {
        /// The command's exit status (128 + N when signal N ended it).
        public var exitStatus: Int32
        /// Folders of the board that could not be shown (the host has no such mount point).
        public var unmounted: [String]
        /// Why the command was not slowed to the board's frequency, when it was not.
        public var unthrottled: String?
        public var simulatedNs: Nanoseconds
        public var finalCelsius: Double
    }

    /// Runs `command` (looked up in PATH) on `model`, whose static tree comes from `archive`.
    /// - Throws: `BoardError.needsRoot`, `.tree`, `.run`; a `HardwareError` if the dump does
    ///   not extract.
    public static func run(model: BoardModel, archive: String, command: [String], options: Options = Options()) throws -> Outcome {
        guard geteuid() == 0 else { throw BoardError.needsRoot }
        guard !command.isEmpty else { throw BoardError.run(reason: "no command given (gearbox board run NAME -- COMMAND …)") }
        let scratch = NSTemporaryDirectory() + "gearbox-board-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var simulation = BoardSimulation(model: model, ambientCelsius: options.ambientCelsius)
        simulation.sensorNoise = options.seed.map { SensorNoise(seed: $0) }
        let tree = try BoardTree.create(archive: archive, into: scratch, simulation: simulation)
        for folder in mountedFolders {
            try? FileManager.default.createDirectory(atPath: tree.root + "/" + folder, withIntermediateDirectories: true)
        }
        do {
            let marker = try JSONFile.encoder().encode(DeviceDescription.BoardLabel(name: model.name))
            try marker.write(to: URL(fileURLWithPath: tree.cpuDirectory + "/" + markerFile))
        } catch {
            throw BoardError.tree(path: tree.cpuDirectory + "/" + markerFile, reason: "cannot write")
        }
        let unmounted = mountedFolders.filter { !$0.hasPrefix("sys/class/") && !FileManager.default.fileExists(atPath: "/" + $0) }
        // The command slows down with the board's clock where the cgroup CPU controller allows;
        // the group exists before the command starts, so it starts inside.
        var throttle: BoardThrottle?
        var unthrottled: String?
        switch BoardThrottle.create() {
        case let .success(created): throttle = created
        case let .failure(unavailable): unthrottled = unavailable.reason
        }
        defer { throttle?.stop() }
        // A board with CPUs the host lacks: the command's thread binding maps them (`BoardCPUMap`).
        var environment: [String: String] = [:]
        if let host = try? ThreadPinning.currentThreadBinding(), !host.isEmpty, BoardCPUMap.isNeeded(for: model, host: host) {
            environment[BoardCPUMap.environmentKey] = host.listString
        }
        let pid = try spawnInBoardNamespace(command: command, environment: environment, tree: tree.root,
                                            folders: mountedFolders.filter { !unmounted.contains($0) },
                                            beforeSpawn: { [throttle] in throttle?.enterFromSpawningThread() })
        if let active = throttle {
            do { try active.adopt(pid: pid) } catch {
                unthrottled = "cannot move the command into \(active.directory): \(error)"
                active.stop()
                throttle = nil
            }
        }

        // Signals meant for the run go to the command (through a pipe the handler writes the
        // signal number to); the loop below ends when the command does.
        let forwarded = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
        var signalPipe: [Int32] = [-1, -1]
        guard pipe(&signalPipe) == 0,
              signalPipe.allSatisfy({ fcntl($0, F_SETFL, O_NONBLOCK) == 0 && fcntl($0, F_SETFD, FD_CLOEXEC) == 0 }) else {
            kill(pid, SIGTERM)
            var ignored: Int32 = 0
            _ = waitpid(pid, &ignored, 0)
            throw BoardError.run(reason: "cannot create the signal pipe: \(String(cString: strerror(errno)))")
        }
        for signo in forwarded { _ = gearbox_forward_signal(signo, signalPipe[1]) }
        defer {
            for signo in forwarded { _ = gearbox_stop_forwarding_signal(signo) }
            close(signalPipe[0]); close(signalPipe[1])
        }

        // This loop is the board's clock. On a loaded host it woke 5–25 ms late (a 20 µs
        // transition read back after ~25 ms at load 13 on 2 CPUs), so it runs SCHED_FIFO: it
        // sleeps every tick and takes little CPU, and the command keeps the ordinary policy.
        var realtime = sched_param()
        realtime.sched_priority = Self.tickPriority
        let onTime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &realtime) == 0
        defer {
            var normal = sched_param()
            if onTime { _ = pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal) }
        }
        var status: Int32 = 0
        var last = MonotonicClock.nowNs()
        let start = last
        do {
            while true {
                let finished = waitpid(pid, &status, WNOHANG)
                if finished == pid { break }
                if finished < 0 && errno != EINTR { throw BoardError.run(reason: "waitpid failed: \(String(cString: strerror(errno)))") }
                var signo: UInt8 = 0
                while read(signalPipe[0], &signo, 1) == 1 { kill(pid, Int32(signo)) }
                // Time first, then the writes: a write seen now counts from now, so it applies
                // at a later tick, never before its transition latency (at most a tick late).
                let now = MonotonicClock.nowNs()
                simulation.advance(byNs: Int64(now - last))
                last = now
                tree.collectWrites(into: &simulation)
                try tree.render(simulation)
                if let active = throttle {
                    do { try active.set(ratio: simulation.speedRatio(domain: 0)) } catch {
                        unthrottled = "throttle stopped: \(error)"
                        active.stop()
                        throttle = nil
                    }
                }
                let spent = MonotonicClock.elapsed(since: now)
                let rest = (options.tickNs - spent).wholeNanoseconds
                if rest > 0 { usleep(useconds_t(rest / 1000)) }
            }
        } catch {
            kill(pid, SIGTERM)
            _ = waitpid(pid, &status, 0)
            throw error
        }
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(exitStatus: exit, unmounted: unmounted, unthrottled: unthrottled, simulatedNs: Nanoseconds(last - start), finalCelsius: simulation.celsius)
    }

    /// Starts `command` from a thread that first enters a private mount namespace
    /// (``PrivateMountNamespace``) and bind-mounts the tree's folders over the host's. The child
    /// inherits the namespace; the thread then ends and the rest of this process keeps the host's
    /// view.
    private static func spawnInBoardNamespace(command: [String], environment: [String: String], tree: String, folders: [String],
                                              beforeSpawn: @escaping @Sendable () -> Void) throws -> pid_t {
        let outcome = SpawnOutcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            if let problem = PrivateMountNamespace.enterOnThisThread() {
                outcome.result = .failure(.run(reason: problem))
                return
            }
            if let problem = provideMountPoints(for: folders, stash: tree + "/.host-sys-class") {
                outcome.result = .failure(.run(reason: problem))
                return
            }
            for folder in folders where mount(tree + "/" + folder, "/" + folder, nil, UInt(MS_BIND), nil) != 0 {
                outcome.result = .failure(.run(reason: "bind-mounting the board's \(folder) over /\(folder) failed: \(String(cString: strerror(errno)))"))
                return
            }
            beforeSpawn()
            outcome.result = spawn(command, adding: environment)
        }
        thread.name = "gearbox-board-namespace"
        thread.start()
        done.wait()
        guard let result = outcome.result else { throw BoardError.run(reason: "the namespace thread ended without starting the command") }
        return try result.get()
    }

    /// Inside the new namespace: when the host lacks one of the `/sys/class` folders (no
    /// hwmon or powercap on this VM), lays a tmpfs over `/sys/class` that holds every host
    /// entry again (each bind-mounted back from a stash of the host's `/sys/class`, so their
    /// relative links still resolve) plus empty folders to mount the board's over.
    /// - Returns: why it failed, or nil.
    private static func provideMountPoints(for folders: [String], stash: String) -> String? {
        let files = FileManager.default
        let missing = folders.filter { $0.hasPrefix("sys/class/") && !files.fileExists(atPath: "/" + $0) }
        guard !missing.isEmpty else { return nil }
        func failure(_ what: String) -> String { "\(what) failed: \(String(cString: strerror(errno)))" }
        let host = (try? files.contentsOfDirectory(atPath: "/sys/class")) ?? []
        guard (try? files.createDirectory(atPath: stash, withIntermediateDirectories: true)) != nil else { return "cannot create \(stash)" }
        guard mount("/sys/class", stash, nil, UInt(MS_BIND), nil) == 0 else { return failure("bind-mounting /sys/class aside") }
        guard mount("tmpfs", "/sys/class", "tmpfs", 0, "mode=0755") == 0 else { return failure("mounting a tmpfs over /sys/class") }
        for entry in host + missing.map({ String($0.dropFirst("sys/class/".count)) }) {
            guard mkdir("/sys/class/" + entry, 0o755) == 0 || errno == EEXIST else { return failure("creating /sys/class/\(entry)") }
        }
        for entry in host where mount(stash + "/" + entry, "/sys/class/" + entry, nil, UInt(MS_BIND | MS_REC), nil) != 0 {
            return failure("bind-mounting the host's /sys/class/\(entry) back")
        }
        return nil
    }

    private final class SpawnOutcome: @unchecked Sendable { var result: Result<pid_t, BoardError>? }

    /// posix_spawnp with the default disposition of the signals the parent forwards, and this
    /// process's environment plus `added`.
    private static func spawn(_ command: [String], adding added: [String: String]) -> Result<pid_t, BoardError> {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signo in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, signo) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let arguments = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid = pid_t()
        var variables = ProcessInfo.processInfo.environment
        variables.merge(added) { $1 }
        let environment = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for variable in environment { free(variable) } }
        let code = posix_spawnp(&pid, command[0], nil, &attributes, arguments, environment)
        guard code == 0 else { return .failure(.run(reason: "cannot start \(command[0]): \(String(cString: strerror(code)))")) }
        return .success(pid)
    }
}

extension BoardRunner {
    /// The board model whose tree `root` shows (the marker `board run` leaves in the cpu
    /// folder), or nil on hardware and plain dumps.
    public static func label(root: SysfsRoot) -> DeviceDescription.BoardLabel? {
        guard let data = FileManager.default.contents(atPath: root.path("sys/devices/system/cpu/" + markerFile)) else { return nil }
        return try? JSONDecoder().decode(DeviceDescription.BoardLabel.self, from: data)
    }
}
