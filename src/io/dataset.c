/* dataset.c - the public grugan_dataset: sources (arrays, windows of a
 * series, CSV and NPY files or buffers), the per-feature scaler and the
 * shuffled minibatch stream. */
#include "core/core.h"
#include "core/rng.h"
#include "io/csv.h"
#include "io/file.h"
#include "io/npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Permutation draws are 32-bit, so N is capped at 2^32 - 1. */
#define MAX_SEQUENCES ((size_t)UINT32_MAX)

/* TimeGAN's epsilon in the min-max denominator. */
#define MINMAX_EPS 1e-7

struct grugan_dataset {
    grugan__object obj;
    size_t n, steps, features, cond_size; /* N, T, F, C */
    float *data;       /* (N, T, F) scaled; steps past a sequence's length hold 0 */
    float *conditions; /* (N, C) or NULL */
    size_t *lengths;   /* (N) or NULL (every sequence has T steps) */
    float *offset;     /* (F) */
    float *scale;      /* (F), in the allocation of offset */
    uint64_t seed;
    double holdout;       /* share of held-out sequences (is_held_out) */
    size_t n_train;       /* sequences in the minibatch stream: N minus the held-out ones */
    size_t *order;        /* (N): the permutation of order_epoch over the n_train training
                             sequences, then the held-out sequences in index order */
    uint64_t order_epoch;
    bool order_valid;
    uint64_t epoch;       /* the stream's position: the next batch starts at */
    size_t consumed;      /* order[consumed] of epoch `epoch` */
};

static void split_holdout(grugan_dataset *ds, float holdout);

#define DS_FAIL(ds, code, ...) grugan__fail(&(ds)->obj, (code), __VA_ARGS__)

/* Refuses NULL or foreign handles; clears the message of a good one. */
#define CHECK_DS(ds)                                                                         \
    do {                                                                                     \
        if (!grugan__object_is((ds), GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;        \
        grugan__clear((grugan__object *)&(ds)->obj);                                         \
    } while (0)

/* ------------------------------------------------------------------------- */
/* Building a dataset from a source                                          */
/* ------------------------------------------------------------------------- */

/* Where sequence i, step t, kept feature f of a source is:
 *   data[(i * row_step + t) * width + column(f)]
 * with row_step = T for an array of sequences and the stride for a series. */
typedef struct source {
    const float *data;
    size_t width;    /* floats per row (step) of data */
    size_t row_step; /* rows between the first rows of sequences i and i + 1 */
    bool is_series;
    size_t n, steps;
    const size_t *columns; /* kept columns, NULL: all `width` */
    size_t num_columns;
    const float *conditions; /* (n, C) or NULL */
    size_t cond_size;
    const size_t *lengths; /* (n) or NULL */
} source;

static void error_reset(grugan_error *err)
{
    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
}

/* Copies and checks the caller's config; *out is the shared entry check. */
static int read_config(const grugan_context *ctx, const grugan_dataset_config *config,
                       grugan_dataset_config *cfg, grugan_dataset **out, grugan_error *err)
{
    error_reset(err);
    if (!out) return grugan__error_set(ctx, err, GRUGAN_E_INVALID, "out is NULL");
    *out = NULL;
    if (grugan__config_copy(cfg, sizeof *cfg, config) != GRUGAN_OK)
        return grugan__error_set(ctx, err, GRUGAN_E_INVALID,
                                 "config.struct_size is %zu, expected %zu to %zu "
                                 "(use GRUGAN_DATASET_CONFIG_INIT)",
                                 config->struct_size, sizeof(size_t), sizeof *cfg);
    if (cfg->scaling != GRUGAN_SCALE_MINMAX && cfg->scaling != GRUGAN_SCALE_MINMAX_SYM &&
        cfg->scaling != GRUGAN_SCALE_NONE)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "scaling is %d, not a GRUGAN_SCALE_* value (0..2)",
                                 (int)cfg->scaling);
    if (cfg->csv_header != GRUGAN_CSV_HEADER_AUTO && cfg->csv_header != GRUGAN_CSV_HEADER_YES &&
        cfg->csv_header != GRUGAN_CSV_HEADER_NO)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "csv_header is %d, not a GRUGAN_CSV_HEADER_* value (0..2)",
                                 (int)cfg->csv_header);
    if (cfg->csv_delimiter == 0) cfg->csv_delimiter = ',';
    if (!grugan__csv_delimiter_ok(cfg->csv_delimiter))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "csv_delimiter %d cannot separate numbers: need one byte other "
                                 "than a quote, CR, LF, digit, '.', '+', '-', 'e' or 'E'",
                                 (int)cfg->csv_delimiter);
    if (cfg->columns && cfg->num_columns == 0)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "columns is given but num_columns is 0");
    if (!cfg->columns && cfg->num_columns != 0)
        return grugan__error_set(ctx, err, GRUGAN_E_INVALID,
                                 "num_columns is %zu but columns is NULL", cfg->num_columns);
    if (!(cfg->holdout >= 0.0f && cfg->holdout <= 0.5f))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "holdout is %g, not a share in [0, 0.5]", (double)cfg->holdout);
    return GRUGAN_OK;
}

/* Refuses kept columns beyond the source's width. */
static int check_columns(const grugan_context *ctx, const grugan_dataset_config *cfg,
                         size_t width, grugan_error *err)
{
    for (size_t k = 0; k < cfg->num_columns; k++)
        if (cfg->columns[k] >= width)
            return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                     "columns[%zu] = %zu is out of range: the data have %zu "
                                     "feature%s (0-based indices 0..%zu)",
                                     k, cfg->columns[k], width, width == 1 ? "" : "s",
                                     width - 1);
    return GRUGAN_OK;
}

/* Series sources need config.sequence_length. */
static int require_length(const grugan_context *ctx, const grugan_dataset_config *cfg,
                          grugan_error *err)
{
    if (cfg->sequence_length == 0)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE,
                                 "config.sequence_length is required for a series (CSV, 2-D "
                                 "NPY or grugan_dataset_from_series)");
    return GRUGAN_OK;
}

/* N = (rows - T) / stride + 1 windows of a series of `rows` rows. */
static int count_windows(const grugan_context *ctx, const grugan_dataset_config *cfg,
                         size_t rows, size_t *n, grugan_error *err)
{
    const size_t T = cfg->sequence_length, stride = cfg->stride ? cfg->stride : 1;
    int rc;
    if ((rc = require_length(ctx, cfg, err)) != GRUGAN_OK) return rc;
    if (rows < T)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE,
                                 "the series has %zu row%s, fewer than sequence_length %zu", rows,
                                 rows == 1 ? "" : "s", T);
    *n = (rows - T) / stride + 1;
    return GRUGAN_OK;
}

/* A non-zero config.sequence_length must match the steps of sequences. */
static int check_steps(const grugan_context *ctx, const grugan_dataset_config *cfg, size_t T,
                       grugan_error *err)
{
    if (cfg->sequence_length != 0 && cfg->sequence_length != T)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE,
                                 "config.sequence_length is %zu but the sequences have %zu steps",
                                 cfg->sequence_length, T);
    return GRUGAN_OK;
}

static void release(grugan_dataset *ds)
{
    const grugan_context *ctx = ds->obj.ctx;
    grugan__free(ctx, ds->data);
    grugan__free(ctx, ds->conditions);
    grugan__free(ctx, ds->lengths);
    grugan__free(ctx, ds->offset);
    grugan__free(ctx, ds->order);
    ds->obj.magic = GRUGAN__MAGIC_DEAD;
    grugan__free(ctx, ds);
}

/* x := (x - offset) * scale over rows of F values, in double precision. */
static void scale_rows(const float *offset, const float *scale, size_t F, float *x, size_t rows)
{
    for (size_t r = 0; r < rows; r++, x += F)
        for (size_t f = 0; f < F; f++)
            x[f] = (float)(((double)x[f] - (double)offset[f]) * (double)scale[f]);
}

/* x := x / scale + offset, the inverse of scale_rows. */
static void unscale_rows(const float *offset, const float *scale, size_t F, float *x,
                         size_t rows)
{
    for (size_t r = 0; r < rows; r++, x += F)
        for (size_t f = 0; f < F; f++)
            x[f] = (float)((double)x[f] / (double)scale[f] + (double)offset[f]);
}

/* Fits the scaler on every valid step of every sequence, then scales them. */
static void fit_and_scale(grugan_dataset *ds, int scaling)
{
    const size_t N = ds->n, T = ds->steps, F = ds->features;
    for (size_t f = 0; f < F; f++) {
        double lo = 0, hi = 0;
        bool seen = false;
        for (size_t i = 0; i < N; i++) {
            const size_t len = ds->lengths ? ds->lengths[i] : T;
            const float *x = ds->data + i * T * F + f;
            for (size_t t = 0; t < len; t++) {
                const double v = x[t * F];
                if (!seen || v < lo) lo = v;
                if (!seen || v > hi) hi = v;
                seen = true;
            }
        }
        switch (scaling) {
        case GRUGAN_SCALE_MINMAX:
            ds->offset[f] = (float)lo;
            ds->scale[f] = (float)(1.0 / (hi - lo + MINMAX_EPS));
            break;
        case GRUGAN_SCALE_MINMAX_SYM:
            /* 2 (x - lo) / (hi - lo + eps) - 1 = (x - (lo + hi) / 2) * 2 / (hi - lo + eps) */
            ds->offset[f] = (float)(0.5 * (lo + hi));
            ds->scale[f] = (float)(2.0 / (hi - lo + MINMAX_EPS));
            break;
        default:
            ds->offset[f] = 0.0f;
            ds->scale[f] = 1.0f;
            break;
        }
    }
    if (scaling == GRUGAN_SCALE_NONE) return;
    for (size_t i = 0; i < N; i++) {
        /* offset and scale are floats, so (x - offset) * scale can land an
         * ulp (more when max - min is a few ulps of the data) outside the
         * interval: keep the promised [0, 1] or [-1, 1] */
        const size_t len = ds->lengths ? ds->lengths[i] : T;
        const float low = scaling == GRUGAN_SCALE_MINMAX ? 0.0f : -1.0f;
        float *x = ds->data + i * T * F;
        scale_rows(ds->offset, ds->scale, F, x, len);
        for (size_t k = 0; k < len * F; k++) x[k] = x[k] < low ? low : x[k] > 1.0f ? 1.0f : x[k];
    }
}

/* Copies the kept features of the source's valid steps (padding := 0),
 * checking that they are finite. */
static int copy_source(grugan_dataset *ds, const source *src, grugan_error *err)
{
    const size_t N = ds->n, T = ds->steps, F = ds->features;
    for (size_t i = 0; i < N; i++) {
        const size_t len = src->lengths ? src->lengths[i] : T;
        float *dst = ds->data + i * T * F;
        for (size_t t = 0; t < T; t++) {
            const size_t row = i * src->row_step + t;
            const float *in = src->data + row * src->width;
            if (t >= len) {
                memset(dst + t * F, 0, F * sizeof(float));
                continue;
            }
            for (size_t f = 0; f < F; f++) dst[t * F + f] = in[src->columns ? src->columns[f] : f];
            if (!grugan__all_finite(dst + t * F, F))
                for (size_t f = 0; f < F; f++) {
                    const size_t col = src->columns ? src->columns[f] : f;
                    if (grugan__all_finite(&in[col], 1)) continue;
                    if (src->is_series)
                        return grugan__error_set(ds->obj.ctx, err, GRUGAN_E_NONFINITE,
                                                 "series row %zu, column %zu is NaN or Inf",
                                                 row, col);
                    return grugan__error_set(ds->obj.ctx, err, GRUGAN_E_NONFINITE,
                                             "sequence %zu, step %zu, feature %zu is NaN or Inf",
                                             i, t, col);
                }
        }
    }
    if (ds->conditions && src->conditions) {
        const size_t C = ds->cond_size;
        memcpy(ds->conditions, src->conditions, N * C * sizeof(float));
        if (!grugan__all_finite(ds->conditions, N * C))
            for (size_t k = 0; k < N * C; k++)
                if (!grugan__all_finite(&ds->conditions[k], 1))
                    return grugan__error_set(ds->obj.ctx, err, GRUGAN_E_NONFINITE,
                                             "condition %zu of sequence %zu is NaN or Inf",
                                             k % C, k / C);
    }
    return GRUGAN_OK;
}

/* The dataset of a source: checks sizes, allocates everything (the
 * permutation too, so that next_batch never allocates), copies, fits and
 * applies the scaler. */
static int build(const grugan_context *ctx, const grugan_dataset_config *cfg, const source *src,
                 grugan_dataset **out, grugan_error *err)
{
    const size_t N = src->n, T = src->steps, C = src->conditions ? src->cond_size : 0;
    const size_t F = src->columns ? src->num_columns : src->width;
    size_t count, cond_count = 0;
    grugan_dataset *ds;
    int rc;

    if (N == 0 || T == 0 || F == 0)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE,
                                 "sequences (%zu), steps (%zu) and features (%zu) must be at "
                                 "least 1",
                                 N, T, F);
    if (N > MAX_SEQUENCES)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "%zu sequences exceed the limit %zu", N,
                                 MAX_SEQUENCES);
    if (!grugan__mul3_size(N, T, F, &count) || count > SIZE_MAX / sizeof(float) ||
        !grugan__mul_size(N, C, &cond_count) || cond_count > SIZE_MAX / sizeof(float))
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE,
                                 "%zu sequences x %zu steps x %zu features is too large", N, T,
                                 F);
    if (src->lengths)
        for (size_t i = 0; i < N; i++)
            if (src->lengths[i] < 1 || src->lengths[i] > T)
                return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                         "lengths[%zu] is %zu, not in 1..%zu", i,
                                         src->lengths[i], T);

    ds = grugan__calloc(ctx, 1, sizeof *ds);
    if (!ds) return grugan__error_set(ctx, err, GRUGAN_E_NOMEM, "cannot allocate the dataset");
    grugan__object_init(&ds->obj, GRUGAN__MAGIC_DATASET, ctx);
    ds->n = N;
    ds->steps = T;
    ds->features = F;
    ds->cond_size = C;
    ds->seed = cfg->seed;
    ds->data = grugan__alloc(ctx, count * sizeof(float));
    ds->offset = grugan__calloc(ctx, 2 * F, sizeof(float));
    ds->order = grugan__calloc(ctx, N, sizeof(size_t));
    if (C) ds->conditions = grugan__alloc(ctx, cond_count * sizeof(float));
    if (src->lengths) ds->lengths = grugan__calloc(ctx, N, sizeof(size_t));
    if (!ds->data || !ds->offset || !ds->order || (C && !ds->conditions) ||
        (src->lengths && !ds->lengths)) {
        rc = grugan__error_set(ctx, err, GRUGAN_E_NOMEM,
                               "cannot allocate a dataset of %zu x %zu x %zu values", N, T, F);
        goto fail;
    }
    ds->scale = ds->offset + F;
    split_holdout(ds, cfg->holdout);
    if (src->lengths) memcpy(ds->lengths, src->lengths, N * sizeof(size_t));
    if ((rc = copy_source(ds, src, err)) != GRUGAN_OK) goto fail;
    fit_and_scale(ds, cfg->scaling);
    *out = ds;
    return GRUGAN_OK;

fail:
    release(ds);
    return rc;
}

/*
 * The held-out sequences of a share h: sequence i is held out when
 * floor((i + 1) h) > floor(i h), which spreads floor(N h) of them evenly over
 * the dataset (every 1/h-th: for h = 0.1 the sequences 9, 19, 29, ...), so
 * that the windows of a series are held out from its whole time span.
 */
static bool is_held_out(const grugan_dataset *ds, size_t i)
{
    const double h = ds->holdout;
    return h > 0.0 && floor((double)(i + 1) * h) > floor((double)i * h);
}

/* Counts the training sequences and puts the held-out ones, in index order,
 * at the end of `order` (make_order shuffles only the part before them). */
static void split_holdout(grugan_dataset *ds, float holdout)
{
    size_t hold;
    ds->holdout = holdout;
    ds->n_train = 0;
    for (size_t i = 0; i < ds->n; i++) ds->n_train += !is_held_out(ds, i);
    if (ds->n_train == 0) { /* N = 1 with h = 0.5: keep it for training */
        ds->holdout = 0.0;
        ds->n_train = ds->n;
    }
    hold = ds->n_train;
    for (size_t i = 0; i < ds->n; i++)
        if (is_held_out(ds, i)) ds->order[hold++] = i;
}

/* ------------------------------------------------------------------------- */
/* Sources                                                                   */
/* ------------------------------------------------------------------------- */

int grugan_dataset_from_array(grugan_context *ctx, const grugan_dataset_config *config,
                              const float *data, size_t n, size_t steps, size_t features,
                              const float *conditions, size_t condition_size,
                              const size_t *lengths, grugan_dataset **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_dataset_config cfg;
    source src;
    int rc;
    if ((rc = read_config(c, config, &cfg, out, err)) != GRUGAN_OK) return rc;
    if (!data) return grugan__error_set(c, err, GRUGAN_E_INVALID, "data is NULL");
    if (!conditions && condition_size)
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "conditions is NULL but condition_size is %zu", condition_size);
    if (n == 0 || steps == 0 || features == 0)
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "n (%zu), steps (%zu) and features (%zu) must be at least 1", n,
                                 steps, features);
    if ((rc = check_steps(c, &cfg, steps, err)) != GRUGAN_OK) return rc;
    if ((rc = check_columns(c, &cfg, features, err)) != GRUGAN_OK) return rc;
    memset(&src, 0, sizeof src);
    src.data = data;
    src.width = features;
    src.row_step = steps;
    src.n = n;
    src.steps = steps;
    src.columns = cfg.columns;
    src.num_columns = cfg.num_columns;
    src.conditions = condition_size ? conditions : NULL;
    src.cond_size = condition_size;
    src.lengths = lengths;
    return build(c, &cfg, &src, out, err);
}

/* Windows of a series (rows, width) that exists in memory. */
static int from_series(const grugan_context *c, const grugan_dataset_config *cfg,
                       const float *series, size_t rows, size_t width, const size_t *columns,
                       size_t num_columns, grugan_dataset **out, grugan_error *err)
{
    source src;
    int rc;
    memset(&src, 0, sizeof src);
    if ((rc = count_windows(c, cfg, rows, &src.n, err)) != GRUGAN_OK) return rc;
    src.data = series;
    src.width = width;
    src.row_step = cfg->stride ? cfg->stride : 1;
    src.is_series = true;
    src.steps = cfg->sequence_length;
    src.columns = columns;
    src.num_columns = num_columns;
    return build(c, cfg, &src, out, err);
}

int grugan_dataset_from_series(grugan_context *ctx, const grugan_dataset_config *config,
                               const float *series, size_t rows, size_t features,
                               grugan_dataset **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_dataset_config cfg;
    int rc;
    if ((rc = read_config(c, config, &cfg, out, err)) != GRUGAN_OK) return rc;
    if (!series) return grugan__error_set(c, err, GRUGAN_E_INVALID, "series is NULL");
    if (rows == 0 || features == 0)
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "rows (%zu) and features (%zu) must be at least 1", rows,
                                 features);
    if ((rc = check_columns(c, &cfg, features, err)) != GRUGAN_OK) return rc;
    return from_series(c, &cfg, series, rows, features, cfg.columns, cfg.num_columns, out, err);
}

/* Reads a whole file into one allocation (*size bytes). */
static int read_file(const grugan_context *ctx, const char *path, char **data, size_t *size,
                     grugan_error *err)
{
    char msg[GRUGAN__MESSAGE_CAP];
    void *bytes = NULL;
    int rc = grugan__file_read(ctx, path, SIZE_MAX / 2, &bytes, size, msg, sizeof msg);
    *data = bytes;
    if (rc != GRUGAN_OK) return grugan__error_set(ctx, err, rc, "%s", msg);
    return GRUGAN_OK;
}

/* The CSV text as a series; `name` (NULL for buffers) prefixes messages. */
static int from_csv_text(const grugan_context *c, const grugan_dataset_config *cfg,
                         const char *text, size_t size, const char *name, grugan_dataset **out,
                         grugan_error *err)
{
    grugan__csv_options opt;
    grugan__csv_table table;
    char msg[GRUGAN__MESSAGE_CAP];
    int rc;
    opt.header = cfg->csv_header;
    opt.delimiter = (unsigned char)cfg->csv_delimiter;
    opt.columns = cfg->columns;
    opt.num_columns = cfg->num_columns;
    rc = grugan__csv_parse(c, text ? text : "", text ? size : 0, &opt, &table, msg, sizeof msg);
    if (rc != GRUGAN_OK) {
        if (name) return grugan__error_set(c, err, rc, "%s: %s", grugan__path_tail(name, 60), msg);
        return grugan__error_set(c, err, rc, "CSV: %s", msg);
    }
    rc = from_series(c, cfg, table.values, table.rows, table.cols, NULL, 0, out, err);
    grugan__free(c, table.values);
    return rc;
}

int grugan_dataset_from_csv_buffer(grugan_context *ctx, const grugan_dataset_config *config,
                                   const void *data, size_t size, grugan_dataset **out,
                                   grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_dataset_config cfg;
    int rc;
    if ((rc = read_config(c, config, &cfg, out, err)) != GRUGAN_OK) return rc;
    if (!data && size) return grugan__error_set(c, err, GRUGAN_E_INVALID, "data is NULL");
    if ((rc = require_length(c, &cfg, err)) != GRUGAN_OK) return rc;
    return from_csv_text(c, &cfg, data, size, NULL, out, err);
}

int grugan_dataset_from_csv(grugan_context *ctx, const grugan_dataset_config *config,
                            const char *path, grugan_dataset **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_dataset_config cfg;
    char *text;
    size_t size;
    int rc;
    if ((rc = read_config(c, config, &cfg, out, err)) != GRUGAN_OK) return rc;
    if (!path) return grugan__error_set(c, err, GRUGAN_E_INVALID, "path is NULL");
    if ((rc = require_length(c, &cfg, err)) != GRUGAN_OK) return rc;
    if ((rc = read_file(c, path, &text, &size, err)) != GRUGAN_OK) return rc;
    rc = from_csv_text(c, &cfg, text, size, path, out, err);
    grugan__free(c, text);
    return rc;
}

/* The NPY bytes: 2-D as a series, 3-D as sequences. */
static int from_npy_bytes(const grugan_context *c, const grugan_dataset_config *cfg,
                          const void *bytes, size_t size, const char *name, grugan_dataset **out,
                          grugan_error *err)
{
    grugan__npy_array a;
    char msg[GRUGAN__MESSAGE_CAP];
    int rc = grugan__npy_parse(c, bytes ? bytes : "", bytes ? size : 0, &a, msg, sizeof msg);
    if (rc != GRUGAN_OK) {
        if (name) return grugan__error_set(c, err, rc, "%s: %s", grugan__path_tail(name, 60), msg);
        return grugan__error_set(c, err, rc, "%s", msg);
    }
    if (a.ndim == 2) {
        rc = check_columns(c, cfg, a.shape[1], err);
        if (rc == GRUGAN_OK)
            rc = from_series(c, cfg, a.values, a.shape[0], a.shape[1], cfg->columns,
                             cfg->num_columns, out, err);
    } else {
        rc = check_steps(c, cfg, a.shape[1], err);
        if (rc == GRUGAN_OK) rc = check_columns(c, cfg, a.shape[2], err);
        if (rc == GRUGAN_OK) {
            source src;
            memset(&src, 0, sizeof src);
            src.data = a.values;
            src.width = a.shape[2];
            src.row_step = a.shape[1];
            src.n = a.shape[0];
            src.steps = a.shape[1];
            src.columns = cfg->columns;
            src.num_columns = cfg->num_columns;
            rc = build(c, cfg, &src, out, err);
        }
    }
    grugan__free(c, a.values);
    return rc;
}

int grugan_dataset_from_npy_buffer(grugan_context *ctx, const grugan_dataset_config *config,
                                   const void *data, size_t size, grugan_dataset **out,
                                   grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_dataset_config cfg;
    int rc;
    if ((rc = read_config(c, config, &cfg, out, err)) != GRUGAN_OK) return rc;
    if (!data && size) return grugan__error_set(c, err, GRUGAN_E_INVALID, "data is NULL");
    return from_npy_bytes(c, &cfg, data, size, NULL, out, err);
}

int grugan_dataset_from_npy(grugan_context *ctx, const grugan_dataset_config *config,
                            const char *path, grugan_dataset **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_dataset_config cfg;
    char *bytes;
    size_t size;
    int rc;
    if ((rc = read_config(c, config, &cfg, out, err)) != GRUGAN_OK) return rc;
    if (!path) return grugan__error_set(c, err, GRUGAN_E_INVALID, "path is NULL");
    if ((rc = read_file(c, path, &bytes, &size, err)) != GRUGAN_OK) return rc;
    rc = from_npy_bytes(c, &cfg, bytes, size, path, out, err);
    grugan__free(c, bytes);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Queries and the scaler                                                    */
/* ------------------------------------------------------------------------- */

void grugan_dataset_free(grugan_dataset *ds)
{
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return;
    release(ds);
}

const char *grugan_dataset_message(const grugan_dataset *ds)
{
    if (!ds) return "the dataset handle is NULL";
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return "not a dataset handle";
    return ds->obj.message;
}

int grugan_dataset_shape(const grugan_dataset *ds, size_t *n, size_t *steps, size_t *features,
                         size_t *condition_size)
{
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;
    if (n) *n = ds->n;
    if (steps) *steps = ds->steps;
    if (features) *features = ds->features;
    if (condition_size) *condition_size = ds->cond_size;
    return GRUGAN_OK;
}

int grugan_dataset_scaler(const grugan_dataset *ds, float *offset, float *scale)
{
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;
    if (offset) memcpy(offset, ds->offset, ds->features * sizeof(float));
    if (scale) memcpy(scale, ds->scale, ds->features * sizeof(float));
    return GRUGAN_OK;
}

/* Shared checks of scale and unscale. The handle is const in the API, but
 * its message is the one mutable part of a handle. */
static int check_values(const grugan_dataset *ds, const float *values, size_t count)
{
    grugan__object *obj = (grugan__object *)&ds->obj;
    grugan__clear(obj);
    if (!values) return grugan__fail(obj, GRUGAN_E_INVALID, "values is NULL");
    if (count % ds->features != 0)
        return grugan__fail(obj, GRUGAN_E_SIZE, "count %zu is not a multiple of the %zu features",
                            count, ds->features);
    return GRUGAN_OK;
}

int grugan_dataset_scale(const grugan_dataset *ds, float *values, size_t count)
{
    int rc;
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;
    if ((rc = check_values(ds, values, count)) != GRUGAN_OK) return rc;
    scale_rows(ds->offset, ds->scale, ds->features, values, count / ds->features);
    return GRUGAN_OK;
}

int grugan_dataset_unscale(const grugan_dataset *ds, float *values, size_t count)
{
    int rc;
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;
    if ((rc = check_values(ds, values, count)) != GRUGAN_OK) return rc;
    unscale_rows(ds->offset, ds->scale, ds->features, values, count / ds->features);
    return GRUGAN_OK;
}

/* Copies sequence i into x (T, F), its condition (C) and length. */
static void copy_sequence(const grugan_dataset *ds, size_t i, float *x, float *condition,
                          size_t *length)
{
    const size_t tf = ds->steps * ds->features;
    memcpy(x, ds->data + i * tf, tf * sizeof(float));
    if (condition && ds->cond_size)
        memcpy(condition, ds->conditions + i * ds->cond_size, ds->cond_size * sizeof(float));
    if (length) *length = ds->lengths ? ds->lengths[i] : ds->steps;
}

int grugan_dataset_get(const grugan_dataset *ds, size_t index, float *x, float *condition,
                       size_t *length)
{
    grugan__object *obj;
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;
    obj = (grugan__object *)&ds->obj;
    grugan__clear(obj);
    if (!x) return grugan__fail(obj, GRUGAN_E_INVALID, "x is NULL");
    if (index >= ds->n)
        return grugan__fail(obj, GRUGAN_E_NOTFOUND, "no sequence %zu (there are %zu)", index,
                            ds->n);
    copy_sequence(ds, index, x, condition, length);
    return GRUGAN_OK;
}

int grugan_dataset_split(const grugan_dataset *ds, size_t *n_train, size_t *n_holdout)
{
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;
    if (n_train) *n_train = ds->n_train;
    if (n_holdout) *n_holdout = ds->n - ds->n_train;
    return GRUGAN_OK;
}

int grugan_dataset_holdout_index(const grugan_dataset *ds, size_t k, size_t *index)
{
    grugan__object *obj;
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;
    obj = (grugan__object *)&ds->obj;
    grugan__clear(obj);
    if (!index) return grugan__fail(obj, GRUGAN_E_INVALID, "index is NULL");
    if (k >= ds->n - ds->n_train)
        return grugan__fail(obj, GRUGAN_E_NOTFOUND, "no held-out sequence %zu (there are %zu)",
                            k, ds->n - ds->n_train);
    *index = ds->order[ds->n_train + k];
    return GRUGAN_OK;
}

/* ------------------------------------------------------------------------- */
/* The minibatch stream                                                      */
/* ------------------------------------------------------------------------- */

/*
 * The permutation of epoch e is a Fisher-Yates shuffle whose k-th 32-bit
 * draw is lane k % 4 of the Philox block (seed, GRUGAN__RNG_SHUFFLE,
 * index e, sub k / 4): every epoch has its own stream of 2^34 draws, a pure
 * function of (seed, e), so a position (epoch, offset) resumes it exactly.
 */
typedef struct shuffle_stream {
    uint64_t seed, epoch;
    uint32_t next_block;
    uint32_t block[4];
    unsigned used; /* lanes of block consumed */
} shuffle_stream;

static uint32_t stream_u32(shuffle_stream *s)
{
    if (s->used == 4) {
        grugan__rng_block(s->seed, GRUGAN__RNG_SHUFFLE, s->epoch, s->next_block++, s->block);
        s->used = 0;
    }
    return s->block[s->used++];
}

/* Uniform in [0, n) for 1 <= n <= 2^32 - 1, exactly (Lemire 2019). */
static uint32_t stream_below(shuffle_stream *s, uint32_t n)
{
    uint64_t m = (uint64_t)stream_u32(s) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        const uint32_t threshold = (0u - n) % n;
        while (low < threshold) {
            m = (uint64_t)stream_u32(s) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

static void make_order(grugan_dataset *ds, uint64_t epoch)
{
    shuffle_stream s;
    size_t *order = ds->order;
    if (ds->order_valid && ds->order_epoch == epoch) return;
    s.seed = ds->seed;
    s.epoch = epoch;
    s.next_block = 0;
    s.used = 4;
    /* each epoch shuffles the training part from its sorted order, so the
     * permutation is a function of (seed, epoch) alone */
    for (size_t i = 0, k = 0; i < ds->n; i++)
        if (!is_held_out(ds, i)) order[k++] = i;
    for (size_t i = ds->n_train - 1; i > 0; i--) {
        const size_t j = stream_below(&s, (uint32_t)(i + 1));
        const size_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    ds->order_epoch = epoch;
    ds->order_valid = true;
}

int grugan_dataset_next_batch(grugan_dataset *ds, size_t batch, float *x, float *conditions,
                              size_t *lengths, uint64_t *epoch)
{
    size_t tf;
    CHECK_DS(ds);
    tf = ds->steps * ds->features;
    if (!x) return DS_FAIL(ds, GRUGAN_E_INVALID, "x is NULL");
    if (batch == 0 || batch > ds->n_train)
        return DS_FAIL(ds, GRUGAN_E_SIZE, "batch %zu is not in 1..%zu (the training sequences)",
                       batch, ds->n_train);
    if (batch > ds->n_train - ds->consumed) {
        ds->epoch++;
        ds->consumed = 0;
    }
    make_order(ds, ds->epoch);
    for (size_t b = 0; b < batch; b++)
        copy_sequence(ds, ds->order[ds->consumed + b], x + b * tf,
                      conditions ? conditions + b * ds->cond_size : NULL,
                      lengths ? lengths + b : NULL);
    if (epoch) *epoch = ds->epoch;
    ds->consumed += batch;
    return GRUGAN_OK;
}

int grugan_dataset_position(const grugan_dataset *ds, uint64_t *epoch, uint64_t *offset)
{
    if (!grugan__object_is(ds, GRUGAN__MAGIC_DATASET)) return GRUGAN_E_INVALID;
    if (epoch) *epoch = ds->epoch;
    if (offset) *offset = ds->consumed;
    return GRUGAN_OK;
}

int grugan_dataset_set_position(grugan_dataset *ds, uint64_t epoch, uint64_t offset)
{
    CHECK_DS(ds);
    if (offset > ds->n_train)
        return DS_FAIL(ds, GRUGAN_E_RANGE, "offset %llu exceeds the %zu training sequences",
                       (unsigned long long)offset, ds->n_train);
    ds->epoch = epoch;
    ds->consumed = (size_t)offset;
    return GRUGAN_OK;
}
