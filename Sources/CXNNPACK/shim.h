// CXNNPACK: Debian's XNNPACK (libxnnpack-dev) and pthreadpool (libpthreadpool-dev, which xnnpack.h
// includes): the operator API the engine uses, and the subgraph/runtime API the benchmarks measure
// it against. No logic here.
#include <xnnpack.h>
