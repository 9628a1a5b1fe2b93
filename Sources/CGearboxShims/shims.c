// CGearboxShims: see include/CGearboxShims.h.
#define _GNU_SOURCE
#include "CGearboxShims.h"
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int gearbox_ioctl_int(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
int gearbox_current_cpu(void) { return sched_getcpu(); }
pid_t gearbox_gettid(void) { return (pid_t)syscall(SYS_gettid); }
