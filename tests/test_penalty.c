/* test_penalty.c - grugan_discriminator_penalty: the CONV1D discriminator's
 * gradient penalties (squared norm for R1/R2, unit norm for WGAN-GP) against
 * torch.autograd.grad(create_graph=True) golden data (written by
 * tests/golden/make_penalty_golden.py, committed), against central
 * differences of a double-precision reference of the penalty on odd sizes,
 * thread counts, and every failure of the call. */
#include "suites.h"
#include "test_util.h"

#include "golden_io.h"
#include "grugan.h"
#include "ref_layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR GRUGAN_SOURCE_DIR "/tests/golden/"

/* ------------------------------------------------------------------------- */
/* A double-precision reference of the CONV1D discriminator's penalty         */
/* ------------------------------------------------------------------------- */

/* Sizes of a CONV1D discriminator and its batch. */
typedef struct pcfg {
    size_t F, C, T, B, L, ch, K, S;
    size_t P; /* GRUGAN_CONV_NO_PADDING for none */
    float slope;
} pcfg;

static size_t padding_of(const pcfg *c)
{
    return c->P == GRUGAN_CONV_NO_PADDING ? 0 : c->P;
}

static ref_conv1d_dims dims_of(const pcfg *c, size_t k, size_t t_in)
{
    ref_conv1d_dims d;
    d.B = 1;
    d.T = t_in;
    d.C_in = k == 0 ? c->F + c->C : c->ch;
    d.C_out = c->ch;
    d.K = c->K;
    d.S = c->S;
    d.P = padding_of(c);
    return d;
}

/*
 * The penalty scale / B * sum_b phi(g_b) computed from the math: theta is
 * the parameter block in grugan_params_read_all's order (conv.{k}.weight,
 * conv.{k}.bias, ..., head.weight, head.bias), g_b = d(w_b logit_b)/dx_b by
 * the reference backward of every layer. g (B, T, F) receives g when not
 * NULL.   x (B, T, F), cond (B, C), w (B)
 */
static double ref_penalty(const pcfg *c, const double *theta, const double *x, const double *cond,
                          const double *w, int kind, double scale, double *g)
{
    const size_t I = c->F + c->C;
    size_t t_len[65], off_w[64], off_b[64], head_w, feat;
    double *z[64], *a[65], total = 0.0;
    size_t p = 0;
    t_len[0] = c->T;
    for (size_t k = 0; k < c->L; k++) {
        ref_conv1d_dims d = dims_of(c, k, t_len[k]);
        t_len[k + 1] = ref_conv1d_out_len(&d);
        off_w[k] = p;
        p += c->ch * d.C_in * c->K;
        off_b[k] = p;
        p += c->ch;
    }
    head_w = p;
    feat = t_len[c->L] * c->ch;
    for (size_t k = 0; k <= c->L; k++)
        a[k] = dalloc(t_len[k] * (k == 0 ? I : c->ch));
    for (size_t k = 0; k < c->L; k++) z[k] = dalloc(t_len[k + 1] * c->ch);
    for (size_t b = 0; b < c->B; b++) {
        double *da = dalloc(t_len[c->L] * c->ch), sq = 0.0, norm;
        /* a_{-1} = [x, c] */
        for (size_t t = 0; t < c->T; t++)
            for (size_t i = 0; i < I; i++)
                a[0][t * I + i] = i < c->F ? x[(b * c->T + t) * c->F + i] : cond[b * c->C + i - c->F];
        for (size_t k = 0; k < c->L; k++) {
            ref_conv1d_dims d = dims_of(c, k, t_len[k]);
            ref_conv1d_forward(z[k], a[k], theta + off_w[k], theta + off_b[k], &d);
            for (size_t i = 0; i < t_len[k + 1] * c->ch; i++)
                a[k + 1][i] = ref_act(REF_ACT_LEAKY_RELU, z[k][i], c->slope);
        }
        /* d(w_b logit)/d a_{L-1}[t, ch] = w_b head[ch * T_out + t] */
        for (size_t t = 0; t < t_len[c->L]; t++)
            for (size_t o = 0; o < c->ch; o++)
                da[t * c->ch + o] = w[b] * theta[head_w + o * t_len[c->L] + t];
        for (size_t k = c->L; k-- > 0;) {
            ref_conv1d_dims d = dims_of(c, k, t_len[k]);
            double *din = dalloc(t_len[k] * d.C_in);
            for (size_t i = 0; i < t_len[k + 1] * c->ch; i++)
                da[i] *= ref_act_grad(REF_ACT_LEAKY_RELU, z[k][i], c->slope);
            ref_conv1d_backward(din, NULL, NULL, da, a[k], theta + off_w[k], &d);
            free(da);
            da = din;
        }
        for (size_t t = 0; t < c->T; t++)
            for (size_t i = 0; i < c->F; i++) {
                const double v = da[t * I + i];
                sq += v * v;
                if (g) g[(b * c->T + t) * c->F + i] = v;
            }
        free(da);
        norm = sqrt(sq);
        total += kind == GRUGAN_PENALTY_SQUARED_NORM ? sq : (norm - 1.0) * (norm - 1.0);
    }
    (void)feat;
    for (size_t k = 0; k <= c->L; k++) free(a[k]);
    for (size_t k = 0; k < c->L; k++) free(z[k]);
    return scale * total / (double)c->B;
}

static grugan_discriminator *penalty_disc(grugan_context *ctx, const pcfg *c, uint64_t seed)
{
    grugan_discriminator_config dc = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_discriminator *d = NULL;
    grugan_error err;
    dc.kind = GRUGAN_DISC_CONV1D;
    dc.input_size = c->F;
    dc.condition_size = c->C;
    dc.sequence_length = c->T;
    dc.conv_layers = c->L;
    dc.channels = c->ch;
    dc.kernel_size = c->K;
    dc.stride = c->S;
    dc.padding = c->P;
    dc.leaky_slope = c->slope;
    dc.seed = seed;
    ck_assert_msg(grugan_discriminator_create(ctx, &dc, &d, &err) == GRUGAN_OK, "%s",
                  err.message);
    return d;
}

/* Odd sizes: condition columns, padding, strides 1 and 2, an even kernel, a
 * pointwise layer. */
static const pcfg FD_CASES[] = {
    {3, 2, 9, 3, 2, 5, 3, 2, 1, 0.2f},
    {2, 0, 11, 2, 3, 3, 4, 1, GRUGAN_CONV_NO_PADDING, 0.3f},
    {1, 1, 5, 3, 1, 3, 1, 1, GRUGAN_CONV_NO_PADDING, 0.1f},
};
#define N_FD_CASES (sizeof FD_CASES / sizeof FD_CASES[0])

/* The library's value, g and parameter gradient against the reference, and
 * the reference's value against central differences in double for every
 * parameter: dP/dtheta_i = (P(theta + h e_i) - P(theta - h e_i)) / 2h. */
START_TEST(float_penalty_gradients_pass_finite_differences)
{
    const pcfg *c = &FD_CASES[_i / 2];
    const int kind = _i % 2 ? GRUGAN_PENALTY_UNIT_NORM : GRUGAN_PENALTY_SQUARED_NORM;
    const double scale = 1.7, h = 1e-6;
    grugan_discriminator *d = penalty_disc(NULL, c, 70 + (uint64_t)_i);
    grugan_params *p = grugan_discriminator_params(d);
    const size_t n = grugan_params_num_scalars(p), nx = c->B * c->T * c->F;
    ref_rng rng;
    double *xd, *cd = NULL, *wd, *theta = dalloc(n), *gd = dalloc(nx), *fd = dalloc(n);
    float *x, *cond = NULL, *w, *logits = falloc(c->B), *g = falloc(nx), *grad = falloc(n);
    float *values = falloc(n), value = 0.0f;
    double want;
    ref_rng_seed(&rng, 900 + (uint64_t)_i);
    x = frand(&rng, nx, 0.0, 1.0, &xd);
    if (c->C) cond = frand(&rng, c->B * c->C, -1.0, 1.0, &cd);
    w = frand(&rng, c->B, 0.5, 2.0, &wd);
    /* larger weights than the default initialization: norms near 1 */
    ck_assert_int_eq(grugan_params_read_all(p, values, n), GRUGAN_OK);
    for (size_t i = 0; i < n; i++) values[i] *= 2.5f;
    ck_assert_int_eq(grugan_params_write_all(p, values, n), GRUGAN_OK);
    for (size_t i = 0; i < n; i++) theta[i] = values[i];

    ck_assert_int_eq(grugan_discriminator_forward(d, c->B, c->T, x, cond, NULL, logits),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_penalty(d, kind, (float)scale, w, &value, g,
                                                  GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    grads_read_all(p, grad);
    want = ref_penalty(c, theta, xd, cd, wd, kind, (float)scale, gd);
    ck_assert_msg(fabs(value - want) <= 1e-4 * (1.0 + fabs(want)), "value %g, reference %g",
                  (double)value, want);
    assert_near(g, gd, nx, 1e-4, "g", "penalty");
    for (size_t i = 0; i < n; i++) {
        const double keep = theta[i];
        double up, down;
        theta[i] = keep + h;
        up = ref_penalty(c, theta, xd, cd, wd, kind, (float)scale, NULL);
        theta[i] = keep - h;
        down = ref_penalty(c, theta, xd, cd, wd, kind, (float)scale, NULL);
        theta[i] = keep;
        fd[i] = (up - down) / (2.0 * h);
    }
    assert_near(grad, fd, n, 2e-4, "dP/dtheta", "central differences");
    grugan_discriminator_free(d);
    free(xd), free(cd), free(wd), free(theta), free(gd), free(fd);
    free(x), free(cond), free(w), free(logits), free(g), free(grad), free(values);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Golden data from torch.autograd.grad(create_graph=True)                    */
/* ------------------------------------------------------------------------- */

static long config_long(const golden_file *gf, const char *key)
{
    long v = 0;
    ck_assert_msg(golden_config_int(gf, key, &v) == 0, "no config %s", key);
    return v;
}

static double config_ratio(const golden_file *gf, const char *key)
{
    const golden_config *c = golden_config_find(gf, key);
    ck_assert_msg(c && c->count == 2 && c->values[1] != 0, "config %s is not NUM DEN", key);
    return (double)c->values[0] / (double)c->values[1];
}

static const golden_tensor *tensor(const golden_file *gf, const char *name, size_t count)
{
    const golden_tensor *t = golden_find(gf, name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    ck_assert_msg(t->count == count, "tensor %s has %zu values, expected %zu", name, t->count,
                  count);
    return t;
}

/* got against torch's float32 want: |got - want| <= 1e-5 + 1e-4 |want|. */
static void expect_close(const float *got, const float *want, size_t n, const char *what,
                         const char *file)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-5f + 1e-4f * fabsf(want[i]),
                      "%s %s[%zu]: %.9g, torch %.9g", file, what, i, (double)got[i],
                      (double)want[i]);
}

static const char *const golden_files[] = {"penalty_a.txt", "penalty_b.txt", "penalty_c.txt"};

static void run_golden(const char *file, int threads)
{
    char path[512], msg[256];
    golden_file gf;
    pcfg c;
    grugan_discriminator *d;
    grugan_params *p;
    const golden_tensor *x, *cond = NULL, *w;
    float *logits, *g, *grad, value;
    size_t n_params;
    snprintf(path, sizeof path, "%s%s", GOLDEN_DIR, file);
    ck_assert_msg(golden_load(path, &gf, msg, sizeof msg) == 0, "%s: %s", file, msg);
    c.F = (size_t)config_long(&gf, "input_size");
    c.C = (size_t)config_long(&gf, "condition_size");
    c.T = (size_t)config_long(&gf, "steps");
    c.B = (size_t)config_long(&gf, "batch");
    c.L = (size_t)config_long(&gf, "conv_layers");
    c.ch = (size_t)config_long(&gf, "channels");
    c.K = (size_t)config_long(&gf, "kernel_size");
    c.S = (size_t)config_long(&gf, "stride");
    c.P = config_long(&gf, "padding") < 0 ? GRUGAN_CONV_NO_PADDING
                                           : (size_t)config_long(&gf, "padding");
    c.slope = (float)config_ratio(&gf, "slope");
    d = penalty_disc(NULL, &c, 1);
    ck_assert_int_eq(grugan_discriminator_set(d, GRUGAN_KEY_THREADS, threads), GRUGAN_OK);
    p = grugan_discriminator_params(d);
    n_params = grugan_params_count(p);
    /* the parameters under torch's names, '.' written '_' */
    for (size_t i = 0; i < n_params; i++) {
        const char *name;
        size_t ndim, shape[GRUGAN_MAX_DIMS], count = 1;
        char key[64];
        ck_assert_int_eq(grugan_params_info(p, i, &name, &ndim, shape), GRUGAN_OK);
        for (size_t j = 0; j < ndim; j++) count *= shape[j];
        snprintf(key, sizeof key, "%s", name);
        for (char *q = key; *q; q++)
            if (*q == '.') *q = '_';
        ck_assert_int_eq(grugan_params_write(p, i, tensor(&gf, key, count)->data, count),
                         GRUGAN_OK);
    }
    x = tensor(&gf, "x", c.B * c.T * c.F);
    if (c.C) cond = tensor(&gf, "condition", c.B * c.C);
    w = tensor(&gf, "weights", c.B);
    logits = falloc(c.B);
    g = falloc(c.B * c.T * c.F);
    grad = falloc(grugan_params_num_scalars(p));
    ck_assert_int_eq(grugan_discriminator_forward(d, c.B, c.T, x->data, cond ? cond->data : NULL,
                                                  NULL, logits),
                     GRUGAN_OK);
    expect_close(logits, tensor(&gf, "logits", c.B)->data, c.B, "logits", file);
    for (int kind = 0; kind < 2; kind++) {
        const char *tag = kind == GRUGAN_PENALTY_SQUARED_NORM ? "sq" : "unit";
        const double scale = config_ratio(&gf, kind ? "unit_scale" : "sq_scale");
        char key[64];
        ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_penalty(d, kind, (float)scale, w->data, &value, g,
                                                      GRUGAN_BACKWARD_PARAMS),
                         GRUGAN_OK);
        expect_close(g, tensor(&gf, "g", c.B * c.T * c.F)->data, c.B * c.T * c.F, "g", file);
        snprintf(key, sizeof key, "%s_value", tag);
        expect_close(&value, tensor(&gf, key, 1)->data, 1, key, file);
        for (size_t i = 0; i < n_params; i++) {
            const char *name;
            size_t ndim, shape[GRUGAN_MAX_DIMS], count = 1;
            ck_assert_int_eq(grugan_params_info(p, i, &name, &ndim, shape), GRUGAN_OK);
            for (size_t j = 0; j < ndim; j++) count *= shape[j];
            snprintf(key, sizeof key, "%s_grad_%s", tag, name);
            for (char *q = key; *q; q++)
                if (*q == '.') *q = '_';
            ck_assert_int_eq(grugan_params_grad_read(p, i, grad, count), GRUGAN_OK);
            expect_close(grad, tensor(&gf, key, count)->data, count, key, file);
        }
    }
    grugan_discriminator_free(d);
    golden_free(&gf);
    free(logits), free(g), free(grad);
}

START_TEST(penalty_matches_torch_autograd)
{
    run_golden(golden_files[_i], 1);
    run_golden(golden_files[_i], 2);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Threads, state, failures                                                  */
/* ------------------------------------------------------------------------- */

static const pcfg API_CASE = {5, 2, 24, 16, 3, 32, 5, 2, 0, 0.0f};

/* The penalty's value, g and gradients of API_CASE at `threads` threads. */
static void penalty_at(int threads, float *value, float *g, float *grad)
{
    const pcfg *c = &API_CASE;
    grugan_discriminator *d = penalty_disc(NULL, c, 5);
    grugan_params *p = grugan_discriminator_params(d);
    ref_rng rng;
    float *x, *cond, *logits = falloc(c->B);
    ref_rng_seed(&rng, 17);
    x = frand(&rng, c->B * c->T * c->F, 0.0, 1.0, NULL);
    cond = frand(&rng, c->B * c->C, 0.0, 1.0, NULL);
    ck_assert_int_eq(grugan_discriminator_set(d, GRUGAN_KEY_THREADS, threads), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_forward(d, c->B, c->T, x, cond, NULL, logits),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_penalty(d, GRUGAN_PENALTY_UNIT_NORM, 10.0f, NULL,
                                                  value, g, GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    grads_read_all(p, grad);
    grugan_discriminator_free(d);
    free(x), free(cond), free(logits);
}

START_TEST(bit_identical_for_1_and_2_threads)
{
    const pcfg *c = &API_CASE;
    grugan_discriminator *d = penalty_disc(NULL, c, 5);
    const size_t n = grugan_params_num_scalars(grugan_discriminator_params(d));
    const size_t nx = c->B * c->T * c->F;
    float v1, v2, *g1 = falloc(nx), *g2 = falloc(nx), *p1 = falloc(n), *p2 = falloc(n);
    grugan_discriminator_free(d);
    penalty_at(1, &v1, g1, p1);
    penalty_at(2, &v2, g2, p2);
    ck_assert(memcmp(&v1, &v2, sizeof v1) == 0);
    ck_assert(memcmp(g1, g2, nx * sizeof *g1) == 0);
    ck_assert(memcmp(p1, p2, n * sizeof *p1) == 0);
    free(g1), free(g2), free(p1), free(p2);
}
END_TEST

/* Input-only leaves the gradients alone; the forward is kept, so a backward
 * after a penalty gives what it gives without one. */
START_TEST(input_only_and_backward_after_penalty)
{
    const pcfg c = {2, 1, 7, 3, 2, 4, 3, 2, 1, 0.2f};
    grugan_discriminator *d = penalty_disc(NULL, &c, 9);
    grugan_params *p = grugan_discriminator_params(d);
    const size_t n = grugan_params_num_scalars(p), nx = c.B * c.T * c.F;
    ref_rng rng;
    float *x, *cond, *logits = falloc(c.B), d_logits[3] = {0.5f, -1.0f, 2.0f};
    float *before = falloc(n), *after = falloc(n), *dx1 = falloc(nx), *dx2 = falloc(nx);
    float *g1 = falloc(nx), *g2 = falloc(nx), v1, v2;
    ref_rng_seed(&rng, 3);
    x = frand(&rng, nx, 0.0, 1.0, NULL);
    cond = frand(&rng, c.B * c.C, 0.0, 1.0, NULL);
    ck_assert_int_eq(grugan_discriminator_forward(d, c.B, c.T, x, cond, NULL, logits), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_backward(d, d_logits, NULL, dx1, GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    grads_read_all(p, before);
    ck_assert_int_eq(grugan_discriminator_penalty(d, GRUGAN_PENALTY_SQUARED_NORM, 1.0f, d_logits,
                                                  &v1, g1, GRUGAN_BACKWARD_INPUT_ONLY),
                     GRUGAN_OK);
    grads_read_all(p, after);
    ck_assert(memcmp(before, after, n * sizeof *before) == 0);
    /* g with weights d_logits is the backward's d_x */
    ck_assert(memcmp(g1, dx1, nx * sizeof *g1) == 0);
    ck_assert_int_eq(grugan_discriminator_penalty(d, GRUGAN_PENALTY_SQUARED_NORM, 1.0f, d_logits,
                                                  &v2, g2, GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    ck_assert(memcmp(&v1, &v2, sizeof v1) == 0);
    ck_assert(memcmp(g1, g2, nx * sizeof *g1) == 0);
    ck_assert_int_eq(grugan_discriminator_backward(d, d_logits, NULL, dx2,
                                                   GRUGAN_BACKWARD_INPUT_ONLY),
                     GRUGAN_OK);
    ck_assert(memcmp(dx1, dx2, nx * sizeof *dx1) == 0);
    grugan_discriminator_free(d);
    free(x), free(cond), free(logits), free(before), free(after), free(dx1), free(dx2);
    free(g1), free(g2);
}
END_TEST

#define EXPECT_FAIL(d, call, want)                                                         \
    do {                                                                                   \
        ck_assert_int_eq((call), (want));                                                  \
        ck_assert_msg(grugan_discriminator_message(d)[0] != '\0', "no message after %s",   \
                      #call);                                                              \
    } while (0)

START_TEST(failures_are_refused_with_a_message)
{
    const pcfg c = {2, 0, 6, 2, 1, 3, 3, 1, 1, 0.2f};
    grugan_discriminator *d = penalty_disc(NULL, &c, 4);
    grugan_discriminator *gru = NULL;
    grugan_discriminator_config gc = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_params *p = grugan_discriminator_params(d);
    const size_t n = grugan_params_num_scalars(p);
    float x[24] = {0}, logits[2], gru_logits[12], v = 42.0f, bad[2] = {1.0f, NAN};
    float *before = falloc(n);
    float *after = falloc(n);

    EXPECT_FAIL(d, grugan_discriminator_penalty(d, 0, 1.0f, NULL, &v, NULL, 0), GRUGAN_E_STATE);
    ck_assert_int_eq(grugan_discriminator_forward(d, 2, 6, x, NULL, NULL, logits), GRUGAN_OK);
    EXPECT_FAIL(d, grugan_discriminator_penalty(d, 0, 1.0f, NULL, NULL, NULL, 0),
                GRUGAN_E_INVALID);
    EXPECT_FAIL(d, grugan_discriminator_penalty(d, 2, 1.0f, NULL, &v, NULL, 0), GRUGAN_E_INVALID);
    EXPECT_FAIL(d, grugan_discriminator_penalty(d, -1, 1.0f, NULL, &v, NULL, 0), GRUGAN_E_INVALID);
    EXPECT_FAIL(d, grugan_discriminator_penalty(d, 0, 1.0f, NULL, &v, NULL, 7), GRUGAN_E_INVALID);
    EXPECT_FAIL(d, grugan_discriminator_penalty(d, 0, -1.0f, NULL, &v, NULL, 0), GRUGAN_E_RANGE);
    EXPECT_FAIL(d, grugan_discriminator_penalty(d, 0, NAN, NULL, &v, NULL, 0), GRUGAN_E_RANGE);
    EXPECT_FAIL(d, grugan_discriminator_penalty(d, 0, INFINITY, NULL, &v, NULL, 0),
                GRUGAN_E_RANGE);
    grads_read_all(p, before);
    EXPECT_FAIL(d, grugan_discriminator_penalty(d, 0, 1.0f, bad, &v, NULL, 0), GRUGAN_E_NONFINITE);
    /* a penalty beyond the float range changes no gradient */
    {
        const float big[2] = {1e30f, 1e30f};
        EXPECT_FAIL(d, grugan_discriminator_penalty(d, 0, 1.0f, big, &v, NULL, 0),
                    GRUGAN_E_NONFINITE);
    }
    grads_read_all(p, after);
    ck_assert(memcmp(before, after, n * sizeof *before) == 0);
    ck_assert(v == 42.0f);
    ck_assert_int_eq(grugan_discriminator_penalty(NULL, 0, 1.0f, NULL, &v, NULL, 0),
                     GRUGAN_E_INVALID);

    /* the GRU kind is not supported yet */
    gc.input_size = 2;
    gc.hidden_size = 3;
    gc.num_layers = 1;
    ck_assert_int_eq(grugan_discriminator_create(NULL, &gc, &gru, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_forward(gru, 2, 6, x, NULL, NULL, gru_logits), GRUGAN_OK);
    EXPECT_FAIL(gru, grugan_discriminator_penalty(gru, 0, 1.0f, NULL, &v, NULL, 0),
                GRUGAN_E_UNSUPPORTED);
    grugan_discriminator_free(gru);
    grugan_discriminator_free(d);
    free(before), free(after);
}
END_TEST

/* The penalty allocates nothing: every allocation of a run with one happens
 * in create and forward. */
START_TEST(penalty_allocates_nothing)
{
    const pcfg c = {3, 1, 8, 4, 2, 4, 3, 2, 1, 0.2f};
    counting_alloc counts;
    grugan_context *ctx = counting_context(&counts);
    grugan_discriminator *d = penalty_disc(ctx, &c, 2);
    float x[96] = {0}, cond[4] = {0}, logits[4], v;
    size_t allocs;
    ck_assert_int_eq(grugan_discriminator_forward(d, 4, 8, x, cond, NULL, logits), GRUGAN_OK);
    allocs = counts.allocs;
    ck_assert_int_eq(grugan_discriminator_penalty(d, 1, 10.0f, NULL, &v, NULL,
                                                  GRUGAN_BACKWARD_PARAMS),
                     GRUGAN_OK);
    ck_assert_uint_eq(counts.allocs, allocs);
    grugan_discriminator_free(d);
    grugan_context_free(ctx);
    ck_assert_uint_eq(counts.live, 0);
}
END_TEST

Suite *suite_penalty(void)
{
    Suite *s = suite_create("penalty");
    TCase *ref = tcase_create("reference");
    TCase *api = tcase_create("api");
    tcase_set_timeout(ref, 60);
    tcase_add_loop_test(ref, float_penalty_gradients_pass_finite_differences, 0,
                        (int)(2 * N_FD_CASES));
    tcase_add_loop_test(ref, penalty_matches_torch_autograd, 0,
                        (int)(sizeof golden_files / sizeof golden_files[0]));
    tcase_add_test(api, bit_identical_for_1_and_2_threads);
    tcase_add_test(api, input_only_and_backward_after_penalty);
    tcase_add_test(api, failures_are_refused_with_a_message);
    tcase_add_test(api, penalty_allocates_nothing);
    suite_add_tcase(s, ref);
    suite_add_tcase(s, api);
    return s;
}
