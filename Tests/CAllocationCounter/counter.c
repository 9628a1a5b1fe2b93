// CAllocationCounter: see include/CAllocationCounter.h. Defining malloc in the executable makes
// every call to it — from Swift's runtime, Foundation, OpenBLAS — land here first.
#define _GNU_SOURCE
#include "CAllocationCounter.h"
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <execinfo.h>
#include <malloc.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

// One count per group: suites that run in parallel each count in their own group, so one
// test's allocations never show up in another's count.
#define GROUPS 16
static atomic_long allocations[GROUPS];
static atomic_long netBytes[GROUPS];  // usable bytes allocated minus freed, per group
static atomic_int interposed;
static __thread int tracking;  // the calling thread's group; 0: not counting

static __thread int tracing, inTrace;

static inline void note(void) {
    atomic_store_explicit(&interposed, 1, memory_order_relaxed);
    if (tracking > 0 && tracking < GROUPS) {
        atomic_fetch_add_explicit(&allocations[tracking], 1, memory_order_relaxed);
        if (tracing > 0 && !inTrace) {
            // Diagnostics: print where tracked allocations come from (backtrace may itself allocate).
            inTrace = 1;
            tracing--;
            void *frames[24];
            int n = backtrace(frames, 24);
            write(2, "--- tracked allocation\n", 23);
            backtrace_symbols_fd(frames, n, 2);
            inTrace = 0;
        }
    }
}

void gearbox_allocation_trace_next(int count) { tracing = count; }

// Adds (sign 1) or removes (sign -1) a block's usable size from the calling thread's group.
static inline void *account(void *pointer, long sign) {
    if (pointer != NULL && tracking > 0 && tracking < GROUPS) {
        atomic_fetch_add_explicit(&netBytes[tracking], sign * (long)malloc_usable_size(pointer), memory_order_relaxed);
    }
    return pointer;
}

void *malloc(size_t size) { note(); return account(__libc_malloc(size), 1); }
void *calloc(size_t count, size_t size) { note(); return account(__libc_calloc(count, size), 1); }
void *realloc(void *pointer, size_t size) {
    note();
    long old = pointer != NULL ? (long)malloc_usable_size(pointer) : 0;
    void *result = __libc_realloc(pointer, size);
    // On failure (NULL for a non-zero size) the old block stays.
    if ((result != NULL || size == 0) && tracking > 0 && tracking < GROUPS) {
        atomic_fetch_sub_explicit(&netBytes[tracking], old, memory_order_relaxed);
    }
    return account(result, 1);
}
void free(void *pointer) { __libc_free(account(pointer, -1)); }
void *memalign(size_t alignment, size_t size) { note(); return account(__libc_memalign(alignment, size), 1); }
void *aligned_alloc(size_t alignment, size_t size) { note(); return account(__libc_memalign(alignment, size), 1); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    note();
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *out = account(pointer, 1);
    return 0;
}

void gearbox_allocation_tracking(int group) { tracking = group; }
long gearbox_allocation_count(int group) {
    return group > 0 && group < GROUPS ? atomic_load(&allocations[group]) : 0;
}
long gearbox_allocated_bytes(int group) {
    return group > 0 && group < GROUPS ? atomic_load(&netBytes[group]) : 0;
}
int gearbox_allocation_counter_active(void) {
    void *probe = malloc(1);
    __libc_free(probe);
    return atomic_load(&interposed);
}
