/* test_loss.c - grugan_loss and grugan_feature_matching against double
 * references written here from the textbook formulas (not from the library's
 * stable forms), finite differences, extreme logits, and refusals. */
#include "suites.h"

#include "grugan.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const float SENTINEL = -12345.5f;

/* ------------------------------------------------------------------------- */
/* Double reference                                                          */
/* ------------------------------------------------------------------------- */

/* -log(sigmoid(-x)) = log(1 + e^x), branch by sign so exp never overflows. */
static double ref_log1pexp(double x)
{
    return x < 0 ? log1p(exp(x)) : x + log1p(exp(-x));
}

static double ref_sigmoid(double x)
{
    return x < 0 ? exp(x) / (1 + exp(x)) : 1 / (1 + exp(-x));
}

/* Loss of one logit and its derivative. BCE with target y is
 * y * (-log sigmoid(l)) + (1 - y) * (-log(1 - sigmoid(l))), derivative
 * sigmoid(l) - y; y = 1 - s for real data, 0 for fake, 1 for the generator. */
static double ref_loss(int kind, int target, double l, double s, double *d)
{
    switch (kind) {
    case GRUGAN_LOSS_BCE: {
        const double y = target == GRUGAN_TARGET_REAL        ? 1 - s
                         : target == GRUGAN_TARGET_GENERATOR ? 1
                                                             : 0;
        double v = 0;
        if (y != 0) v += y * ref_log1pexp(-l);
        if (y != 1) v += (1 - y) * ref_log1pexp(l);
        /* sigmoid(l) - y, written so that small results keep their digits */
        *d = y == 1 ? -ref_sigmoid(-l) : y == 0 ? ref_sigmoid(l) : ref_sigmoid(l) - y;
        if (y != 0 && y != 1 && l > 0) *d = (1 - y) - ref_sigmoid(-l);
        return v;
    }
    case GRUGAN_LOSS_LSGAN: {
        const double t = target == GRUGAN_TARGET_FAKE ? 0 : 1;
        *d = l - t;
        return 0.5 * (l - t) * (l - t);
    }
    case GRUGAN_LOSS_WASSERSTEIN:
        if (target == GRUGAN_TARGET_FAKE) {
            *d = 1;
            return l;
        }
        *d = -1;
        return -l;
    default:
        if (target == GRUGAN_TARGET_REAL) {
            *d = l < 1 ? -1 : 0;
            return fmax(0, 1 - l);
        }
        if (target == GRUGAN_TARGET_FAKE) {
            *d = l > -1 ? 1 : 0;
            return fmax(0, 1 + l);
        }
        *d = -1;
        return -l;
    }
}

/* Mean over the valid entries and the gradient (B, per_seq). */
static double ref_mean(int kind, int target, size_t B, size_t P, const float *logits,
                       const size_t *lengths, double s, double *grad)
{
    double sum = 0;
    size_t n = 0;
    for (size_t b = 0; b < B; b++)
        n += lengths && P > 1 ? lengths[b] : P;
    for (size_t b = 0; b < B; b++) {
        const size_t m = lengths && P > 1 ? lengths[b] : P;
        for (size_t t = 0; t < P; t++) {
            double d = 0;
            if (t < m) sum += ref_loss(kind, target, logits[b * P + t], s, &d);
            if (grad) grad[b * P + t] = t < m ? d / (double)n : 0;
        }
    }
    return sum / (double)n;
}

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static float rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (float)((double)(*state >> 40) / (double)(1u << 24)); /* [0, 1) */
}

/* Logits in [-4, 4], kept at least 0.05 away from the hinge kinks at +-1. */
static void fill_logits(float *x, size_t n, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) {
        float v;
        do v = 8.0f * rnd(&st) - 4.0f;
        while (fabsf(fabsf(v) - 1.0f) < 0.05f);
        x[i] = v;
    }
}

static const char *const kind_names[] = {"BCE", "LSGAN", "WASSERSTEIN", "HINGE"};
static const char *const target_names[] = {"real", "fake", "generator"};

/* ------------------------------------------------------------------------- */
/* Value and gradient against the reference                                  */
/* ------------------------------------------------------------------------- */

/* _i: kind (4) x target (3) x {per-step, per-step with lengths, one per
 * sequence} (3) x smoothing {0, 0.1} (2) */
START_TEST(loss_matches_double_reference)
{
    const int kind = _i / 18, target = (_i / 6) % 3, shape = (_i / 2) % 3;
    const float smoothing = _i % 2 ? 0.1f : 0.0f;
    const size_t B = 5, P = shape == 2 ? 1 : 7;
    const size_t lengths[5] = {7, 3, 1, 5, 7};
    const size_t *len = shape == 1 ? lengths : NULL;
    float logits[35], d[35], value = SENTINEL;
    double ref_d[35], ref;
    char where[96];

    snprintf(where, sizeof where, "%s %s %s s=%g", kind_names[kind], target_names[target],
             shape == 0 ? "per-step" : shape == 1 ? "lengths" : "final", (double)smoothing);
    fill_logits(logits, B * P, 100 + (uint64_t)_i);
    if (len) /* masked entries are not read: make them garbage */
        for (size_t b = 0; b < B; b++)
            for (size_t t = len[b]; t < P; t++) logits[b * P + t] = NAN;
    for (size_t i = 0; i < 35; i++) d[i] = SENTINEL;

    ck_assert_int_eq(grugan_loss(kind, target, B, P, logits, len, smoothing, &value, d),
                     GRUGAN_OK);
    ref = ref_mean(kind, target, B, P, logits, len, (double)smoothing, ref_d);
    ck_assert_msg(fabs(value - ref) <= 2e-7 * fabs(ref) + 1e-30, "%s: value %.9g, reference %.9g",
                  where, (double)value, ref);
    for (size_t i = 0; i < B * P; i++)
        if (!(fabs(d[i] - ref_d[i]) <= 2e-7 * fabs(ref_d[i]) + 1e-30))
            ck_abort_msg("%s: d[%zu] %.9g, reference %.9g", where, i, (double)d[i], ref_d[i]);
    for (size_t i = B * P; i < 35; i++) ck_assert_float_eq(d[i], SENTINEL);

    /* d_logits may be NULL; the value is the same */
    {
        float v2 = SENTINEL;
        ck_assert_int_eq(grugan_loss(kind, target, B, P, logits, len, smoothing, &v2, NULL),
                         GRUGAN_OK);
        ck_assert_mem_eq(&v2, &value, sizeof v2);
    }
    /* per_seq = 1 ignores lengths */
    if (shape == 2) {
        const size_t long_lengths[5] = {24, 1, 3, 100, 0};
        float v3 = SENTINEL;
        ck_assert_int_eq(grugan_loss(kind, target, B, P, logits, long_lengths, smoothing, &v3,
                                     NULL),
                         GRUGAN_OK);
        ck_assert_mem_eq(&v3, &value, sizeof v3);
    }
}
END_TEST

/* Central differences of the library's own value, in float, with the actual
 * perturbation (after rounding) as the denominator. */
START_TEST(loss_gradient_matches_finite_differences)
{
    const int kind = _i / 3, target = _i % 3;
    const size_t B = 3, P = 4;
    const size_t lengths[3] = {4, 2, 3};
    float logits[12], d[12];
    float value;

    fill_logits(logits, B * P, 500 + (uint64_t)_i);
    ck_assert_int_eq(grugan_loss(kind, target, B, P, logits, lengths, 0.05f, &value, d),
                     GRUGAN_OK);
    for (size_t i = 0; i < B * P; i++) {
        const float l = logits[i], h = 1.0f / 64;
        float lp, lm, vp, vm;
        double fd;
        logits[i] = l + h;
        lp = logits[i];
        ck_assert_int_eq(grugan_loss(kind, target, B, P, logits, lengths, 0.05f, &vp, NULL),
                         GRUGAN_OK);
        logits[i] = l - h;
        lm = logits[i];
        ck_assert_int_eq(grugan_loss(kind, target, B, P, logits, lengths, 0.05f, &vm, NULL),
                         GRUGAN_OK);
        logits[i] = l;
        fd = ((double)vp - (double)vm) / ((double)lp - (double)lm);
        if (!(fabs(fd - d[i]) <= 2e-4 + 1e-3 * fabs(d[i])))
            ck_abort_msg("%s %s: d[%zu] %.7g, finite difference %.7g", kind_names[kind],
                         target_names[target], i, (double)d[i], fd);
    }
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Extreme logits                                                            */
/* ------------------------------------------------------------------------- */

START_TEST(extreme_logits_are_finite_and_accurate)
{
    const float extremes[] = {80.0f, -80.0f, 1e4f, -1e4f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX,
                              0.0f, 30.0f, -30.0f};
    const size_t n_ext = sizeof extremes / sizeof extremes[0];
    for (int kind = GRUGAN_LOSS_BCE; kind <= GRUGAN_LOSS_HINGE; kind++)
        for (int target = GRUGAN_TARGET_REAL; target <= GRUGAN_TARGET_GENERATOR; target++)
            for (int sm = 0; sm < 2; sm++)
                for (size_t e = 0; e < n_ext; e++) {
                    const float l = extremes[e], s = sm ? 0.1f : 0.0f;
                    float value = SENTINEL, d = SENTINEL;
                    double ref_d, ref;
                    const int st = grugan_loss(kind, target, 1, 1, &l, NULL, s, &value, &d);
                    ref = ref_loss(kind, target, l, (double)s, &ref_d);
                    if (kind == GRUGAN_LOSS_LSGAN && fabs(ref) > FLT_MAX) {
                        /* the mean overflows float: refused, nothing written */
                        ck_assert_int_eq(st, GRUGAN_E_NONFINITE);
                        ck_assert_float_eq(value, SENTINEL);
                        ck_assert_float_eq(d, SENTINEL);
                        continue;
                    }
                    ck_assert_msg(st == GRUGAN_OK, "%s %s l=%g: status %d", kind_names[kind],
                                  target_names[target], (double)l, st);
                    ck_assert_msg(isfinite(value) && isfinite(d), "%s %s l=%g: %g %g",
                                  kind_names[kind], target_names[target], (double)l,
                                  (double)value, (double)d);
                    /* the float nearest to the exact result, up to an ulp;
                     * e^-80 = 1.8e-35 is a normal float and must come out */
                    ck_assert_msg(fabs(value - ref) <= 1.2e-7 * fabs(ref) &&
                                      fabs(d - ref_d) <= 1.2e-7 * fabs(ref_d),
                                  "%s %s s=%g l=%g: value %.9g (exact %.9g), d %.9g (exact "
                                  "%.9g)",
                                  kind_names[kind], target_names[target], (double)s, (double)l,
                                  (double)value, ref, (double)d, ref_d);
                }
    /* the e^-80 cases explicitly */
    {
        const float l = 80.0f, lm = -80.0f;
        float v, d;
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_REAL, 1, 1, &l, NULL, 0.0f,
                                     &v, &d),
                         GRUGAN_OK);
        ck_assert_float_eq_tol(v, 1.8048513e-35f, 1e-41f);
        ck_assert_float_gt(v, 0.0f);
        ck_assert_float_lt(d, 0.0f);
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_FAKE, 1, 1, &lm, NULL, 0.0f,
                                     &v, &d),
                         GRUGAN_OK);
        ck_assert_float_eq_tol(v, 1.8048513e-35f, 1e-41f);
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_FAKE, 1, 1, &l, NULL, 0.0f,
                                     &v, &d),
                         GRUGAN_OK);
        ck_assert_float_eq(v, 80.0f);
        ck_assert_float_eq(d, 1.0f);
    }
    /* a batch mixing them, every kind: finite (LSGAN without the 1e30s) */
    {
        const float mix[6] = {80.0f, -80.0f, 1e4f, -1e4f, 1e30f, -1e30f};
        for (int kind = GRUGAN_LOSS_BCE; kind <= GRUGAN_LOSS_HINGE; kind++)
            for (int target = GRUGAN_TARGET_REAL; target <= GRUGAN_TARGET_GENERATOR; target++) {
                const size_t n = kind == GRUGAN_LOSS_LSGAN ? 4 : 6;
                float v, d[6];
                double ref_d[6], ref;
                ck_assert_int_eq(grugan_loss(kind, target, 1, n, mix, NULL, 0.1f, &v, d),
                                 GRUGAN_OK);
                ref = ref_mean(kind, target, 1, n, mix, NULL, (double)0.1f, ref_d);
                ck_assert(fabs(v - ref) <= 1.2e-7 * fabs(ref));
                for (size_t i = 0; i < n; i++)
                    ck_assert(isfinite(d[i]) && fabs(d[i] - ref_d[i]) <= 1.2e-7 * fabs(ref_d[i]));
            }
    }
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Refusals                                                                  */
/* ------------------------------------------------------------------------- */

START_TEST(bad_loss_arguments_are_refused_and_nothing_written)
{
    float logits[12], d[12], value = SENTINEL;
    const size_t good_len[3] = {4, 2, 3}, zero_len[3] = {4, 0, 3}, long_len[3] = {4, 5, 3};
    fill_logits(logits, 12, 9);
    for (size_t i = 0; i < 12; i++) d[i] = SENTINEL;
#define BAD(call, code)                                                                  \
    do {                                                                                 \
        ck_assert_int_eq((call), (code));                                                \
        ck_assert_float_eq(value, SENTINEL);                                             \
        for (size_t i_ = 0; i_ < 12; i_++) ck_assert_float_eq(d[i_], SENTINEL);         \
    } while (0)
    BAD(grugan_loss(0, 0, 3, 4, NULL, NULL, 0.0f, &value, d), GRUGAN_E_INVALID);
    BAD(grugan_loss(0, 0, 3, 4, logits, NULL, 0.0f, NULL, d), GRUGAN_E_INVALID);
    BAD(grugan_loss(-1, 0, 3, 4, logits, NULL, 0.0f, &value, d), GRUGAN_E_INVALID);
    BAD(grugan_loss(5, 0, 3, 4, logits, NULL, 0.0f, &value, d), GRUGAN_E_INVALID);
    BAD(grugan_loss(0, -1, 3, 4, logits, NULL, 0.0f, &value, d), GRUGAN_E_INVALID);
    BAD(grugan_loss(0, 3, 3, 4, logits, NULL, 0.0f, &value, d), GRUGAN_E_INVALID);
    BAD(grugan_loss(0, 0, 0, 4, logits, NULL, 0.0f, &value, d), GRUGAN_E_SIZE);
    BAD(grugan_loss(0, 0, 3, 0, logits, NULL, 0.0f, &value, d), GRUGAN_E_SIZE);
    BAD(grugan_loss(0, 0, SIZE_MAX / 2, 3, logits, NULL, 0.0f, &value, d), GRUGAN_E_SIZE);
    BAD(grugan_loss(0, 0, 3, 4, logits, NULL, -0.1f, &value, d), GRUGAN_E_RANGE);
    BAD(grugan_loss(0, 0, 3, 4, logits, NULL, 1.0f, &value, d), GRUGAN_E_RANGE);
    BAD(grugan_loss(0, 0, 3, 4, logits, NULL, NAN, &value, d), GRUGAN_E_RANGE);
    BAD(grugan_loss(0, 0, 3, 4, logits, NULL, INFINITY, &value, d), GRUGAN_E_RANGE);
    BAD(grugan_loss(1, 1, 3, 4, logits, NULL, 1.5f, &value, d), GRUGAN_E_RANGE);
    BAD(grugan_loss(0, 0, 3, 4, logits, zero_len, 0.0f, &value, d), GRUGAN_E_RANGE);
    BAD(grugan_loss(0, 0, 3, 4, logits, long_len, 0.0f, &value, d), GRUGAN_E_RANGE);
    logits[5] = NAN; /* row 1, step 1 < 2: valid */
    BAD(grugan_loss(0, 0, 3, 4, logits, good_len, 0.0f, &value, d), GRUGAN_E_NONFINITE);
    logits[5] = INFINITY;
    BAD(grugan_loss(2, 1, 3, 4, logits, NULL, 0.0f, &value, d), GRUGAN_E_NONFINITE);
    logits[5] = -INFINITY;
    BAD(grugan_loss(3, 2, 3, 4, logits, NULL, 0.0f, &value, d), GRUGAN_E_NONFINITE);
    logits[5] = 1e30f;
    BAD(grugan_loss(GRUGAN_LOSS_LSGAN, 0, 3, 4, logits, NULL, 0.0f, &value, d),
        GRUGAN_E_NONFINITE);
#undef BAD
    /* the same NaN at a masked entry is not read */
    logits[5] = 0.5f;
    logits[6] = NAN; /* row 1, step 2 >= 2: masked */
    ck_assert_int_eq(grugan_loss(0, 0, 3, 4, logits, good_len, 0.0f, &value, d), GRUGAN_OK);
    ck_assert(isfinite(value));
    ck_assert_float_eq(d[6], 0.0f);
    ck_assert_float_eq(d[7], 0.0f);
    ck_assert_float_eq(d[11], 0.0f);
    /* label smoothing outside BCE-real is checked but ignored */
    {
        float v0, v1, d0[12], d1[12];
        logits[6] = 0.25f;
        ck_assert_int_eq(grugan_loss(0, 1, 3, 4, logits, NULL, 0.0f, &v0, d0), GRUGAN_OK);
        ck_assert_int_eq(grugan_loss(0, 1, 3, 4, logits, NULL, 0.3f, &v1, d1), GRUGAN_OK);
        ck_assert_mem_eq(&v0, &v1, sizeof v0);
        ck_assert_mem_eq(d0, d1, sizeof d0);
        ck_assert_int_eq(grugan_loss(1, 0, 3, 4, logits, NULL, 0.3f, &v1, d1), GRUGAN_OK);
        ck_assert_int_eq(grugan_loss(1, 0, 3, 4, logits, NULL, 0.0f, &v0, d0), GRUGAN_OK);
        ck_assert_mem_eq(&v0, &v1, sizeof v0);
    }
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Feature matching                                                          */
/* ------------------------------------------------------------------------- */

static double ref_feature_matching(size_t nr, size_t nf, size_t dim, const float *fr,
                                   const float *ff, double *grad)
{
    double value = 0;
    for (size_t j = 0; j < dim; j++) {
        double mr = 0, mf = 0;
        for (size_t i = 0; i < nr; i++) mr += fr[i * dim + j];
        for (size_t i = 0; i < nf; i++) mf += ff[i * dim + j];
        mr /= (double)nr;
        mf /= (double)nf;
        value += (mr - mf) * (mr - mf);
        for (size_t i = 0; i < nf; i++) grad[i * dim + j] = -2 * (mr - mf) / (double)nf;
    }
    return value;
}

START_TEST(feature_matching_matches_reference_and_finite_differences)
{
    /* dim 70 spans two of the implementation's column blocks */
    const size_t nr = 6, nf = 5, dims[3] = {1, 70, 3};
    for (size_t c = 0; c < 3; c++) {
        const size_t dim = dims[c];
        float *fr = malloc(nr * dim * sizeof *fr), *ff = malloc(nf * dim * sizeof *ff);
        float *d = malloc(nf * dim * sizeof *d), value;
        double *rd = malloc(nf * dim * sizeof *rd), ref;
        uint64_t st = 77 + c;
        ck_assert(fr && ff && d && rd);
        for (size_t i = 0; i < nr * dim; i++) fr[i] = 2.0f * rnd(&st) - 1.0f;
        for (size_t i = 0; i < nf * dim; i++) ff[i] = 2.0f * rnd(&st) - 0.5f;
        ck_assert_int_eq(grugan_feature_matching(nr, nf, dim, fr, ff, &value, d), GRUGAN_OK);
        ref = ref_feature_matching(nr, nf, dim, fr, ff, rd);
        ck_assert_msg(fabs(value - ref) <= 2e-7 * ref, "dim %zu: %.9g vs %.9g", dim,
                      (double)value, ref);
        for (size_t i = 0; i < nf * dim; i++)
            if (!(fabs(d[i] - rd[i]) <= 2e-7 * fabs(rd[i]) + 1e-30))
                ck_abort_msg("dim %zu: d[%zu] %.9g vs %.9g", dim, i, (double)d[i], rd[i]);
        /* finite differences on every fake entry (the value is quadratic) */
        for (size_t i = 0; i < nf * dim; i++) {
            const float x = ff[i], h = 1.0f / 32;
            float vp, vm, xp, xm;
            double fd;
            ff[i] = x + h;
            xp = ff[i];
            ck_assert_int_eq(grugan_feature_matching(nr, nf, dim, fr, ff, &vp, NULL), GRUGAN_OK);
            ff[i] = x - h;
            xm = ff[i];
            ck_assert_int_eq(grugan_feature_matching(nr, nf, dim, fr, ff, &vm, NULL), GRUGAN_OK);
            ff[i] = x;
            fd = ((double)vp - (double)vm) / ((double)xp - (double)xm);
            if (!(fabs(fd - d[i]) <= 1e-3 * (1 + ref)))
                ck_abort_msg("dim %zu: d[%zu] %.7g, finite difference %.7g", dim, i,
                             (double)d[i], fd);
        }
        /* identical sets match perfectly */
        ck_assert_int_eq(grugan_feature_matching(nr, nr, dim, fr, fr, &value, NULL), GRUGAN_OK);
        ck_assert_float_eq(value, 0.0f);
        free(fr);
        free(ff);
        free(d);
        free(rd);
    }
}
END_TEST

START_TEST(bad_feature_matching_arguments_are_refused)
{
    float fr[6] = {1, 2, 3, 4, 5, 6}, ff[6] = {0, 1, 0, 1, 0, 1}, d[6], value = SENTINEL;
    for (size_t i = 0; i < 6; i++) d[i] = SENTINEL;
#define BAD(call, code)                                                                  \
    do {                                                                                 \
        ck_assert_int_eq((call), (code));                                                \
        ck_assert_float_eq(value, SENTINEL);                                             \
        for (size_t i_ = 0; i_ < 6; i_++) ck_assert_float_eq(d[i_], SENTINEL);          \
    } while (0)
    BAD(grugan_feature_matching(2, 2, 3, NULL, ff, &value, d), GRUGAN_E_INVALID);
    BAD(grugan_feature_matching(2, 2, 3, fr, NULL, &value, d), GRUGAN_E_INVALID);
    BAD(grugan_feature_matching(2, 2, 3, fr, ff, NULL, d), GRUGAN_E_INVALID);
    BAD(grugan_feature_matching(0, 2, 3, fr, ff, &value, d), GRUGAN_E_SIZE);
    BAD(grugan_feature_matching(2, 0, 3, fr, ff, &value, d), GRUGAN_E_SIZE);
    BAD(grugan_feature_matching(2, 2, 0, fr, ff, &value, d), GRUGAN_E_SIZE);
    BAD(grugan_feature_matching(SIZE_MAX / 2, 2, 3, fr, ff, &value, d), GRUGAN_E_SIZE);
    BAD(grugan_feature_matching(2, SIZE_MAX / 2, 3, fr, ff, &value, d), GRUGAN_E_SIZE);
    fr[4] = NAN;
    BAD(grugan_feature_matching(2, 2, 3, fr, ff, &value, d), GRUGAN_E_NONFINITE);
    fr[4] = 5;
    ff[0] = -INFINITY;
    BAD(grugan_feature_matching(2, 2, 3, fr, ff, &value, d), GRUGAN_E_NONFINITE);
    ff[0] = 3e38f; /* finite, but the squared difference overflows float */
    BAD(grugan_feature_matching(2, 2, 3, fr, ff, &value, d), GRUGAN_E_NONFINITE);
#undef BAD
    ff[0] = 0;
    ck_assert_int_eq(grugan_feature_matching(2, 2, 3, fr, ff, &value, d), GRUGAN_OK);
    /* means (2.5, 3.5, 4.5) and (0.5, 0.5, 0.5): 2^2 + 3^2 + 4^2; d = -2 diff / 2 */
    ck_assert_float_eq(value, 29.0f);
    ck_assert_float_eq(d[0], -2.0f);
    ck_assert_float_eq(d[4], -3.0f);
    ck_assert_float_eq(d[5], -4.0f);
}
END_TEST

/* The moment loss in double, from its definition. */
static double moments_reference(const double *r, size_t nr, const double *f, size_t nf,
                                size_t dim)
{
    double total = 0;
    for (size_t j = 0; j < dim; j++) {
        double mr = 0, mf = 0, vr = 0, vf = 0;
        for (size_t i = 0; i < nr; i++) mr += r[i * dim + j] / (double)nr;
        for (size_t i = 0; i < nf; i++) mf += f[i * dim + j] / (double)nf;
        for (size_t i = 0; i < nr; i++) vr += (r[i * dim + j] - mr) * (r[i * dim + j] - mr) / (double)nr;
        for (size_t i = 0; i < nf; i++) vf += (f[i * dim + j] - mf) * (f[i * dim + j] - mf) / (double)nf;
        total += fabs(sqrt(vr + 1e-6) - sqrt(vf + 1e-6)) + fabs(mr - mf);
    }
    return total / (double)dim;
}

/* The supervised loss in double, from its definition: the mean over
 * b, t < T-1, j of (h[b][t+1][j] - s[b][t][j])^2. */
static double supervised_reference(const double *h, const double *s, size_t B, size_t T, size_t D)
{
    double total = 0;
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t + 1 < T; t++)
            for (size_t j = 0; j < D; j++) {
                const double e = h[(b * T + t + 1) * D + j] - s[(b * T + t) * D + j];
                total += e * e;
            }
    return total / (double)(B * (T - 1) * D);
}

START_TEST(supervised_loss_matches_reference_and_finite_differences)
{
    enum { B = 3, T = 5, D = 7, N = B * T * D };
    float h[N], s[N], dh[N], ds[N], value = 0, v2 = 0;
    double hd[N], sd[N];
    unsigned r = 29;
    for (size_t i = 0; i < N; i++) {
        r = r * 1103515245u + 12345u;
        h[i] = (float)((r >> 8) % 1000) / 1000.0f;
        r = r * 1103515245u + 12345u;
        s[i] = (float)((r >> 8) % 1000) / 800.0f - 0.1f;
        hd[i] = h[i];
        sd[i] = s[i];
    }
    ck_assert_int_eq(grugan_supervised_loss(B, T, D, h, s, &value, dh, ds), GRUGAN_OK);
    ck_assert_double_eq_tol(value, supervised_reference(hd, sd, B, T, D), 1e-6);
    for (size_t i = 0; i < N; i++) {
        const double e = 1e-6;
        double keep = hd[i], up, down;
        hd[i] = keep + e;
        up = supervised_reference(hd, sd, B, T, D);
        hd[i] = keep - e;
        down = supervised_reference(hd, sd, B, T, D);
        hd[i] = keep;
        ck_assert_double_eq_tol(dh[i], (up - down) / (2 * e), 1e-5);
        keep = sd[i];
        sd[i] = keep + e;
        up = supervised_reference(hd, sd, B, T, D);
        sd[i] = keep - e;
        down = supervised_reference(hd, sd, B, T, D);
        sd[i] = keep;
        ck_assert_double_eq_tol(ds[i], (up - down) / (2 * e), 1e-5);
    }
    /* either gradient alone gives the same numbers */
    {
        float dh2[N], ds2[N];
        ck_assert_int_eq(grugan_supervised_loss(B, T, D, h, s, &v2, dh2, NULL), GRUGAN_OK);
        ck_assert_int_eq(grugan_supervised_loss(B, T, D, h, s, &v2, NULL, ds2), GRUGAN_OK);
        ck_assert(memcmp(dh, dh2, sizeof dh) == 0 && memcmp(ds, ds2, sizeof ds) == 0);
        ck_assert(memcmp(&value, &v2, sizeof value) == 0);
    }
    /* a perfect prediction has loss 0 */
    {
        float shifted[N];
        for (size_t i = 0; i < N; i++) shifted[i] = (i % (T * D)) + D < T * D ? h[i + D] : 0.5f;
        ck_assert_int_eq(grugan_supervised_loss(B, T, D, h, shifted, &v2, NULL, NULL), GRUGAN_OK);
        ck_assert(v2 == 0.0f);
    }
    ck_assert_int_eq(grugan_supervised_loss(B, 1, D, h, s, &v2, dh, ds), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_supervised_loss(0, T, D, h, s, &v2, dh, ds), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_supervised_loss(B, T, 0, h, s, &v2, dh, ds), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_supervised_loss(SIZE_MAX, T, D, h, s, &v2, dh, ds), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_supervised_loss(B, T, D, NULL, s, &v2, dh, ds), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_supervised_loss(B, T, D, h, NULL, &v2, dh, ds), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_supervised_loss(B, T, D, h, s, NULL, dh, ds), GRUGAN_E_INVALID);
    v2 = 7.0f;
    s[N - 1] = NAN; /* in the last step, which no pair uses: still refused */
    ck_assert_int_eq(grugan_supervised_loss(B, T, D, h, s, &v2, dh, ds), GRUGAN_E_NONFINITE);
    ck_assert(v2 == 7.0f);
}
END_TEST

START_TEST(moment_matching_matches_reference_and_finite_differences)
{
    enum { NR = 7, NF = 5, DIM = 11 };
    float r[NR * DIM], f[NF * DIM], d[NF * DIM], value = 0;
    double rd[NR * DIM], fd[NF * DIM];
    unsigned s = 17;
    for (size_t i = 0; i < NR * DIM; i++) {
        s = s * 1103515245u + 12345u;
        r[i] = (float)((s >> 8) % 1000) / 1000.0f;
        rd[i] = r[i];
    }
    for (size_t i = 0; i < NF * DIM; i++) {
        s = s * 1103515245u + 12345u;
        f[i] = (float)((s >> 8) % 1000) / 700.0f - 0.2f;
        fd[i] = f[i];
    }
    ck_assert_int_eq(grugan_moment_matching(NR, NF, DIM, r, f, &value, d), GRUGAN_OK);
    ck_assert_double_eq_tol(value, moments_reference(rd, NR, fd, NF, DIM), 1e-6);
    for (size_t i = 0; i < NF * DIM; i++) {
        const double h = 1e-6, keep = fd[i];
        double up, down;
        fd[i] = keep + h;
        up = moments_reference(rd, NR, fd, NF, DIM);
        fd[i] = keep - h;
        down = moments_reference(rd, NR, fd, NF, DIM);
        fd[i] = keep;
        ck_assert_double_eq_tol(d[i], (up - down) / (2 * h), 1e-5);
    }
    ck_assert_int_eq(grugan_moment_matching(NR, NF, DIM, r, r, &value, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_moment_matching(NR, NF, 0, r, f, &value, d), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_moment_matching(NR, NF, DIM, NULL, f, &value, d), GRUGAN_E_INVALID);
    f[3] = NAN;
    ck_assert_int_eq(grugan_moment_matching(NR, NF, DIM, r, f, &value, d), GRUGAN_E_NONFINITE);
}
END_TEST

/* The difference loss in double: the moment loss of the explicit
 * step-to-step changes of sequences (n, T, F). */
static double differences_reference(const double *r, size_t nr, const double *f, size_t nf,
                                    size_t T, size_t F)
{
    enum { CAP = 7 * 6 * 3 };
    const size_t dim = (T - 1) * F;
    double dr[CAP], df[CAP];
    ck_assert_uint_le(nr * dim, CAP);
    ck_assert_uint_le(nf * dim, CAP);
    for (size_t i = 0; i < nr; i++)
        for (size_t t = 0; t + 1 < T; t++)
            for (size_t k = 0; k < F; k++)
                dr[i * dim + t * F + k] = r[(i * T + t + 1) * F + k] - r[(i * T + t) * F + k];
    for (size_t i = 0; i < nf; i++)
        for (size_t t = 0; t + 1 < T; t++)
            for (size_t k = 0; k < F; k++)
                df[i * dim + t * F + k] = f[(i * T + t + 1) * F + k] - f[(i * T + t) * F + k];
    return moments_reference(dr, nr, df, nf, dim);
}

START_TEST(difference_matching_matches_reference_and_finite_differences)
{
    enum { NR = 7, NF = 5, T = 7, F = 3, SEQ = T * F };
    float r[NR * SEQ], f[NF * SEQ], d[NF * SEQ], value = 0;
    double rd[NR * SEQ], fd[NF * SEQ];
    unsigned s = 29;
    for (size_t i = 0; i < NR * SEQ; i++) {
        s = s * 1103515245u + 12345u;
        r[i] = (float)((s >> 8) % 1000) / 1000.0f;
        rd[i] = r[i];
    }
    for (size_t i = 0; i < NF * SEQ; i++) {
        s = s * 1103515245u + 12345u;
        f[i] = (float)((s >> 8) % 1000) / 700.0f - 0.2f;
        fd[i] = f[i];
    }
    for (size_t i = 0; i < NF * SEQ; i++) d[i] = 1e9f; /* written, not accumulated */
    ck_assert_int_eq(grugan_difference_matching(NR, NF, T, F, r, f, &value, d), GRUGAN_OK);
    ck_assert_double_eq_tol(value, differences_reference(rd, NR, fd, NF, T, F), 1e-6);
    for (size_t i = 0; i < NF * SEQ; i++) {
        const double h = 1e-6, keep = fd[i];
        double up, down;
        fd[i] = keep + h;
        up = differences_reference(rd, NR, fd, NF, T, F);
        fd[i] = keep - h;
        down = differences_reference(rd, NR, fd, NF, T, F);
        fd[i] = keep;
        ck_assert_double_eq_tol(d[i], (up - down) / (2 * h), 1e-5);
    }
    /* a shift of every value changes no difference */
    memcpy(f, r, sizeof f);
    ck_assert_int_eq(grugan_difference_matching(NF, NF, T, F, r, f, &value, NULL), GRUGAN_OK);
    ck_assert_float_eq(value, 0.0f);
    for (size_t i = 0; i < NF * SEQ; i++) f[i] += 0.25f;
    ck_assert_int_eq(grugan_difference_matching(NF, NF, T, F, r, f, &value, NULL), GRUGAN_OK);
    ck_assert_double_eq_tol(value, 0.0, 1e-7);
    ck_assert_int_eq(grugan_difference_matching(NR, NF, 1, F, r, f, &value, d), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_difference_matching(NR, NF, T, 0, r, f, &value, d), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_difference_matching(0, NF, T, F, r, f, &value, d), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_difference_matching(NR, NF, T, F, r, NULL, &value, d),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_difference_matching(NR, NF, T, F, r, f, NULL, d), GRUGAN_E_INVALID);
    f[3] = INFINITY;
    ck_assert_int_eq(grugan_difference_matching(NR, NF, T, F, r, f, &value, d),
                     GRUGAN_E_NONFINITE);
    ck_assert_int_eq(grugan_difference_matching(NR, NF, T, (size_t)-1 / 2, r, f, &value, d),
                     GRUGAN_E_SIZE);
}
END_TEST

/* GRUGAN_LOSS_WGAN_GP is the Wasserstein loss, bit for bit, for every target
 * (its penalty is the trainer's). */
START_TEST(wgan_gp_loss_is_the_wasserstein_loss)
{
    const float logits[6] = {-2.5f, 0.0f, 1.25f, 3.0f, -0.5f, 7.0f};
    const size_t lengths[2] = {3, 1};
    for (int target = GRUGAN_TARGET_REAL; target <= GRUGAN_TARGET_GENERATOR; target++) {
        float v1 = 0.0f, v2 = 1.0f, d1[6], d2[6];
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_WASSERSTEIN, target, 2, 3, logits, lengths,
                                     0.0f, &v1, d1),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_WGAN_GP, target, 2, 3, logits, lengths, 0.0f,
                                     &v2, d2),
                         GRUGAN_OK);
        ck_assert(memcmp(&v1, &v2, sizeof v1) == 0);
        ck_assert(memcmp(d1, d2, sizeof d1) == 0);
    }
}
END_TEST

Suite *suite_loss(void)
{
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("losses");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, loss_matches_double_reference, 0, 4 * 3 * 3 * 2);
    tcase_add_loop_test(tc, loss_gradient_matches_finite_differences, 0, 4 * 3);
    tcase_add_test(tc, extreme_logits_are_finite_and_accurate);
    tcase_add_test(tc, bad_loss_arguments_are_refused_and_nothing_written);
    tcase_add_test(tc, wgan_gp_loss_is_the_wasserstein_loss);
    tcase_add_test(tc, feature_matching_matches_reference_and_finite_differences);
    tcase_add_test(tc, bad_feature_matching_arguments_are_refused);
    tcase_add_test(tc, moment_matching_matches_reference_and_finite_differences);
    tcase_add_test(tc, supervised_loss_matches_reference_and_finite_differences);
    tcase_add_test(tc, difference_matching_matches_reference_and_finite_differences);
    suite_add_tcase(s, tc);
    return s;
}
