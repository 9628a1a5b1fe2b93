// GearboxHardware/DeviceSummary: the human-readable text `gearbox device probe` and
// `gearbox dvfs list` print (the JSON is the file format; this is for people).

import Foundation

extension DeviceDescription {
    /// A few aligned lines describing the device.
    public func summaryText() -> String {
        var lines: [String] = []
        lines.append("Device \(id)" + (sysfsRoot.map { $0 == "live" ? "" : "  (from sysfs dump \($0))" } ?? ""))
        lines.append(row("CPU", cpuModel))
        lines.append(row("Host", hostname))
        let t = topology
        lines.append(row("Topology", "\(plural(t.packages, "package")), \(plural(t.cores, "core")), \(plural(t.pus, "PU")), \(plural(t.numaNodes, "NUMA node"))"))
        lines.append(row("Caches", cacheText()))
        if cpuKinds.isEmpty {
            lines.append(row("CPU kinds", "none reported"))
        } else {
            for (index, kind) in cpuKinds.enumerated() {
                let infos = ["CoreType", "FrequencyMaxMHz", "FrequencyBaseMHz"].compactMap { key in kind.infos[key].map { "\(key) \($0)" } }
                let efficiency = kind.efficiency < 0 ? "efficiency unknown" : "efficiency \(kind.efficiency)"
                lines.append(row(index == 0 ? "CPU kinds" : "", "CPUs \(CPUSet(kind.cpus).listString): \(efficiency)" + (infos.isEmpty ? "" : ", " + infos.joined(separator: ", "))))
            }
        }
        lines += dvfs.listingLines(label: "DVFS")
        let supported = counters.filter { $0.status == "supported" }
        let unsupported = counters.filter { $0.status != "supported" }
        lines.append(row("Counters", "\(supported.count) of \(counters.count) supported" + (supported.isEmpty ? "" : ": " + supported.map(\.name).joined(separator: ", "))))
        if unsupported.count > 1, Set(unsupported.map(\.reason)).count == 1 {
            lines.append(row("", "unsupported \(unsupported.map(\.name).joined(separator: ", ")): \(Self.clip(unsupported[0].reason, 90))"))
        } else {
            for counter in unsupported.prefix(12) {
                lines.append(row("", "unsupported \(counter.name): \(Self.clip(counter.reason, 90))"))
            }
        }
        if thermalZones.isEmpty {
            lines.append(row("Thermal", "absent (no thermal zones)"))
        } else {
            for (index, zone) in thermalZones.enumerated() {
                let reading = zone.milliCelsius.map { String(format: "%.1f °C", Double($0) / 1000) } ?? "no reading" + (zone.note.map { " (\($0))" } ?? "")
                lines.append(row(index == 0 ? "Thermal" : "", "\(zone.zone ?? "zone \(index)") \(zone.type): \(reading)"))
            }
        }
        for (index, note) in (provenance?.notes ?? []).filter({ !$0.hasPrefix("dvfs: ") && !$0.hasPrefix("thermal zones: ") }).enumerated() {
            lines.append(row(index == 0 ? "Notes" : "", note))
        }
        lines.append(row("Timer", String(format: "resolution %d ns, read cost %.1f ns", Int(timer.resolutionNs.wholeNanoseconds), timer.readCostNs.value) + (timer.clock.map { " (\($0))" } ?? "")))
        return lines.joined(separator: "\n")
    }

    private func cacheText() -> String {
        guard !topology.caches.isEmpty else { return "none reported" }
        var groups: [String: Int] = [:]
        var order: [String] = []
        for cache in topology.caches {
            let kind = cache.type.map { $0 == "unified" ? "" : ($0 == "data" ? "d" : "i") } ?? ""
            let key = "L\(cache.level)\(kind) \(Self.bytes(cache.sizeBytes))"
            if groups[key] == nil { order.append(key) }
            groups[key, default: 0] += 1
        }
        return order.map { "\($0) ×\(groups[$0] ?? 0)" }.joined(separator: ", ")
    }

    static func bytes(_ value: Int) -> String {
        if value >= 1 << 20, value % (1 << 20) == 0 { return "\(value >> 20) MiB" }
        if value >= 1 << 10, value % (1 << 10) == 0 { return "\(value >> 10) KiB" }
        return "\(value) B"
    }

    static func clip(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}

extension DeviceDescription.DVFS {
    /// The DVFS part of the summary; also what `gearbox dvfs list` prints.
    public func listingText() -> String { listingLines(label: "DVFS").joined(separator: "\n") }

    func listingLines(label: String) -> [String] {
        var lines = [row(label, "\(controller), \(domains.count == 1 ? "1 domain" : "\(domains.count) domains")")]
        // Domains that differ only in their CPUs (one per core on intel_pstate) share a line.
        var groups: [(indices: [Int], domain: DeviceDescription.Domain)] = []
        for (index, domain) in domains.enumerated() {
            var shape = domain
            shape.cpus = []
            if let position = groups.firstIndex(where: { var other = $0.domain; other.cpus = []; return other == shape }) {
                groups[position].indices.append(index)
                groups[position].domain.cpus += domain.cpus
            } else {
                groups.append(([index], domain))
            }
        }
        for (indices, domain) in groups {
            let name = indices.count == 1 ? "domain \(indices[0])" : "domains \(CPUSet(indices).listString)"
            var text = "\(name): CPUs \(CPUSet(domain.cpus).listString), \(domain.driver), governor \(domain.governor)"
            text += ", limits \(Frequency.kHz(domain.minKHz))–\(Frequency.kHz(domain.maxKHz))"
            if let low = domain.hardwareMinKHz, let high = domain.hardwareMaxKHz {
                text += " (hardware \(Frequency.kHz(low))–\(Frequency.kHz(high)))"
            }
            if domain.availableKHz.isEmpty {
                text += "; no frequency list, grid \(domain.gridKHz.map { "\($0 / 1000)" }.joined(separator: " ")) MHz" + (domain.gridDerived == true ? " (derived)" : "")
            } else {
                text += "; available \(domain.availableKHz.map { "\($0 / 1000)" }.joined(separator: " ")) MHz"
            }
            if !domain.governors.isEmpty { text += "; governors \(domain.governors.joined(separator: " "))" }
            lines.append(row("", text))
        }
        if let note { lines.append(row("", "note: " + note)) }
        return lines
    }
}

private func row(_ label: String, _ text: String) -> String {
    "  " + label.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + text
}

private func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
