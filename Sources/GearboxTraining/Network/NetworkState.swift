// GearboxTraining/NetworkState: a snapshot of a network's values (weights, masks, BatchNorm
// statistics) to rewind to, and its checkpoint file: "GBCK", a JSON header naming each array
// and its length, then the arrays as little-endian float32, written atomically.

import Foundation
import GearboxCore

/// Named float arrays capturing everything a network's outputs depend on.
public struct NetworkState: Sendable {
    public var arrays: [String: [Float]]
    /// Free-form facts stored alongside (epoch, round, timings as text).
    public var metadata: [String: String]

    public init(arrays: [String: [Float]] = [:], metadata: [String: String] = [:]) {
        self.arrays = arrays
        self.metadata = metadata
    }

    /// Captures `network`'s values, masks and BatchNorm statistics.
    public init(of network: Network, metadata: [String: String] = [:]) {
        var arrays: [String: [Float]] = [:]
        for p in network.parameters {
            arrays[p.name] = p.value
            if let mask = p.mask { arrays[p.name + "#mask"] = mask }
        }
        for node in network.nodes {
            if case let .batchNorm(b) = node.op {
                arrays[node.name + "#mean"] = b.runningMean
                arrays[node.name + "#variance"] = b.runningVariance
            }
            if case let .gate(g) = node.op { arrays[node.name + "#keep"] = g.keep }
        }
        self.init(arrays: arrays, metadata: metadata)
    }

    /// Writes the snapshot into `network` (same architecture); masks absent from the snapshot
    /// are cleared. Optimiser momentum is reset.
    public func restore(into network: Network, path: String = "<memory>") throws {
        for p in network.parameters {
            guard let value = arrays[p.name], value.count == p.count else {
                throw TrainingError.badCheckpoint(path: path, reason: "no array of \(p.count) values for \(p.name)")
            }
            p.value = value
            p.mask = arrays[p.name + "#mask"]
            p.velocity = [Float](repeating: 0, count: p.count)
            p.zeroGrad()
        }
        for node in network.nodes {
            if case let .batchNorm(b) = node.op {
                guard let mean = arrays[node.name + "#mean"], let variance = arrays[node.name + "#variance"],
                      mean.count == b.channels, variance.count == b.channels
                else { throw TrainingError.badCheckpoint(path: path, reason: "no statistics for \(node.name)") }
                b.runningMean = mean
                b.runningVariance = variance
            }
            if case let .gate(g) = node.op, let keep = arrays[node.name + "#keep"], keep.count == g.channels {
                g.keep = keep
            }
        }
    }

    private struct Header: Codable {
        var schemaVersion: Int
        var names: [String]
        var counts: [Int]
        var metadata: [String: String]
    }

    private static let magic = Data("GBCK".utf8)

    /// Writes the snapshot atomically to `path`.
    public func write(to path: String) throws {
        let entries = arrays.sorted { $0.key < $1.key }
        let header = Header(schemaVersion: 1, names: entries.map(\.key), counts: entries.map(\.value.count), metadata: metadata)
        let json = try JSONEncoder().encode(header)
        var data = Self.magic
        var length = UInt32(json.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, values) in entries {
            values.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        }
        try AtomicFile.write(data, to: path)
    }

    /// Reads a snapshot written by `write(to:)`; a truncated or foreign file is a one-line error.
    public static func read(from path: String) throws -> NetworkState {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.badCheckpoint(path: path, reason: "cannot be read")
        }
        guard data.count >= 8, data.prefix(4) == magic else {
            throw TrainingError.badCheckpoint(path: path, reason: "not a Gearbox checkpoint (no GBCK header)")
        }
        let length = data[data.startIndex + 4..<data.startIndex + 8].enumerated()
            .reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard data.count >= 8 + length,
              let header = try? JSONDecoder().decode(Header.self, from: data.subdata(in: 8..<(8 + length))),
              header.schemaVersion == 1, header.names.count == header.counts.count
        else { throw TrainingError.badCheckpoint(path: path, reason: "unreadable header") }
        let total = header.counts.reduce(0, +)
        guard data.count == 8 + length + total * 4 else {
            throw TrainingError.badCheckpoint(path: path, reason: "truncated (\(data.count) bytes, \(8 + length + total * 4) expected)")
        }
        var arrays: [String: [Float]] = [:]
        var offset = 8 + length
        for (name, count) in zip(header.names, header.counts) {
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                _ = data.copyBytes(to: dst, from: offset..<(offset + count * 4))
            }
            arrays[name] = values
            offset += count * 4
        }
        return NetworkState(arrays: arrays, metadata: header.metadata)
    }
}
