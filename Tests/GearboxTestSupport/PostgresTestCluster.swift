// GearboxTestSupport/PostgresTestCluster: a throwaway PostgreSQL 15 cluster for one test —
// `initdb` and `pg_ctl` in a scratch directory as the `postgres` user, listening on a Unix
// socket only (no TCP port, nothing reachable from outside), stopped when the test is done.
//
// Never hangs the test process: pg_ctl's server keeps running after pg_ctl exits and inherits
// its descriptors, so pg_ctl's output goes to files (never a pipe that would stay open while the
// server lives), no other descriptor reaches it, pg_ctl waits (-w) with a timeout, and every
// command is killed after a deadline (see `run`).

import Foundation
import Testing

public final class PostgresTestCluster {
    public static let binDirectory = "/usr/lib/postgresql/15/bin"
    static let runuser = "/usr/sbin/runuser"

    /// PostgreSQL 15's initdb is installed and we are root (to run it as `postgres`).
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: binDirectory + "/initdb")
            && FileManager.default.isExecutableFile(atPath: runuser)
            && HostFacts.isRoot && getpwnam("postgres") != nil
    }

    /// The directory holding the server's socket.
    public let socketDirectory: String
    public let database = "gearbox"
    public let user = "postgres"
    /// The store URL reaching it (`postgresql:///DB?host=…&user=…`).
    public var url: String { "postgresql:///\(database)?host=\(socketDirectory)&user=\(user)" }

    private let scratch: ScratchDirectory
    private let dataDirectory: String
    private var running = false

    /// Creates, starts and creates the `gearbox` database. Throws with pg_ctl's log when any step fails.
    public init(_ label: String = "pg") throws {
        scratch = ScratchDirectory(label)
        dataDirectory = scratch.file("data")
        socketDirectory = scratch.file("socket")
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: false)
        guard let account = getpwnam("postgres") else { throw FixtureError("no postgres user") }
        // The server runs as postgres: it must own its folders (the scratch directory is root's).
        for path in [scratch.path, socketDirectory] {
            guard chown(path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                throw FixtureError("cannot chown \(path) to postgres: errno \(errno)")
            }
        }
        try run("initdb", ["-D", dataDirectory, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        try run("pg_ctl", [
            "-D", dataDirectory, "-l", scratch.file("server.log"), "-w", "-t", "60",
            "-o", "-c listen_addresses='' -k \(socketDirectory) -c fsync=off", "start",
        ])
        running = true
        try run("createdb", ["-h", socketDirectory, "-U", user, database])
    }

    /// Stops the server (fast shutdown: open connections are closed) and waits for it.
    public func stop() {
        guard running else { return }
        running = false
        try? run("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    deinit { stop() }

    /// The server log so far (for a failing test's message).
    public var serverLog: String {
        (try? String(contentsOfFile: scratch.file("server.log"), encoding: .utf8)) ?? ""
    }

    /// Runs BIN/`tool` as postgres with its output in a file, killing it after `deadline`.
    ///
    /// Not through Foundation's `Process`: it learns that a child ended from a descriptor the
    /// child inherits, and the server pg_ctl starts inherits it too and outlives pg_ctl, so
    /// `Process` would wait for the server (the hang these tests once had). `posix_spawn` and
    /// `waitpid` wait for the tool alone; a bash prelude closes every descriptor above 2 so that
    /// the server holds no pipe of this or any other test running in parallel.
    private func run(_ tool: String, _ arguments: [String], deadline: TimeInterval = 90) throws {
        let outputPath = scratch.file("\(tool).out")
        let prelude = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; cd "$0" && exec "$@""#
        let argv = ["/bin/bash", "-c", prelude, scratch.path, Self.runuser, "-u", "postgres", "--", Self.binDirectory + "/" + tool] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw FixtureError("cannot start \(tool): errno \(spawned)") }
        var status: Int32 = 0
        let end = Date().addingTimeInterval(deadline)
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited == -1 && errno != EINTR { throw FixtureError("waitpid for \(tool): errno \(errno)") }
            if Date() > end {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw FixtureError("\(tool) did not finish in \(Int(deadline)) s: \(log(outputPath))")
            }
            usleep(20_000)
        }
        // Exited normally (no signal) with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw FixtureError("\(tool) failed (wait status \(status)): \(log(outputPath)) \(serverLog)")
        }
    }

    private func log(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5).joined(separator: " | ")
    }
}

extension Trait where Self == ConditionTrait {
    /// A throwaway PostgreSQL cluster can be started (`PostgresTestCluster.isAvailable`).
    public static var requiresPostgres: Self {
        .enabled(if: PostgresTestCluster.isAvailable, "needs root and PostgreSQL 15 (/usr/lib/postgresql/15/bin/initdb)")
    }
}
