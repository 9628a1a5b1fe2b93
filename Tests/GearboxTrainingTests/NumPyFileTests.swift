// Tests for the .npy/.npz reader against files NumPy wrote (Tests/Fixtures/numpy, made by
// make.py there), corrupt and truncated copies, and the evaluation data built on it.

import Foundation
import GearboxPortfolio
import GearboxTestSupport
import Testing

@testable import GearboxTraining

@Suite struct NumPyFileTests {
    static let directory = SharedFixtures.packageRoot + "/Tests/Fixtures/numpy"
    static func bytes(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)) }

    static func parse(_ data: Data, name: String) throws -> [String: NumPyArray] {
        if name.hasSuffix(".npy") { return ["": try NumPyArray.parse(npy: data, path: name)] }
        return try NumPyArchive.parse(npz: data, path: name)
    }

    @Test func storedArchiveFromNumPy() throws {
        let arrays = try NumPyArchive.read(path: Self.directory + "/stored.npz")
        #expect(Set(arrays.keys) == ["x", "y"])
        #expect(arrays["x"] == NumPyArray(shape: [3, 2, 2], values: .float32((0..<12).map { Float($0) / 4 })))
        #expect(arrays["y"] == NumPyArray(shape: [3], values: .int64([0, 2, 1])))
    }

    @Test func deflatedArchiveFromNumPy() throws {
        let arrays = try NumPyArchive.read(path: Self.directory + "/deflated.npz")
        #expect(arrays["x"] == NumPyArray(shape: [4, 1, 3, 3], values: .uint8((0..<36).map { UInt8($0) })))
        #expect(arrays["y"]?.integers == [3, 0, 1, 2])
    }

    @Test func singleArrayFromNumPy() throws {
        let arrays = try NumPyArchive.read(path: Self.directory + "/single.npy")
        #expect(arrays[""] == NumPyArray(shape: [2, 3], values: .int64([1, -2, 3, 4, 5, -6])))
    }

    @Test(arguments: ["stored.npz", "deflated.npz", "single.npy"])
    func truncatedFilesAreErrors(_ name: String) throws {
        let data = try Self.bytes(name)
        for keep in [data.count - 7, data.count / 2, 20] {
            let cut = Data(data.prefix(keep))
            #expect(throws: TrainingError.self, "\(name) cut to \(keep) bytes") { try Self.parse(cut, name: name) }
        }
    }

    @Test func corruptDeflateStreamIsAnError() throws {
        var data = try Self.bytes("deflated.npz")
        for i in 60..<90 { data[i] ^= 0x5A }
        #expect(throws: TrainingError.self) { try NumPyArchive.parse(npz: data, path: "corrupt.npz") }
    }

    @Test func unsupportedDtypeIsNamed() throws {
        var data = try Self.bytes("single.npy")
        let range = try #require(data.firstRange(of: Data("<i8".utf8)))
        data.replaceSubrange(range, with: Data("<f8".utf8))
        let error = #expect(throws: TrainingError.self) { try NumPyArray.parse(npy: data, path: "f8.npy") }
        #expect("\(String(describing: error))".contains("<f8"))
    }

    @Test func evaluationDataChecksShapeAndLabels() throws {
        let none = PortfolioManifest.Preprocess(scale: 1, mean: 0, std: 1)
        let data = try EvaluationData(spec: Self.directory + "/stored.npz", inputShape: [1, 2, 2], classes: 3, preprocess: none)
        #expect(data.count == 3 && data.elementsPerExample == 4 && data.labels == [0, 2, 1])
        let scaled = try EvaluationData(spec: Self.directory + "/deflated.npz", inputShape: [1, 1, 3, 3], classes: 4,
                                        preprocess: .init(scale: 0.5, mean: 1, std: 2))
        let expected: Float = (3 * 0.5 - 1) / 2
        #expect(scaled.inputs[3] == expected)
        #expect(throws: TrainingError.self) {
            try EvaluationData(spec: Self.directory + "/stored.npz", inputShape: [1, 2, 3], classes: 3, preprocess: none)
        }
        #expect(throws: TrainingError.self) {
            try EvaluationData(spec: Self.directory + "/stored.npz", inputShape: [1, 2, 2], classes: 2, preprocess: none)
        }
        #expect(throws: TrainingError.self) {
            try EvaluationData(spec: Self.directory + "/single.npy", inputShape: [1, 3], classes: 2, preprocess: none)
        }
    }
}
