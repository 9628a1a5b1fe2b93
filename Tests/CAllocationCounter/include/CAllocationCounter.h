// CAllocationCounter (tests only): counts heap allocations made by threads that opt in, so a
// test can prove steady-state inference allocates nothing. It interposes malloc & co. in the
// test executable and forwards to glibc's own entry points (__libc_malloc…).
#ifndef CALLOCATION_COUNTER_H
#define CALLOCATION_COUNTER_H

/// Starts (1) or stops (0) counting allocations made by the calling thread.
void gearbox_allocation_tracking(int enabled);

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by
/// tracking threads since the process started.
long gearbox_allocation_count(void);

/// 1 when this executable's malloc is the counting one (interposition worked).
int gearbox_allocation_counter_active(void);

/// Diagnostics: print a backtrace to stderr for each of the calling thread's next `count`
/// tracked allocations.
void gearbox_allocation_trace_next(int count);

#endif
