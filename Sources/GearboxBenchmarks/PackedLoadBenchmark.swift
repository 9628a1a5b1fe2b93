// GearboxBenchmarks/PackedLoadBenchmark: the cold-load row of `gearbox bench formats`. The
// same variant is loaded from its ONNX file (parse, fold, convert, pack) and from its packed
// file (map, adopt), alternately, a few times each; best and median times and their ratio are
// reported, plus load-and-first-inference (which pages the mapped weights in).

import Foundation
import GearboxCore
import GearboxEngine

/// ONNX load vs packed load of one variant, measured alternately in one run.
public struct PackedLoadComparison: Codable, Sendable, Hashable {
    /// What was loaded (model and format).
    public var variant: String
    public var onnxBytes: Int
    public var packedBytes: Int
    public var rounds: Int
    public var onnxLoadBestNs: Nanoseconds
    public var packedLoadBestNs: Nanoseconds
    public var onnxLoadMedianNs: Nanoseconds
    public var packedLoadMedianNs: Nanoseconds
    /// packed / ONNX load time (best runs).
    public var loadRatio: Double
    /// packed / ONNX time of load + first inference (best runs).
    public var firstRunRatio: Double
    /// Files are read through the page cache (warm): the ratio is the engine's load work, not disk speed.
    public var note: String

    /// Loads `onnx` (converted with `options`) and its packed copy `rounds` times each, alternately.
    public static func measure(variant: String, onnx data: Data, options: EngineOptions, rounds: Int = 5) throws -> PackedLoadComparison {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gearbox-load-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let onnxPath = directory + "/model.onnx", packedPath = directory + "/model.gbpk"
        try AtomicFile.write(data, to: onnxPath)
        let summary = try PackedVariantFile.write(onnx: data, source: variant, options: options, to: packedPath)
        var onnxLoads = [Int](), packedLoads = [Int](), onnxFirst = [Int](), packedFirst = [Int]()
        func time(_ path: String, _ loads: inout [Int], _ first: inout [Int]) throws {
            let start = DispatchTime.now().uptimeNanoseconds
            let model = try InferenceModel(contentsOf: path, options: options)
            let loaded = DispatchTime.now().uptimeNanoseconds
            model.run()
            let ran = DispatchTime.now().uptimeNanoseconds
            loads.append(Int(loaded - start))
            first.append(Int(ran - start))
        }
        for _ in 0..<max(1, rounds) {
            try time(onnxPath, &onnxLoads, &onnxFirst)
            try time(packedPath, &packedLoads, &packedFirst)
        }
        func median(_ v: [Int]) -> Int { v.sorted()[v.count / 2] }
        let onnxBest = onnxLoads.min() ?? 1, packedBest = packedLoads.min() ?? 0
        return PackedLoadComparison(
            variant: variant, onnxBytes: data.count, packedBytes: summary.fileBytes, rounds: max(1, rounds),
            onnxLoadBestNs: Nanoseconds(onnxBest), packedLoadBestNs: Nanoseconds(packedBest),
            onnxLoadMedianNs: Nanoseconds(median(onnxLoads)), packedLoadMedianNs: Nanoseconds(median(packedLoads)), loadRatio: Double(packedBest) / Double(max(1, onnxBest)),
            firstRunRatio: Double(packedFirst.min() ?? 0) / Double(max(1, onnxFirst.min() ?? 1)),
            note: "files in the page cache (warm); load = file → ready-to-run model, single thread")
    }

    /// The comparison as one terminal line.
    public var line: String {
        String(format: "  %@: ONNX %.2f ms, packed %.2f ms → %.2f× (load + first run %.2f×) [%d B ONNX, %d B packed]",
               variant, onnxLoadBestNs.milliseconds, packedLoadBestNs.milliseconds, loadRatio, firstRunRatio, onnxBytes, packedBytes)
    }
}
