// GearboxHardware/Topology: the machine's CPU layout as hwloc sees it — packages, cores, PUs,
// NUMA nodes, caches and CPU kinds (big.LITTLE / hybrid) — read from the live machine or from
// a sysfs dump. The loaded hwloc handle stays inside so pinning can use the same topology.

import CHwloc
import Foundation

/// A machine's CPU topology, loaded through hwloc.
///
/// ```swift
/// let topology = try Topology.load()                       // this machine
/// let board = try Topology.load(root: .dump(directory: d))  // an extracted sysfs dump
/// print(board.pus.count, board.kinds.count)
/// ```
///
/// All properties are plain values read once at load time. The class is `Sendable`: hwloc
/// allows concurrent queries and binding on a loaded topology, and nothing here mutates it.
public final class Topology: @unchecked Sendable {
    /// A package, core or NUMA node: its hwloc logical index, the OS index where the OS gives
    /// one, and the PUs it holds.
    public struct Element: Hashable, Sendable {
        public let logicalIndex: Int
        public let osIndex: Int?
        public let cpus: CPUSet
    }

    /// A CPU cache.
    public struct Cache: Hashable, Sendable {
        public enum Kind: String, Hashable, Sendable, Codable {
            case unified, data, instruction
        }
        /// 1 for L1, 2 for L2, ...
        public let level: Int
        public let kind: Kind
        public let sizeBytes: Int
        /// 0 when the OS does not report it.
        public let lineBytes: Int
        /// The PUs that share this cache.
        public let cpus: CPUSet
    }

    /// One kind of CPU core (e.g. the P-cores or the E-cores of a hybrid chip), from
    /// `hwloc_cpukinds_get_info`.
    public struct CPUKind: Hashable, Sendable {
        /// Position in hwloc's list: kinds are ordered from most power-efficient to most performant.
        public let index: Int
        public let cpus: CPUSet
        /// hwloc's efficiency rank (0 = least performant, most efficient); nil when hwloc
        /// could not rank the kinds.
        public let efficiency: Int?
        /// hwloc's attributes, e.g. `CoreType`, `FrequencyMaxMHz`, `FrequencyBaseMHz`, `LinuxCapacity`.
        public let infos: [String: String]
    }

    /// Where the topology was read from.
    public let root: SysfsRoot
    public let packages: [Element]
    public let cores: [Element]
    /// The PUs (hardware threads), by OS index, ascending.
    public let pus: CPUSet
    public let numaNodes: [Element]
    /// Every cache, ordered by level, then kind, then first CPU.
    public let caches: [Cache]
    /// The CPU kinds, most efficient first. Homogeneous machines have one kind (or none when
    /// the OS gives hwloc nothing to tell kinds apart by).
    public let kinds: [CPUKind]

    /// The loaded hwloc topology; only this module's pinning code touches it.
    let handle: hwloc_topology_t

    private init(root: SysfsRoot, handle: hwloc_topology_t) {
        self.root = root
        self.handle = handle
        packages = Self.elements(of: HWLOC_OBJ_PACKAGE, in: handle)
        cores = Self.elements(of: HWLOC_OBJ_CORE, in: handle)
        pus = CPUSet(Self.elements(of: HWLOC_OBJ_PU, in: handle).compactMap(\.osIndex))
        numaNodes = Self.elements(of: HWLOC_OBJ_NUMANODE, in: handle)
        caches = Self.caches(in: handle)
        kinds = Self.kinds(in: handle)
    }

    deinit { hwloc_topology_destroy(handle) }

    /// Loads the topology of the live machine or of a sysfs dump.
    ///
    /// For a dump, hwloc's Linux backend reads `<root>/sys` and `<root>/proc` (its
    /// `HWLOC_FSROOT`), and the x86 CPUID backend is excluded: it would otherwise describe
    /// this host's CPU instead of the dump's (fatal for a foreign architecture, misleading even
    /// for an x86 dump). A dump topology cannot be used for binding.
    ///
    /// - Throws: `HardwareError.topology` when hwloc fails or finds no PUs.
    public static func load(root: SysfsRoot = .live) throws -> Topology {
        if let directory = root.directory {
            _ = try SysfsRoot.dump(at: directory)
        }
        var maybeHandle: hwloc_topology_t?
        guard hwloc_topology_init(&maybeHandle) == 0, let handle = maybeHandle else {
            throw HardwareError.topology(root: root.description, reason: "hwloc_topology_init failed")
        }
        if root.directory != nil {
            let blacklist = UInt(HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST.rawValue)
            guard hwloc_topology_set_components(handle, blacklist, "x86") == 0 else {
                hwloc_topology_destroy(handle)
                throw HardwareError.topology(root: root.description, reason: "cannot exclude hwloc's x86 backend")
            }
        }
        let status = withFilesystemRoot(root.directory) { hwloc_topology_load(handle) }
        guard status.result == 0 else {
            hwloc_topology_destroy(handle)
            throw HardwareError.topology(root: root.description, reason: "hwloc_topology_load failed: \(String(cString: strerror(status.errno)))")
        }
        let topology = Topology(root: root, handle: handle)
        guard !topology.pus.isEmpty else {
            throw HardwareError.topology(root: root.description, reason: "no processing units found under sys/devices/system/cpu")
        }
        return topology
    }

    /// This machine's topology, loaded on first use and shared for the life of the process
    /// (loading takes milliseconds; pinning and worker pools should not repeat it).
    public static func live() throws -> Topology { try liveOnce.get() }

    static let liveOnce: Result<Topology, Error> = Result { try Topology.load() }

    /// Runs `body` (hwloc_topology_load) with `HWLOC_FSROOT` set to `directory`, then restores
    /// the variable. hwloc 2.9 has no per-topology fsroot API (`hwloc_topology_set_fsroot` went
    /// away in 2.0; the Linux backend reads the variable while loading), so the variable is
    /// set only inside `ProcessEnvironment`'s lock for the duration of the load and never left
    /// behind. Code that spawns processes in this module takes the same lock.
    private static func withFilesystemRoot(_ directory: String?, _ body: () -> Int32) -> (result: Int32, errno: Int32) {
        ProcessEnvironment.withLock { () -> (result: Int32, errno: Int32) in
            let previous = getenv("HWLOC_FSROOT").map { String(cString: $0) }
            if let directory { setenv("HWLOC_FSROOT", directory, 1) } else { unsetenv("HWLOC_FSROOT") }
            defer {
                if let previous { setenv("HWLOC_FSROOT", previous, 1) } else { unsetenv("HWLOC_FSROOT") }
            }
            errno = 0
            let result = body()
            return (result, errno)
        }
    }

    // MARK: Reading hwloc objects

    private static func objects(of type: hwloc_obj_type_t, in handle: hwloc_topology_t) -> [hwloc_obj_t] {
        let depth = hwloc_get_type_depth(handle, type)
        // Unknown or multiple depths (possible for caches, not for these types) yield nothing.
        guard depth != HWLOC_TYPE_DEPTH_UNKNOWN.rawValue, depth != HWLOC_TYPE_DEPTH_MULTIPLE.rawValue else { return [] }
        let count = hwloc_get_nbobjs_by_depth(handle, depth)
        return (0..<count).compactMap { hwloc_get_obj_by_depth(handle, depth, $0) }
    }

    private static func elements(of type: hwloc_obj_type_t, in handle: hwloc_topology_t) -> [Element] {
        objects(of: type, in: handle).map { object in
            Element(
                logicalIndex: Int(object.pointee.logical_index),
                osIndex: object.pointee.os_index == UInt32.max ? nil : Int(object.pointee.os_index),
                cpus: HwlocBitmap.cpuSet(of: object.pointee.cpuset))
        }
    }

    private static func caches(in handle: hwloc_topology_t) -> [Cache] {
        let cacheTypes = [
            HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L4CACHE, HWLOC_OBJ_L5CACHE,
            HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2ICACHE, HWLOC_OBJ_L3ICACHE,
        ]
        var result: [Cache] = []
        for type in cacheTypes {
            for object in objects(of: type, in: handle) {
                guard let attributes = object.pointee.attr?.pointee.cache else { continue }
                let kind: Cache.Kind
                switch attributes.type {
                case HWLOC_OBJ_CACHE_DATA: kind = .data
                case HWLOC_OBJ_CACHE_INSTRUCTION: kind = .instruction
                default: kind = .unified
                }
                result.append(Cache(
                    level: Int(attributes.depth), kind: kind, sizeBytes: Int(attributes.size),
                    lineBytes: Int(attributes.linesize), cpus: HwlocBitmap.cpuSet(of: object.pointee.cpuset)))
            }
        }
        return result.sorted {
            ($0.level, $0.kind.rawValue, $0.cpus.first ?? -1) < ($1.level, $1.kind.rawValue, $1.cpus.first ?? -1)
        }
    }

    private static func kinds(in handle: hwloc_topology_t) -> [CPUKind] {
        let count = hwloc_cpukinds_get_nr(handle, 0)
        guard count > 0 else { return [] }
        var result: [CPUKind] = []
        for index in 0..<Int(count) {
            guard let bitmap = HwlocBitmap() else { continue }
            var efficiency: Int32 = -1
            var infoCount: UInt32 = 0
            var infos: UnsafeMutablePointer<hwloc_info_s>?
            guard hwloc_cpukinds_get_info(handle, UInt32(index), bitmap.raw, &efficiency, &infoCount, &infos, 0) == 0 else {
                continue
            }
            var attributes: [String: String] = [:]
            for position in 0..<Int(infoCount) {
                guard let info = infos?[position], let name = info.name, let value = info.value else { continue }
                attributes[String(cString: name)] = String(cString: value)
            }
            result.append(CPUKind(
                index: index, cpus: bitmap.cpuSet, efficiency: efficiency < 0 ? nil : Int(efficiency),
                infos: attributes))
        }
        return result
    }
}

extension Topology {
    /// The part of `DeviceDescription` that describes the topology. Caches are listed once
    /// per cache (not per PU), data and unified caches and instruction caches alike.
    public func summary() -> DeviceDescription.TopologySummary {
        DeviceDescription.TopologySummary(
            packages: packages.count, cores: cores.count, pus: pus.count, numaNodes: numaNodes.count,
            caches: caches.map {
                DeviceDescription.Cache(
                    level: $0.level, sizeBytes: $0.sizeBytes, lineBytes: $0.lineBytes, cpus: $0.cpus.cpus,
                    type: $0.kind.rawValue)
            })
    }

    /// The CPU kinds as `DeviceDescription` records them. An efficiency hwloc could not rank
    /// is written as -1 (hwloc's own "unknown"), never as an invented rank.
    public func cpuKinds() -> [DeviceDescription.CPUKind] {
        kinds.map { DeviceDescription.CPUKind(cpus: $0.cpus.cpus, efficiency: $0.efficiency ?? -1, infos: $0.infos) }
    }

    /// PUs that hwloc put in no CPU kind (e.g. a dump without `cpufreq` for some CPUs): callers
    /// should say so rather than guess the kind.
    public var pusWithoutKind: CPUSet {
        kinds.isEmpty ? .empty : pus.subtracting(kinds.reduce(CPUSet.empty) { $0.union($1.cpus) })
    }

    /// The kind that holds `cpu`, if the topology has kinds.
    public func kind(containing cpu: Int) -> CPUKind? {
        kinds.first { $0.cpus.contains(cpu: cpu) }
    }

    /// The core that holds `cpu`.
    public func core(containing cpu: Int) -> Element? {
        cores.first { $0.cpus.contains(cpu: cpu) }
    }
}
