// CGearboxShims: see include/CGearboxShims.h.
#define _GNU_SOURCE
#include "CGearboxShims.h"
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
// libpfm's copy of the perf_event ABI, for the PERF_EVENT_IOC_* numbers; <linux/perf_event.h>
// must not be mixed with libpfm's headers anywhere in the package (the structs clash).
#include <perfmon/perf_event.h>

int gearbox_ioctl_int(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
int gearbox_current_cpu(void) { return sched_getcpu(); }
pid_t gearbox_gettid(void) { return (pid_t)syscall(SYS_gettid); }
int gearbox_perf_enable(int fd) { return ioctl(fd, PERF_EVENT_IOC_ENABLE, 0); }
int gearbox_perf_disable(int fd) { return ioctl(fd, PERF_EVENT_IOC_DISABLE, 0); }
int gearbox_perf_reset(int fd) { return ioctl(fd, PERF_EVENT_IOC_RESET, 0); }
