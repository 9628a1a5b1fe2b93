// CGearboxShims: see include/CGearboxShims.h.
#define _GNU_SOURCE
#include "CGearboxShims.h"
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

int gearbox_ioctl_int(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
int gearbox_current_cpu(void) { return sched_getcpu(); }
pid_t gearbox_gettid(void) { return (pid_t)syscall(SYS_gettid); }
int gearbox_unshare_mount_namespace(void) { return unshare(CLONE_NEWNS); }
long gearbox_filesystem_type(const char *path) { struct statfs s; return statfs(path, &s) == 0 ? (long)s.f_type : -1; }
