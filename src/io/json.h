/*
 * json.h - a strict JSON (RFC 8259) reader and a small writer, for the
 * checkpoint header.
 *
 * Why not a library: Debian's JSON libraries (json-c, jansson, cJSON) allocate
 * with malloc or through process-wide hooks, so they could neither use the
 * context's allocator nor be put through the allocation-failure tests, and a
 * process-wide hook is mutable global state. The header is a small, fixed
 * subset of JSON, fuzzed with the rest of the loader.
 *
 * Parsing makes two passes: the first validates and counts nodes and string
 * bytes, the second fills one allocation of exactly that size. Integers are
 * kept exactly (uint64) besides their double value; strings are unescaped
 * UTF-8 with their lengths (they may contain NUL).
 */
#ifndef GRUGAN_IO_JSON_H
#define GRUGAN_IO_JSON_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum grugan__json_type {
    GRUGAN__JSON_NULL,
    GRUGAN__JSON_BOOL,
    GRUGAN__JSON_NUMBER,
    GRUGAN__JSON_STRING,
    GRUGAN__JSON_ARRAY,
    GRUGAN__JSON_OBJECT
} grugan__json_type;

typedef struct grugan__json grugan__json;

struct grugan__json {
    grugan__json_type type;
    bool boolean;
    double number;
    bool is_uint;  /* a non-negative integer literal that fits uint64 */
    uint64_t uint;
    const char *string; /* STRING: the value; object members: their key */
    size_t length;      /* STRING: bytes of string; ARRAY/OBJECT: item count */
    const char *key;    /* member of an object: its key (NUL-terminated) */
    size_t key_length;
    grugan__json *items; /* ARRAY/OBJECT: `length` children */
};

/* Deepest nesting accepted. */
#define GRUGAN__JSON_MAX_DEPTH 64

/*
 * Parses `size` bytes of `text` (the whole input must be one JSON value,
 * surrounded by optional white space). On success *root points into one
 * allocation that grugan__free(ctx, *root) releases. On failure returns
 * GRUGAN_E_FORMAT (with "offset N: what" in msg) or GRUGAN_E_NOMEM.
 */
int grugan__json_parse(const grugan_context *ctx, const char *text, size_t size,
                       grugan__json **root, char *msg, size_t msg_cap);

/* Member of an object by key, or NULL. */
const grugan__json *grugan__json_get(const grugan__json *object, const char *key);

/* A growable output buffer for the writer. */
typedef struct grugan__json_out {
    const grugan_context *ctx;
    char *data;
    size_t size, cap;
    bool failed; /* an allocation failed: the buffer is incomplete */
} grugan__json_out;

void grugan__json_out_init(grugan__json_out *out, const grugan_context *ctx);
void grugan__json_out_release(grugan__json_out *out);
/* Appends raw bytes. */
void grugan__json_out_raw(grugan__json_out *out, const char *text, size_t n);
/* Appends a JSON string literal with escapes. */
void grugan__json_out_string(grugan__json_out *out, const char *s);
/* Appends an unsigned integer. */
void grugan__json_out_uint(grugan__json_out *out, uint64_t value);

#endif
