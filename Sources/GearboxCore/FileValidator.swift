// GearboxCore/FileValidator: the one way a file format checks the values it decoded. A type
// decodes first (so wrong types and truncation are `malformed`), then walks its values with a
// FileValidator that carries the file's path and the key path it has reached, so that the first
// value breaking a rule is thrown as `FileFormatError.invalidValue` naming the file, the key
// (`variants[3].latency["250000"].p99Ns`), the value and what is allowed.

import Foundation

/// A file format whose decoded values have rules beyond their types (ranges, order, uniqueness).
/// `JSONFile.read` and `JSONFile.decode` call ``validate(_:)`` on every type that conforms, so
/// every command that reads the file gets the checks.
public protocol ValidatedFile {
    /// Throws ``FileFormatError/invalidValue(path:keyPath:value:allowed:)`` for the first value
    /// that breaks the format's rules.
    func validate(_ file: FileValidator) throws
}

/// The limits Gearbox's file formats share, so that a number that passes them converts to an
/// integer without trapping and sizes nothing absurd.
public enum FileLimits {
    /// Highest frequency a file may name: 100 GHz, far above any CPU's, far below overflow.
    public static let maximumKHz = 100_000_000
    /// Longest latency a table may hold: one hour per inference (a larger one is a corrupt value,
    /// and one hour in ns still converts to `Int` and `Int64` exactly).
    public static let maximumLatencyNs = 3_600e9
    /// Largest byte count a file may state: 1 PiB.
    public static let maximumBytes = 1 << 50
    /// Largest count (samples, parameters, MACs, windows) a file may state: 10^15.
    public static let maximumCount = 1_000_000_000_000_000
    /// Highest CPU number: Linux's largest `NR_CPUS`.
    public static let maximumCPUs = 8192
    /// Most threads a file may ask for.
    public static let maximumThreads = 1024
    /// Longest name a file may give a device, portfolio or variant.
    public static let maximumNameLength = 200
}

/// Walks a decoded file's values, remembering the file and the key path reached.
///
/// ```swift
/// func validate(_ file: FileValidator) throws {
///     try file.at("threads").check(threads, in: 1...FileLimits.maximumThreads)
///     for (i, variant) in variants.enumerated() {
///         try file.at("variants").at(i).at("name").checkNonEmpty(variant.name)
///     }
/// }
/// ```
public struct FileValidator: Sendable {
    /// The file the values came from.
    public let path: String
    /// The key path reached, e.g. `variants[3].latency["250000"]`; empty at the top level.
    public let keyPath: String

    public init(path: String, keyPath: String = "") { self.path = path; self.keyPath = keyPath }

    /// One key deeper: `variants` → `variants.name`.
    public func at(_ key: String) -> FileValidator {
        FileValidator(path: path, keyPath: keyPath.isEmpty ? key : keyPath + "." + key)
    }

    /// An array element: `variants` → `variants[3]`.
    public func at(_ index: Int) -> FileValidator {
        FileValidator(path: path, keyPath: keyPath + "[\(index)]")
    }

    /// A dictionary entry: `latency` → `latency["250000"]`.
    public func at(entry key: String) -> FileValidator {
        FileValidator(path: path, keyPath: keyPath + "[\"\(key)\"]")
    }

    /// The error for the value at this key path.
    public func invalid(_ value: String, allowed: String) -> FileFormatError {
        .invalidValue(path: path, keyPath: keyPath.isEmpty ? "top level" : keyPath, value: value, allowed: allowed)
    }

    /// Throws ``invalid(_:allowed:)`` unless `condition` holds.
    public func require(_ condition: Bool, value: @autoclosure () -> String, allowed: @autoclosure () -> String) throws {
        guard condition else { throw invalid(value(), allowed: allowed()) }
    }

    /// A finite number within `range`.
    public func check(_ value: Double, in range: ClosedRange<Double>, _ allowed: String? = nil) throws {
        try require(value.isFinite && range.contains(value), value: Self.text(value),
                    allowed: allowed ?? "allowed: a finite number in \(Self.text(range.lowerBound))...\(Self.text(range.upperBound))")
    }

    /// A finite number greater than zero and at most `maximum`.
    public func checkPositive(_ value: Double, atMost maximum: Double, _ allowed: String? = nil) throws {
        try require(value.isFinite && value > 0 && value <= maximum, value: Self.text(value),
                    allowed: allowed ?? "allowed: a finite number > 0 and ≤ \(Self.text(maximum))")
    }

    /// An integer within `range`.
    public func check(_ value: Int, in range: ClosedRange<Int>, _ allowed: String? = nil) throws {
        try require(range.contains(value), value: String(value), allowed: allowed ?? "allowed: \(range.lowerBound)...\(range.upperBound)")
    }

    /// A frequency in kHz: 1 kHz to ``FileLimits/maximumKHz``.
    public func checkKHz(_ value: Int) throws {
        try check(value, in: 1...FileLimits.maximumKHz, "allowed: a frequency in kHz, 1...\(FileLimits.maximumKHz)")
    }

    /// A finite span within `range`, in ns.
    public func check(_ span: Nanoseconds, in range: ClosedRange<Double>, _ allowed: String? = nil) throws {
        try check(span.value, in: range, allowed)
    }

    /// A latency: above zero, at most ``FileLimits/maximumLatencyNs``.
    public func checkLatencyNs(_ latency: Nanoseconds) throws { try checkLatencyNs(latency.value) }

    /// A latency in ns: above zero, at most ``FileLimits/maximumLatencyNs``.
    public func checkLatencyNs(_ value: Double) throws {
        try checkPositive(value, atMost: FileLimits.maximumLatencyNs,
                          "allowed: a latency in ns, > 0 and ≤ \(Self.text(FileLimits.maximumLatencyNs)) (one hour)")
    }

    /// A byte count: 0 to ``FileLimits/maximumBytes``.
    public func checkBytes(_ value: Int) throws {
        try check(value, in: 0...FileLimits.maximumBytes, "allowed: a byte count, 0...\(FileLimits.maximumBytes)")
    }

    /// A count: 0 to ``FileLimits/maximumCount``.
    public func checkCount(_ value: Int) throws {
        try check(value, in: 0...FileLimits.maximumCount, "allowed: a count, 0...\(FileLimits.maximumCount)")
    }

    /// Text that is not empty (after trimming whitespace).
    public func checkNonEmpty(_ text: String) throws {
        try require(!text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, value: "empty", allowed: "allowed: a non-empty name")
    }

    /// A name that becomes part of a file name: see ``SafeName``.
    public func checkSafeName(_ name: String) throws {
        if let problem = SafeName.problem(name) { throw invalid(Self.quoted(name), allowed: problem) }
    }

    /// Each of `names` (the values at `self.at(i)`, i their index) is non-empty and appears once.
    public func checkUniqueNames(_ names: [String], key: String? = nil) throws {
        var seen: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            let element = key.map { at(index).at($0) } ?? at(index)
            try element.checkNonEmpty(name)
            if let first = seen[name] {
                throw element.invalid(Self.quoted(name), allowed: "names must be unique (\(keyPath)[\(first)] has it too)")
            }
            seen[name] = index
        }
    }

    /// Named values that must not decrease in the order given (e.g. p50 ≤ p90 ≤ p99); nil = absent.
    /// Throws at the first key whose value is below an earlier one by more than
    /// `relativeTolerance` of it (for values rounded differently, like histogram percentiles
    /// against an exact maximum).
    public func checkNonDecreasing(_ values: [(key: String, value: Double?)], relativeTolerance: Double = 0) throws {
        var previous: (key: String, value: Double)?
        for (key, value) in values {
            guard let value else { continue }
            if let previous, value < previous.value * (1 - relativeTolerance) {
                throw at(key).invalid(Self.text(value), allowed: "must be ≥ \(previous.key) (\(Self.text(previous.value)))")
            }
            previous = (key, value)
        }
    }

    /// `value` as an integer, or an error at this key path when it is not finite or does not fit.
    public func integer(_ value: Double) throws -> Int {
        guard let result = Int(exactly: value.rounded()) else {
            throw invalid(Self.text(value), allowed: "allowed: a finite number within ±\(Int.max)")
        }
        return result
    }

    /// A number as the error shows it: integers without a fraction, others as Swift prints them.
    public static func text(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func quoted(_ text: String) -> String { "'" + text + "'" }
}

/// Names that become file or directory names (device ids, portfolio names): letters, digits,
/// `.`, `_` and `-`, not starting with `.` (no hidden files, no `..`), at most
/// ``FileLimits/maximumNameLength`` characters.
public enum SafeName {
    /// Why `name` cannot be used in a path, or nil when it can.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "allowed: a non-empty name of letters, digits, '.', '_' and '-'" }
        if name.count > FileLimits.maximumNameLength { return "allowed: at most \(FileLimits.maximumNameLength) characters" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": return true
            default: return false
            }
        }
        if !allowed || name.hasPrefix(".") {
            return "allowed: letters, digits, '.', '_' and '-', not starting with '.' (it becomes a file name)"
        }
        return nil
    }
}
