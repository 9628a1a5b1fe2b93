// CGearboxShims: non-variadic wrappers for the few C calls Swift cannot import directly
// (variadic ioctl/syscall). Each is one line; no logic lives in C.
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

#endif
