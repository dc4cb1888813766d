/* test_blas.c - the matrix product (BLIS and the own kernel, every
 * instruction-set variant this CPU runs) against a naive double product. */
#include "suites.h"

#include "core/blas.h"
#include "core/gemm_kernel.h"
#include "core/parallel.h"
#include "core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Who computes: BLIS, grugan__sgemm's own choice, or the own kernel at
 * instruction-set variant `isa`. */
typedef struct impl {
    int path; /* GRUGAN__GEMM_BLIS, GRUGAN__GEMM_AUTO or GRUGAN__GEMM_OWN */
    int isa;  /* for GRUGAN__GEMM_OWN */
} impl;

static void run(impl im, int threads, size_t m, size_t n, size_t k, float alpha, const float *a,
                ptrdiff_t rsa, ptrdiff_t csa, const float *b, ptrdiff_t rsb, ptrdiff_t csb,
                float beta, float *c, ptrdiff_t rsc, ptrdiff_t csc)
{
    if (im.path == GRUGAN__GEMM_OWN)
        grugan__gemm_kernel(im.isa, threads, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c,
                            rsc, csc);
    else if (im.path == GRUGAN__GEMM_AUTO)
        grugan__sgemm(threads, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
    else
        grugan__sgemm_path(im.path, threads, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c,
                           rsc, csc);
}

/* BLIS, AUTO, then the own kernel at every variant up to the CPU's best. */
/* The implementations to test: AUTO, every own-kernel variant this CPU
 * runs, and BLIS forced (the wrapper's strides and scalars), except for
 * BLIS's AVX2-class kernels next to a vectorized own kernel: AUTO never
 * gives those a product, because BLIS 0.9.0's kernels there change bits with
 * their thread count and read past a matrix's end (blas.c). */
static size_t impls(impl *out)
{
    size_t n = 0;
    if (grugan__blis_kind() != GRUGAN__BLIS_OPTIMIZED ||
        !grugan__gemm_isa_vectorized(grugan__gemm_isa_best()))
        out[n++] = (impl){GRUGAN__GEMM_BLIS, 0};
    out[n++] = (impl){GRUGAN__GEMM_AUTO, 0};
    for (int isa = 0; isa <= grugan__gemm_isa_best(); isa++)
        out[n++] = (impl){GRUGAN__GEMM_OWN, isa};
    return n;
}

typedef struct view {
    ptrdiff_t rs, cs;
    size_t extent; /* floats from the first to one past the last element */
} view;

/* Row-major (rs = cols + pad, cs = 1) or column-major (rs = 1, cs = rows +
 * pad) rows x cols matrix; `extent` is exact, so reading past the last
 * element is caught by AddressSanitizer. */
static view layout(int col_major, size_t rows, size_t cols, size_t pad)
{
    view v;
    if (col_major) {
        v.rs = 1;
        v.cs = (ptrdiff_t)(rows + pad);
    } else {
        v.rs = (ptrdiff_t)(cols + pad);
        v.cs = 1;
    }
    v.extent = rows == 0 || cols == 0
                   ? 1
                   : (size_t)((ptrdiff_t)(rows - 1) * v.rs + (ptrdiff_t)(cols - 1) * v.cs) + 1;
    return v;
}

/* bit 0, 1, 2: A, B, C column-major; bit 3: padded leading dimensions. */
static void check_product(impl im, size_t m, size_t n, size_t k, int layouts, float alpha,
                          float beta, int threads)
{
    const size_t pad = (layouts & 8) ? 3 : 0;
    const view va = layout(layouts & 1, m, k, pad), vb = layout((layouts >> 1) & 1, k, n, pad),
               vc = layout((layouts >> 2) & 1, m, n, pad);
    float *a = malloc(va.extent * sizeof *a), *b = malloc(vb.extent * sizeof *b);
    float *c = malloc(vc.extent * sizeof *c), *c0 = malloc(vc.extent * sizeof *c0);
    double *want = malloc((m * n + 1) * sizeof *want);
    const double tol = 2e-5 * (double)(k + 1) * (fabs(alpha) + 1.0);
    grugan__rng rng;
    grugan__rng_init(&rng, m * 131 + n * 17 + k + (size_t)layouts * 7919, GRUGAN__RNG_TEST);
    grugan__rng_fill_uniform(&rng, a, va.extent, -1, 1);
    grugan__rng_fill_uniform(&rng, b, vb.extent, -1, 1);
    grugan__rng_fill_uniform(&rng, c, vc.extent, -1, 1);
    if (beta == 0.0f) {
        /* beta 0 must not read C; padding keeps other values to see it untouched */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) c[(ptrdiff_t)i * vc.rs + (ptrdiff_t)j * vc.cs] = NAN;
    }
    memcpy(c0, c, vc.extent * sizeof *c);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t p = 0; p < k; p++)
                s += (double)a[(ptrdiff_t)i * va.rs + (ptrdiff_t)p * va.cs] *
                     b[(ptrdiff_t)p * vb.rs + (ptrdiff_t)j * vb.cs];
            const double cij = c[(ptrdiff_t)i * vc.rs + (ptrdiff_t)j * vc.cs];
            want[i * n + j] = alpha * s + (beta == 0.0f ? 0.0 : beta * cij);
        }
    run(im, threads, m, n, k, alpha, a, va.rs, va.cs, b, vb.rs, vb.cs, beta, c, vc.rs, vc.cs);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            const size_t at = (size_t)((ptrdiff_t)i * vc.rs + (ptrdiff_t)j * vc.cs);
            if (!(fabs(c[at] - want[i * n + j]) <= tol))
                ck_abort_msg("path %d isa %d: %zux%zux%zu layouts %d alpha %g beta %g threads %d: "
                             "C(%zu,%zu) = %.9g, want %.9g",
                             im.path, im.isa, m, n, k, layouts, (double)alpha, (double)beta,
                             threads, i, j, (double)c[at], want[i * n + j]);
            c0[at] = c[at];
        }
    /* nothing outside the m x n elements was written */
    ck_assert_int_eq(memcmp(c, c0, vc.extent * sizeof *c), 0);
    free(a);
    free(b);
    free(c);
    free(c0);
    free(want);
}

START_TEST(gemm_matches_naive_on_odd_shapes_and_strides)
{
    const size_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 1, 9}, {1, 13, 4},
                                {31, 29, 37}, {65, 72, 24}, {5, 3, 0}};
    impl ims[8];
    const size_t nim = impls(ims);
    for (size_t q = 0; q < nim; q++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int layouts = 0; layouts < 16; layouts++) {
                const size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                check_product(ims[q], m, n, k, layouts, 0.75f, 0.0f, 1);
                check_product(ims[q], m, n, k, layouts, 1.0f, 1.0f, 2);
                check_product(ims[q], m, n, k, layouts, -2.0f, -0.5f, 1);
            }
}
END_TEST

/* Every row count around the tiles (4, 6, 8 rows) and every column count
 * around the vectors and tiles (4, 8, 16, 32 columns), each with 4 layouts
 * (all 16 over the shapes), k around the k block (256). */
START_TEST(own_kernel_handles_every_tile_edge)
{
    const size_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17};
    const size_t ns[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 47, 48, 65};
    const size_t ks[] = {1, 2, 3, 8, 17, 255, 256, 257};
    const float alphas[] = {1.0f, 0.75f, -2.0f}, betas[] = {0.0f, 1.0f, -0.5f};
    size_t count = 0;
    for (int isa = 0; isa <= grugan__gemm_isa_best(); isa++)
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
            for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
                const size_t k = ks[(i * 5 + j * 3 + (size_t)isa) % (sizeof ks / sizeof ks[0])];
                /* 4 of the 16 layouts, a different 4 for the next shape */
                for (int r = 0; r < 4; r++, count++)
                    check_product((impl){GRUGAN__GEMM_OWN, isa}, ms[i], ns[j], k,
                                  (int)((i + j + (size_t)r * 4) % 16), alphas[count % 3],
                                  betas[(count / 3) % 3], 1 + (int)(count % 2));
            }
}
END_TEST

/* Products larger than a packed panel (k > 256, many panels), where the
 * kernel runs transposed or packs A's transpose, and the GRU's shapes. */
START_TEST(gemm_handles_shapes_beyond_the_packing_bound)
{
    const size_t shapes[][3] = {{37, 70, 600}, {70, 37, 600}, {5, 72, 700}, {72, 5, 700},
                                {64, 96, 300}, {128, 72, 24}, {128, 24, 72}, {9, 130, 513}};
    impl ims[8];
    const size_t nim = impls(ims);
    for (size_t q = 0; q < nim; q++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int layouts = 0; layouts < 16; layouts++)
                check_product(ims[q], shapes[s][0], shapes[s][1], shapes[s][2], layouts,
                              layouts & 1 ? 1.0f : -1.5f, layouts & 2 ? 1.0f : 0.0f,
                              1 + (layouts & 4 ? 1 : 0));
}
END_TEST

START_TEST(gemm_is_bit_identical_across_thread_counts)
{
    /* (m, n, k): large enough to be split among threads (at least
     * GRUGAN__PAR_MIN_PRODUCT multiply-adds, checked below) */
    const size_t shapes[][3] = {{300, 257, 161}, {129, 190, 520}, {40, 800, 381}};
    impl ims[8];
    const size_t nim = impls(ims);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
        float *c1 = malloc(m * n * sizeof *c1), *c2 = malloc(m * n * sizeof *c2);
        ck_assert((double)m * (double)n * (double)k >= GRUGAN__PAR_MIN_PRODUCT);
        grugan__rng rng;
        grugan__rng_init(&rng, 5 + s, GRUGAN__RNG_TEST);
        grugan__rng_fill_uniform(&rng, a, m * k, -1, 1);
        grugan__rng_fill_uniform(&rng, b, k * n, -1, 1);
        for (size_t q = 0; q < nim; q++)
            for (int layouts = 0; layouts < 8; layouts++) {
                const view va = layout(layouts & 1, m, k, 0),
                           vb = layout((layouts >> 1) & 1, k, n, 0),
                           vc = layout((layouts >> 2) & 1, m, n, 0);
                /* BLIS's threads spin at barriers: slow on a busy machine */
                for (int threads = 2; threads <= (ims[q].path == GRUGAN__GEMM_OWN ? 3 : 2);
                     threads++) {
                    grugan__rng_fill_uniform(&rng, c1, m * n, -1, 1);
                    memcpy(c2, c1, m * n * sizeof *c1);
                    run(ims[q], 1, m, n, k, 0.5f, a, va.rs, va.cs, b, vb.rs, vb.cs, 1.0f, c1,
                        vc.rs, vc.cs);
                    run(ims[q], threads, m, n, k, 0.5f, a, va.rs, va.cs, b, vb.rs, vb.cs, 1.0f,
                        c2, vc.rs, vc.cs);
                    if (memcmp(c1, c2, m * n * sizeof *c1) != 0)
                        ck_abort_msg("path %d isa %d: %zux%zux%zu layouts %d: 1 and %d threads "
                                     "differ",
                                     ims[q].path, ims[q].isa, m, n, k, layouts, threads);
                }
            }
        free(a);
        free(b);
        free(c1);
        free(c2);
    }
}
END_TEST

/* k = 0 and alpha = 0 scale C by beta without reading A, B or (beta 0) C. */
/* The AUTO choice between the own kernel and BLIS (blas.c): never BLIS's
 * AVX2-class kernels, which change bits with their thread count; an AVX-512
 * BLIS only for products of 512 or more in every dimension; the portable
 * kernel only for small products and only against BLIS's reference kernel. */
START_TEST(gemm_choice_keeps_results_independent_of_threads)
{
    const size_t shapes[][3] = {{1, 1, 1}, {128, 72, 24}, {3200, 768, 64},
                                {512, 512, 512}, {4096, 4096, 4096}, {511, 4096, 4096}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        const int big = m >= 512 && n >= 512 && k >= 512;
        const int small = (double)m * (double)n * (double)k <= 4.0 * 1024 * 1024;
        for (int blis = GRUGAN__BLIS_REFERENCE; blis <= GRUGAN__BLIS_AVX512; blis++) {
            ck_assert_int_eq(grugan__gemm_prefers_own(GRUGAN__GEMM_ISA_AVX2, blis, m, n, k), 1);
            ck_assert_int_eq(grugan__gemm_prefers_own(GRUGAN__GEMM_ISA_AVX512, blis, m, n, k),
                             blis == GRUGAN__BLIS_AVX512 ? !big : 1);
            if (grugan__gemm_isa_vectorized(GRUGAN__GEMM_ISA_PORTABLE))
                ck_assert_int_eq(
                    grugan__gemm_prefers_own(GRUGAN__GEMM_ISA_PORTABLE, blis, m, n, k),
                    blis == GRUGAN__BLIS_REFERENCE && small);
        }
    }
}
END_TEST

START_TEST(gemm_without_products_scales_c)
{
    impl ims[8];
    const size_t nim = impls(ims);
    for (size_t q = 0; q < nim; q++) {
        float a[6] = {NAN, NAN, NAN, NAN, NAN, NAN}, c[6] = {1, 2, 3, 4, 5, 6};
        run(ims[q], 1, 2, 3, 0, 1.0f, NULL, 1, 1, NULL, 1, 1, -0.5f, c, 3, 1);
        ck_assert_float_eq(c[5], -3.0f);
        run(ims[q], 2, 2, 3, 1, 0.0f, a, 1, 1, a, 3, 1, 2.0f, c, 3, 1);
        ck_assert_float_eq(c[0], -1.0f);
        ck_assert_float_eq(c[5], -6.0f);
        for (size_t i = 0; i < 6; i++) c[i] = NAN;
        run(ims[q], 1, 2, 3, 0, 1.0f, NULL, 1, 1, NULL, 1, 1, 0.0f, c, 3, 1);
        for (size_t i = 0; i < 6; i++) ck_assert_float_eq(c[i], 0.0f);
        run(ims[q], 1, 0, 3, 4, 1.0f, NULL, 1, 1, NULL, 1, 1, 0.0f, NULL, 3, 1);
    }
}
END_TEST

Suite *suite_blas(void)
{
    Suite *s = suite_create("blas");
    TCase *tc = tcase_create("blas");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gemm_matches_naive_on_odd_shapes_and_strides);
    tcase_add_test(tc, own_kernel_handles_every_tile_edge);
    tcase_add_test(tc, gemm_handles_shapes_beyond_the_packing_bound);
    tcase_add_test(tc, gemm_is_bit_identical_across_thread_counts);
    tcase_add_test(tc, gemm_choice_keeps_results_independent_of_threads);
    tcase_add_test(tc, gemm_without_products_scales_c);
    suite_add_tcase(s, tc);
    return s;
}
