// CMalloc: glibc's malloc tuning (mallopt) for Swift. No logic here.
#include <malloc.h>
