// gearbox bench policy: Policy decision time.

import ArgumentParser

struct BenchPolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Policy decision time."
    )

    func run() throws {
        throw ValidationError("'gearbox bench policy' is not implemented yet")
    }
}
