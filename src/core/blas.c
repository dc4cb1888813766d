/* blas.c - the BLIS wrapper: the only file that includes blis.h. */
#include "blas.h"

#include "gemm_kernel.h"
#include "parallel.h"

#include <blis.h>
#include <pthread.h>
#include <string.h>

/* Up to this many multiply-adds the portable own kernel runs a product
 * instead of BLIS's reference kernel (about as fast, and without packing). */
#define GRUGAN__GEMM_SMALL_WORK (4.0 * 1024.0 * 1024.0)

/* What BLIS's sgemm micro-kernel is here (GRUGAN__BLIS_*). Asked once: the
 * query costs about a microsecond (it builds a context). */
static pthread_once_t blis_query_once = PTHREAD_ONCE_INIT;
static int blis_kernel_class;

static void blis_query(void)
{
    arch_t id;
    bli_init();
    id = bli_arch_query_id();
    if (bli_gks_l3_ukr_impl_type(BLIS_GEMM_UKR, BLIS_NAT, BLIS_FLOAT) != BLIS_OPTIMIZED_UKERNEL)
        blis_kernel_class = GRUGAN__BLIS_REFERENCE;
    else
        blis_kernel_class = id == BLIS_ARCH_SKX || id == BLIS_ARCH_KNL ? GRUGAN__BLIS_AVX512
                                                                       : GRUGAN__BLIS_OPTIMIZED;
}

static int blis_class(void)
{
    pthread_once(&blis_query_once, blis_query);
    return blis_kernel_class;
}

int grugan__blis_kind(void)
{
    return blis_class();
}

/*
 * The own kernel or BLIS for this shape, from measurements of the GRU's
 * products (gemm_kernel.c). Must not depend on the thread count, and BLIS
 * may only get products whose bits it does not change with its threads:
 *   - a vectorized own kernel runs everything, except on an AVX-512 BLIS
 *     (skx), which gets the products of 512 or more in every dimension (as
 *     fast as the own kernel there, and the same bits at 1 and 2 threads on
 *     every shape tried). BLIS 0.9.0's haswell and zen kernels give other
 *     bits at 2 threads than at 1 for about one product in ten above the
 *     thread threshold (random shapes of 16-716 per dimension, forced with
 *     BLIS_ARCH_TYPE), so on AVX2 every product runs on the own kernel,
 *     although it is up to 20% slower than those kernels on large products;
 *   - the portable own kernel (plain compiler vectors) is about as fast as
 *     BLIS's reference kernel: it takes the small products when BLIS has
 *     nothing better, an optimized BLIS takes everything.
 */
int grugan__gemm_prefers_own(int isa, int blis, size_t m, size_t n, size_t k)
{
    const double work = (double)m * (double)n * (double)k;
    if (!grugan__gemm_isa_vectorized(isa)) return 0;
    if (isa == GRUGAN__GEMM_ISA_PORTABLE)
        return blis == GRUGAN__BLIS_REFERENCE && work <= GRUGAN__GEMM_SMALL_WORK;
    if (blis == GRUGAN__BLIS_AVX512 && isa == GRUGAN__GEMM_ISA_AVX512)
        return m < 512 || n < 512 || k < 512;
    return 1;
}

static int use_own_kernel(size_t m, size_t n, size_t k)
{
    return grugan__gemm_prefers_own(grugan__gemm_isa_best(), blis_class(), m, n, k);
}

static void blis_sgemm(int threads, size_t m, size_t n, size_t k, float alpha, const float *a,
                       ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t rsb,
                       ptrdiff_t csb, float beta, float *c, ptrdiff_t rsc, ptrdiff_t csc)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    float alpha_ = alpha, beta_ = beta;
    int nt = threads < 1 ? 1 : threads;

    if ((double)m * (double)n * (double)k < GRUGAN__PAR_MIN_PRODUCT) nt = 1;
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
