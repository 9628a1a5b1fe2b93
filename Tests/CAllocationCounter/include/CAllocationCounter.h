// CAllocationCounter (tests only): counts heap allocations made by threads that opt in, so a
// test can prove steady-state inference allocates nothing. It interposes malloc & co. in the
// test executable and forwards to glibc's own entry points (__libc_malloc…).
#ifndef CALLOCATION_COUNTER_H
#define CALLOCATION_COUNTER_H

/// Starts counting the calling thread's allocations in `group` (1–15), or stops (0). Tests
/// that may run at the same time use different groups.
void gearbox_allocation_tracking(int group);

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) counted in
/// `group` since the process started.
long gearbox_allocation_count(int group);

/// Usable bytes allocated minus freed by threads counting in `group` (malloc_usable_size of
/// each block): a thread's own heap growth, which allocations of other threads do not disturb.
long gearbox_allocated_bytes(int group);

/// 1 when this executable's malloc is the counting one (interposition worked).
int gearbox_allocation_counter_active(void);

/// Diagnostics: print a backtrace to stderr for each of the calling thread's next `count`
/// tracked allocations.
void gearbox_allocation_trace_next(int count);

#endif
