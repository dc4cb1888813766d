/*
 * safetensors.h - the checkpoint container (docs/FORMAT.md is normative):
 *
 *   8 bytes   N, little-endian unsigned: length of the header
 *   N bytes   JSON header: {"__metadata__": {"key": "value", ...},
 *             "name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
 *             padded with spaces so that the data start at a multiple of 8
 *   data      raw little-endian tensors; tensor bytes [8 + N + b, 8 + N + e)
 *
 * The reader trusts nothing: header length within the file and a cap, strict
 * JSON, known keys and types only, F32 only, shape products without overflow,
 * byte sizes matching shapes, offsets sorted, non-overlapping and covering the
 * data exactly, no duplicate names.
 */
#ifndef GRUGAN_IO_SAFETENSORS_H
#define GRUGAN_IO_SAFETENSORS_H

#include "io/json.h"
#include "model/params.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest header accepted (the safetensors reference caps it at 100 MB; ours
 * are a few KB). */
#define GRUGAN__ST_HEADER_CAP ((size_t)16 << 20)
/* Most tensors and metadata entries accepted. */
#define GRUGAN__ST_MAX_ENTRIES 100000

typedef struct grugan__st_tensor {
    const char *name;
    size_t ndim;
    const size_t *shape;
    const float *data; /* product of the shape floats */
} grugan__st_tensor;

typedef struct grugan__st_meta {
    const char *key;
    const char *value;
} grugan__st_meta;

/* Serializes tensors and metadata into out (which the caller initialized and
 * releases). GRUGAN_E_NOMEM or GRUGAN_E_SIZE on failure. */
int grugan__st_encode(const grugan__st_tensor *tensors, size_t n_tensors,
                      const grugan__st_meta *meta, size_t n_meta, grugan__json_out *out);

/* One tensor of a decoded file; data points into the caller's buffer
 * (little-endian float32, possibly unaligned: read it with grugan__st_copy). */
typedef struct grugan__st_entry {
    const char *name;
    size_t ndim;
    size_t shape[GRUGAN__MAX_DIMS];
    size_t count;
    const unsigned char *data;
} grugan__st_entry;

typedef struct grugan__st_file {
    const grugan_context *ctx;
    grugan__json *header;         /* owned */
    const grugan__json *metadata; /* object of strings, or NULL */
    grugan__st_entry *entries;    /* owned, in file order of their data */
    size_t n_entries;
} grugan__st_file;

/* Decodes and validates `size` bytes. On failure returns GRUGAN_E_FORMAT or
 * GRUGAN_E_NOMEM with a message naming the problem; *file is then empty. */
int grugan__st_decode(const grugan_context *ctx, const void *data, size_t size,
                      grugan__st_file *file, char *msg, size_t msg_cap);

void grugan__st_release(grugan__st_file *file);

/* The entry called name, or NULL. */
const grugan__st_entry *grugan__st_find(const grugan__st_file *file, const char *name);

/* The metadata value of key (NUL-terminated), or NULL. */
const char *grugan__st_meta_get(const grugan__st_file *file, const char *key);

/* *out := the metadata value of key read as a strict decimal count (digits
 * only, no sign or leading zero); false if missing or malformed. */
bool grugan__st_meta_u64(const grugan__st_file *file, const char *key, uint64_t *out);

/* dst (count floats) := the entry's data. */
void grugan__st_copy(const grugan__st_entry *entry, float *dst);

#endif
