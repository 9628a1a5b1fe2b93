// CGearboxShims: non-variadic wrappers for the few C calls Swift cannot import directly
// (variadic ioctl/syscall), and the one signal handler (C, because it must be async-signal-safe).
#ifndef CGEARBOX_SHIMS_H
#define CGEARBOX_SHIMS_H

#include <sys/types.h>
#include "CGearboxPerf.h"
#include "CGearboxAllocation.h"

/// ioctl(fd, request, arg) with an integer argument.
int gearbox_ioctl_int(int fd, unsigned long request, unsigned long arg);

/// The CPU the calling thread last ran on (sched_getcpu), or -1 with errno set.
int gearbox_current_cpu(void);

/// The kernel thread id of the calling thread (gettid).
pid_t gearbox_gettid(void);

/// The CPUs the calling thread may run on (sched_getaffinity), at most `capacity` of them, into
/// `cpus`; returns how many, or -1 with errno set.
int gearbox_thread_cpus(int *cpus, int capacity);

/// Pins the calling thread to one CPU (sched_setaffinity). 0, or -1 with errno set.
int gearbox_pin_thread_to_cpu(int cpu);

/// Gives the calling thread the SCHED_IDLE policy: it runs only when nothing else on its CPU
/// wants to. 0, or -1 with errno set.
int gearbox_make_thread_idle_priority(void);

/// Names the calling thread for the kernel (`ps -L`, /proc/.../comm; at most 15 bytes kept).
/// 0, or an error number.
int gearbox_name_thread(const char *name);

/// A spin-wait hint (x86 `pause`, arm `yield`): lets a busy-wait loop leave the core's
/// resources to a sibling thread.
void gearbox_cpu_relax(void);

/// unshare(CLONE_NEWNS): gives the calling thread its own mount namespace (0, or -1 with errno set).
int gearbox_unshare_mount_namespace(void);

/// statfs(path).f_type (the filesystem magic, e.g. 0x62656572 for sysfs), or -1 with errno set.
long gearbox_filesystem_type(const char *path);

/// Installs an async-signal-safe handler for `signo` that writes the signal number as one byte to
/// `fd` (the write end of a pipe): the one thing a signal handler may do here; a Swift thread
/// reading the pipe does the rest. One forwarding pipe per process (the latest call's `fd`).
/// 0, or -1 with errno set.
int gearbox_forward_signal(int signo, int fd);

/// Gives `signo` its default action back and stops forwarding it. 0, or -1 with errno set.
int gearbox_stop_forwarding_signal(int signo);

/// Marks the start of a signal-time restore of `signo`: from now on a thread that calls exit()
/// (an interrupted command failing on its own) waits in an atexit handler, up to `deadline_ms`,
/// for `gearbox_interrupt_finished`, then ends the process with status 128 + `signo`.
void gearbox_interrupt_started(int signo, int deadline_ms);

/// Marks the end of the signal-time restore (its messages are out).
void gearbox_interrupt_finished(void);

#endif
