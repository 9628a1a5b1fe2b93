// gearbox fleet: reports across the devices in the results store.
// Parsing and printing only; the report is GearboxReport's FleetReportBuilder.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxReport
import GearboxRuntime

struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Compare a portfolio across every device in the results store.",
        subcommands: [FleetReportCommand.self]
    )
}

struct FleetReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one HTML and Markdown report of a portfolio across the store's devices.",
        discussion: """
            Sections: devices; latency (and energy where measured) against frequency per device \
            on shared axes; the variant the policy picks per device and frequency for the \
            objective; the lowest frequency at which each device meets it; run-to-run drift of \
            a device (per-cell ratios, as gearbox lut compare); failed runs with their reasons. \
            OUT/index.html is self-contained (inline SVG and CSS, no script).

            Example:
              gearbox fleet report --store postgresql:///gearbox?host=/run/postgresql \\
                --portfolio default --objective 'p99<=8ms' --out Reports/fleet
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .long, help: "The portfolio's name (as in its lookup tables).") var portfolio: String
    @Option(name: .long, help: ArgumentHelp("Directory to write the report into (default Reports/fleet-<portfolio>).", valueName: "dir"))
    var out: String?
    @Option(name: .long, help: "Latency objective, e.g. p99<=8ms (default: suggested from the first device's table).")
    var objective: String?
    @Flag(name: .long, help: "Print what was written as JSON.") var json = false

    func run() throws {
        let objective = try objective.map { try LatencyObjective(parsing: $0) }
        let store = try storeOptions.open()
        defer { store.close() }
        let inputs = try FleetInputs.load(from: store, portfolio: portfolio, objective: objective)
        let document = try FleetReportBuilder(inputs: inputs).build()
        let written = try ReportWriter.write(document, to: out ?? "Reports/fleet-\(portfolio)")
        if json {
            print(String(decoding: try JSONFile.encoder().encode(written), as: UTF8.self))
        } else {
            ReportCommand.printWritten(written)
        }
    }
}
