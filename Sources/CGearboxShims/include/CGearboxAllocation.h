// CGearboxAllocation: allocation callbacks for libraries that accept an allocator (XNNPACK's
// xnn_allocator) which keep a per-thread running total of the bytes they hold, so the engine can
// read exactly how much a library call on the loading thread kept. In C because Swift has no
// thread-local storage a C callback can reach; the counting is the only logic here.
#ifndef CGEARBOX_ALLOCATION_H
#define CGEARBOX_ALLOCATION_H

#include <stddef.h>

/// Bytes (glibc usable sizes) allocated minus freed through the callbacks below on the calling thread.
long long gearbox_counted_bytes_on_this_thread(void);

void *gearbox_counted_allocate(void *context, size_t size);
void *gearbox_counted_reallocate(void *context, void *pointer, size_t size);
void gearbox_counted_deallocate(void *context, void *pointer);
void *gearbox_counted_aligned_allocate(void *context, size_t alignment, size_t size);
void gearbox_counted_aligned_deallocate(void *context, void *pointer);

#endif
