// CXNNPACK: Debian's XNNPACK operator API (libxnnpack-dev, libpthreadpool-dev). No logic here.
#include <xnnpack.h>
