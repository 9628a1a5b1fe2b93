// gearbox lut compare: Compare two lookup tables cell by cell, marking changes that are not significant.
// Parsing and printing only; the comparison is GearboxReport's LUTComparison.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxReport

struct LutCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two lookup tables cell by cell, marking changes that are not significant.",
        discussion: """
            For every variant and frequency in both tables, prints the p50 ratio B/A (< 1: B is \
            faster). A cell whose intervals p50 ± CI half-width overlap is marked '=' (no \
            significant change); predicted cells are not judged. Ends with a summary line: the \
            counts and the geometric mean ratio.

            Example (before and after a kernel change):
              gearbox lut compare Profiles/amd-epyc-2c2t/default.lut.json /tmp/after/default.lut.json
            """
    )

    @Argument(help: ArgumentHelp("The baseline table.", valueName: "A.lut.json"))
    var baseline: String

    @Argument(help: ArgumentHelp("The table compared against it.", valueName: "B.lut.json"))
    var candidate: String

    @Flag(name: .long, help: "Print the comparison as JSON.")
    var json = false

    func run() throws {
        let comparison = try LUTComparison.load(baselinePath: baseline, candidatePath: candidate)
        if json {
            let data = (try? JSONFile.encoder().encode(comparison)) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(comparison.text())
        }
    }
}
