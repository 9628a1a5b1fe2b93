// Tests for GearboxTraining/Network/NetworkState: what a snapshot captures of a hand-built network
// (values, masks only where present, BatchNorm statistics, channel gates), restoring it (masks
// cleared, momentum and gradients reset, each missing or mis-sized array a one-line error), and the
// GBCK checkpoint file: its byte layout, a bit-exact round trip, and every way a file is rejected.

import Foundation
import GearboxTestSupport
import Testing

@testable import GearboxTraining

@Suite struct NetworkStateTests {
    /// c1 (conv 1→2, 1×1, bias) → bn1 → gate → flatten → fc (2→2). `offset` shifts every value.
    static func network(offset: Float = 0) -> Network {
        func parameter(_ name: String, _ shape: [Int], _ role: Parameter.Role, _ value: [Float]) -> Parameter {
            Parameter(name: name, shape: shape, role: role, value: value.map { $0 + offset })
        }
        let conv = Conv2d(weight: parameter("c1.weight", [2, 1, 1, 1], .weight, [0.5, -1.5]), bias: parameter("c1.bias", [2], .bias, [0.25, 0.75]),
                          stride: 1, padding: 0)
        let bn = BatchNorm(scale: parameter("bn1.scale", [2], .scale, [1, 2]), shift: parameter("bn1.shift", [2], .shift, [3, 4]),
                           runningMean: [0.1 + offset, 0.2 + offset], runningVariance: [1.5 + offset, 2.5 + offset], epsilon: 1e-5, momentum: 0.1)
        let gate = ChannelGate(channels: 2)
        gate.keep = [1, offset]
        let linear = Linear(weight: parameter("fc.weight", [2, 2], .weight, [1, 2, 3, 4]), bias: parameter("fc.bias", [2], .bias, [-1, -2]))
        return Network(family: "cnn", inputShape: [1, 1, 1], classes: 2, nodes: [
            LayerNode(name: "c1", op: .conv(conv), inputs: [0]),
            LayerNode(name: "bn1", op: .batchNorm(bn), inputs: [1]),
            LayerNode(name: "g", op: .gate(gate), inputs: [2]),
            LayerNode(name: "flat", op: .flatten, inputs: [3]),
            LayerNode(name: "fc", op: .linear(linear), inputs: [4]),
        ])
    }

    static func parameter(_ network: Network, _ name: String) throws -> Parameter {
        try #require(network.parameters.first { $0.name == name })
    }

    static func batchNorm(_ network: Network) throws -> BatchNorm {
        for node in network.nodes { if case let .batchNorm(b) = node.op { return b } }
        throw FixtureError("no BatchNorm")
    }

    static func gate(_ network: Network) throws -> ChannelGate {
        for node in network.nodes { if case let .gate(g) = node.op { return g } }
        throw FixtureError("no gate")
    }

    /// The error `body` throws, or nil (recording an issue) when it throws none or another type.
    static func trainingError(_ body: () throws -> Void) -> TrainingError? {
        do {
            try body()
            Issue.record("expected a TrainingError, nothing was thrown")
        } catch let error as TrainingError {
            return error
        } catch {
            Issue.record("expected a TrainingError, got \(error)")
        }
        return nil
    }

    // MARK: Capturing

    @Test func aSnapshotHoldsEveryParameterTheStatisticsAndTheGateButOnlyExistingMasks() throws {
        let net = Self.network()
        try Self.parameter(net, "c1.weight").mask = [1, 0]
        let state = NetworkState(of: net, metadata: ["round": "2"])
        #expect(Set(state.arrays.keys) == [
            "c1.weight", "c1.weight#mask", "c1.bias", "bn1.scale", "bn1.shift", "bn1#mean", "bn1#variance", "g#keep",
            "fc.weight", "fc.bias",
        ])
        #expect(state.arrays["c1.weight"] == [0.5, -1.5])
        #expect(state.arrays["c1.weight#mask"] == [1, 0])
        #expect(state.arrays["bn1#mean"] == [0.1, 0.2])
        #expect(state.arrays["bn1#variance"] == [1.5, 2.5])
        #expect(state.arrays["g#keep"] == [1, 0])
        #expect(state.arrays["fc.weight"] == [1, 2, 3, 4])
        #expect(state.metadata == ["round": "2"])
    }

    @Test func aSnapshotIsACopyThatLaterTrainingDoesNotChange() throws {
        let net = Self.network()
        let state = NetworkState(of: net)
        try Self.parameter(net, "fc.weight").value[0] = 99
        try Self.batchNorm(net).runningMean[0] = 99
        #expect(state.arrays["fc.weight"] == [1, 2, 3, 4])
        #expect(state.arrays["bn1#mean"] == [0.1, 0.2])
    }

    // MARK: Restoring

    @Test func restoringWritesEveryValueBackAndResetsMomentumAndGradients() throws {
        let source = Self.network()
        try Self.parameter(source, "c1.weight").mask = [0, 1]
        let state = NetworkState(of: source)
        let target = Self.network(offset: 10)
        for p in target.parameters {
            p.velocity = [Float](repeating: 5, count: p.count)
            p.grad = [Float](repeating: 6, count: p.count)
        }
        try Self.parameter(target, "fc.weight").mask = [0, 0, 0, 0]
        try state.restore(into: target)
        for (s, t) in zip(source.parameters, target.parameters) {
            #expect(t.value == s.value, "\(t.name)")
            #expect(t.mask == s.mask, "\(t.name): a mask the snapshot lacks is cleared")
            #expect(t.velocity.allSatisfy { $0 == 0 }, "\(t.name)")
            #expect(t.grad.allSatisfy { $0 == 0 }, "\(t.name)")
        }
        #expect(try Self.batchNorm(target).runningMean == [0.1, 0.2])
        #expect(try Self.batchNorm(target).runningVariance == [1.5, 2.5])
        #expect(try Self.gate(target).keep == [1, 0])
    }

    @Test func restoringDoesNotApplyTheMaskToTheValues() throws {
        // The snapshot holds the values as they were; a masked weight is zero there already.
        let state = NetworkState(arrays: NetworkState(of: Self.network()).arrays.merging(["c1.weight#mask": [0, 1]]) { $1 })
        let target = Self.network(offset: 1)
        try state.restore(into: target)
        #expect(try Self.parameter(target, "c1.weight").value == [0.5, -1.5])
        #expect(try Self.parameter(target, "c1.weight").mask == [0, 1])
    }

    @Test func aMissingOrMisSizedParameterArrayIsAnError() throws {
        var state = NetworkState(of: Self.network())
        state.arrays["c1.bias"] = nil
        #expect(Self.trainingError { try state.restore(into: Self.network()) }
            == .badCheckpoint(path: "<memory>", reason: "no array of 2 values for c1.bias"))
        state = NetworkState(of: Self.network())
        state.arrays["fc.weight"] = [1, 2, 3]
        #expect(Self.trainingError { try state.restore(into: Self.network(), path: "ck/round3.gbck") }
            == .badCheckpoint(path: "ck/round3.gbck", reason: "no array of 4 values for fc.weight"))
    }

    @Test(arguments: ["bn1#mean", "bn1#variance"])
    func missingBatchNormStatisticsAreAnError(key: String) {
        var state = NetworkState(of: Self.network())
        state.arrays[key] = nil
        #expect(Self.trainingError { try state.restore(into: Self.network()) }
            == .badCheckpoint(path: "<memory>", reason: "no statistics for bn1"))
        state = NetworkState(of: Self.network())
        state.arrays[key] = [1, 2, 3]
        #expect(Self.trainingError { try state.restore(into: Self.network()) }
            == .badCheckpoint(path: "<memory>", reason: "no statistics for bn1"))
    }

    @Test func aMissingOrMisSizedGateIsLeftAsItWas() throws {
        var state = NetworkState(of: Self.network())
        state.arrays["g#keep"] = nil
        let target = Self.network(offset: 0.5)
        try state.restore(into: target)
        #expect(try Self.gate(target).keep == [1, 0.5])
        state.arrays["g#keep"] = [0, 0, 0]
        try state.restore(into: target)
        #expect(try Self.gate(target).keep == [1, 0.5])
    }

    @Test func extraArraysInTheSnapshotAreIgnored() throws {
        var state = NetworkState(of: Self.network())
        state.arrays["removed.layer.weight"] = [1, 2, 3]
        let target = Self.network(offset: 2)
        try state.restore(into: target)
        #expect(try Self.parameter(target, "fc.bias").value == [-1, -2])
    }

    // MARK: The checkpoint file

    @Test func theFileIsMagicLengthJSONHeaderThenLittleEndianFloatsInNameOrder() throws {
        let scratch = ScratchDirectory("network-state")
        let path = scratch.file("tiny.gbck")
        try NetworkState(arrays: ["b": [2, -0.5], "a": [1]], metadata: ["epoch": "4"]).write(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(data.prefix(4)) == Array("GBCK".utf8))
        let length = Int(data[4]) | Int(data[5]) << 8 | Int(data[6]) << 16 | Int(data[7]) << 24
        #expect(data.count == 8 + length + 3 * 4)
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
        #expect(header["schemaVersion"] as? Int == 1)
        #expect(header["names"] as? [String] == ["a", "b"])
        #expect(header["counts"] as? [Int] == [1, 2])
        #expect(header["metadata"] as? [String: String] == ["epoch": "4"])
        // 1.0, 2.0, -0.5 as IEEE 754 single precision, least significant byte first.
        #expect(Array(data.suffix(12)) == [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xBF])
    }

    @Test func aCheckpointRoundTripsBitForBit() throws {
        let scratch = ScratchDirectory("network-state")
        let path = scratch.file("nested/dir/state.gbck")
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-7, .nan]
        let state = NetworkState(arrays: ["special": special, "empty": [], "x": [1, 2, 3]], metadata: ["note": "ünïcode, \"quoted\""])
        try state.write(to: path)
        let read = try NetworkState.read(from: path)
        #expect(Set(read.arrays.keys) == ["special", "empty", "x"])
        #expect(read.arrays["special"]?.map(\.bitPattern) == special.map(\.bitPattern))
        #expect(read.arrays["empty"] == [])
        #expect(read.arrays["x"] == [1, 2, 3])
        #expect(read.metadata == state.metadata)
    }

    @Test func anEmptySnapshotIsAValidFile() throws {
        let scratch = ScratchDirectory("network-state")
        let path = scratch.file("empty.gbck")
        try NetworkState().write(to: path)
        let read = try NetworkState.read(from: path)
        #expect(read.arrays.isEmpty && read.metadata.isEmpty)
    }

    @Test func aWrittenNetworkRestoresIntoAFreshOne() throws {
        let scratch = ScratchDirectory("network-state")
        let path = scratch.file("net.gbck")
        let source = Self.network()
        try Self.parameter(source, "fc.weight").mask = [1, 0, 1, 0]
        try NetworkState(of: source).write(to: path)
        let target = Self.network(offset: -3)
        try NetworkState.read(from: path).restore(into: target, path: path)
        #expect(target.parameters.map(\.value) == source.parameters.map(\.value))
        #expect(target.parameters.map(\.mask) == source.parameters.map(\.mask))
        #expect(try Self.gate(target).keep == [1, 0])
    }

    // MARK: Rejected files

    static func written(_ scratch: ScratchDirectory) throws -> (path: String, data: Data) {
        let path = scratch.file("state.gbck")
        try NetworkState(arrays: ["w": [1, 2, 3]], metadata: [:]).write(to: path)
        return (path, try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func headerLength(_ data: Data) -> Int {
        Int(data[4]) | Int(data[5]) << 8 | Int(data[6]) << 16 | Int(data[7]) << 24
    }

    @Test func aMissingFileCannotBeRead() {
        let scratch = ScratchDirectory("network-state")
        let path = scratch.file("absent.gbck")
        #expect(Self.trainingError { _ = try NetworkState.read(from: path) } == .badCheckpoint(path: path, reason: "cannot be read"))
    }

    @Test(arguments: [Data(), Data("GBCK".utf8), Data("GBC".utf8) + Data(repeating: 0, count: 20), Data("PK\u{3}\u{4}0000zip".utf8)])
    func aFileWithoutTheMagicOrTooShortIsNotACheckpoint(bytes: Data) throws {
        let scratch = ScratchDirectory("network-state")
        let path = scratch.file("foreign.gbck")
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(Self.trainingError { _ = try NetworkState.read(from: path) }
            == .badCheckpoint(path: path, reason: "not a Gearbox checkpoint (no GBCK header)"))
    }

    @Test func aHeaderLongerThanTheFileIsUnreadable() throws {
        let scratch = ScratchDirectory("network-state")
        let (path, original) = try Self.written(scratch)
        var data = original
        data[7] = 0x7F  // a header of about 2 GB
        try data.write(to: URL(fileURLWithPath: path))
        #expect(Self.trainingError { _ = try NetworkState.read(from: path) } == .badCheckpoint(path: path, reason: "unreadable header"))
    }

    @Test(arguments: [
        #"{"schemaVersion":2,"names":["w"],"counts":[3],"metadata":{}}"#,
        #"{"schemaVersion":1,"names":["w","v"],"counts":[3],"metadata":{}}"#,
        #"{"schemaVersion":1,"names":["w"],"counts":[3]}"#,
        #"not json at all"#,
    ])
    func aHeaderThatIsNotVersionOneWithMatchingNamesAndCountsIsUnreadable(json: String) throws {
        let scratch = ScratchDirectory("network-state")
        let path = scratch.file("bad-header.gbck")
        var data = Data("GBCK".utf8)
        let length = UInt32(json.utf8.count)
        data += [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)]
        data += Data(json.utf8)
        data += Data(repeating: 0, count: 12)
        try data.write(to: URL(fileURLWithPath: path))
        #expect(Self.trainingError { _ = try NetworkState.read(from: path) } == .badCheckpoint(path: path, reason: "unreadable header"))
    }

    @Test func aCutOrPaddedBodyNamesTheSizeFoundAndExpected() throws {
        let scratch = ScratchDirectory("network-state")
        let (path, data) = try Self.written(scratch)
        let expected = 8 + Self.headerLength(data) + 12
        #expect(data.count == expected)
        try data.prefix(expected - 1).write(to: URL(fileURLWithPath: path))
        #expect(Self.trainingError { _ = try NetworkState.read(from: path) }
            == .badCheckpoint(path: path, reason: "truncated (\(expected - 1) bytes, \(expected) expected)"))
        try (data + Data([0])).write(to: URL(fileURLWithPath: path))
        #expect(Self.trainingError { _ = try NetworkState.read(from: path) }
            == .badCheckpoint(path: path, reason: "truncated (\(expected + 1) bytes, \(expected) expected)"))
    }

    @Test func aFileCutInsideTheHeaderIsUnreadable() throws {
        let scratch = ScratchDirectory("network-state")
        let (path, data) = try Self.written(scratch)
        try data.prefix(8 + Self.headerLength(data) - 1).write(to: URL(fileURLWithPath: path))
        #expect(Self.trainingError { _ = try NetworkState.read(from: path) } == .badCheckpoint(path: path, reason: "unreadable header"))
    }
}
