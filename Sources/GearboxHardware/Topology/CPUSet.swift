// GearboxHardware/CPUSet: a set of logical CPU numbers (OS indexes, as the kernel numbers them)
// with the kernel's list syntax ("0-3,8"), used for topology, pinning and DVFS domains.

import Foundation

/// A sorted, duplicate-free set of CPU numbers (the kernel's OS indexes).
///
/// Parses and prints the kernel's CPU list syntax, as in `/sys/devices/system/cpu/online`:
/// ```swift
/// let set = try CPUSet(parsing: "0-3,8")   // [0, 1, 2, 3, 8]
/// set.listString                            // "0-3,8"
/// ```
public struct CPUSet: Hashable, Sendable, Codable, RandomAccessCollection, ExpressibleByArrayLiteral,
    CustomStringConvertible
{
    /// The CPU numbers, ascending and unique.
    public let cpus: [Int]

    /// The set of `cpus` (any order, duplicates dropped). Negative numbers are dropped.
    public init<S: Sequence>(_ cpus: S) where S.Element == Int {
        self.cpus = Array(Set(cpus.filter { $0 >= 0 })).sorted()
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// The empty set.
    public static let empty = CPUSet([Int]())

    /// Parses the kernel's CPU list syntax: comma-separated numbers and inclusive ranges
    /// (`"0-3,8"`, `"1"`, `""` for none; whitespace and a trailing newline are ignored).
    /// Range strides (`"0-7:2"`, as in `isolcpus`) are accepted too.
    ///
    /// - Throws: `HardwareError.cpuList` naming the text and the bad part.
    public init(parsing text: String) throws {
        var result: [Int] = []
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            if item.isEmpty {
                if trimmed.isEmpty { break }
                throw HardwareError.cpuList(text: trimmed, reason: "empty item between commas")
            }
            let rangeAndStride = item.split(separator: ":", omittingEmptySubsequences: false)
            guard rangeAndStride.count <= 2 else {
                throw HardwareError.cpuList(text: trimmed, reason: "\"\(item)\" has more than one ':'")
            }
            let stride = try rangeAndStride.count == 2 ? Self.number(rangeAndStride[1], in: trimmed) : 1
            guard stride > 0 else { throw HardwareError.cpuList(text: trimmed, reason: "stride in \"\(item)\" must be positive") }
            let bounds = rangeAndStride[0].split(separator: "-", omittingEmptySubsequences: false)
            switch bounds.count {
            case 1:
                guard rangeAndStride.count == 1 else {
                    throw HardwareError.cpuList(text: trimmed, reason: "a stride needs a range in \"\(item)\"")
                }
                result.append(try Self.number(bounds[0], in: trimmed))
            case 2:
                let low = try Self.number(bounds[0], in: trimmed), high = try Self.number(bounds[1], in: trimmed)
                guard low <= high else {
                    throw HardwareError.cpuList(text: trimmed, reason: "range \"\(item)\" runs backwards")
                }
                result.append(contentsOf: Swift.stride(from: low, through: high, by: stride))
            default:
                throw HardwareError.cpuList(text: trimmed, reason: "\"\(item)\" is not a number or a range a-b")
            }
        }
        self.init(result)
    }

    private static func number(_ text: Substring, in whole: String) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0, value < 1 << 20 else {
            throw HardwareError.cpuList(text: whole, reason: "\"\(text)\" is not a CPU number")
        }
        return value
    }

    /// The kernel list syntax: ranges of three or more consecutive CPUs collapse to `a-b`
    /// (`[0,1,2,3,8]` → `"0-3,8"`; `[0,1]` → `"0-1"`). Empty set → `""`.
    public var listString: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count, cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    public var description: String { listString.isEmpty ? "(none)" : listString }

    // MARK: Collection

    public var startIndex: Int { cpus.startIndex }
    public var endIndex: Int { cpus.endIndex }
    public subscript(position: Int) -> Int { cpus[position] }

    /// True if `cpu` is in the set (binary search).
    public func contains(cpu: Int) -> Bool {
        var low = 0, high = cpus.count
        while low < high {
            let mid = (low + high) / 2
            if cpus[mid] == cpu { return true }
            if cpus[mid] < cpu { low = mid + 1 } else { high = mid }
        }
        return false
    }

    // MARK: Set algebra

    public func union(_ other: CPUSet) -> CPUSet { CPUSet(cpus + other.cpus) }
    public func intersection(_ other: CPUSet) -> CPUSet { CPUSet(cpus.filter { other.contains(cpu: $0) }) }
    public func subtracting(_ other: CPUSet) -> CPUSet { CPUSet(cpus.filter { !other.contains(cpu: $0) }) }
    public func isSubset(of other: CPUSet) -> Bool { cpus.allSatisfy { other.contains(cpu: $0) } }

    // MARK: Codable: a plain JSON array of Ints, as the file formats use.

    public init(from decoder: Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([Int].self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(cpus)
    }
}
