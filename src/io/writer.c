/* writer.c - sequences to CSV or NPY files, and generated samples to files. */
#include "core/core.h"
#include "io/file.h"

#include <stdio.h>
#include <string.h>

/* Appends text to a growing buffer; false when out of memory. */
typedef struct text {
    const grugan_context *ctx;
    char *data;
    size_t size, cap;
} text;

static bool append(text *t, const char *s, size_t n)
{
    if (n > t->cap - t->size) {
        size_t cap = t->cap ? t->cap : 4096;
        char *grown;
        while (cap - t->size < n) {
            if (cap > SIZE_MAX / 2) return false;
            cap *= 2;
        }
        if (!(grown = grugan__alloc(t->ctx, cap))) return false;
        if (t->size) memcpy(grown, t->data, t->size);
        grugan__free(t->ctx, t->data);
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->size, s, n);
    t->size += n;
    return true;
}

/* A float as the shortest of %.9g; the C library's decimal point may be a
 * comma under some locales, so it is set right after formatting. */
static int format_float(char *buf, size_t cap, float v)
{
    int n = snprintf(buf, cap, "%.9g", (double)v);
    for (int i = 0; i < n; i++)
        if (buf[i] == ',') buf[i] = '.';
    return n;
}

static bool build_csv(text *t, const float *x, size_t n, size_t T, size_t F)
{
    char buf[64];
    int len;
    if (!append(t, "sequence,step", 13)) return false;
    for (size_t k = 0; k < F; k++) {
        len = snprintf(buf, sizeof buf, ",f%zu", k);
        if (!append(t, buf, (size_t)len)) return false;
    }
    if (!append(t, "\n", 1)) return false;
    for (size_t i = 0; i < n; i++)
        for (size_t s = 0; s < T; s++) {
            len = snprintf(buf, sizeof buf, "%zu,%zu", i, s);
            if (!append(t, buf, (size_t)len)) return false;
            for (size_t k = 0; k < F; k++) {
                buf[0] = ',';
                len = format_float(buf + 1, sizeof buf - 1, x[(i * T + s) * F + k]);
                if (!append(t, buf, (size_t)len + 1)) return false;
            }
            if (!append(t, "\n", 1)) return false;
        }
    return true;
}

/* NPY version 1.0: magic, header length, a dict padded with spaces to a
 * multiple of 64 bytes ending in a newline, then the data. */
static bool build_npy(text *t, const float *x, size_t n, size_t T, size_t F)
{
    char dict[128];
    unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    int len = snprintf(dict, sizeof dict,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu, %zu), }", n,
                       T, F);
    size_t total = 10 + (size_t)len + 1, padded = (total + 63) / 64 * 64, count = n * T * F;
    size_t header_len = padded - 10;
    head[8] = (unsigned char)header_len;
    head[9] = (unsigned char)(header_len >> 8);
    if (!append(t, (const char *)head, 10) || !append(t, dict, (size_t)len)) return false;
    for (size_t i = total; i < padded; i++)
        if (!append(t, " ", 1)) return false;
    if (!append(t, "\n", 1)) return false;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        unsigned char b[4];
        memcpy(&bits, &x[i], sizeof bits);
        b[0] = (unsigned char)bits;
        b[1] = (unsigned char)(bits >> 8);
        b[2] = (unsigned char)(bits >> 16);
        b[3] = (unsigned char)(bits >> 24);
        if (!append(t, (const char *)b, 4)) return false;
    }
    return true;
}

static int write_sequences(const grugan_context *ctx, const char *path, int format,
                           const float *x, size_t n, size_t T, size_t F, char *msg, size_t cap)
{
    text t = {ctx, NULL, 0, 0};
    size_t count;
    bool ok;
    int rc;
    if (!path || !x) {
        snprintf(msg, cap, "path and x must not be NULL");
        return GRUGAN_E_INVALID;
    }
    if (format != GRUGAN_FILE_CSV && format != GRUGAN_FILE_NPY) {
        snprintf(msg, cap, "format %d is not GRUGAN_FILE_CSV or GRUGAN_FILE_NPY", format);
        return GRUGAN_E_INVALID;
    }
    if (n == 0 || T == 0 || F == 0 || !grugan__mul3_size(n, T, F, &count) ||
        count > SIZE_MAX / 64) {
        snprintf(msg, cap, "sizes %zu x %zu x %zu are zero or too large", n, T, F);
        return GRUGAN_E_SIZE;
    }
    ok = format == GRUGAN_FILE_CSV ? build_csv(&t, x, n, T, F) : build_npy(&t, x, n, T, F);
    if (!ok) {
        grugan__free(ctx, t.data);
        snprintf(msg, cap, "out of memory while formatting %zu values", count);
        return GRUGAN_E_NOMEM;
    }
    rc = grugan__file_write_atomic(path, t.data, t.size, msg, cap);
    grugan__free(ctx, t.data);
    return rc;
}

int grugan_write_sequences(const char *path, int format, const float *x, size_t n, size_t steps,
                           size_t features, grugan_error *err)
{
    const grugan_context *ctx = grugan__default_context();
    char msg[GRUGAN__MESSAGE_CAP];
    int rc;
    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    rc = write_sequences(ctx, path, format, x, n, steps, features, msg, sizeof msg);
    if (rc != GRUGAN_OK) return grugan__error_set(ctx, err, rc, "%s", msg);
    return GRUGAN_OK;
}

int grugan_generator_sample_to_file(grugan_generator *gen, uint64_t seed, size_t n, size_t steps,
                                    const float *condition, const char *path, int format)
{
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT;
    const grugan_context *ctx;
    grugan__object *obj = (grugan__object *)gen;
    char msg[GRUGAN__MESSAGE_CAP];
    size_t count;
    float *x;
    int rc;
    if (!grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR)) return GRUGAN_E_INVALID;
    ctx = obj->ctx;
    grugan_generator_get_config(gen, &c);
    if (c.covariate_size)
        return grugan__fail(obj, GRUGAN_E_UNSUPPORTED,
                            "sample_to_file cannot supply covariates; use grugan_generator_sample");
    if (!grugan__mul3_size(n, steps, c.output_size, &count) || count == 0)
        return grugan__fail(obj, GRUGAN_E_SIZE, "n %zu x steps %zu is zero or too large", n, steps);
    if (!(x = grugan__calloc(ctx, count, sizeof *x)))
        return grugan__fail(obj, GRUGAN_E_NOMEM, "cannot allocate %zu samples", n);
    rc = grugan_generator_sample(gen, seed, n, steps, condition, NULL, x);
    if (rc == GRUGAN_OK) {
        if (grugan_generator_get_scaler(gen, NULL, NULL) == GRUGAN_OK)
            rc = grugan_generator_unscale(gen, x, count);
        else
            grugan__clear(obj); /* no scaler: samples stay in scaled units */
    }
    /* a failure of sample or unscale has left its message in the generator */
    if (rc == GRUGAN_OK) {
        rc = write_sequences(ctx, path, format, x, n, steps, c.output_size, msg, sizeof msg);
        if (rc != GRUGAN_OK) grugan__fail(obj, rc, "%s", msg);
    }
    grugan__free(ctx, x);
    return rc;
}
