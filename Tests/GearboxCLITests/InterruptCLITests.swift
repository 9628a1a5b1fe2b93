// End-to-end: SIGINT to a real `gearbox profile --controller emulated` while it calibrates the
// emulated DVFS throttle (the calibration holds the controller's lock for seconds) stops it
// promptly with exit status 130, the throttled cgroup lifted and removed, the checkpoint kept
// and the resume command printed. Needs root and a cgroup v1 cpu controller.

import Foundation
import GearboxTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let cpuCgroupRoot = "/sys/fs/cgroup/cpu"

/// This process's own v1 cpu cgroup directory (where gearbox creates its child), or nil.
private func ownCPUCgroup() -> String? {
    let text = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        if fields.count == 3, fields[1].split(separator: ",").contains("cpu") {
            return cpuCgroupRoot + (fields[2] == "/" ? "" : String(fields[2]))
        }
    }
    return nil
}

private func read(_ path: String) -> String? {
    (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The `gearbox-<pid>-*` cgroups under `parent`.
private func gearboxCgroups(of pid: Int32, in parent: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [])
        .filter { $0.hasPrefix("gearbox-\(pid)-") }.map { parent + "/" + $0 }
}

/// This process's v1 cpu cgroup if gearbox can create a throttled child in it.
private func writableCPUCgroup() -> String? {
    guard let parent = ownCPUCgroup(), FileManager.default.fileExists(atPath: parent + "/cpu.cfs_quota_us"),
          access(parent, W_OK) == 0 else { return nil }
    return parent
}

private let defaultPortfolio = GearboxBinary.repositoryRoot + "/Portfolios/default"

@Suite(.serialized, .requiresBinary) struct InterruptCLITests {
    @Test(
        .requiresRoot,
        .enabled(if: writableCPUCgroup() != nil, "needs a writable cgroup v1 cpu controller at /sys/fs/cgroup/cpu"),
        .enabled(if: FileManager.default.fileExists(atPath: defaultPortfolio + "/portfolio.json"),
                 "needs Portfolios/default (gearbox portfolio synth)"))
    func sigintDuringAnEmulatedCalibrationRestoresTheQuotaKeepsTheCheckpointAndSaysHowToResume() throws {
        let binary = try GearboxBinary.built()
        let parent = try #require(writableCPUCgroup())
        let portfolio = defaultPortfolio
        let parentQuota = read(parent + "/cpu.cfs_quota_us")
        let scratch = ScratchDirectory("interrupt")
        let lut = scratch.file("default.lut.json")
        // --recalibrate: the low steps are calibrated now (about 1.5 s of throttled spinning each).
        let running = try GearboxBinary.start([
            "profile", "--portfolio", portfolio, "--controller", "emulated", "--frequencies", "250000,500000",
            "--quick", "--recalibrate", "--skip-switch-costs", "--skip-memory", "--no-progress", "--out", lut,
        ], environment: ["GEARBOX_LOCK_DIR": scratch.path], executable: binary)  // its own measuring lock: tests run side by side
        let pid = running.process.processIdentifier
        // Wait (up to 30 s on a loaded machine) until the calibration throttles its cgroup, then ~1 s more.
        var throttledCgroup: String?
        for _ in 0..<1500 where throttledCgroup == nil && running.process.isRunning {
            throttledCgroup = gearboxCgroups(of: pid, in: parent).first { dir in
                read(dir + "/cpu.cfs_quota_us").map { $0 != "-1" } ?? false
            }
            if throttledCgroup == nil { usleep(20_000) }
        }
        guard let throttledCgroup else {
            running.signal(SIGKILL)
            let result = running.wait()
            Issue.record("gearbox never throttled a cgroup (status \(result.status)): \(result.stderr)")
            return
        }
        usleep(1_000_000)
        #expect(running.process.isRunning, "gearbox finished before it could be interrupted")
        running.signal(SIGINT)
        // A hang detector, not a speed target: the old restore waited for the calibration's lock.
        var exited = false
        for _ in 0..<750 {
            if !running.process.isRunning { exited = true; break }
            usleep(20_000)
        }
        if !exited { running.signal(SIGKILL) }
        let result = running.wait()
        #expect(exited, "gearbox did not exit within 15 s of SIGINT (it had to be killed): \(result.stderr)")
        #expect(result.status == 128 + SIGINT, "exit status \(result.status); stderr: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: throttledCgroup), "the throttled cgroup \(throttledCgroup) was left behind")
        #expect(gearboxCgroups(of: pid, in: parent).isEmpty)
        #expect(read(parent + "/cpu.cfs_quota_us") == parentQuota, "the parent cgroup's quota changed")
        #expect(result.stderr.contains("DVFS state restored"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("--resume") && result.stderr.contains(lut), "no resume command in: \(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.file("default.checkpoint.json")), "the checkpoint was not kept")
    }
}
