/* npy.c - NumPy .npy arrays (float32/float64, C order, 2-D or 3-D) into
 * float32, reading the little-endian bytes explicitly on any host. */
#include "io/npy.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Most dimensions the header may list (only 2 and 3 are then accepted). */
#define NPY_MAX_DIMS 32

/* Smallest double that rounds to +inf as a float: FLT_MAX + half an ulp. */
#define FLOAT_OVERFLOW_BOUND 0x1.ffffffp127

#define FAIL(code, ...) (snprintf(msg, msg_cap, __VA_ARGS__), (code))

/* The header dict being read. */
typedef struct header {
    const char *p, *end;
} header;

typedef struct header_fields {
    char descr[16];
    size_t itemsize; /* 4 or 8 once descr is accepted */
    bool fortran;
    size_t ndim;
    uint64_t shape[NPY_MAX_DIMS];
    bool have_descr, have_order, have_shape;
} header_fields;

static void skip_space(header *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static bool accept(header *h, char c)
{
    skip_space(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return false;
}

static bool accept_word(header *h, const char *word)
{
    const size_t n = strlen(word);
    skip_space(h);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, word, n) == 0) {
        h->p += n;
        return true;
    }
    return false;
}

/* A Python string literal in ' or " without escapes: *s, *n its content. */
static bool read_string(header *h, const char **s, size_t *n)
{
    char quote;
    const char *start;
    skip_space(h);
    if (h->p == h->end || (*h->p != '\'' && *h->p != '"')) return false;
    quote = *h->p++;
    start = h->p;
    while (h->p < h->end && *h->p != quote) {
        if (*h->p == '\\' || *h->p == '\n') return false;
        h->p++;
    }
    if (h->p == h->end) return false;
    *s = start;
    *n = (size_t)(h->p - start);
    h->p++;
    return true;
}

/* A non-negative decimal integer (Python 2's 'L' suffix allowed). */
static bool read_uint(header *h, uint64_t *v, bool *overflow)
{
    uint64_t x = 0;
    bool any = false;
    skip_space(h);
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        const uint64_t d = (uint64_t)(*h->p - '0');
        if (x > (UINT64_MAX - d) / 10)
            *overflow = true;
        else
            x = x * 10 + d;
        any = true;
        h->p++;
    }
    if (any && h->p < h->end && *h->p == 'L') h->p++;
    *v = x;
    return any;
}

static int read_shape(header *h, header_fields *f, char *msg, size_t msg_cap)
{
    bool overflow = false;
    if (!accept(h, '(')) return FAIL(GRUGAN_E_FORMAT, "NPY header: 'shape' is not a tuple");
    f->ndim = 0;
    if (accept(h, ')')) return GRUGAN_OK;
    for (;;) {
        uint64_t d;
        if (f->ndim == NPY_MAX_DIMS)
            return FAIL(GRUGAN_E_FORMAT, "NPY header: more than %d dimensions", NPY_MAX_DIMS);
        if (!read_uint(h, &d, &overflow))
            return FAIL(GRUGAN_E_FORMAT, "NPY header: 'shape' holds something other than "
                                         "non-negative integers");
        if (overflow)
            return FAIL(GRUGAN_E_SIZE, "NPY header: dimension %zu of 'shape' overflows",
                        f->ndim);
        f->shape[f->ndim++] = d;
        if (accept(h, ',')) {
            if (accept(h, ')')) return GRUGAN_OK;
        } else if (accept(h, ')')) {
            return GRUGAN_OK;
        } else {
            return FAIL(GRUGAN_E_FORMAT, "NPY header: malformed 'shape' tuple");
        }
    }
}

/* The dict {'descr': ..., 'fortran_order': ..., 'shape': ...}, keys in any
 * order, each exactly once, nothing else; then only white space. */
static int read_header(header *h, header_fields *f, char *msg, size_t msg_cap)
{
    int rc;
    memset(f, 0, sizeof *f);
    if (!accept(h, '{')) return FAIL(GRUGAN_E_FORMAT, "NPY header is not a dict");
    while (!accept(h, '}')) {
        const char *key, *s;
        size_t n, len;
        if (!read_string(h, &key, &len))
            return FAIL(GRUGAN_E_FORMAT, "NPY header: expected a quoted key or '}'");
        if (!accept(h, ':')) return FAIL(GRUGAN_E_FORMAT, "NPY header: expected ':' after a key");
        if (len == 5 && memcmp(key, "descr", 5) == 0) {
            if (f->have_descr) return FAIL(GRUGAN_E_FORMAT, "NPY header: 'descr' given twice");
            f->have_descr = true;
            skip_space(h);
            if (h->p < h->end && *h->p == '[')
                return FAIL(GRUGAN_E_FORMAT, "NPY: structured dtypes are not supported: need "
                                             "'<f4' (float32) or '<f8' (float64)");
            if (!read_string(h, &s, &n))
                return FAIL(GRUGAN_E_FORMAT, "NPY header: 'descr' is not a string");
            if (n >= sizeof f->descr) n = sizeof f->descr - 1;
            memcpy(f->descr, s, n);
            f->descr[n] = '\0';
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)f->descr[i] < 0x20 || (unsigned char)f->descr[i] >= 0x7f)
                    f->descr[i] = '?';
        } else if (len == 13 && memcmp(key, "fortran_order", 13) == 0) {
            if (f->have_order)
                return FAIL(GRUGAN_E_FORMAT, "NPY header: 'fortran_order' given twice");
            f->have_order = true;
            if (accept_word(h, "True"))
                f->fortran = true;
            else if (accept_word(h, "False"))
                f->fortran = false;
            else
                return FAIL(GRUGAN_E_FORMAT, "NPY header: 'fortran_order' is not True or False");
        } else if (len == 5 && memcmp(key, "shape", 5) == 0) {
            if (f->have_shape) return FAIL(GRUGAN_E_FORMAT, "NPY header: 'shape' given twice");
            f->have_shape = true;
            if ((rc = read_shape(h, f, msg, msg_cap)) != GRUGAN_OK) return rc;
        } else {
            char name[24];
            size_t k = len < sizeof name - 1 ? len : sizeof name - 1;
            memcpy(name, key, k);
            name[k] = '\0';
            for (size_t i = 0; i < k; i++)
                if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f) name[i] = '?';
            return FAIL(GRUGAN_E_FORMAT, "NPY header: unknown key '%s'", name);
        }
        if (accept(h, ',')) continue;
        if (accept(h, '}')) break;
        return FAIL(GRUGAN_E_FORMAT, "NPY header: expected ',' or '}' after a value");
    }
    skip_space(h);
    if (h->p != h->end)
        return FAIL(GRUGAN_E_FORMAT, "NPY header: unexpected text after the dict");
    if (!f->have_descr || !f->have_order || !f->have_shape)
        return FAIL(GRUGAN_E_FORMAT, "NPY header: missing '%s'",
                    !f->have_descr ? "descr" : !f->have_order ? "fortran_order" : "shape");
    return GRUGAN_OK;
}

/* "(a, b, c)" into dst. */
static void shape_text(char *dst, size_t cap, const header_fields *f)
{
    size_t k = 0;
    k += (size_t)snprintf(dst, cap, "(");
    for (size_t i = 0; i < f->ndim && k < cap; i++)
        k += (size_t)snprintf(dst + k, cap - k, "%s%llu", i ? ", " : "",
                              (unsigned long long)f->shape[i]);
    if (k < cap) snprintf(dst + k, cap - k, f->ndim == 1 ? ",)" : ")");
}

static uint32_t load_le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t load_le64(const unsigned char *b)
{
    return (uint64_t)load_le32(b) | (uint64_t)load_le32(b + 4) << 32;
}

/* Converts count values at src (itemsize 4 or 8, little-endian) into dst,
 * refusing NaN, Inf and (float64) values beyond the float range. */
static int convert(float *dst, const unsigned char *src, size_t count, size_t itemsize,
                   char *msg, size_t msg_cap)
{
    if (itemsize == 4) {
        for (size_t i = 0; i < count; i++) {
            const uint32_t bits = load_le32(src + 4 * i);
            if ((bits & 0x7f800000u) == 0x7f800000u)
                return FAIL(GRUGAN_E_NONFINITE, "NPY value at flat index %zu is %s", i,
                            bits & 0x007fffffu ? "NaN" : "Inf");
            memcpy(&dst[i], &bits, sizeof bits);
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            const uint64_t bits = load_le64(src + 8 * i);
            double d;
            if ((bits & 0x7ff0000000000000u) == 0x7ff0000000000000u)
                return FAIL(GRUGAN_E_NONFINITE, "NPY value at flat index %zu is %s", i,
                            bits & 0x000fffffffffffffu ? "NaN" : "Inf");
            memcpy(&d, &bits, sizeof d);
            if (d >= FLOAT_OVERFLOW_BOUND || d <= -FLOAT_OVERFLOW_BOUND)
                return FAIL(GRUGAN_E_RANGE,
                            "NPY value %g at flat index %zu is beyond the float range (3.4e38)",
                            d, i);
            dst[i] = (float)d;
        }
    }
    return GRUGAN_OK;
}

int grugan__npy_parse(const grugan_context *ctx, const void *data, size_t size,
                      grugan__npy_array *array, char *msg, size_t msg_cap)
{
    const unsigned char *b = data;
    size_t preamble, header_len, data_offset, count = 1, bytes;
    header_fields f;
    header h;
    char shape[NPY_MAX_DIMS * 24];
    float *values;
    int rc;

    memset(array, 0, sizeof *array);
    msg[0] = '\0';
    if (size < 8 || memcmp(b, "\x93NUMPY", 6) != 0)
        return FAIL(GRUGAN_E_FORMAT, "not an NPY file (no \\x93NUMPY magic)");
    if (b[7] != 0 || b[6] < 1 || b[6] > 3)
        return FAIL(GRUGAN_E_FORMAT, "unsupported NPY version %u.%u (supported: 1.0, 2.0, 3.0)",
                    (unsigned)b[6], (unsigned)b[7]);
    preamble = b[6] == 1 ? 10 : 12;
    if (size < preamble)
        return FAIL(GRUGAN_E_FORMAT, "truncated NPY header: the file has %zu bytes", size);
    header_len = b[6] == 1 ? (size_t)(b[8] | b[9] << 8) : (size_t)load_le32(b + 8);
    if (header_len > size - preamble)
        return FAIL(GRUGAN_E_FORMAT,
                    "NPY header length %zu goes beyond the file (%zu bytes after the preamble)",
                    header_len, size - preamble);
    data_offset = preamble + header_len;

    h.p = (const char *)b + preamble;
    h.end = h.p + header_len;
    if ((rc = read_header(&h, &f, msg, msg_cap)) != GRUGAN_OK) return rc;
    if (strcmp(f.descr, "<f4") == 0) {
        f.itemsize = 4;
    } else if (strcmp(f.descr, "<f8") == 0) {
        f.itemsize = 8;
    } else {
        const bool big = f.descr[0] == '>' &&
                         (strcmp(f.descr + 1, "f4") == 0 || strcmp(f.descr + 1, "f8") == 0);
        return FAIL(GRUGAN_E_FORMAT, "NPY dtype '%s' is not supported%s: need '<f4' (float32) "
                                     "or '<f8' (float64)",
                    f.descr, big ? " (big-endian)" : "");
    }
    if (f.fortran)
        return FAIL(GRUGAN_E_FORMAT, "NPY array in Fortran order is not supported: save a "
                                     "C-order array (numpy.ascontiguousarray)");
    shape_text(shape, sizeof shape, &f);
    if (f.ndim != 2 && f.ndim != 3)
        return FAIL(GRUGAN_E_FORMAT, "NPY array of shape %.120s has %zu dimensions: need 2 "
                                     "(rows, features) or 3 (sequences, steps, features)",
                    shape, f.ndim);
    for (size_t i = 0; i < f.ndim; i++) {
        if (f.shape[i] == 0) return FAIL(GRUGAN_E_SIZE, "NPY array of shape %s is empty", shape);
        if (f.shape[i] > SIZE_MAX || !grugan__mul_size(count, (size_t)f.shape[i], &count))
            return FAIL(GRUGAN_E_SIZE, "NPY shape %s: the element count overflows", shape);
    }
    if (!grugan__mul_size(count, f.itemsize, &bytes))
        return FAIL(GRUGAN_E_SIZE, "NPY shape %s: the byte count overflows", shape);
    if (bytes != size - data_offset)
        return FAIL(GRUGAN_E_FORMAT, "NPY data of shape %s needs %zu bytes, the file has %zu%s",
                    shape, bytes, size - data_offset,
                    size - data_offset < bytes ? " (truncated)" : " (trailing bytes)");
    if (count > SIZE_MAX / sizeof(float))
        return FAIL(GRUGAN_E_SIZE, "NPY shape %s is too large", shape);
    values = grugan__alloc(ctx, count * sizeof(float));
    if (!values) return FAIL(GRUGAN_E_NOMEM, "cannot allocate %zu values for the NPY array", count);
    if ((rc = convert(values, b + data_offset, count, f.itemsize, msg, msg_cap)) != GRUGAN_OK) {
        grugan__free(ctx, values);
        return rc;
    }
    array->values = values;
    array->ndim = f.ndim;
    for (size_t i = 0; i < f.ndim; i++) array->shape[i] = (size_t)f.shape[i];
    return GRUGAN_OK;
}
