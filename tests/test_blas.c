/* test_blas.c - the BLIS wrapper against a naive double product. */
#include "suites.h"

#include "core/blas.h"
#include "core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct view {
    ptrdiff_t rs, cs;
} view;

/* Row-major (rs = cols, cs = 1) or column-major (rs = 1, cs = rows) of a
 * rows x cols matrix stored with `pad` extra elements per line. */
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
    return v;
}

static void check_product(size_t m, size_t n, size_t k, int la, int lb, int lc, float beta,
                          int threads)
{
    const size_t pad = 3;
    const size_t na = (m + pad) * (k + pad), nb = (k + pad) * (n + pad),
                 nc = (m + pad) * (n + pad);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    double *want = malloc((m * n + 1) * sizeof *want);
    view va = layout(la, m, k, pad), vb = layout(lb, k, n, pad), vc = layout(lc, m, n, pad);
    grugan__rng rng;
    const float alpha = 0.75f;
    grugan__rng_init(&rng, m * 131 + n * 17 + k, GRUGAN__RNG_TEST);
    grugan__rng_fill_uniform(&rng, a, na, -1, 1);
    grugan__rng_fill_uniform(&rng, b, nb, -1, 1);
    grugan__rng_fill_uniform(&rng, c, nc, -1, 1);
    if (beta == 0.0f)
        for (size_t i = 0; i < nc; i++) c[i] = NAN; /* beta 0 must not read C */
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t p = 0; p < k; p++)
                s += (double)a[i * va.rs + p * va.cs] * b[p * vb.rs + j * vb.cs];
            want[i * n + j] = alpha * s + (beta == 0.0f ? 0.0 : beta * c[i * vc.rs + j * vc.cs]);
        }
    grugan__sgemm(threads, m, n, k, alpha, a, va.rs, va.cs, b, vb.rs, vb.cs, beta, c, vc.rs,
                  vc.cs);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            ck_assert_double_eq_tol(c[i * vc.rs + j * vc.cs], want[i * n + j],
                                    1e-5 * (double)(k + 1));
    free(a);
    free(b);
    free(c);
    free(want);
}

START_TEST(gemm_matches_naive_on_odd_shapes_and_strides)
{
    const size_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 1, 9}, {1, 13, 4},
                                {31, 29, 37}, {65, 72, 24}, {5, 3, 0}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int layouts = 0; layouts < 8; layouts++) {
            check_product(shapes[s][0], shapes[s][1], shapes[s][2], layouts & 1,
                          (layouts >> 1) & 1, (layouts >> 2) & 1, 0.0f, 1);
            check_product(shapes[s][0], shapes[s][1], shapes[s][2], layouts & 1,
                          (layouts >> 1) & 1, (layouts >> 2) & 1, 1.0f, 2);
            check_product(shapes[s][0], shapes[s][1], shapes[s][2], layouts & 1,
                          (layouts >> 1) & 1, (layouts >> 2) & 1, -0.5f, 1);
        }
}
END_TEST

START_TEST(gemm_is_bit_identical_across_thread_counts)
{
    const size_t m = 300, n = 257, k = 129;
    float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
    float *c1 = malloc(m * n * sizeof *c1), *c2 = malloc(m * n * sizeof *c2);
    float *d1 = malloc(m * k * sizeof *d1), *d2 = malloc(m * k * sizeof *d2);
    grugan__rng rng;
    grugan__rng_init(&rng, 5, GRUGAN__RNG_TEST);
    grugan__rng_fill_uniform(&rng, a, m * k, -1, 1);
    grugan__rng_fill_uniform(&rng, b, k * n, -1, 1);
    grugan__sgemm(1, m, n, k, 1.0f, a, (ptrdiff_t)k, 1, b, (ptrdiff_t)n, 1, 0.0f, c1,
                  (ptrdiff_t)n, 1);
    grugan__sgemm(2, m, n, k, 1.0f, a, (ptrdiff_t)k, 1, b, (ptrdiff_t)n, 1, 0.0f, c2,
                  (ptrdiff_t)n, 1);
    ck_assert_int_eq(memcmp(c1, c2, m * n * sizeof *c1), 0);
    /* transposed view of B */
    grugan__sgemm(1, m, k, n, 1.0f, c1, (ptrdiff_t)n, 1, b, 1, (ptrdiff_t)n, 0.0f, d1,
                  (ptrdiff_t)k, 1);
    grugan__sgemm(2, m, k, n, 1.0f, c2, (ptrdiff_t)n, 1, b, 1, (ptrdiff_t)n, 0.0f, d2,
                  (ptrdiff_t)k, 1);
    ck_assert_int_eq(memcmp(d1, d2, m * k * sizeof *d1), 0);
    free(d1);
    free(d2);
    free(a);
    free(b);
    free(c1);
    free(c2);
}
END_TEST

Suite *suite_blas(void)
{
    Suite *s = suite_create("blas");
    TCase *tc = tcase_create("blas");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, gemm_matches_naive_on_odd_shapes_and_strides);
    tcase_add_test(tc, gemm_is_bit_identical_across_thread_counts);
    suite_add_tcase(s, tc);
    return s;
}
