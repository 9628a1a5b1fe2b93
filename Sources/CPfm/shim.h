// CPfm: libpfm4 with its perf_event helpers (which bring their own perf_event_attr
// definitions; do not include <linux/perf_event.h> beside it, the structs clash).
#include <perfmon/pfmlib_perf_event.h>
