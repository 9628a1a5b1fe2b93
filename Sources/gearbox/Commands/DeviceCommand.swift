// gearbox device: discover a board (topology, CPU kinds, DVFS domains, counters, thermal zones,
// timer) and write Devices/<id>.json. Parsing and printing only; `DeviceProbe.run` does the work.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxHardware

struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Discover this board: topology, CPU kinds, DVFS domains, counters, thermal zones.",
        discussion: """
            Example:
              gearbox device probe
            """,
        subcommands: [DeviceProbeCommand.self]
    )
}

struct DeviceProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Describe this machine (or a sysfs dump) and write Devices/<id>.json.",
        discussion: """
            The id comes from the CPU model and topology unless --id is given. With --sysfs-root \
            every reader (hwloc, libcpufreq, thermal) looks at the dump instead of this machine; \
            libcpufreq then runs in a private mount namespace, which needs root. Counters are only \
            probed on the live machine.

            Example:
              gearbox device probe
              sudo gearbox device probe --sysfs-root ../shared/fixtures/sysfs/2arm-2c.tar.bz2 --output /tmp/arm.json
              gearbox device probe --json --id my-board
            """)

    @Option(name: .long, help: ArgumentHelp("Describe a sysfs dump (a folder holding sys/, or a .tar.bz2) instead of this machine.", valueName: "dir"))
    var sysfsRoot: String?
    @Option(name: .long, help: ArgumentHelp("Where to write the description (default Devices/<id>.json).", valueName: "file"))
    var output: String?
    @Option(help: "The device id (default: derived from the CPU model and topology).") var id: String?
    @Option(help: "Steps of a derived DVFS grid (drivers without a frequency list, emulation), 1...1000.") var gridSteps = 8
    @Flag(help: "Print the JSON instead of the summary.") var json = false

    func run() throws {
        // The id names Devices/<id>.json and Profiles/<id>/, and every reader checks it the same way.
        if let id, let problem = SafeName.problem(id) {
            throw CommandError.input("--id \"\(id)\": \(problem)")
        }
        guard (1...FrequencyGrid.maximumSteps).contains(gridSteps) else {
            throw CommandError.input("--grid-steps must be 1...\(FrequencyGrid.maximumSteps)")
        }
        let argument = try SysfsRootArgument.resolve(sysfsRoot)
        defer { argument.cleanUp() }
        // An archive is named as given, not by the temporary folder it was unpacked into.
        let label = argument.extractedInto != nil ? sysfsRoot : nil
        let description = try DeviceProbe.run(root: argument.root, options: .init(id: id, gridSteps: gridSteps, rootLabel: label))
        let path = output ?? DeviceProbe.defaultPath(for: description)
        try JSONFile.write(description, to: path)
        if json {
            try printJSON(description)
            FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
        } else {
            print(description.summaryText())
            print("wrote \(path)")
        }
    }
}
