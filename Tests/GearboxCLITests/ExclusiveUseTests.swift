// Two gearbox processes never write one table at once, nor measure under DVFS at once: the
// second refuses naming the first (exit 1), or queues behind it with --wait.

import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

/// A quick simulated profile of the shipped default portfolio into `out`.
func simulatedProfileArguments(out: String, portfolio: String = GearboxBinary.repositoryRoot + "/Portfolios/default") -> [String] {
    ["profile", "--portfolio", portfolio, "--controller", "simulated", "--out", out, "--quick",
     "--skip-switch-costs", "--skip-memory", "--no-progress", "--json"]
}

/// The files of `directory` (recursively), sorted; empty when it does not exist.
func filesUnder(_ directory: String) -> [String] {
    (FileManager.default.subpaths(atPath: directory) ?? []).sorted()
}

@Suite(.enabled(if: GearboxBinary.path != nil, "no built gearbox binary under .build (run `swift build`)"))
struct ExclusiveUseTests {
    @Test func aSecondProfileOfTheSameTableRefusesNamingTheFirstAndWritesNothing() throws {
        let scratch = ScratchDirectory("exclusive")
        let out = scratch.file("profiles/default.simulated.lut.json")
        try FileManager.default.createDirectory(atPath: scratch.file("profiles"), withIntermediateDirectories: true)
        // The test stands in for the first run: it holds the table's lock.
        let first = try FileLock.acquire(out + ".lock", purpose: "the output \(out)")
        let refused = try GearboxBinary.run(simulatedProfileArguments(out: out))
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("gearbox: ") && refused.stderr.contains("pid \(getpid())"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        // Neither the table, its samples nor a checkpoint: only the holder's lock file.
        #expect(filesUnder(scratch.file("profiles")) == ["default.simulated.lut.json.lock"])
        first.release()
        let alone = try GearboxBinary.run(simulatedProfileArguments(out: out))
        #expect(alone.status == 0, "\(alone.stderr)")
        #expect(filesUnder(scratch.file("profiles")) == ["default.simulated.lut.json", "default.simulated.samples.sqlite"])
    }

    @Test func withWaitTheSecondProfileQueuesBehindTheFirstAndThenWritesItsTable() throws {
        let scratch = ScratchDirectory("exclusive")
        let out = scratch.file("default.simulated.lut.json")
        let first = try FileLock.acquire(out + ".lock", purpose: "the output \(out)")
        let waiting = try GearboxBinary.start(simulatedProfileArguments(out: out) + ["--wait"])
        let queued = waiting.waitForError(containing: "waiting for pid \(getpid())")
        #expect(!FileManager.default.fileExists(atPath: out))
        first.release()
        let result = waiting.wait()
        #expect(queued, "\(result.stderr)")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["cellsMeasured"] as? Int ?? 0 > 0)
    }

    @Test func whileAnotherProcessMeasuresUnderDVFSEmulatedRunsRefuseAndSimulatedOnesDoNot() throws {
        let scratch = ScratchDirectory("exclusive")
        let environment = ["GEARBOX_LOCK_DIR": scratch.path]
        let measuring = try FileLock.acquire(scratch.file(MeasuringLock.fileName), purpose: "measuring")
        defer { measuring.release() }
        let profile = try GearboxBinary.run(
            ["profile", "--portfolio", GearboxBinary.repositoryRoot + "/Portfolios/default", "--controller", "emulated",
             "--out", scratch.file("emulated/default.lut.json"), "--quick", "--no-progress"], environment: environment)
        #expect(profile.status == 1, "\(profile.stderr)")
        #expect(profile.stderr.hasPrefix("gearbox: ") && profile.stderr.contains("pid \(getpid())"), "\(profile.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("emulated")))
        let validate = try GearboxBinary.run(
            ["validate", "--lut", GearboxBinary.repositoryRoot + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json",
             "--trace", "step", "--objective", "p99<=8ms", "--controller", "emulated", "--runner", "work",
             "--duration", "1s", "--out", scratch.file("validation")], environment: environment)
        #expect(validate.status == 1, "\(validate.stderr)")
        #expect(validate.stderr.contains("pid \(getpid())"), "\(validate.stderr)")
        // Simulated runs and read-only commands share nothing with a measurement: they go on.
        let simulated = try GearboxBinary.run(simulatedProfileArguments(out: scratch.file("simulated.lut.json")), environment: environment)
        #expect(simulated.status == 0, "\(simulated.stderr)")
        let show = try GearboxBinary.run(["lut", "show", scratch.file("simulated.lut.json")], environment: environment)
        #expect(show.status == 0, "\(show.stderr)")
    }
}
