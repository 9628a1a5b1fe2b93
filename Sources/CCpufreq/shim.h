// CCpufreq: libcpufreq (cpufrequtils) C API. No logic here.
#include <cpufreq.h>
