// gearbox bench formats: the pruned weight formats side by side on one Conv layer — csr vs
// dense (with the break-even sparsity), ubp vs bsr at equal density and both vs csr, masked vs
// the structurally pruned dense layer. Logic lives in GearboxEngine.FormatBenchmark.

import ArgumentParser
import Foundation
import GearboxBenchmarks
import GearboxCore
import GearboxEngine

struct BenchFormatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "formats",
        abstract: "Pruned formats side by side: csr vs dense, ubp vs bsr, masked vs structured.",
        discussion: """
            Measures every format's kernel single-threaded on a Conv 64→128 3×3 at 28×28 \
            (A 128×576 · im2col 576×784), interleaving the runs of the matrices compared so \
            that machine noise hits them alike, and prints subject/baseline ratios of the \
            fastest runs (medians in brackets), the machine and the date. Ends with cold \
            loads: the same variant loaded from its ONNX file and from its packed .gbpk file, \
            alternately, with the packed/ONNX load-time ratio.

            Example:
              gearbox bench formats
              gearbox bench formats --seconds 1 --json > formats.json
            """
    )

    @Option(help: "Seconds spent on each group of interleaved matrices.")
    var seconds: Double = 0.4

    @Flag(help: "Exit with status 1 if a ratio misses its target.")
    var check = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard seconds > 0, seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60], e.g. 0.4") }
    }

    func run() throws {
        var options = FormatBenchmark.Options()
        options.secondsPerGroup = seconds
        let report = try FormatBenchmark(options: options).run(progress: { line in
            if !json { print("measuring \(line)") }
        })
        if json {
            let data = try JSONFile.encoder().encode(report)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("")
            report.lines.forEach { print($0) }
        }
        if check, !report.missedTargets.isEmpty {
            report.missedTargets.forEach { print("missed: \($0)") }
            throw CommandError.failure("\(report.missedTargets.count) ratio(s) missed their target (--check)")
        }
    }
}
