// gearbox dvfs: list, set and restore DVFS state (with a crash-safe journal). Parsing, printing
// and exit codes only; the work is in GearboxHardware (DVFSInventory, the controllers, the journal).

import ArgumentParser
import Foundation
import GearboxCore
import GearboxHardware

struct DVFSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dvfs",
        abstract: "List, set and restore DVFS state (with a crash-safe journal).",
        discussion: """
            Real DVFS goes through libcpufreq. Before the first change Gearbox journals every \
            domain's governor and limits (default /var/lib/gearbox/dvfs-journal.json, or \
            $GEARBOX_STATE_DIR, or --state-dir); `gearbox dvfs restore` puts them back after a \
            crash. On a machine without cpufreq, DVFS is emulated by cgroup CPU throttling of \
            Gearbox's own measurement threads, and labelled emulated. `set`, `hold` and \
            `list --calibrate` on this machine take the machine-wide measuring lock: while another \
            gearbox process measures they exit 1 naming it, or wait with --wait.

            Example:
              gearbox dvfs list
              gearbox dvfs set --domain 0 --khz 800000
              gearbox dvfs restore
            """,
        subcommands: [DVFSListCommand.self, DVFSSetCommand.self, DVFSRestoreCommand.self, DVFSHoldCommand.self]
    )
}

/// Options every dvfs subcommand shares.
struct DVFSRootOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read a sysfs dump (a folder holding sys/, or a .tar.bz2 for list) instead of this machine; needs root.", valueName: "dir"))
    var sysfsRoot: String?

    @Option(name: .long, help: ArgumentHelp("Folder for the DVFS journal (default $GEARBOX_STATE_DIR or /var/lib/gearbox).", valueName: "dir"))
    var stateDir: String?

    var journalPath: String { DVFSJournal.path(stateDirectory: stateDir) }
}

struct DVFSListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the DVFS domains: CPUs, driver, governors, limits and frequency grid.",
        discussion: """
            Example:
              gearbox dvfs list
              gearbox dvfs list --sysfs-root ../shared/fixtures/sysfs/2arm-2c.tar.bz2 --json
              gearbox dvfs list --calibrate     # emulated DVFS: measured vs requested speed per step
            """)

    @OptionGroup var root: DVFSRootOptions
    @Option(help: "Steps of a derived grid (drivers without a frequency list).") var gridSteps = 8
    @Flag(help: "Emulated DVFS only: calibrate every grid step and print measured against requested speed.") var calibrate = false
    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var lock: MeasuringLockOptions

    private struct Output: Encodable {
        var dvfs: DeviceDescription.DVFS
        var calibration: [EmulatedFrequencyController.Calibration]?
    }

    func run() throws {
        let argument = try SysfsRootArgument.resolve(root.sysfsRoot)
        defer { argument.cleanUp() }
        let dvfs = try DVFSInventory.discover(root: argument.root, gridSteps: gridSteps)
        var calibration: [EmulatedFrequencyController.Calibration]?
        if calibrate {
            guard dvfs.controller == .emulated else {
                throw CommandError.input("--calibrate applies to emulated DVFS; this controller is \(dvfs.controller)")
            }
            let measuring = try lock.holdAlways()
            defer { measuring.release() }
            let controller = try EmulatedFrequencyController(options: .init(gridSteps: gridSteps))
            defer { try? controller.restore() }
            calibration = try controller.calibrate()
        }
        if json {
            try printJSON(Output(dvfs: dvfs, calibration: calibration))
            return
        }
        print(dvfs.listingText())
        if let calibration {
            print("  calibration (emulated; spin workload, unthrottled vs throttled wall time):")
            for step in calibration {
                print(String(format: "    %7d kHz  requested %.3f  measured %.3f  (period %d µs, quota %@)",
                             step.requestedKHz, step.requestedRatio, step.measuredRatio, step.periodUs,
                             step.quotaUs < 0 ? "none" : "\(step.quotaUs) µs"))
            }
        }
    }
}

struct DVFSSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set one domain's frequency and leave it there (journalled for `gearbox dvfs restore`).",
        discussion: """
            Uses the userspace governor + scaling_setspeed where the driver offers it, otherwise \
            pins scaling_min_freq = scaling_max_freq. The frequency is read back until it settles \
            (or the timeout passes, which is reported, not fatal).

            Example:
              sudo gearbox dvfs set --domain 0 --khz 800000
              sudo gearbox dvfs restore
            """)

    @OptionGroup var root: DVFSRootOptions
    @Option(help: "The domain index, as `gearbox dvfs list` numbers them.") var domain: Int
    @Option(help: "The frequency in kHz (one the domain offers, or within its range).") var khz: Int
    @Flag(help: "Do not read the frequency back.") var noVerify = false
    @Option(help: "How long to wait for the read-back to settle, in ms.") var settleTimeoutMs = 200
    @Flag(help: "Print JSON instead of text.") var json = false
    @OptionGroup var lock: MeasuringLockOptions

    func run() throws {
        let argument = try SysfsRootArgument.resolve(root.sysfsRoot, allowArchive: false)
        if argument.root.isLive, try DVFSInventory.discover(root: .live).controller != .real {
            throw CommandError.input("this machine has no cpufreq DVFS to set (emulated DVFS throttles only Gearbox's own measurement threads, during a run; see `gearbox dvfs list`)")
        }
        // Changing this machine's frequency under another process's measurement would falsify it.
        let measuring = try argument.root.isLive ? lock.holdAlways() : nil
        defer { measuring?.release() }
        let controller = try RealFrequencyController(root: argument.root, options: .init(
            journalPath: root.journalPath, verify: !noVerify, settleTimeoutNs: Nanoseconds(milliseconds: Double(settleTimeoutMs))))
        let guardSignals = RestoreOnSignal(restoring: [controller])
        defer { guardSignals.cancel() }
        let change = try controller.setFrequency(.kHz(khz), forDomain: domain)
        if json {
            try printJSON(change)
            return
        }
        let cpus = controller.domains[domain].cpus
        print(describe(change, domain: domain, cpus: cpus))
        print("original state journalled in \(root.journalPath); `gearbox dvfs restore\(root.sysfsRoot.map { " --sysfs-root \($0)" } ?? "")` puts it back")
    }
}

struct DVFSRestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put back the governors and limits journalled before Gearbox changed them.",
        discussion: """
            Safe to run any time: with no journal it does nothing. Also removes emulated-DVFS \
            cgroups left by Gearbox processes that were killed.

            Example:
              sudo gearbox dvfs restore
              sudo GEARBOX_STATE_DIR=/tmp/state gearbox dvfs restore --sysfs-root /tmp/dump
            """)

    @OptionGroup var root: DVFSRootOptions
    @Flag(help: "Restore even though the gearbox process that wrote the journal still runs.") var force = false
    @Flag(help: "Print JSON instead of text.") var json = false

    private struct Output: Encodable {
        var journal: String
        var restored: [String]
        var removedCgroups: [String]
    }

    func run() throws {
        let argument = try SysfsRootArgument.resolve(root.sysfsRoot, allowArchive: false)
        let report = try RealFrequencyController.restore(
            journalAt: root.journalPath, root: root.sysfsRoot == nil ? nil : argument.root, force: force)
        let removed = argument.root.isLive ? EmulatedFrequencyController.removeStaleCgroups() : []
        if json {
            try printJSON(Output(journal: root.journalPath, restored: report?.lines ?? [], removedCgroups: removed))
            return
        }
        if let report {
            print("restored \(report.lines.count == 1 ? "1 domain" : "\(report.lines.count) domains") on \(report.root) from \(report.journalPath):")
            for line in report.lines { print("  " + line) }
        } else {
            print("nothing to restore: no journal at \(root.journalPath)")
        }
        for path in removed { print("removed stale cgroup \(path)") }
    }
}

/// Test-only: sweeps every domain's grid until stopped, so tests can kill it mid-sweep.
struct DVFSHoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "(testing) Sweep every domain's grid, holding each step, until stopped.",
        discussion: """
            Prints one line per change. Restores on SIGINT/SIGTERM and at the end; after \
            SIGKILL, `gearbox dvfs restore` does.

            Example:
              sudo gearbox dvfs hold --sysfs-root /tmp/dump-copy --hold-ms 50 --cycles 2
            """,
        shouldDisplay: false)

    @OptionGroup var root: DVFSRootOptions
    @Option(help: "How long to hold each step, in ms.") var holdMs = 50
    @Option(help: "Sweeps to run (0: until stopped).") var cycles = 0
    @OptionGroup var lock: MeasuringLockOptions

    func run() throws {
        let argument = try SysfsRootArgument.resolve(root.sysfsRoot, allowArchive: false)
        let measuring = try argument.root.isLive ? lock.holdAlways() : nil
        defer { measuring?.release() }
        let controller: FrequencyController
        if try !argument.root.isLive || DVFSInventory.discover(root: .live).controller == .real {
            controller = try RealFrequencyController(root: argument.root, options: .init(journalPath: root.journalPath, settleTimeoutNs: 20_000_000))
        } else {
            let emulated = try EmulatedFrequencyController(options: .init(calibrationWorkNs: 8_000_000))
            try emulated.enrollCurrentThread()
            controller = emulated
        }
        let guardSignals = RestoreOnSignal(restoring: [controller])
        defer { guardSignals.cancel() }
        var cycle = 0
        while cycles == 0 || cycle < cycles {
            for (index, domain) in controller.domains.enumerated() {
                for kHz in domain.gridKHz.reversed() {
                    let change = try controller.setFrequency(.kHz(kHz), forDomain: index)
                    print("domain \(index): \(change.requestedKHz) kHz [\(change.source)]")
                    fflush(stdout)
                    usleep(useconds_t(max(0, holdMs) * 1000))
                }
            }
            cycle += 1
        }
        try controller.restore()
        print("restored")
    }
}

// MARK: Shared by the hardware commands (dvfs, device)

/// Prints `value` as Gearbox's JSON (pretty, sorted keys).
func printJSON<T: Encodable>(_ value: T) throws {
    let data = try JSONFile.encoder().encode(value)
    print(String(decoding: data, as: UTF8.self))
}

private func describe(_ change: FrequencyChange, domain: Int, cpus: [Int]) -> String {
    var text = "domain \(domain) (CPUs \(CPUSet(cpus).listString)): \(change.requestedKHz) kHz requested"
    switch change.settled {
    case true?: text += String(format: ", read back %d kHz, settled in %.2f ms", change.appliedKHz, change.settleNs.milliseconds)
    case false?: text += ", read back \(change.appliedKHz) kHz"
    case nil: text += ", not read back"
    }
    text += " [\(change.source)]"
    if let warning = change.warning { text += "\n  warning: \(warning)" }
    return text
}
