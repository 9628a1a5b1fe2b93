// CZlib: exposes zlib's C API (inflate of gzip streams) to Swift. No logic here.
#include <zlib.h>
