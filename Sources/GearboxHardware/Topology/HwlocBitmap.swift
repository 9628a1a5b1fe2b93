// GearboxHardware/HwlocBitmap: converts between hwloc bitmaps and `CPUSet`. Internal: hwloc
// types never leave the module.

import CHwloc

/// An owned hwloc bitmap, freed when it goes out of scope.
final class HwlocBitmap {
    let raw: hwloc_bitmap_t

    /// A new, empty bitmap. Nil only if hwloc cannot allocate.
    init?() {
        guard let raw = hwloc_bitmap_alloc() else { return nil }
        self.raw = raw
    }

    /// A bitmap holding exactly `set`.
    convenience init?(_ set: CPUSet) {
        self.init()
        for cpu in set { hwloc_bitmap_set(raw, UInt32(cpu)) }
    }

    deinit { hwloc_bitmap_free(raw) }

    var cpuSet: CPUSet { HwlocBitmap.cpuSet(of: raw) }

    /// The set bits of `bitmap`. An infinite bitmap (hwloc's "all CPUs, even future ones")
    /// yields its finite prefix.
    static func cpuSet(of bitmap: hwloc_const_bitmap_t?) -> CPUSet {
        guard let bitmap else { return .empty }
        var cpus: [Int] = []
        var index = hwloc_bitmap_first(bitmap)
        while index >= 0 {
            cpus.append(Int(index))
            // Infinite bitmaps never end; stop past anything the kernel could number.
            if cpus.count > 1 << 16 { break }
            index = hwloc_bitmap_next(bitmap, index)
        }
        return CPUSet(cpus)
    }
}
