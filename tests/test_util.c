/* test_util.c - see test_util.h. */
#include "suites.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

float *falloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    ck_assert_ptr_nonnull(p);
    return p;
}

double *dalloc(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    ck_assert_ptr_nonnull(p);
    return p;
}

void *counting_alloc_fn(size_t size, void *user)
{
    counting_alloc *c = user;
    c->allocs++;
    if (c->fail_at && c->allocs == c->fail_at) return NULL;
    c->live++;
    return malloc(size);
}

void counting_free_fn(void *ptr, void *user)
{
    counting_alloc *c = user;
    c->frees++;
    c->live--;
    free(ptr);
}

grugan_context *counting_context(counting_alloc *counts)
{
    grugan_context_config cfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = NULL;
    memset(counts, 0, sizeof *counts);
    cfg.alloc = counting_alloc_fn;
    cfg.free = counting_free_fn;
    cfg.alloc_user = counts;
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, NULL), GRUGAN_OK);
    return ctx;
}
