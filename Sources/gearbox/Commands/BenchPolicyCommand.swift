// gearbox bench policy: times VariantSelector decisions one by one, side by side with the
// clock's own cost and a naive selector that predicts every variant per call.

import ArgumentParser
import Foundation
import GearboxBenchmarks
import GearboxCore
import GearboxPolicy
import GearboxProfiler

struct BenchPolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Policy decision time.",
        discussion: """
            Times each decision of a VariantSelector built from --lut (default: the built-in \
            synthetic portfolio, labelled as such) over the table's frequencies, off-grid \
            frequencies and one below the table. Each figure includes one clock read; the clock's \
            own cost and a naive selector without precomputed tables are measured in the same run. \
            Target: p99 decision time under 1 µs.

            Example:
              gearbox bench policy --lut Profiles/board/fmnist.lut.json --objective 'p99<=8ms' --decisions 200000
            """
    )

    @Option(help: "Lookup table (default: built-in synthetic portfolio).")
    var lut: String?

    @Option(help: "Latency objective.")
    var objective: String = "p99<=8ms"

    @Option(help: "Number of timed decisions.")
    var decisions: Int = 100_000

    @Flag(help: "Print the figures as JSON.")
    var json = false

    struct Output: Encodable {
        var lut: String
        var build: String
        var decisions: Int
        var frequencies: Int
        var timerP50Ns: Nanoseconds, timerP99Ns: Nanoseconds
        var selectorP50Ns: Nanoseconds, selectorP99Ns: Nanoseconds, selectorMaxNs: Nanoseconds
        var naiveP50Ns: Nanoseconds, naiveP99Ns: Nanoseconds
        var targetP99Ns: Nanoseconds
        var targetMet: Bool
        var source: MeasurementSource
    }

    func run() throws {
        let table = try lut.map { try JSONFile.read(LookupTable.self, from: $0) } ?? SyntheticPortfolio.table()
        let grid = table.frequenciesKHz.sorted()
        var frequencies = grid
        for (a, b) in zip(grid, grid.dropFirst()) { frequencies += [a + (b - a) / 3, a + 2 * (b - a) / 3] }
        if let low = grid.first { frequencies.append(low / 2) }
        let result = try DecisionBenchmark.run(
            table: table, objective: LatencyObjective(parsing: objective), frequenciesKHz: frequencies, decisions: decisions)
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let output = Output(
            lut: lut ?? "built-in synthetic portfolio (not measured)", build: build, decisions: result.decisions,
            frequencies: frequencies.count, timerP50Ns: result.timer.p50Ns, timerP99Ns: result.timer.p99Ns,
            selectorP50Ns: result.selector.p50Ns, selectorP99Ns: result.selector.p99Ns, selectorMaxNs: result.selector.maxNs,
            naiveP50Ns: result.naive.p50Ns, naiveP99Ns: result.naive.p99Ns, targetP99Ns: 1000,
            targetMet: result.selector.p99Ns < 1000, source: .real)
        if json {
            print(String(decoding: try JSONFile.encoder().encode(output), as: UTF8.self))
            return
        }
        func ns(_ v: Nanoseconds) -> String { String(format: "%8.0f", v.value) }
        print("policy decision time: \(result.decisions) decisions over \(frequencies.count) frequencies, \(build) build, lut: \(output.lut) (real timings on this machine)")
        print("                         p50 ns    p99 ns")
        print("clock read (floor)     \(ns(result.timer.p50Ns))  \(ns(result.timer.p99Ns))")
        print("selector decide        \(ns(result.selector.p50Ns))  \(ns(result.selector.p99Ns))   (max \(Int(result.selector.maxNs.value)) ns)")
        print("naive (no tables)      \(ns(result.naive.p50Ns))  \(ns(result.naive.p99Ns))")
        print(String(format: "selector / naive: p50 %.3f×, p99 %.3f×", result.selector.p50Ns / max(1, result.naive.p50Ns), result.selector.p99Ns / max(1, result.naive.p99Ns)))
        print("target p99 < 1000 ns: \(output.targetMet ? "met" : "NOT met") (\(Int(result.selector.p99Ns.value)) ns including one clock read)")
    }
}
