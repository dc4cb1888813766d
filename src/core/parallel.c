/* parallel.c - see parallel.h. */
#include "core/parallel.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void grugan__parallel_for(size_t n, int threads, grugan__range_fn fn, void *ctx)
{
    if (n == 0) return;
#ifdef _OPENMP
    if (threads > 1 && n > 1) {
        const int nt = (size_t)threads < n ? threads : (int)n;
#pragma omp parallel num_threads(nt)
        {
            const size_t parts = (size_t)omp_get_num_threads(), me = (size_t)omp_get_thread_num();
            const size_t chunk = (n + parts - 1) / parts, begin = me * chunk;
            const size_t end = begin + chunk < n ? begin + chunk : n;
            if (begin < end) fn(ctx, begin, end);
        }
        return;
    }
#else
    (void)threads;
#endif
    fn(ctx, 0, n);
}
