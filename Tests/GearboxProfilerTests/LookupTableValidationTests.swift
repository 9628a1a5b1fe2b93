import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

/// Hostile lookup tables: a valid fixture broken one rule at a time must be refused with
/// `FileFormatError.invalidValue` naming the file and the key path.
@Suite struct LookupTableValidationTests {
    static let fixture: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json"
    }()

    let scratch = ScratchDirectory("lut-validation")
    var path: String { scratch.file("hostile.lut.json") }

    typealias Mutation = (path: [JSONPathComponent], value: Any?, keyPath: String)
    static let cell: [JSONPathComponent] = ["variants", 0, "latency", "1000000"]

    static let mutations: [Mutation] = [
        (["device"], "../../evil", "device"),
        (["portfolio"], "", "portfolio"),
        (["frequenciesKHz"], [Int](), "frequenciesKHz"),
        (["frequenciesKHz", 0], -600000, "frequenciesKHz[0]"),
        (["frequenciesKHz", 0], 0, "frequenciesKHz[0]"),
        (["frequenciesKHz", 0], 1_000_000_000_000_000_000, "frequenciesKHz[0]"),
        (["frequenciesKHz", 1], 600000, "frequenciesKHz[1]"),
        (["threads"], -1, "threads"),
        (["threads"], 0, "threads"),
        (["variants"], [Any](), "variants"),
        (["variants", 1, "name"], "dense", "variants[1].name"),
        (["variants", 1, "name"], "", "variants[1].name"),
        (["variants", 0, "memoryBytes"], -1, "variants[0].memoryBytes"),
        (["variants", 0, "params"], -5, "variants[0].params"),
        (["variants", 0, "accuracy"], 1.5, "variants[0].accuracy"),
        (cell + ["p99Ns"], 1e30, #"variants[0].latency["1000000"].p99Ns"#),
        (cell + ["p50Ns"], 0, #"variants[0].latency["1000000"].p50Ns"#),
        (cell + ["p50Ns"], -3, #"variants[0].latency["1000000"].p50Ns"#),
        (cell + ["p90Ns"], 1, #"variants[0].latency["1000000"].p90Ns"#),
        (cell + ["p99Ns"], 9_000_000, #"variants[0].latency["1000000"].p99Ns"#),
        (cell + ["maxNs"], 10_000_000, #"variants[0].latency["1000000"].maxNs"#),
        (cell + ["meanNs"], -1, #"variants[0].latency["1000000"].meanNs"#),
        (cell + ["stddevNs"], -1, #"variants[0].latency["1000000"].stddevNs"#),
        (cell + ["samples"], -1, #"variants[0].latency["1000000"].samples"#),
        (["variants", 0, "latency", "-5"], ["p50Ns": 1, "p90Ns": 1, "p99Ns": 1, "meanNs": 1, "stddevNs": 0, "ciHalfWidthNs": 0, "samples": 1,
                                             "source": "simulated"], #"variants[0].latency["-5"]"#),
        (["variants", 0, "latency", "fast"], ["p50Ns": 1, "p90Ns": 1, "p99Ns": 1, "meanNs": 1, "stddevNs": 0, "ciHalfWidthNs": 0, "samples": 1,
                                               "source": "simulated"], #"variants[0].latency["fast"]"#),
        (["switchCostNs", "dense", "structured-25", "cold"], -4, #"switchCostNs["dense"]["structured-25"].cold"#),
        (["switchCostNs", "dense", "structured-25", "warm"], 1e40, #"switchCostNs["dense"]["structured-25"].warm"#),
        (["switchCostNs", "ghost"], [String: Any](), #"switchCostNs["ghost"]"#),
    ]

    @Test func theFixtureItselfIsValid() throws {
        _ = try LookupTable.read(from: Self.fixture)
    }

    @Test(arguments: mutations.indices)
    func eachBrokenRuleIsAnInvalidValueNamingItsKey(index: Int) throws {
        let mutation = Self.mutations[index]
        try JSONDocument(contentsOf: Self.fixture).setting(mutation.path, to: mutation.value).write(to: path)
        do {
            _ = try LookupTable.read(from: path)
            Issue.record("\(mutation.keyPath) = \(String(describing: mutation.value)) was accepted")
        } catch let FileFormatError.invalidValue(file, keyPath, _, allowed) {
            #expect(file == path)
            #expect(keyPath == mutation.keyPath)
            #expect(!allowed.isEmpty)
        }
    }

    @Test(arguments: [
        (["variants", 0, "latency", "1000000", "p50Ns"], "fast" as Any),
        (["variants", 0, "params"], 1e30 as Any),
        (["frequenciesKHz"], "all" as Any),
        (["variants", 0, "latency", "1000000", "samples"], NSNull() as Any),
        (["variants", 0, "latency", "1000000", "source"], "guessed" as Any),
    ] as [([JSONPathComponent], Any)])
    func wrongTypesAreMalformed(path keys: [JSONPathComponent], value: Any) throws {
        try JSONDocument(contentsOf: Self.fixture).setting(keys, to: value).write(to: path)
        #expect(throws: FileFormatError.self) { try LookupTable.read(from: path) }
        do { _ = try LookupTable.read(from: path) } catch let error as FileFormatError {
            guard case .malformed = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func truncationAtEveryTenthOffsetIsAnErrorNotACrash() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        for cut in stride(from: 0, to: data.count - 2, by: max(1, data.count / 10)) {  // the last 2 bytes are '}\n'
            try data.prefix(cut).write(to: URL(fileURLWithPath: path))
            #expect(throws: FileFormatError.self, "cut at \(cut)") { try LookupTable.read(from: path) }
        }
    }
}

/// A checkpoint edited to hold an impossible cell is refused on resume, naming the cell's key.
@Test(arguments: [
    (["cells", 0, "latency", "p50Ns"], -1.0, "cells[0].latency.p50Ns"),
    (["cells", 0, "latency", "p99Ns"], 1e30, "cells[0].latency.p99Ns"),
    (["cells", 0, "kHz"], 0.0, "cells[0].kHz"),
    (["frequencyOrderKHz", 0], -400000.0, "frequencyOrderKHz[0]"),
] as [([JSONPathComponent], Double, String)])
func anImpossibleCheckpointIsRefusedOnResume(keys: [JSONPathComponent], value: Double, keyPath: String) throws {
    let scratch = ScratchDirectory("checkpoint")
    let dir = scratch.path
    let (first, _) = simulatedSweep(dir: dir)
    #expect(throws: ProfilerError.self) { try first.run(options: SweepOptions(stopAfterCells: 3)) }
    let path = dir + "/tiny.checkpoint.json"
    try JSONDocument(contentsOf: path).setting(keys, to: value).write(to: path)
    let (second, _) = simulatedSweep(dir: dir)
    do {
        _ = try second.run(options: SweepOptions(resume: true))
        Issue.record("\(keyPath) = \(value) resumed")
    } catch let ProfilerError.unreadable(file, reason) {
        #expect(file == path)
        #expect(reason.contains(keyPath))
    }
}
