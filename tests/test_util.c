/* test_util.c - see test_util.h. */
#include "suites.h"
#include "test_util.h"

#include <math.h>
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

void fill(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++) p[i] = v;
}

void fill_sines(float *x, size_t n, size_t steps, size_t features, unsigned seed)
{
    unsigned s = seed;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < features; k++) {
            float f, p;
            s = s * 1103515245u + 12345u;
            f = 0.1f + 0.4f * (float)(s >> 8) / 16777216.0f;
            s = s * 1103515245u + 12345u;
            p = 3.0f * (float)(s >> 8) / 16777216.0f;
            for (size_t t = 0; t < steps; t++)
                x[(i * steps + t) * features + k] = sinf(f * (float)t + p);
        }
}

void assert_all(const float *p, size_t n, float v, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&p[i], &v, sizeof v) != 0)
            ck_abort_msg("%s[%zu] = %g, expected %g", what, i, (double)p[i], (double)v);
}

void assert_near(const float *got, const double *want, size_t n, double tol, const char *what,
                 const char *where)
{
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - want[i]) / (1 + fabs(want[i]));
        if (!(err <= tol))
            ck_abort_msg("%s: %s[%zu] = %.9g, reference %.9g", where, what, i, (double)got[i],
                         want[i]);
    }
}

float *frand(ref_rng *rng, size_t n, double lo, double hi, double **as_double)
{
    double *d = dalloc(n);
    float *f = falloc(n);
    ref_rng_fill(rng, d, n, lo, hi);
    for (size_t i = 0; i < n; i++) f[i] = (float)d[i];
    if (as_double)
        *as_double = d;
    else
        free(d);
    return f;
}

void grads_read_all(const grugan_params *p, float *g)
{
    size_t off = 0;
    for (size_t t = 0; t < grugan_params_count(p); t++) {
        size_t ndim = 0, shape[GRUGAN_MAX_DIMS], count = 1;
        ck_assert_int_eq(grugan_params_info(p, t, NULL, &ndim, shape), GRUGAN_OK);
        for (size_t k = 0; k < ndim; k++) count *= shape[k];
        ck_assert_int_eq(grugan_params_grad_read(p, t, g + off, count), GRUGAN_OK);
        off += count;
    }
}

void gan_world_make(gan_world *w, grugan_context *ctx, const float *x, size_t n, size_t T,
                    size_t F, uint64_t data_seed, const grugan_generator_config *gc,
                    const grugan_discriminator_config *dic, const grugan_trainer_config *tc)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_error err = {0, ""};
    memset(w, 0, sizeof *w);
    dc.seed = data_seed;
    ck_assert_msg(grugan_dataset_from_array(ctx, &dc, x, n, T, F, NULL, 0, NULL, &w->data,
                                            &err) == GRUGAN_OK,
                  "dataset: %s", err.message);
    ck_assert_msg(grugan_generator_create(ctx, gc, &w->gen, &err) == GRUGAN_OK, "generator: %s",
                  err.message);
    ck_assert_msg(grugan_discriminator_create(ctx, dic, &w->disc, &err) == GRUGAN_OK,
                  "discriminator: %s", err.message);
    ck_assert_msg(grugan_optimizer_create(ctx, NULL, grugan_generator_params(w->gen),
                                          &w->gen_opt, &err) == GRUGAN_OK,
                  "optimizer: %s", err.message);
    ck_assert_msg(grugan_optimizer_create(ctx, NULL, grugan_discriminator_params(w->disc),
                                          &w->disc_opt, &err) == GRUGAN_OK,
                  "optimizer: %s", err.message);
    ck_assert_msg(grugan_trainer_create(ctx, tc, w->gen, w->disc, w->gen_opt, w->disc_opt,
                                        w->data, &w->tr, &err) == GRUGAN_OK,
                  "trainer: %s", err.message);
}

void gan_world_free(gan_world *w)
{
    grugan_trainer_free(w->tr);
    grugan_optimizer_free(w->gen_opt);
    grugan_optimizer_free(w->disc_opt);
    grugan_generator_free(w->gen);
    grugan_discriminator_free(w->disc);
    grugan_dataset_free(w->data);
    memset(w, 0, sizeof *w);
}
