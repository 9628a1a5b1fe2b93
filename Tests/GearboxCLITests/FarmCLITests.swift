// Tests for the board farm (Farm/ on labgrid, scripts/farm-virtual.sh): a two-board virtual farm
// profiles both boards into a SQLite store; a board whose sshd is killed mid-profile is recorded
// failed with its step and reason while the other succeeds; `--only-failed` then re-runs just it.
// Root only (network namespaces, `gearbox board run`), with the farm venv.

import Foundation
import GearboxTestSupport
import Testing

private enum FarmHost {
    static let root = SharedFixtures.packageRoot
    static let script = root + "/scripts/farm-virtual.sh"
    static let venv = root + "/.venv-farm"

    static var hasTools: Bool {
        ["/usr/sbin/sshd", "/usr/bin/socat", "/usr/bin/nsenter"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
            && ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var hasVenv: Bool {
        FileManager.default.isExecutableFile(atPath: venv + "/bin/pytest") && FileManager.default.isExecutableFile(atPath: venv + "/bin/labgrid-coordinator")
    }
}

/// One virtual farm's state folder and the script's subcommands on it.
private final class VirtualFarm {
    let state: ScratchDirectory
    let gearbox: String
    var isUp = false

    init(gearbox: String) {
        state = ScratchDirectory("farm")
        self.gearbox = gearbox
    }

    func command(_ arguments: [String]) throws -> RunningCommand {
        try GearboxBinary.start(arguments, environment: ["GEARBOX": gearbox], executable: FarmHost.script,
                                prefix: ["/bin/bash"], directory: FarmHost.root)
    }

    func up(boards: [String]) throws {
        let result = try command(["up", "--state", state.file("farm"), "--boards", boards.joined(separator: " ")]).wait()
        try #require(result.status == 0, "farm-virtual.sh up: \(result.stderr)")
        isUp = true
    }

    /// Starts the suite against the farm (results in `results`, the test's small budgets).
    func run(store: String, portfolio: String, results: String, extra: [String] = []) throws -> RunningCommand {
        try command(["run", "--state", state.file("farm"), "--store", store, "--",
                     "--results", results, "--portfolio", portfolio,
                     "--profile-args", "--controller real --quick --max-cell-seconds 0.2 --skip-switch-costs --skip-memory",
                     "--validate-duration", "2s"] + extra)
    }

    func cut(_ board: String) throws -> CommandResult { try command(["cut", "--state", state.file("farm"), board]).wait() }
    func revive(_ board: String) throws -> CommandResult { try command(["revive", "--state", state.file("farm"), board]).wait() }
    func remote(_ board: String) -> String { state.file("farm/remote/\(board)") }

    func down() {
        guard isUp else { return }
        _ = try? command(["down", "--state", state.file("farm")]).wait()
        isUp = false
    }
}

/// One board's outcome as the suite wrote it (results/PLACE/result.json).
private struct BoardResult: Decodable {
    var name: String
    var status: String
    var cells: Int
    var step: String?
    var reason: String?

    static func read(_ results: String, _ board: String) throws -> BoardResult {
        let data = try #require(FileManager.default.contents(atPath: "\(results)/\(board)/result.json"), "no result for \(board) in \(results)")
        return try JSONDecoder().decode(BoardResult.self, from: data)
    }
}

/// Each board's latest outcome in the store (`gearbox store list --json`): its newest run
/// (status "ok") or its newest failure (status "failed", with step and reason), by date.
private func latestOutcomes(store: String) throws -> [String: [String: String]] {
    let result = try GearboxBinary.run(["store", "list", "--store", store, "--json"])
    try #require(result.status == 0, "store list: \(result.stderr)")
    let listing = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    var latest: [String: [String: String]] = [:]
    func note(_ board: String?, _ outcome: [String: String]) {
        guard let board else { return }
        if let previous = latest[board], previous["date", default: ""] > outcome["date", default: ""] { return }
        latest[board] = outcome
    }
    for run in listing["runs"] as? [[String: Any]] ?? [] {
        note(run["device"] as? String, ["status": "ok", "date": run["date"] as? String ?? ""])
    }
    for failure in listing["failures"] as? [[String: Any]] ?? [] {
        note(failure["board"] as? String, ["status": "failed", "date": failure["date"] as? String ?? "",
                                           "step": failure["step"] as? String ?? "", "reason": failure["reason"] as? String ?? ""])
    }
    return latest
}

/// The default portfolio cut to its two smallest dense variants: the same files, a short sweep.
private func smallPortfolio(in scratch: ScratchDirectory) throws -> String {
    let source = SharedFixtures.packageRoot + "/Portfolios/default"
    let folder = scratch.file("portfolio")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let manifestData = try #require(FileManager.default.contents(atPath: source + "/portfolio.json"))
    let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
    let kept = (manifest["variants"] as? [[String: Any]] ?? []).filter { ["dense-w20", "dense-w28"].contains($0["name"] as? String) }
    try #require(kept.count == 2)
    var small = manifest
    small["variants"] = kept
    try JSONSerialization.data(withJSONObject: small, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: folder + "/portfolio.json"))
    for variant in kept {
        let file = try #require(variant["file"] as? String)
        try FileManager.default.copyItem(atPath: source + "/" + file, toPath: folder + "/" + file)
    }
    return folder
}

@Suite(.serialized, .requiresBinary, .requiresRoot, .requiresSysfsDumps,
       .enabled(if: FarmHost.hasTools, "needs ip, nsenter, sshd and socat (apt-get install iproute2 util-linux openssh-server socat)"),
       .enabled(if: FarmHost.hasVenv, "needs the farm venv .venv-farm (make farm-venv)"))
struct FarmCLITests {
    @Test func bothBoardsLandInTheStoreALostBoardIsRecordedFailedAndOnlyFailedCompletesIt() throws {
        let farm = VirtualFarm(gearbox: try GearboxBinary.built())
        defer { farm.down() }
        let scratch = ScratchDirectory("farm-store")
        let store = "sqlite:" + scratch.file("store.sqlite")
        let portfolio = try smallPortfolio(in: scratch)
        try farm.up(boards: ["st-u8500", "intel-i7-1370p"])

        // Both boards profiled: both runs in the store.
        let first = try farm.run(store: store, portfolio: portfolio, results: scratch.file("first")).wait()
        #expect(first.status == 0, "first run: \(first.stdout.suffix(3000))")
        for board in ["st-u8500", "intel-i7-1370p"] {
            let result = try BoardResult.read(scratch.file("first"), board)
            #expect(result.status == "ok" && result.cells > 0, "\(board): \(result)")
        }
        var latest = try latestOutcomes(store: store)
        #expect(latest["st-u8500"]?["status"] == "ok")
        #expect(latest["intel-i7-1370p"]?["status"] == "ok")

        // st-u8500's sshd is killed while it profiles: its run fails at `profile`, the other's does not.
        // The first run's output lock is left behind; only the second run's new one may start the cut.
        try? FileManager.default.removeItem(atPath: farm.remote("st-u8500") + "/out/portfolio.lut.json.lock")
        let second = try farm.run(store: store, portfolio: portfolio, results: scratch.file("second"))
        let lock = farm.remote("st-u8500") + "/out/portfolio.lut.json.lock"
        let deadline = Date().addingTimeInterval(600)
        while !FileManager.default.fileExists(atPath: lock), second.process.isRunning, Date() < deadline { usleep(100_000) }
        try #require(FileManager.default.fileExists(atPath: lock), "st-u8500 never started profiling: \(second.stdoutSoFar.suffix(2000))")
        #expect(try farm.cut("st-u8500").status == 0)
        let secondResult = second.wait()
        #expect(secondResult.status != 0, "a failed board fails the suite")
        let lost = try BoardResult.read(scratch.file("second"), "st-u8500")
        #expect(lost.status == "failed" && lost.step == "profile", "\(lost)")
        #expect(lost.reason?.contains("connection lost") == true, "\(lost)")
        #expect(try BoardResult.read(scratch.file("second"), "intel-i7-1370p").status == "ok")
        latest = try latestOutcomes(store: store)
        #expect(latest["st-u8500"]?["status"] == "failed")
        #expect(latest["st-u8500"]?["step"] == "profile")
        #expect(latest["st-u8500"]?["reason"]?.contains("connection lost") == true)
        #expect(latest["intel-i7-1370p"]?["status"] == "ok")

        // Back on the network, --only-failed profiles st-u8500 alone and completes it.
        #expect(try farm.revive("st-u8500").status == 0)
        let third = try farm.run(store: store, portfolio: portfolio, results: scratch.file("third"), extra: ["--only-failed"]).wait()
        #expect(third.status == 0, "only-failed run: \(third.stdout.suffix(3000))")
        #expect(try BoardResult.read(scratch.file("third"), "st-u8500").status == "ok")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("third/intel-i7-1370p")), "--only-failed left the good board alone")
        latest = try latestOutcomes(store: store)
        #expect(latest["st-u8500"]?["status"] == "ok")
    }
}
