/* context.c - the context (allocator hooks, log callback), handle headers,
 * per-handle messages and overflow-checked allocation. */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *default_alloc(size_t size, void *user)
{
    (void)user;
    return malloc(size);
}

static void default_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

static const grugan_context default_context = {
    default_alloc, default_free, NULL, NULL, NULL, GRUGAN_LOG_WARN,
};

const grugan_context *grugan__default_context(void)
{
    return &default_context;
}

int grugan__config_copy(void *dst, size_t known, const void *src)
{
    size_t given;
    memset(dst, 0, known);
    if (!src) return GRUGAN_OK;
    memcpy(&given, src, sizeof given);
    if (given < sizeof(size_t) || given > known) return GRUGAN_E_INVALID;
    memcpy(dst, src, given);
    return GRUGAN_OK;
}

int grugan_context_create(const grugan_context_config *config, grugan_context **out,
                          grugan_error *err)
{
    const grugan_context *base = grugan__default_context();
    grugan_context_config c;
    grugan_context *ctx;

    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    if (!out) return grugan__error_set(base, err, GRUGAN_E_INVALID, "out is NULL");
    *out = NULL;
    if (grugan__config_copy(&c, sizeof c, config) != GRUGAN_OK)
        return grugan__error_set(base, err, GRUGAN_E_INVALID,
                                 "config.struct_size is %zu, expected %zu to %zu "
                                 "(use GRUGAN_CONTEXT_CONFIG_INIT)",
                                 config->struct_size, sizeof(size_t), sizeof c);
    if ((c.alloc == NULL) != (c.free == NULL))
        return grugan__error_set(base, err, GRUGAN_E_INVALID,
                                 "alloc and free hooks must be given together");
    if (c.log_level < 0 || c.log_level > GRUGAN_LOG_DEBUG)
        return grugan__error_set(base, err, GRUGAN_E_RANGE,
                                 "log_level %d outside 0..%d", (int)c.log_level,
                                 GRUGAN_LOG_DEBUG);

    ctx = c.alloc ? c.alloc(sizeof *ctx, c.alloc_user) : malloc(sizeof *ctx);
    if (!ctx)
        return grugan__error_set(base, err, GRUGAN_E_NOMEM, "cannot allocate the context");
    ctx->alloc = c.alloc ? c.alloc : default_alloc;
    ctx->free = c.free ? c.free : default_free;
    ctx->alloc_user = c.alloc_user;
    ctx->log = c.log;
    ctx->log_user = c.log_user;
    ctx->log_level = c.log_level ? c.log_level : GRUGAN_LOG_WARN;
    *out = ctx;
    return GRUGAN_OK;
}

void grugan_context_free(grugan_context *ctx)
{
    if (!ctx) return;
    ctx->free(ctx, ctx->alloc_user);
}

void grugan__object_init(grugan__object *obj, uint32_t magic, const grugan_context *ctx)
{
    obj->magic = magic;
    obj->ctx = ctx ? ctx : grugan__default_context();
    obj->message[0] = '\0';
}

bool grugan__object_is(const void *obj, uint32_t magic)
{
    return obj != NULL && ((const grugan__object *)obj)->magic == magic;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 0)))
#endif
static void log_v(const grugan_context *ctx, int level, const char *fmt, va_list ap)
{
    char text[GRUGAN__MESSAGE_CAP];
    if (!ctx || !ctx->log || level > ctx->log_level) return;
    vsnprintf(text, sizeof text, fmt, ap);
    ctx->log(level, text, ctx->log_user);
}

void grugan__log(const grugan_context *ctx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(ctx, level, fmt, ap);
    va_end(ap);
}

int grugan__fail(grugan__object *obj, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(obj->message, sizeof obj->message, fmt, ap);
    va_end(ap);
    grugan__log(obj->ctx, GRUGAN_LOG_ERROR, "%s", obj->message);
    return code;
}

void grugan__clear(grugan__object *obj)
{
    obj->message[0] = '\0';
}

int grugan__error_set(const grugan_context *ctx, grugan_error *err, int code, const char *fmt,
                      ...)
{
    char text[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (err) {
        err->code = code;
        snprintf(err->message, sizeof err->message, "%s", text);
    }
    grugan__log(ctx, GRUGAN_LOG_ERROR, "%s", text);
    return code;
}

bool grugan__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

bool grugan__mul3_size(size_t a, size_t b, size_t c, size_t *out)
{
    size_t ab;
    return grugan__mul_size(a, b, &ab) && grugan__mul_size(ab, c, out);
}

bool grugan__add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return false;
    *out = a + b;
    return true;
}

void *grugan__alloc(const grugan_context *ctx, size_t bytes)
{
    if (bytes == 0) return NULL;
    return ctx->alloc(bytes, ctx->alloc_user);
}

void *grugan__calloc(const grugan_context *ctx, size_t count, size_t elem)
{
    size_t bytes;
    void *p;
    if (!grugan__mul_size(count, elem, &bytes) || bytes == 0) return NULL;
    p = ctx->alloc(bytes, ctx->alloc_user);
    if (p) memset(p, 0, bytes);
    return p;
}

void grugan__free(const grugan_context *ctx, void *ptr)
{
    if (ptr) ctx->free(ptr, ctx->alloc_user);
}

bool grugan__all_finite(const float *x, size_t n)
{
    /* A float is NaN or Inf exactly when its exponent bits are all ones; an
     * OR over the whole array is one branch-free pass that vectorizes. */
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        bad |= (uint32_t)((bits & 0x7f800000u) == 0x7f800000u);
    }
    return bad == 0;
}
