/* blas.c - the BLIS wrapper: the only file that includes blis.h. */
#include "blas.h"

#include "gemm_kernel.h"
#include "parallel.h"

#include <blis.h>
#include <pthread.h>
#include <string.h>

/* Below this many multiply-adds the own kernel beats an optimized BLIS of the
 * same vector width: BLIS packs both operands whatever their size. */
#define GRUGAN__GEMM_SMALL_WORK (4.0 * 1024.0 * 1024.0)

/* What BLIS's sgemm micro-kernel is here: 0 the reference one (BLIS did not
 * recognize the CPU), 1 an optimized one, 2 an optimized AVX-512 one. Asked
 * once: the query costs about a microsecond (it builds a context). */
static pthread_once_t blis_query_once = PTHREAD_ONCE_INIT;
static int blis_kernel_class;

static void blis_query(void)
{
    arch_t id;
    bli_init();
    id = bli_arch_query_id();
    if (bli_gks_l3_ukr_impl_type(BLIS_GEMM_UKR, BLIS_NAT, BLIS_FLOAT) != BLIS_OPTIMIZED_UKERNEL)
        blis_kernel_class = 0;
    else
        blis_kernel_class = id == BLIS_ARCH_SKX || id == BLIS_ARCH_KNL ? 2 : 1;
}

static int blis_class(void)
{
    pthread_once(&blis_query_once, blis_query);
    return blis_kernel_class;
}

int grugan__blis_is_optimized(void)
{
    return blis_class() > 0;
}

/*
 * The own kernel or BLIS for this shape, from measurements of the GRU's
 * products (gemm_kernel.c): the own kernel whenever BLIS runs its reference
 * micro-kernel or a narrower one than ours; against an optimized BLIS of the
 * same width, for all but large products (AVX-512) or for small products
 * and short inner sizes (AVX2). Must not depend on the thread count.
 */
static int use_own_kernel(size_t m, size_t n, size_t k)
{
    const int isa = grugan__gemm_isa_best(), blis = blis_class();
    const double work = (double)m * (double)n * (double)k;
    if (!grugan__gemm_isa_vectorized(isa)) return 0;
    if (isa == GRUGAN__GEMM_ISA_PORTABLE) /* about the speed of BLIS's reference kernel */
        return blis == 0 && work <= GRUGAN__GEMM_SMALL_WORK;
    if (blis == 0 || (isa == GRUGAN__GEMM_ISA_AVX512 && blis < 2)) return 1;
    if (isa == GRUGAN__GEMM_ISA_AVX512) return m < 512 || n < 512 || k < 512;
    return work <= GRUGAN__GEMM_SMALL_WORK || k <= 128;
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
