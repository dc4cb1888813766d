/* golden_io.h - reader of the golden data files in tests/golden (their format
 * is described in tests/golden/README.md and tests/golden/make_gru_golden.py).
 *
 * The reader is strict: anything malformed (unknown directive, bad or
 * non-finite number, wrong value count, duplicate name, size overflow,
 * truncated file) makes it fail with a message, never crash; on failure the
 * golden_file is left empty, so golden_free is always safe to call. */
#ifndef GRUGAN_TEST_GOLDEN_IO_H
#define GRUGAN_TEST_GOLDEN_IO_H

#include <stddef.h>

#define GOLDEN_NAME_MAX 64          /* names and keys: < GOLDEN_NAME_MAX chars, [A-Za-z0-9_] */
#define GOLDEN_MAX_DIMS 4           /* tensors have 1..GOLDEN_MAX_DIMS dimensions */
#define GOLDEN_MAX_VALUES (1u << 24) /* elements per tensor, values per config key */
#define GOLDEN_MAX_FILE (256u << 20) /* bytes per file */

typedef struct golden_config {
    char key[GOLDEN_NAME_MAX];
    size_t count;   /* >= 1 */
    long *values;   /* (count) */
} golden_config;

typedef struct golden_tensor {
    char name[GOLDEN_NAME_MAX];
    size_t ndim;                   /* 1..GOLDEN_MAX_DIMS */
    size_t shape[GOLDEN_MAX_DIMS]; /* (ndim), each >= 1; unused entries 0 */
    size_t count;                  /* product of shape */
    float *data;                   /* (count), row-major */
} golden_tensor;

typedef struct golden_file {
    size_t n_configs;
    golden_config *configs;  /* (n_configs), in file order */
    size_t n_tensors;
    golden_tensor *tensors;  /* (n_tensors), in file order */
} golden_file;

/* Parses `len` bytes of `text` (need not be NUL-terminated). Returns 0, or -1
 * with a message in err (when errlen > 0) and *g empty. */
int golden_parse(const char *text, size_t len, golden_file *g, char *err, size_t errlen);

/* Reads and parses the file at `path`; same results as golden_parse. */
int golden_load(const char *path, golden_file *g, char *err, size_t errlen);

/* Frees everything *g owns and empties it; safe on an empty golden_file. */
void golden_free(golden_file *g);

/* The tensor / config entry of that name, or NULL. */
const golden_tensor *golden_find(const golden_file *g, const char *name);
const golden_config *golden_config_find(const golden_file *g, const char *key);

/* The value of a config key holding exactly one value: 0, or -1 if the key is
 * absent or holds several values. */
int golden_config_int(const golden_file *g, const char *key, long *value);

#endif
