/* test_layers.c - the dense, activation and conv1d kernels of nn/ against the
 * double references of ref_layers.c, finite differences on the references,
 * accumulation and input-only semantics, extreme inputs, thread counts. */
#include "suites.h"

#include "core/parallel.h"
#include "core/rng.h"
#include "nn/activation.h"
#include "nn/conv1d.h"
#include "nn/fastmath.h"
#include "nn/linear.h"
#include "ref_layers.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffers with guard zones ------------------------------------------- */

/* Float buffers carry GUARD sentinel values on both sides, checked before
 * they are freed, so that out-of-bounds writes fail the plain build too.
 * Under AddressSanitizer the guards are left out and ASan sees every byte. */
#if defined(__SANITIZE_ADDRESS__)
#define GUARD 0
#else
#define GUARD 16
#endif
static const float GUARD_VALUE = -7777.25f;

static float *fnew(size_t n)
{
    const size_t total = n + 2 * GUARD > 0 ? n + 2 * GUARD : 1; /* exact, for ASan */
    float *base = malloc(total * sizeof *base);
    ck_assert_ptr_nonnull(base);
    for (size_t i = 0; i < total; i++) base[i] = GUARD_VALUE;
    return base + GUARD;
}

static void ffree(float *p, size_t n)
{
    if (!p) return;
#if GUARD > 0
    for (size_t i = 0; i < GUARD; i++) {
        ck_assert_msg(p[-1 - (ptrdiff_t)i] == GUARD_VALUE, "write before a buffer of %zu", n);
        ck_assert_msg(p[n + i] == GUARD_VALUE, "write after a buffer of %zu", n);
    }
#else
    (void)n;
#endif
    free(p - GUARD);
}

static double *dnew(size_t n)
{
    double *p = calloc(n + 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static float *frand(grugan__rng *rng, size_t n, float lo, float hi)
{
    float *p = fnew(n);
    grugan__rng_fill_uniform(rng, p, n, lo, hi);
    return p;
}

static float *fcopy(const float *src, size_t n)
{
    float *p = fnew(n);
    if (n) memcpy(p, src, n * sizeof *p);
    return p;
}

static void ffill(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++) p[i] = v;
}

static double *to_double(const float *src, size_t n)
{
    double *p = dnew(n);
    for (size_t i = 0; i < n; i++) p[i] = src[i];
    return p;
}

/* got[i] - base[i] (base NULL: 0) against want[i] within tol * max(1, |want|). */
static void assert_close(const float *got, const float *base, const double *want, size_t n,
                         double tol, const char *what, const char *where)
{
    for (size_t i = 0; i < n; i++) {
        const double g = (double)got[i] - (base ? (double)base[i] : 0.0);
        const double scale = fabs(want[i]) > 1.0 ? fabs(want[i]) : 1.0;
        ck_assert_msg(isfinite(g) && fabs(g - want[i]) <= tol * scale,
                      "%s[%zu] = %.9g, want %.9g (%s)", what, i, g, want[i], where);
    }
}

/* ---- dense layer ---------------------------------------------------------- */

/* W[i] = got[i] - base[i] in double: an accumulated gradient's increment. */
static void diff_d(double *W, const float *got, const float *base, size_t n)
{
    for (size_t i = 0; i < n; i++) W[i] = (double)got[i] - (double)base[i];
}

static void check_linear(size_t N, size_t in, size_t out, int with_bias, int threads,
                         uint64_t seed)
{
    char where[96];
    grugan__rng rng;
    float *x, *W, *b, *dy, *y, *dx, *dx0, *dW, *dW0, *db, *db0;
    double *xd, *Wd, *bd, *dyd, *yd, *dxd, *dWd, *dbd, *dW_got;
    const double tol_f = 1e-5 * (double)(in + 1), tol_w = 1e-5 * (double)(N + 1),
                 tol_x = 1e-5 * (double)(out + 1);

    snprintf(where, sizeof where, "N %zu in %zu out %zu bias %d threads %d", N, in, out,
             with_bias, threads);
    grugan__rng_init(&rng, seed, GRUGAN__RNG_TEST);
    x = frand(&rng, N * in, -1, 1);
    W = frand(&rng, out * in, -1, 1);
    b = with_bias ? frand(&rng, out, -1, 1) : NULL;
    dy = frand(&rng, N * out, -1, 1);
    dx0 = frand(&rng, N * in, -1, 1);
    dW0 = frand(&rng, out * in, -1, 1);
    db0 = frand(&rng, out, -1, 1);
    xd = to_double(x, N * in);
    Wd = to_double(W, out * in);
    bd = b ? to_double(b, out) : NULL;
    dyd = to_double(dy, N * out);
    yd = dnew(N * out);
    dxd = dnew(N * in);
    dWd = dnew(out * in);
    dbd = dnew(out);
    dW_got = dnew(out * in);
    ref_linear_forward(yd, xd, Wd, bd, N, in, out);
    ref_linear_backward(dxd, dWd, dbd, dyd, xd, Wd, N, in, out);

    /* forward: y overwritten without being read */
    y = fnew(N * out);
    ffill(y, N * out, NAN);
    grugan__linear_forward(y, x, W, b, N, in, out, threads);
    assert_close(y, NULL, yd, N * out, tol_f, "y", where);

    /* backward: dx overwritten (never read), dW and db accumulated */
    dx = fnew(N * in);
    ffill(dx, N * in, NAN);
    dW = fcopy(dW0, out * in);
    db = fcopy(db0, out);
    grugan__linear_backward(dx, dW, with_bias ? db : NULL, dy, x, W, N, in, out, 0, threads);
    assert_close(dx, NULL, dxd, N * in, tol_x, "dx", where);
    diff_d(dW_got, dW, dW0, out * in);
    for (size_t i = 0; i < out * in; i++)
        ck_assert_msg(fabs(dW_got[i] - dWd[i]) <= tol_w * (fabs(dWd[i]) > 1 ? fabs(dWd[i]) : 1),
                      "dW[%zu] = %.9g, want %.9g (%s)", i, dW_got[i], dWd[i], where);
    if (with_bias)
        assert_close(db, db0, dbd, out, tol_w, "db", where);
    else
        ck_assert_int_eq(memcmp(db, db0, out * sizeof *db), 0);

    /* dx accumulated */
    memcpy(dx, dx0, N * in * sizeof *dx);
    grugan__linear_backward(dx, NULL, NULL, dy, x, W, N, in, out, GRUGAN__NN_DX_ACCUMULATE,
                            threads);
    assert_close(dx, dx0, dxd, N * in, tol_x, "dx accumulated", where);

    /* input only: gradients neither read nor written, x not needed */
    memcpy(dW, dW0, out * in * sizeof *dW);
    memcpy(db, db0, out * sizeof *db);
    ffill(dx, N * in, NAN);
    grugan__linear_backward(dx, dW, db, dy, NULL, W, N, in, out, GRUGAN__NN_INPUT_ONLY,
                            threads);
    assert_close(dx, NULL, dxd, N * in, tol_x, "dx input-only", where);
    ck_assert_int_eq(memcmp(dW, dW0, out * in * sizeof *dW), 0);
    ck_assert_int_eq(memcmp(db, db0, out * sizeof *db), 0);

    /* parameters only (dx NULL, W not needed): accumulates twice = 2 * grad */
    grugan__linear_backward(NULL, dW, db, dy, x, NULL, N, in, out, 0, threads);
    grugan__linear_backward(NULL, dW, db, dy, x, NULL, N, in, out, 0, threads);
    diff_d(dW_got, dW, dW0, out * in);
    for (size_t i = 0; i < out * in; i++)
        ck_assert_msg(fabs(dW_got[i] - 2 * dWd[i]) <=
                          2 * tol_w * (fabs(dWd[i]) > 1 ? fabs(dWd[i]) : 1),
                      "2 dW[%zu] = %.9g, want %.9g (%s)", i, dW_got[i], 2 * dWd[i], where);
    for (size_t o = 0; o < out; o++) dbd[o] *= 2;
    assert_close(db, db0, dbd, out, 2 * tol_w, "2 db", where);

    ffree(x, N * in);
    ffree(W, out * in);
    ffree(b, out);
    ffree(dy, N * out);
    ffree(y, N * out);
    ffree(dx, N * in);
    ffree(dx0, N * in);
    ffree(dW, out * in);
    ffree(dW0, out * in);
    ffree(db, out);
    ffree(db0, out);
    free(xd);
    free(Wd);
    free(bd);
    free(dyd);
    free(yd);
    free(dxd);
    free(dWd);
    free(dbd);
    free(dW_got);
}

START_TEST(linear_matches_reference_on_odd_sizes)
{
    const size_t Ns[] = {1, 7}, ios[] = {1, 3, 17};
    uint64_t seed = 1;
    for (size_t a = 0; a < 2; a++)
        for (size_t i = 0; i < 3; i++)
            for (size_t o = 0; o < 3; o++)
                for (int bias = 0; bias < 2; bias++)
                    for (int threads = 1; threads <= 2; threads++)
                        check_linear(Ns[a], ios[i], ios[o], bias, threads, seed++);
    /* products large enough for BLIS and the loops to use threads */
    check_linear(700, 64, 96, 1, 2, 100);
    check_linear(2049, 37, 1, 1, 2, 101);
}
END_TEST

START_TEST(linear_degenerate_sizes)
{
    float x[6] = {1, 2, 3, 4, 5, 6}, b[3] = {0.5f, -1.0f, 2.0f}, y[6], dx[6], db[3] = {0};
    float dy[6] = {1, 1, 1, 1, 1, 1};
    /* in = 0: y = b on every row; dx has no elements; db still sums dy */
    ffill(y, 6, NAN);
    grugan__linear_forward(y, x, NULL, b, 2, 0, 3, 1);
    for (size_t n = 0; n < 2; n++)
        for (size_t o = 0; o < 3; o++) ck_assert_float_eq(y[n * 3 + o], b[o]);
    grugan__linear_backward(dx, NULL, db, dy, x, NULL, 2, 0, 3, 0, 1);
    for (size_t o = 0; o < 3; o++) ck_assert_float_eq(db[o], 2.0f);
    /* in = 0, no bias: zeros */
    ffill(y, 6, NAN);
    grugan__linear_forward(y, x, NULL, NULL, 2, 0, 3, 1);
    for (size_t i = 0; i < 6; i++) ck_assert_float_eq(y[i], 0.0f);
    /* out = 0: dx = 0 (overwrite), nothing else touched */
    ffill(dx, 6, NAN);
    grugan__linear_backward(dx, NULL, NULL, dy, x, x, 2, 3, 0, 0, 1);
    for (size_t i = 0; i < 6; i++) ck_assert_float_eq(dx[i], 0.0f);
    /* N = 0: nothing written */
    ffill(y, 6, NAN);
    grugan__linear_forward(y, x, x, b, 0, 3, 2, 1);
    for (size_t i = 0; i < 6; i++) ck_assert(isnan(y[i]));
}
END_TEST

/* L = sum(g .* y) of the reference dense layer, as a function of x, W, b. */
static double linear_loss(const double *x, const double *W, const double *b, const double *g,
                          size_t N, size_t in, size_t out)
{
    double *y = dnew(N * out), L = 0;
    ref_linear_forward(y, x, W, b, N, in, out);
    for (size_t i = 0; i < N * out; i++) L += g[i] * y[i];
    free(y);
    return L;
}

/* Central difference of loss(ctx) in *p. */
static double central(double *p, double h, double (*loss)(void *), void *ctx)
{
    const double saved = *p;
    double lp, lm;
    *p = saved + h;
    lp = loss(ctx);
    *p = saved - h;
    lm = loss(ctx);
    *p = saved;
    return (lp - lm) / (2 * h);
}

typedef struct linear_fd {
    double *x, *W, *b, *g;
    size_t N, in, out;
} linear_fd;

static double linear_fd_loss(void *ctx)
{
    const linear_fd *f = ctx;
    return linear_loss(f->x, f->W, f->b, f->g, f->N, f->in, f->out);
}

static void assert_fd(double *p, size_t n, const double *grad, double (*loss)(void *),
                      void *ctx, const char *what)
{
    const double h = 1e-5;
    for (size_t i = 0; i < n; i++) {
        const double fd = central(&p[i], h, loss, ctx);
        ck_assert_msg(fabs(fd - grad[i]) <= 1e-6 * (1 + fabs(grad[i])),
                      "%s[%zu]: finite difference %.12g, gradient %.12g", what, i, fd, grad[i]);
    }
}

START_TEST(linear_reference_passes_finite_differences)
{
    const size_t shapes[][3] = {{3, 4, 5}, {7, 3, 1}, {1, 1, 3}, {2, 17, 3}};
    grugan__rng rng;
    grugan__rng_init(&rng, 7, GRUGAN__RNG_TEST);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        linear_fd f;
        double *dx, *dW, *db;
        float *tmp;
        f.N = shapes[s][0];
        f.in = shapes[s][1];
        f.out = shapes[s][2];
        tmp = frand(&rng, f.N * f.in, -1, 1);
        f.x = to_double(tmp, f.N * f.in);
        ffree(tmp, f.N * f.in);
        tmp = frand(&rng, f.out * f.in, -1, 1);
        f.W = to_double(tmp, f.out * f.in);
        ffree(tmp, f.out * f.in);
        tmp = frand(&rng, f.out, -1, 1);
        f.b = to_double(tmp, f.out);
        ffree(tmp, f.out);
        tmp = frand(&rng, f.N * f.out, -1, 1);
        f.g = to_double(tmp, f.N * f.out);
        ffree(tmp, f.N * f.out);
        dx = dnew(f.N * f.in);
        dW = dnew(f.out * f.in);
        db = dnew(f.out);
        ref_linear_backward(dx, dW, db, f.g, f.x, f.W, f.N, f.in, f.out);
        assert_fd(f.x, f.N * f.in, dx, linear_fd_loss, &f, "dx");
        assert_fd(f.W, f.out * f.in, dW, linear_fd_loss, &f, "dW");
        assert_fd(f.b, f.out, db, linear_fd_loss, &f, "db");
        free(f.x);
        free(f.W);
        free(f.b);
        free(f.g);
        free(dx);
        free(dW);
        free(db);
    }
}
END_TEST

/* ---- activations -------------------------------------------------------- */

static const int FAST_ACT[] = {GRUGAN__ACT_IDENTITY, GRUGAN__ACT_SIGMOID, GRUGAN__ACT_TANH,
                               GRUGAN__ACT_LEAKY_RELU};
static const int REF_ACT[] = {REF_ACT_IDENTITY, REF_ACT_SIGMOID, REF_ACT_TANH,
                              REF_ACT_LEAKY_RELU};
static const char *const ACT_NAME[] = {"identity", "sigmoid", "tanh", "leaky_relu"};

static const float SPECIAL[] = {0.0f,   -0.0f,  1e-3f,  -1e-3f,  1e-30f, -1e-30f, 15.0f,
                                -15.0f, 80.0f,  -80.0f, 100.0f,  -100.0f, 1000.0f, -1000.0f,
                                88.8f,  -88.8f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX};

START_TEST(activations_match_reference)
{
    const size_t nrand = 301, nspecial = sizeof SPECIAL / sizeof SPECIAL[0],
                 n = nrand + nspecial;
    const float slopes[] = {0.01f, 0.2f, 0.0f};
    grugan__rng rng;
    float *x, *y, *yin, *dy, *dx, *dx0, *dx2;
    double *want = dnew(n), *wantd = dnew(n);
    grugan__rng_init(&rng, 11, GRUGAN__RNG_TEST);
    x = frand(&rng, n, -8, 8);
    memcpy(x + nrand, SPECIAL, nspecial * sizeof *x);
    dy = frand(&rng, n, -1, 1);
    dx0 = frand(&rng, n, -1, 1);
    y = fnew(n);
    yin = fnew(n);
    dx = fnew(n);
    dx2 = fnew(n);
    for (int a = 0; a < 4; a++)
        for (size_t s = 0; s < (a == 3 ? 3u : 1u); s++) {
            const grugan__act act = (grugan__act)FAST_ACT[a];
            const float slope = slopes[s];
            char where[64];
            snprintf(where, sizeof where, "%s slope %g", ACT_NAME[a], (double)slope);
            for (size_t i = 0; i < n; i++) {
                want[i] = ref_act(REF_ACT[a], x[i], slope);
                wantd[i] = (double)dy[i] * ref_act_grad(REF_ACT[a], x[i], slope);
            }
            /* forward, out of place and in place: the same bits */
            ffill(y, n, NAN);
            grugan__act_forward(y, x, act, slope, n, 1);
            assert_close(y, NULL, want, n, 5e-7, "y", where);
            memcpy(yin, x, n * sizeof *x);
            grugan__act_forward(yin, yin, act, slope, n, 1);
            ck_assert_int_eq(memcmp(y, yin, n * sizeof *y), 0);
            /* backward (overwrite, dx never read) against dy * f'(x) */
            ffill(dx, n, NAN);
            grugan__act_backward(dx, dy, x, y, act, slope, n, 0, 1);
            for (size_t i = 0; i < n; i++) {
                const double g = dx[i];
                /* from the float output the derivative is good to a few ulp of y */
                const double tol = 1e-6 + 4e-7 * fabs(want[i]) * fabs((double)dy[i]);
                ck_assert_msg(isfinite(g) && fabs(g - wantd[i]) <= tol,
                              "dx[%zu] (x = %g) = %.9g, want %.9g (%s)", i, (double)x[i], g,
                              wantd[i], where);
            }
            /* accumulate */
            memcpy(dx2, dx0, n * sizeof *dx2);
            grugan__act_backward(dx2, dy, x, y, act, slope, n, 1, 1);
            for (size_t i = 0; i < n; i++) ck_assert_float_eq(dx2[i], dx0[i] + dx[i]);
            /* in place: dx is dy */
            memcpy(dx2, dy, n * sizeof *dx2);
            grugan__act_backward(dx2, dx2, x, y, act, slope, n, 0, 1);
            ck_assert_int_eq(memcmp(dx2, dx, n * sizeof *dx), 0);
            /* leaky ReLU with slope >= 0 from its output: the same bits */
            if (act == GRUGAN__ACT_LEAKY_RELU) {
                grugan__leaky_relu_backward(dx2, dy, y, slope, n, 0, 1);
                ck_assert_int_eq(memcmp(dx2, dx, n * sizeof *dx), 0);
            }
        }
    ffree(x, n);
    ffree(y, n);
    ffree(yin, n);
    ffree(dy, n);
    ffree(dx, n);
    ffree(dx0, n);
    ffree(dx2, n);
    free(want);
    free(wantd);
}
END_TEST

START_TEST(activations_are_finite_at_extreme_inputs)
{
    const float xs[] = {80.0f, -80.0f, 100.0f, -100.0f, 1000.0f, -1000.0f, FLT_MAX, -FLT_MAX};
    const size_t n = sizeof xs / sizeof xs[0];
    float y[8], dx[8], ones[8];
    ffill(ones, n, 1.0f);
    for (int a = 0; a < 4; a++) {
        const grugan__act act = (grugan__act)FAST_ACT[a];
        grugan__act_forward(y, xs, act, 0.01f, n, 1);
        grugan__act_backward(dx, ones, xs, y, act, 0.01f, n, 0, 1);
        for (size_t i = 0; i < n; i++) {
            ck_assert_msg(isfinite(y[i]) && isfinite(dx[i]), "%s(%g) = %g, f' = %g",
                          ACT_NAME[a], (double)xs[i], (double)y[i], (double)dx[i]);
        }
    }
    /* exact limits */
    ck_assert_float_eq(grugan__sigmoidf(1000.0f), 1.0f);
    ck_assert_float_eq(grugan__sigmoidf(100.0f), 1.0f);
    ck_assert(grugan__sigmoidf(-1000.0f) >= 0.0f && grugan__sigmoidf(-1000.0f) < 1e-34f);
    ck_assert(grugan__sigmoidf(-100.0f) >= 0.0f && grugan__sigmoidf(-100.0f) < 1e-34f);
    ck_assert(fabs(grugan__sigmoidf(-80.0f) / (1.0 / (1.0 + exp(80.0))) - 1.0) < 1e-6);
    ck_assert_float_eq(grugan__sigmoidf(INFINITY), 1.0f);
    ck_assert(grugan__sigmoidf(-INFINITY) >= 0.0f && grugan__sigmoidf(-INFINITY) < 1e-34f);
    grugan__tanh_forward(y, xs, n, 1);
    ck_assert_float_eq(y[4], 1.0f);
    ck_assert_float_eq(y[5], -1.0f);
    grugan__leaky_relu_forward(y, xs, 0.01f, n, 1);
    ck_assert_float_eq_tol(y[5], -10.0f, 1e-5f);
    ck_assert_float_eq(y[4], 1000.0f);
}
END_TEST

typedef struct act_fd {
    int act;
    double slope, x;
} act_fd;

static double act_fd_loss(void *ctx)
{
    const act_fd *f = ctx;
    return ref_act(f->act, f->x, f->slope);
}

START_TEST(activation_reference_passes_finite_differences)
{
    grugan__rng rng;
    float xs[64];
    grugan__rng_init(&rng, 13, GRUGAN__RNG_TEST);
    grugan__rng_fill_uniform(&rng, xs, 64, -6, 6);
    for (int a = 0; a < 4; a++)
        for (size_t i = 0; i < 64; i++) {
            act_fd f;
            double fd, g;
            f.act = REF_ACT[a];
            f.slope = 0.2;
            f.x = xs[i];
            if (fabs(f.x) < 1e-3) f.x = 0.5; /* leaky ReLU has a kink at 0 */
            g = ref_act_grad(f.act, f.x, f.slope);
            fd = central(&f.x, 1e-5, act_fd_loss, &f);
            ck_assert_msg(fabs(fd - g) <= 1e-8 * (1 + fabs(g)), "%s'(%g): fd %.12g grad %.12g",
                          ACT_NAME[a], f.x, fd, g);
        }
}
END_TEST

/* ---- conv1d --------------------------------------------------------------- */

static grugan__conv1d_shape conv_shape(const ref_conv1d_dims *d)
{
    grugan__conv1d_shape s;
    s.B = d->B;
    s.T = d->T;
    s.C_in = d->C_in;
    s.C_out = d->C_out;
    s.K = d->K;
    s.S = d->S;
    s.P = d->P;
    return s;
}

static void check_conv(const ref_conv1d_dims *d, int with_bias, int threads, uint64_t seed)
{
    const grugan__conv1d_shape s = conv_shape(d);
    const size_t T_out = ref_conv1d_out_len(d);
    const size_t nx = d->B * d->T * d->C_in, ny = d->B * T_out * d->C_out,
                 nw = d->C_out * d->C_in * d->K, nb = d->C_out,
                 nscratch = grugan__conv1d_scratch_floats(&s);
    const double tol_f = 1e-5 * (double)(d->K * d->C_in + 1),
                 tol_w = 1e-5 * (double)(d->B * T_out + 1),
                 tol_x = 1e-5 * (double)(d->K * d->C_out + 1);
    char where[128];
    grugan__rng rng;
    float *x, *W, *b, *dy, *y, *dx, *dx0, *dW, *dW0, *db, *db0, *scratch;
    double *xd, *Wd, *bd, *dyd, *yd, *dxd, *dWd, *dbd, *dW_got;

    snprintf(where, sizeof where,
             "B %zu T %zu C_in %zu C_out %zu K %zu S %zu P %zu bias %d threads %d", d->B, d->T,
             d->C_in, d->C_out, d->K, d->S, d->P, with_bias, threads);
    ck_assert_msg(grugan__conv1d_out_len(&s) == T_out, "T_out (%s)", where);
    ck_assert_msg(nscratch == d->B * T_out * d->C_in * d->K, "scratch size (%s)", where);

    grugan__rng_init(&rng, seed, GRUGAN__RNG_TEST);
    x = frand(&rng, nx, -1, 1);
    W = frand(&rng, nw, -1, 1);
    b = with_bias ? frand(&rng, nb, -1, 1) : NULL;
    dy = frand(&rng, ny, -1, 1);
    dx0 = frand(&rng, nx, -1, 1);
    dW0 = frand(&rng, nw, -1, 1);
    db0 = frand(&rng, nb, -1, 1);
    scratch = fnew(nscratch);
    xd = to_double(x, nx);
    Wd = to_double(W, nw);
    bd = b ? to_double(b, nb) : NULL;
    dyd = to_double(dy, ny);
    yd = dnew(ny);
    dxd = dnew(nx);
    dWd = dnew(nw);
    dbd = dnew(nb);
    dW_got = dnew(nw);
    ref_conv1d_forward(yd, xd, Wd, bd, d);
    ref_conv1d_backward(dxd, dWd, dbd, dyd, xd, Wd, d);

    y = fnew(ny);
    ffill(y, ny, NAN);
    ffill(scratch, nscratch, NAN); /* scratch contents must not matter */
    grugan__conv1d_forward(y, scratch, x, W, b, &s, threads);
    assert_close(y, NULL, yd, ny, tol_f, "y", where);

    dx = fnew(nx);
    ffill(dx, nx, NAN);
    dW = fcopy(dW0, nw);
    db = fcopy(db0, nb);
    ffill(scratch, nscratch, NAN);
    grugan__conv1d_backward(dx, dW, with_bias ? db : NULL, scratch, dy, x, W, &s, 0, threads);
    assert_close(dx, NULL, dxd, nx, tol_x, "dx", where);
    diff_d(dW_got, dW, dW0, nw);
    for (size_t i = 0; i < nw; i++)
        ck_assert_msg(fabs(dW_got[i] - dWd[i]) <= tol_w * (fabs(dWd[i]) > 1 ? fabs(dWd[i]) : 1),
                      "dW[%zu] = %.9g, want %.9g (%s)", i, dW_got[i], dWd[i], where);
    if (with_bias)
        assert_close(db, db0, dbd, nb, tol_w, "db", where);
    else
        ck_assert_int_eq(memcmp(db, db0, nb * sizeof *db), 0);

    /* dx accumulated, parameters untouched (input only, x not needed) */
    memcpy(dx, dx0, nx * sizeof *dx);
    memcpy(dW, dW0, nw * sizeof *dW);
    memcpy(db, db0, nb * sizeof *db);
    grugan__conv1d_backward(dx, dW, db, scratch, dy, NULL, W, &s,
                            GRUGAN__NN_DX_ACCUMULATE | GRUGAN__NN_INPUT_ONLY, threads);
    assert_close(dx, dx0, dxd, nx, tol_x, "dx accumulated", where);
    ck_assert_int_eq(memcmp(dW, dW0, nw * sizeof *dW), 0);
    ck_assert_int_eq(memcmp(db, db0, nb * sizeof *db), 0);

    /* parameters only (dx NULL, W not needed), accumulated twice */
    grugan__conv1d_backward(NULL, dW, db, scratch, dy, x, NULL, &s, 0, threads);
    grugan__conv1d_backward(NULL, dW, db, scratch, dy, x, NULL, &s, 0, threads);
    diff_d(dW_got, dW, dW0, nw);
    for (size_t i = 0; i < nw; i++)
        ck_assert_msg(fabs(dW_got[i] - 2 * dWd[i]) <=
                          2 * tol_w * (fabs(dWd[i]) > 1 ? fabs(dWd[i]) : 1),
                      "2 dW[%zu] = %.9g, want %.9g (%s)", i, dW_got[i], 2 * dWd[i], where);
    for (size_t o = 0; o < nb; o++) dbd[o] *= 2;
    assert_close(db, db0, dbd, nb, 2 * tol_w, "2 db", where);

    ffree(x, nx);
    ffree(W, nw);
    ffree(b, nb);
    ffree(dy, ny);
    ffree(y, ny);
    ffree(dx, nx);
    ffree(dx0, nx);
    ffree(dW, nw);
    ffree(dW0, nw);
    ffree(db, nb);
    ffree(db0, nb);
    ffree(scratch, nscratch);
    free(xd);
    free(Wd);
    free(bd);
    free(dyd);
    free(yd);
    free(dxd);
    free(dWd);
    free(dbd);
    free(dW_got);
}

START_TEST(conv1d_output_length_and_scratch)
{
    grugan__conv1d_shape s = {2, 9, 3, 4, 3, 2, 1};
    ck_assert_uint_eq(grugan__conv1d_out_len(&s), 5); /* (9 + 2 - 3) / 2 + 1 */
    ck_assert_uint_eq(grugan__conv1d_scratch_floats(&s), 2 * 5 * 3 * 3);
    s.T = 1;
    s.K = 5;
    s.S = 1;
    s.P = 2; /* K > T, valid through the padding */
    ck_assert_uint_eq(grugan__conv1d_out_len(&s), 1);
    s.P = 1; /* T + 2P < K */
    ck_assert_uint_eq(grugan__conv1d_out_len(&s), 0);
    ck_assert_uint_eq(grugan__conv1d_scratch_floats(&s), 0);
    s.T = 4;
    s.K = 1;
    s.S = 3;
    s.P = 0;
    ck_assert_uint_eq(grugan__conv1d_out_len(&s), 2);
    s.T = SIZE_MAX / 2;
    s.B = 4;
    s.S = 1;
    ck_assert_uint_eq(grugan__conv1d_scratch_floats(&s), 0); /* overflow */
}
END_TEST

/* Every combination of the odd sizes; cases with T + 2P < K have no output
 * and are not valid. */
START_TEST(conv1d_matches_reference_on_odd_sizes)
{
    const size_t Bs[] = {1, 2}, Cs[] = {1, 3, 5}, Ks[] = {1, 2, 3, 5}, Ss[] = {1, 2, 3},
                 Ps[] = {0, 1, 2}, Ts[] = {1, 4, 9};
    uint64_t seed = 1000;
    int cases = 0;
    for (size_t ib = 0; ib < 2; ib++)
        for (size_t ci = 0; ci < 3; ci++)
            for (size_t co = 0; co < 3; co++)
                for (size_t k = 0; k < 4; k++)
                    for (size_t st = 0; st < 3; st++)
                        for (size_t p = 0; p < 3; p++)
                            for (size_t t = 0; t < 3; t++) {
                                ref_conv1d_dims d = {Bs[ib], Ts[t], Cs[ci], Cs[co],
                                                     Ks[k],  Ss[st], Ps[p]};
                                if (d.T + 2 * d.P < d.K) continue;
                                check_conv(&d, (int)(seed & 1), 1 + (int)((seed >> 1) & 1),
                                           seed);
                                seed++;
                                cases++;
                            }
    ck_assert_int_gt(cases, 1500);
}
END_TEST

START_TEST(conv1d_larger_sizes_with_threads)
{
    const ref_conv1d_dims ds[] = {
        {33, 24, 5, 64, 5, 1, 2}, /* threads in im2col, col2im, the products */
        {40, 30, 8, 16, 1, 1, 0}, /* pointwise: no im2col */
        {17, 50, 3, 1, 4, 3, 1},  /* one output channel */
    };
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) check_conv(&ds[i], 1, 2, 77 + i);
}
END_TEST

/* K = 1, S = 1, P = 0 is the dense layer over B*T rows, without scratch. */
START_TEST(conv1d_pointwise_is_dense_without_scratch)
{
    const grugan__conv1d_shape s = {3, 7, 5, 4, 1, 1, 0};
    const size_t rows = 21, nx = rows * 5, ny = rows * 4, nw = 5 * 4;
    grugan__rng rng;
    float *x, *W, *b, *dy, *y1, *y2, *dx1, *dx2, *dW1, *dW2, *db1, *db2;
    grugan__rng_init(&rng, 31, GRUGAN__RNG_TEST);
    x = frand(&rng, nx, -1, 1);
    W = frand(&rng, nw, -1, 1);
    b = frand(&rng, 4, -1, 1);
    dy = frand(&rng, ny, -1, 1);
    y1 = fnew(ny);
    y2 = fnew(ny);
    dx1 = fnew(nx);
    dx2 = fnew(nx);
    dW1 = fcopy(W, nw);
    dW2 = fcopy(W, nw);
    db1 = fcopy(b, 4);
    db2 = fcopy(b, 4);
    grugan__conv1d_forward(y1, NULL, x, W, b, &s, 1);
    grugan__linear_forward(y2, x, W, b, rows, 5, 4, 1);
    ck_assert_int_eq(memcmp(y1, y2, ny * sizeof *y1), 0);
    grugan__conv1d_backward(dx1, dW1, db1, NULL, dy, x, W, &s, 0, 1);
    grugan__linear_backward(dx2, dW2, db2, dy, x, W, rows, 5, 4, 0, 1);
    ck_assert_int_eq(memcmp(dx1, dx2, nx * sizeof *dx1), 0);
    ck_assert_int_eq(memcmp(dW1, dW2, nw * sizeof *dW1), 0);
    ck_assert_int_eq(memcmp(db1, db2, 4 * sizeof *db1), 0);
    ffree(x, nx);
    ffree(W, nw);
    ffree(b, 4);
    ffree(dy, ny);
    ffree(y1, ny);
    ffree(y2, ny);
    ffree(dx1, nx);
    ffree(dx2, nx);
    ffree(dW1, nw);
    ffree(dW2, nw);
    ffree(db1, 4);
    ffree(db2, 4);
}
END_TEST

typedef struct conv_fd {
    ref_conv1d_dims d;
    double *x, *W, *b, *g;
} conv_fd;

static double conv_fd_loss(void *ctx)
{
    const conv_fd *f = ctx;
    const size_t ny = f->d.B * ref_conv1d_out_len(&f->d) * f->d.C_out;
    double *y = dnew(ny), L = 0;
    ref_conv1d_forward(y, f->x, f->W, f->b, &f->d);
    for (size_t i = 0; i < ny; i++) L += f->g[i] * y[i];
    free(y);
    return L;
}

START_TEST(conv1d_reference_passes_finite_differences)
{
    const ref_conv1d_dims ds[] = {
        {2, 4, 3, 2, 3, 2, 1}, {1, 1, 2, 2, 3, 1, 2}, {2, 9, 1, 3, 5, 3, 2},
        {1, 5, 2, 1, 2, 1, 0}, {1, 4, 3, 2, 1, 3, 0},
    };
    grugan__rng rng;
    grugan__rng_init(&rng, 17, GRUGAN__RNG_TEST);
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        conv_fd f;
        const size_t nx = ds[i].B * ds[i].T * ds[i].C_in,
                     ny = ds[i].B * ref_conv1d_out_len(&ds[i]) * ds[i].C_out,
                     nw = ds[i].C_out * ds[i].C_in * ds[i].K;
        double *dx = dnew(nx), *dW = dnew(nw), *db = dnew(ds[i].C_out);
        float *tmp;
        f.d = ds[i];
        tmp = frand(&rng, nx, -1, 1);
        f.x = to_double(tmp, nx);
        ffree(tmp, nx);
        tmp = frand(&rng, nw, -1, 1);
        f.W = to_double(tmp, nw);
        ffree(tmp, nw);
        tmp = frand(&rng, ds[i].C_out, -1, 1);
        f.b = to_double(tmp, ds[i].C_out);
        ffree(tmp, ds[i].C_out);
        tmp = frand(&rng, ny, -1, 1);
        f.g = to_double(tmp, ny);
        ffree(tmp, ny);
        ref_conv1d_backward(dx, dW, db, f.g, f.x, f.W, &f.d);
        assert_fd(f.x, nx, dx, conv_fd_loss, &f, "conv dx");
        assert_fd(f.W, nw, dW, conv_fd_loss, &f, "conv dW");
        assert_fd(f.b, ds[i].C_out, db, conv_fd_loss, &f, "conv db");
        free(f.x);
        free(f.W);
        free(f.b);
        free(f.g);
        free(dx);
        free(dW);
        free(db);
    }
}
END_TEST

/* ---- the same bits for 1 and 2 threads ------------------------------------ */

/* Runs every kernel on sizes above the thread thresholds with `threads` and
 * writes all outputs, in order, to out (out_n floats). */
static size_t run_all(float *out, int threads)
{
    const size_t N = 26400, in = 40, o = 72, n_act = 300000;
    const grugan__conv1d_shape cs = {1460, 24, 6, 32, 5, 1, 2};
    const size_t T_out = grugan__conv1d_out_len(&cs), nx = cs.B * cs.T * cs.C_in,
                 ny = cs.B * T_out * cs.C_out, nw = cs.C_out * cs.C_in * cs.K;
    const size_t nscratch = grugan__conv1d_scratch_floats(&cs);
    grugan__rng rng;
    size_t at = 0;
    float *x = fnew(N * in), *W = fnew(o * in), *b = fnew(o), *dy = fnew(N * o);
    float *scratch = fnew(nscratch);
    grugan__rng_init(&rng, 23, GRUGAN__RNG_TEST);
    grugan__rng_fill_uniform(&rng, x, N * in, -1, 1);
    grugan__rng_fill_uniform(&rng, W, o * in, -1, 1);
    grugan__rng_fill_uniform(&rng, b, o, -1, 1);
    grugan__rng_fill_uniform(&rng, dy, N * o, -1, 1);

    /* dense, out = 72 and out = 1 */
    for (size_t pass = 0; pass < 2; pass++) {
        const size_t oo = pass == 0 ? o : 1;
        float *y = out + at, *dx, *dW, *db;
        grugan__linear_forward(y, x, W, b, N, in, oo, threads);
        at += N * oo;
        dx = out + at;
        at += N * in;
        dW = out + at;
        at += in * oo;
        db = out + at;
        at += oo;
        memset(dW, 0, (in * oo + oo) * sizeof *dW);
        grugan__linear_backward(dx, dW, db, dy, x, W, N, in, oo, 0, threads);
        grugan__linear_backward(dx, dW, db, dy, x, W, N, in, oo, GRUGAN__NN_DX_ACCUMULATE,
                                threads);
    }
    /* activations */
    for (int a = 0; a < 4; a++) {
        float *y = out + at, *dx;
        grugan__act_forward(y, x, (grugan__act)FAST_ACT[a], 0.1f, n_act, threads);
        at += n_act;
        dx = out + at;
        at += n_act;
        memcpy(dx, dy, n_act * sizeof *dx);
        grugan__act_backward(dx, dy, x, y, (grugan__act)FAST_ACT[a], 0.1f, n_act, 1, threads);
    }
    /* conv1d */
    {
        float *y = out + at, *dx, *dW, *db;
        at += ny;
        dx = out + at;
        at += nx;
        dW = out + at;
        at += nw;
        db = out + at;
        at += cs.C_out;
        grugan__conv1d_forward(y, scratch, x, W, b, &cs, threads);
        memset(dW, 0, (nw + cs.C_out) * sizeof *dW);
        grugan__conv1d_backward(dx, dW, db, scratch, dy, x, W, &cs, 0, threads);
    }
    ffree(x, N * in);
    ffree(W, o * in);
    ffree(b, o);
    ffree(dy, N * o);
    ffree(scratch, nscratch);
    return at;
}

START_TEST(kernels_are_bit_identical_for_1_and_2_threads)
{
    const size_t cap = 1u << 23;
    float *one = fnew(cap), *two = fnew(cap);
    size_t n1, n2, i = 0;
    /* run_all's sizes reach the thresholds of core/parallel.h, so that the
     * second thread really works: the smallest pass (linear's 26400 x 40
     * inputs, the conv1d's im2col of 1460 x 24 x 6 x 5 values), the
     * activations, the products */
    ck_assert_uint_ge((size_t)26400 * 40, GRUGAN__PAR_MIN_PASS);
    ck_assert_uint_ge((size_t)1460 * 24 * 6 * 5, GRUGAN__PAR_MIN_PASS);
    ck_assert_uint_ge((size_t)300000, GRUGAN__PAR_MIN_PASS / 4);
    ck_assert((double)26400 * 40 * 72 >= GRUGAN__PAR_MIN_PRODUCT);
    n1 = run_all(one, 1);
    n2 = run_all(two, 2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_uint_le(n1, cap);
    while (i < n1 && memcmp(&one[i], &two[i], sizeof *one) == 0) i++;
    ck_assert_msg(i == n1, "value %zu: %.9g with 1 thread, %.9g with 2", i,
                  i < n1 ? (double)one[i] : 0.0, i < n1 ? (double)two[i] : 0.0);
    ffree(one, cap);
    ffree(two, cap);
}
END_TEST

Suite *suite_layers(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, linear_matches_reference_on_odd_sizes);
    tcase_add_test(tc, linear_degenerate_sizes);
    tcase_add_test(tc, linear_reference_passes_finite_differences);
    tcase_add_test(tc, activations_match_reference);
    tcase_add_test(tc, activations_are_finite_at_extreme_inputs);
    tcase_add_test(tc, activation_reference_passes_finite_differences);
    tcase_add_test(tc, conv1d_output_length_and_scratch);
    tcase_add_test(tc, conv1d_matches_reference_on_odd_sizes);
    tcase_add_test(tc, conv1d_larger_sizes_with_threads);
    tcase_add_test(tc, conv1d_pointwise_is_dense_without_scratch);
    tcase_add_test(tc, conv1d_reference_passes_finite_differences);
    tcase_add_test(tc, kernels_are_bit_identical_for_1_and_2_threads);
    suite_add_tcase(s, tc);
    return s;
}
