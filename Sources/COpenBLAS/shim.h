// COpenBLAS: the CBLAS interface of Debian's OpenBLAS (libopenblas-dev). No logic here.
#include <cblas.h>
