// gearbox device: Discover this board: topology, CPU kinds, DVFS domains, counters, thermal zones.

import ArgumentParser

struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Discover this board: topology, CPU kinds, DVFS domains, counters, thermal zones."
    )

    func run() throws {
        throw ValidationError("'gearbox device' is not implemented yet")
    }
}
