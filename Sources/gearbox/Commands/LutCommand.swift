// gearbox lut: show and export lookup tables (compare lives in LutCompareCommand.swift).

import ArgumentParser
import Foundation
import GearboxCore
import GearboxProfiler

struct LutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lut",
        abstract: "Show, export and compare lookup tables.",
        subcommands: [LutShowCommand.self, LutExportCommand.self, LutCompareCommand.self]
    )
}

struct LutShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a lookup table as a readable table.",
        discussion: """
            One row per variant: p50 latency (ms) at each frequency (* = predicted by the \
            t(f) = a + b/f model, ! = noisy), memory, the model's R² and leave-one-frequency-out \
            error, accuracy; then portfolio memory and switch costs. A corrupt or truncated file \
            is a one-line error naming it (exit 2).

            Example:
              gearbox lut show Profiles/my-board/default.lut.json
              gearbox lut show Profiles/my-board/default.lut.json --json
            """
    )

    @Argument(help: "The LUT file.") var file: String
    @Flag(help: "Print the LUT's JSON (validated).") var json = false

    func run() throws {
        let lut = try LookupTable.read(from: file)
        if json {
            print(String(decoding: try JSONFile.encoder().encode(lut), as: UTF8.self))
        } else {
            print(LookupTableText.render(lut))
        }
    }
}

struct LutExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a lookup table as long-format CSV (one row per variant and frequency).",
        discussion: """
            Columns: device, portfolio, controller, variant, format, accuracy, params, macs, \
            memoryBytes, kHz, source, p50Ns … ciHalfWidthNs, samples, stopRule, noisy, speedRatio, \
            and the frequency model (modelANs, modelBNsKHz, modelR2, modelLooMape). Load it with \
            pandas.read_csv.

            Example:
              gearbox lut export --csv Profiles/my-board/default.lut.json --out default.csv
            """
    )

    @Option(help: "The LUT file to export.") var csv: String
    @Option(help: "The CSV file to write (standard output when omitted).") var out: String?

    func run() throws {
        let lut = try LookupTable.read(from: csv)
        let text = LookupTableText.csv(lut)
        if let out {
            try AtomicFile.write(text, to: out)
            FileHandle.standardError.write(Data("wrote \(out) (\(text.split(separator: "\n").count - 1) rows)\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }
}
