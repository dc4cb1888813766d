/*
 * core.h - internal foundation shared by every part of the library: handle
 * header and messages, the context's allocator and log, overflow-checked size
 * arithmetic. Nothing here knows about models, files or trainers.
 */
#ifndef GRUGAN_CORE_H
#define GRUGAN_CORE_H

#include "grugan.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRUGAN__MESSAGE_CAP 256

/* Every handle starts with this header, so that a handle of the wrong kind,
 * or one already freed, is recognized instead of being used. */
typedef struct grugan__object {
    uint32_t magic;                 /* GRUGAN__MAGIC_* of the handle's kind */
    const grugan_context *ctx;      /* never NULL: the default context if none */
    char message[GRUGAN__MESSAGE_CAP]; /* last failure, "" if none */
} grugan__object;

#define GRUGAN__MAGIC_GRU 0x47525531u /* "GRU1" */
#define GRUGAN__MAGIC_PARAMS 0x50524d31u /* "PRM1" */
#define GRUGAN__MAGIC_GENERATOR 0x47454e31u /* "GEN1" */
#define GRUGAN__MAGIC_DISCRIMINATOR 0x44495331u /* "DIS1" */
#define GRUGAN__MAGIC_OPTIMIZER 0x4f505431u /* "OPT1" */
#define GRUGAN__MAGIC_DATASET 0x44415431u /* "DAT1" */
#define GRUGAN__MAGIC_TRAINER 0x54524e31u /* "TRN1" */
#define GRUGAN__MAGIC_DEAD 0xdeadbeefu

struct grugan_context {
    grugan_alloc_fn alloc;
    grugan_free_fn free;
    void *alloc_user;
    grugan_log_fn log;
    void *log_user;
    int log_level;
};

/* The context used when the caller passes NULL: malloc/free, no log. */
const grugan_context *grugan__default_context(void);

/* Prepares the header of a new handle. */
void grugan__object_init(grugan__object *obj, uint32_t magic, const grugan_context *ctx);

/* True if obj is non-NULL and of the given kind. */
bool grugan__object_is(const void *obj, uint32_t magic);

/* Records a failure in the handle (formatted message), sends it to the log
 * callback at GRUGAN_LOG_ERROR and returns code. */
int grugan__fail(grugan__object *obj, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clears the handle's message at the start of a successful call. */
void grugan__clear(grugan__object *obj);

/* Fills the caller's optional error struct and logs; returns code. */
int grugan__error_set(const grugan_context *ctx, grugan_error *err, int code, const char *fmt,
                      ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Sends a formatted message to the context's log callback if level passes. */
void grugan__log(const grugan_context *ctx, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Allocation through the context's hooks; sizes are checked for overflow.
 * All return NULL on failure (including overflow and size 0 for arrays). */
void *grugan__alloc(const grugan_context *ctx, size_t bytes);
void *grugan__calloc(const grugan_context *ctx, size_t count, size_t elem);
void grugan__free(const grugan_context *ctx, void *ptr);

/* *out = a * b; false on overflow. */
bool grugan__mul_size(size_t a, size_t b, size_t *out);
/* *out = a * b * c; false on overflow. */
bool grugan__mul3_size(size_t a, size_t b, size_t c, size_t *out);
/* *out = a + b; false on overflow. */
bool grugan__add_size(size_t a, size_t b, size_t *out);

/* Checks a caller's config struct: size in [sizeof(size_t), known]; copies
 * what the caller has into *dst (zeroed first). Returns GRUGAN_OK or
 * GRUGAN_E_INVALID. */
int grugan__config_copy(void *dst, size_t known, const void *src);

/* True if all n values are finite. */
bool grugan__all_finite(const float *x, size_t n);

/* Bounds of the shared GRUGAN_KEY_* settings. */
int grugan__key_bounds(int key, double *min, double *max);

#endif
