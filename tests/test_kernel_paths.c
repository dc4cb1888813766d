/* test_kernel_paths.c - every instruction-set path of the GRU's gate kernels
 * that this machine runs (portable, AVX2, AVX-512) gives the same bits: each
 * gate function on its own, on sizes that exercise full vectors, tails and
 * the row gathering of the forward gates, and a whole GRU forward and
 * backward with each path forced. (The matrix-product paths are checked per
 * variant in test_blas.c: they round differently, fused or not, and are held
 * to a tolerance against double precision instead.) */
#include "suites.h"

#include "core/core.h"
#include "core/gemm_kernel.h"
#include "core/rng.h"
#include "nn/gates.h"
#include "nn/gru.h"

#include <stdlib.h>
#include <string.h>

static const int isas[] = {GRUGAN__GEMM_ISA_PORTABLE, GRUGAN__GEMM_ISA_AVX2,
                           GRUGAN__GEMM_ISA_AVX512};

static float *random_floats(grugan__rng *rng, size_t n, float lo, float hi)
{
    float *p = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    grugan__rng_fill_uniform(rng, p, n, lo, hi);
    return p;
}

static float *copy_of(const float *src, size_t n)
{
    float *p = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    memcpy(p, src, n * sizeof *p);
    return p;
}

static void assert_same_bits(const float *got, const float *want, size_t n, const char *what,
                             int isa, size_t rows, size_t H)
{
    if (memcmp(got, want, n * sizeof *got) != 0)
        for (size_t i = 0; i < n; i++)
            if (memcmp(&got[i], &want[i], sizeof *got) != 0)
                ck_abort_msg("%s, isa %d, rows %zu, H %zu: [%zu] = %.9g, portable %.9g", what, isa,
                             rows, H, i, (double)got[i], (double)want[i]);
}

START_TEST(the_portable_path_always_exists)
{
    ck_assert_ptr_nonnull(grugan__gates_for_isa(GRUGAN__GEMM_ISA_PORTABLE));
    ck_assert_ptr_nonnull(grugan__gates_for_cpu());
    ck_assert_ptr_null(grugan__gates_for_isa(-1));
    ck_assert_ptr_null(grugan__gates_for_isa(3));
    /* the CPU's choice is its best level */
    ck_assert_ptr_eq(grugan__gates_for_cpu(), grugan__gates_for_isa(grugan__gemm_isa_best()));
}
END_TEST

/* rows x H cases: H of a partial vector, of one and a half AVX-512 vectors
 * (24, the TimeGAN size), of several with a tail, and above the forward
 * gates' gathering buffer (1030 floats, one row at a time). */
static const size_t gate_cases[][2] = {{1, 1}, {3, 7}, {130, 24}, {5, 33}, {50, 100}, {3, 1030}};

START_TEST(gate_functions_agree_bit_for_bit)
{
    const size_t rows = gate_cases[_i][0], H = gate_cases[_i][1];
    const grugan__gates *base = grugan__gates_for_isa(GRUGAN__GEMM_ISA_PORTABLE);
    grugan__rng rng;
    float *gx, *gh, *b_ih, *b_hh, *h, *dh0, *dout, *drh, *m;
    grugan__rng_init(&rng, rows * 1000 + H, GRUGAN__RNG_TEST);
    gx = random_floats(&rng, rows * 3 * H, -4.0f, 4.0f);
    gh = random_floats(&rng, rows * 3 * H, -4.0f, 4.0f);
    b_ih = random_floats(&rng, 3 * H, -1.0f, 1.0f);
    b_hh = random_floats(&rng, 3 * H, -1.0f, 1.0f);
    h = random_floats(&rng, rows * H, -1.0f, 1.0f);
    dh0 = random_floats(&rng, rows * H, -1.0f, 1.0f);
    dout = random_floats(&rng, rows * 2 * H, -1.0f, 1.0f); /* row stride 2H */
    drh = random_floats(&rng, rows * H, -1.0f, 1.0f);
    m = random_floats(&rng, rows * 3 * H, -1.0f, 1.0f);

    for (size_t v = 0; v < sizeof isas / sizeof isas[0]; v++) {
        const grugan__gates *k = grugan__gates_for_isa(isas[v]);
        float *g[2], *ghn[2], *hn[2], *dh[2], *dgx[2], *dgh[2];
        double *sum[2];
        if (!k) continue;
        for (int i = 0; i < 2; i++) {
            const grugan__gates *run = i == 0 ? base : k;
            /* reset after: forward, blend, backward */
            g[i] = copy_of(gx, rows * 3 * H);
            ghn[i] = calloc(rows * H, sizeof(float));
            hn[i] = calloc(rows * H, sizeof(float));
            dh[i] = copy_of(dh0, rows * H);
            dgx[i] = calloc(rows * 3 * H, sizeof(float));
            dgh[i] = calloc(rows * 3 * H, sizeof(float));
            sum[i] = calloc(3 * H, sizeof(double));
            run->forward_after(rows, H, g[i], gh, b_ih, b_hh, ghn[i]);
            for (size_t b = 0; b < rows; b++)
                run->blend(H, g[i] + b * 3 * H + H, g[i] + b * 3 * H + 2 * H, h + b * H,
                           hn[i] + b * H);
            run->backward_after(rows, H, g[i], ghn[i], h, dh[i], dout, 2 * H, dgx[i], dgh[i]);
            run->sum_rows(rows, 3 * H, 3 * H, m, sum[i]);
        }
        assert_same_bits(g[1], g[0], rows * 3 * H, "forward_after gates", isas[v], rows, H);
        assert_same_bits(ghn[1], ghn[0], rows * H, "forward_after ghn", isas[v], rows, H);
        assert_same_bits(hn[1], hn[0], rows * H, "blend", isas[v], rows, H);
        assert_same_bits(dh[1], dh[0], rows * H, "backward_after dh", isas[v], rows, H);
        assert_same_bits(dgx[1], dgx[0], rows * 3 * H, "backward_after dgx", isas[v], rows, H);
        assert_same_bits(dgh[1], dgh[0], rows * 3 * H, "backward_after dgh", isas[v], rows, H);
        ck_assert_int_eq(memcmp(sum[1], sum[0], 3 * H * sizeof(double)), 0);

        /* reset before: both halves forward and backward, one row at a time */
        for (int i = 0; i < 2; i++) {
            const grugan__gates *run = i == 0 ? base : k;
            memcpy(g[i], gx, rows * 3 * H * sizeof(float));
            memcpy(dh[i], dh0, rows * H * sizeof(float));
            for (size_t b = 0; b < rows; b++) {
                float *gb = g[i] + b * 3 * H;
                run->forward_before_rz(H, gb, gh + b * 3 * H, b_ih, b_hh, h + b * H,
                                       ghn[i] + b * H);
                run->forward_before_n(H, gb, gh + b * 3 * H + 2 * H, b_ih, b_hh);
                run->backward_before_zn(H, gb, h + b * H, dh[i] + b * H, dout + b * 2 * H,
                                        dgx[i] + b * 3 * H, dgh[i] + b * 3 * H);
                run->backward_before_r(H, gb, h + b * H, drh + b * H, dh[i] + b * H,
                                       dgx[i] + b * 3 * H, dgh[i] + b * 3 * H);
            }
        }
        assert_same_bits(g[1], g[0], rows * 3 * H, "reset-before gates", isas[v], rows, H);
        assert_same_bits(ghn[1], ghn[0], rows * H, "reset-before r*h", isas[v], rows, H);
        assert_same_bits(dh[1], dh[0], rows * H, "reset-before dh", isas[v], rows, H);
        assert_same_bits(dgx[1], dgx[0], rows * 3 * H, "reset-before dgx", isas[v], rows, H);
        assert_same_bits(dgh[1], dgh[0], rows * 3 * H, "reset-before dgh", isas[v], rows, H);
        for (int i = 0; i < 2; i++) {
            free(g[i]);
            free(ghn[i]);
            free(hn[i]);
            free(dh[i]);
            free(dgx[i]);
            free(dgh[i]);
            free(sum[i]);
        }
    }
    free(gx);
    free(gh);
    free(b_ih);
    free(b_hh);
    free(h);
    free(dh0);
    free(dout);
    free(drh);
    free(m);
}
END_TEST

/* Everything one forced-path GRU run produces. */
typedef struct gru_run {
    float *out, *h_n, *d_x, *grads;
} gru_run;

/* Forward and backward (parameter gradients and dL/dx) of a 2-layer GRU
 * with the gate kernels `k`; lengths (some padded rows) when `padded`. */
static gru_run run_gru(const grugan__gates *k, bool reset_before, bool padded)
{
    const grugan__gru_shape shape = {5, 24, 2, 2, reset_before};
    const size_t B = 37, T = 9, DH = 2 * 24, n_params = grugan__gru_param_floats(&shape);
    size_t lengths[37];
    grugan__gru_net net;
    grugan__rng rng;
    float *params = malloc(n_params * sizeof *params), *x, *d_out;
    gru_run r;
    grugan__rng_init(&rng, 5, GRUGAN__RNG_TEST);
    x = random_floats(&rng, B * T * 5, -1.0f, 1.0f);
    d_out = random_floats(&rng, B * T * DH, -1.0f, 1.0f);
    for (size_t b = 0; b < B; b++) lengths[b] = 1 + (b * 5) % T;
    r.grads = calloc(n_params, sizeof(float));
    r.out = malloc(B * T * DH * sizeof(float));
    r.h_n = malloc(2 * 2 * B * 24 * sizeof(float));
    r.d_x = malloc(B * T * 5 * sizeof(float));
    ck_assert(params && r.grads && r.out && r.h_n && r.d_x);
    grugan__gru_init_params(&shape, params, 11);
    grugan__gru_init(&net, &shape, grugan__default_context(), params, r.grads);
    net.kernels = k;
    ck_assert_int_eq(grugan__gru_reserve(&net, B, T), GRUGAN_OK);
    grugan__gru_forward(&net, B, T, x, 5, NULL, padded ? lengths : NULL, r.out, r.h_n);
    grugan__gru_backward(&net, d_out, NULL, r.d_x, 5, NULL, true);
    grugan__gru_release(&net);
    free(params);
    free(x);
    free(d_out);
    return r;
}

static void gru_run_free(gru_run *r)
{
    free(r->out);
    free(r->h_n);
    free(r->d_x);
    free(r->grads);
}

/* _i: bit 0 reset-before, bit 1 padded rows. */
START_TEST(a_whole_gru_agrees_bit_for_bit_on_every_path)
{
    const bool reset_before = _i & 1, padded = (_i >> 1) & 1;
    const grugan__gru_shape shape = {5, 24, 2, 2, reset_before};
    const size_t B = 37, T = 9, n_params = grugan__gru_param_floats(&shape);
    gru_run want = run_gru(grugan__gates_for_isa(GRUGAN__GEMM_ISA_PORTABLE), reset_before, padded);
    for (size_t v = 1; v < sizeof isas / sizeof isas[0]; v++) {
        const grugan__gates *k = grugan__gates_for_isa(isas[v]);
        gru_run got;
        if (!k) continue;
        got = run_gru(k, reset_before, padded);
        assert_same_bits(got.out, want.out, B * T * 48, "GRU output", isas[v], B, 24);
        assert_same_bits(got.h_n, want.h_n, 4 * B * 24, "GRU h_n", isas[v], B, 24);
        assert_same_bits(got.d_x, want.d_x, B * T * 5, "GRU dL/dx", isas[v], B, 24);
        assert_same_bits(got.grads, want.grads, n_params, "GRU gradients", isas[v], B, 24);
        gru_run_free(&got);
    }
    gru_run_free(&want);
}
END_TEST

Suite *suite_kernel_paths(void)
{
    Suite *s = suite_create("kernel_paths");
    TCase *tc = tcase_create("kernel_paths");
    tcase_add_test(tc, the_portable_path_always_exists);
    tcase_add_loop_test(tc, gate_functions_agree_bit_for_bit, 0,
                        (int)(sizeof gate_cases / sizeof gate_cases[0]));
    tcase_add_loop_test(tc, a_whole_gru_agrees_bit_for_bit_on_every_path, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}
