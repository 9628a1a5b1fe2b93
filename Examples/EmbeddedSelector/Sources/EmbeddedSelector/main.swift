// EmbeddedSelector: load a lookup table, pick the variant for a frequency and an objective.
// Usage: EmbeddedSelector <table.lut.json> <frequency kHz> <objective, e.g. p99<=8ms>

import Foundation
import GearboxRuntime

let arguments = CommandLine.arguments
guard arguments.count == 4, let frequencyKHz = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: EmbeddedSelector <table.lut.json> <frequency kHz> <objective, e.g. p99<=8ms>\n".utf8))
    exit(2)
}
do {
    let table = try LookupTable.read(from: arguments[1])
    let selector = try VariantSelector(
        table: table, objective: LatencyObjective(parsing: arguments[3]), tableName: arguments[1])
    let decision = selector.decide(frequencyKHz: frequencyKHz, atNs: 0)
    let variant = selector.variants[decision.variantIndex]
    let verdict = decision.meetsObjective ? "meets" : "misses"
    print("\(variant.name): predicted \(DurationText.format(decision.predictedNs)), \(verdict) \(selector.objective)")
} catch {
    FileHandle.standardError.write(Data("EmbeddedSelector: \(error)\n".utf8))
    exit(2)
}
