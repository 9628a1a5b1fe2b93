// CGearboxShims/allocation: counting allocation callbacks (see CGearboxAllocation.h). Sizes are
// glibc's usable sizes, i.e. what the heap really holds for each block.
#include "CGearboxAllocation.h"
#include <malloc.h>
#include <stdlib.h>

static _Thread_local long long counted_bytes;

long long gearbox_counted_bytes_on_this_thread(void) { return counted_bytes; }

void *gearbox_counted_allocate(void *context, size_t size) {
    (void)context;
    void *block = malloc(size);
    if (block) counted_bytes += (long long)malloc_usable_size(block);
    return block;
}

void *gearbox_counted_reallocate(void *context, void *pointer, size_t size) {
    (void)context;
    long long before = pointer ? (long long)malloc_usable_size(pointer) : 0;
    void *block = realloc(pointer, size);
    if (block) counted_bytes += (long long)malloc_usable_size(block) - before;
    return block;
}

void gearbox_counted_deallocate(void *context, void *pointer) {
    (void)context;
    if (!pointer) return;
    counted_bytes -= (long long)malloc_usable_size(pointer);
    free(pointer);
}

void *gearbox_counted_aligned_allocate(void *context, size_t alignment, size_t size) {
    (void)context;
    void *block = NULL;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (posix_memalign(&block, alignment, size) != 0) return NULL;
    counted_bytes += (long long)malloc_usable_size(block);
    return block;
}

void gearbox_counted_aligned_deallocate(void *context, void *pointer) { gearbox_counted_deallocate(context, pointer); }
