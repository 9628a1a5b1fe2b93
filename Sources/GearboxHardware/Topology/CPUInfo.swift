// GearboxHardware/CPUInfo: the CPU model name from `/proc/cpuinfo` and the device id derived
// from it and the topology (the `<id>` of `Devices/<id>.json`).

import Foundation

/// Reads what `/proc/cpuinfo` says about the CPU model.
public enum CPUInfo {
    /// The CPU model of the machine at `root`, or `"unknown"` when `/proc/cpuinfo` is absent or
    /// says nothing usable.
    ///
    /// x86: the `model name` line. ARM: the board or SoC (`Hardware`, or `Model` on Raspberry
    /// Pi kernels) followed by the core names decoded from `CPU implementer`/`CPU part`
    /// (`"ST-Ericsson MOP500 platform (Cortex-A9)"`); failing those, `model name`/`Processor`.
    public static func model(root: SysfsRoot = .live) -> String {
        guard let text = try? String(contentsOfFile: root.path("proc/cpuinfo"), encoding: .utf8) else {
            return "unknown"
        }
        return model(cpuinfo: text)
    }

    /// The model named by the text of a `/proc/cpuinfo` file (see `model(root:)`).
    public static func model(cpuinfo text: String) -> String {
        var fields: [(key: String, value: String)] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !key.isEmpty, !value.isEmpty { fields.append((key, value)) }
        }
        func first(_ key: String) -> String? { fields.first { $0.key == key }?.value }

        let implementers = fields.filter { $0.key == "CPU implementer" }.map(\.value)
        let parts = fields.filter { $0.key == "CPU part" }.map(\.value)
        let isARM = !parts.isEmpty || first("Hardware") != nil
        if !isARM, let name = first("model name") { return collapseSpaces(name) }

        var coreNames: [String] = []
        for (position, part) in parts.enumerated() {
            let implementer = position < implementers.count ? implementers[position] : implementers.last ?? ""
            let name = armCoreName(implementer: implementer, part: part)
            if !coreNames.contains(name) { coreNames.append(name) }
        }
        let board = first("Hardware") ?? first("Model")
        let cores = coreNames.joined(separator: " + ")
        switch (board, cores.isEmpty) {
        case let (board?, false): return collapseSpaces("\(board) (\(cores))")
        case let (board?, true): return collapseSpaces(board)
        case (nil, false): return cores
        case (nil, true):
            return (first("model name") ?? first("Processor") ?? first("cpu model")).map(collapseSpaces) ?? "unknown"
        }
    }

    /// ARM's own core part numbers (implementer 0x41); others are named by their codes.
    private static let armParts: [String: String] = [
        "0xc05": "Cortex-A5", "0xc07": "Cortex-A7", "0xc08": "Cortex-A8", "0xc09": "Cortex-A9",
        "0xc0d": "Cortex-A12", "0xc0e": "Cortex-A17", "0xc0f": "Cortex-A15",
        "0xd01": "Cortex-A32", "0xd02": "Cortex-A34", "0xd03": "Cortex-A53", "0xd04": "Cortex-A35",
        "0xd05": "Cortex-A55", "0xd06": "Cortex-A65", "0xd07": "Cortex-A57", "0xd08": "Cortex-A72",
        "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76", "0xd0c": "Neoverse-N1",
        "0xd0d": "Cortex-A77", "0xd0e": "Cortex-A76AE", "0xd40": "Neoverse-V1", "0xd41": "Cortex-A78",
        "0xd42": "Cortex-A78AE", "0xd44": "Cortex-X1", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710",
        "0xd48": "Cortex-X2", "0xd49": "Neoverse-N2", "0xd4b": "Cortex-A78C", "0xd4d": "Cortex-A715",
        "0xd4e": "Cortex-X3", "0xd4f": "Neoverse-V2", "0xd80": "Cortex-A520", "0xd81": "Cortex-A720",
        "0xd82": "Cortex-X4",
    ]

    private static func armCoreName(implementer: String, part: String) -> String {
        let part = part.lowercased(), implementer = implementer.lowercased()
        if implementer == "0x41", let name = armParts[part] { return name }
        return "implementer \(implementer) part \(part)"
    }

    private static func collapseSpaces(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// The machine-derived id that names a device file (`Devices/<id>.json`).
public enum DeviceID {
    /// `<model slug>-<topology>`, e.g. `13th-gen-intel-core-i7-1370p-14c20t` or
    /// `st-ericsson-mop500-platform-cortex-a9-2c2t`; a `<n>p` prefix on the topology part
    /// when there is more than one package.
    public static func derive(cpuModel: String, topology: DeviceDescription.TopologySummary) -> String {
        let shape = (topology.packages > 1 ? "\(topology.packages)p" : "") + "\(topology.cores)c\(topology.pus)t"
        let model = slug(cpuModel)
        return model.isEmpty ? shape : model + "-" + shape
    }

    /// Lower-case ASCII letters and digits joined by single dashes; trademark marks and the
    /// filler words "cpu" and "processor" dropped; at most 48 characters.
    public static func slug(_ text: String) -> String {
        let cleaned = text.lowercased()
            .replacingOccurrences(of: "(r)", with: " ")
            .replacingOccurrences(of: "(tm)", with: " ")
        var words: [String] = []
        var current = ""
        for scalar in cleaned.unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current); current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        var slug = words.filter { $0 != "cpu" && $0 != "processor" }.joined(separator: "-")
        if slug.count > 48 {
            slug = String(slug.prefix(48))
            while slug.hasSuffix("-") { slug.removeLast() }
        }
        return slug
    }
}
