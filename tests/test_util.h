/* test_util.h - helpers shared by the test files: checked allocation of test
 * arrays, and a context whose allocator counts and can fail on purpose. */
#ifndef GRUGAN_TEST_UTIL_H
#define GRUGAN_TEST_UTIL_H

#include "grugan.h"

#include <stddef.h>

/* n floats (doubles: zeroed); at least one element; never NULL. */
float *falloc(size_t n);
double *dalloc(size_t n);

/* Counts allocations through a context; the fail_at-th one fails (0: none). */
typedef struct counting_alloc {
    size_t allocs, frees, live;
    size_t fail_at;
} counting_alloc;

void *counting_alloc_fn(size_t size, void *user);
void counting_free_fn(void *ptr, void *user);

/* A new context allocating through *counts (zeroed first). */
grugan_context *counting_context(counting_alloc *counts);

#endif
