// Hostile input, end to end: every file kind Gearbox reads is broken one rule at a time and fed
// to the commands that read it. Each must exit 2 with one line naming the file and the key, and
// never crash (a trap or a kill exits ≥ 128) or allocate without bound. Small fixtures only,
// no real profiling, so the suite stays within seconds.

import Foundation
import GearboxTestSupport
import Testing

@Suite(.enabled(if: GearboxBinary.path != nil, "no built gearbox binary under .build (run `swift build` first)"))
struct HostileInputTests {
    static let root = GearboxBinary.repositoryRoot
    static let lutFixture = root + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json"
    static let deviceFixture = root + "/Devices/amd-epyc-2c2t.json"
    static let portfolioFixture = root + "/Portfolios/default/portfolio.json"

    let scratch = ScratchDirectory("hostile")

    /// Runs `gearbox arguments` in `directory` (the scratch directory by default), so that a
    /// command that wrongly writes relative paths writes there.
    func gearbox(_ arguments: [String], in directory: String? = nil) throws -> CommandResult {
        try GearboxBinary.run(arguments, directory: directory ?? scratch.path)
    }

    /// Exit 2, no crash, one error line naming `file` and every one of `words`.
    func expectInputError(_ result: CommandResult, file: String, words: [String], _ context: String) {
        #expect(!result.killedBySignal && result.status < 128, "\(context) crashed: \(result.stderr)")
        #expect(result.status == 2, "\(context): exit \(result.status), stderr: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"), "\(context): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("note:") }
        #expect(lines.count == 1, "\(context): \(result.stderr)")
        #expect(result.stderr.contains(file), "\(context) does not name \(file): \(result.stderr)")
        for word in words { #expect(result.stderr.contains(word), "\(context) does not name \(word): \(result.stderr)") }
    }

    // MARK: Lookup tables

    /// Every command that reads a lookup table.
    func lutCommands(_ lut: String) -> [[String]] {
        [
            ["lut", "show", lut],
            ["lut", "export", "--csv", lut, "--out", scratch.file("out.csv")],
            ["lut", "compare", lut, Self.lutFixture],
            ["report", "--lut", lut, "--out", scratch.file("report")],
            ["validate", "--lut", lut, "--trace", "step", "--objective", "p99<=8ms", "--controller", "simulated",
             "--duration", "1s", "--out", scratch.file("validate")],
            ["trace", "generate", "step", "--lut", lut, "--out", scratch.file("t.csv")],
        ]
    }

    static let cell: [JSONPathComponent] = ["variants", 0, "latency", "1000000"]
    static let lutMutations: [(path: [JSONPathComponent], value: Any?, key: String)] = [
        (cell + ["p99Ns"], 1e30, #"variants[0].latency["1000000"].p99Ns"#),              // finding 2
        (["frequenciesKHz", 0], -600000, "frequenciesKHz[0]"),                            // finding 9 …
        (["frequenciesKHz"], [Int](), "frequenciesKHz"),
        (cell + ["p99Ns"], 1000, #"variants[0].latency["1000000"].p99Ns"#),
        (cell + ["p50Ns"], 0, #"variants[0].latency["1000000"].p50Ns"#),
        (cell + ["meanNs"], -5, #"variants[0].latency["1000000"].meanNs"#),
        (cell + ["samples"], -1, #"variants[0].latency["1000000"].samples"#),
        (["variants", 0, "memoryBytes"], -1, "variants[0].memoryBytes"),
        (["threads"], -1, "threads"),
        (["variants", 1, "name"], "dense", "variants[1].name"),
        (["variants", 1, "name"], "", "variants[1].name"),
        (["device"], "../../evil", "device"),
        (["schemaVersion"], "1", "schemaVersion"),                                        // wording
    ]

    @Test(arguments: lutMutations.indices)
    func aBrokenLookupTableIsAnInputErrorInEveryCommandThatReadsIt(index: Int) throws {
        let mutation = Self.lutMutations[index]
        let lut = scratch.file("hostile.lut.json")
        try JSONDocument(contentsOf: Self.lutFixture).setting(mutation.path, to: mutation.value).write(to: lut)
        for command in lutCommands(lut) {
            let result = try gearbox(command)
            expectInputError(result, file: lut, words: [mutation.key], "\(command[0]) \(command[1]) with \(mutation.key) = \(mutation.value ?? "nil")")
            if mutation.key == "schemaVersion" { #expect(!result.stderr.contains("not valid JSON"), "\(result.stderr)") }
        }
    }

    @Test func truncatedAndRandomLookupTablesAreInputErrorsNotCrashes() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.lutFixture))
        var samples = [0, 1, data.count / 3, data.count / 2, data.count - 3].map { Data(data.prefix($0)) }
        var generator = SystemRandomNumberGenerator()
        samples.append(Data((0..<512).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        samples.append(Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8))  // deep nesting
        let lut = scratch.file("broken.lut.json")
        for sample in samples {
            try sample.write(to: URL(fileURLWithPath: lut))
            for command in lutCommands(lut) {
                expectInputError(try gearbox(command), file: lut, words: [], "\(command[0]) \(command[1]) on \(sample.count) bytes")
            }
        }
    }

    // MARK: Device descriptions

    static let domain: [JSONPathComponent] = ["dvfs", "domains", 0]
    static let deviceMutations: [(path: [JSONPathComponent], value: Any?, key: String)] = [
        (domain + ["gridKHz"], [-250000, 500000], "dvfs.domains[0].gridKHz[0]"),            // finding 9 …
        (domain + ["gridKHz"], [0, 500000], "dvfs.domains[0].gridKHz[0]"),
        (domain + ["gridKHz"], [1_000_000_000_000_000_000], "dvfs.domains[0].gridKHz[0]"),
        (domain + ["minKHz"], 3_000_000, "dvfs.domains[0].minKHz"),
        (domain + ["cpus"], [99, -1], "dvfs.domains[0].cpus[0]"),
        (["dvfs", "controller"], "turbo", "dvfs.controller"),
        (["dvfs", "domains"], [Any](), "dvfs.domains"),
        (domain + ["gridKHz"], [Int](), "dvfs.domains[0].gridKHz"),                        // wording: empty grid
        (["id"], "../../evil", "id"),                                                    // finding 6
    ]

    @Test(arguments: deviceMutations.indices)
    func aBrokenDeviceDescriptionIsAnInputErrorForProfileAndReport(index: Int) throws {
        let mutation = Self.deviceMutations[index]
        let device = scratch.file("hostile-device.json")
        try JSONDocument(contentsOf: Self.deviceFixture).setting(mutation.path, to: mutation.value).write(to: device)
        let work = scratch.file("work/a/b")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let commands = [
            ["profile", "--portfolio", Self.root + "/Portfolios/default", "--device", device, "--controller", "simulated",
             "--quick", "--skip-switch-costs", "--skip-memory", "--no-progress"],
            ["report", "--lut", Self.lutFixture, "--device", device, "--out", scratch.file("report")],
        ]
        for command in commands {
            let result = try gearbox(command, in: work)
            expectInputError(result, file: device, words: [mutation.key], "\(command[0]) with \(mutation.key)")
            if mutation.key == "dvfs.controller" { #expect(result.stderr.contains("real, emulated, none")) }
            if mutation.key == "dvfs.domains[0].gridKHz" { #expect(!result.stderr.contains("--frequencies")) }
        }
        // Nothing was written outside the working directory (finding 6: ../evil/default.simulated.lut.json).
        #expect(!FileManager.default.fileExists(atPath: scratch.file("work/a/evil")))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("work/a/Profiles")))
    }

    // MARK: Portfolios

    /// A copy of the default portfolio's manifest with small stand-in files (the simulated
    /// profiler never loads them) and no hashes; returns the directory.
    func makePortfolio(_ mutate: (JSONDocument) -> JSONDocument = { $0 }) throws -> String {
        let dir = scratch.file("portfolio")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var document = try JSONDocument(contentsOf: Self.portfolioFixture)
        let variants = (document.value(at: ["variants"]) as? [Any])?.count ?? 0
        for index in 0..<variants {
            document = document.setting(["variants", .index(index), "sha256"], to: nil)
            if let file = document.value(at: ["variants", .index(index), "file"]) as? String {
                try Data("stand-in".utf8).write(to: URL(fileURLWithPath: dir + "/" + file))
            }
        }
        try mutate(document).write(to: dir + "/portfolio.json")
        return dir
    }

    func profile(_ portfolio: String) throws -> CommandResult {
        try gearbox(["profile", "--portfolio", portfolio, "--device", Self.deviceFixture, "--controller", "simulated", "--quick",
                     "--skip-switch-costs", "--skip-memory", "--no-progress", "--out", scratch.file("p.lut.json")])
    }

    static let portfolioMutations: [(path: [JSONPathComponent], value: Any?, key: String)] = [
        (["variants", 0, "file"], "/etc/passwd", "variants[0].file"),                          // finding 5
        (["variants", 0, "file"], "../../../etc/passwd", "variants[0].file"),
        (["variants", 0, "file"], "../outside/x.onnx", "variants[0].file"),
        (["task", "inputShape"], [1, -1, 28, 28], "task.inputShape[1]"),                       // finding 9
        (["task", "inputShape"], [40000, 40000], "task.inputShape"),
        (["variants", 1, "name"], "dense-w20", "variants[1].name"),
        (["name"], "../../evil", "name"),
    ]

    @Test(arguments: portfolioMutations.indices)
    func aBrokenPortfolioIsAnInputErrorForProfile(index: Int) throws {
        let mutation = Self.portfolioMutations[index]
        let dir = try makePortfolio { $0.setting(mutation.path, to: mutation.value) }
        expectInputError(try profile(dir), file: dir + "/portfolio.json", words: [mutation.key], "profile with \(mutation.key)")
    }

    @Test func aVariantFileSymlinkedOutOfThePortfolioIsRefused() throws {
        let dir = try makePortfolio()
        let outside = scratch.file("secret.onnx")
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside))
        try FileManager.default.removeItem(atPath: dir + "/dense-w20.onnx")
        try FileManager.default.createSymbolicLink(atPath: dir + "/dense-w20.onnx", withDestinationPath: outside)
        expectInputError(try profile(dir), file: dir + "/portfolio.json", words: ["variants[0].file"], "profile with a symlink out")
    }

    // MARK: Traces and durations (finding 1)

    @Test(arguments: ["1e15,250000", "99999999999999999999,250000", "0,1e30"])
    func aTraceRowPastTheBudgetIsRefusedWithItsLine(row: String) throws {
        let trace = scratch.file("hostile.csv")
        try "time_ms,khz\n0,500000\n\(row)\n".write(toFile: trace, atomically: true, encoding: .utf8)
        let result = try gearbox(["validate", "--lut", Self.lutFixture, "--trace", trace, "--objective", "p99<=8ms",
                                  "--controller", "simulated", "--out", scratch.file("v")])
        expectInputError(result, file: trace + ":3", words: [], "validate with trace row \(row)")
    }

    @Test func aHugeDurationIsRefusedBeforeAnythingIsGenerated() throws {
        for command in [
            ["validate", "--lut", Self.lutFixture, "--trace", "step", "--objective", "p99<=8ms", "--controller", "simulated",
             "--duration", "99999999999s", "--out", scratch.file("v")],
            ["trace", "generate", "step", "--min-khz", "500000", "--max-khz", "1000000", "--duration", "99999999999s",
             "--out", scratch.file("t.csv")],
        ] {
            let result = try gearbox(command)
            expectInputError(result, file: "--duration", words: ["24 h"], "\(command[0]) --duration 99999999999s")
        }
        // Within 24 h but more timeline rows than a simulated run may record.
        let rows = try gearbox(["validate", "--lut", Self.lutFixture, "--trace", "step", "--objective", "p99<=8ms",
                                "--controller", "simulated", "--duration", "23h", "--out", scratch.file("v")])
        expectInputError(rows, file: "--duration", words: ["Timeline.maximumRowsPerRun"], "validate --duration 23h")
    }

    @Test func aBinaryTraceFileIsNamedAsNotTextNotAsMissing() throws {
        let trace = scratch.file("binary.csv")
        try Data([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe, 0x00]).write(to: URL(fileURLWithPath: trace))
        let result = try gearbox(["validate", "--lut", Self.lutFixture, "--trace", trace, "--objective", "p99<=8ms",
                                  "--controller", "simulated", "--out", scratch.file("v")])
        expectInputError(result, file: trace, words: ["UTF-8"], "validate with a binary trace")
        #expect(!result.stderr.contains("no such file"))
    }

    // MARK: Validation summaries and device ids

    @Test func aBrokenValidationSummaryIsAnInputErrorForReport() throws {
        let run = scratch.file("run")
        let made = try gearbox(["validate", "--lut", Self.lutFixture, "--trace", "step", "--objective", "p99<=8ms",
                                "--controller", "simulated", "--duration", "1s", "--out", run])
        #expect(made.status == 0, "\(made.stderr)")
        let summary = run + "/summary.json"
        try JSONDocument(contentsOf: summary).setting(["policies", "gearbox", "violationRate"], to: 5).write(to: summary)
        let result = try gearbox(["report", "--lut", Self.lutFixture, "--validation", run, "--out", scratch.file("report")])
        expectInputError(result, file: summary, words: [#"policies["gearbox"].violationRate"#], "report with violationRate 5")
    }

    @Test(arguments: ["../../evil", ".hidden", "a b"])
    func anUnsafeDeviceIdIsRefusedBeforeProbing(id: String) throws {
        let result = try gearbox(["device", "probe", "--id", id, "--output", scratch.file("d.json")])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--id"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("d.json")))
    }

    // MARK: Tensor shapes (finding 8)

    @Test func aHugeInputShapeIsRefusedUpFront() throws {
        let model = scratch.file("relu.onnx")
        try TinyONNX.symbolicRelu().write(to: URL(fileURLWithPath: model))
        let fits = try gearbox(["run", model, "--shape", "x=4x4"])
        #expect(fits.status == 0, "\(fits.stderr)")
        let result = try gearbox(["run", model, "--shape", "x=40000x40000"])
        expectInputError(result, file: "'x'", words: ["67108864"], "run --shape x=40000x40000")
    }
}

/// A hand-encoded ONNX model `y = Relu(x)` with x of shape [N, M] (both symbolic), so that
/// `--shape` decides its size. Protobuf wire format: tag = field << 3 | wire type.
enum TinyONNX {
    static func varint(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = [], v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        return bytes + [UInt8(v)]
    }
    static func number(_ field: UInt64, _ value: UInt64) -> [UInt8] { varint(field << 3) + varint(value) }
    static func message(_ field: UInt64, _ body: [UInt8]) -> [UInt8] { varint(field << 3 | 2) + varint(UInt64(body.count)) + body }
    static func text(_ field: UInt64, _ value: String) -> [UInt8] { message(field, Array(value.utf8)) }

    static func symbolicRelu() -> Data {
        let dims = message(1, text(2, "N")) + message(1, text(2, "M"))          // TensorShapeProto.dim (dim_param)
        let tensorType = number(1, 1) + message(2, dims)                            // elem_type FLOAT, shape
        let input = text(1, "x") + message(2, message(1, tensorType))               // ValueInfoProto
        let output = text(1, "y") + message(2, message(1, number(1, 1)))
        let node = text(1, "x") + text(2, "y") + text(3, "relu") + text(4, "Relu")  // NodeProto
        let graph = message(1, node) + text(2, "g") + message(11, input) + message(12, output)
        let model = number(1, 8) + message(8, number(2, 13)) + message(7, graph)   // ir_version, opset 13, graph
        return Data(model)
    }
}
