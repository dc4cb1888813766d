/* blas.c - the BLIS wrapper: the only file that includes blis.h. */
#include "blas.h"

#include "gemm_kernel.h"

#include <blis.h>
#include <pthread.h>
#include <string.h>

/* Below this many multiply-adds a product runs on one thread: waking a
 * second thread costs more than it saves (measured with bench/gemm_bench). */
#define GRUGAN__GEMM_THREAD_MIN_WORK (32u * 1024u)

/* Whether BLIS's sgemm micro-kernel is an optimized one, asked once: the
 * query costs about a microsecond (it builds a reference context). */
static pthread_once_t blis_query_once = PTHREAD_ONCE_INIT;
static int blis_optimized;

static void blis_query(void)
{
    bli_init();
    blis_optimized =
        bli_gks_l3_ukr_impl_type(BLIS_GEMM_UKR, BLIS_NAT, BLIS_FLOAT) == BLIS_OPTIMIZED_UKERNEL;
}

int grugan__blis_is_optimized(void)
{
    pthread_once(&blis_query_once, blis_query);
    return blis_optimized;
}

/* The own kernel or BLIS for this shape. Must not depend on the thread count. */
static int use_own_kernel(size_t m, size_t n, size_t k)
{
    if (!grugan__gemm_isa_vectorized(grugan__gemm_isa_best())) return 0;
    if (!grugan__blis_is_optimized()) return 1;
    return (double)m * (double)n * (double)k <= 256.0 * 1024.0;
}

static void blis_sgemm(int threads, size_t m, size_t n, size_t k, float alpha, const float *a,
                       ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t rsb,
                       ptrdiff_t csb, float beta, float *c, ptrdiff_t rsc, ptrdiff_t csc)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    float alpha_ = alpha, beta_ = beta;
    int nt = threads < 1 ? 1 : threads;

    if ((double)m * (double)n * (double)k < (double)GRUGAN__GEMM_THREAD_MIN_WORK) nt = 1;
    bli_rntm_set_num_threads((dim_t)nt, &rntm);
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &alpha_,
                 (float *)a, (inc_t)rsa, (inc_t)csa, (float *)b, (inc_t)rsb, (inc_t)csb, &beta_,
                 c, (inc_t)rsc, (inc_t)csc, NULL, &rntm);
}

void grugan__sgemm_path(int path, int threads, size_t m, size_t n, size_t k, float alpha,
                        const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                        ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c, ptrdiff_t rsc,
                        ptrdiff_t csc)
{
    if (m == 0 || n == 0) return;
    if (k == 0 || alpha == 0.0f) {
        /* C := beta * C, without reading C when beta is 0. */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                float *cij = c + (ptrdiff_t)i * rsc + (ptrdiff_t)j * csc;
                *cij = beta == 0.0f ? 0.0f : beta * *cij;
            }
        return;
    }
    if (path == GRUGAN__GEMM_OWN || (path == GRUGAN__GEMM_AUTO && use_own_kernel(m, n, k)))
        grugan__gemm_kernel(-1, threads, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc,
                            csc);
    else
        blis_sgemm(threads, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
}

void grugan__sgemm(int threads, size_t m, size_t n, size_t k, float alpha, const float *a,
                   ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                   float beta, float *c, ptrdiff_t rsc, ptrdiff_t csc)
{
    grugan__sgemm_path(GRUGAN__GEMM_AUTO, threads, m, n, k, alpha, a, rsa, csa, b, rsb, csb,
                       beta, c, rsc, csc);
}
