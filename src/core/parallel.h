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

/*
 * When a second thread pays, measured with bench/gru_bench and bench/gan_bench
 * on the 2-core development machine (docs/PERFORMANCE.md, "Threads"). Waking
 * an idle OpenMP worker, and the main thread's move to the other core while
 * the worker spins, cost more than splitting saves until a piece of work
 * takes a few hundred microseconds; inside the GRU's step loop the worker is
 * still spinning from the step before, so much less work pays there.
 *   GRUGAN__PAR_MIN_PRODUCT  multiply-adds of a matrix product (own kernel or
 *                            BLIS): 12e6, about 0.4 ms of one core. At 1e6 a
 *                            TimeGAN-size training step took 20.5 ms on two
 *                            threads against 15.6 on one; at 12e6 the two
 *                            are equal, while the per-step products of
 *                            H = 256, B = 64 (12.6e6) still run on both.
 *   GRUGAN__PAR_MIN_PASS     values of a one-off elementwise pass (biases'
 *                            column sums, linear and conv1d loops, optimizer
 *                            updates).
 *   GRUGAN__PAR_MIN_STEP     values of one GRU step's gate pass.
 */
#define GRUGAN__PAR_MIN_PRODUCT 12000000.0
#define GRUGAN__PAR_MIN_PASS ((size_t)1 << 20)
#define GRUGAN__PAR_MIN_STEP ((size_t)16384)

/* `threads` for work of this size, 1 below min_work. */
static inline int grugan__threads_for(int threads, size_t work, size_t min_work)
{
    return work >= min_work ? threads : 1;
}

typedef void (*grugan__range_fn)(void *ctx, size_t begin, size_t end);

void grugan__parallel_for(size_t n, int threads, grugan__range_fn fn, void *ctx);

#endif
