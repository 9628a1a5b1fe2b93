// GearboxHardware/PlatformSoftware: the kernel and firmware a device runs, for the device file
// and the results store (a fleet's tables differ by firmware as much as by silicon).

import Foundation

/// The kernel and firmware versions of the probed machine, where readable.
public struct PlatformSoftware: Equatable, Sendable {
    /// `uname`'s system, release, version and machine (e.g. "Linux 6.1.0-26-amd64 #1 SMP … x86_64");
    /// nil for a sysfs dump, which does not record the kernel that wrote it.
    public var kernel: String?
    /// The DMI firmware vendor, version and date (`sys/class/dmi/id/bios_*`); nil where the
    /// machine exposes none (most ARM boards, virtual machines without SMBIOS).
    public var firmware: String?

    public init(kernel: String?, firmware: String?) {
        self.kernel = kernel; self.firmware = firmware
    }

    /// Reads both from `root`: the kernel only from the live machine, the firmware from the
    /// root's DMI files (so a dump that holds them is read too).
    public static func read(root: SysfsRoot) -> PlatformSoftware {
        PlatformSoftware(kernel: root.isLive ? runningKernel() : nil, firmware: firmware(root: root))
    }

    /// Why a value is nil, for the device file's provenance notes.
    public var absenceNotes: [String] {
        var notes: [String] = []
        if kernel == nil { notes.append("kernel: not recorded in a sysfs dump") }
        if firmware == nil { notes.append("firmware: not readable (no sys/class/dmi/id/bios_version)") }
        return notes
    }

    static func runningKernel() -> String? {
        var name = utsname()
        guard uname(&name) == 0 else { return nil }
        let fields = [name.sysname, name.release, name.version, name.machine].map { field in
            withUnsafeBytes(of: field) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        let text = fields.filter { !$0.isEmpty }.joined(separator: " ")
        return text.isEmpty ? nil : text
    }

    static func firmware(root: SysfsRoot) -> String? {
        func field(_ name: String) -> String? {
            guard let text = try? String(contentsOfFile: root.path("sys/class/dmi/id/" + name), encoding: .utf8) else { return nil }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        }
        guard let version = field("bios_version") else { return nil }
        let named = [field("bios_vendor"), version].compactMap { $0 }.joined(separator: " ")
        return field("bios_date").map { "\(named) (\($0))" } ?? named
    }
}
