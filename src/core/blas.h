/*
 * blas.h - the library's only door to BLIS. Every matrix is (pointer, row
 * stride, column stride), so views and transposes cost nothing.
 */
#ifndef GRUGAN_BLAS_H
#define GRUGAN_BLAS_H

#include <stddef.h>

/*
 * C := alpha * A B + beta * C
 *   A (m, k) element (i, p) at a[i * rsa + p * csa]
 *   B (k, n) element (p, j) at b[p * rsb + j * csb]
 *   C (m, n) element (i, j) at c[i * rsc + j * csc]
 * beta == 0 overwrites C without reading it. `threads` (>= 1) is the most
 * threads the product may use; products too small to gain from threads run
 * on one. Neither BLIS nor the own kernel splits k, and the choice between
 * them does not depend on `threads`, so results are bit-identical for every
 * thread count. m, n or k may be 0.
 */
void grugan__sgemm(int threads, size_t m, size_t n, size_t k, float alpha, const float *a,
                   ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                   float beta, float *c, ptrdiff_t rsc, ptrdiff_t csc);

/* Which implementation runs a product: grugan__sgemm uses AUTO, which picks
 * per shape (and per CPU and BLIS configuration, never per thread count)
 * between BLIS and the library's own kernel (gemm_kernel.h). The others
 * force one; for tests and measurements. */
enum { GRUGAN__GEMM_AUTO = 0, GRUGAN__GEMM_BLIS = 1, GRUGAN__GEMM_OWN = 2 };

void grugan__sgemm_path(int path, int threads, size_t m, size_t n, size_t k, float alpha,
                        const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                        ptrdiff_t rsb, ptrdiff_t csb, float beta, float *c, ptrdiff_t rsc,
                        ptrdiff_t csc);

/* What BLIS's sgemm micro-kernel is: the reference one, an optimized one
 * (AVX2 and others), or an optimized AVX-512 one (skx, knl). */
enum { GRUGAN__BLIS_REFERENCE = 0, GRUGAN__BLIS_OPTIMIZED = 1, GRUGAN__BLIS_AVX512 = 2 };

/* The kind of BLIS's sgemm micro-kernel on this CPU (GRUGAN__BLIS_*). */
int grugan__blis_kind(void);

/* The AUTO choice as a pure function, for tests: whether a product of this
 * shape runs on the own kernel of variant `isa` (gemm_kernel.h) rather than
 * on a BLIS of kind `blis`. */
int grugan__gemm_prefers_own(int isa, int blis, size_t m, size_t n, size_t k);

#endif
