// GearboxReport/Report/DeviceSection: the board the table was measured on: topology, CPU kinds,
// DVFS domains and their grid, which counters exist, and how frequency was controlled.

import GearboxCore
import GearboxHardware
import GearboxProfiler

extension ReportBuilder {
    func deviceSection() -> ReportSection {
        var blocks: [ReportBlock] = []
        let controllerText = Self.describe(lut.controller)
        guard let device = inputs.device else {
            blocks.append(.note("No device description given: pass --device Devices/<id>.json (written by gearbox device probe) for topology, DVFS domains and counters."))
            var facts = [Fact("Device id", lut.device), Fact("Frequency control", controllerText)]
            facts.append(Fact("Frequencies profiled", lut.allFrequenciesKHz.map { Formatting.frequency(kHz: $0) }.joined(separator: ", ")))
            if let threads = lut.threads { facts.append(Fact("Threads", "\(threads)")) }
            if let pin = lut.pin { facts.append(Fact("Pinned to", pin)) }
            blocks.append(.facts(facts))
            return ReportSection(id: "device", title: "Device", blocks: blocks)
        }

        let topology = device.topology
        var facts = [
            Fact("Device id", device.id),
            Fact("CPU", device.cpuModel),
            Fact("Host", device.hostname),
            Fact("Topology", "\(topology.packages) package\(topology.packages == 1 ? "" : "s") · \(topology.cores) cores · \(topology.pus) PUs · \(topology.numaNodes) NUMA node\(topology.numaNodes == 1 ? "" : "s")"),
            Fact("Frequency control", controllerText),
        ]
        let caches = topology.caches.sorted { ($0.level, $0.cpus.first ?? 0) < ($1.level, $1.cpus.first ?? 0) }
        if !caches.isEmpty {
            var perLevel: [Int: (count: Int, size: Int)] = [:]
            for cache in caches { perLevel[cache.level, default: (0, cache.sizeBytes)].count += 1 }
            facts.append(Fact("Caches", perLevel.keys.sorted().compactMap { level in
                perLevel[level].map { "L\(level) \($0.count)× \(Formatting.bytes(Double($0.size)))" }
            }.joined(separator: " · ")))
        }
        facts.append(Fact("Timer", "resolution \(Formatting.duration(device.timer.resolutionNs)) · read cost \(Formatting.duration(device.timer.readCostNs))"))
        if let threads = lut.threads { facts.append(Fact("Profiling threads", "\(threads)\(lut.pin.map { " pinned to \($0)" } ?? "")")) }
        if device.cpuKinds.count <= 1 {
            facts.append(Fact("CPU kinds", device.cpuKinds.isEmpty ? "one (hwloc reports no distinct kinds: homogeneous cores)" : "one kind on CPUs \(CPUList.text(device.cpuKinds[0].cpus))"))
        }
        let supported = device.counters.filter { $0.status == "supported" }.map(\.name)
        if !device.counters.isEmpty {
            facts.append(Fact("Counters supported", supported.isEmpty ? "none" : supported.joined(separator: ", ")))
            // Unsupported counters grouped by reason, so a missing PMU reads as one line.
            var byReason: [(reason: String, names: [String])] = []
            for counter in device.counters where counter.status != "supported" {
                if let index = byReason.firstIndex(where: { $0.reason == counter.reason }) {
                    byReason[index].names.append(counter.name)
                } else {
                    byReason.append((counter.reason, [counter.name]))
                }
            }
            if !byReason.isEmpty {
                facts.append(Fact("Counters unsupported", byReason.map { "\($0.names.joined(separator: ", ")): \($0.reason)" }.joined(separator: "; ")))
            }
        }
        let temperatures = device.thermalZones.compactMap { zone in zone.milliCelsius.map { "\(zone.type) \(Formatting.fixed(Double($0) / 1000, decimals: 1)) °C" } }
        if !temperatures.isEmpty { facts.append(Fact("Thermal zones at probe", temperatures.joined(separator: " · "))) }
        blocks.append(.facts(facts))

        if let note = device.dvfs.note { blocks.append(.note("DVFS: " + note)) }
        if device.dvfs.controller.rawValue != lut.controller.rawValue {
            blocks.append(.note("The device file says its controller is '\(device.dvfs.controller)' while the lookup table was measured with '\(lut.controller.rawValue)'; the table's label is used for every figure."))
        }

        if device.cpuKinds.count > 1 {
            blocks.append(.table(ReportTable(
                caption: "CPU kinds (hwloc; efficiency 0 = most power-efficient)",
                header: ["CPUs", "Efficiency rank", "Details"],
                rows: device.cpuKinds.sorted { $0.efficiency < $1.efficiency }.map { kind in
                    [TableCell(CPUList.text(kind.cpus)), TableCell("\(kind.efficiency)"),
                     TableCell(kind.infos.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))]
                },
                numericColumns: [1])))
        }

        if device.dvfs.domains.isEmpty {
            blocks.append(.note("No DVFS domains were found on this device."))
        } else {
            blocks.append(.table(ReportTable(
                caption: "DVFS domains and the frequency grid a sweep visits",
                header: ["CPUs", "Driver", "Governor", "Range", "Grid"],
                rows: device.dvfs.domains.map { domain in
                    let grid = domain.gridKHz.map { Formatting.frequency(kHz: $0) }.joined(separator: ", ")
                    let origin = domain.gridDerived == true || domain.availableKHz.isEmpty ? " (derived: the driver lists none)" : ""
                    return [TableCell(CPUList.text(domain.cpus)), TableCell(domain.driver), TableCell(domain.governor),
                            TableCell("\(Formatting.frequency(kHz: domain.minKHz)) – \(Formatting.frequency(kHz: domain.maxKHz))"),
                            TableCell("\(domain.gridKHz.count) points: \(grid)\(origin)")]
                })))
        }

        return ReportSection(id: "device", title: "Device", blocks: blocks)
    }
}

/// CPU lists in the kernel's compact form: [0,1,2,3,6] → "0-3,6".
public enum CPUList {
    /// Sorted, deduplicated, consecutive runs collapsed; "none" for an empty list.
    public static func text(_ cpus: [Int]) -> String {
        let sorted = Array(Set(cpus)).sorted()
        guard var start = sorted.first else { return "none" }
        var parts: [String] = []
        var previous = start
        for cpu in sorted.dropFirst() {
            if cpu == previous + 1 { previous = cpu; continue }
            parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
            start = cpu; previous = cpu
        }
        parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
        return parts.joined(separator: ",")
    }
}
