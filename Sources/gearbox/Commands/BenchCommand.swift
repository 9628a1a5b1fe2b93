// gearbox bench: groups the benchmarks; each prints ratios measured side by side in one run.

import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks printed as ratios measured side by side in one run.",
        subcommands: [
            BenchEngineCommand.self, BenchFormatsCommand.self, BenchProfilerCommand.self, BenchPolicyCommand.self,
        ]
    )
}
