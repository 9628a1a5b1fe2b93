// CGearboxShims/perf: see include/CGearboxPerf.h.
#include "CGearboxPerf.h"
#include <sys/ioctl.h>
// libpfm's copy of the perf_event ABI, for the PERF_EVENT_IOC_* numbers. <linux/perf_event.h>
// must never sit beside libpfm's headers in this package (the struct definitions clash).
#include <perfmon/perf_event.h>

int gearbox_perf_enable(int fd) { return ioctl(fd, PERF_EVENT_IOC_ENABLE, 0); }
int gearbox_perf_disable(int fd) { return ioctl(fd, PERF_EVENT_IOC_DISABLE, 0); }
int gearbox_perf_reset(int fd) { return ioctl(fd, PERF_EVENT_IOC_RESET, 0); }
