/*
 * quality.c - the quick quality estimate of a generator that model selection
 * ranks generators by (the trainer's, or a custom loop's):
 *
 *   1. generate n sequences with the noise of samples 0 .. n-1 for `seed`,
 *      each with the condition of real sequence i (when C > 0);
 *   2. map real and generated values to [0, 1] with the per-feature minimum
 *      and maximum of the real sequences (generated values outside are
 *      clamped: a generator that overshoots is still ranked, not refused);
 *   3. the discriminative score (metrics.c) of the two sets, with fewer
 *      repetitions and iterations than the published protocol; with n_test
 *      > 0 the classifier trains on the first n - n_test real sequences and
 *      as many generated ones and is tested on the last n_test of each (the
 *      trainer passes its held-out sequences there), otherwise on random
 *      80/20 splits.
 *
 * With the same seed every estimate sees the same noise, splits, minibatch
 * order and initial classifier weights, so two generators are compared on
 * common random numbers: what differs between their estimates is the
 * generators. docs/QUALITY.md, "Model selection", has the measurements that
 * chose the defaults.
 */
#include "core/core.h"
#include "eval/quality.h"

#include <math.h>
#include <string.h>

/* Sequences generated per forward. */
#define QUALITY_CHUNK 128

/* x := (x - lo) / (hi - lo) per feature, clamped to [0, 1]; a constant
 * feature (hi == lo) maps to 0.5. */
static void to_unit(float *x, size_t rows, size_t F, const float *lo, const float *hi)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t f = 0; f < F; f++) {
            const double span = (double)hi[f] - (double)lo[f];
            double v = span > 0.0 ? ((double)x[r * F + f] - lo[f]) / span : 0.5;
            v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
            x[r * F + f] = (float)v;
        }
}

/* Fills the zero fields of cfg with the estimate's defaults. */
static void quality_defaults(grugan_metric_config *cfg)
{
    if (!cfg->repetitions) cfg->repetitions = GRUGAN__QUALITY_REPETITIONS;
    if (!cfg->iterations) cfg->iterations = GRUGAN__QUALITY_ITERATIONS;
}

int grugan__generator_quality(grugan_context *ctx, grugan_generator *gen,
                              const grugan_metric_config *config, const float *real,
                              const float *conditions, size_t n, size_t n_test, size_t steps,
                              double *quality, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
    size_t F, Z, C, rows, chunk;
    float *fake = NULL, *unit = NULL, *z = NULL, *lo = NULL, *hi = NULL;
    int rc;

    grugan_generator_get_config(gen, &gc);
    F = gc.output_size;
    Z = gc.noise_size;
    C = gc.condition_size;
    if (config && grugan__config_copy(&mc, sizeof mc, config) != GRUGAN_OK)
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "config.struct_size is wrong (use GRUGAN_METRIC_CONFIG_INIT)");
    quality_defaults(&mc);
    if (!real) return grugan__error_set(c, err, GRUGAN_E_INVALID, "real is NULL");
    if (C && !conditions)
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "the generator takes a condition of %zu values: conditions is "
                                 "NULL", C);
    if (n < 5 || steps == 0)
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "the estimate needs at least 5 real sequences of at least 1 "
                                 "step (given %zu of %zu)", n, steps);
    if (n_test >= n)
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "n_test (%zu) leaves no training part of the %zu sequences",
                                 n_test, n);
    if (!grugan__mul3_size(n, steps, F, &rows) || rows > SIZE_MAX / (2 * sizeof(float)))
        return grugan__error_set(c, err, GRUGAN_E_SIZE, "%zu x %zu x %zu values overflow", n,
                                 steps, F);
    chunk = n < QUALITY_CHUNK ? n : QUALITY_CHUNK;
    fake = grugan__alloc(c, rows * sizeof *fake);
    unit = grugan__alloc(c, rows * sizeof *unit);
    z = grugan__alloc(c, chunk * steps * Z * sizeof *z);
    lo = grugan__alloc(c, 2 * F * sizeof *lo);
    if (!fake || !unit || !z || !lo) {
        rc = grugan__error_set(c, err, GRUGAN_E_NOMEM, "cannot allocate the estimate's buffers");
        goto done;
    }
    hi = lo + F;

    for (size_t first = 0; first < n; first += chunk) {
        const size_t k = n - first < chunk ? n - first : chunk;
        rc = grugan_generator_noise(gen, mc.seed, first, k, steps, z);
        if (rc == GRUGAN_OK)
            rc = grugan_generator_forward(gen, k, steps, z, C ? conditions + first * C : NULL,
                                          NULL, fake + first * steps * F);
        if (rc != GRUGAN_OK) {
            rc = grugan__error_set(c, err, rc, "generator: %s", grugan_generator_message(gen));
            goto done;
        }
    }
    for (size_t f = 0; f < F; f++) lo[f] = INFINITY, hi[f] = -INFINITY;
    for (size_t r = 0; r < n * steps; r++)
        for (size_t f = 0; f < F; f++) {
            const float v = real[r * F + f];
            if (!isfinite(v)) {
                rc = grugan__error_set(c, err, GRUGAN_E_NONFINITE,
                                       "real holds NaN or Inf (sequence %zu)", r / steps);
                goto done;
            }
            if (v < lo[f]) lo[f] = v;
            if (v > hi[f]) hi[f] = v;
        }
    memcpy(unit, real, rows * sizeof *unit);
    to_unit(unit, n * steps, F, lo, hi);
    for (size_t i = 0; i < rows; i++) /* a diverged generator ranks last, not as an error */
        if (!isfinite(fake[i])) fake[i] = fake[i] > 0 ? hi[i % F] : lo[i % F];
    to_unit(fake, n * steps, F, lo, hi);
    rc = grugan__discriminative_split_score(ctx, &mc, unit, n, n_test, fake, n, n_test,
                                            steps, F, quality, err);
done:
    grugan__free(c, fake);
    grugan__free(c, unit);
    grugan__free(c, z);
    grugan__free(c, lo);
    return rc;
}

int grugan_generator_quality(grugan_generator *gen, const grugan_metric_config *config,
                             const float *real, const float *conditions, size_t n,
                             size_t n_test, size_t steps, double *quality)
{
    /* every handle starts with its grugan__object */
    grugan__object *obj = (grugan__object *)gen;
    grugan_error err;
    double q = NAN;
    int rc;
    if (!grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR)) return GRUGAN_E_INVALID;
    if (!quality) return grugan__fail(obj, GRUGAN_E_INVALID, "quality is NULL");
    rc = grugan__generator_quality((grugan_context *)obj->ctx, gen, config, real, conditions, n,
                                   n_test, steps, &q, &err);
    if (rc != GRUGAN_OK) return grugan__fail(obj, rc, "%s", err.message);
    grugan__clear(obj);
    *quality = q;
    return GRUGAN_OK;
}
