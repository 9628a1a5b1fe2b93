// CHwloc: exposes hwloc's C API to Swift. No logic here.
#include <hwloc.h>
