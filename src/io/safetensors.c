/* safetensors.c - encode and strictly validate the checkpoint container. */
#include "io/safetensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- little-endian float32 bytes --------------------------------------------- */

static void put_le32(unsigned char *dst, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    dst[0] = (unsigned char)bits;
    dst[1] = (unsigned char)(bits >> 8);
    dst[2] = (unsigned char)(bits >> 16);
    dst[3] = (unsigned char)(bits >> 24);
}

static float get_le32(const unsigned char *src)
{
    uint32_t bits = (uint32_t)src[0] | (uint32_t)src[1] << 8 | (uint32_t)src[2] << 16 |
                    (uint32_t)src[3] << 24;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

void grugan__st_copy(const grugan__st_entry *entry, float *dst)
{
    for (size_t i = 0; i < entry->count; i++) dst[i] = get_le32(entry->data + 4 * i);
}

/* ---- encoder --------------------------------------------------------------------- */

int grugan__st_encode(const grugan__st_tensor *tensors, size_t n_tensors,
                      const grugan__st_meta *meta, size_t n_meta, grugan__json_out *out)
{
    grugan__json_out head;
    size_t offset = 0, header_len, padded;
    unsigned char len_bytes[8];
    int rc = GRUGAN_OK;

    /* header JSON */
    grugan__json_out_init(&head, out->ctx);
    grugan__json_out_raw(&head, "{", 1);
    if (n_meta) {
        grugan__json_out_raw(&head, "\"__metadata__\":{", 16);
        for (size_t i = 0; i < n_meta; i++) {
            if (i) grugan__json_out_raw(&head, ",", 1);
            grugan__json_out_string(&head, meta[i].key);
            grugan__json_out_raw(&head, ":", 1);
            grugan__json_out_string(&head, meta[i].value);
        }
        grugan__json_out_raw(&head, "}", 1);
    }
    for (size_t i = 0; i < n_tensors; i++) {
        size_t count = 1, bytes;
        for (size_t d = 0; d < tensors[i].ndim; d++)
            if (!grugan__mul_size(count, tensors[i].shape[d], &count)) rc = GRUGAN_E_SIZE;
        if (!grugan__mul_size(count, 4, &bytes)) rc = GRUGAN_E_SIZE;
        if (rc != GRUGAN_OK) break;
        if (n_meta || i) grugan__json_out_raw(&head, ",", 1);
        grugan__json_out_string(&head, tensors[i].name);
        grugan__json_out_raw(&head, ":{\"dtype\":\"F32\",\"shape\":[", 25);
        for (size_t d = 0; d < tensors[i].ndim; d++) {
            if (d) grugan__json_out_raw(&head, ",", 1);
            grugan__json_out_uint(&head, tensors[i].shape[d]);
        }
        grugan__json_out_raw(&head, "],\"data_offsets\":[", 18);
        grugan__json_out_uint(&head, offset);
        grugan__json_out_raw(&head, ",", 1);
        if (!grugan__add_size(offset, bytes, &offset)) {
            rc = GRUGAN_E_SIZE;
            break;
        }
        grugan__json_out_uint(&head, offset);
        grugan__json_out_raw(&head, "]}", 2);
    }
    grugan__json_out_raw(&head, "}", 1);
    if (rc == GRUGAN_OK && head.failed) rc = GRUGAN_E_NOMEM;
    if (rc != GRUGAN_OK) {
        grugan__json_out_release(&head);
        return rc;
    }
    /* pad with spaces so that the data start at a multiple of 8 */
    header_len = head.size;
    padded = (header_len + 7) / 8 * 8;
    while (head.size < padded) grugan__json_out_raw(&head, " ", 1);
    for (int b = 0; b < 8; b++) len_bytes[b] = (unsigned char)((uint64_t)padded >> (8 * b));
    grugan__json_out_raw(out, (const char *)len_bytes, 8);
    grugan__json_out_raw(out, head.data, head.size);
    grugan__json_out_release(&head);
    /* data */
    for (size_t i = 0; i < n_tensors && !out->failed; i++) {
        size_t count = 1;
        for (size_t d = 0; d < tensors[i].ndim; d++) count *= tensors[i].shape[d];
        for (size_t k = 0; k < count; k++) {
            unsigned char b[4];
            put_le32(b, tensors[i].data[k]);
            grugan__json_out_raw(out, (const char *)b, 4);
        }
    }
    return out->failed ? GRUGAN_E_NOMEM : GRUGAN_OK;
}

/* ---- decoder ---------------------------------------------------------------------- */

typedef struct decoder {
    char *msg;
    size_t msg_cap;
} decoder;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int bad(decoder *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (d->msg && d->msg_cap) vsnprintf(d->msg, d->msg_cap, fmt, ap);
    va_end(ap);
    return GRUGAN_E_FORMAT;
}

static const char *const other_dtypes[] = {"F64", "F16", "BF16", "I64", "I32", "I16", "I8",
                                           "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3",
                                           "F8_E5M2"};

/* Fills one entry from the tensor object `t` called name. */
static int decode_tensor(decoder *d, const grugan__json *t, grugan__st_entry *e,
                         size_t *begin, size_t *end)
{
    const grugan__json *dtype, *shape, *offsets;
    size_t bytes;
    if (t->type != GRUGAN__JSON_OBJECT) return bad(d, "tensor '%s' is not an object", e->name);
    dtype = grugan__json_get(t, "dtype");
    shape = grugan__json_get(t, "shape");
    offsets = grugan__json_get(t, "data_offsets");
    if (!dtype || !shape || !offsets || t->length != 3)
        return bad(d, "tensor '%s' must have exactly dtype, shape and data_offsets", e->name);
    if (dtype->type != GRUGAN__JSON_STRING) return bad(d, "dtype of '%s' is not a string", e->name);
    if (strcmp(dtype->string, "F32") != 0) {
        for (size_t i = 0; i < sizeof other_dtypes / sizeof other_dtypes[0]; i++)
            if (strcmp(dtype->string, other_dtypes[i]) == 0)
                return bad(d, "tensor '%s' has a dtype libgrugan does not read (only F32)",
                           e->name);
        return bad(d, "tensor '%s' has an unknown dtype", e->name);
    }
    if (shape->type != GRUGAN__JSON_ARRAY) return bad(d, "shape of '%s' is not an array", e->name);
    if (shape->length > GRUGAN__MAX_DIMS)
        return bad(d, "tensor '%s' has more dimensions than libgrugan uses (4)", e->name);
    e->ndim = shape->length;
    e->count = 1;
    for (size_t i = 0; i < shape->length; i++) {
        const grugan__json *v = &shape->items[i];
        if (v->type != GRUGAN__JSON_NUMBER || !v->is_uint || v->uint > SIZE_MAX)
            return bad(d, "shape of '%s' holds something other than a size", e->name);
        e->shape[i] = (size_t)v->uint;
        if (!grugan__mul_size(e->count, e->shape[i], &e->count))
            return bad(d, "the shape of '%s' overflows", e->name);
    }
    if (!grugan__mul_size(e->count, 4, &bytes)) return bad(d, "the shape of '%s' overflows", e->name);
    if (offsets->type != GRUGAN__JSON_ARRAY || offsets->length != 2 ||
        offsets->items[0].type != GRUGAN__JSON_NUMBER || !offsets->items[0].is_uint ||
        offsets->items[1].type != GRUGAN__JSON_NUMBER || !offsets->items[1].is_uint ||
        offsets->items[0].uint > SIZE_MAX || offsets->items[1].uint > SIZE_MAX)
        return bad(d, "data_offsets of '%s' must be two sizes", e->name);
    *begin = (size_t)offsets->items[0].uint;
    *end = (size_t)offsets->items[1].uint;
    if (*end < *begin) return bad(d, "data_offsets of '%s' end before they begin", e->name);
    if (*end - *begin != bytes)
        return bad(d, "tensor '%s' has data_offsets that do not match its shape and dtype",
                   e->name);
    return GRUGAN_OK;
}

typedef struct span {
    size_t begin, end, entry;
} span;

static int by_begin(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

static int by_name(const void *a, const void *b)
{
    const grugan__st_entry *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int grugan__st_decode(const grugan_context *ctx, const void *data, size_t size,
                      grugan__st_file *file, char *msg, size_t msg_cap)
{
    const unsigned char *bytes = data;
    decoder d = {msg, msg_cap};
    uint64_t header_len = 0;
    size_t n_tensors = 0, data_start, data_size, cursor;
    span *spans = NULL;
    int rc;

    memset(file, 0, sizeof *file);
    file->ctx = ctx;
    if (size < 8) return bad(&d, "%s", "shorter than the 8-byte header length");
    for (int b = 0; b < 8; b++) header_len |= (uint64_t)bytes[b] << (8 * b);
    if (header_len == 0) return bad(&d, "%s", "the header length is 0");
    if (header_len > GRUGAN__ST_HEADER_CAP)
        return bad(&d, "%s", "the header length exceeds the 16 MiB cap");
    if (header_len > size - 8) return bad(&d, "%s", "the header length is beyond the end of the file");
    data_start = 8 + (size_t)header_len;
    data_size = size - data_start;
    if (bytes[8] != '{') return bad(&d, "%s", "the header does not start with '{'");

    rc = grugan__json_parse(ctx, (const char *)bytes + 8, (size_t)header_len, &file->header,
                            msg, msg_cap);
    if (rc != GRUGAN_OK) {
        if (rc == GRUGAN_E_FORMAT && msg && msg_cap) {
            char inner[200];
            snprintf(inner, sizeof inner, "%s", msg);
            snprintf(msg, msg_cap, "invalid JSON header: %s", inner);
        }
        return rc;
    }
    if (file->header->type != GRUGAN__JSON_OBJECT) {
        rc = bad(&d, "%s", "the header is not a JSON object");
        goto fail;
    }
    if (file->header->length > GRUGAN__ST_MAX_ENTRIES) {
        rc = bad(&d, "%s", "the header has too many entries");
        goto fail;
    }
    for (size_t i = 0; i < file->header->length; i++)
        if (strcmp(file->header->items[i].key, "__metadata__") != 0) n_tensors++;
    if (n_tensors) {
        file->entries = grugan__calloc(ctx, n_tensors, sizeof *file->entries);
        spans = grugan__calloc(ctx, n_tensors, sizeof *spans);
        if (!file->entries || !spans) {
            snprintf(msg, msg_cap, "cannot allocate the table of %zu tensors", n_tensors);
            rc = GRUGAN_E_NOMEM;
            goto fail;
        }
    }
    for (size_t i = 0; i < file->header->length; i++) {
        const grugan__json *m = &file->header->items[i];
        if (strlen(m->key) != m->key_length) {
            rc = bad(&d, "%s", "a name contains a NUL character");
            goto fail;
        }
        if (strcmp(m->key, "__metadata__") == 0) {
            if (file->metadata) {
                rc = bad(&d, "%s", "__metadata__ appears twice");
                goto fail;
            }
            if (m->type != GRUGAN__JSON_OBJECT) {
                rc = bad(&d, "%s", "__metadata__ is not an object");
                goto fail;
            }
            for (size_t k = 0; k < m->length; k++)
                if (m->items[k].type != GRUGAN__JSON_STRING) {
                    rc = bad(&d, "metadata '%s' is not a string", m->items[k].key);
                    goto fail;
                }
            file->metadata = m;
            continue;
        }
        {
            grugan__st_entry *e = &file->entries[file->n_entries];
            span *s = &spans[file->n_entries];
            e->name = m->key;
            rc = decode_tensor(&d, m, e, &s->begin, &s->end);
            if (rc != GRUGAN_OK) goto fail;
            if (s->end > data_size) {
                rc = bad(&d, "tensor '%s' lies beyond the end of the file", e->name);
                goto fail;
            }
            e->data = bytes + data_start + s->begin;
            s->entry = file->n_entries++;
        }
    }
    /* offsets: sorted, no overlap, no hole, the whole data section (spans is
     * NULL without tensors, and qsort must not be given NULL) */
    if (file->n_entries > 1) qsort(spans, file->n_entries, sizeof *spans, by_begin);
    cursor = 0;
    for (size_t i = 0; i < file->n_entries; i++) {
        if (spans[i].begin < cursor) {
            rc = bad(&d, "tensor '%s' overlaps another", file->entries[spans[i].entry].name);
            goto fail;
        }
        if (spans[i].begin > cursor) {
            rc = bad(&d, "a gap precedes tensor '%s'", file->entries[spans[i].entry].name);
            goto fail;
        }
        cursor = spans[i].end;
    }
    if (cursor != data_size) {
        rc = bad(&d, "%s", "the data section has bytes no tensor covers");
        goto fail;
    }
    /* duplicate names: sort a copy of the entries by name */
    if (file->n_entries > 1) {
        grugan__st_entry *sorted = grugan__calloc(ctx, file->n_entries, sizeof *sorted);
        if (!sorted) {
            snprintf(msg, msg_cap, "cannot allocate the table of %zu tensors", file->n_entries);
            rc = GRUGAN_E_NOMEM;
            goto fail;
        }
        memcpy(sorted, file->entries, file->n_entries * sizeof *sorted);
        qsort(sorted, file->n_entries, sizeof *sorted, by_name);
        for (size_t i = 1; i < file->n_entries; i++)
            if (strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
                rc = bad(&d, "tensor '%s' appears twice", sorted[i].name);
                grugan__free(ctx, sorted);
                goto fail;
            }
        grugan__free(ctx, sorted);
    }
    grugan__free(ctx, spans);
    return GRUGAN_OK;

fail:
    grugan__free(ctx, spans);
    grugan__st_release(file);
    return rc;
}

void grugan__st_release(grugan__st_file *file)
{
    grugan__free(file->ctx, file->header);
    grugan__free(file->ctx, file->entries);
    file->header = NULL;
    file->entries = NULL;
    file->metadata = NULL;
    file->n_entries = 0;
}

const grugan__st_entry *grugan__st_find(const grugan__st_file *file, const char *name)
{
    for (size_t i = 0; i < file->n_entries; i++)
        if (strcmp(file->entries[i].name, name) == 0) return &file->entries[i];
    return NULL;
}

const char *grugan__st_meta_get(const grugan__st_file *file, const char *key)
{
    const grugan__json *v = grugan__json_get(file->metadata, key);
    return v ? v->string : NULL;
}

bool grugan__st_meta_u64(const grugan__st_file *file, const char *key, uint64_t *out)
{
    const char *s = grugan__st_meta_get(file, key);
    uint64_t v = 0;
    if (!s || !*s || (s[0] == '0' && s[1])) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}
