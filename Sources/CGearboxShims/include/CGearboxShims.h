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
