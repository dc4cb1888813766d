/* test_optimizer.c - grugan_optimizer against torch.optim and
 * torch.nn.utils.clip_grad_norm_ (golden data written by
 * tests/golden/make_optim_golden.py), and its contract: bit-identical resume
 * from saved state, bit-identical results at 1 and 2 threads, settings by
 * key, refusals, non-finite gradients, bad handles, allocation failures. The
 * model is always a GRU: its parameter set is what the optimizer runs on. */
#include "suites.h"
#include "test_util.h"

#include "golden_io.h"
#include "grugan.h"
#include "model/params.h"    /* only to plant NaN/Inf in a gradient block */
#include "train/optimizer.h" /* only to force the portable update loops */

#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR GRUGAN_SOURCE_DIR "/tests/golden/"

/* Our float32 updates against torch's float32 updates. */
#define OPT_ABS 1e-7
#define OPT_REL 1e-6

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static grugan_gru *gru_new(size_t I, size_t H, uint64_t seed)
{
    grugan_gru_config cfg = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *gru = NULL;
    cfg.input_size = I;
    cfg.hidden_size = H;
    cfg.seed = seed;
    ck_assert_int_eq(grugan_gru_create(NULL, &cfg, &gru, NULL), GRUGAN_OK);
    return gru;
}

static grugan_optimizer *opt_new(const grugan_optimizer_config *cfg, grugan_params *params)
{
    grugan_optimizer *opt = NULL;
    grugan_error err;
    const int st = grugan_optimizer_create(NULL, cfg, params, &opt, &err);
    ck_assert_msg(st == GRUGAN_OK, "create: %d %s", st, err.message);
    ck_assert_ptr_nonnull(opt);
    return opt;
}

/* A fixed pseudo-random value in [-1, 1) for (seed, i): gradients that are the
 * same whatever the order they are made in. */
static float hash_value(uint64_t seed, uint64_t i)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15u + i + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (float)((double)(z >> 40) / (double)(1u << 23) - 1.0);
}

/* Writes the whole gradient block from a flat array (tensors in index order,
 * as grugan_params_read_all lays the values out). */
static void grads_write_all(grugan_params *p, const float *g)
{
    size_t off = 0;
    for (size_t t = 0; t < grugan_params_count(p); t++) {
        size_t ndim = 0, shape[GRUGAN_MAX_DIMS], count = 1;
        ck_assert_int_eq(grugan_params_info(p, t, NULL, &ndim, shape), GRUGAN_OK);
        for (size_t k = 0; k < ndim; k++) count *= shape[k];
        ck_assert_int_eq(grugan_params_grad_write(p, t, g + off, count), GRUGAN_OK);
        off += count;
    }
    ck_assert_uint_eq(off, grugan_params_num_scalars(p));
}

/* Gradients of step `step`: values in [-scale, scale). */
static void grads_for_step(grugan_params *p, uint64_t step, float scale)
{
    const size_t n = grugan_params_num_scalars(p);
    float *g = falloc(n);
    for (size_t i = 0; i < n; i++) g[i] = scale * hash_value(1000 + step, i);
    grads_write_all(p, g);
    free(g);
}

static float *values_copy(const grugan_params *p)
{
    const size_t n = grugan_params_num_scalars(p);
    float *v = falloc(n);
    ck_assert_int_eq(grugan_params_read_all(p, v, n), GRUGAN_OK);
    return v;
}

static float *state_copy(const grugan_optimizer *opt, size_t *count, uint64_t *steps)
{
    const size_t n = grugan_optimizer_state_size(opt);
    float *s = falloc(n);
    ck_assert_int_eq(grugan_optimizer_state_read(opt, n ? s : NULL, n, steps), GRUGAN_OK);
    *count = n;
    return s;
}

/* A failing call on an optimizer: its status and a non-empty message. */
#define EXPECT_FAIL(opt, call, code)                                                     \
    do {                                                                                 \
        ck_assert_int_eq((call), (code));                                                \
        ck_assert_msg(grugan_optimizer_message(opt)[0] != '\0', "no message after %s",   \
                      #call);                                                            \
    } while (0)

/* ------------------------------------------------------------------------- */
/* Golden data from torch.optim                                              */
/* ------------------------------------------------------------------------- */

static const char *const optim_files[] = {
    "optim_adam.txt",         "optim_adam_wd.txt",         "optim_adamw.txt",
    "optim_adamw_sched.txt",  "optim_sgd.txt",             "optim_sgd_momentum.txt",
    "optim_sgd_nesterov.txt", "optim_sgd_late_momentum.txt", "optim_rmsprop.txt",
    "optim_rmsprop_centered.txt",
};
#define N_OPTIM_FILES (sizeof optim_files / sizeof optim_files[0])

static const struct {
    const char *name;
    int key;
} hyper_keys[] = {
    {"lr", GRUGAN_KEY_LR},
    {"beta1", GRUGAN_KEY_BETA1},
    {"beta2", GRUGAN_KEY_BETA2},
    {"eps", GRUGAN_KEY_EPS},
    {"weight_decay", GRUGAN_KEY_WEIGHT_DECAY},
    {"momentum", GRUGAN_KEY_MOMENTUM},
    {"dampening", GRUGAN_KEY_DAMPENING},
    {"alpha", GRUGAN_KEY_ALPHA},
    {"nesterov", GRUGAN_KEY_NESTEROV},
    {"centered", GRUGAN_KEY_CENTERED},
};
#define N_HYPER_KEYS (sizeof hyper_keys / sizeof hyper_keys[0])

static void golden_open(const char *name, golden_file *g)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s%s", GOLDEN_DIR, name);
    if (golden_load(path, g, err, sizeof err) != 0) ck_abort_msg("%s: %s", name, err);
}

/* The value of a config entry: one integer, or numerator and denominator
 * (their quotient is correctly rounded, as Python's). 0 if present. */
static int golden_number(const golden_file *g, const char *key, double *value)
{
    const golden_config *c = golden_config_find(g, key);
    if (!c) return -1;
    ck_assert_msg(c->count == 1 || c->count == 2, "config %s has %zu values", key, c->count);
    *value = c->count == 1 ? (double)c->values[0] : (double)c->values[0] / (double)c->values[1];
    return 0;
}

static const golden_tensor *golden_need(const golden_file *g, const char *file,
                                        const char *name, size_t count)
{
    const golden_tensor *t = golden_find(g, name);
    if (!t) ck_abort_msg("%s: no tensor %s", file, name);
    ck_assert_msg(t->count == count, "%s: %s has %zu values, expected %zu", file, name,
                  t->count, count);
    return t;
}

/* got within OPT_ABS + OPT_REL |want| of want, elementwise; returns the
 * largest ratio of error to tolerance. */
static double expect_close(const char *file, const char *what, const float *got,
                           const float *want, size_t n, double abs_tol, double rel_tol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - (double)want[i]);
        const double ratio = err / (abs_tol + rel_tol * fabs((double)want[i]));
        if (!(ratio <= 1))
            ck_abort_msg("%s: %s[%zu] = %.9g, torch %.9g (diff %.3g)", file, what, i,
                         (double)got[i], (double)want[i], err);
        if (ratio > worst) worst = ratio;
    }
    return worst;
}

/* _i: file, and (bit 0 of _i) the portable or the default update loops */
/* With torch's fused multiply-adds (torch_fused 1 in the file) the results
 * are torch's bits exactly. */
static void expect_same_bits(const char *file, const char *what, const float *got,
                             const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof got[i]) != 0)
            ck_abort_msg("%s: %s[%zu] = %.9g, torch %.9g: not the same bits", file, what, i,
                         (double)got[i], (double)want[i]);
}

START_TEST(updates_match_torch_optim)
{
    const char *file = optim_files[_i / 2];
    const bool portable = _i % 2;
    golden_file g;
    grugan_gru *gru = gru_new(3, 2, 1);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer_config cfg = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_optimizer *opt;
    const size_t n_tensors = grugan_params_count(p);
    long kind = -1, steps = 0, fused = 0;
    double v, switch_step = 0;
    uint64_t count = 0;

    golden_open(file, &g);
    ck_assert_int_eq(golden_config_int(&g, "kind", &kind), 0);
    ck_assert_int_eq(golden_config_int(&g, "steps", &steps), 0);
    ck_assert_int_eq(golden_config_int(&g, "torch_fused", &fused), 0);
    ck_assert_uint_eq(n_tensors, 4);
    ck_assert_uint_eq(grugan_params_num_scalars(p), 42);
    cfg.kind = (int32_t)kind;
    if (golden_number(&g, "lr", &v) == 0) cfg.lr = v;
    if (golden_number(&g, "beta1", &v) == 0) cfg.beta1 = v;
    if (golden_number(&g, "beta2", &v) == 0) cfg.beta2 = v;
    if (golden_number(&g, "eps", &v) == 0) cfg.eps = v;
    if (golden_number(&g, "weight_decay", &v) == 0) cfg.weight_decay = v;
    if (golden_number(&g, "momentum", &v) == 0) cfg.momentum = v;
    if (golden_number(&g, "dampening", &v) == 0) cfg.dampening = v;
    if (golden_number(&g, "alpha", &v) == 0) cfg.alpha = v;
    if (golden_number(&g, "nesterov", &v) == 0) cfg.nesterov = (int32_t)v;
    if (golden_number(&g, "centered", &v) == 0) cfg.centered = (int32_t)v;
    (void)golden_number(&g, "switch_step", &switch_step);

    for (size_t t = 0; t < n_tensors; t++) {
        const char *name = NULL;
        const golden_tensor *init;
        ck_assert_int_eq(grugan_params_info(p, t, &name, NULL, NULL), GRUGAN_OK);
        init = golden_find(&g, name);
        ck_assert_ptr_nonnull(init);
        ck_assert_int_eq(grugan_params_write(p, t, init->data, init->count), GRUGAN_OK);
    }
    opt = opt_new(&cfg, p);
    grugan__optimizer_use_portable(opt, portable);

    for (long k = 1; k <= steps; k++) {
        char tname[GOLDEN_NAME_MAX + 16];
        if ((double)k == switch_step)
            for (size_t i = 0; i < N_HYPER_KEYS; i++) {
                char key[64];
                snprintf(key, sizeof key, "switch_%s", hyper_keys[i].name);
                if (golden_number(&g, key, &v) == 0)
                    ck_assert_int_eq(grugan_optimizer_set(opt, hyper_keys[i].key, v), GRUGAN_OK);
            }
        for (size_t t = 0; t < n_tensors; t++) {
            const char *name = NULL;
            size_t numel;
            const golden_tensor *gt;
            ck_assert_int_eq(grugan_params_info(p, t, &name, NULL, NULL), GRUGAN_OK);
            numel = golden_find(&g, name)->count;
            snprintf(tname, sizeof tname, "grad%ld_%s", k, name);
            gt = golden_need(&g, file, tname, numel);
            ck_assert_int_eq(grugan_params_grad_write(p, t, gt->data, numel), GRUGAN_OK);
        }
        ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
        for (size_t t = 0; t < n_tensors; t++) {
            const char *name = NULL;
            size_t numel;
            const golden_tensor *want;
            float got[64];
            ck_assert_int_eq(grugan_params_info(p, t, &name, NULL, NULL), GRUGAN_OK);
            numel = golden_find(&g, name)->count;
            snprintf(tname, sizeof tname, "after%ld_%s", k, name);
            want = golden_need(&g, file, tname, numel);
            ck_assert_uint_le(numel, 64);
            ck_assert_int_eq(grugan_params_read(p, t, got, numel), GRUGAN_OK);
            expect_close(file, tname, got, want->data, numel, OPT_ABS, OPT_REL);
            if (fused) expect_same_bits(file, tname, got, want->data, numel);
        }
    }
    ck_assert_int_eq(grugan_optimizer_step_count(opt, &count), GRUGAN_OK);
    ck_assert_uint_eq(count, (uint64_t)steps);

    /* the final state, in the documented order */
    {
        const golden_tensor *want = golden_find(&g, "state");
        size_t n_state;
        uint64_t st_steps = 0;
        float *state = state_copy(opt, &n_state, &st_steps);
        ck_assert_uint_eq(st_steps, (uint64_t)steps);
        if (want) {
            ck_assert_uint_eq(n_state, want->count);
            expect_close(file, "state", state, want->data, n_state, OPT_ABS, OPT_REL);
            if (fused) expect_same_bits(file, "state", state, want->data, n_state);
        } else {
            ck_assert_uint_eq(n_state, 0);
        }
        free(state);
    }
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
    golden_free(&g);
}
END_TEST

static const char *const clip_files[] = {"optim_clip_a.txt", "optim_clip_b.txt"};

START_TEST(clip_grad_norm_matches_torch)
{
    const char *file = clip_files[_i];
    golden_file g;
    grugan_gru *gru = gru_new(3, 2, 2);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer *opt = opt_new(NULL, p);
    const golden_tensor *want_norm;
    double max_norm = 0;
    float norm = -1, before[42], after[42], want[42];
    size_t off = 0;

    golden_open(file, &g);
    ck_assert_int_eq(golden_number(&g, "max_norm", &max_norm), 0);
    for (size_t t = 0; t < grugan_params_count(p); t++) {
        const char *name = NULL;
        char tname[GOLDEN_NAME_MAX + 16];
        const golden_tensor *gt, *ct;
        ck_assert_int_eq(grugan_params_info(p, t, &name, NULL, NULL), GRUGAN_OK);
        snprintf(tname, sizeof tname, "grad_%s", name);
        gt = golden_find(&g, tname);
        ck_assert_ptr_nonnull(gt);
        snprintf(tname, sizeof tname, "clipped_%s", name);
        ct = golden_need(&g, file, tname, gt->count);
        ck_assert_int_eq(grugan_params_grad_write(p, t, gt->data, gt->count), GRUGAN_OK);
        memcpy(want + off, ct->data, ct->count * sizeof(float));
        off += gt->count;
    }
    ck_assert_uint_eq(off, 42);
    grads_read_all(p, before);
    ck_assert_int_eq(grugan_optimizer_clip_grad_norm(opt, (float)max_norm, &norm), GRUGAN_OK);
    grads_read_all(p, after);
    want_norm = golden_need(&g, file, "norm", 1);
    expect_close(file, "norm", &norm, want_norm->data, 1, 0, OPT_REL);
    expect_close(file, "clipped gradients", after, want, 42, OPT_ABS, OPT_REL);
    if ((double)want_norm->data[0] < max_norm) /* not clipped: untouched, bit for bit */
        ck_assert_mem_eq(before, after, sizeof before);
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
    golden_free(&g);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Clipping against a double computation                                     */
/* ------------------------------------------------------------------------- */

START_TEST(clip_grad_norm_matches_double)
{
    grugan_gru *gru = gru_new(5, 40, 3);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer *opt = opt_new(NULL, p);
    const size_t n = grugan_params_num_scalars(p);
    float *g = falloc(n), *got = falloc(n), norm = 0;
    double sum = 0, ref_norm, coef;

    for (size_t i = 0; i < n; i++) g[i] = 3.0f * hash_value(77, i);
    for (size_t i = 0; i < n; i++) sum += (double)g[i] * g[i];
    ref_norm = sqrt(sum);

    /* max_norm above the norm: nothing changes */
    grads_write_all(p, g);
    ck_assert_int_eq(grugan_optimizer_clip_grad_norm(opt, (float)(2 * ref_norm), &norm),
                     GRUGAN_OK);
    ck_assert_msg(fabs(norm - ref_norm) <= 1e-6 * ref_norm, "norm %.9g, double %.9g",
                  (double)norm, ref_norm);
    grads_read_all(p, got);
    ck_assert_mem_eq(got, g, n * sizeof *g);

    /* max_norm below: scaled by max_norm / (norm + 1e-6), then the norm is max_norm */
    ck_assert_int_eq(grugan_optimizer_clip_grad_norm(opt, 1.5f, NULL), GRUGAN_OK);
    grads_read_all(p, got);
    coef = 1.5 / (ref_norm + 1e-6);
    sum = 0;
    for (size_t i = 0; i < n; i++) {
        const double want = g[i] * coef;
        if (!(fabs(got[i] - want) <= 1e-6 * fabs(want) + 1e-12))
            ck_abort_msg("clipped[%zu] = %.9g, double %.9g", i, (double)got[i], want);
        sum += (double)got[i] * got[i];
    }
    ck_assert_double_eq_tol(sqrt(sum), 1.5, 1e-5);
    ck_assert_int_eq(grugan_optimizer_clip_grad_norm(opt, 1.5f, &norm), GRUGAN_OK);
    ck_assert_double_eq_tol(norm, 1.5, 1e-5);

    /* zero gradients: norm 0, nothing scaled */
    ck_assert_int_eq(grugan_optimizer_zero_grad(opt), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_clip_grad_norm(opt, 1.0f, &norm), GRUGAN_OK);
    ck_assert_float_eq(norm, 0.0f);

    /* huge but finite gradients: the sum in double does not overflow, the
     * float norm does: refused, nothing scaled, norm not written */
    for (size_t i = 0; i < n; i++) g[i] = i % 2 ? 3e38f : -3e38f;
    grads_write_all(p, g);
    norm = -7.0f;
    EXPECT_FAIL(opt, grugan_optimizer_clip_grad_norm(opt, 1.0f, &norm), GRUGAN_E_NONFINITE);
    ck_assert_float_eq(norm, -7.0f);
    grads_read_all(p, got);
    ck_assert_mem_eq(got, g, n * sizeof *g);

    /* bad max_norm */
    EXPECT_FAIL(opt, grugan_optimizer_clip_grad_norm(opt, 0.0f, &norm), GRUGAN_E_RANGE);
    EXPECT_FAIL(opt, grugan_optimizer_clip_grad_norm(opt, -1.0f, &norm), GRUGAN_E_RANGE);
    EXPECT_FAIL(opt, grugan_optimizer_clip_grad_norm(opt, NAN, &norm), GRUGAN_E_RANGE);
    EXPECT_FAIL(opt, grugan_optimizer_clip_grad_norm(opt, INFINITY, &norm), GRUGAN_E_RANGE);
    ck_assert_float_eq(norm, -7.0f);

    free(g);
    free(got);
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Configurations used by the contract tests                                  */
/* ------------------------------------------------------------------------- */

typedef struct opt_case {
    const char *name;
    int32_t kind;
    double lr, weight_decay, momentum, dampening, alpha;
    int32_t nesterov, centered;
} opt_case;

static const opt_case cases[] = {
    {"Adam", GRUGAN_OPT_ADAM, 0, 0, 0, 0, 0, 0, 0},
    {"Adam+wd", GRUGAN_OPT_ADAM, 0.01, 0.1, 0, 0, 0, 0, 0},
    {"AdamW", GRUGAN_OPT_ADAMW, 0.01, 0, 0, 0, 0, 0, 0},
    {"SGD", GRUGAN_OPT_SGD, 0.1, 0, 0, 0, 0, 0, 0},
    {"SGD momentum+dampening", GRUGAN_OPT_SGD, 0.05, 0.01, 0.9, 0.3, 0, 0, 0},
    {"SGD Nesterov", GRUGAN_OPT_SGD, 0.05, 0.01, 0.8, 0, 0, 1, 0},
    {"RMSprop", GRUGAN_OPT_RMSPROP, 0.01, 0, 0, 0, 0, 0, 0},
    {"RMSprop centered+momentum", GRUGAN_OPT_RMSPROP, 0.01, 0.05, 0.5, 0, 0.9, 0, 1},
    {"RMSprop centered", GRUGAN_OPT_RMSPROP, 0.01, 0, 0, 0, 0, 0, 1},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static grugan_optimizer_config case_config(const opt_case *c)
{
    grugan_optimizer_config cfg = GRUGAN_OPTIMIZER_CONFIG_INIT;
    cfg.kind = c->kind;
    cfg.lr = c->lr;
    cfg.weight_decay = c->weight_decay;
    cfg.momentum = c->momentum;
    cfg.dampening = c->dampening;
    cfg.alpha = c->alpha;
    cfg.nesterov = c->nesterov;
    cfg.centered = c->centered;
    return cfg;
}

/* ------------------------------------------------------------------------- */
/* State: read, write, resume                                                */
/* ------------------------------------------------------------------------- */

START_TEST(resume_from_state_is_bit_identical)
{
    const opt_case *c = &cases[_i];
    const grugan_optimizer_config cfg = case_config(c);
    const uint64_t n_first = 3, n_more = 4;
    grugan_gru *ga = gru_new(4, 7, 11), *gb = gru_new(4, 7, 11), *gc = gru_new(4, 7, 99);
    grugan_params *pa = grugan_gru_params(ga), *pb = grugan_gru_params(gb),
                  *pc = grugan_gru_params(gc);
    grugan_optimizer *oa = opt_new(&cfg, pa), *ob = opt_new(&cfg, pb), *oc = opt_new(&cfg, pc);
    const size_t n = grugan_params_num_scalars(pa);
    float *state_b, *state_a, *state_c, *va, *vc, *vb;
    size_t n_state, n_state_a, n_state_c;
    uint64_t steps = 0, s;

    /* a: n_first + n_more steps straight */
    for (uint64_t k = 0; k < n_first + n_more; k++) {
        grads_for_step(pa, k, k == 2 ? 5.0f : 0.5f);
        ck_assert_int_eq(grugan_optimizer_step(oa), GRUGAN_OK);
    }
    /* b: n_first steps, then its values and state move to c (another model) */
    for (uint64_t k = 0; k < n_first; k++) {
        grads_for_step(pb, k, k == 2 ? 5.0f : 0.5f);
        ck_assert_int_eq(grugan_optimizer_step(ob), GRUGAN_OK);
    }
    state_b = state_copy(ob, &n_state, &steps);
    ck_assert_uint_eq(steps, n_first);
    vb = values_copy(pb);
    ck_assert_int_eq(grugan_params_write_all(pc, vb, n), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_write(oc, n_state ? state_b : NULL, n_state, steps),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_step_count(oc, &s), GRUGAN_OK);
    ck_assert_uint_eq(s, n_first);
    for (uint64_t k = n_first; k < n_first + n_more; k++) {
        grads_for_step(pc, k, k == 2 ? 5.0f : 0.5f);
        ck_assert_int_eq(grugan_optimizer_step(oc), GRUGAN_OK);
    }
    va = values_copy(pa);
    vc = values_copy(pc);
    ck_assert_msg(memcmp(va, vc, n * sizeof *va) == 0, "%s: resumed values differ", c->name);
    state_a = state_copy(oa, &n_state_a, &steps);
    ck_assert_uint_eq(steps, n_first + n_more);
    state_c = state_copy(oc, &n_state_c, &s);
    ck_assert_uint_eq(s, n_first + n_more);
    ck_assert_uint_eq(n_state_a, n_state_c);
    if (n_state_a) ck_assert_mem_eq(state_a, state_c, n_state_a * sizeof *state_a);
    /* the values really moved */
    ck_assert_msg(memcmp(va, vb, n * sizeof *va) != 0, "%s: no update", c->name);

    free(state_a);
    free(state_b);
    free(state_c);
    free(va);
    free(vb);
    free(vc);
    grugan_optimizer_free(oa);
    grugan_optimizer_free(ob);
    grugan_optimizer_free(oc);
    grugan_gru_free(ga);
    grugan_gru_free(gb);
    grugan_gru_free(gc);
}
END_TEST

START_TEST(state_size_layout_and_refusals)
{
    grugan_gru *gru = gru_new(2, 3, 5);
    grugan_params *p = grugan_gru_params(gru);
    const size_t n = grugan_params_num_scalars(p);
    grugan_optimizer_config cfg = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_optimizer *opt;
    float *g = falloc(n), *state = falloc(3 * n), *before = falloc(3 * n), *v0, *v1;
    uint64_t steps = 0;

    /* sizes by kind and settings */
    opt = opt_new(&cfg, p);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), 2 * n);
    grugan_optimizer_free(opt);
    cfg.kind = GRUGAN_OPT_ADAMW;
    opt = opt_new(&cfg, p);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), 2 * n);
    grugan_optimizer_free(opt);
    cfg.kind = GRUGAN_OPT_SGD;
    opt = opt_new(&cfg, p);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), 0);
    ck_assert_int_eq(grugan_optimizer_state_read(opt, NULL, 0, &steps), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_write(opt, NULL, 0, 4), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_MOMENTUM, 0.5), GRUGAN_OK);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), n);
    ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_MOMENTUM, 0), GRUGAN_OK);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), 0);
    grugan_optimizer_free(opt);
    cfg.kind = GRUGAN_OPT_RMSPROP;
    opt = opt_new(&cfg, p);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), n);
    ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_CENTERED, 1), GRUGAN_OK);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), 2 * n);
    ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_MOMENTUM, 0.25), GRUGAN_OK);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), 3 * n);
    ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_MOMENTUM, 0), GRUGAN_OK);

    /* RMSprop centered without momentum: square_avg, then grad_avg. After one
     * step from zero state: sq = (1 - alpha) g^2, ga = (1 - alpha) g. */
    for (size_t i = 0; i < n; i++) g[i] = hash_value(5, i);
    grads_write_all(p, g);
    ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_read(opt, state, 2 * n, &steps), GRUGAN_OK);
    ck_assert_uint_eq(steps, 1);
    for (size_t i = 0; i < n; i++) {
        const float oma = (float)(1 - 0.99);
        const float sq = 0.0f * 0.99f + oma * g[i] * g[i], ga = 0.0f * 0.99f + oma * g[i];
        if (memcmp(&state[i], &sq, sizeof sq) != 0 || memcmp(&state[n + i], &ga, sizeof ga) != 0)
            ck_abort_msg("state at %zu: %g %g, expected %g %g", i, (double)state[i],
                         (double)state[n + i], (double)sq, (double)ga);
    }

    /* refusals: wrong count, NULL, NaN/Inf; nothing changes */
    memcpy(before, state, 2 * n * sizeof *state);
    v0 = values_copy(p);
    EXPECT_FAIL(opt, grugan_optimizer_state_read(opt, state, 2 * n - 1, &steps), GRUGAN_E_SIZE);
    EXPECT_FAIL(opt, grugan_optimizer_state_read(opt, state, 3 * n, &steps), GRUGAN_E_SIZE);
    EXPECT_FAIL(opt, grugan_optimizer_state_read(opt, NULL, 2 * n, &steps), GRUGAN_E_INVALID);
    EXPECT_FAIL(opt, grugan_optimizer_state_write(opt, state, n, 9), GRUGAN_E_SIZE);
    EXPECT_FAIL(opt, grugan_optimizer_state_write(opt, NULL, 2 * n, 9), GRUGAN_E_INVALID);
    state[n + 3] = NAN;
    EXPECT_FAIL(opt, grugan_optimizer_state_write(opt, state, 2 * n, 9), GRUGAN_E_NONFINITE);
    state[n + 3] = before[n + 3];
    state[0] = -INFINITY;
    EXPECT_FAIL(opt, grugan_optimizer_state_write(opt, state, 2 * n, 9), GRUGAN_E_NONFINITE);
    ck_assert_int_eq(grugan_optimizer_state_read(opt, state, 2 * n, &steps), GRUGAN_OK);
    ck_assert_uint_eq(steps, 1);
    ck_assert_mem_eq(state, before, 2 * n * sizeof *state);
    ck_assert_str_eq(grugan_optimizer_message(opt), "");
    /* steps may be NULL on read */
    ck_assert_int_eq(grugan_optimizer_state_read(opt, state, 2 * n, NULL), GRUGAN_OK);

    /* a write resets the blocks the settings do not use: momentum switched on
     * afterwards starts from a zero buffer */
    ck_assert_int_eq(grugan_optimizer_state_write(opt, before, 2 * n, 1), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_MOMENTUM, 0.25), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_read(opt, state, 3 * n, NULL), GRUGAN_OK);
    ck_assert_mem_eq(state, before, n * sizeof *state);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(state[n + i], 0.0f);
    ck_assert_mem_eq(state + 2 * n, before + n, n * sizeof *state);
    v1 = values_copy(p);
    ck_assert_mem_eq(v0, v1, n * sizeof *v0);

    /* the step count cannot overflow */
    ck_assert_int_eq(grugan_optimizer_state_write(opt, state, 3 * n, UINT64_MAX), GRUGAN_OK);
    EXPECT_FAIL(opt, grugan_optimizer_step(opt), GRUGAN_E_STATE);
    free(v1);
    v1 = values_copy(p);
    ck_assert_mem_eq(v0, v1, n * sizeof *v0);

    free(g);
    free(state);
    free(before);
    free(v0);
    free(v1);
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Non-finite gradients                                                      */
/* ------------------------------------------------------------------------- */

/* The next step fails with GRUGAN_E_NONFINITE and leaves the weights, the
 * state and the step count as they were. */
static void expect_refused_step(grugan_optimizer *opt, grugan_params *p)
{
    const size_t n = grugan_params_num_scalars(p);
    float *v0 = values_copy(p), *v1, *s0, *s1;
    size_t ns0, ns1;
    uint64_t steps0, steps1;
    s0 = state_copy(opt, &ns0, &steps0);
    EXPECT_FAIL(opt, grugan_optimizer_step(opt), GRUGAN_E_NONFINITE);
    ck_assert_msg(strstr(grugan_optimizer_message(opt), "nothing updated") != NULL, "%s",
                  grugan_optimizer_message(opt));
    v1 = values_copy(p);
    s1 = state_copy(opt, &ns1, &steps1);
    ck_assert_mem_eq(v0, v1, n * sizeof *v0);
    ck_assert_uint_eq(ns0, ns1);
    if (ns0) ck_assert_mem_eq(s0, s1, ns0 * sizeof *s0);
    ck_assert_uint_eq(steps0, steps1);
    free(v0);
    free(v1);
    free(s0);
    free(s1);
}

START_TEST(non_finite_gradients_change_nothing)
{
    const opt_case *c = &cases[_i];
    const grugan_optimizer_config cfg = case_config(c);
    grugan_gru *gru = gru_new(3, 5, 8);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer *opt = opt_new(&cfg, p);
    const size_t n = grugan_params_num_scalars(p);
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    const size_t where[3] = {0, 17, 0};

    for (uint64_t k = 0; k < 2; k++) {
        grads_for_step(p, k, 1.0f);
        ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
    }
    for (size_t b = 0; b < 3; b++) {
        grads_for_step(p, 5, 1.0f);
        p->grads[b == 2 ? n - 1 : where[b]] = bad[b];
        expect_refused_step(opt, p);
    }
    /* and the next finite step works */
    grads_for_step(p, 6, 1.0f);
    ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
    ck_assert_str_eq(grugan_optimizer_message(opt), "");
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
}
END_TEST

/* Finite gradients whose update overflows: a gradient of 1e30 overflows the
 * squared-gradient averages of Adam and RMSprop, and with a learning rate of
 * 1e10 SGD's step. Nothing changes, also on the very first step (SGD's
 * momentum buffer stays unset), and a sane step afterwards works. */
START_TEST(non_finite_updates_change_nothing)
{
    const opt_case *c = &cases[_i];
    grugan_optimizer_config cfg = case_config(c);
    grugan_gru *gru = gru_new(3, 5, 8);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer *opt;
    const size_t n = grugan_params_num_scalars(p);
    cfg.lr = 1e10;
    opt = opt_new(&cfg, p);
    for (int first = 1; first >= 0; first--) {
        grads_for_step(p, 3, 1.0f);
        p->grads[n / 2] = 1e30f;
        expect_refused_step(opt, p);
        if (first) {
            /* one good step, with a learning rate that keeps it finite */
            ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_LR, 1e-3), GRUGAN_OK);
            grads_for_step(p, 4, 1.0f);
            ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
            ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_LR, 1e10), GRUGAN_OK);
        }
    }
    ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_LR, 1e-3), GRUGAN_OK);
    grads_for_step(p, 6, 1.0f);
    ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
    for (size_t i = 0; i < n; i++) ck_assert(isfinite(p->values[i]));
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Threads                                                                   */
/* ------------------------------------------------------------------------- */

START_TEST(bit_identical_at_one_and_two_threads)
{
    const opt_case *c = &cases[_i];
    const grugan_optimizer_config cfg = case_config(c);
    grugan_gru *g1 = gru_new(8, 256, 21), *g2 = gru_new(8, 256, 21);
    grugan_params *p1 = grugan_gru_params(g1), *p2 = grugan_gru_params(g2);
    grugan_optimizer *o1 = opt_new(&cfg, p1), *o2 = opt_new(&cfg, p2);
    const size_t n = grugan_params_num_scalars(p1);
    float *v1, *v2, *s1, *s2, *gr1 = falloc(n), *gr2 = falloc(n);
    size_t ns1, ns2;
    uint64_t t1, t2;
    double threads = 0;

    ck_assert_uint_gt(n, 200000);
    ck_assert_int_eq(grugan_optimizer_set(o2, GRUGAN_KEY_THREADS, 2), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_get(o2, GRUGAN_KEY_THREADS, &threads), GRUGAN_OK);
    ck_assert_double_eq(threads, 2);
    for (uint64_t k = 0; k < 3; k++) {
        float norm1 = 0, norm2 = 0;
        grads_for_step(p1, k, 2.0f);
        grads_for_step(p2, k, 2.0f);
        ck_assert_int_eq(grugan_optimizer_clip_grad_norm(o1, 50.0f, &norm1), GRUGAN_OK);
        ck_assert_int_eq(grugan_optimizer_clip_grad_norm(o2, 50.0f, &norm2), GRUGAN_OK);
        ck_assert_mem_eq(&norm1, &norm2, sizeof norm1);
        ck_assert_float_gt(norm1, 50.0f); /* so clipping scaled them */
        grads_read_all(p1, gr1);
        grads_read_all(p2, gr2);
        ck_assert_mem_eq(gr1, gr2, n * sizeof *gr1);
        ck_assert_int_eq(grugan_optimizer_step(o1), GRUGAN_OK);
        ck_assert_int_eq(grugan_optimizer_step(o2), GRUGAN_OK);
    }
    v1 = values_copy(p1);
    v2 = values_copy(p2);
    ck_assert_msg(memcmp(v1, v2, n * sizeof *v1) == 0, "%s: values differ", c->name);
    s1 = state_copy(o1, &ns1, &t1);
    s2 = state_copy(o2, &ns2, &t2);
    ck_assert_uint_eq(ns1, ns2);
    if (ns1) ck_assert_mem_eq(s1, s2, ns1 * sizeof *s1);
    free(v1);
    free(v2);
    free(s1);
    free(s2);
    free(gr1);
    free(gr2);
    grugan_optimizer_free(o1);
    grugan_optimizer_free(o2);
    grugan_gru_free(g1);
    grugan_gru_free(g2);
}
END_TEST

START_TEST(portable_and_vector_loops_give_the_same_bits)
{
    const opt_case *c = &cases[_i];
    const grugan_optimizer_config cfg = case_config(c);
    grugan_gru *g1 = gru_new(8, 64, 31), *g2 = gru_new(8, 64, 31);
    grugan_params *p1 = grugan_gru_params(g1), *p2 = grugan_gru_params(g2);
    grugan_optimizer *o1 = opt_new(&cfg, p1), *o2 = opt_new(&cfg, p2);
    const size_t n = grugan_params_num_scalars(p1);
    float *v1, *v2, *s1, *s2;
    size_t ns1, ns2;
    uint64_t t1, t2;

    grugan__optimizer_use_portable(o1, true);
    grugan__optimizer_use_portable(NULL, true); /* a no-op */
    for (uint64_t k = 0; k < 4; k++) {
        /* gradients with zeros of both signs and tiny values mixed in */
        float *gr = falloc(n);
        for (size_t i = 0; i < n; i++) {
            const float h = hash_value(40 + k, i);
            gr[i] = i % 7 == 0 ? (i % 2 ? -0.0f : 0.0f) : i % 11 == 0 ? h * 1e-30f : h;
        }
        grads_write_all(p1, gr);
        grads_write_all(p2, gr);
        free(gr);
        ck_assert_int_eq(grugan_optimizer_clip_grad_norm(o1, 3.0f, NULL), GRUGAN_OK);
        ck_assert_int_eq(grugan_optimizer_clip_grad_norm(o2, 3.0f, NULL), GRUGAN_OK);
        ck_assert_int_eq(grugan_optimizer_step(o1), GRUGAN_OK);
        ck_assert_int_eq(grugan_optimizer_step(o2), GRUGAN_OK);
    }
    v1 = values_copy(p1);
    v2 = values_copy(p2);
    ck_assert_msg(memcmp(v1, v2, n * sizeof *v1) == 0, "%s: values differ", c->name);
    s1 = state_copy(o1, &ns1, &t1);
    s2 = state_copy(o2, &ns2, &t2);
    ck_assert_uint_eq(ns1, ns2);
    if (ns1) ck_assert_mem_eq(s1, s2, ns1 * sizeof *s1);
    free(v1);
    free(v2);
    free(s1);
    free(s2);
    grugan_optimizer_free(o1);
    grugan_optimizer_free(o2);
    grugan_gru_free(g1);
    grugan_gru_free(g2);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Settings by key                                                           */
/* ------------------------------------------------------------------------- */

static const int all_keys[] = {
    GRUGAN_KEY_LR,       GRUGAN_KEY_BETA1,     GRUGAN_KEY_BETA2,    GRUGAN_KEY_EPS,
    GRUGAN_KEY_WEIGHT_DECAY, GRUGAN_KEY_MOMENTUM, GRUGAN_KEY_DAMPENING, GRUGAN_KEY_NESTEROV,
    GRUGAN_KEY_ALPHA,    GRUGAN_KEY_CENTERED,  GRUGAN_KEY_THREADS,
};
#define N_ALL_KEYS (sizeof all_keys / sizeof all_keys[0])

/* Keys of each kind (index GRUGAN_OPT_*), as the header lists them. */
static int key_applies(int kind, int key)
{
    switch (key) {
    case GRUGAN_KEY_LR:
    case GRUGAN_KEY_WEIGHT_DECAY:
    case GRUGAN_KEY_THREADS: return 1;
    case GRUGAN_KEY_BETA1:
    case GRUGAN_KEY_BETA2: return kind == GRUGAN_OPT_ADAM || kind == GRUGAN_OPT_ADAMW;
    case GRUGAN_KEY_EPS: return kind != GRUGAN_OPT_SGD;
    case GRUGAN_KEY_MOMENTUM: return kind == GRUGAN_OPT_SGD || kind == GRUGAN_OPT_RMSPROP;
    case GRUGAN_KEY_DAMPENING:
    case GRUGAN_KEY_NESTEROV: return kind == GRUGAN_OPT_SGD;
    default: return kind == GRUGAN_OPT_RMSPROP;
    }
}

START_TEST(key_bounds_are_documented)
{
    double lo = -1, hi = -1;
    const double below_one = nextafter(1.0, 0.0);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_LR, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == FLT_MIN && hi == FLT_MAX);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_EPS, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == FLT_MIN && hi == FLT_MAX);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_WEIGHT_DECAY, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0 && hi == FLT_MAX);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_BETA1, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0 && hi == below_one);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_BETA2, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0 && hi == below_one);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_MOMENTUM, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0 && hi == below_one);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_ALPHA, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0 && hi == below_one);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_DAMPENING, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0 && hi == 1);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_NESTEROV, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0 && hi == 1);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_CENTERED, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 0 && hi == 1);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_THREADS, &lo, &hi), GRUGAN_OK);
    ck_assert(lo == 1 && hi == 256);
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_LR, NULL, NULL), GRUGAN_OK);
    lo = hi = 42;
    ck_assert_int_eq(grugan_optimizer_key_bounds(GRUGAN_KEY_CHECK_FINITE, &lo, &hi),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_optimizer_key_bounds(0, &lo, &hi), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_optimizer_key_bounds(9, &lo, &hi), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_optimizer_key_bounds(20, &lo, &hi), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_optimizer_key_bounds(-10, &lo, &hi), GRUGAN_E_INVALID);
    ck_assert(lo == 42 && hi == 42);
}
END_TEST

START_TEST(defaults_and_settings_by_key)
{
    grugan_gru *gru = gru_new(2, 3, 1);
    grugan_params *p = grugan_gru_params(gru);
    for (int kind = GRUGAN_OPT_ADAM; kind <= GRUGAN_OPT_RMSPROP; kind++) {
        grugan_optimizer_config cfg = GRUGAN_OPTIMIZER_CONFIG_INIT;
        grugan_optimizer *opt;
        double v = -1;
        cfg.kind = kind;
        opt = opt_new(&cfg, p);
        /* defaults */
        ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_LR, &v), GRUGAN_OK);
        ck_assert(v == (kind == GRUGAN_OPT_SGD ? 1e-2 : 1e-3));
        ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_WEIGHT_DECAY, &v), GRUGAN_OK);
        ck_assert(v == (kind == GRUGAN_OPT_ADAMW ? 1e-2 : 0));
        ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
        ck_assert(v == 1);
        if (kind != GRUGAN_OPT_SGD) {
            ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_EPS, &v), GRUGAN_OK);
            ck_assert(v == 1e-8);
        }
        if (kind <= GRUGAN_OPT_ADAMW) {
            ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_BETA1, &v), GRUGAN_OK);
            ck_assert(v == 0.9);
            ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_BETA2, &v), GRUGAN_OK);
            ck_assert(v == 0.999);
        }
        if (kind == GRUGAN_OPT_RMSPROP) {
            ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_ALPHA, &v), GRUGAN_OK);
            ck_assert(v == 0.99);
            ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_CENTERED, &v), GRUGAN_OK);
            ck_assert(v == 0);
        }
        if (kind >= GRUGAN_OPT_SGD) {
            ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_MOMENTUM, &v), GRUGAN_OK);
            ck_assert(v == 0);
        }

        for (size_t k = 0; k < N_ALL_KEYS; k++) {
            const int key = all_keys[k];
            double lo, hi, before = -1, got = -1;
            ck_assert_int_eq(grugan_optimizer_key_bounds(key, &lo, &hi), GRUGAN_OK);
            if (!key_applies(kind, key)) {
                EXPECT_FAIL(opt, grugan_optimizer_set(opt, key, lo), GRUGAN_E_INVALID);
                ck_assert_int_eq(grugan_optimizer_get(opt, key, &got), GRUGAN_E_INVALID);
                ck_assert(got == -1);
                continue;
            }
            ck_assert_int_eq(grugan_optimizer_get(opt, key, &before), GRUGAN_OK);
            /* both ends are accepted and read back exactly */
            ck_assert_int_eq(grugan_optimizer_set(opt, key, lo), GRUGAN_OK);
            ck_assert_str_eq(grugan_optimizer_message(opt), "");
            ck_assert_int_eq(grugan_optimizer_get(opt, key, &got), GRUGAN_OK);
            ck_assert(got == lo);
            ck_assert_int_eq(grugan_optimizer_set(opt, key, hi), GRUGAN_OK);
            ck_assert_int_eq(grugan_optimizer_get(opt, key, &got), GRUGAN_OK);
            ck_assert(got == hi);
            /* just outside, NaN, Inf: refused, value kept */
            EXPECT_FAIL(opt, grugan_optimizer_set(opt, key, nextafter(lo, -HUGE_VAL)),
                        GRUGAN_E_RANGE);
            EXPECT_FAIL(opt, grugan_optimizer_set(opt, key, nextafter(hi, HUGE_VAL)),
                        GRUGAN_E_RANGE);
            EXPECT_FAIL(opt, grugan_optimizer_set(opt, key, NAN), GRUGAN_E_RANGE);
            EXPECT_FAIL(opt, grugan_optimizer_set(opt, key, INFINITY), GRUGAN_E_RANGE);
            EXPECT_FAIL(opt, grugan_optimizer_set(opt, key, -INFINITY), GRUGAN_E_RANGE);
            if (key == GRUGAN_KEY_NESTEROV || key == GRUGAN_KEY_CENTERED ||
                key == GRUGAN_KEY_THREADS)
                EXPECT_FAIL(opt, grugan_optimizer_set(opt, key, lo + 0.5), GRUGAN_E_RANGE);
            ck_assert_int_eq(grugan_optimizer_get(opt, key, &got), GRUGAN_OK);
            ck_assert(got == hi);
            ck_assert_int_eq(grugan_optimizer_set(opt, key, before), GRUGAN_OK);
        }
        /* unknown keys */
        EXPECT_FAIL(opt, grugan_optimizer_set(opt, GRUGAN_KEY_CHECK_FINITE, 1), GRUGAN_E_INVALID);
        EXPECT_FAIL(opt, grugan_optimizer_set(opt, 0, 1), GRUGAN_E_INVALID);
        EXPECT_FAIL(opt, grugan_optimizer_set(opt, 99, 1), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_optimizer_get(opt, 99, &v), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_LR, NULL), GRUGAN_E_INVALID);
        grugan_optimizer_free(opt);
    }
    grugan_gru_free(gru);
}
END_TEST

START_TEST(learning_rate_schedule_takes_effect_at_the_next_step)
{
    /* SGD without momentum: p1 = p0 - lr g exactly in float */
    grugan_gru *gru = gru_new(2, 2, 4);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer_config cfg = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_optimizer *opt;
    const size_t n = grugan_params_num_scalars(p);
    float *g = falloc(n), *v0, *v1;
    cfg.kind = GRUGAN_OPT_SGD;
    opt = opt_new(&cfg, p);
    for (size_t i = 0; i < n; i++) g[i] = hash_value(3, i);
    grads_write_all(p, g);
    ck_assert_int_eq(grugan_optimizer_set(opt, GRUGAN_KEY_LR, 0.25), GRUGAN_OK);
    v0 = values_copy(p);
    ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
    v1 = values_copy(p);
    for (size_t i = 0; i < n; i++) {
        const float want = v0[i] + -0.25f * g[i];
        ck_assert_msg(memcmp(&v1[i], &want, sizeof want) == 0, "p[%zu] %.9g, expected %.9g", i,
                      (double)v1[i], (double)want);
    }
    free(g);
    free(v0);
    free(v1);
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
}
END_TEST

START_TEST(zero_grad_clears_the_gradient_block)
{
    grugan_gru *gru = gru_new(2, 3, 6);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer *opt = opt_new(NULL, p);
    const size_t n = grugan_params_num_scalars(p);
    float *g = falloc(n);
    grads_for_step(p, 1, 1.0f);
    ck_assert_int_eq(grugan_optimizer_zero_grad(opt), GRUGAN_OK);
    grads_read_all(p, g);
    for (size_t i = 0; i < n; i++)
        if (g[i] != 0.0f) ck_abort_msg("grad[%zu] = %g after zero_grad", i, (double)g[i]);
    free(g);
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Bad configurations and calls                                              */
/* ------------------------------------------------------------------------- */

/* create must fail with `code`, fill err and leave *out NULL. */
static void expect_create_fails(const grugan_optimizer_config *cfg, grugan_params *p, int code,
                                const char *what)
{
    grugan_optimizer *opt = (grugan_optimizer *)(void *)&opt;
    grugan_error err;
    const int st = grugan_optimizer_create(NULL, cfg, p, &opt, &err);
    ck_assert_msg(st == code, "%s: status %d, expected %d", what, st, code);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(err.message[0] != '\0', "%s: no message", what);
    ck_assert_ptr_null(opt);
}

START_TEST(bad_configs_are_refused)
{
    grugan_gru *gru = gru_new(2, 3, 1);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer_config cfg = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_optimizer *opt = NULL;
    grugan_error err;
    double v;

    /* NULL config: Adam with the defaults */
    ck_assert_int_eq(grugan_optimizer_create(NULL, NULL, p, &opt, &err), GRUGAN_OK);
    ck_assert_int_eq(err.code, GRUGAN_OK);
    ck_assert_str_eq(err.message, "");
    ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_BETA2, &v), GRUGAN_OK);
    ck_assert(v == 0.999);
    grugan_optimizer_free(opt);
    /* an older, shorter config struct is accepted */
    cfg.struct_size = offsetof(grugan_optimizer_config, alpha);
    cfg.kind = GRUGAN_OPT_RMSPROP;
    ck_assert_int_eq(grugan_optimizer_create(NULL, &cfg, p, &opt, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_get(opt, GRUGAN_KEY_ALPHA, &v), GRUGAN_OK);
    ck_assert(v == 0.99);
    grugan_optimizer_free(opt);

#define BAD(field, value, code)                                                          \
    do {                                                                                 \
        grugan_optimizer_config c_ = GRUGAN_OPTIMIZER_CONFIG_INIT;                      \
        c_.kind = kind_;                                                                 \
        c_.field = value;                                                                \
        expect_create_fails(&c_, p, code, #field " = " #value);                         \
    } while (0)
    {
        int32_t kind_ = GRUGAN_OPT_ADAM;
        BAD(struct_size, 0, GRUGAN_E_INVALID);
        BAD(struct_size, sizeof(grugan_optimizer_config) + 8, GRUGAN_E_INVALID);
        BAD(kind, 4, GRUGAN_E_INVALID);
        BAD(kind, -1, GRUGAN_E_INVALID);
        BAD(lr, -1e-3, GRUGAN_E_RANGE);
        BAD(lr, NAN, GRUGAN_E_RANGE);
        BAD(lr, INFINITY, GRUGAN_E_RANGE);
        BAD(lr, 1e39, GRUGAN_E_RANGE);
        BAD(beta1, 1.0, GRUGAN_E_RANGE);
        BAD(beta2, -0.5, GRUGAN_E_RANGE);
        BAD(eps, -1e-8, GRUGAN_E_RANGE);
        BAD(weight_decay, -0.1, GRUGAN_E_RANGE);
        BAD(momentum, 0.9, GRUGAN_E_INVALID);
        BAD(alpha, 0.9, GRUGAN_E_INVALID);
        BAD(nesterov, 1, GRUGAN_E_INVALID);
        BAD(centered, 1, GRUGAN_E_INVALID);
        BAD(dampening, 0.1, GRUGAN_E_INVALID);
    }
    {
        int32_t kind_ = GRUGAN_OPT_SGD;
        BAD(beta1, 0.5, GRUGAN_E_INVALID);
        BAD(eps, 1e-6, GRUGAN_E_INVALID);
        BAD(momentum, 1.0, GRUGAN_E_RANGE);
        BAD(dampening, 1.5, GRUGAN_E_RANGE);
        BAD(nesterov, 2, GRUGAN_E_RANGE);
        BAD(nesterov, 1, GRUGAN_E_RANGE); /* Nesterov without momentum */
    }
    {
        int32_t kind_ = GRUGAN_OPT_RMSPROP;
        BAD(alpha, 1.0, GRUGAN_E_RANGE);
        BAD(centered, -1, GRUGAN_E_RANGE);
        BAD(beta2, 0.9, GRUGAN_E_INVALID);
    }
#undef BAD
    /* Nesterov with dampening, as torch refuses it */
    cfg = (grugan_optimizer_config)GRUGAN_OPTIMIZER_CONFIG_INIT;
    cfg.kind = GRUGAN_OPT_SGD;
    cfg.momentum = 0.9;
    cfg.dampening = 0.1;
    cfg.nesterov = 1;
    expect_create_fails(&cfg, p, GRUGAN_E_RANGE, "nesterov with dampening");
    cfg.dampening = 0;
    ck_assert_int_eq(grugan_optimizer_create(NULL, &cfg, p, &opt, NULL), GRUGAN_OK);
    grugan_optimizer_free(opt);

    /* params: NULL, or not a parameter set (a GRU handle) */
    cfg = (grugan_optimizer_config)GRUGAN_OPTIMIZER_CONFIG_INIT;
    expect_create_fails(&cfg, NULL, GRUGAN_E_INVALID, "params NULL");
    expect_create_fails(&cfg, (grugan_params *)(void *)gru, GRUGAN_E_INVALID, "params a GRU");
    ck_assert_int_eq(grugan_optimizer_create(NULL, &cfg, p, NULL, &err), GRUGAN_E_INVALID);
    ck_assert_int_eq(err.code, GRUGAN_E_INVALID);
    grugan_gru_free(gru);
}
END_TEST

START_TEST(bad_handles_are_refused)
{
    grugan_gru *gru = gru_new(2, 3, 1);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer *opt = opt_new(NULL, p);
    /* a handle of another kind, and a parameter set, in place of an optimizer */
    grugan_optimizer *const wrong[3] = {NULL, (grugan_optimizer *)(void *)gru,
                                        (grugan_optimizer *)(void *)p};
    float buf[4] = {0, 0, 0, 0}, norm = 5.0f;
    double v = 3.0;
    uint64_t steps = 7;
    float *before = values_copy(p), *after;

    for (size_t w = 0; w < 3; w++) {
        grugan_optimizer *bad = wrong[w];
        ck_assert_int_eq(grugan_optimizer_set(bad, GRUGAN_KEY_LR, 0.1), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_optimizer_get(bad, GRUGAN_KEY_LR, &v), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_optimizer_zero_grad(bad), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_optimizer_clip_grad_norm(bad, 1.0f, &norm), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_optimizer_step(bad), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_optimizer_step_count(bad, &steps), GRUGAN_E_INVALID);
        ck_assert_uint_eq(grugan_optimizer_state_size(bad), 0);
        ck_assert_int_eq(grugan_optimizer_state_read(bad, buf, 0, &steps), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_optimizer_state_write(bad, buf, 0, 1), GRUGAN_E_INVALID);
        ck_assert_ptr_nonnull(grugan_optimizer_message(bad));
        ck_assert_msg(grugan_optimizer_message(bad)[0] != '\0', "empty message");
        grugan_optimizer_free(bad); /* a no-op */
    }
    ck_assert(v == 3.0 && norm == 5.0f && steps == 7);
    ck_assert_int_eq(grugan_optimizer_step_count(opt, NULL), GRUGAN_E_INVALID);
    /* the GRU and its parameters survived being passed as an optimizer */
    after = values_copy(p);
    ck_assert_mem_eq(before, after, grugan_params_num_scalars(p) * sizeof *before);
    ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
    free(before);
    free(after);
    grugan_optimizer_free(opt);
    grugan_gru_free(gru);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Allocation through the context                                            */
/* ------------------------------------------------------------------------- */

START_TEST(failed_allocations_leak_nothing)
{
    counting_alloc counts;
    grugan_context_config ccfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = NULL;
    grugan_gru *gru = gru_new(3, 6, 1);
    grugan_params *p = grugan_gru_params(gru);
    grugan_optimizer_config cfg = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_optimizer *opt = NULL;
    grugan_error err;
    size_t first_ok = 0, base;

    memset(&counts, 0, sizeof counts);
    ccfg.alloc = counting_alloc_fn;
    ccfg.free = counting_free_fn;
    ccfg.alloc_user = &counts;
    ck_assert_int_eq(grugan_context_create(&ccfg, &ctx, NULL), GRUGAN_OK);
    base = counts.live;
    for (int32_t kind = GRUGAN_OPT_ADAM; kind <= GRUGAN_OPT_RMSPROP; kind++) {
        size_t before;
        float *s;
        cfg.kind = kind;
        first_ok = 0;
        for (size_t k = 1; k < 100 && !first_ok; k++) {
            int st;
            opt = (grugan_optimizer *)(void *)&cfg;
            counts.fail_at = counts.allocs + k;
            st = grugan_optimizer_create(ctx, &cfg, p, &opt, &err);
            counts.fail_at = 0;
            if (st == GRUGAN_OK) {
                first_ok = k;
                break;
            }
            ck_assert_int_eq(st, GRUGAN_E_NOMEM);
            ck_assert_int_eq(err.code, GRUGAN_E_NOMEM);
            ck_assert_int_gt((int)strlen(err.message), 0);
            ck_assert_ptr_null(opt);
            ck_assert_uint_eq(counts.live, base);
        }
        ck_assert_uint_gt(first_ok, 1);
        /* nothing allocates after creation */
        before = counts.allocs;
        s = falloc(3 * grugan_params_num_scalars(p));
        for (uint64_t k = 0; k < 3; k++) {
            grads_for_step(p, k, 1.0f);
            ck_assert_int_eq(grugan_optimizer_clip_grad_norm(opt, 0.5f, NULL), GRUGAN_OK);
            ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
        }
        ck_assert_int_eq(grugan_optimizer_state_read(opt, s, grugan_optimizer_state_size(opt),
                                                     NULL),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_optimizer_state_write(opt, s, grugan_optimizer_state_size(opt),
                                                      3),
                         GRUGAN_OK);
        ck_assert_uint_eq(counts.allocs, before);
        free(s);
        grugan_optimizer_free(opt);
        ck_assert_uint_eq(counts.live, base);
    }
    grugan_context_free(ctx);
    ck_assert_uint_eq(counts.live, 0);
    grugan_gru_free(gru);
}
END_TEST

Suite *suite_optimizer(void)
{
    Suite *s = suite_create("optimizer");
    TCase *golden = tcase_create("optimizer_vs_torch");
    TCase *api = tcase_create("optimizer_api");
    tcase_set_timeout(golden, 60);
    tcase_set_timeout(api, 120);
    tcase_add_loop_test(golden, updates_match_torch_optim, 0, (int)(2 * N_OPTIM_FILES));
    tcase_add_loop_test(golden, clip_grad_norm_matches_torch, 0,
                        (int)(sizeof clip_files / sizeof clip_files[0]));
    tcase_add_test(golden, clip_grad_norm_matches_double);
    tcase_add_loop_test(api, resume_from_state_is_bit_identical, 0, (int)N_CASES);
    tcase_add_test(api, state_size_layout_and_refusals);
    tcase_add_loop_test(api, non_finite_gradients_change_nothing, 0, (int)N_CASES);
    tcase_add_loop_test(api, non_finite_updates_change_nothing, 0, (int)N_CASES);
    tcase_add_loop_test(api, bit_identical_at_one_and_two_threads, 0, (int)N_CASES);
    tcase_add_loop_test(api, portable_and_vector_loops_give_the_same_bits, 0, (int)N_CASES);
    tcase_add_test(api, key_bounds_are_documented);
    tcase_add_test(api, defaults_and_settings_by_key);
    tcase_add_test(api, learning_rate_schedule_takes_effect_at_the_next_step);
    tcase_add_test(api, zero_grad_clears_the_gradient_block);
    tcase_add_test(api, bad_configs_are_refused);
    tcase_add_test(api, bad_handles_are_refused);
    tcase_add_test(api, failed_allocations_leak_nothing);
    suite_add_tcase(s, golden);
    suite_add_tcase(s, api);
    return s;
}
