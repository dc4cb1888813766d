/* test_generator.c - grugan_generator_*: forward and gradients against a
 * double-precision reference built from ref_gru and ref_layers, central
 * differences on the reference and on the float model, noise addressing,
 * sampling and streaming, thread counts, parameters, failures, allocation. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"
#include "ref_gru.h"
#include "ref_layers.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static const float SENTINEL = -12345.5f;

#define EXPECT_FAIL(gen, call, code)                                                         \
    do {                                                                                     \
        ck_assert_int_eq((call), (code));                                                    \
        ck_assert_msg(grugan_generator_message(gen)[0] != '\0', "no message after %s", #call); \
    } while (0)

/* ------------------------------------------------------------------------- */
/* A configuration and its float model                                       */
/* ------------------------------------------------------------------------- */

typedef struct gcfg {
    size_t Z, C, V, H, L, F;
    int act, conv, noise;
    size_t B, T;
} gcfg;

static grugan_generator *gen_new_ctx(grugan_context *ctx, const gcfg *c, uint64_t seed)
{
    grugan_generator_config cfg = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *gen = NULL;
    grugan_error err;
    cfg.noise_size = c->Z;
    cfg.output_size = c->F;
    cfg.hidden_size = c->H;
    cfg.num_layers = c->L;
    cfg.condition_size = c->C;
    cfg.covariate_size = c->V;
    cfg.noise_kind = c->noise;
    cfg.output_activation = c->act;
    cfg.convention = c->conv;
    cfg.seed = seed;
    ck_assert_msg(grugan_generator_create(ctx, &cfg, &gen, &err) == GRUGAN_OK, "create: %s",
                  err.message);
    return gen;
}

static grugan_generator *gen_new(const gcfg *c, uint64_t seed)
{
    return gen_new_ctx(NULL, c, seed);
}

static size_t tensor_index(grugan_params *p, const char *name)
{
    size_t idx = 0;
    ck_assert_msg(grugan_params_find(p, name, &idx) == GRUGAN_OK, "no tensor %s", name);
    return idx;
}

static size_t tensor_numel(grugan_params *p, size_t idx)
{
    size_t ndim, shape[GRUGAN_MAX_DIMS], n = 1;
    ck_assert_int_eq(grugan_params_info(p, idx, NULL, &ndim, shape), GRUGAN_OK);
    for (size_t i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

/* ------------------------------------------------------------------------- */
/* The double-precision reference generator                                  */
/* ------------------------------------------------------------------------- */

typedef struct ref_gen {
    gcfg c;
    size_t I;
    ref_gru gru;
    double *W, *b;   /* head (F, H), (F) */
    double *dW, *db; /* their gradients (overwritten by ref_gen_run) */
    int act;         /* REF_ACT_* */
} ref_gen;

static int ref_act_of(int act)
{
    switch (act) {
    case GRUGAN_ACT_TANH: return REF_ACT_TANH;
    case GRUGAN_ACT_IDENTITY: return REF_ACT_IDENTITY;
    case GRUGAN_ACT_LEAKY_RELU: return REF_ACT_LEAKY_RELU;
    default: return REF_ACT_SIGMOID;
    }
}

#define LEAKY_SLOPE 0.01

/* A reference with the float model's parameters. */
static void ref_gen_load(ref_gen *r, const gcfg *c, grugan_generator *gen)
{
    grugan_params *p = grugan_generator_params(gen);
    float *tmp;
    memset(r, 0, sizeof *r);
    r->c = *c;
    r->I = c->Z + c->C + c->V;
    r->act = ref_act_of(c->act);
    ck_assert_int_eq(ref_gru_init(&r->gru, r->I, c->H, c->L, 0, c->conv), 0);
    for (size_t i = 0; i < r->gru.num_params; i++) {
        char name[64];
        size_t idx;
        snprintf(name, sizeof name, "gru.%s", r->gru.name[i]);
        idx = tensor_index(p, name);
        ck_assert_uint_eq(tensor_numel(p, idx), r->gru.numel[i]);
        tmp = falloc(r->gru.numel[i]);
        ck_assert_int_eq(grugan_params_read(p, idx, tmp, r->gru.numel[i]), GRUGAN_OK);
        for (size_t e = 0; e < r->gru.numel[i]; e++) r->gru.param[i][e] = tmp[e];
        free(tmp);
    }
    r->W = dalloc(c->F * c->H);
    r->b = dalloc(c->F);
    r->dW = dalloc(c->F * c->H);
    r->db = dalloc(c->F);
    tmp = falloc(c->F * c->H);
    ck_assert_int_eq(grugan_params_read(p, tensor_index(p, "head.weight"), tmp, c->F * c->H),
                     GRUGAN_OK);
    for (size_t e = 0; e < c->F * c->H; e++) r->W[e] = tmp[e];
    ck_assert_int_eq(grugan_params_read(p, tensor_index(p, "head.bias"), tmp, c->F), GRUGAN_OK);
    for (size_t e = 0; e < c->F; e++) r->b[e] = tmp[e];
    free(tmp);
}

static void ref_gen_free(ref_gen *r)
{
    ref_gru_free(&r->gru);
    free(r->W);
    free(r->b);
    free(r->dW);
    free(r->db);
}

/* out (B, T, F) of the reference; with g (B, T, F) also the gradients of
 * sum(g * out): GRU gradients in r->gru.grad, head in r->dW, r->db. */
static void ref_gen_run(ref_gen *r, size_t B, size_t T, const double *z, const double *cond,
                        const double *cov, double *out, const double *g)
{
    const gcfg *c = &r->c;
    const size_t I = r->I, rows = B * T;
    double *x = dalloc(rows * I), *hs = dalloc(rows * c->H), *pre = dalloc(rows * c->F);
    ref_gru_tape tape;
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++) {
            const size_t row = b * T + t;
            double *xi = x + row * I;
            for (size_t k = 0; k < c->Z; k++) xi[k] = z[row * c->Z + k];
            for (size_t k = 0; k < c->C; k++) xi[c->Z + k] = cond[b * c->C + k];
            for (size_t k = 0; k < c->V; k++) xi[c->Z + c->C + k] = cov[row * c->V + k];
        }
    ck_assert_int_eq(ref_gru_forward(&r->gru, B, T, x, NULL, NULL, hs, NULL, g ? &tape : NULL),
                     0);
    ref_linear_forward(pre, hs, r->W, r->b, rows, c->H, c->F);
    for (size_t i = 0; i < rows * c->F; i++) out[i] = ref_act(r->act, pre[i], LEAKY_SLOPE);
    if (g) {
        double *da = dalloc(rows * c->F), *dh = dalloc(rows * c->H);
        for (size_t i = 0; i < rows * c->F; i++)
            da[i] = g[i] * ref_act_grad(r->act, pre[i], LEAKY_SLOPE);
        ref_linear_backward(dh, r->dW, r->db, da, hs, r->W, rows, c->H, c->F);
        ref_gru_zero_grad(&r->gru);
        ck_assert_int_eq(ref_gru_backward(&r->gru, &tape, dh, NULL, NULL, NULL), 0);
        ref_gru_tape_free(&tape);
        free(da);
        free(dh);
    }
    free(x);
    free(hs);
    free(pre);
}

/* ------------------------------------------------------------------------- */
/* A case: configuration, model, reference, data                             */
/* ------------------------------------------------------------------------- */

typedef struct fixture {
    gcfg c;
    grugan_generator *gen;
    ref_gen ref;
    size_t nz, nc, nv, nout;
    float *z, *cond, *cov, *g; /* (B, T, Z), (B, C), (B, T, V), (B, T, F) */
    double *zd, *condd, *covd, *gd;
    char where[200];
} fixture;

static void fixture_init(fixture *f, const gcfg *c, uint64_t seed)
{
    ref_rng rng;
    memset(f, 0, sizeof *f);
    f->c = *c;
    snprintf(f->where, sizeof f->where,
             "Z=%zu C=%zu V=%zu H=%zu L=%zu F=%zu act=%d convention=%d noise=%d B=%zu T=%zu",
             c->Z, c->C, c->V, c->H, c->L, c->F, c->act, c->conv, c->noise, c->B, c->T);
    f->gen = gen_new(c, seed);
    ref_gen_load(&f->ref, c, f->gen);
    f->nz = c->B * c->T * c->Z;
    f->nc = c->B * c->C;
    f->nv = c->B * c->T * c->V;
    f->nout = c->B * c->T * c->F;
    ref_rng_seed(&rng, seed + 100);
    f->z = frand(&rng, f->nz, -1.5, 1.5, &f->zd);
    f->cond = frand(&rng, f->nc, -1, 1, &f->condd);
    f->cov = frand(&rng, f->nv, -1, 1, &f->covd);
    f->g = frand(&rng, f->nout, -1, 1, &f->gd);
}

static void fixture_free(fixture *f)
{
    grugan_generator_free(f->gen);
    ref_gen_free(&f->ref);
    free(f->z);
    free(f->cond);
    free(f->cov);
    free(f->g);
    free(f->zd);
    free(f->condd);
    free(f->covd);
    free(f->gd);
}

static int fwd(fixture *f, float *out)
{
    return grugan_generator_forward(f->gen, f->c.B, f->c.T, f->z, f->c.C ? f->cond : NULL,
                                    f->c.V ? f->cov : NULL, out);
}

/* sum(g * out) of the float model, in double. */
static double float_loss(fixture *f, float *out)
{
    double L = 0;
    ck_assert_int_eq(fwd(f, out), GRUGAN_OK);
    for (size_t i = 0; i < f->nout; i++) L += f->gd[i] * (double)out[i];
    return L;
}

static double ref_loss(fixture *f, double *out)
{
    double L = 0;
    ref_gen_run(&f->ref, f->c.B, f->c.T, f->zd, f->condd, f->covd, out, NULL);
    for (size_t i = 0; i < f->nout; i++) L += f->gd[i] * out[i];
    return L;
}

/* The reference's parameter tensor called `name` and its gradient. */
static void ref_tensor(ref_gen *r, const char *name, double **param, double **grad, size_t *n)
{
    if (strcmp(name, "head.weight") == 0) {
        *param = r->W;
        *grad = r->dW;
        *n = r->c.F * r->c.H;
    } else if (strcmp(name, "head.bias") == 0) {
        *param = r->b;
        *grad = r->db;
        *n = r->c.F;
    } else {
        const int i = ref_gru_find(&r->gru, name + 4);
        ck_assert_msg(i >= 0 && strncmp(name, "gru.", 4) == 0, "unknown tensor %s", name);
        *param = r->gru.param[i];
        *grad = r->gru.grad[i];
        *n = r->gru.numel[i];
    }
}

/* Up to `most` element indices spread over a tensor of n. */
static size_t sample_indices(size_t n, size_t most, size_t *idx)
{
    size_t k = n < most ? n : most;
    for (size_t i = 0; i < k; i++) idx[i] = (i * n) / k + (n / k) / 2;
    return k;
}

/* ------------------------------------------------------------------------- */
/* Numbers against the reference; gradients against central differences     */
/* ------------------------------------------------------------------------- */

static const gcfg CASES[] = {
    /* Z  C  V  H  L  F  act                    convention               noise  B  T */
    {3, 0, 0, 5, 1, 2, GRUGAN_ACT_SIGMOID, GRUGAN_GRU_RESET_AFTER, 0, 3, 4},
    {2, 3, 0, 4, 2, 3, GRUGAN_ACT_TANH, GRUGAN_GRU_RESET_BEFORE, 1, 2, 5},
    {5, 2, 2, 6, 2, 1, GRUGAN_ACT_IDENTITY, GRUGAN_GRU_RESET_AFTER, 0, 3, 3},
    {1, 1, 3, 3, 3, 4, GRUGAN_ACT_LEAKY_RELU, GRUGAN_GRU_RESET_AFTER, 0, 2, 4},
    {4, 0, 1, 7, 1, 3, GRUGAN_ACT_DEFAULT, GRUGAN_GRU_RESET_BEFORE, 0, 1, 6},
};
#define NUM_CASES (sizeof CASES / sizeof CASES[0])

/* float against double: error / (1 + |reference|) */
#define TOL_FORWARD 3e-6
#define TOL_BACKWARD 2e-5

START_TEST(forward_and_gradients_match_reference)
{
    const gcfg *c = &CASES[_i];
    fixture f;
    grugan_params *p;
    double *want = dalloc(c->B * c->T * c->F);
    float *out;
    fixture_init(&f, c, 10 + (uint64_t)_i);
    p = grugan_generator_params(f.gen);
    out = falloc(f.nout);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(fwd(&f, out), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_backward(f.gen, f.g), GRUGAN_OK);
    ref_gen_run(&f.ref, c->B, c->T, f.zd, f.condd, f.covd, want, f.gd);
    assert_near(out, want, f.nout, TOL_FORWARD, "out", f.where);
    for (size_t i = 0; i < grugan_params_count(p); i++) {
        const char *name;
        double *param, *grad;
        size_t n;
        float *got;
        ck_assert_int_eq(grugan_params_info(p, i, &name, NULL, NULL), GRUGAN_OK);
        ref_tensor(&f.ref, name, &param, &grad, &n);
        got = falloc(n);
        ck_assert_int_eq(grugan_params_grad_read(p, i, got, n), GRUGAN_OK);
        assert_near(got, grad, n, TOL_BACKWARD, name, f.where);
        free(got);
    }
    /* a second backward for the same forward accumulates the same again */
    ck_assert_int_eq(grugan_generator_backward(f.gen, f.g), GRUGAN_OK);
    {
        const size_t idx = tensor_index(p, "head.bias");
        float *got = falloc(c->F);
        double *twice = dalloc(c->F);
        for (size_t e = 0; e < c->F; e++) twice[e] = 2 * f.ref.db[e];
        ck_assert_int_eq(grugan_params_grad_read(p, idx, got, c->F), GRUGAN_OK);
        assert_near(got, twice, c->F, 2 * TOL_BACKWARD, "2 x head.bias grad", f.where);
        free(got);
        free(twice);
    }
    free(out);
    free(want);
    fixture_free(&f);
}
END_TEST

/* The reference's gradients are those of its loss: central differences in
 * double on sampled elements of every tensor. */
START_TEST(reference_gradients_pass_finite_differences)
{
    const gcfg *c = &CASES[_i];
    fixture f;
    grugan_params *p;
    double *out = dalloc(c->B * c->T * c->F);
    fixture_init(&f, c, 20 + (uint64_t)_i);
    p = grugan_generator_params(f.gen);
    ref_gen_run(&f.ref, c->B, c->T, f.zd, f.condd, f.covd, out, f.gd);
    for (size_t i = 0; i < grugan_params_count(p); i++) {
        const char *name;
        double *param, *grad;
        size_t n, idx[8], k;
        ck_assert_int_eq(grugan_params_info(p, i, &name, NULL, NULL), GRUGAN_OK);
        ref_tensor(&f.ref, name, &param, &grad, &n);
        k = sample_indices(n, 8, idx);
        for (size_t j = 0; j < k; j++) {
            const double h = 1e-5, saved = param[idx[j]];
            double lp, lm, fd;
            param[idx[j]] = saved + h;
            lp = ref_loss(&f, out);
            param[idx[j]] = saved - h;
            lm = ref_loss(&f, out);
            param[idx[j]] = saved;
            fd = (lp - lm) / (2 * h);
            ck_assert_msg(fabs(fd - grad[idx[j]]) <= 1e-7 * (1 + fabs(fd)),
                          "%s: %s[%zu]: finite difference %.12g, gradient %.12g", f.where, name,
                          idx[j], fd, grad[idx[j]]);
        }
    }
    free(out);
    fixture_free(&f);
}
END_TEST

/* End to end on the float model itself: central differences (in double, of
 * float forwards) against its backward, sampled elements of every tensor. */
START_TEST(float_gradients_pass_finite_differences)
{
    const gcfg *c = &CASES[_i];
    fixture f;
    grugan_params *p;
    float *out;
    fixture_init(&f, c, 30 + (uint64_t)_i);
    p = grugan_generator_params(f.gen);
    out = falloc(f.nout);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(fwd(&f, out), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_backward(f.gen, f.g), GRUGAN_OK);
    for (size_t i = 0; i < grugan_params_count(p); i++) {
        const char *name;
        const size_t n = tensor_numel(p, i);
        float *val = falloc(n), *grad = falloc(n);
        size_t idx[6], k = sample_indices(n, 6, idx);
        ck_assert_int_eq(grugan_params_info(p, i, &name, NULL, NULL), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_read(p, i, val, n), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_grad_read(p, i, grad, n), GRUGAN_OK);
        for (size_t j = 0; j < k; j++) {
            const float saved = val[idx[j]], up = saved + 1e-2f, down = saved - 1e-2f;
            double lp, lm, fd;
            val[idx[j]] = up;
            ck_assert_int_eq(grugan_params_write(p, i, val, n), GRUGAN_OK);
            lp = float_loss(&f, out);
            val[idx[j]] = down;
            ck_assert_int_eq(grugan_params_write(p, i, val, n), GRUGAN_OK);
            lm = float_loss(&f, out);
            val[idx[j]] = saved;
            ck_assert_int_eq(grugan_params_write(p, i, val, n), GRUGAN_OK);
            fd = (lp - lm) / ((double)up - (double)down);
            ck_assert_msg(fabs(fd - grad[idx[j]]) <= 2e-3 + 1e-2 * fabs(fd),
                          "%s: %s[%zu]: finite difference %.9g, gradient %.9g", f.where, name,
                          idx[j], fd, (double)grad[idx[j]]);
        }
        free(val);
        free(grad);
    }
    free(out);
    fixture_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Noise, sampling, streaming                                                */
/* ------------------------------------------------------------------------- */

START_TEST(noise_depends_only_on_seed_sample_and_step)
{
    const gcfg c5 = {5, 0, 0, 4, 1, 2, 0, 0, GRUGAN_NOISE_NORMAL, 0, 0};
    gcfg c5u = c5, c5b = c5;
    grugan_generator *g, *other, *uni;
    const size_t B = 9, T = 7, Z = 5;
    const double count = (double)(B * T * Z);
    float *all = falloc(B * T * Z), *part = falloc(4 * 3 * Z), *u = falloc(B * T * Z);
    double sum = 0, sq = 0;
    c5u.noise = GRUGAN_NOISE_UNIFORM;
    c5b.H = 9;
    c5b.L = 2;
    g = gen_new(&c5, 1);
    other = gen_new(&c5b, 2); /* other weights and seed: the same noise */
    uni = gen_new(&c5u, 1);
    ck_assert_int_eq(grugan_generator_noise(g, 77, 0, B, T, all), GRUGAN_OK);
    /* samples 3..6, steps 0..2, in another batch: the same numbers */
    ck_assert_int_eq(grugan_generator_noise(g, 77, 3, 4, 3, part), GRUGAN_OK);
    for (size_t b = 0; b < 4; b++)
        ck_assert_mem_eq(part + b * 3 * Z, all + ((3 + b) * T) * Z, 3 * Z * sizeof(float));
    ck_assert_int_eq(grugan_generator_noise(other, 77, 3, 4, 3, part), GRUGAN_OK);
    for (size_t b = 0; b < 4; b++)
        ck_assert_mem_eq(part + b * 3 * Z, all + ((3 + b) * T) * Z, 3 * Z * sizeof(float));
    /* another seed: other numbers */
    ck_assert_int_eq(grugan_generator_noise(g, 78, 3, 4, 3, part), GRUGAN_OK);
    ck_assert(memcmp(part, all + 3 * T * Z, 3 * Z * sizeof(float)) != 0);
    /* roughly N(0, 1), no two values equal in a row */
    for (size_t i = 0; i < B * T * Z; i++) {
        sum += all[i];
        sq += (double)all[i] * all[i];
        ck_assert(isfinite(all[i]));
    }
    ck_assert(fabs(sum / count) < 0.3);
    ck_assert(fabs(sq / count - 1.0) < 0.4);
    for (size_t i = 1; i < B * T * Z; i++) ck_assert(all[i] != all[i - 1]);
    /* uniform: in (0, 1), mean near 1/2 */
    sum = 0;
    ck_assert_int_eq(grugan_generator_noise(uni, 77, 0, B, T, u), GRUGAN_OK);
    for (size_t i = 0; i < B * T * Z; i++) {
        ck_assert(u[i] > 0.0f && u[i] <= 1.0f);
        sum += u[i];
    }
    ck_assert(fabs(sum / count - 0.5) < 0.1);
    /* a first sample near 2^64 works; past it is refused */
    ck_assert_int_eq(grugan_generator_noise(g, 77, UINT64_MAX - 3, 4, 1, part), GRUGAN_OK);
    EXPECT_FAIL(g, grugan_generator_noise(g, 77, UINT64_MAX - 2, 4, 1, part), GRUGAN_E_RANGE);
    free(all);
    free(part);
    free(u);
    grugan_generator_free(g);
    grugan_generator_free(other);
    grugan_generator_free(uni);
}
END_TEST

/* forward(z = NULL) draws samples position .. position+B-1 of the config
 * seed's noise: the same as passing that noise. */
START_TEST(own_noise_stream_is_addressed_by_position)
{
    const gcfg c = {3, 2, 0, 5, 2, 2, 0, 0, 0, 4, 6};
    const size_t B = 4, T = 6, nout = B * T * 2;
    grugan_generator *g = gen_new(&c, 99);
    float cond[8] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f};
    float *z = falloc(B * T * 3), *a = falloc(nout), *b = falloc(nout);
    uint64_t pos = 1;
    ck_assert_int_eq(grugan_generator_noise_position(g, &pos), GRUGAN_OK);
    ck_assert_uint_eq(pos, 0);
    ck_assert_int_eq(grugan_generator_forward(g, B, T, NULL, cond, NULL, a), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_noise_position(g, &pos), GRUGAN_OK);
    ck_assert_uint_eq(pos, B);
    ck_assert_int_eq(grugan_generator_noise(g, 99, 0, B, T, z), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_forward(g, B, T, z, cond, NULL, b), GRUGAN_OK);
    ck_assert_mem_eq(a, b, nout * sizeof(float));
    ck_assert_int_eq(grugan_generator_noise_position(g, &pos), GRUGAN_OK);
    ck_assert_uint_eq(pos, B); /* caller's noise does not move the stream */
    /* the next forward draws samples B .. 2B-1 */
    ck_assert_int_eq(grugan_generator_forward(g, B, T, NULL, cond, NULL, a), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_noise(g, 99, B, B, T, z), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_forward(g, B, T, z, cond, NULL, b), GRUGAN_OK);
    ck_assert_mem_eq(a, b, nout * sizeof(float));
    /* resuming: setting the position replays the stream */
    ck_assert_int_eq(grugan_generator_set_noise_position(g, B), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_forward(g, B, T, NULL, cond, NULL, a), GRUGAN_OK);
    ck_assert_mem_eq(a, b, nout * sizeof(float));
    ck_assert_int_eq(grugan_generator_noise_position(g, &pos), GRUGAN_OK);
    ck_assert_uint_eq(pos, 2 * B);
    /* a failed forward does not move it */
    EXPECT_FAIL(g, grugan_generator_forward(g, B, T, NULL, NULL, NULL, a), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_noise_position(g, &pos), GRUGAN_OK);
    ck_assert_uint_eq(pos, 2 * B);
    ck_assert_int_eq(grugan_generator_noise_position(NULL, &pos), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_noise_position(g, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_set_noise_position(NULL, 0), GRUGAN_E_INVALID);
    free(z);
    free(a);
    free(b);
    grugan_generator_free(g);
}
END_TEST

/* sample() streams step by step in chunks: the same numbers as forward on
 * the same noise, whatever n; longer sequences extend shorter ones. */
START_TEST(sample_equals_forward_and_streams_past_training_length)
{
    const gcfg cfgs[] = {
        {3, 2, 2, 6, 2, 3, GRUGAN_ACT_SIGMOID, GRUGAN_GRU_RESET_AFTER, 0, 0, 0},
        {2, 0, 0, 5, 3, 2, GRUGAN_ACT_TANH, GRUGAN_GRU_RESET_BEFORE, 1, 0, 0},
    };
    for (size_t k = 0; k < 2; k++) {
        const gcfg *c = &cfgs[k];
        const size_t n = 300, T = 5, Tlong = 40, F = c->F, V = c->V, Z = c->Z;
        grugan_generator *g = gen_new(c, 5 + k);
        float cond[2] = {0.25f, -0.75f}, *condb = falloc(n * 2);
        float *cov = NULL, *covl = NULL, *z = falloc(n * T * Z), *fw = falloc(n * T * F);
        float *s = falloc(n * T * F), *sl = falloc(n * Tlong * F), *s7 = falloc(7 * T * F);
        float *dout = falloc(n * T * F), *state, *zt, *ct, *vt, *ot;
        grugan_params *p = grugan_generator_params(g);
        size_t np = grugan_params_num_scalars(p);
        float *g1 = falloc(np), *g2 = falloc(np);
        ref_rng rng;
        ref_rng_seed(&rng, 3);
        if (V) {
            double *tmp = dalloc(n * Tlong * V);
            ref_rng_fill(&rng, tmp, n * Tlong * V, -1, 1);
            covl = falloc(n * Tlong * V);
            cov = falloc(n * T * V);
            for (size_t i = 0; i < n * Tlong * V; i++) covl[i] = (float)tmp[i];
            /* the first T steps of each long sequence */
            for (size_t i = 0; i < n; i++)
                memcpy(cov + i * T * V, covl + i * Tlong * V, T * V * sizeof(float));
            free(tmp);
        }
        for (size_t i = 0; i < n; i++) memcpy(condb + 2 * i, cond, sizeof cond);
        for (size_t i = 0; i < n * T * F; i++) dout[i] = (float)((i % 7) - 3) * 0.1f;

        /* forward (kept for backward) on the noise of seed 42 */
        ck_assert_int_eq(grugan_generator_noise(g, 42, 0, n, T, z), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_forward(g, n, T, z, c->C ? condb : NULL, cov, fw),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_grad_read(p, 0, g1, tensor_numel(p, 0)), GRUGAN_OK);

        /* sample: n > one chunk */
        ck_assert_int_eq(grugan_generator_sample(g, 42, n, T, c->C ? cond : NULL, cov, s),
                         GRUGAN_OK);
        for (size_t i = 0; i < n * T * F; i++)
            if (memcmp(&s[i], &fw[i], sizeof(float)) != 0)
                ck_abort_msg("case %zu: sample[%zu] = %.9g, forward %.9g", k, i, (double)s[i],
                             (double)fw[i]);
        /* fewer sequences: the same first ones */
        ck_assert_int_eq(grugan_generator_sample(g, 42, 7, T, c->C ? cond : NULL, cov, s7),
                         GRUGAN_OK);
        ck_assert_mem_eq(s7, s, 7 * T * F * sizeof(float));
        /* longer than any forward: the first T steps are the short samples */
        ck_assert_int_eq(grugan_generator_sample(g, 42, n, Tlong, c->C ? cond : NULL, covl, sl),
                         GRUGAN_OK);
        for (size_t i = 0; i < n; i++)
            ck_assert_mem_eq(sl + i * Tlong * F, s + i * T * F, T * F * sizeof(float));
        for (size_t i = 0; i < n * Tlong * F; i++) ck_assert(isfinite(sl[i]));

        /* step() with a caller-held state over the same noise: the same values */
        state = falloc(grugan_generator_state_size(g, 7));
        ck_assert_uint_eq(grugan_generator_state_size(g, 7), c->L * 7 * c->H);
        fill(state, c->L * 7 * c->H, 0.0f);
        zt = falloc(7 * Z);
        ct = falloc(7 * 2);
        vt = falloc(7 * (V ? V : 1));
        ot = falloc(7 * F);
        for (size_t t = 0; t < Tlong; t++) {
            float *zz = falloc(7 * Tlong * Z);
            ck_assert_int_eq(grugan_generator_noise(g, 42, 0, 7, Tlong, zz), GRUGAN_OK);
            for (size_t b = 0; b < 7; b++) {
                memcpy(zt + b * Z, zz + (b * Tlong + t) * Z, Z * sizeof(float));
                memcpy(ct + 2 * b, cond, sizeof cond);
                if (V) memcpy(vt + b * V, covl + (b * Tlong + t) * V, V * sizeof(float));
            }
            free(zz);
            ck_assert_int_eq(grugan_generator_step(g, 7, zt, c->C ? ct : NULL, V ? vt : NULL,
                                                   state, ot),
                             GRUGAN_OK);
            for (size_t b = 0; b < 7; b++)
                ck_assert_mem_eq(ot + b * F, sl + (b * Tlong + t) * F, F * sizeof(float));
        }

        /* none of that disturbed the forward kept for backward */
        ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_grad_read(p, 0, g2, tensor_numel(p, 0)), GRUGAN_OK);
        ck_assert_mem_eq(g1, g2, tensor_numel(p, 0) * sizeof(float));

        free(condb);
        free(cov);
        free(covl);
        free(z);
        free(fw);
        free(s);
        free(sl);
        free(s7);
        free(dout);
        free(state);
        free(zt);
        free(ct);
        free(vt);
        free(ot);
        free(g1);
        free(g2);
        grugan_generator_free(g);
    }
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Threads, parameters, settings                                             */
/* ------------------------------------------------------------------------- */

/* Everything a run produces at a thread count: outputs, gradients, samples. */
static void run_threads(int threads, float *out, float *grads, float *samples)
{
    const gcfg c = {8, 3, 2, 48, 2, 6, GRUGAN_ACT_TANH, 0, 0, 64, 16};
    const size_t B = c.B, T = c.T, nout = B * T * c.F;
    grugan_generator *g = gen_new(&c, 321);
    grugan_params *p = grugan_generator_params(g);
    float *cond = falloc(B * 3), *cov = falloc(B * T * 2), *dout = falloc(nout);
    for (size_t i = 0; i < B * 3; i++) cond[i] = (float)(i % 5) * 0.2f - 0.4f;
    for (size_t i = 0; i < B * T * 2; i++) cov[i] = (float)(i % 11) * 0.1f - 0.5f;
    for (size_t i = 0; i < nout; i++) dout[i] = (float)(i % 13) * 0.05f - 0.3f;
    ck_assert_int_eq(grugan_generator_set(g, GRUGAN_KEY_THREADS, threads), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_zero_grad(p), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_forward(g, B, T, NULL, cond, cov, out), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_forward(g, B, T, NULL, cond, cov, out), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(p, grads, grugan_params_num_scalars(p)), GRUGAN_OK);
    {
        /* gradients after the values in the same buffer */
        size_t idx;
        size_t at = grugan_params_num_scalars(p);
        for (idx = 0; idx < grugan_params_count(p); idx++) {
            size_t n = tensor_numel(p, idx);
            ck_assert_int_eq(grugan_params_grad_read(p, idx, grads + at, n), GRUGAN_OK);
            at += n;
        }
    }
    ck_assert_int_eq(grugan_generator_sample(g, 8, B, T, cond, cov, samples), GRUGAN_OK);
    free(cond);
    free(cov);
    free(dout);
    grugan_generator_free(g);
}

START_TEST(bit_identical_for_1_and_2_threads)
{
    const size_t nout = 64 * 16 * 6, cap = 200000;
    float *o1 = falloc(nout), *o2 = falloc(nout), *g1 = falloc(cap), *g2 = falloc(cap);
    float *s1 = falloc(nout), *s2 = falloc(nout);
    fill(g1, cap, 0.0f);
    fill(g2, cap, 0.0f);
    run_threads(1, o1, g1, s1);
    run_threads(2, o2, g2, s2);
    ck_assert_mem_eq(o1, o2, nout * sizeof(float));
    ck_assert_mem_eq(g1, g2, cap * sizeof(float));
    ck_assert_mem_eq(s1, s2, nout * sizeof(float));
    free(o1);
    free(o2);
    free(g1);
    free(g2);
    free(s1);
    free(s2);
}
END_TEST

START_TEST(parameters_are_listed_as_documented)
{
    const gcfg c = {4, 2, 3, 5, 2, 3, 0, 0, 0, 0, 0};
    grugan_generator *g = gen_new(&c, 1);
    grugan_params *p = grugan_generator_params(g);
    const char *names[] = {"gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0",
                           "gru.bias_hh_l0",   "gru.weight_ih_l1", "gru.weight_hh_l1",
                           "gru.bias_ih_l1",   "gru.bias_hh_l1",   "head.weight",
                           "head.bias"};
    const size_t shapes[][2] = {{15, 9}, {15, 5}, {15, 0}, {15, 0}, {15, 5},
                                {15, 5}, {15, 0}, {15, 0}, {3, 5},  {3, 0}};
    size_t total = 0;
    ck_assert_uint_eq(grugan_params_count(p), 10);
    for (size_t i = 0; i < 10; i++) {
        const char *name;
        size_t ndim, shape[GRUGAN_MAX_DIMS];
        ck_assert_int_eq(grugan_params_info(p, i, &name, &ndim, shape), GRUGAN_OK);
        ck_assert_str_eq(name, names[i]);
        ck_assert_uint_eq(ndim, shapes[i][1] ? 2 : 1);
        ck_assert_uint_eq(shape[0], shapes[i][0]);
        if (ndim == 2) ck_assert_uint_eq(shape[1], shapes[i][1]);
        total += shape[0] * (ndim == 2 ? shape[1] : 1);
    }
    ck_assert_uint_eq(grugan_params_num_scalars(p), total);
    ck_assert_ptr_null(grugan_generator_params(NULL));
    grugan_generator_free(g);
}
END_TEST

/* Initialization: reproducible for a seed, within PyTorch's bounds, and each
 * tensor group from its own stream (more layers leave the head unchanged). */
START_TEST(initialization_is_seeded_and_in_pytorch_bounds)
{
    const gcfg c1 = {4, 0, 0, 9, 1, 3, 0, 0, 0, 0, 0};
    gcfg c2 = c1;
    grugan_generator *a, *b, *deeper, *other;
    grugan_params *pa, *pb, *pd, *po;
    size_t n;
    float *va, *vb;
    c2.L = 3;
    a = gen_new(&c1, 11);
    b = gen_new(&c1, 11);
    deeper = gen_new(&c2, 11);
    other = gen_new(&c1, 12);
    pa = grugan_generator_params(a);
    pb = grugan_generator_params(b);
    pd = grugan_generator_params(deeper);
    po = grugan_generator_params(other);
    n = grugan_params_num_scalars(pa);
    va = falloc(n);
    vb = falloc(n);
    ck_assert_int_eq(grugan_params_read_all(pa, va, n), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(pb, vb, n), GRUGAN_OK);
    ck_assert_mem_eq(va, vb, n * sizeof(float));
    for (size_t i = 0; i < n; i++) ck_assert(fabs(va[i]) <= 1.0 / 3.0 && va[i] != 0.0f);
    ck_assert_int_eq(grugan_params_read_all(po, vb, n), GRUGAN_OK);
    ck_assert(memcmp(va, vb, n * sizeof(float)) != 0);
    /* head and the first layer are the same in the deeper generator */
    {
        const char *same[] = {"head.weight", "head.bias", "gru.weight_ih_l0", "gru.bias_hh_l0"};
        for (size_t k = 0; k < 4; k++) {
            const size_t ia = tensor_index(pa, same[k]), id = tensor_index(pd, same[k]);
            const size_t m = tensor_numel(pa, ia);
            float *x = falloc(m), *y = falloc(m);
            ck_assert_int_eq(grugan_params_read(pa, ia, x, m), GRUGAN_OK);
            ck_assert_int_eq(grugan_params_read(pd, id, y, m), GRUGAN_OK);
            ck_assert_mem_eq(x, y, m * sizeof(float));
            free(x);
            free(y);
        }
    }
    /* the gradients start at zero */
    {
        const size_t ih = tensor_index(pa, "head.weight");
        float g[27];
        ck_assert_int_eq(grugan_params_grad_read(pa, ih, g, 27), GRUGAN_OK);
        assert_all(g, 27, 0.0f, "head.weight grad");
    }
    free(va);
    free(vb);
    grugan_generator_free(a);
    grugan_generator_free(b);
    grugan_generator_free(deeper);
    grugan_generator_free(other);
}
END_TEST

START_TEST(settings_by_key)
{
    const gcfg c = {2, 0, 0, 3, 1, 1, 0, 0, 0, 0, 0};
    grugan_generator *g = gen_new(&c, 1);
    double v = -1;
    ck_assert_int_eq(grugan_generator_get(g, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(grugan_generator_get(g, GRUGAN_KEY_CHECK_FINITE, &v), GRUGAN_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(grugan_generator_set(g, GRUGAN_KEY_THREADS, 3), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_get(g, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 3.0);
    EXPECT_FAIL(g, grugan_generator_set(g, GRUGAN_KEY_THREADS, 0), GRUGAN_E_RANGE);
    EXPECT_FAIL(g, grugan_generator_set(g, GRUGAN_KEY_THREADS, 1.5), GRUGAN_E_RANGE);
    EXPECT_FAIL(g, grugan_generator_set(g, GRUGAN_KEY_THREADS, NAN), GRUGAN_E_RANGE);
    EXPECT_FAIL(g, grugan_generator_set(g, GRUGAN_KEY_CHECK_FINITE, 2), GRUGAN_E_RANGE);
    EXPECT_FAIL(g, grugan_generator_set(g, 9999, 1), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_set(g, GRUGAN_KEY_CHECK_FINITE, 0), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_get(g, GRUGAN_KEY_CHECK_FINITE, &v), GRUGAN_OK);
    ck_assert(v == 0.0);
    ck_assert_int_eq(grugan_generator_get(g, 9999, &v), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_get(g, GRUGAN_KEY_THREADS, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_get(NULL, GRUGAN_KEY_THREADS, &v), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_set(NULL, GRUGAN_KEY_THREADS, 1), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_set(g, GRUGAN_KEY_THREADS, 3), GRUGAN_OK);
    ck_assert_str_eq(grugan_generator_message(g), ""); /* success clears the message */
    grugan_generator_free(g);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Failures                                                                  */
/* ------------------------------------------------------------------------- */

START_TEST(bad_configs_are_refused)
{
    grugan_generator_config cfg = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *g = (grugan_generator *)&cfg;
    grugan_error err;
#define EXPECT_CREATE_FAIL(want)                                                  \
    do {                                                                          \
        g = (grugan_generator *)&cfg;                                             \
        ck_assert_int_eq(grugan_generator_create(NULL, &cfg, &g, &err), (want));  \
        ck_assert_int_eq(err.code, (want));                                       \
        ck_assert_msg(err.message[0] != '\0', "no message");                      \
        ck_assert_ptr_null(g);                                                    \
    } while (0)
    cfg.output_size = 2;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE); /* noise_size 0 */
    cfg.noise_size = 3;
    cfg.output_size = 0;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE);
    cfg.output_size = 2;
    cfg.noise_kind = 2;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.noise_kind = 0;
    cfg.output_activation = 5;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.output_activation = -1;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.output_activation = 0;
    cfg.convention = 2;
    EXPECT_CREATE_FAIL(GRUGAN_E_RANGE);
    cfg.convention = 0;
    cfg.num_layers = 2000;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE);
    cfg.num_layers = 0;
    cfg.condition_size = SIZE_MAX - 1;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE); /* Z + C overflows */
    cfg.condition_size = SIZE_MAX / 8;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE); /* the parameter count overflows */
    cfg.condition_size = 0;
    cfg.hidden_size = SIZE_MAX / 4;
    EXPECT_CREATE_FAIL(GRUGAN_E_SIZE);
    cfg.hidden_size = 0;
    cfg.struct_size = 3;
    EXPECT_CREATE_FAIL(GRUGAN_E_INVALID);
    cfg.struct_size = sizeof cfg + 8;
    EXPECT_CREATE_FAIL(GRUGAN_E_INVALID);
    cfg.struct_size = sizeof cfg;
    ck_assert_int_eq(grugan_generator_create(NULL, NULL, &g, &err), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_create(NULL, &cfg, NULL, NULL), GRUGAN_E_INVALID);
    /* defaults: H 24, L 3 */
    ck_assert_int_eq(grugan_generator_create(NULL, &cfg, &g, NULL), GRUGAN_OK);
    ck_assert_uint_eq(grugan_generator_state_size(g, 2), 3 * 2 * 24);
    ck_assert_uint_eq(grugan_generator_state_size(g, SIZE_MAX / 4), 0);
    ck_assert_uint_eq(grugan_generator_state_size(NULL, 2), 0);
    grugan_generator_free(g);
    grugan_generator_free(NULL);
#undef EXPECT_CREATE_FAIL
}
END_TEST

START_TEST(bad_calls_fail_cleanly_and_write_nothing)
{
    const gcfg c = {2, 2, 1, 4, 2, 3, 0, 0, 0, 0, 0};
    enum { B = 2, T = 3 };
    grugan_generator *g = gen_new(&c, 4);
    grugan_gru_config gc = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *gru = NULL;
    float z[B * T * 2], cond[B * 2], cov[B * T * 1], out[B * T * 3], dout[B * T * 3];
    float state[2 * B * 4], zt[B * 2], ct[B * 2], vt[B];
    fill(z, B * T * 2, 0.5f);
    fill(cond, B * 2, 0.1f);
    fill(cov, B * T, -0.2f);
    fill(dout, B * T * 3, 1.0f);
    fill(state, 2 * B * 4, 0.0f);
    fill(zt, B * 2, 0.3f);
    fill(ct, B * 2, 0.3f);
    fill(vt, B, 0.3f);
    gc.input_size = 2;
    gc.hidden_size = 2;
    ck_assert_int_eq(grugan_gru_create(NULL, &gc, &gru, NULL), GRUGAN_OK);

    /* handles */
    ck_assert_int_eq(grugan_generator_forward(NULL, B, T, z, cond, cov, out), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_forward((grugan_generator *)gru, B, T, z, cond, cov, out),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_backward((grugan_generator *)gru, dout), GRUGAN_E_INVALID);
    ck_assert_ptr_null(grugan_generator_params((grugan_generator *)gru));
    ck_assert_str_eq(grugan_generator_message((grugan_generator *)gru), "not a generator handle");
    ck_assert_str_eq(grugan_generator_message(NULL), "the generator handle is NULL");
    grugan_generator_free((grugan_generator *)gru); /* not ours: ignored */
    ck_assert_int_eq(grugan_generator_sample(NULL, 1, 1, 1, cond, cov, out), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_step(NULL, B, zt, ct, vt, state, out), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_noise(NULL, 1, 0, 1, 1, z), GRUGAN_E_INVALID);

    /* backward before any forward */
    EXPECT_FAIL(g, grugan_generator_backward(g, dout), GRUGAN_E_STATE);

    /* forward: nothing written on failure */
    fill(out, B * T * 3, SENTINEL);
    EXPECT_FAIL(g, grugan_generator_forward(g, B, T, z, cond, cov, NULL), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_forward(g, B, T, z, NULL, cov, out), GRUGAN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(grugan_generator_message(g), "condition"));
    EXPECT_FAIL(g, grugan_generator_forward(g, B, T, z, cond, NULL, out), GRUGAN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(grugan_generator_message(g), "covariates"));
    EXPECT_FAIL(g, grugan_generator_forward(g, 0, T, z, cond, cov, out), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_generator_forward(g, B, 0, z, cond, cov, out), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_generator_forward(g, SIZE_MAX / 2, SIZE_MAX / 2, z, cond, cov, out),
                GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_generator_forward(g, SIZE_MAX / 64, 1, z, cond, cov, out),
                GRUGAN_E_SIZE);
    z[3] = NAN;
    EXPECT_FAIL(g, grugan_generator_forward(g, B, T, z, cond, cov, out), GRUGAN_E_NONFINITE);
    z[3] = 0.5f;
    cond[1] = INFINITY;
    EXPECT_FAIL(g, grugan_generator_forward(g, B, T, z, cond, cov, out), GRUGAN_E_NONFINITE);
    cond[1] = 0.1f;
    cov[5] = NAN;
    EXPECT_FAIL(g, grugan_generator_forward(g, B, T, z, cond, cov, out), GRUGAN_E_NONFINITE);
    assert_all(out, B * T * 3, SENTINEL, "out");
    /* with the check off, NaN passes through */
    ck_assert_int_eq(grugan_generator_set(g, GRUGAN_KEY_CHECK_FINITE, 0), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_forward(g, B, T, z, cond, cov, out), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_set(g, GRUGAN_KEY_CHECK_FINITE, 1), GRUGAN_OK);
    cov[5] = -0.2f;

    /* backward */
    ck_assert_int_eq(grugan_generator_forward(g, B, T, z, cond, cov, out), GRUGAN_OK);
    EXPECT_FAIL(g, grugan_generator_backward(g, NULL), GRUGAN_E_INVALID);
    dout[2] = NAN;
    EXPECT_FAIL(g, grugan_generator_backward(g, dout), GRUGAN_E_NONFINITE);
    dout[2] = 1.0f;
    ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);

    /* noise */
    EXPECT_FAIL(g, grugan_generator_noise(g, 1, 0, 1, 1, NULL), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_noise(g, 1, 0, 0, 1, z), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_generator_noise(g, 1, 0, 1, 0, z), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_generator_noise(g, 1, 0, SIZE_MAX / 2, 3, z), GRUGAN_E_SIZE);
    /* the 32-bit step counter: ceil(2 / 4) = 1 block per step, 2^32 steps at most */
    if (SIZE_MAX > UINT32_MAX)
        EXPECT_FAIL(g, grugan_generator_noise(g, 1, 0, 1, (size_t)(UINT64_C(1) << 32) + 1, z),
                    GRUGAN_E_SIZE);

    /* sample */
    fill(out, B * T * 3, SENTINEL);
    EXPECT_FAIL(g, grugan_generator_sample(g, 1, B, T, cond, cov, NULL), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_sample(g, 1, B, T, NULL, cov, out), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_sample(g, 1, B, T, cond, NULL, out), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_sample(g, 1, 0, T, cond, cov, out), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_generator_sample(g, 1, B, 0, cond, cov, out), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_generator_sample(g, 1, SIZE_MAX / 2, 4, cond, cov, out),
                GRUGAN_E_SIZE);
    cond[0] = NAN;
    EXPECT_FAIL(g, grugan_generator_sample(g, 1, B, T, cond, cov, out), GRUGAN_E_NONFINITE);
    cond[0] = 0.1f;
    assert_all(out, B * T * 3, SENTINEL, "out");

    /* step */
    EXPECT_FAIL(g, grugan_generator_step(g, B, NULL, ct, vt, state, out), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_step(g, B, zt, ct, vt, NULL, out), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_step(g, B, zt, ct, vt, state, NULL), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_step(g, B, zt, NULL, vt, state, out), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_step(g, B, zt, ct, NULL, state, out), GRUGAN_E_INVALID);
    EXPECT_FAIL(g, grugan_generator_step(g, 0, zt, ct, vt, state, out), GRUGAN_E_SIZE);
    EXPECT_FAIL(g, grugan_generator_step(g, SIZE_MAX / 2, zt, ct, vt, state, out),
                GRUGAN_E_SIZE);
    state[1] = NAN;
    EXPECT_FAIL(g, grugan_generator_step(g, B, zt, ct, vt, state, out), GRUGAN_E_NONFINITE);
    state[1] = 0.0f;
    zt[0] = INFINITY;
    EXPECT_FAIL(g, grugan_generator_step(g, B, zt, ct, vt, state, out), GRUGAN_E_NONFINITE);
    zt[0] = 0.3f;
    assert_all(out, B * T * 3, SENTINEL, "out");
    assert_all(state, 2 * B * 4, 0.0f, "state");
    ck_assert_int_eq(grugan_generator_step(g, B, zt, ct, vt, state, out), GRUGAN_OK);

    /* still usable, and its backward still refers to the last forward */
    ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);
    grugan_gru_free(gru);
    grugan_generator_free(g);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Allocation through the context                                            */
/* ------------------------------------------------------------------------- */

START_TEST(failed_allocations_leak_nothing)
{
    const gcfg c = {3, 2, 1, 6, 2, 2, 0, 0, 0, 0, 0};
    enum { B = 3, T = 4, N = B * T * 2 };
    counting_alloc counts;
    grugan_context *ctx = counting_context(&counts);
    grugan_generator_config cfg = GRUGAN_GENERATOR_CONFIG_INIT;
    const size_t base = counts.live;
    grugan_generator *g = NULL;
    grugan_error err;
    size_t first_ok = 0;
    float z[B * T * 3], cond[B * 2], cov[B * T], out[N], want[N], dout[N], st[2 * B * 6];
    cfg.noise_size = 3;
    cfg.condition_size = 2;
    cfg.covariate_size = 1;
    cfg.hidden_size = 6;
    cfg.num_layers = 2;
    cfg.output_size = 2;
    for (size_t i = 0; i < B * T * 3; i++) z[i] = (float)(i % 7) * 0.1f;
    fill(cond, B * 2, 0.2f);
    fill(cov, B * T, -0.1f);
    fill(dout, N, 0.5f);
    for (size_t k = 1; k < 1000 && !first_ok; k++) {
        int st_;
        g = (grugan_generator *)&cfg;
        counts.fail_at = counts.allocs + k;
        st_ = grugan_generator_create(ctx, &cfg, &g, &err);
        if (st_ == GRUGAN_OK) {
            first_ok = k;
            break;
        }
        ck_assert_int_eq(st_, GRUGAN_E_NOMEM);
        ck_assert_int_eq(err.code, GRUGAN_E_NOMEM);
        ck_assert_ptr_null(g);
        ck_assert_uint_eq(counts.live, base);
    }
    ck_assert_uint_gt(first_ok, 1);
    counts.fail_at = 0;
    {
        grugan_generator *clean = gen_new(&c, 0);
        ck_assert_int_eq(grugan_generator_forward(clean, B, T, z, cond, cov, want), GRUGAN_OK);
        grugan_generator_free(clean);
    }
    /* forward growing its workspaces: fails cleanly, then works */
    for (size_t k = 1; k < 1000; k++) {
        const size_t live = counts.live;
        int st_;
        fill(out, N, SENTINEL);
        counts.fail_at = counts.allocs + k;
        st_ = grugan_generator_forward(g, B, T, z, cond, cov, out);
        counts.fail_at = 0;
        if (st_ == GRUGAN_OK) break;
        ck_assert_int_eq(st_, GRUGAN_E_NOMEM);
        ck_assert_msg(grugan_generator_message(g)[0] != '\0', "no message");
        assert_all(out, N, SENTINEL, "out");
        ck_assert_uint_eq(counts.live, live);
        EXPECT_FAIL(g, grugan_generator_backward(g, dout), GRUGAN_E_STATE);
    }
    ck_assert_mem_eq(out, want, sizeof out);
    /* within the sizes seen, forward and backward allocate nothing */
    {
        const size_t before = counts.allocs;
        ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_forward(g, 1, 2, z, cond, cov, out), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_forward(g, B, T, NULL, cond, cov, out), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_backward(g, dout), GRUGAN_OK);
        ck_assert_uint_eq(counts.allocs, before);
    }
    /* sample and step sizing their workspace: fail cleanly */
    for (size_t k = 1; k < 1000; k++) {
        int st_;
        counts.fail_at = counts.allocs + k;
        fill(st, 2 * B * 6, 0.0f);
        st_ = grugan_generator_step(g, B, z, cond, cov, st, out);
        counts.fail_at = 0;
        if (st_ == GRUGAN_OK) break;
        ck_assert_int_eq(st_, GRUGAN_E_NOMEM);
    }
    {
        float *many = falloc(40 * T * 2), *cov40 = falloc(40 * T);
        fill(cov40, 40 * T, 0.1f);
        for (size_t k = 1; k < 1000; k++) {
            int st_;
            fill(many, 40 * T * 2, SENTINEL);
            counts.fail_at = counts.allocs + k;
            st_ = grugan_generator_sample(g, 3, 40, T, cond, cov40, many);
            counts.fail_at = 0;
            if (st_ == GRUGAN_OK) break;
            ck_assert_int_eq(st_, GRUGAN_E_NOMEM);
            assert_all(many, 40 * T * 2, SENTINEL, "samples");
        }
        for (size_t i = 0; i < 40 * T * 2; i++) ck_assert(isfinite(many[i]));
        free(many);
        free(cov40);
    }
    grugan_generator_free(g);
    ck_assert_uint_eq(counts.live, base);
    grugan_context_free(ctx);
    ck_assert_uint_eq(counts.live, 0);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* A custom training loop on the public API                                  */
/* ------------------------------------------------------------------------- */

/* Real data: sines of one period over T steps, random phase, amplitude
 * ~ U(0.4, 0.8), a little noise; the statistic is the mean amplitude
 * sqrt(2 mean_t x_t^2) of a set of sequences (0.6 for the real ones). */
enum { GAN_T = 12, GAN_B = 32, GAN_EVAL = 500 };

static double gan_uniform(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (double)(*state >> 11) * (1.0 / 9007199254740992.0);
}

static void gan_real_batch(uint64_t *state, float *x)
{
    const double two_pi = 6.283185307179586;
    for (size_t b = 0; b < GAN_B; b++) {
        const double A = 0.4 + 0.4 * gan_uniform(state), phase = two_pi * gan_uniform(state);
        for (size_t t = 0; t < GAN_T; t++)
            x[b * GAN_T + t] = (float)(A * sin(two_pi * (double)t / GAN_T + phase) +
                                       0.03 * (gan_uniform(state) - 0.5));
    }
}

static double gan_mean_amplitude(const float *x, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double sq = 0;
        for (size_t t = 0; t < GAN_T; t++) sq += (double)x[i * GAN_T + t] * x[i * GAN_T + t];
        sum += sqrt(2 * sq / GAN_T);
    }
    return sum / (double)n;
}

/* A tiny GAN written by a user: generator, discriminator, BCE losses, Adam;
 * the frozen discriminator of the generator update runs INPUT_ONLY. The mean
 * amplitude of the samples moves from about 0.14 to the real 0.6. */
START_TEST(custom_training_loop_learns_the_amplitude)
{
    const int kind = _i == 0 ? GRUGAN_DISC_GRU : GRUGAN_DISC_CONV1D;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dc = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_generator *g = NULL;
    grugan_discriminator *d = NULL;
    grugan_optimizer *og = NULL, *od = NULL;
    float *real = falloc(GAN_B * GAN_T), *fake = falloc(GAN_B * GAN_T);
    float *logits = falloc(GAN_B * GAN_T), *dl = falloc(GAN_B * GAN_T);
    float *dx = falloc(GAN_B * GAN_T), *samples = falloc(GAN_EVAL * GAN_T), loss;
    uint64_t state = 12345;
    size_t per_seq;
    double start, late = 0;
    int n_late = 0;
    const int iterations = kind == GRUGAN_DISC_GRU ? 1000 : 600;

    gc.noise_size = 4;
    gc.output_size = 1;
    gc.hidden_size = 16;
    gc.num_layers = 1;
    gc.output_activation = GRUGAN_ACT_TANH;
    gc.seed = 1;
    dc.kind = kind;
    dc.input_size = 1;
    dc.hidden_size = 16;
    dc.num_layers = 1;
    dc.sequence_length = GAN_T;
    dc.conv_layers = 2;
    dc.channels = 8;
    dc.kernel_size = 3;
    dc.seed = 2;
    oc.lr = 3e-3f;
    oc.beta1 = 0.5f;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &g, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_create(NULL, &dc, &d, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(NULL, &oc, grugan_generator_params(g), &og, NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(NULL, &oc, grugan_discriminator_params(d), &od,
                                             NULL),
                     GRUGAN_OK);
    per_seq = grugan_discriminator_logit_count(d, GAN_T);
    ck_assert_uint_eq(per_seq, kind == GRUGAN_DISC_GRU ? GAN_T : 1);

    ck_assert_int_eq(grugan_generator_sample(g, 99, GAN_EVAL, GAN_T, NULL, NULL, samples),
                     GRUGAN_OK);
    start = gan_mean_amplitude(samples, GAN_EVAL);
    ck_assert_msg(start < 0.3, "the untrained generator already has amplitude %g", start);

    for (int it = 0; it < iterations; it++) {
        /* discriminator: real -> 1, fake -> 0 */
        gan_real_batch(&state, real);
        ck_assert_int_eq(grugan_optimizer_zero_grad(od), GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_forward(d, GAN_B, GAN_T, real, NULL, NULL, logits),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_REAL, GAN_B, per_seq, logits,
                                     NULL, 0.0f, &loss, dl),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_backward(d, dl, NULL, NULL, GRUGAN_BACKWARD_PARAMS),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_forward(g, GAN_B, GAN_T, NULL, NULL, NULL, fake),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_forward(d, GAN_B, GAN_T, fake, NULL, NULL, logits),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_FAKE, GAN_B, per_seq, logits,
                                     NULL, 0.0f, &loss, dl),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_backward(d, dl, NULL, NULL, GRUGAN_BACKWARD_PARAMS),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_optimizer_step(od), GRUGAN_OK);

        /* generator: through the frozen discriminator */
        ck_assert_int_eq(grugan_optimizer_zero_grad(og), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_forward(g, GAN_B, GAN_T, NULL, NULL, NULL, fake),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_forward(d, GAN_B, GAN_T, fake, NULL, NULL, logits),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_GENERATOR, GAN_B, per_seq,
                                     logits, NULL, 0.0f, &loss, dl),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminator_backward(d, dl, NULL, dx,
                                                       GRUGAN_BACKWARD_INPUT_ONLY),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_backward(g, dx), GRUGAN_OK);
        ck_assert_int_eq(grugan_optimizer_step(og), GRUGAN_OK);

        /* the statistic over the second half (GAN training oscillates) */
        if ((it + 1) % 50 == 0 && it + 1 > iterations / 2) {
            ck_assert_int_eq(
                grugan_generator_sample(g, 99, GAN_EVAL, GAN_T, NULL, NULL, samples),
                GRUGAN_OK);
            late += gan_mean_amplitude(samples, GAN_EVAL);
            n_late++;
        }
    }
    late /= n_late;
    ck_assert_msg(fabs(late - 0.6) < 0.12, "%s discriminator: mean amplitude %g -> %g, want 0.6",
                  kind == GRUGAN_DISC_GRU ? "GRU" : "CONV1D", start, late);
    grugan_optimizer_free(og);
    grugan_optimizer_free(od);
    grugan_generator_free(g);
    grugan_discriminator_free(d);
    free(real);
    free(fake);
    free(logits);
    free(dl);
    free(dx);
    free(samples);
}
END_TEST

Suite *suite_generator(void)
{
    Suite *s = suite_create("generator");
    TCase *ref = tcase_create("generator_gradients");
    TCase *api = tcase_create("generator_api");
    TCase *loop = tcase_create("custom_loop");
    tcase_set_timeout(ref, 120);
    tcase_set_timeout(api, 120);
    tcase_set_timeout(loop, 300);
    tcase_add_loop_test(ref, forward_and_gradients_match_reference, 0, (int)NUM_CASES);
    tcase_add_loop_test(ref, reference_gradients_pass_finite_differences, 0, (int)NUM_CASES);
    tcase_add_loop_test(ref, float_gradients_pass_finite_differences, 0, (int)NUM_CASES);
    tcase_add_test(api, noise_depends_only_on_seed_sample_and_step);
    tcase_add_test(api, own_noise_stream_is_addressed_by_position);
    tcase_add_test(api, sample_equals_forward_and_streams_past_training_length);
    tcase_add_test(api, bit_identical_for_1_and_2_threads);
    tcase_add_test(api, parameters_are_listed_as_documented);
    tcase_add_test(api, initialization_is_seeded_and_in_pytorch_bounds);
    tcase_add_test(api, settings_by_key);
    tcase_add_test(api, bad_configs_are_refused);
    tcase_add_test(api, bad_calls_fail_cleanly_and_write_nothing);
    tcase_add_test(api, failed_allocations_leak_nothing);
    tcase_add_loop_test(loop, custom_training_loop_learns_the_amplitude, 0, 2);
    suite_add_tcase(s, ref);
    suite_add_tcase(s, api);
    suite_add_tcase(s, loop);
    return s;
}
