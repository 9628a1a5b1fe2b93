// gearbox board: virtual boards. `list` and `show` read the board models in Devices/boards;
// `run` plays one behind a live sysfs tree while a command runs against it. Parsing and
// printing only; GearboxHardware's BoardCatalog, BoardSimulation and BoardRunner do the work.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxHardware

struct BoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board",
        abstract: "Virtual boards: board models (DVFS drivers, heat, power) behind a live sysfs tree.",
        discussion: """
            A board model (Devices/boards/NAME.board.json) is a model, not a measurement: its \
            frequencies and file set come from a sysfs dump, its voltages, thermal and power \
            figures from datasheets or stated assumptions (each file's `sources` says which).

            Example:
              gearbox board list
              gearbox board show st-u8500
              sudo gearbox board run st-u8500 -- gearbox device probe --json
            """,
        subcommands: [BoardListCommand.self, BoardShowCommand.self, BoardRunCommand.self]
    )
}

/// Options every board subcommand shares.
struct BoardLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The folder of board models.", valueName: "dir")) var boards = "Devices/boards"

    var catalog: BoardCatalog { BoardCatalog(directory: boards) }
}

struct BoardListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the board models.")

    @OptionGroup var location: BoardLocation
    @Flag(help: "Print JSON.") var json = false

    struct Entry: Encodable {
        var name: String
        var summary: String
        var sysfsDump: String
        var domains: [String]
        var model = true
    }

    func run() throws {
        let catalog = location.catalog
        let entries = try catalog.names().map { name -> Entry in
            let model = try catalog.load(name)
            return Entry(name: name, summary: model.summary, sysfsDump: model.sysfsDump,
                         domains: model.domains.map { "\($0.name) (\($0.driver), \($0.semantics.rawValue))" })
        }
        if json { try printJSON(entries); return }
        if entries.isEmpty { print("no board models in \(catalog.directory)") }
        for entry in entries { print("\(entry.name): \(entry.summary) [model]") }
    }
}

struct BoardShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one board model.")

    @OptionGroup var location: BoardLocation
    @Argument(help: "The board model's name (see `gearbox board list`).") var name: String
    @Flag(help: "Print the model's JSON.") var json = false

    func run() throws {
        let model = try location.catalog.load(name)
        if json { try printJSON(model); return }
        print("\(model.name): \(model.summary)")
        print("  a model, not a measurement; static tree from the sysfs dump \(model.sysfsDump)")
        for (index, domain) in model.domains.enumerated() {
            let points = domain.operatingPoints.map { "\($0.kHz / 1000) MHz @ \(String(format: "%.3f", Double($0.microvolts) / 1e6)) V" }
            print("  domain \(index) \(domain.name): CPUs \(CPUSet(domain.cpus).listString), driver \(domain.driver) (\(domain.semantics.rawValue)), governors \(domain.governors.joined(separator: " "))")
            print("    operating points: \(points.joined(separator: ", ")); transition latency \(domain.transitionLatencyNs)")
        }
        let thermal = model.thermal
        print("  thermal (RC): ambient \(thermal.ambientCelsius) °C, \(thermal.thermalResistanceKPerW) K/W, \(thermal.heatCapacityJPerK) J/K")
        for trip in thermal.trips {
            let caps = trip.caps.map { "domain \($0.domain) ≤ \($0.maxKHz / 1000) MHz" }.joined(separator: ", ")
            print("    trip \(trip.type) at \(trip.celsius) °C (hysteresis \(trip.hysteresisCelsius) °C): \(caps)")
        }
        print("  power: static \(model.power.staticWatts) W + per domain C·V²·f·utilisation")
        for sensor in model.sensors.hwmon { print("  sensor hwmon \(sensor.name): \(sensor.channels.map(\.label).joined(separator: ", "))") }
        for zone in model.sensors.powercap { print("  sensor powercap \(zone.id) (\(zone.name))") }
        print("  sources:")
        for (key, source) in model.sources.sorted(by: { $0.key < $1.key }) { print("    \(key): \(source)") }
    }
}

struct BoardRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command on a virtual board (root).",
        discussion: """
            Renders the board's live sysfs tree into a temporary folder and runs COMMAND in a \
            private mount namespace where /sys/devices/system/cpu, /sys/class/thermal, \
            /sys/class/hwmon and /sys/class/powercap are that tree. Meanwhile the board ticks \
            its models about every millisecond and reacts to what COMMAND writes: a requested \
            frequency takes effect after the transition latency, limits and governors behave as \
            the driver would, temperature and energy integrate, trips cap the clock. The tree \
            holds gearbox-board.json in its cpu folder, naming the model.

            COMMAND's processes are slowed to the board's speed: a cgroup CPU-bandwidth limit of \
            (domain 0's current frequency / the board's top frequency) of every host CPU. Not \
            (yet) modelled: per-domain throttles. A board with CPUs the host lacks (intel-i7-1370p's \
            20 on a 2-CPU host) runs COMMAND with GEARBOX_BOARD_HOST_CPUS set to the host's CPU \
            list, and Gearbox's thread binding maps board CPU n onto host CPU n mod count \
            (--pin 12 binds to a host CPU instead of failing).

            The board itself is deterministic; --seed N adds seeded noise (σ = 0.5% of each \
            reading, an assumption) to its hwmon power and current readings, so runs with the same \
            seed read the same noise at the same simulated times.

            Example:
              sudo gearbox board run st-u8500 -- gearbox device probe --json
              sudo gearbox board run st-u8500 --ambient 85 -- gearbox dvfs set --domain 0 --khz 400000
            """)

    @OptionGroup var location: BoardLocation
    @Argument(help: "The board model's name.") var name: String
    @Option(help: ArgumentHelp("Ambient temperature in °C (default: the model's).", valueName: "°C")) var ambient: Double?
    @Option(help: ArgumentHelp("Seeds the noise of the board's hwmon readings (0.5% of each reading, an assumption); without it the readings are noiseless and the board deterministic.", valueName: "N"))
    var seed: UInt64?
    @Option(name: .long, help: ArgumentHelp("The folder of sysfs dump archives (default: ../shared/fixtures/sysfs beside the boards folder).", valueName: "dir"))
    var sysfsFixtures: String?
    @Argument(parsing: .postTerminator, help: "The command to run on the board (after --).") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --: gearbox board run \(name) -- COMMAND …") }
        if let ambient, !(ambient.isFinite && (-60...150).contains(ambient)) { throw ValidationError("--ambient must be -60...150 °C") }
    }

    func run() throws {
        var status: Int32 = 0
        let catalog = location.catalog
        let model = try catalog.load(name)
        guard geteuid() == 0 else { throw BoardError.needsRoot }
        let archive = try catalog.dumpArchive(for: model, fixtures: sysfsFixtures)
        let outcome = try BoardRunner.run(model: model, archive: archive, command: command,
                                          options: .init(ambientCelsius: ambient, seed: seed))
        if !outcome.unmounted.isEmpty {
            FileHandle.standardError.write(Data("gearbox: note: this host has no \(outcome.unmounted.map { "/" + $0 }.joined(separator: ", ")); the board's were not shown there\n".utf8))
        }
        if let reason = outcome.unthrottled {
            FileHandle.standardError.write(Data("gearbox: note: the command was not slowed to the board's frequency: \(reason)\n".utf8))
        }
        status = outcome.exitStatus
        if status != 0 { throw ExitCode(status) }
    }
}
