// CGearboxShims/CGearboxPerf: non-variadic wrappers for the perf_event ioctls (Swift cannot
// call the variadic ioctl). One line each; no logic lives in C.
#ifndef CGEARBOX_PERF_H
#define CGEARBOX_PERF_H

/// ioctl(fd, PERF_EVENT_IOC_ENABLE / DISABLE / RESET, 0): 0, or -1 with errno set.
int gearbox_perf_enable(int fd);
int gearbox_perf_disable(int fd);
int gearbox_perf_reset(int fd);

#endif
