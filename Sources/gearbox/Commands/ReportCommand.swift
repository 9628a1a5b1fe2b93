// gearbox report: Write an HTML and Markdown report from a lookup table and a validation.
// Parsing and printing only; the report is built by GearboxReport.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML and Markdown report from a lookup table and a validation.",
        discussion: """
            Writes OUT/index.html (self-contained: inline SVG and CSS, no script, no network), \
            OUT/report.md with the same tables, and OUT/figures/*.svg. Every figure says whether \
            its numbers are real, emulated, simulated or predicted, and where they came from.

            Example:
              gearbox report --lut Profiles/amd-epyc-2c2t/fashion-dnnshifter.lut.json \\
                --validation Reports/step --device Devices/amd-epyc-2c2t.json
            writes Reports/step/index.html and Reports/step/report.md.

            Without --out the report goes into the --validation directory, or else into \
            Reports/<device>-<portfolio>. Without --device, Devices/<lut device>.json is used \
            when it exists.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The lookup table to report on.", valueName: "file.lut.json"))
    var lut: String

    @Option(name: .long, help: ArgumentHelp("A gearbox validate output directory (summary.json, timeline.csv).", valueName: "dir"))
    var validation: String?

    @Option(name: .long, help: ArgumentHelp("The device description (gearbox device probe).", valueName: "file.json"))
    var device: String?

    @Option(name: .long, help: ArgumentHelp("Directory to write the report into.", valueName: "dir"))
    var out: String?

    @Flag(name: .long, help: "Print what was written as JSON.")
    var json = false

    func run() throws {
        let inputs = try ReportInputs.load(lutPath: lut, validationPath: validation, devicePath: device)
        let document = ReportBuilder(inputs: inputs).build()
        let written = try ReportWriter.write(document, to: out ?? inputs.defaultOutputDirectory)
        if json {
            let data = (try? JSONFile.encoder().encode(written)) ?? Data()
            print(String(decoding: data, as: UTF8.self))
            return
        }
        Self.printWritten(written)
    }

    /// What was written (also `gearbox demo`).
    static func printWritten(_ written: WrittenReport) {
        print("wrote \(written.html)")
        print("      \(written.markdown) and \(written.figures.count) figures in \(written.directory)/figures")
        print("sections: \(written.sections.joined(separator: ", "))")
        for note in written.notes { print("note: \(note)") }
    }
}
