/*
 * parallel.h - one parallel loop for the library's elementwise work.
 *
 * fn(ctx, begin, end) runs over [0, n) split into contiguous ranges, one per
 * thread. With one thread it is a plain call: no OpenMP region at all (even a
 * serial region costs libgomp a system call, which the many tiny loops of a
 * small GRU would pay thousands of times per step). Elements must be
 * independent, so the result is the same for every thread count.
 */
#ifndef GRUGAN_CORE_PARALLEL_H
#define GRUGAN_CORE_PARALLEL_H

#include <stddef.h>

typedef void (*grugan__range_fn)(void *ctx, size_t begin, size_t end);

void grugan__parallel_for(size_t n, int threads, grugan__range_fn fn, void *ctx);

#endif
