/* fuzz_common.c - the capped allocator, the fixed training setup and its
 * snapshots (see fuzz_common.h). */
#include "fuzz_common.h"
#include "fuzz_dataset_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz check failed: %s\n", what);
    abort();
}

/* ---- the capped allocator ------------------------------------------------- */

/* Each block starts with its size, padded to the strictest alignment. */
typedef union block_header {
    size_t size;
    max_align_t align;
} block_header;

static struct {
    int active;
    size_t input;     /* bytes of the current input */
    size_t one;       /* largest single allocation allowed */
    size_t total;     /* most bytes live beyond `base` */
    size_t base;      /* bytes live when the input began */
    size_t live;      /* bytes live now */
} caps;

static size_t saturating_cap(size_t size, size_t factor, size_t extra)
{
    if (size > (SIZE_MAX - extra) / factor) return SIZE_MAX;
    return size * factor + extra;
}

static void *cap_alloc(size_t size, void *user)
{
    block_header *h;
    (void)user;
    if (caps.active) {
        if (size > caps.one) {
            fprintf(stderr,
                    "fuzz check failed: one allocation of %zu bytes for an input of %zu bytes "
                    "(cap %zu)\n",
                    size, caps.input, caps.one);
            abort();
        }
        if (caps.live + size > caps.base && caps.live + size - caps.base > caps.total) {
            fprintf(stderr,
                    "fuzz check failed: %zu bytes live for an input of %zu bytes (cap %zu)\n",
                    caps.live + size - caps.base, caps.input, caps.total);
            abort();
        }
    }
    if (size > SIZE_MAX - sizeof *h) return NULL;
    h = malloc(sizeof *h + size);
    if (!h) return NULL;
    h->size = size;
    caps.live += size;
    return h + 1;
}

static void cap_free(void *ptr, void *user)
{
    block_header *h = (block_header *)ptr - 1;
    (void)user;
    caps.live -= h->size;
    free(h);
}

grugan_context *fuzz_context(void)
{
    static grugan_context *ctx;
    if (!ctx) {
        grugan_context_config cc = GRUGAN_CONTEXT_CONFIG_INIT;
        cc.alloc = cap_alloc;
        cc.free = cap_free;
        if (grugan_context_create(&cc, &ctx, NULL) != GRUGAN_OK) fuzz_fail("context");
    }
    return ctx;
}

void fuzz_cap_begin(size_t size)
{
    (void)fuzz_context(); /* its own allocation is not the input's */
    caps.active = 1;
    caps.input = size;
    caps.one = saturating_cap(size, 64, (size_t)1 << 20);
    caps.total = saturating_cap(size, 128, (size_t)4 << 20);
    caps.base = caps.live;
}

void fuzz_cap_fixed(size_t one, size_t total)
{
    (void)fuzz_context();
    caps.active = 1;
    caps.input = 0;
    caps.one = one;
    caps.total = total;
    caps.base = caps.live;
}

void fuzz_cap_end(void)
{
    caps.active = 0;
    if (caps.live != caps.base) {
        fprintf(stderr, "fuzz check failed: %zu bytes live after the input, %zu before\n",
                caps.live, caps.base);
        abort();
    }
}

/* ---- the fixed training setup ---------------------------------------------- */

enum { WORLD_N = 6, WORLD_T = 3, WORLD_F = 2 };

void fuzz_world_make(grugan_context *ctx, fuzz_world *w)
{
    float x[WORLD_N * WORLD_T * WORLD_F];
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;

    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)((i * 37) % 11) / 8.0f;
    dc.seed = 3;
    if (grugan_dataset_from_array(ctx, &dc, x, WORLD_N, WORLD_T, WORLD_F, NULL, 0, NULL, &w->data,
                                  NULL) != GRUGAN_OK)
        fuzz_fail("world: dataset");
    gc.noise_size = 2;
    gc.output_size = WORLD_F;
    gc.hidden_size = 3;
    gc.num_layers = 1;
    gc.seed = 1;
    if (grugan_generator_create(ctx, &gc, &w->gen, NULL) != GRUGAN_OK) fuzz_fail("world: generator");
    dic.input_size = WORLD_F;
    dic.hidden_size = 2;
    dic.num_layers = 1;
    dic.seed = 2;
    if (grugan_discriminator_create(ctx, &dic, &w->disc, NULL) != GRUGAN_OK)
        fuzz_fail("world: discriminator");
    if (grugan_optimizer_create(ctx, NULL, grugan_generator_params(w->gen), &w->gen_opt, NULL) !=
            GRUGAN_OK ||
        grugan_optimizer_create(ctx, NULL, grugan_discriminator_params(w->disc), &w->disc_opt,
                                NULL) != GRUGAN_OK)
        fuzz_fail("world: optimizers");
    tc.batch_size = 2;
    if (grugan_trainer_create(ctx, &tc, w->gen, w->disc, w->gen_opt, w->disc_opt, w->data, &w->tr,
                              NULL) != GRUGAN_OK)
        fuzz_fail("world: trainer");
}

void fuzz_world_free(fuzz_world *w)
{
    grugan_trainer_free(w->tr);
    grugan_optimizer_free(w->gen_opt);
    grugan_optimizer_free(w->disc_opt);
    grugan_generator_free(w->gen);
    grugan_discriminator_free(w->disc);
    grugan_dataset_free(w->data);
    memset(w, 0, sizeof *w);
}

void fuzz_snapshot_take(fuzz_world *w, fuzz_snapshot *s)
{
    grugan_params *gp = grugan_generator_params(w->gen);
    grugan_params *dp = grugan_discriminator_params(w->disc);
    const size_t ng = grugan_params_num_scalars(gp), nd = grugan_params_num_scalars(dp);
    const size_t og = grugan_optimizer_state_size(w->gen_opt);
    const size_t od = grugan_optimizer_state_size(w->disc_opt);
    const size_t count = ng + nd + og + od;
    grugan_progress p;
    if (!s->values || s->count != count) {
        free(s->values);
        s->values = malloc(count * sizeof *s->values);
        if (!s->values) fuzz_fail("snapshot: out of memory");
        s->count = count;
    }
    memset(s->counters, 0, sizeof s->counters);
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    if (grugan_params_read_all(gp, s->values, ng) != GRUGAN_OK ||
        grugan_params_read_all(dp, s->values + ng, nd) != GRUGAN_OK ||
        grugan_optimizer_state_read(w->gen_opt, s->values + ng + nd, og, &s->counters[0]) !=
            GRUGAN_OK ||
        grugan_optimizer_state_read(w->disc_opt, s->values + ng + nd + og, od, &s->counters[1]) !=
            GRUGAN_OK ||
        grugan_generator_noise_position(w->gen, &s->counters[2]) != GRUGAN_OK ||
        grugan_dataset_position(w->data, &s->counters[3], &s->counters[4]) != GRUGAN_OK ||
        grugan_trainer_progress(w->tr, &p) != GRUGAN_OK)
        fuzz_fail("snapshot: a query failed");
    s->counters[5] = p.step;
    s->counters[6] = p.epoch;
    s->counters[7] = p.skipped;
}

int fuzz_snapshot_equal(const fuzz_snapshot *a, const fuzz_snapshot *b)
{
    return a->count == b->count &&
           memcmp(a->values, b->values, a->count * sizeof *a->values) == 0 &&
           memcmp(a->counters, b->counters, sizeof a->counters) == 0;
}

/* ---- datasets ------------------------------------------------------------ */

void fuzz_check_dataset(grugan_dataset *ds, int scaling, size_t expected_steps,
                        size_t expected_features)
{
    size_t n = 0, T = 0, F = 0, C = 0, batch;
    float *offset, *scale, *x;
    uint64_t epoch, offset_pos;
    if (grugan_dataset_shape(ds, &n, &T, &F, &C) != GRUGAN_OK) fuzz_fail("dataset: shape");
    if (n == 0 || T == 0 || F == 0 || C != 0) fuzz_fail("dataset: empty shape or conditions");
    if (expected_steps && T != expected_steps) fuzz_fail("dataset: steps differ from the config");
    if (expected_features && F != expected_features) fuzz_fail("dataset: features differ");
    offset = malloc(2 * F * sizeof *offset);
    x = malloc(T * F * sizeof *x);
    if (!offset || !x) fuzz_fail("out of memory");
    scale = offset + F;
    if (grugan_dataset_scaler(ds, offset, scale) != GRUGAN_OK) fuzz_fail("dataset: scaler");
    for (size_t f = 0; f < F; f++)
        if (!isfinite(offset[f]) || !isfinite(scale[f]) || scale[f] == 0.0f)
            fuzz_fail("dataset: the scaler is not finite or has a zero scale");
    for (size_t i = 0; i < n; i++) {
        if (grugan_dataset_get(ds, i, x, NULL, NULL) != GRUGAN_OK) fuzz_fail("dataset: get");
        for (size_t k = 0; k < T * F; k++) {
            const float v = x[k];
            if (!isfinite(v)) fuzz_fail("dataset: a stored value is not finite");
            if (scaling == GRUGAN_SCALE_MINMAX && !(v >= 0.0f && v <= 1.0f))
                fuzz_fail("dataset: a min-max value is outside [0, 1]");
            if (scaling == GRUGAN_SCALE_MINMAX_SYM && !(v >= -1.0f && v <= 1.0f))
                fuzz_fail("dataset: a symmetric min-max value is outside [-1, 1]");
        }
    }
    batch = n < 4 ? n : 4;
    x = realloc(x, batch * T * F * sizeof *x);
    if (!x) fuzz_fail("out of memory");
    if (grugan_dataset_next_batch(ds, batch, x, NULL, NULL, &epoch) != GRUGAN_OK)
        fuzz_fail("dataset: next_batch");
    if (grugan_dataset_position(ds, &epoch, &offset_pos) != GRUGAN_OK || offset_pos > n)
        fuzz_fail("dataset: position");
    free(offset);
    free(x);
}
