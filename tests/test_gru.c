/* test_gru.c - the library's float GRU (grugan_gru_*) against the
 * double-precision reference (ref_gru.c) on odd sizes, and its API contract:
 * determinism, parameter listing, settings, failures, allocation. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"
#include "ref_gru.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static const float SENTINEL = -12345.5f;

static float *to_float(const double *src, size_t n)
{
    float *p = falloc(n);
    for (size_t i = 0; i < n; i++) p[i] = (float)src[i];
    return p;
}

/* (Element loops compare in plain C and assert once: in fork mode each
 * passing Check assertion costs a system call.) */

/* A failing call: its status, and a non-empty message on the handle. */
#define EXPECT_FAIL(gru, call, code)                                                     \
    do {                                                                                 \
        ck_assert_int_eq((call), (code));                                                \
        ck_assert_msg(grugan_gru_message(gru)[0] != '\0', "no message after %s", #call); \
    } while (0)

static grugan_gru *gru_new(size_t I, size_t H, size_t L, int bi, int conv, uint64_t seed)
{
    grugan_gru_config cfg = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *gru = NULL;
    grugan_error err;
    cfg.input_size = I;
    cfg.hidden_size = H;
    cfg.num_layers = L;
    cfg.bidirectional = bi;
    cfg.convention = conv;
    cfg.seed = seed;
    ck_assert_int_eq(grugan_gru_create(NULL, &cfg, &gru, &err), GRUGAN_OK);
    ck_assert_ptr_nonnull(gru);
    return gru;
}

/* Copies the reference's parameters (float-representable) into the GRU, by
 * name, checking the shapes. */
static void load_weights(grugan_gru *gru, const ref_gru *ref)
{
    ck_assert_uint_eq(grugan_params_count(grugan_gru_params(gru)), ref->num_params);
    for (size_t i = 0; i < ref->num_params; i++) {
        size_t idx = 99, ndim = 0, shape[GRUGAN_MAX_DIMS] = {0, 0, 0, 0};
        float *w;
        ck_assert_int_eq(grugan_params_find(grugan_gru_params(gru), ref->name[i], &idx), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_info(grugan_gru_params(gru), idx, NULL, &ndim, shape), GRUGAN_OK);
        ck_assert_uint_eq(ndim, ref->ndim[i]);
        ck_assert_uint_eq(shape[0], ref->shape[i][0]);
        if (ndim == 2) ck_assert_uint_eq(shape[1], ref->shape[i][1]);
        w = to_float(ref->param[i], ref->numel[i]);
        ck_assert_int_eq(grugan_params_write(grugan_gru_params(gru), idx, w, ref->numel[i]), GRUGAN_OK);
        free(w);
    }
}

/* |got - want| <= tol * (1 + |want|) elementwise; returns the largest ratio
 * of error to tolerance. */
static double assert_near_worst(const float *got, const double *want, size_t n, double tol,
                          const char *what, const char *where)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - want[i]) / (1 + fabs(want[i]));
        if (!(err <= tol))
            ck_abort_msg("%s: %s[%zu] = %.9g, reference %.9g", where, what, i, (double)got[i],
                         want[i]);
        if (err / tol > worst) worst = err / tol;
    }
    return worst;
}

/* ------------------------------------------------------------------------- */
/* A case: one configuration, its weights and data in float and double       */
/* ------------------------------------------------------------------------- */

typedef struct gcase {
    size_t H, T, B, I, L;
    int bi, conv, use_len, use_h0;
} gcase;

typedef struct fixture {
    gcase c;
    size_t D, nx, nout, nh;
    ref_gru ref;
    grugan_gru *gru;
    size_t len[8];     /* (B) */
    double *x, *h0;    /* (B, T, I), (L*D, B, H) */
    double *dout, *dhn; /* (B, T, D*H), (L*D, B, H) */
    float *xf, *h0f, *doutf, *dhnf;
    char where[160];
} fixture;

static void fixture_init(fixture *f, const gcase *c, uint64_t seed)
{
    ref_rng rng;
    const double scale = fmin(0.9, 2.0 / sqrt((double)c->H));
    memset(f, 0, sizeof *f);
    f->c = *c;
    f->D = c->bi ? 2 : 1;
    f->nx = c->B * c->T * c->I;
    f->nout = c->B * c->T * f->D * c->H;
    f->nh = c->L * f->D * c->B * c->H;
    ck_assert_uint_le(c->B, 8);
    snprintf(f->where, sizeof f->where,
             "H=%zu T=%zu B=%zu I=%zu L=%zu bidirectional=%d convention=%d lengths=%d h0=%d",
             c->H, c->T, c->B, c->I, c->L, c->bi, c->conv, c->use_len, c->use_h0);
    ck_assert_int_eq(ref_gru_init(&f->ref, c->I, c->H, c->L, c->bi,
                                  c->conv == GRUGAN_GRU_RESET_BEFORE),
                     0);
    ref_rng_seed(&rng, seed);
    ref_gru_randomize(&f->ref, &rng, scale);
    f->gru = gru_new(c->I, c->H, c->L, c->bi, c->conv, seed + 1);
    load_weights(f->gru, &f->ref);
    /* right-padded lengths in 1..T, not sorted, some shorter than T */
    for (size_t b = 0; b < c->B; b++) f->len[b] = (b * 7 + 3) % c->T + 1;
    f->x = dalloc(f->nx);
    f->h0 = dalloc(f->nh);
    f->dout = dalloc(f->nout);
    f->dhn = dalloc(f->nh);
    ref_rng_fill(&rng, f->x, f->nx, -1, 1);
    ref_rng_fill(&rng, f->h0, f->nh, -0.8, 0.8);
    ref_rng_fill(&rng, f->dout, f->nout, -1, 1);
    ref_rng_fill(&rng, f->dhn, f->nh, -1, 1);
    f->xf = to_float(f->x, f->nx);
    f->h0f = to_float(f->h0, f->nh);
    f->doutf = to_float(f->dout, f->nout);
    f->dhnf = to_float(f->dhn, f->nh);
}

static void fixture_free(fixture *f)
{
    grugan_gru_free(f->gru);
    ref_gru_free(&f->ref);
    free(f->x);
    free(f->h0);
    free(f->dout);
    free(f->dhn);
    free(f->xf);
    free(f->h0f);
    free(f->doutf);
    free(f->dhnf);
}

/* Results of one forward + backward. */
typedef struct result {
    float *out, *hn, *dx, *dh0; /* (B, T, D*H), (L*D, B, H), (B, T, I), (L*D, B, H) */
    float *grad[REF_GRU_MAX_PARAMS]; /* in the reference's tensor order */
} result;

static void result_alloc(result *r, const fixture *f)
{
    memset(r, 0, sizeof *r);
    r->out = falloc(f->nout);
    r->hn = falloc(f->nh);
    r->dx = falloc(f->nx);
    r->dh0 = falloc(f->nh);
    for (size_t i = 0; i < f->ref.num_params; i++) r->grad[i] = falloc(f->ref.numel[i]);
}

static void result_free(result *r)
{
    free(r->out);
    free(r->hn);
    free(r->dx);
    free(r->dh0);
    for (size_t i = 0; i < REF_GRU_MAX_PARAMS; i++) free(r->grad[i]);
}

static void read_grads(grugan_gru *gru, const ref_gru *ref, float **grad)
{
    for (size_t i = 0; i < ref->num_params; i++) {
        size_t idx = 0;
        ck_assert_int_eq(grugan_params_find(grugan_gru_params(gru), ref->name[i], &idx), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_grad_read(grugan_gru_params(gru), idx, grad[i], ref->numel[i]), GRUGAN_OK);
    }
}

/* zero_grad, forward, backward with GRUGAN_BACKWARD_PARAMS, read gradients. */
static void run_fast(fixture *f, grugan_gru *gru, result *r)
{
    const gcase *c = &f->c;
    fill(r->dx, f->nx, SENTINEL);
    fill(r->dh0, f->nh, SENTINEL);
    ck_assert_int_eq(grugan_params_zero_grad(grugan_gru_params(gru)), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_forward(gru, c->B, c->T, f->xf, c->use_h0 ? f->h0f : NULL,
                                        c->use_len ? f->len : NULL, r->out, r->hn),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_backward(gru, f->doutf, f->dhnf, r->dx, r->dh0,
                                         GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    read_grads(gru, &f->ref, r->grad);
}

typedef struct ref_result {
    double *out, *hn, *dx, *dh0;
} ref_result;

static void run_ref(fixture *f, ref_result *r)
{
    const gcase *c = &f->c;
    ref_gru_tape tape;
    r->out = dalloc(f->nout);
    r->hn = dalloc(f->nh);
    r->dx = dalloc(f->nx);
    r->dh0 = dalloc(f->nh);
    ref_gru_zero_grad(&f->ref);
    ck_assert_int_eq(ref_gru_forward(&f->ref, c->B, c->T, f->x, c->use_h0 ? f->h0 : NULL,
                                     c->use_len ? f->len : NULL, r->out, r->hn, &tape),
                     0);
    ck_assert_int_eq(ref_gru_backward(&f->ref, &tape, f->dout, f->dhn, r->dx, r->dh0), 0);
    ref_gru_tape_free(&tape);
}

static void ref_result_free(ref_result *r)
{
    free(r->out);
    free(r->hn);
    free(r->dx);
    free(r->dh0);
}

/* ------------------------------------------------------------------------- */
/* Numbers against the reference                                             */
/* ------------------------------------------------------------------------- */

/* Sizes (H, T, B, I, L): every value of every dimension appears, each tuple
 * is run with all 16 flag combinations. */
static const size_t SIZES[][5] = {
    {1, 1, 1, 1, 1},  {3, 2, 5, 7, 2},  {17, 9, 5, 1, 3}, {64, 9, 5, 7, 2}, {64, 1, 1, 7, 3},
    {17, 2, 1, 7, 1}, {3, 9, 1, 1, 3},  {1, 9, 5, 7, 2},  {64, 2, 5, 1, 1}, {17, 9, 1, 7, 3},
};
#define NUM_SIZES (sizeof SIZES / sizeof SIZES[0])

static gcase case_of(int k)
{
    gcase c;
    const size_t *s = SIZES[(size_t)k / 16];
    c.H = s[0];
    c.T = s[1];
    c.B = s[2];
    c.I = s[3];
    c.L = s[4];
    c.bi = k & 1;
    c.conv = (k >> 1) & 1;
    c.use_len = (k >> 2) & 1;
    c.use_h0 = (k >> 3) & 1;
    return c;
}

/* float against double, error / (1 + |reference|): the largest seen are
 * below 5e-7 for forward values and 2e-6 for gradients; a wrong term costs
 * 1e-3 or more. */
#define TOL_FORWARD 3e-6
#define TOL_BACKWARD 1.5e-5

START_TEST(forward_and_backward_match_reference)
{
    const gcase c = case_of(_i);
    fixture f;
    result r;
    ref_result want;
    fixture_init(&f, &c, 100 + (uint64_t)_i);
    result_alloc(&r, &f);
    run_fast(&f, f.gru, &r);
    run_ref(&f, &want);
    assert_near_worst(r.out, want.out, f.nout, TOL_FORWARD, "out", f.where);
    assert_near_worst(r.hn, want.hn, f.nh, TOL_FORWARD, "h_n", f.where);
    assert_near_worst(r.dx, want.dx, f.nx, TOL_BACKWARD, "dx", f.where);
    assert_near_worst(r.dh0, want.dh0, f.nh, TOL_BACKWARD, "dh0", f.where);
    for (size_t i = 0; i < f.ref.num_params; i++)
        assert_near_worst(r.grad[i], f.ref.grad[i], f.ref.numel[i], TOL_BACKWARD, f.ref.name[i],
                    f.where);
    /* padded steps: outputs exactly 0, no gradient to x */
    if (c.use_len)
        for (size_t b = 0; b < c.B; b++)
            for (size_t t = f.len[b]; t < c.T; t++) {
                assert_all(r.out + (b * c.T + t) * f.D * c.H, f.D * c.H, 0.0f, "padded out");
                assert_all(r.dx + (b * c.T + t) * c.I, c.I, 0.0f, "padded dx");
            }
    ref_result_free(&want);
    result_free(&r);
    fixture_free(&f);
}
END_TEST

/* NULL d_out / d_hn are zeros; NULL d_x / d_h0 / h_n are allowed. */
START_TEST(optional_arguments_of_backward)
{
    const gcase c = {17, 9, 5, 7, 2, 1, GRUGAN_GRU_RESET_AFTER, 1, 1};
    fixture f;
    result r;
    ref_result want;
    float *zout, *zhn;
    fixture_init(&f, &c, 7);
    result_alloc(&r, &f);
    zout = falloc(f.nout);
    zhn = falloc(f.nh);
    fill(zout, f.nout, 0.0f);
    fill(zhn, f.nh, 0.0f);
    memset(f.dhn, 0, f.nh * sizeof(double));
    run_ref(&f, &want);
    ck_assert_int_eq(grugan_params_zero_grad(grugan_gru_params(f.gru)), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_forward(f.gru, c.B, c.T, f.xf, f.h0f, f.len, r.out, NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(
        grugan_gru_backward(f.gru, f.doutf, NULL, r.dx, r.dh0, GRUGAN_BACKWARD_PARAMS),
        GRUGAN_OK);
    read_grads(f.gru, &f.ref, r.grad);
    assert_near_worst(r.out, want.out, f.nout, TOL_FORWARD, "out", f.where);
    assert_near_worst(r.dx, want.dx, f.nx, TOL_BACKWARD, "dx", f.where);
    assert_near_worst(r.dh0, want.dh0, f.nh, TOL_BACKWARD, "dh0", f.where);
    for (size_t i = 0; i < f.ref.num_params; i++)
        assert_near_worst(r.grad[i], f.ref.grad[i], f.ref.numel[i], TOL_BACKWARD, f.ref.name[i],
                    f.where);
    /* without outputs, backward still accumulates the same gradients */
    ck_assert_int_eq(grugan_params_zero_grad(grugan_gru_params(f.gru)), GRUGAN_OK);
    ck_assert_int_eq(
        grugan_gru_backward(f.gru, f.doutf, NULL, NULL, NULL, GRUGAN_BACKWARD_PARAMS),
        GRUGAN_OK);
    for (size_t i = 0; i < f.ref.num_params; i++) {
        float *g = falloc(f.ref.numel[i]);
        size_t idx = 0;
        ck_assert_int_eq(grugan_params_find(grugan_gru_params(f.gru), f.ref.name[i], &idx), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_grad_read(grugan_gru_params(f.gru), idx, g, f.ref.numel[i]), GRUGAN_OK);
        ck_assert_mem_eq(g, r.grad[i], f.ref.numel[i] * sizeof(float));
        free(g);
    }
    /* forward with out NULL (accepted, like h_n NULL): the same h_n, and
     * backward from d_hn alone */
    {
        float *hn2 = falloc(f.nh), *dx2 = falloc(f.nx);
        ck_assert_int_eq(grugan_gru_forward(f.gru, c.B, c.T, f.xf, f.h0f, f.len, r.out, r.hn),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_gru_backward(f.gru, NULL, f.dhnf, r.dx, NULL,
                                             GRUGAN_BACKWARD_INPUT_ONLY),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_gru_forward(f.gru, c.B, c.T, f.xf, f.h0f, f.len, NULL, hn2),
                         GRUGAN_OK);
        ck_assert_mem_eq(hn2, r.hn, f.nh * sizeof(float));
        ck_assert_int_eq(grugan_gru_backward(f.gru, NULL, f.dhnf, dx2, NULL,
                                             GRUGAN_BACKWARD_INPUT_ONLY),
                         GRUGAN_OK);
        ck_assert_mem_eq(dx2, r.dx, f.nx * sizeof(float));
        free(hn2);
        free(dx2);
    }
    /* both NULL: everything zero */
    ck_assert_int_eq(grugan_gru_backward(f.gru, NULL, NULL, r.dx, r.dh0,
                                         GRUGAN_BACKWARD_INPUT_ONLY),
                     GRUGAN_OK);
    assert_all(r.dx, f.nx, 0.0f, "dx");
    assert_all(r.dh0, f.nh, 0.0f, "dh0");
    ck_assert_int_eq(grugan_gru_backward(f.gru, zout, zhn, r.dx, r.dh0,
                                         GRUGAN_BACKWARD_INPUT_ONLY),
                     GRUGAN_OK);
    assert_all(r.dx, f.nx, 0.0f, "dx");
    free(zout);
    free(zhn);
    ref_result_free(&want);
    result_free(&r);
    fixture_free(&f);
}
END_TEST

/* GRUGAN_BACKWARD_INPUT_ONLY: same d_x and d_h0, gradients untouched; two
 * GRUGAN_BACKWARD_PARAMS calls accumulate; zero_grad clears. */
START_TEST(input_only_and_accumulation)
{
    const gcase cases[2] = {{17, 9, 5, 7, 2, 1, GRUGAN_GRU_RESET_AFTER, 1, 1},
                            {3, 2, 5, 1, 3, 0, GRUGAN_GRU_RESET_BEFORE, 0, 1}};
    for (size_t k = 0; k < 2; k++) {
        const gcase c = cases[k];
        fixture f;
        result r, r2;
        fixture_init(&f, &c, 40 + k);
        result_alloc(&r, &f);
        result_alloc(&r2, &f);
        run_fast(&f, f.gru, &r);
        ck_assert_int_eq(grugan_gru_backward(f.gru, f.doutf, f.dhnf, r2.dx, r2.dh0,
                                             GRUGAN_BACKWARD_INPUT_ONLY),
                         GRUGAN_OK);
        ck_assert_mem_eq(r2.dx, r.dx, f.nx * sizeof(float));
        ck_assert_mem_eq(r2.dh0, r.dh0, f.nh * sizeof(float));
        read_grads(f.gru, &f.ref, r2.grad);
        for (size_t i = 0; i < f.ref.num_params; i++)
            ck_assert_mem_eq(r2.grad[i], r.grad[i], f.ref.numel[i] * sizeof(float));

        /* after zero_grad, INPUT_ONLY leaves them zero */
        ck_assert_int_eq(grugan_params_zero_grad(grugan_gru_params(f.gru)), GRUGAN_OK);
        ck_assert_int_eq(grugan_gru_backward(f.gru, f.doutf, f.dhnf, r2.dx, r2.dh0,
                                             GRUGAN_BACKWARD_INPUT_ONLY),
                         GRUGAN_OK);
        ck_assert_mem_eq(r2.dx, r.dx, f.nx * sizeof(float));
        read_grads(f.gru, &f.ref, r2.grad);
        for (size_t i = 0; i < f.ref.num_params; i++)
            assert_all(r2.grad[i], f.ref.numel[i], 0.0f, f.ref.name[i]);

        /* two PARAMS backward calls on one forward: twice the gradients */
        ck_assert_int_eq(grugan_gru_backward(f.gru, f.doutf, f.dhnf, r2.dx, r2.dh0,
                                             GRUGAN_BACKWARD_PARAMS),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_gru_backward(f.gru, f.doutf, f.dhnf, r2.dx, r2.dh0,
                                             GRUGAN_BACKWARD_PARAMS),
                         GRUGAN_OK);
        ck_assert_mem_eq(r2.dx, r.dx, f.nx * sizeof(float));
        read_grads(f.gru, &f.ref, r2.grad);
        for (size_t i = 0; i < f.ref.num_params; i++)
            for (size_t e = 0; e < f.ref.numel[i]; e++)
                if (!(fabsf(r2.grad[i][e] - 2 * r.grad[i][e]) <=
                      1e-6f * (1 + fabsf(r.grad[i][e]))))
                    ck_abort_msg("%s[%zu]: %g after two backward calls, %g after one",
                                 f.ref.name[i], e, (double)r2.grad[i][e], (double)r.grad[i][e]);
        result_free(&r);
        result_free(&r2);
        fixture_free(&f);
    }
}
END_TEST

/* grugan_gru_step, fed x one step at a time from h0, gives forward's outputs
 * and final state bit for bit ("the same numbers", also at another thread
 * count), and leaves forward's record for backward alone. */
START_TEST(step_reproduces_forward)
{
    const gcase cases[] = {{1, 9, 1, 1, 1, 0, GRUGAN_GRU_RESET_AFTER, 0, 1},
                           {17, 9, 5, 7, 2, 0, GRUGAN_GRU_RESET_BEFORE, 0, 1},
                           {64, 9, 5, 7, 3, 0, GRUGAN_GRU_RESET_AFTER, 0, 1},
                           {3, 2, 5, 7, 3, 0, GRUGAN_GRU_RESET_BEFORE, 0, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const gcase c = cases[k];
        const size_t B = c.B, T = c.T, I = c.I, H = c.H, L = c.L;
        fixture f;
        result r;
        float *h = falloc(L * B * H), *xt = falloc(B * I), *o = falloc(B * H);
        float *dx2 = falloc(B * T * I);
        fixture_init(&f, &c, 60 + k);
        result_alloc(&r, &f);
        run_fast(&f, f.gru, &r);
        /* h (L, B, H) starts at h0 (or zeros) */
        if (c.use_h0)
            memcpy(h, f.h0f, L * B * H * sizeof(float));
        else
            fill(h, L * B * H, 0.0f);
        ck_assert_int_eq(grugan_gru_set(f.gru, GRUGAN_KEY_THREADS, 2), GRUGAN_OK);
        for (size_t t = 0; t < T; t++) {
            for (size_t b = 0; b < B; b++)
                memcpy(xt + b * I, f.xf + (b * T + t) * I, I * sizeof(float));
            ck_assert_int_eq(grugan_gru_step(f.gru, B, xt, h, t % 2 ? NULL : o), GRUGAN_OK);
            for (size_t b = 0; b < B; b++)
                for (size_t j = 0; j < H; j++) {
                    const float want = r.out[(b * T + t) * H + j];
                    const float top = h[((L - 1) * B + b) * H + j];
                    if (top != want)
                        ck_abort_msg("%s: step t=%zu b=%zu j=%zu: %.9g, forward %.9g", f.where,
                                     t, b, j, (double)top, (double)want);
                    if (t % 2 == 0 && o[b * H + j] != top)
                        ck_abort_msg("%s: step out differs from the state", f.where);
                }
        }
        for (size_t i = 0; i < L * B * H; i++)
            if (h[i] != r.hn[i])
                ck_abort_msg("%s: final state [%zu]: %.9g, h_n %.9g", f.where, i, (double)h[i],
                             (double)r.hn[i]);
        /* forward's record is intact: backward gives the same d_x */
        ck_assert_int_eq(grugan_gru_backward(f.gru, f.doutf, f.dhnf, dx2, NULL,
                                             GRUGAN_BACKWARD_INPUT_ONLY),
                         GRUGAN_OK);
        ck_assert_mem_eq(dx2, r.dx, B * T * I * sizeof(float));
        free(h);
        free(xt);
        free(o);
        free(dx2);
        result_free(&r);
        fixture_free(&f);
    }
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Determinism                                                               */
/* ------------------------------------------------------------------------- */

static void assert_results_identical(const fixture *f, const result *a, const result *b,
                                     const char *what)
{
    ck_assert_msg(memcmp(a->out, b->out, f->nout * sizeof(float)) == 0, "%s: out, %s", what,
                  f->where);
    ck_assert_msg(memcmp(a->hn, b->hn, f->nh * sizeof(float)) == 0, "%s: h_n, %s", what,
                  f->where);
    ck_assert_msg(memcmp(a->dx, b->dx, f->nx * sizeof(float)) == 0, "%s: dx, %s", what,
                  f->where);
    ck_assert_msg(memcmp(a->dh0, b->dh0, f->nh * sizeof(float)) == 0, "%s: dh0, %s", what,
                  f->where);
    for (size_t i = 0; i < f->ref.num_params; i++)
        ck_assert_msg(memcmp(a->grad[i], b->grad[i], f->ref.numel[i] * sizeof(float)) == 0,
                      "%s: gradient %s, %s", what, f->ref.name[i], f->where);
}

START_TEST(bit_identical_across_threads_and_runs)
{
    const gcase cases[] = {{64, 9, 5, 7, 2, 1, GRUGAN_GRU_RESET_AFTER, 1, 1},
                           {64, 9, 5, 7, 3, 0, GRUGAN_GRU_RESET_BEFORE, 0, 1},
                           {17, 9, 5, 1, 2, 1, GRUGAN_GRU_RESET_BEFORE, 1, 0},
                           {3, 2, 1, 7, 1, 0, GRUGAN_GRU_RESET_AFTER, 0, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fixture f;
        result one, two, again;
        grugan_gru *other;
        double v = 0;
        fixture_init(&f, &cases[k], 80 + k);
        result_alloc(&one, &f);
        result_alloc(&two, &f);
        result_alloc(&again, &f);
        run_fast(&f, f.gru, &one);
        ck_assert_int_eq(grugan_gru_set(f.gru, GRUGAN_KEY_THREADS, 2), GRUGAN_OK);
        ck_assert_int_eq(grugan_gru_get(f.gru, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
        ck_assert(v == 2.0);
        run_fast(&f, f.gru, &two);
        assert_results_identical(&f, &one, &two, "1 vs 2 threads");
        ck_assert_int_eq(grugan_gru_set(f.gru, GRUGAN_KEY_THREADS, 1), GRUGAN_OK);
        run_fast(&f, f.gru, &again);
        assert_results_identical(&f, &one, &again, "second run");
        /* a second handle with the same weights */
        other = gru_new(f.c.I, f.c.H, f.c.L, f.c.bi, f.c.conv, 5);
        load_weights(other, &f.ref);
        ck_assert_int_eq(grugan_gru_set(other, GRUGAN_KEY_THREADS, 2), GRUGAN_OK);
        run_fast(&f, other, &again);
        assert_results_identical(&f, &one, &again, "second handle");
        grugan_gru_free(other);
        result_free(&one);
        result_free(&two);
        result_free(&again);
        fixture_free(&f);
    }
}
END_TEST

/* Forward and backward of a GRU large enough that its per-step work runs on
 * 2 threads when asked (H = 256, B = 64: the per-step products have 12.6e6
 * multiply-adds, the gate passes 16384 values, and the weight gradients
 * 37.7e6; core/parallel.h): outputs, h_n, dx, dh0 and every gradient are
 * the same bits as on 1 thread. Packed lengths and h0 included. (The bias
 * sums stay on one thread at this size; tests/test_layers.c covers the
 * passes.) */
static void large_run(int threads, float *all, size_t n_all)
{
    enum { I = 64, H = 256, T = 3, B = 64 };
    grugan_gru *gru = gru_new(I, H, 1, 0, GRUGAN_GRU_RESET_AFTER, 11);
    grugan_params *p = grugan_gru_params(gru);
    const size_t np = grugan_params_num_scalars(p);
    ref_rng rng;
    float *x, *h0, *dout, *at = all;
    size_t len[B];
    ref_rng_seed(&rng, 12);
    x = frand(&rng, B * T * I, -1, 1, NULL);
    h0 = frand(&rng, B * H, -1, 1, NULL);
    dout = frand(&rng, B * T * H, -1, 1, NULL);
    for (size_t b = 0; b < B; b++) len[b] = 1 + b % T;
    ck_assert_uint_eq(n_all, B * T * H + 2 * B * H + B * T * I + np);
    ck_assert_int_eq(grugan_gru_set(gru, GRUGAN_KEY_THREADS, threads), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_forward(gru, B, T, x, h0, len, at, at + B * T * H), GRUGAN_OK);
    at += B * T * H + B * H;
    ck_assert_int_eq(grugan_gru_backward(gru, dout, NULL, at, at + B * T * I,
                                         GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    at += B * T * I + B * H;
    grads_read_all(p, at);
    free(x);
    free(h0);
    free(dout);
    grugan_gru_free(gru);
}

START_TEST(large_gru_is_bit_identical_on_two_threads)
{
    const size_t np = 3 * 256 * (64 + 256) + 6 * 256;
    const size_t n = 64 * 3 * 256 + 2 * 64 * 256 + 64 * 3 * 64 + np;
    float *one = falloc(n), *two = falloc(n);
    size_t i = 0;
    large_run(1, one, n);
    large_run(2, two, n);
    while (i < n && memcmp(&one[i], &two[i], sizeof *one) == 0) i++;
    ck_assert_msg(i == n, "value %zu of %zu differs between 1 and 2 threads", i, n);
    free(one);
    free(two);
}
END_TEST

/* One handle reused over growing and shrinking sizes gives what fresh
 * handles give. */
START_TEST(workspace_reuse_across_sizes)
{
    const gcase big = {17, 9, 5, 7, 2, 1, GRUGAN_GRU_RESET_AFTER, 1, 1};
    const gcase small = {17, 2, 1, 7, 2, 1, GRUGAN_GRU_RESET_AFTER, 1, 1};
    fixture fb, fs;
    result rb, rs, r;
    fixture_init(&fb, &big, 90);
    fixture_init(&fs, &small, 90); /* same seed: same weights */
    result_alloc(&rb, &fb);
    result_alloc(&rs, &fs);
    run_fast(&fb, fb.gru, &rb);
    run_fast(&fs, fs.gru, &rs);
    /* small on the big handle after big, then big again */
    result_alloc(&r, &fs);
    run_fast(&fs, fb.gru, &r);
    assert_results_identical(&fs, &rs, &r, "small after big");
    result_free(&r);
    result_alloc(&r, &fb);
    run_fast(&fb, fs.gru, &r);
    assert_results_identical(&fb, &rb, &r, "big after small");
    result_free(&r);
    result_free(&rb);
    result_free(&rs);
    fixture_free(&fb);
    fixture_free(&fs);
}
END_TEST

static void read_all_params(grugan_gru *gru, float *dst, size_t total)
{
    size_t off = 0;
    for (size_t i = 0; i < grugan_params_count(grugan_gru_params(gru)); i++) {
        size_t ndim = 0, shape[GRUGAN_MAX_DIMS] = {0, 0, 0, 0}, n;
        ck_assert_int_eq(grugan_params_info(grugan_gru_params(gru), i, NULL, &ndim, shape), GRUGAN_OK);
        n = ndim == 2 ? shape[0] * shape[1] : shape[0];
        ck_assert_uint_le(off + n, total);
        ck_assert_int_eq(grugan_params_read(grugan_gru_params(gru), i, dst + off, n), GRUGAN_OK);
        off += n;
    }
    ck_assert_uint_eq(off, total);
}

START_TEST(seeded_init_is_reproducible_and_in_pytorch_bounds)
{
    const size_t Hs[3] = {1, 17, 64};
    for (size_t k = 0; k < 3; k++) {
        const size_t H = Hs[k];
        const double bound = 1.0 / sqrt((double)H);
        grugan_gru *a = gru_new(7, H, 2, 1, GRUGAN_GRU_RESET_AFTER, 42);
        grugan_gru *b = gru_new(7, H, 2, 1, GRUGAN_GRU_RESET_AFTER, 42);
        grugan_gru *c = gru_new(7, H, 2, 1, GRUGAN_GRU_RESET_AFTER, 43);
        const size_t n = grugan_params_num_scalars(grugan_gru_params(a));
        float *pa = falloc(n), *pb = falloc(n), *pc = falloc(n);
        double sum = 0, maxabs = 0;
        size_t same = 0;
        read_all_params(a, pa, n);
        read_all_params(b, pb, n);
        read_all_params(c, pc, n);
        ck_assert_mem_eq(pa, pb, n * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            if (!(fabs((double)pa[i]) <= bound))
                ck_abort_msg("H=%zu: param %zu = %g outside +-%g", H, i, (double)pa[i], bound);
            sum += pa[i];
            if (fabs((double)pa[i]) > maxabs) maxabs = fabs((double)pa[i]);
            if (pa[i] == pc[i]) same++;
        }
        /* uniform over the whole range, centred, and seed-dependent */
        ck_assert_double_gt(maxabs, 0.9 * bound);
        ck_assert_double_lt(fabs(sum / (double)n), 0.25 * bound);
        ck_assert_uint_lt(same, n / 100 + 1);
        /* fresh gradients are zero */
        for (size_t i = 0; i < grugan_params_count(grugan_gru_params(a)); i++) {
            size_t ndim = 0, shape[GRUGAN_MAX_DIMS] = {0, 0, 0, 0}, m;
            float *g;
            ck_assert_int_eq(grugan_params_info(grugan_gru_params(a), i, NULL, &ndim, shape), GRUGAN_OK);
            m = ndim == 2 ? shape[0] * shape[1] : shape[0];
            g = falloc(m);
            ck_assert_int_eq(grugan_params_grad_read(grugan_gru_params(a), i, g, m), GRUGAN_OK);
            assert_all(g, m, 0.0f, "fresh gradient");
            free(g);
        }
        free(pa);
        free(pb);
        free(pc);
        grugan_gru_free(a);
        grugan_gru_free(b);
        grugan_gru_free(c);
    }
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Parameter listing                                                         */
/* ------------------------------------------------------------------------- */

START_TEST(parameters_are_listed_as_pytorch_names_them)
{
    for (int bi = 0; bi < 2; bi++)
        for (size_t L = 1; L <= 3; L++) {
            const size_t I = 7, H = 3;
            ref_gru ref;
            grugan_gru *gru = gru_new(I, H, L, bi, GRUGAN_GRU_RESET_BEFORE, 1);
            size_t idx = 0;
            ck_assert_int_eq(ref_gru_init(&ref, I, H, L, bi, 1), 0);
            ck_assert_uint_eq(grugan_params_count(grugan_gru_params(gru)), 4 * L * (bi ? 2 : 1));
            ck_assert_uint_eq(grugan_params_num_scalars(grugan_gru_params(gru)), ref_gru_num_scalars(&ref));
            for (size_t i = 0; i < ref.num_params; i++) {
                const char *name = NULL;
                size_t ndim = 0, shape[GRUGAN_MAX_DIMS] = {0, 0, 0, 0};
                float *w = falloc(ref.numel[i]), *w2 = falloc(ref.numel[i]);
                /* same order as torch.nn.GRU's state_dict */
                ck_assert_int_eq(grugan_params_info(grugan_gru_params(gru), i, &name, &ndim, shape), GRUGAN_OK);
                ck_assert_ptr_nonnull(name);
                ck_assert_str_eq(name, ref.name[i]);
                ck_assert_uint_eq(ndim, ref.ndim[i]);
                ck_assert_uint_eq(shape[0], ref.shape[i][0]);
                if (ndim == 2) ck_assert_uint_eq(shape[1], ref.shape[i][1]);
                ck_assert_int_eq(grugan_params_info(grugan_gru_params(gru), i, NULL, NULL, NULL), GRUGAN_OK);
                ck_assert_int_eq(grugan_params_find(grugan_gru_params(gru), ref.name[i], &idx), GRUGAN_OK);
                ck_assert_uint_eq(idx, i);
                /* write then read back: the same layout */
                for (size_t e = 0; e < ref.numel[i]; e++) w[e] = (float)e * 0.25f - (float)i;
                ck_assert_int_eq(grugan_params_write(grugan_gru_params(gru), i, w, ref.numel[i]), GRUGAN_OK);
                ck_assert_int_eq(grugan_params_read(grugan_gru_params(gru), i, w2, ref.numel[i]), GRUGAN_OK);
                ck_assert_mem_eq(w, w2, ref.numel[i] * sizeof(float));
                free(w);
                free(w2);
            }
            idx = 77;
            ck_assert_int_eq(grugan_params_find(grugan_gru_params(gru), "weight_ih_l9", &idx),
                             GRUGAN_E_NOTFOUND);
            ck_assert_int_eq(grugan_params_find(grugan_gru_params(gru), "weight_ih_l0_rev", &idx),
                             GRUGAN_E_NOTFOUND);
            ck_assert_int_eq(grugan_params_find(grugan_gru_params(gru), "", &idx), GRUGAN_E_NOTFOUND);
            ck_assert_uint_eq(idx, 77);
            ck_assert_int_eq(grugan_params_info(grugan_gru_params(gru), ref.num_params, NULL, NULL, NULL),
                             GRUGAN_E_NOTFOUND);
            ck_assert_int_gt((int)strlen(grugan_params_message(grugan_gru_params(gru))), 0);
            ref_gru_free(&ref);
            grugan_gru_free(gru);
        }
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Settings                                                                  */
/* ------------------------------------------------------------------------- */

START_TEST(settings_by_key)
{
    grugan_gru *gru = gru_new(2, 3, 1, 0, 0, 1);
    double v = -1, lo = -1, hi = -1;
    ck_assert_int_eq(grugan_gru_get(gru, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(grugan_gru_get(gru, GRUGAN_KEY_CHECK_FINITE, &v), GRUGAN_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(grugan_gru_key_bounds(GRUGAN_KEY_THREADS, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 1.0 && hi == 256.0);
    ck_assert_int_eq(grugan_gru_key_bounds(GRUGAN_KEY_CHECK_FINITE, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0.0 && hi == 1.0);
    ck_assert_int_eq(grugan_gru_key_bounds(999, &lo, &hi), GRUGAN_E_INVALID);

    ck_assert_int_eq(grugan_gru_set(gru, GRUGAN_KEY_THREADS, 256), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_get(gru, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 256.0);
    EXPECT_FAIL(gru, grugan_gru_set(gru, GRUGAN_KEY_THREADS, 0), GRUGAN_E_RANGE);
    EXPECT_FAIL(gru, grugan_gru_set(gru, GRUGAN_KEY_THREADS, 257), GRUGAN_E_RANGE);
    EXPECT_FAIL(gru, grugan_gru_set(gru, GRUGAN_KEY_THREADS, -1), GRUGAN_E_RANGE);
    EXPECT_FAIL(gru, grugan_gru_set(gru, GRUGAN_KEY_THREADS, NAN), GRUGAN_E_RANGE);
    EXPECT_FAIL(gru, grugan_gru_set(gru, GRUGAN_KEY_CHECK_FINITE, 2), GRUGAN_E_RANGE);
    EXPECT_FAIL(gru, grugan_gru_set(gru, GRUGAN_KEY_CHECK_FINITE, -0.5), GRUGAN_E_RANGE);
    EXPECT_FAIL(gru, grugan_gru_set(gru, 999, 1), GRUGAN_E_INVALID);
    EXPECT_FAIL(gru, grugan_gru_set(gru, 0, 1), GRUGAN_E_INVALID);
    EXPECT_FAIL(gru, grugan_gru_get(gru, 999, &v), GRUGAN_E_INVALID);
    EXPECT_FAIL(gru, grugan_gru_get(gru, GRUGAN_KEY_THREADS, NULL), GRUGAN_E_INVALID);
    /* refused values change nothing */
    ck_assert_int_eq(grugan_gru_get(gru, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 256.0);
    ck_assert_int_eq(grugan_gru_get(gru, GRUGAN_KEY_CHECK_FINITE, &v), GRUGAN_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(grugan_gru_set(NULL, GRUGAN_KEY_THREADS, 1), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_gru_get(NULL, GRUGAN_KEY_THREADS, &v), GRUGAN_E_INVALID);
    grugan_gru_free(gru);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Failures: status, message, nothing written                                */
/* ------------------------------------------------------------------------- */

START_TEST(bad_configs_are_refused)
{
    grugan_gru_config cfg = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *gru = (grugan_gru *)&cfg; /* must be reset to NULL */
    grugan_error err;
    cfg.input_size = 3;
    cfg.hidden_size = 4;

#define EXPECT_CREATE_FAIL(config, status)                                         \
    do {                                                                           \
        gru = (grugan_gru *)&cfg;                                                  \
        memset(&err, 0, sizeof err);                                               \
        ck_assert_int_eq(grugan_gru_create(NULL, (config), &gru, &err), (status)); \
        ck_assert_ptr_null(gru);                                                   \
        ck_assert_int_eq(err.code, (status));                                      \
        ck_assert_int_gt((int)strlen(err.message), 0);                             \
    } while (0)

    EXPECT_CREATE_FAIL(NULL, GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_gru_create(NULL, &cfg, NULL, &err), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_gru_create(NULL, NULL, NULL, NULL), GRUGAN_E_INVALID);

    cfg.struct_size = 0;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_INVALID);
    cfg.struct_size = sizeof cfg + 8; /* from a newer header */
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_INVALID);
    cfg.struct_size = sizeof cfg;

    cfg.hidden_size = 0;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_SIZE);
    cfg.hidden_size = 4;
    cfg.input_size = 0;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_SIZE);
    cfg.input_size = 3;
    cfg.hidden_size = SIZE_MAX / 2;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_SIZE);
    cfg.hidden_size = 4;
    cfg.input_size = SIZE_MAX / 4;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_SIZE);
    cfg.input_size = 3;
    cfg.num_layers = SIZE_MAX / 2;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_SIZE);
    cfg.num_layers = 0;
    cfg.convention = 7;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_RANGE);
    cfg.convention = -1;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_RANGE);
    cfg.convention = GRUGAN_GRU_RESET_BEFORE;
    cfg.bidirectional = 2;
    EXPECT_CREATE_FAIL(&cfg, GRUGAN_E_RANGE);
    cfg.bidirectional = 1;
#undef EXPECT_CREATE_FAIL

    /* and a good one; num_layers 0 means 1 */
    ck_assert_int_eq(grugan_gru_create(NULL, &cfg, &gru, &err), GRUGAN_OK);
    ck_assert_int_eq(err.code, GRUGAN_OK);
    ck_assert_str_eq(err.message, "");
    ck_assert_uint_eq(grugan_params_count(grugan_gru_params(gru)), 8);
    grugan_gru_free(gru);
    grugan_gru_free(NULL);
    ck_assert_ptr_nonnull(grugan_gru_message(NULL));
    ck_assert_uint_eq(grugan_params_count(grugan_gru_params(NULL)), 0);
    ck_assert_uint_eq(grugan_params_num_scalars(grugan_gru_params(NULL)), 0);
}
END_TEST

START_TEST(bad_calls_fail_cleanly_and_write_nothing)
{
    const size_t B = 2, T = 3, I = 2, H = 3, L = 2, D = 2;
    grugan_gru *gru = gru_new(I, H, L, 1, GRUGAN_GRU_RESET_AFTER, 9);
    grugan_gru *uni = gru_new(I, H, L, 0, GRUGAN_GRU_RESET_AFTER, 9);
    float x[2 * 3 * 2], h0[4 * 2 * 3];   /* (B, T, I), (L*D, B, H) */
    float out[2 * 3 * 6], hn[4 * 2 * 3]; /* (B, T, D*H), (L*D, B, H) */
    float dout[2 * 3 * 6], dhn[4 * 2 * 3], dx[2 * 3 * 2], dh0[4 * 2 * 3];
    float w[3 * 3 * 2], w2[3 * 3 * 2]; /* weight_ih_l0 (3H, I) */
    float hs[2 * 2 * 3], xs[2 * 2];    /* step: (L, B, H), (B, I) */
    size_t lengths[2] = {3, 2};
    const size_t nout = B * T * D * H, nh = L * D * B * H;
    fill(x, B * T * I, 0.5f);
    fill(h0, nh, 0.25f);
    fill(dout, nout, 1.0f);
    fill(dhn, nh, 1.0f);

#define RESET_OUTPUTS()                \
    do {                               \
        fill(out, nout, SENTINEL);     \
        fill(hn, nh, SENTINEL);        \
        fill(dx, B * T * I, SENTINEL); \
        fill(dh0, nh, SENTINEL);       \
    } while (0)
#define ASSERT_OUTPUTS_UNTOUCHED()                \
    do {                                          \
        assert_all(out, nout, SENTINEL, "out");   \
        assert_all(hn, nh, SENTINEL, "h_n");      \
        assert_all(dx, B * T * I, SENTINEL, "dx"); \
        assert_all(dh0, nh, SENTINEL, "dh0");     \
    } while (0)
#define EXPECT_CLEAN_FAIL(call, code) \
    do {                              \
        RESET_OUTPUTS();              \
        EXPECT_FAIL(gru, call, code); \
        ASSERT_OUTPUTS_UNTOUCHED();   \
    } while (0)

    /* backward before any forward */
    EXPECT_CLEAN_FAIL(grugan_gru_backward(gru, dout, dhn, dx, dh0, GRUGAN_BACKWARD_PARAMS),
                      GRUGAN_E_STATE);
    /* a failed forward does not enable backward */
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, 0, T, x, h0, NULL, out, hn), GRUGAN_E_SIZE);
    EXPECT_CLEAN_FAIL(grugan_gru_backward(gru, dout, dhn, dx, dh0, GRUGAN_BACKWARD_PARAMS),
                      GRUGAN_E_STATE);

    /* forward */
    ck_assert_int_eq(grugan_gru_forward(NULL, B, T, x, h0, NULL, out, hn), GRUGAN_E_INVALID);
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, B, T, NULL, h0, NULL, out, hn), GRUGAN_E_INVALID);
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, B, 0, x, h0, NULL, out, hn), GRUGAN_E_SIZE);
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, SIZE_MAX / 2, T, x, h0, NULL, out, hn),
                      GRUGAN_E_SIZE);
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, B, SIZE_MAX / 2, x, h0, NULL, out, hn),
                      GRUGAN_E_SIZE);
    /* batch * steps overflows although each alone might not */
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, (SIZE_MAX >> 16) + 1, (size_t)1 << 17, x, h0,
                                         NULL, out, hn),
                      GRUGAN_E_SIZE);
    lengths[1] = 0;
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, B, T, x, h0, lengths, out, hn), GRUGAN_E_RANGE);
    lengths[1] = T + 1;
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, B, T, x, h0, lengths, out, hn), GRUGAN_E_RANGE);
    lengths[1] = 2;
    x[B * T * I - 1] = NAN;
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, B, T, x, h0, lengths, out, hn),
                      GRUGAN_E_NONFINITE);
    x[B * T * I - 1] = 0.5f;
    h0[3] = INFINITY;
    EXPECT_CLEAN_FAIL(grugan_gru_forward(gru, B, T, x, h0, lengths, out, hn),
                      GRUGAN_E_NONFINITE);
    h0[3] = 0.25f;

    /* a good forward, then bad backward calls */
    ck_assert_int_eq(grugan_gru_forward(gru, B, T, x, h0, lengths, out, hn), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_backward(NULL, dout, dhn, dx, dh0, 0), GRUGAN_E_INVALID);
    EXPECT_CLEAN_FAIL(grugan_gru_backward(gru, dout, dhn, dx, dh0, 5), GRUGAN_E_INVALID);
    dout[4] = NAN;
    EXPECT_CLEAN_FAIL(grugan_gru_backward(gru, dout, dhn, dx, dh0, GRUGAN_BACKWARD_PARAMS),
                      GRUGAN_E_NONFINITE);
    dout[4] = 1.0f;
    dhn[0] = -INFINITY;
    EXPECT_CLEAN_FAIL(grugan_gru_backward(gru, dout, dhn, dx, dh0, GRUGAN_BACKWARD_INPUT_ONLY),
                      GRUGAN_E_NONFINITE);
    dhn[0] = 1.0f;
    /* the failed calls accumulated nothing */
    ck_assert_int_eq(grugan_params_grad_read(grugan_gru_params(gru), 0, w, 3 * H * I), GRUGAN_OK);
    assert_all(w, 3 * H * I, 0.0f, "gradient after failed backward");
    ck_assert_int_eq(grugan_gru_backward(gru, dout, dhn, dx, dh0, GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);

    /* with the finiteness check off, NaN goes through */
    ck_assert_int_eq(grugan_gru_set(gru, GRUGAN_KEY_CHECK_FINITE, 0), GRUGAN_OK);
    x[0] = NAN;
    ck_assert_int_eq(grugan_gru_forward(gru, B, T, x, h0, lengths, out, hn), GRUGAN_OK);
    ck_assert(isnan(out[0]));
    x[0] = 0.5f;
    ck_assert_int_eq(grugan_gru_set(gru, GRUGAN_KEY_CHECK_FINITE, 1), GRUGAN_OK);

    /* step: bidirectional unsupported; bad arguments */
    fill(xs, B * I, 0.5f);
#define EXPECT_STEP_FAIL(handle, call, code)          \
    do {                                              \
        fill(hs, L * B * H, SENTINEL);                \
        fill(out, nout, SENTINEL);                    \
        EXPECT_FAIL(handle, call, code);              \
        assert_all(hs, L * B * H, SENTINEL, "state"); \
        assert_all(out, nout, SENTINEL, "out");       \
    } while (0)
    EXPECT_STEP_FAIL(gru, grugan_gru_step(gru, B, xs, hs, out), GRUGAN_E_UNSUPPORTED);
    EXPECT_STEP_FAIL(uni, grugan_gru_step(uni, B, NULL, hs, out), GRUGAN_E_INVALID);
    EXPECT_STEP_FAIL(uni, grugan_gru_step(uni, B, xs, NULL, out), GRUGAN_E_INVALID);
    EXPECT_STEP_FAIL(uni, grugan_gru_step(uni, 0, xs, hs, out), GRUGAN_E_SIZE);
    EXPECT_STEP_FAIL(uni, grugan_gru_step(uni, SIZE_MAX / 2, xs, hs, out), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_gru_step(NULL, B, xs, hs, out), GRUGAN_E_INVALID);
    fill(hs, L * B * H, 0.0f);
    xs[1] = NAN;
    fill(out, nout, SENTINEL);
    EXPECT_FAIL(uni, grugan_gru_step(uni, B, xs, hs, out), GRUGAN_E_NONFINITE);
    assert_all(hs, L * B * H, 0.0f, "state");
    assert_all(out, nout, SENTINEL, "out");
    xs[1] = 0.5f;
    hs[2] = NAN;
    EXPECT_FAIL(uni, grugan_gru_step(uni, B, xs, hs, out), GRUGAN_E_NONFINITE);
    assert_all(out, nout, SENTINEL, "out");
    hs[2] = 0.0f;
    /* backward is still impossible on the uni handle: step is not a forward */
    EXPECT_FAIL(uni, grugan_gru_backward(uni, dout, NULL, NULL, NULL, 0), GRUGAN_E_STATE);
#undef EXPECT_STEP_FAIL

    /* parameters: wrong count, index, NaN; nothing written */
    fill(w, 3 * H * I, SENTINEL);
    EXPECT_FAIL(gru, grugan_params_read(grugan_gru_params(gru), 0, w, 3 * H * I - 1), GRUGAN_E_SIZE);
    EXPECT_FAIL(gru, grugan_params_read(grugan_gru_params(gru), 0, w, 3 * H * I + 1), GRUGAN_E_SIZE);
    EXPECT_FAIL(gru, grugan_params_grad_read(grugan_gru_params(gru), 0, w, 3 * H * I + 1), GRUGAN_E_SIZE);
    EXPECT_FAIL(gru, grugan_params_read(grugan_gru_params(gru), 0, NULL, 3 * H * I), GRUGAN_E_INVALID);
    EXPECT_FAIL(gru, grugan_params_read(grugan_gru_params(gru), 16, w, 3 * H * I), GRUGAN_E_NOTFOUND);
    EXPECT_FAIL(gru, grugan_params_grad_read(grugan_gru_params(gru), 16, w, 3 * H * I), GRUGAN_E_NOTFOUND);
    assert_all(w, 3 * H * I, SENTINEL, "read buffer");
    ck_assert_int_eq(grugan_params_read(grugan_gru_params(gru), 0, w2, 3 * H * I), GRUGAN_OK);
    fill(w, 3 * H * I, 0.125f);
    EXPECT_FAIL(gru, grugan_params_write(grugan_gru_params(gru), 0, w, 3 * H * I - 1), GRUGAN_E_SIZE);
    EXPECT_FAIL(gru, grugan_params_write(grugan_gru_params(gru), 16, w, 3 * H * I), GRUGAN_E_NOTFOUND);
    EXPECT_FAIL(gru, grugan_params_write(grugan_gru_params(gru), 0, NULL, 3 * H * I), GRUGAN_E_INVALID);
    w[3 * H * I - 1] = NAN;
    EXPECT_FAIL(gru, grugan_params_write(grugan_gru_params(gru), 0, w, 3 * H * I), GRUGAN_E_NONFINITE);
    ck_assert_int_eq(grugan_params_read(grugan_gru_params(gru), 0, w, 3 * H * I), GRUGAN_OK);
    ck_assert_mem_eq(w, w2, sizeof w);
    EXPECT_FAIL(gru, grugan_params_find(grugan_gru_params(gru), NULL, NULL), GRUGAN_E_INVALID);
    EXPECT_FAIL(gru, grugan_params_find(grugan_gru_params(gru), "bias_ih_l0", NULL), GRUGAN_E_INVALID);

    /* others */
    EXPECT_FAIL(gru, grugan_gru_reserve(gru, 0, T), GRUGAN_E_SIZE);
    EXPECT_FAIL(gru, grugan_gru_reserve(gru, B, 0), GRUGAN_E_SIZE);
    EXPECT_FAIL(gru, grugan_gru_reserve(gru, SIZE_MAX / 2, SIZE_MAX / 2), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_gru_reserve(NULL, B, T), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_params_zero_grad(grugan_gru_params(NULL)), GRUGAN_E_INVALID);

    /* the handle still works after all that */
    ck_assert_int_eq(grugan_gru_forward(gru, B, T, x, h0, lengths, out, hn), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_backward(gru, dout, dhn, dx, dh0, GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
#undef RESET_OUTPUTS
#undef ASSERT_OUTPUTS_UNTOUCHED
#undef EXPECT_CLEAN_FAIL
    grugan_gru_free(gru);
    grugan_gru_free(uni);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Allocation through the context                                            */
/* ------------------------------------------------------------------------- */

START_TEST(the_context_allocator_is_used_and_reserve_suffices)
{
    const gcase c = {17, 9, 5, 7, 2, 0, GRUGAN_GRU_RESET_AFTER, 1, 1};
    counting_alloc counts;
    grugan_context *ctx = counting_context(&counts);
    grugan_gru_config cfg = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *gru = NULL;
    fixture f;
    result r;
    float *hs, *o;
    size_t before, base = counts.live;
    cfg.input_size = c.I;
    cfg.hidden_size = c.H;
    cfg.num_layers = c.L;
    fixture_init(&f, &c, 3);
    result_alloc(&r, &f);
    hs = falloc(c.L * c.B * c.H);
    o = falloc(c.B * c.H);
    fill(hs, c.L * c.B * c.H, 0.0f);
    ck_assert_int_eq(grugan_gru_create(ctx, &cfg, &gru, NULL), GRUGAN_OK);
    ck_assert_uint_gt(counts.allocs, 1);
    load_weights(gru, &f.ref);
    ck_assert_int_eq(grugan_gru_reserve(gru, c.B, c.T), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_set(gru, GRUGAN_KEY_THREADS, 2), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_step(gru, c.B, f.xf, hs, o), GRUGAN_OK); /* sizes its scratch */
    before = counts.allocs;
    /* within the reserved sizes (and a step's first batch) nothing allocates */
    run_fast(&f, gru, &r);
    ck_assert_int_eq(grugan_gru_forward(gru, 1, 2, f.xf, NULL, NULL, r.out, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_backward(gru, f.doutf, NULL, r.dx, NULL, 0), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_step(gru, c.B, f.xf, hs, o), GRUGAN_OK);
    ck_assert_int_eq(grugan_gru_step(gru, 1, f.xf, hs, NULL), GRUGAN_OK);
    ck_assert_uint_eq(counts.allocs, before);
    grugan_gru_free(gru);
    ck_assert_uint_eq(counts.live, base);
    grugan_context_free(ctx);
    ck_assert_uint_eq(counts.live, 0);
    free(hs);
    free(o);
    result_free(&r);
    fixture_free(&f);
}
END_TEST

START_TEST(failed_allocations_leak_nothing)
{
    counting_alloc counts;
    grugan_context *ctx = counting_context(&counts);
    grugan_gru_config cfg = GRUGAN_GRU_CONFIG_INIT;
    const size_t base = counts.live;
    size_t k, first_ok = 0;
    float x[5 * 9 * 7], out[5 * 9 * 34], ref_out[5 * 9 * 34]; /* (B, T, I), (B, T, D*H) */
    grugan_gru *gru = NULL;
    grugan_error err;
    cfg.input_size = 7;
    cfg.hidden_size = 17;
    cfg.num_layers = 3;
    cfg.bidirectional = 1;
    cfg.convention = GRUGAN_GRU_RESET_BEFORE;
    /* creation: the k-th allocation fails, for every k until it succeeds */
    for (k = 1; k < 10000 && !first_ok; k++) {
        int st;
        gru = (grugan_gru *)&cfg;
        counts.fail_at = counts.allocs + k;
        st = grugan_gru_create(ctx, &cfg, &gru, &err);
        if (st == GRUGAN_OK) {
            first_ok = k;
            break;
        }
        ck_assert_int_eq(st, GRUGAN_E_NOMEM);
        ck_assert_int_eq(err.code, GRUGAN_E_NOMEM);
        ck_assert_int_gt((int)strlen(err.message), 0);
        ck_assert_ptr_null(gru);
        ck_assert_uint_eq(counts.live, base);
    }
    ck_assert_uint_gt(first_ok, 1); /* at least one allocation was tested */
    counts.fail_at = 0;

    /* forward growing its workspace: fails cleanly, and the GRU stays usable */
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)(i % 13) * 0.1f - 0.6f;
    {
        grugan_gru *clean = NULL;
        ck_assert_int_eq(grugan_gru_create(NULL, &cfg, &clean, NULL), GRUGAN_OK);
        ck_assert_int_eq(grugan_gru_forward(clean, 5, 9, x, NULL, NULL, ref_out, NULL),
                         GRUGAN_OK);
        grugan_gru_free(clean);
    }
    for (k = 1; k < 10000; k++) {
        const size_t live = counts.live;
        int st;
        fill(out, sizeof out / sizeof out[0], SENTINEL);
        counts.fail_at = counts.allocs + k;
        st = grugan_gru_forward(gru, 5, 9, x, NULL, NULL, out, NULL);
        counts.fail_at = 0;
        if (st == GRUGAN_OK) break;
        ck_assert_int_eq(st, GRUGAN_E_NOMEM);
        ck_assert_int_gt((int)strlen(grugan_gru_message(gru)), 0);
        assert_all(out, sizeof out / sizeof out[0], SENTINEL, "out");
        ck_assert_uint_eq(counts.live, live);
    }
    ck_assert_mem_eq(out, ref_out, sizeof out);
    grugan_gru_free(gru);
    ck_assert_uint_eq(counts.live, base);
    grugan_context_free(ctx);
    ck_assert_uint_eq(counts.live, 0);
}
END_TEST

Suite *suite_gru(void)
{
    Suite *s = suite_create("gru");
    TCase *ref = tcase_create("gru_vs_reference");
    TCase *api = tcase_create("gru_api");
    tcase_set_timeout(ref, 120);
    tcase_set_timeout(api, 60);
    tcase_add_loop_test(ref, forward_and_backward_match_reference, 0, (int)(16 * NUM_SIZES));
    tcase_add_test(ref, optional_arguments_of_backward);
    tcase_add_test(ref, input_only_and_accumulation);
    tcase_add_test(ref, step_reproduces_forward);
    tcase_add_test(api, bit_identical_across_threads_and_runs);
    tcase_add_test(api, large_gru_is_bit_identical_on_two_threads);
    tcase_add_test(api, workspace_reuse_across_sizes);
    tcase_add_test(api, seeded_init_is_reproducible_and_in_pytorch_bounds);
    tcase_add_test(api, parameters_are_listed_as_pytorch_names_them);
    tcase_add_test(api, settings_by_key);
    tcase_add_test(api, bad_configs_are_refused);
    tcase_add_test(api, bad_calls_fail_cleanly_and_write_nothing);
    tcase_add_test(api, the_context_allocator_is_used_and_reserve_suffices);
    tcase_add_test(api, failed_allocations_leak_nothing);
    suite_add_tcase(s, ref);
    suite_add_tcase(s, api);
    return s;
}
