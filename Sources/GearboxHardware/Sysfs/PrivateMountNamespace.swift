// GearboxHardware/PrivateMountNamespace: the calling OS thread leaves the host's mount namespace
// for a private one (unshare(CLONE_NEWNS) is per thread: it implies CLONE_FS, not CLONE_VM, so a
// multi-threaded process may do it) in which every mount is private, so nothing mounted there
// propagates back to the host. CpufreqView and board runs then bind-mount their trees into it.

import CGearboxShims
#if canImport(Glibc)
import Glibc
#endif

enum PrivateMountNamespace {
    /// Enters a private mount namespace on this thread; the reason when it could not.
    static func enterOnThisThread() -> String? {
        if gearbox_unshare_mount_namespace() != 0 {
            return "unshare(CLONE_NEWNS) failed: \(String(cString: strerror(errno)))"
        }
        if mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil) != 0 {
            return "making mounts private failed: \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
