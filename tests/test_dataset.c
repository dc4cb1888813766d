/* test_dataset.c - grugan_dataset: sources and windows, the scaler and its
 * inverse, the shuffled minibatch stream (determinism, coverage, resuming),
 * failures, and allocation through the context. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------- */

static const float SENTINEL = -12345.5f;

/* A failing creation: its status, a message, and no handle. */
#define EXPECT_CREATE_FAIL(call, status)                                                \
    do {                                                                                \
        grugan_error err_;                                                              \
        grugan_dataset *ds_ = (grugan_dataset *)&err_;                                  \
        ck_assert_int_eq((call(&ds_, &err_)), (status));                                \
        ck_assert_int_eq(err_.code, (status));                                          \
        ck_assert_msg(err_.message[0] != '\0', "no message");                           \
        ck_assert_ptr_null(ds_);                                                        \
    } while (0)

/* A failing call on a handle: its status and a message. */
#define EXPECT_FAIL(ds, call, code)                                                       \
    do {                                                                                  \
        ck_assert_int_eq((call), (code));                                                 \
        ck_assert_msg(grugan_dataset_message(ds)[0] != '\0', "no message after %s", #call); \
    } while (0)

/* (N, T, F) sequences where value(i, t, f) = 100 i + 10 t + f. */
static float *numbered(size_t N, size_t T, size_t F)
{
    float *x = falloc(N * T * F);
    for (size_t i = 0; i < N; i++)
        for (size_t t = 0; t < T; t++)
            for (size_t f = 0; f < F; f++)
                x[(i * T + t) * F + f] = (float)(100 * i + 10 * t + f);
    return x;
}

static grugan_dataset *array_dataset(const float *data, size_t N, size_t T, size_t F,
                                     int scaling, uint64_t seed)
{
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_error err;
    cfg.scaling = scaling;
    cfg.seed = seed;
    ck_assert_msg(grugan_dataset_from_array(NULL, &cfg, data, N, T, F, NULL, 0, NULL, &ds,
                                            &err) == GRUGAN_OK,
                  "%s", err.message);
    return ds;
}

/* A dataset of N one-step, one-feature sequences whose value is their index
 * (no scaling), so batches show which sequences they hold. */
static grugan_dataset *index_dataset(size_t N, uint64_t seed)
{
    float *x = falloc(N);
    grugan_dataset *ds;
    for (size_t i = 0; i < N; i++) x[i] = (float)i;
    ds = array_dataset(x, N, 1, 1, GRUGAN_SCALE_NONE, seed);
    free(x);
    return ds;
}

/* Indices of the next batch of an index dataset. */
static void next_indices(grugan_dataset *ds, size_t B, size_t *idx, uint64_t *epoch)
{
    float x[64];
    ck_assert_uint_le(B, 64);
    ck_assert_int_eq(grugan_dataset_next_batch(ds, B, x, NULL, NULL, epoch), GRUGAN_OK);
    for (size_t b = 0; b < B; b++) idx[b] = (size_t)x[b];
}

/* ------------------------------------------------------------------------- */
/* Sources and windows                                                       */
/* ------------------------------------------------------------------------- */

START_TEST(array_source_is_copied)
{
    const size_t N = 3, T = 4, F = 2, C = 3;
    float *data = numbered(N, T, F), x[8], cond[3], cbatch[9];
    const float conditions[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const size_t lengths[3] = {4, 2, 3};
    size_t n = 0, steps = 0, features = 0, csize = 0, len = 0;
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_error err;

    cfg.scaling = GRUGAN_SCALE_NONE;
    data[(1 * T + 3) * F + 0] = NAN; /* padding past length 2: ignored */
    ck_assert_int_eq(grugan_dataset_from_array(NULL, &cfg, data, N, T, F, conditions, C, lengths,
                                               &ds, &err),
                     GRUGAN_OK);
    ck_assert_int_eq(err.code, GRUGAN_OK);
    ck_assert_str_eq(err.message, "");
    memset(data, 0, N * T * F * sizeof(float)); /* the dataset has its own copy */
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, &steps, &features, &csize), GRUGAN_OK);
    ck_assert_uint_eq(n, N);
    ck_assert_uint_eq(steps, T);
    ck_assert_uint_eq(features, F);
    ck_assert_uint_eq(csize, C);
    ck_assert_int_eq(grugan_dataset_shape(ds, NULL, NULL, NULL, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_get(ds, 1, x, cond, &len), GRUGAN_OK);
    ck_assert_uint_eq(len, 2);
    ck_assert_float_eq(cond[0], 4);
    ck_assert_float_eq(cond[2], 6);
    for (size_t t = 0; t < T; t++)
        for (size_t f = 0; f < F; f++)
            ck_assert_float_eq(x[t * F + f], t < 2 ? (float)(100 + 10 * t + f) : 0.0f);
    ck_assert_int_eq(grugan_dataset_get(ds, 2, x, NULL, NULL), GRUGAN_OK);
    ck_assert_float_eq(x[5], 221);
    /* batches carry each sequence's condition and length */
    {
        float xb[3 * 8];
        size_t lb[3];
        ck_assert_int_eq(grugan_dataset_next_batch(ds, 3, xb, cbatch, lb, NULL), GRUGAN_OK);
        for (size_t b = 0; b < 3; b++) {
            const size_t i = (size_t)(xb[b * 8] / 100);
            ck_assert_uint_eq(lb[b], lengths[i]);
            ck_assert_float_eq(cbatch[b * 3], conditions[i * 3]);
        }
    }
    grugan_dataset_free(ds);

    /* conditions with C = 0 are ignored; lengths absent mean T */
    ck_assert_int_eq(grugan_dataset_from_array(NULL, NULL, x, 1, 4, 2, conditions, 0, NULL, &ds,
                                               NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, NULL, NULL, NULL, &csize), GRUGAN_OK);
    ck_assert_uint_eq(csize, 0);
    ck_assert_int_eq(grugan_dataset_get(ds, 0, x, cond, &len), GRUGAN_OK);
    ck_assert_uint_eq(len, 4);
    grugan_dataset_free(ds);
    free(data);
}
END_TEST

START_TEST(series_windows)
{
    /* 10 rows of 3 features: row r holds (r, 10 + r, 20 + r) */
    float series[30], x[4 * 3];
    const size_t cols[] = {2, 0};
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_error err;
    size_t n = 0, F = 0;
    for (int r = 0; r < 10; r++)
        for (int f = 0; f < 3; f++) series[r * 3 + f] = (float)(10 * f + r);
    cfg.scaling = GRUGAN_SCALE_NONE;
    cfg.sequence_length = 4;
    static const struct {
        size_t stride, n;
    } cases[] = {{0, 7}, {1, 7}, {2, 4}, {3, 3}, {6, 2}, {7, 1}, {100, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cfg.stride = cases[k].stride;
        ck_assert_int_eq(grugan_dataset_from_series(NULL, &cfg, series, 10, 3, &ds, &err),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_dataset_shape(ds, &n, NULL, &F, NULL), GRUGAN_OK);
        ck_assert_uint_eq(n, cases[k].n);
        ck_assert_uint_eq(F, 3);
        for (size_t i = 0; i < n; i++) {
            const size_t first = i * (cases[k].stride ? cases[k].stride : 1);
            ck_assert_int_eq(grugan_dataset_get(ds, i, x, NULL, NULL), GRUGAN_OK);
            for (size_t t = 0; t < 4; t++)
                for (size_t f = 0; f < 3; f++)
                    ck_assert_float_eq(x[t * 3 + f], (float)(10 * f + first + t));
        }
        grugan_dataset_free(ds);
    }
    /* column selection, reordered */
    cfg.stride = 3;
    cfg.columns = cols;
    cfg.num_columns = 2;
    ck_assert_int_eq(grugan_dataset_from_series(NULL, &cfg, series, 10, 3, &ds, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, NULL, &F, NULL), GRUGAN_OK);
    ck_assert_uint_eq(F, 2);
    ck_assert_int_eq(grugan_dataset_get(ds, 2, x, NULL, NULL), GRUGAN_OK);
    ck_assert_float_eq(x[0], 26); /* row 6, column 2 */
    ck_assert_float_eq(x[1], 6);  /* row 6, column 0 */
    ck_assert_float_eq(x[7], 9);
    grugan_dataset_free(ds);
    /* exactly T rows: one window; fewer: refused */
    cfg.columns = NULL;
    cfg.num_columns = 0;
    cfg.sequence_length = 10;
    ck_assert_int_eq(grugan_dataset_from_series(NULL, &cfg, series, 10, 3, &ds, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_shape(ds, &n, NULL, NULL, NULL), GRUGAN_OK);
    ck_assert_uint_eq(n, 1);
    grugan_dataset_free(ds);
    cfg.sequence_length = 11;
    ck_assert_int_eq(grugan_dataset_from_series(NULL, &cfg, series, 10, 3, &ds, &err),
                     GRUGAN_E_SIZE);
    ck_assert_msg(strstr(err.message, "10 rows, fewer than sequence_length 11") != NULL, "%s",
                  err.message);
    cfg.sequence_length = 0;
    ck_assert_int_eq(grugan_dataset_from_series(NULL, &cfg, series, 10, 3, &ds, &err),
                     GRUGAN_E_SIZE);
    /* a NaN in a window names its row and column */
    cfg.sequence_length = 4;
    series[7 * 3 + 1] = INFINITY;
    ck_assert_int_eq(grugan_dataset_from_series(NULL, &cfg, series, 10, 3, &ds, &err),
                     GRUGAN_E_NONFINITE);
    ck_assert_msg(strstr(err.message, "row 7, column 1") != NULL, "%s", err.message);
    ck_assert_ptr_null(ds);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Scaler                                                                    */
/* ------------------------------------------------------------------------- */

START_TEST(scaler_values)
{
    /* 2 sequences x 3 steps x 2 features; feature 0 in [-2, 6], feature 1 constant 5 */
    const float data[12] = {-2, 5, 0, 5, 6, 5, 1, 5, 3, 5, 4, 5};
    float offset[2], scale[2], x[6];
    grugan_dataset *ds;

    ds = array_dataset(data, 2, 3, 2, GRUGAN_SCALE_MINMAX, 0);
    ck_assert_int_eq(grugan_dataset_scaler(ds, offset, scale), GRUGAN_OK);
    ck_assert_float_eq(offset[0], -2.0f);
    ck_assert_float_eq(scale[0], (float)(1.0 / (8.0 + 1e-7)));
    ck_assert_float_eq(offset[1], 5.0f);
    ck_assert_float_eq(scale[1], (float)(1.0 / 1e-7));
    ck_assert_int_eq(grugan_dataset_get(ds, 0, x, NULL, NULL), GRUGAN_OK);
    ck_assert_float_eq(x[0], 0.0f);
    ck_assert_float_eq(x[1], 0.0f);
    ck_assert(fabsf(x[4] - 1.0f) < 1e-6f); /* the max maps to just below 1 */
    ck_assert(x[4] <= 1.0f);
    ck_assert(fabsf(x[2] - 0.25f) < 1e-6f);
    ck_assert_int_eq(grugan_dataset_scaler(ds, NULL, NULL), GRUGAN_OK);
    grugan_dataset_free(ds);

    ds = array_dataset(data, 2, 3, 2, GRUGAN_SCALE_MINMAX_SYM, 0);
    ck_assert_int_eq(grugan_dataset_scaler(ds, offset, scale), GRUGAN_OK);
    ck_assert_float_eq(offset[0], 2.0f);
    ck_assert_float_eq(scale[0], (float)(2.0 / (8.0 + 1e-7)));
    ck_assert_int_eq(grugan_dataset_get(ds, 0, x, NULL, NULL), GRUGAN_OK);
    ck_assert(fabsf(x[0] + 1.0f) < 1e-6f);
    ck_assert(fabsf(x[4] - 1.0f) < 1e-6f);
    ck_assert(fabsf(x[2] + 0.5f) < 1e-6f);
    ck_assert_float_eq(x[1], 0.0f); /* a constant feature maps to 0 */
    grugan_dataset_free(ds);

    ds = array_dataset(data, 2, 3, 2, GRUGAN_SCALE_NONE, 0);
    ck_assert_int_eq(grugan_dataset_scaler(ds, offset, scale), GRUGAN_OK);
    ck_assert_float_eq(offset[0], 0.0f);
    ck_assert_float_eq(scale[0], 1.0f);
    ck_assert_float_eq(offset[1], 0.0f);
    ck_assert_float_eq(scale[1], 1.0f);
    ck_assert_int_eq(grugan_dataset_get(ds, 1, x, NULL, NULL), GRUGAN_OK);
    ck_assert_mem_eq(x, data + 6, sizeof x);
    grugan_dataset_free(ds);
}
END_TEST

START_TEST(scaler_fits_valid_steps_only)
{
    /* sequence 1 has length 1: its steps 1, 2 (huge values) do not count */
    const float data[6] = {0, 4, 2, 1, 1000, -1000};
    const size_t lengths[2] = {3, 1};
    float offset, scale, x[3];
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    ck_assert_int_eq(grugan_dataset_from_array(NULL, &cfg, data, 2, 3, 1, NULL, 0, lengths, &ds,
                                               NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_scaler(ds, &offset, &scale), GRUGAN_OK);
    ck_assert_float_eq(offset, 0.0f);
    ck_assert_float_eq(scale, (float)(1.0 / (4.0 + 1e-7)));
    ck_assert_int_eq(grugan_dataset_get(ds, 1, x, NULL, NULL), GRUGAN_OK);
    ck_assert(fabsf(x[0] - 0.25f) < 1e-6f);
    ck_assert_float_eq(x[1], 0.0f);
    ck_assert_float_eq(x[2], 0.0f);
    grugan_dataset_free(ds);
}
END_TEST

START_TEST(scale_and_unscale_are_inverse)
{
    const size_t N = 50, T = 7, F = 3;
    float *data = falloc(N * T * F), *v = falloc(N * T * F), *w = falloc(N * T * F);
    float offset[3], scale[3];
    uint32_t state = 1;
    for (size_t k = 0; k < N * T * F; k++) {
        const size_t f = k % F;
        state = state * 1664525u + 1013904223u;
        /* features on very different scales */
        data[k] = (float)((double)(state >> 8) / 16777216.0 - 0.3) * (f == 0 ? 1e-3f : f == 1 ? 7.0f : 4e4f) +
                  (f == 2 ? 1e5f : 0.0f);
    }
    for (int scaling = 0; scaling <= 2; scaling++) {
        grugan_dataset *ds = array_dataset(data, N, T, F, scaling, 0);
        double worst = 0;
        ck_assert_int_eq(grugan_dataset_scaler(ds, offset, scale), GRUGAN_OK);
        /* stored sequences equal scale(data) */
        memcpy(v, data, N * T * F * sizeof(float));
        ck_assert_int_eq(grugan_dataset_scale(ds, v, N * T * F), GRUGAN_OK);
        for (size_t i = 0; i < N; i++) {
            ck_assert_int_eq(grugan_dataset_get(ds, i, w + i * T * F, NULL, NULL), GRUGAN_OK);
        }
        ck_assert_mem_eq(v, w, N * T * F * sizeof(float));
        for (size_t k = 0; k < N * T * F; k++)
            if (scaling != GRUGAN_SCALE_NONE &&
                !(v[k] >= (scaling == GRUGAN_SCALE_MINMAX ? 0.0f : -1.0f) && v[k] <= 1.0f))
                ck_abort_msg("scaling %d: value %zu = %g out of range", scaling, k, (double)v[k]);
        ck_assert_int_eq(grugan_dataset_unscale(ds, v, N * T * F), GRUGAN_OK);
        /* |x' - x| <= 2^-23 (|x - offset| + |x|): float rounding of each step */
        for (size_t k = 0; k < N * T * F; k++) {
            const size_t f = k % F;
            const double x = data[k], bound = ldexp(fabs(x - offset[f]) + fabs(x), -23);
            const double e = fabs((double)v[k] - x);
            if (e > bound) ck_abort_msg("scaling %d: value %zu: %.9g back as %.9g", scaling, k, x, (double)v[k]);
            if (bound > 0 && e / bound > worst) worst = e / bound;
        }
        /* scale(unscale(s)) for generated samples in [-1, 1] */
        for (size_t k = 0; k < 3 * F; k++) v[k] = (float)k / (float)(3 * F) * 2.0f - 1.0f;
        memcpy(w, v, 3 * F * sizeof(float));
        ck_assert_int_eq(grugan_dataset_unscale(ds, v, 3 * F), GRUGAN_OK);
        ck_assert_int_eq(grugan_dataset_scale(ds, v, 3 * F), GRUGAN_OK);
        for (size_t k = 0; k < 3 * F; k++) ck_assert(fabsf(v[k] - w[k]) < 1e-6f);
        /* count must be whole rows; count 0 is nothing to do */
        EXPECT_FAIL(ds, grugan_dataset_scale(ds, v, F + 1), GRUGAN_E_SIZE);
        EXPECT_FAIL(ds, grugan_dataset_unscale(ds, v, 1), GRUGAN_E_SIZE);
        EXPECT_FAIL(ds, grugan_dataset_scale(ds, NULL, F), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_dataset_scale(ds, v, 0), GRUGAN_OK);
        ck_assert_str_eq(grugan_dataset_message(ds), "");
        grugan_dataset_free(ds);
    }
    free(data);
    free(v);
    free(w);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Minibatches                                                               */
/* ------------------------------------------------------------------------- */

START_TEST(every_sequence_once_per_epoch)
{
    static const struct {
        size_t N, B;
    } cases[] = {{12, 4}, {10, 3}, {7, 7}, {5, 1}, {33, 8}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const size_t N = cases[c].N, B = cases[c].B, per_epoch = N / B;
        grugan_dataset *ds = index_dataset(N, 42 + c);
        for (uint64_t e = 0; e < 4; e++) {
            unsigned seen[64] = {0};
            size_t idx[64];
            for (size_t k = 0; k < per_epoch; k++) {
                uint64_t epoch = 99;
                next_indices(ds, B, idx, &epoch);
                ck_assert_uint_eq(epoch, e); /* batches never straddle epochs */
                for (size_t b = 0; b < B; b++) seen[idx[b]]++;
            }
            for (size_t i = 0; i < N; i++)
                ck_assert_msg(seen[i] <= 1, "N=%zu B=%zu epoch %llu: %zu seen %u times", N, B,
                              (unsigned long long)e, i, seen[i]);
            if (N % B == 0)
                for (size_t i = 0; i < N; i++) ck_assert_uint_eq(seen[i], 1);
        }
        grugan_dataset_free(ds);
    }
}
END_TEST

START_TEST(batches_are_deterministic_by_seed)
{
    grugan_dataset *a = index_dataset(20, 7), *b = index_dataset(20, 7), *c = index_dataset(20, 8);
    size_t ia[5], ib[5], ic[5];
    int differ = 0, shuffled = 0;
    for (int k = 0; k < 40; k++) {
        uint64_t ea, eb, ec;
        next_indices(a, 5, ia, &ea);
        next_indices(b, 5, ib, &eb);
        next_indices(c, 5, ic, &ec);
        ck_assert_uint_eq(ea, eb);
        ck_assert_uint_eq(ea, ec);
        ck_assert_mem_eq(ia, ib, sizeof ia);
        differ += memcmp(ia, ic, sizeof ia) != 0;
        for (int j = 0; j < 5; j++) shuffled += ia[j] != (size_t)(5 * (k % 4) + j);
    }
    ck_assert_int_gt(differ, 30);
    ck_assert_int_gt(shuffled, 100);
    grugan_dataset_free(a);
    grugan_dataset_free(b);
    grugan_dataset_free(c);
}
END_TEST

START_TEST(permutations_are_uniform)
{
    /* N = 3: each of the 6 orders of an epoch about 1/6 of the time */
    grugan_dataset *ds = index_dataset(3, 2024);
    unsigned counts[6] = {0};
    const int epochs = 6000;
    for (int e = 0; e < epochs; e++) {
        size_t idx[3];
        next_indices(ds, 3, idx, NULL);
        counts[idx[0] * 2 + (idx[1] > idx[2])]++;
    }
    for (int k = 0; k < 6; k++)
        ck_assert_msg(counts[k] > 850 && counts[k] < 1150, "order %d drawn %u times of %d", k,
                      counts[k], epochs);
    grugan_dataset_free(ds);
}
END_TEST

START_TEST(position_resumes_the_stream)
{
    grugan_dataset *ds = index_dataset(11, 5), *fresh = index_dataset(11, 5);
    size_t ref[20][4], again[4];
    uint64_t epoch = 0, offset = 0, e2;
    ck_assert_int_eq(grugan_dataset_position(ds, &epoch, &offset), GRUGAN_OK);
    ck_assert_uint_eq(epoch, 0);
    ck_assert_uint_eq(offset, 0);
    /* batch sizes that vary: the position is in sequences, not batches */
    for (int k = 0; k < 7; k++) next_indices(ds, 1 + (size_t)k % 4, ref[0], NULL);
    ck_assert_int_eq(grugan_dataset_position(ds, &epoch, &offset), GRUGAN_OK);
    for (int k = 0; k < 20; k++) next_indices(ds, 4, ref[k], NULL);
    /* back to the saved position on the same and on a fresh dataset */
    ck_assert_int_eq(grugan_dataset_set_position(ds, epoch, offset), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_set_position(fresh, epoch, offset), GRUGAN_OK);
    for (int k = 0; k < 20; k++) {
        next_indices(ds, 4, again, NULL);
        ck_assert_mem_eq(again, ref[k], sizeof again);
        next_indices(fresh, 4, again, NULL);
        ck_assert_mem_eq(again, ref[k], sizeof again);
    }
    /* an epoch far away is reached directly */
    ck_assert_int_eq(grugan_dataset_set_position(ds, 1000000, 0), GRUGAN_OK);
    next_indices(ds, 4, again, &e2);
    ck_assert_uint_eq(e2, 1000000);
    ck_assert_int_eq(grugan_dataset_position(ds, &epoch, &offset), GRUGAN_OK);
    ck_assert_uint_eq(epoch, 1000000);
    ck_assert_uint_eq(offset, 4);
    /* offset N: the next batch opens the next epoch */
    ck_assert_int_eq(grugan_dataset_set_position(ds, 3, 11), GRUGAN_OK);
    next_indices(ds, 2, again, &e2);
    ck_assert_uint_eq(e2, 4);
    EXPECT_FAIL(ds, grugan_dataset_set_position(ds, 3, 12), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_dataset_position(ds, &epoch, &offset), GRUGAN_OK);
    ck_assert_uint_eq(epoch, 4);
    ck_assert_uint_eq(offset, 2);
    grugan_dataset_free(ds);
    grugan_dataset_free(fresh);
}
END_TEST

START_TEST(next_batch_never_allocates)
{
    counting_alloc counts;
    grugan_context *ctx = counting_context(&counts);
    float *data = numbered(9, 2, 3), x[4 * 6], cond[4 * 2], conditions[9 * 2];
    size_t lengths[4];
    grugan_dataset *ds = NULL;
    size_t before;
    const size_t base = counts.live;
    for (int k = 0; k < 18; k++) conditions[k] = (float)k;
    ck_assert_int_eq(grugan_dataset_from_array(ctx, NULL, data, 9, 2, 3, conditions, 2, NULL, &ds,
                                               NULL),
                     GRUGAN_OK);
    before = counts.allocs;
    for (int k = 0; k < 50; k++)
        ck_assert_int_eq(grugan_dataset_next_batch(ds, 4, x, cond, lengths, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_set_position(ds, 77, 3), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_next_batch(ds, 4, x, NULL, NULL, NULL), GRUGAN_OK);
    ck_assert_uint_eq(counts.allocs, before);
    grugan_dataset_free(ds);
    ck_assert_uint_eq(counts.live, base);
    grugan_context_free(ctx);
    ck_assert_uint_eq(counts.live, 0);
    free(data);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Failures                                                                  */
/* ------------------------------------------------------------------------- */

static const float DATA12[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static grugan_dataset_config bad_cfg;

static int create_with_bad_cfg(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_array(NULL, &bad_cfg, DATA12, 2, 3, 2, NULL, 0, NULL, out, err);
}

static int create_series_bad_cfg(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_series(NULL, &bad_cfg, DATA12, 6, 2, out, err);
}

static int create_null_data(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_array(NULL, NULL, NULL, 2, 3, 2, NULL, 0, NULL, out, err);
}

static int create_zero_n(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_array(NULL, NULL, DATA12, 0, 3, 2, NULL, 0, NULL, out, err);
}

static int create_zero_features(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_series(NULL, &bad_cfg, DATA12, 6, 0, out, err);
}

static int create_null_conditions(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_array(NULL, NULL, DATA12, 2, 3, 2, NULL, 4, NULL, out, err);
}

static int create_nan_condition(grugan_dataset **out, grugan_error *err)
{
    const float cond[2] = {0, NAN};
    return grugan_dataset_from_array(NULL, NULL, DATA12, 2, 3, 2, cond, 1, NULL, out, err);
}

static int create_bad_lengths(grugan_dataset **out, grugan_error *err)
{
    const size_t lengths[2] = {3, 4};
    return grugan_dataset_from_array(NULL, NULL, DATA12, 2, 3, 2, NULL, 0, lengths, out, err);
}

static int create_zero_length(grugan_dataset **out, grugan_error *err)
{
    const size_t lengths[2] = {0, 1};
    return grugan_dataset_from_array(NULL, NULL, DATA12, 2, 3, 2, NULL, 0, lengths, out, err);
}

static int create_nan_data(grugan_dataset **out, grugan_error *err)
{
    float d[12];
    memcpy(d, DATA12, sizeof d);
    d[7] = NAN;
    return grugan_dataset_from_array(NULL, NULL, d, 2, 3, 2, NULL, 0, NULL, out, err);
}

static int create_null_path(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_csv(NULL, &bad_cfg, NULL, out, err);
}

static int create_null_npy_path(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_npy(NULL, &bad_cfg, NULL, out, err);
}

static int create_null_csv_buffer(grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_csv_buffer(NULL, &bad_cfg, NULL, 4, out, err);
}

START_TEST(bad_arguments_are_refused)
{
    const grugan_dataset_config good = GRUGAN_DATASET_CONFIG_INIT;
    const size_t col5[] = {5}, col1[] = {1};
    grugan_error err;

    /* out NULL */
    ck_assert_int_eq(grugan_dataset_from_array(NULL, NULL, DATA12, 2, 3, 2, NULL, 0, NULL, NULL,
                                               &err),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_from_csv_buffer(NULL, NULL, "1", 1, NULL, NULL),
                     GRUGAN_E_INVALID);
    /* configs */
    bad_cfg = good;
    bad_cfg.struct_size = 3;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_INVALID);
    bad_cfg.struct_size = sizeof good + 8;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_INVALID);
    bad_cfg = good;
    bad_cfg.scaling = 3;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg.scaling = -1;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg = good;
    bad_cfg.csv_header = 3;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg = good;
    bad_cfg.csv_delimiter = '.';
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg.csv_delimiter = '"';
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg.csv_delimiter = 256;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg.csv_delimiter = -1;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg = good;
    bad_cfg.columns = col1;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_SIZE); /* num_columns 0 */
    bad_cfg.columns = NULL;
    bad_cfg.num_columns = 1;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_INVALID);
    bad_cfg.columns = col5;
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg.sequence_length = 3;
    EXPECT_CREATE_FAIL(create_series_bad_cfg, GRUGAN_E_RANGE);
    bad_cfg = good;
    bad_cfg.sequence_length = 4; /* arrays: 0 or T */
    EXPECT_CREATE_FAIL(create_with_bad_cfg, GRUGAN_E_SIZE);
    EXPECT_CREATE_FAIL(create_zero_features, GRUGAN_E_SIZE);
    bad_cfg = good;
    EXPECT_CREATE_FAIL(create_series_bad_cfg, GRUGAN_E_SIZE); /* no sequence_length */
    EXPECT_CREATE_FAIL(create_null_path, GRUGAN_E_INVALID);
    EXPECT_CREATE_FAIL(create_null_npy_path, GRUGAN_E_INVALID);
    EXPECT_CREATE_FAIL(create_null_csv_buffer, GRUGAN_E_INVALID);
    /* data */
    EXPECT_CREATE_FAIL(create_null_data, GRUGAN_E_INVALID);
    EXPECT_CREATE_FAIL(create_zero_n, GRUGAN_E_SIZE);
    EXPECT_CREATE_FAIL(create_null_conditions, GRUGAN_E_INVALID);
    EXPECT_CREATE_FAIL(create_nan_condition, GRUGAN_E_NONFINITE);
    EXPECT_CREATE_FAIL(create_bad_lengths, GRUGAN_E_RANGE);
    EXPECT_CREATE_FAIL(create_zero_length, GRUGAN_E_RANGE);
    EXPECT_CREATE_FAIL(create_nan_data, GRUGAN_E_NONFINITE);
    {
        grugan_dataset *ds = NULL;
        ck_assert_int_eq(create_nan_data(&ds, &err), GRUGAN_E_NONFINITE);
        ck_assert_msg(strstr(err.message, "sequence 1, step 0, feature 1") != NULL, "%s",
                      err.message);
    }
}
END_TEST

START_TEST(bad_calls_fail_cleanly_and_write_nothing)
{
    grugan_dataset *ds = index_dataset(5, 1);
    grugan_gru_config gcfg = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *gru = NULL;
    grugan_dataset *wrong;
    float x[8];
    size_t len = 77, n = 77;
    uint64_t e = 77, o = 77;

    for (int k = 0; k < 8; k++) x[k] = SENTINEL;
    /* NULL handle */
    ck_assert_int_eq(grugan_dataset_next_batch(NULL, 1, x, NULL, NULL, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_get(NULL, 0, x, NULL, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_shape(NULL, &n, NULL, NULL, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_scaler(NULL, x, x), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_scale(NULL, x, 1), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_unscale(NULL, x, 1), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_position(NULL, &e, &o), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_set_position(NULL, 0, 0), GRUGAN_E_INVALID);
    ck_assert_ptr_nonnull(grugan_dataset_message(NULL));
    ck_assert_uint_eq(n, 77);
    ck_assert_uint_eq(e, 77);
    grugan_dataset_free(NULL);
    /* a handle of another kind */
    gcfg.input_size = 1;
    gcfg.hidden_size = 1;
    ck_assert_int_eq(grugan_gru_create(NULL, &gcfg, &gru, NULL), GRUGAN_OK);
    wrong = (grugan_dataset *)gru;
    ck_assert_int_eq(grugan_dataset_next_batch(wrong, 1, x, NULL, NULL, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_get(wrong, 0, x, NULL, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_shape(wrong, &n, NULL, NULL, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_set_position(wrong, 0, 0), GRUGAN_E_INVALID);
    ck_assert_str_eq(grugan_dataset_message(wrong), "not a dataset handle");
    grugan_dataset_free(wrong); /* refused: not freed as a dataset */
    grugan_gru_free(gru);
    /* bad arguments on a good handle */
    EXPECT_FAIL(ds, grugan_dataset_next_batch(ds, 1, NULL, NULL, NULL, NULL), GRUGAN_E_INVALID);
    EXPECT_FAIL(ds, grugan_dataset_next_batch(ds, 0, x, NULL, NULL, &e), GRUGAN_E_SIZE);
    EXPECT_FAIL(ds, grugan_dataset_next_batch(ds, 6, x, NULL, NULL, &e), GRUGAN_E_SIZE);
    ck_assert_msg(strstr(grugan_dataset_message(ds), "batch 6") != NULL, "%s",
                  grugan_dataset_message(ds));
    EXPECT_FAIL(ds, grugan_dataset_get(ds, 5, x, NULL, &len), GRUGAN_E_NOTFOUND);
    EXPECT_FAIL(ds, grugan_dataset_get(ds, 0, NULL, NULL, &len), GRUGAN_E_INVALID);
    ck_assert_uint_eq(e, 77);
    ck_assert_uint_eq(len, 77);
    for (int k = 0; k < 8; k++) ck_assert_float_eq(x[k], SENTINEL);
    /* the stream did not move */
    ck_assert_int_eq(grugan_dataset_position(ds, &e, &o), GRUGAN_OK);
    ck_assert_uint_eq(e, 0);
    ck_assert_uint_eq(o, 0);
    /* a good call clears the message */
    ck_assert_int_eq(grugan_dataset_get(ds, 4, x, NULL, &len), GRUGAN_OK);
    ck_assert_str_eq(grugan_dataset_message(ds), "");
    ck_assert_float_eq(x[0], 4.0f);
    ck_assert_uint_eq(len, 1);
    grugan_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Allocation failures                                                       */
/* ------------------------------------------------------------------------- */

typedef int (*create_fn)(grugan_context *ctx, grugan_dataset **out, grugan_error *err);

static int create_array(grugan_context *ctx, grugan_dataset **out, grugan_error *err)
{
    const float cond[2] = {1, 2};
    const size_t lengths[2] = {3, 2};
    return grugan_dataset_from_array(ctx, NULL, DATA12, 2, 3, 2, cond, 1, lengths, out, err);
}

static int create_series(grugan_context *ctx, grugan_dataset **out, grugan_error *err)
{
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    cfg.sequence_length = 2;
    return grugan_dataset_from_series(ctx, &cfg, DATA12, 6, 2, out, err);
}

static int create_csv(grugan_context *ctx, grugan_dataset **out, grugan_error *err)
{
    const char *text = "a,b\n1,2\n3,4\n5,6\n";
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    cfg.sequence_length = 2;
    return grugan_dataset_from_csv_buffer(ctx, &cfg, text, strlen(text), out, err);
}

static int create_csv_file(grugan_context *ctx, grugan_dataset **out, grugan_error *err)
{
    const size_t cols[] = {3, 1};
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    cfg.sequence_length = 2;
    cfg.columns = cols;
    cfg.num_columns = 2;
    return grugan_dataset_from_csv(ctx, &cfg, GRUGAN_SOURCE_DIR "/tests/data/prices.csv", out,
                                   err);
}

static int create_npy_file(grugan_context *ctx, grugan_dataset **out, grugan_error *err)
{
    return grugan_dataset_from_npy(ctx, NULL, GRUGAN_SOURCE_DIR "/tests/data/sequences_f4.npy",
                                   out, err);
}

static int create_npy_buffer(grugan_context *ctx, grugan_dataset **out, grugan_error *err)
{
    static const unsigned char img[] =
        "\x93NUMPY\x01\x00\x46\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }"
        "          \n\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40";
    grugan_dataset_config cfg = GRUGAN_DATASET_CONFIG_INIT;
    cfg.sequence_length = 1;
    return grugan_dataset_from_npy_buffer(ctx, &cfg, img, sizeof img - 1, out, err);
}

START_TEST(failed_allocations_leak_nothing)
{
    static const create_fn creators[] = {create_array,    create_series,   create_csv,
                                         create_csv_file, create_npy_file, create_npy_buffer};
    for (size_t c = 0; c < sizeof creators / sizeof creators[0]; c++) {
        counting_alloc counts;
        grugan_context *ctx = counting_context(&counts);
        const size_t base = counts.live;
        size_t k, first_ok = 0;
        for (k = 1; k < 1000 && !first_ok; k++) {
            grugan_dataset *ds = (grugan_dataset *)&counts;
            grugan_error err;
            int st;
            counts.fail_at = counts.allocs + k;
            st = creators[c](ctx, &ds, &err);
            counts.fail_at = 0;
            if (st == GRUGAN_OK) {
                first_ok = k;
                ck_assert_ptr_nonnull(ds);
                grugan_dataset_free(ds);
            } else {
                ck_assert_msg(st == GRUGAN_E_NOMEM, "creator %zu, allocation %zu: status %d (%s)",
                              c, k, st, err.message);
                ck_assert_int_eq(err.code, GRUGAN_E_NOMEM);
                ck_assert_ptr_null(ds);
            }
            ck_assert_uint_eq(counts.live, base);
        }
        ck_assert_msg(first_ok > 1, "creator %zu never failed", c);
        grugan_context_free(ctx);
        ck_assert_uint_eq(counts.live, 0);
    }
}
END_TEST

Suite *suite_dataset(void)
{
    Suite *s = suite_create("dataset");
    TCase *src = tcase_create("dataset_sources");
    TCase *stream = tcase_create("dataset_stream");
    TCase *api = tcase_create("dataset_api");
    tcase_set_timeout(src, 60);
    tcase_set_timeout(stream, 60);
    tcase_set_timeout(api, 60);
    tcase_add_test(src, array_source_is_copied);
    tcase_add_test(src, series_windows);
    tcase_add_test(src, scaler_values);
    tcase_add_test(src, scaler_fits_valid_steps_only);
    tcase_add_test(src, scale_and_unscale_are_inverse);
    tcase_add_test(stream, every_sequence_once_per_epoch);
    tcase_add_test(stream, batches_are_deterministic_by_seed);
    tcase_add_test(stream, permutations_are_uniform);
    tcase_add_test(stream, position_resumes_the_stream);
    tcase_add_test(stream, next_batch_never_allocates);
    tcase_add_test(api, bad_arguments_are_refused);
    tcase_add_test(api, bad_calls_fail_cleanly_and_write_nothing);
    tcase_add_test(api, failed_allocations_leak_nothing);
    suite_add_tcase(s, src);
    suite_add_tcase(s, stream);
    suite_add_tcase(s, api);
    return s;
}
