/*
 * generator.c - the public grugan_generator: noise (Z), condition (C) and
 * covariates (V) per step into a GRU stack (L, H), a per-step linear head to
 * F outputs, an output activation.
 *
 *   x_t   = [z_t, c, v_t]                        (B, T, I), I = Z + C + V
 *   h     = GRU(x)                               (B, T, H)
 *   out_t = act(h_t W_head^T + b_head)           (B, T, F)
 *
 * Parameters, one block (model/params.h): gru.* as torch.nn.GRU, then
 * head.weight (F, H), head.bias (F). Initialization streams: see
 * model/model_util.h.
 *
 * Noise of sample i at step t (grugan_generator_noise): with nb = ceil(Z/4),
 * Philox block (seed, GRUGAN__RNG_NOISE, index i, sub t*nb + j) gives
 * z_t[4j .. 4j+3]: two Box-Muller pairs (lanes 0,1 and 2,3) for normal noise,
 * or grugan__u01 of each lane for uniform noise; the last block is cut at Z.
 * A value depends on (seed, i, t) only, never on the batch or chunk it is
 * drawn in. The sub counter is 32 bits, so steps * nb must not exceed 2^32.
 */
#include "core/core.h"
#include "core/rng.h"
#include "model/model_util.h"
#include "model/params.h"
#include "nn/activation.h"
#include "nn/gru.h"
#include "nn/linear.h"

#include <string.h>

/* Sequences generated at once by grugan_generator_sample. */
#define SAMPLE_CHUNK 256

/* Slope of GRUGAN_ACT_LEAKY_RELU as an output activation (torch's default). */
#define OUTPUT_LEAKY_SLOPE 0.01f

struct grugan_generator {
    grugan__object obj;
    grugan_generator_config config; /* as created, defaults resolved */
    float *scaler;                  /* (2F): offset, then scale; NULL if none */
    size_t Z, C, V, I, H, L, F;
    int noise_kind;  /* GRUGAN_NOISE_* */
    grugan__act act; /* output activation */
    uint64_t seed;   /* of the noise stream of forward(z = NULL) */
    uint64_t position; /* samples drawn from that stream */
    int check_finite;
    grugan__gru_shape shape;
    grugan__params params;
    grugan__gru_net net; /* threads live in net.threads */
    size_t head_w, head_b; /* offsets of head.weight (F, H) and head.bias (F) */

    /* Workspace of forward/backward, for cap_batch x cap_steps. */
    size_t cap_batch, cap_steps;
    float *ws;
    float *x;  /* (B, T, I) inputs of the last forward */
    float *hs; /* (B, T, H) GRU outputs */
    float *y;  /* (B, T, F) outputs (after the activation) */
    float *dy; /* (B, T, F) gradient before the activation */
    float *dh; /* (B, T, H) gradient of the GRU outputs */
    bool have_forward;
    size_t batch, steps;

    /* Workspace of step and sample, for stream_batch rows. */
    size_t stream_batch;
    float *sws;
    float *s_x;       /* (B, I) input of one step */
    float *s_state;   /* (L, B, H) sample's own state */
    float *s_y;       /* (B, F) outputs of one step */
    float *s_scratch; /* grugan__gru_step_scratch_floats(B) */
};

#define GEN_FAIL(g, code, ...) grugan__fail((grugan__object *)&(g)->obj, (code), __VA_ARGS__)

/* Refuses NULL or foreign handles; clears the message of a good one. */
#define CHECK_GEN(g)                                                                          \
    do {                                                                                      \
        if (!grugan__object_is((g), GRUGAN__MAGIC_GENERATOR)) return GRUGAN_E_INVALID;        \
        grugan__clear((grugan__object *)&(g)->obj);                                           \
    } while (0)

/* ---- noise ---------------------------------------------------------------- */

/* z (Z) of sample i at step t, see the top of this file. */
static void noise_row(uint64_t seed, int kind, uint64_t i, size_t t, size_t Z, float *z)
{
    const size_t nb = (Z + 3) / 4;
    for (size_t j = 0; j < nb; j++) {
        uint32_t u[4];
        float v[4];
        const size_t n = Z - 4 * j < 4 ? Z - 4 * j : 4;
        grugan__rng_block(seed, GRUGAN__RNG_NOISE, i, (uint32_t)(t * nb + j), u);
        if (kind == GRUGAN_NOISE_UNIFORM) {
            for (int k = 0; k < 4; k++) v[k] = (float)grugan__u01(u[k]);
        } else if (n > 2) {
            grugan__normal_pair(u[0], u[1], &v[0], &v[1]);
            grugan__normal_pair(u[2], u[3], &v[2], &v[3]);
        } else if (n == 2) { /* lanes 2 and 3 would be cut: not computed */
            grugan__normal_pair(u[0], u[1], &v[0], &v[1]);
        } else {
            v[0] = grugan__normal_first(u[0], u[1]);
        }
        memcpy(z + 4 * j, v, n * sizeof *z);
    }
}

/* Whether the noise of `steps` steps fits the 32-bit sub counter. */
static bool noise_steps_ok(const grugan_generator *g, size_t steps)
{
    const uint64_t nb = (g->Z + 3) / 4;
    return (uint64_t)steps <= (UINT64_C(1) << 32) / nb;
}

/* ---- creation ------------------------------------------------------------- */

static int validate_config(const grugan_context *ctx, const grugan_generator_config *c,
                           grugan_error *err)
{
    if (c->noise_size == 0)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "noise_size must be at least 1");
    if (c->output_size == 0)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "output_size must be at least 1");
    if (c->noise_kind != GRUGAN_NOISE_NORMAL && c->noise_kind != GRUGAN_NOISE_UNIFORM)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "noise_kind is %d, not GRUGAN_NOISE_NORMAL (0) or "
                                 "GRUGAN_NOISE_UNIFORM (1)",
                                 (int)c->noise_kind);
    if (c->output_activation < GRUGAN_ACT_DEFAULT || c->output_activation > GRUGAN_ACT_LEAKY_RELU)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "output_activation is %d, not a GRUGAN_ACT_* value (0..4)",
                                 (int)c->output_activation);
    if (c->convention != GRUGAN_GRU_RESET_AFTER && c->convention != GRUGAN_GRU_RESET_BEFORE)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "convention is %d, not GRUGAN_GRU_RESET_AFTER (0) or "
                                 "GRUGAN_GRU_RESET_BEFORE (1)",
                                 (int)c->convention);
    if (c->num_layers > GRUGAN__GRU_MAX_LAYERS)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "num_layers %zu exceeds %d",
                                 c->num_layers, GRUGAN__GRU_MAX_LAYERS);
    return GRUGAN_OK;
}

static grugan__act act_of(int32_t a)
{
    switch (a) {
    case GRUGAN_ACT_TANH: return GRUGAN__ACT_TANH;
    case GRUGAN_ACT_IDENTITY: return GRUGAN__ACT_IDENTITY;
    case GRUGAN_ACT_LEAKY_RELU: return GRUGAN__ACT_LEAKY_RELU;
    default: return GRUGAN__ACT_SIGMOID; /* GRUGAN_ACT_DEFAULT, GRUGAN_ACT_SIGMOID */
    }
}

int grugan_generator_create(grugan_context *ctx, const grugan_generator_config *config,
                            grugan_generator **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_generator_config cfg;
    grugan_generator *g;
    size_t first, in, shape[2];
    int rc;

    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    if (!out) return grugan__error_set(c, err, GRUGAN_E_INVALID, "out is NULL");
    *out = NULL;
    if (!config) return grugan__error_set(c, err, GRUGAN_E_INVALID, "config is NULL");
    if (grugan__config_copy(&cfg, sizeof cfg, config) != GRUGAN_OK)
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "config.struct_size is %zu, expected %zu to %zu "
                                 "(use GRUGAN_GENERATOR_CONFIG_INIT)",
                                 config->struct_size, sizeof(size_t), sizeof cfg);
    if ((rc = validate_config(c, &cfg, err)) != GRUGAN_OK) return rc;
    if (!grugan__add_size(cfg.noise_size, cfg.condition_size, &in) ||
        !grugan__add_size(in, cfg.covariate_size, &in))
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "noise_size + condition_size + covariate_size overflows");

    g = grugan__calloc(c, 1, sizeof *g);
    if (!g) return grugan__error_set(c, err, GRUGAN_E_NOMEM, "cannot allocate the generator");
    grugan__object_init(&g->obj, GRUGAN__MAGIC_GENERATOR, c);
    g->Z = cfg.noise_size;
    g->C = cfg.condition_size;
    g->V = cfg.covariate_size;
    g->I = in;
    g->H = cfg.hidden_size ? cfg.hidden_size : 24;
    g->L = cfg.num_layers ? cfg.num_layers : 3;
    g->F = cfg.output_size;
    g->noise_kind = cfg.noise_kind;
    g->act = act_of(cfg.output_activation);
    g->seed = cfg.seed;
    g->check_finite = 1;
    g->config = cfg;
    g->config.struct_size = sizeof g->config;
    g->config.hidden_size = g->H;
    g->config.num_layers = g->L;
    if (cfg.output_activation == GRUGAN_ACT_DEFAULT) g->config.output_activation = GRUGAN_ACT_SIGMOID;
    g->shape.input = g->I;
    g->shape.hidden = g->H;
    g->shape.layers = g->L;
    g->shape.dirs = 1;
    g->shape.reset_before = cfg.convention == GRUGAN_GRU_RESET_BEFORE;
    grugan__params_init(&g->params, c);
    if (grugan__gru_param_floats(&g->shape) == 0) {
        rc = grugan__error_set(c, err, GRUGAN_E_SIZE, "the parameter count overflows");
        goto fail;
    }
    rc = grugan__params_add_gru(&g->params, &g->shape, "gru.", &first);
    shape[0] = g->F;
    shape[1] = g->H;
    if (rc == GRUGAN_OK) {
        g->head_w = g->params.n_floats;
        rc = grugan__params_add(&g->params, "head.weight", 2, shape);
    }
    if (rc == GRUGAN_OK) {
        g->head_b = g->params.n_floats;
        rc = grugan__params_add(&g->params, "head.bias", 1, shape);
    }
    if (rc == GRUGAN_OK) rc = grugan__params_allocate(&g->params);
    if (rc != GRUGAN_OK) {
        rc = rc == GRUGAN_E_NOMEM
                 ? grugan__error_set(c, err, rc, "cannot allocate %zu parameters",
                                     g->params.n_floats)
                 : grugan__error_set(c, err, rc, "the parameter count overflows");
        goto fail;
    }
    grugan__gru_init_params(&g->shape, g->params.values + first, cfg.seed);
    {
        const float bound = grugan__fan_in_bound(g->H);
        grugan__init_uniform(g->params.values + g->head_w, g->F * g->H, bound, cfg.seed,
                             GRUGAN__INIT_STREAM_HEAD, 0);
        grugan__init_uniform(g->params.values + g->head_b, g->F, bound, cfg.seed,
                             GRUGAN__INIT_STREAM_HEAD, (uint64_t)g->F * g->H);
    }
    grugan__gru_init(&g->net, &g->shape, c, g->params.values + first, g->params.grads + first);
    *out = g;
    return GRUGAN_OK;

fail:
    grugan__params_release(&g->params);
    grugan__free(c, g);
    return rc;
}

void grugan_generator_free(grugan_generator *gen)
{
    const grugan_context *ctx;
    if (!grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR)) return;
    ctx = gen->obj.ctx;
    grugan__gru_release(&gen->net);
    grugan__params_release(&gen->params);
    grugan__free(ctx, gen->ws);
    grugan__free(ctx, gen->sws);
    grugan__free(ctx, gen->scaler);
    gen->obj.magic = GRUGAN__MAGIC_DEAD;
    grugan__free(ctx, gen);
}

const char *grugan_generator_message(const grugan_generator *gen)
{
    if (!gen) return "the generator handle is NULL";
    if (!grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR)) return "not a generator handle";
    return gen->obj.message;
}

int grugan_generator_set(grugan_generator *gen, int key, double value)
{
    CHECK_GEN(gen);
    return grugan__model_set_key(&gen->obj, key, value, &gen->net.threads, &gen->check_finite);
}

int grugan_generator_get(const grugan_generator *gen, int key, double *value)
{
    if (!grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR)) return GRUGAN_E_INVALID;
    return grugan__model_get_key(key, gen->net.threads, gen->check_finite, value);
}

grugan_params *grugan_generator_params(grugan_generator *gen)
{
    return grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR) ? &gen->params : NULL;
}

/* ---- checks and workspaces -------------------------------------------------- */

/* Fails with GRUGAN_E_NONFINITE if checks are on and a (count) is not finite. */
static int check_finite(grugan_generator *g, const float *a, size_t count, const char *what)
{
    if (g->check_finite && a && !grugan__all_finite(a, count))
        return GEN_FAIL(g, GRUGAN_E_NONFINITE, "%s contains NaN or Inf", what);
    return GRUGAN_OK;
}

/* The condition and covariates the configuration requires. */
static int check_required(grugan_generator *g, const float *condition, const float *covariates,
                          const char *cov_name)
{
    if (g->C > 0 && !condition)
        return GEN_FAIL(g, GRUGAN_E_INVALID,
                        "condition is NULL but the generator has condition_size %zu", g->C);
    if (g->V > 0 && !covariates)
        return GEN_FAIL(g, GRUGAN_E_INVALID,
                        "%s is NULL but the generator has covariate_size %zu", cov_name, g->V);
    return GRUGAN_OK;
}

/* Floats of the forward/backward workspace for B*T = rows: rows * (I + 2H +
 * 2F); false on overflow. */
static bool train_floats(const grugan_generator *g, size_t rows, size_t *floats)
{
    size_t hf, per_row;
    return grugan__add_size(g->H, g->F, &hf) && grugan__mul_size(hf, 2, &hf) &&
           grugan__add_size(g->I, hf, &per_row) && grugan__mul_size(rows, per_row, floats) &&
           *floats <= PTRDIFF_MAX / sizeof(float);
}

/* Sizes the forward/backward workspace (and the GRU's) for (batch, steps);
 * on failure both keep their old sizes. */
static int reserve(grugan_generator *g, size_t batch, size_t steps)
{
    size_t B = batch, T = steps, rows, floats;
    float *ws = NULL;
    int rc;
    if (B < g->cap_batch) B = g->cap_batch;
    if (T < g->cap_steps) T = g->cap_steps;
    if (!grugan__mul_size(B, T, &rows) || !train_floats(g, rows, &floats))
        return GEN_FAIL(g, GRUGAN_E_SIZE, "batch %zu x steps %zu is too large for this generator",
                        batch, steps);
    if (B > g->cap_batch || T > g->cap_steps) {
        ws = grugan__calloc(g->obj.ctx, floats, sizeof(float));
        if (!ws)
            return GEN_FAIL(g, GRUGAN_E_NOMEM,
                            "cannot allocate the workspace for batch %zu x steps %zu", batch,
                            steps);
    }
    rc = grugan__gru_reserve(&g->net, B, T);
    if (rc != GRUGAN_OK) {
        grugan__free(g->obj.ctx, ws);
        if (rc == GRUGAN_E_SIZE)
            return GEN_FAIL(g, rc, "batch %zu x steps %zu is too large for this generator",
                            batch, steps);
        return GEN_FAIL(g, rc, "cannot allocate the GRU workspace for batch %zu x steps %zu",
                        batch, steps);
    }
    if (!g->net.have_forward) g->have_forward = false; /* the GRU's record was dropped */
    if (ws) {
        grugan__free(g->obj.ctx, g->ws);
        g->ws = ws;
        g->x = ws;
        g->hs = g->x + rows * g->I;
        g->y = g->hs + rows * g->H;
        g->dy = g->y + rows * g->F;
        g->dh = g->dy + rows * g->F;
        g->cap_batch = B;
        g->cap_steps = T;
        g->have_forward = false;
    }
    return GRUGAN_OK;
}

/* Sizes the step/sample workspace for `batch` rows. */
static int reserve_stream(grugan_generator *g, size_t batch)
{
    size_t scratch, per_row, floats;
    float *p;
    if (batch <= g->stream_batch) return GRUGAN_OK;
    scratch = grugan__gru_step_scratch_floats(&g->shape, batch);
    /* per row: x (I), state (L*H), y (F) */
    if (scratch == 0 || !grugan__mul_size(g->L, g->H, &per_row) ||
        !grugan__add_size(per_row, g->I, &per_row) ||
        !grugan__add_size(per_row, g->F, &per_row) ||
        !grugan__mul_size(per_row, batch, &floats) ||
        !grugan__add_size(floats, scratch, &floats) || floats > PTRDIFF_MAX / sizeof(float))
        return GEN_FAIL(g, GRUGAN_E_SIZE, "batch %zu is too large for this generator", batch);
    p = grugan__calloc(g->obj.ctx, floats, sizeof(float));
    if (!p)
        return GEN_FAIL(g, GRUGAN_E_NOMEM, "cannot allocate the streaming workspace for batch %zu",
                        batch);
    grugan__free(g->obj.ctx, g->sws);
    g->sws = p;
    g->s_x = p;
    g->s_state = g->s_x + batch * g->I;
    g->s_y = g->s_state + batch * g->L * g->H;
    g->s_scratch = g->s_y + batch * g->F;
    g->stream_batch = batch;
    return GRUGAN_OK;
}

/* Head and activation over N rows: y (N, F) = act(h (N, H) W^T + b). */
static void head_forward(const grugan_generator *g, float *y, const float *h, size_t N)
{
    const float *v = g->params.values;
    grugan__linear_forward(y, h, v + g->head_w, v + g->head_b, N, g->H, g->F, g->net.threads);
    grugan__act_forward(y, y, g->act, OUTPUT_LEAKY_SLOPE, N * g->F, g->net.threads);
}

/* ---- noise, forward, backward ------------------------------------------------- */

int grugan_generator_noise(const grugan_generator *gen, uint64_t seed, uint64_t first,
                           size_t batch, size_t steps, float *z)
{
    grugan_generator *g = (grugan_generator *)gen; /* the message is the handle's own state */
    size_t count;
    CHECK_GEN(g);
    if (!z) return GEN_FAIL(g, GRUGAN_E_INVALID, "z is NULL");
    if (batch == 0 || steps == 0)
        return GEN_FAIL(g, GRUGAN_E_SIZE, "batch (%zu) and steps (%zu) must be at least 1",
                        batch, steps);
    if (!grugan__mul3_size(batch, steps, g->Z, &count))
        return GEN_FAIL(g, GRUGAN_E_SIZE, "batch %zu x steps %zu x noise_size %zu overflows",
                        batch, steps, g->Z);
    if (!noise_steps_ok(g, steps))
        return GEN_FAIL(g, GRUGAN_E_SIZE, "steps %zu exceeds the noise counter for noise_size %zu",
                        steps, g->Z);
    if ((uint64_t)batch - 1 > UINT64_MAX - first)
        return GEN_FAIL(g, GRUGAN_E_RANGE, "samples %llu + %zu run past 2^64",
                        (unsigned long long)first, batch);
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < steps; t++)
            noise_row(seed, g->noise_kind, first + b, t, g->Z, z + (b * steps + t) * g->Z);
    return GRUGAN_OK;
}

int grugan_generator_forward(grugan_generator *gen, size_t batch, size_t steps, const float *z,
                             const float *condition, const float *covariates, float *out)
{
    size_t rows, n;
    int rc;
    CHECK_GEN(gen);
    if (!out) return GEN_FAIL(gen, GRUGAN_E_INVALID, "out is NULL");
    if ((rc = check_required(gen, condition, covariates, "covariates")) != GRUGAN_OK) return rc;
    if (batch == 0 || steps == 0)
        return GEN_FAIL(gen, GRUGAN_E_SIZE, "batch (%zu) and steps (%zu) must be at least 1",
                        batch, steps);
    if (!z) {
        if (!noise_steps_ok(gen, steps))
            return GEN_FAIL(gen, GRUGAN_E_SIZE,
                            "steps %zu exceeds the noise counter for noise_size %zu", steps,
                            gen->Z);
        if ((uint64_t)batch > UINT64_MAX - gen->position)
            return GEN_FAIL(gen, GRUGAN_E_RANGE, "the noise stream would run past 2^64 samples");
    }
    if ((rc = reserve(gen, batch, steps)) != GRUGAN_OK) return rc;
    /* the workspace holds (batch, steps) of every width, so these fit */
    rows = batch * steps;
    if ((rc = check_finite(gen, z, rows * gen->Z, "z")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gen, condition, batch * gen->C, "condition")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gen, covariates, rows * gen->V, "covariates")) != GRUGAN_OK)
        return rc;

    /* x[b, t] = [z_t, c, v_t] */
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < steps; t++) {
            const size_t r = b * steps + t;
            float *x = gen->x + r * gen->I;
            if (z)
                memcpy(x, z + r * gen->Z, gen->Z * sizeof *x);
            else
                noise_row(gen->seed, gen->noise_kind, gen->position + b, t, gen->Z, x);
            if (gen->C) memcpy(x + gen->Z, condition + b * gen->C, gen->C * sizeof *x);
            if (gen->V)
                memcpy(x + gen->Z + gen->C, covariates + r * gen->V, gen->V * sizeof *x);
        }
    grugan__gru_forward(&gen->net, batch, steps, gen->x, gen->I, NULL, NULL, gen->hs, NULL);
    head_forward(gen, gen->y, gen->hs, rows);
    n = rows * gen->F;
    memcpy(out, gen->y, n * sizeof *out);
    if (!z) gen->position += batch;
    gen->batch = batch;
    gen->steps = steps;
    gen->have_forward = true;
    return GRUGAN_OK;
}

int grugan_generator_backward(grugan_generator *gen, const float *d_out)
{
    const float *v;
    float *gr;
    size_t rows;
    int rc;
    CHECK_GEN(gen);
    if (!d_out) return GEN_FAIL(gen, GRUGAN_E_INVALID, "d_out is NULL");
    if (!gen->have_forward || !gen->net.have_forward)
        return GEN_FAIL(gen, GRUGAN_E_STATE, "backward needs a forward first");
    rows = gen->batch * gen->steps;
    if ((rc = check_finite(gen, d_out, rows * gen->F, "d_out")) != GRUGAN_OK) return rc;
    v = gen->params.values;
    gr = gen->params.grads;
    /* dy = d_out * act'(.), from the kept outputs (leaky ReLU: slope >= 0) */
    grugan__act_backward(gen->dy, d_out, gen->y, gen->y, gen->act, OUTPUT_LEAKY_SLOPE,
                         rows * gen->F, 0, gen->net.threads);
    /* head: dW += dy^T h, db += sums of dy, dh = dy W */
    grugan__linear_backward(gen->dh, gr + gen->head_w, gr + gen->head_b, gen->dy, gen->hs,
                            v + gen->head_w, rows, gen->H, gen->F, 0, gen->net.threads);
    grugan__gru_backward(&gen->net, gen->dh, NULL, NULL, gen->I, NULL, true);
    return GRUGAN_OK;
}

int grugan_generator_noise_position(const grugan_generator *gen, uint64_t *position)
{
    if (!grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR) || !position) return GRUGAN_E_INVALID;
    *position = gen->position;
    return GRUGAN_OK;
}

int grugan_generator_set_noise_position(grugan_generator *gen, uint64_t position)
{
    CHECK_GEN(gen);
    gen->position = position;
    return GRUGAN_OK;
}

/* ---- streaming ------------------------------------------------------------------ */

size_t grugan_generator_state_size(const grugan_generator *gen, size_t batch)
{
    size_t n;
    if (!grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR)) return 0;
    if (!grugan__mul3_size(gen->L, batch, gen->H, &n)) return 0;
    return n;
}

int grugan_generator_sample(grugan_generator *gen, uint64_t seed, size_t n, size_t steps,
                            const float *condition, const float *covariates, float *out)
{
    size_t chunk, count;
    int rc;
    CHECK_GEN(gen);
    if (!out) return GEN_FAIL(gen, GRUGAN_E_INVALID, "out is NULL");
    if ((rc = check_required(gen, condition, covariates, "covariates")) != GRUGAN_OK) return rc;
    if (n == 0 || steps == 0)
        return GEN_FAIL(gen, GRUGAN_E_SIZE, "n (%zu) and steps (%zu) must be at least 1", n,
                        steps);
    if (!grugan__mul3_size(n, steps, gen->F, &count) ||
        !grugan__mul3_size(n, steps, gen->V, &count))
        return GEN_FAIL(gen, GRUGAN_E_SIZE, "n %zu x steps %zu is too large", n, steps);
    if (!noise_steps_ok(gen, steps))
        return GEN_FAIL(gen, GRUGAN_E_SIZE,
                        "steps %zu exceeds the noise counter for noise_size %zu", steps, gen->Z);
    if ((rc = check_finite(gen, condition, gen->C, "condition")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gen, covariates, n * steps * gen->V, "covariates")) != GRUGAN_OK)
        return rc;
    chunk = n < SAMPLE_CHUNK ? n : SAMPLE_CHUNK;
    if ((rc = reserve_stream(gen, chunk)) != GRUGAN_OK) return rc;

    for (size_t s0 = 0; s0 < n; s0 += chunk) {
        const size_t cb = n - s0 < chunk ? n - s0 : chunk;
        float *top = gen->s_state + (gen->L - 1) * cb * gen->H; /* (cb, H) last layer */
        memset(gen->s_state, 0, gen->L * cb * gen->H * sizeof(float));
        for (size_t t = 0; t < steps; t++) {
            for (size_t b = 0; b < cb; b++) {
                const size_t i = s0 + b;
                float *x = gen->s_x + b * gen->I;
                noise_row(seed, gen->noise_kind, i, t, gen->Z, x);
                if (gen->C) memcpy(x + gen->Z, condition, gen->C * sizeof *x);
                if (gen->V)
                    memcpy(x + gen->Z + gen->C, covariates + (i * steps + t) * gen->V,
                           gen->V * sizeof *x);
            }
            grugan__gru_step(&gen->net, cb, gen->s_x, gen->s_state, NULL, gen->s_scratch);
            head_forward(gen, gen->s_y, top, cb);
            for (size_t b = 0; b < cb; b++)
                memcpy(out + ((s0 + b) * steps + t) * gen->F, gen->s_y + b * gen->F,
                       gen->F * sizeof *out);
        }
    }
    return GRUGAN_OK;
}

int grugan_generator_step(grugan_generator *gen, size_t batch, const float *z,
                          const float *condition, const float *covariate, float *state,
                          float *out)
{
    size_t state_count, count;
    int rc;
    CHECK_GEN(gen);
    if (!z || !state || !out)
        return GEN_FAIL(gen, GRUGAN_E_INVALID, "z, state and out must not be NULL");
    if ((rc = check_required(gen, condition, covariate, "covariate")) != GRUGAN_OK) return rc;
    if (batch == 0) return GEN_FAIL(gen, GRUGAN_E_SIZE, "batch must be at least 1");
    if (!grugan__mul3_size(gen->L, batch, gen->H, &state_count) ||
        !grugan__mul_size(batch, gen->I, &count) || !grugan__mul_size(batch, gen->F, &count))
        return GEN_FAIL(gen, GRUGAN_E_SIZE, "batch %zu is too large", batch);
    if ((rc = reserve_stream(gen, batch)) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gen, z, batch * gen->Z, "z")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gen, condition, batch * gen->C, "condition")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gen, covariate, batch * gen->V, "covariate")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gen, state, state_count, "state")) != GRUGAN_OK) return rc;
    for (size_t b = 0; b < batch; b++) {
        float *x = gen->s_x + b * gen->I;
        memcpy(x, z + b * gen->Z, gen->Z * sizeof *x);
        if (gen->C) memcpy(x + gen->Z, condition + b * gen->C, gen->C * sizeof *x);
        if (gen->V) memcpy(x + gen->Z + gen->C, covariate + b * gen->V, gen->V * sizeof *x);
    }
    grugan__gru_step(&gen->net, batch, gen->s_x, state, NULL, gen->s_scratch);
    head_forward(gen, out, state + (gen->L - 1) * batch * gen->H, batch);
    return GRUGAN_OK;
}

/* ---- configuration and scaler ---------------------------------------------------- */

int grugan_generator_get_config(const grugan_generator *gen, grugan_generator_config *out)
{
    size_t n;
    CHECK_GEN(gen);
    if (!out) return GEN_FAIL(gen, GRUGAN_E_INVALID, "out is NULL");
    n = out->struct_size;
    if (n < sizeof(size_t) || n > sizeof *out)
        return GEN_FAIL(gen, GRUGAN_E_INVALID,
                        "out->struct_size is %zu (use GRUGAN_GENERATOR_CONFIG_INIT)", n);
    memcpy(out, &gen->config, n);
    out->struct_size = n;
    return GRUGAN_OK;
}

int grugan_generator_set_scaler(grugan_generator *gen, const float *offset, const float *scale)
{
    float *s;
    CHECK_GEN(gen);
    if (!offset && !scale) {
        grugan__free(gen->obj.ctx, gen->scaler);
        gen->scaler = NULL;
        return GRUGAN_OK;
    }
    if (!offset || !scale)
        return GEN_FAIL(gen, GRUGAN_E_INVALID, "offset and scale must both be given or both NULL");
    if (!grugan__all_finite(offset, gen->F) || !grugan__all_finite(scale, gen->F))
        return GEN_FAIL(gen, GRUGAN_E_NONFINITE, "the scaler contains NaN or Inf");
    for (size_t k = 0; k < gen->F; k++)
        if (scale[k] == 0.0f)
            return GEN_FAIL(gen, GRUGAN_E_RANGE, "scale[%zu] is 0: it cannot be inverted", k);
    s = gen->scaler ? gen->scaler : grugan__calloc(gen->obj.ctx, 2 * gen->F, sizeof *s);
    if (!s) return GEN_FAIL(gen, GRUGAN_E_NOMEM, "cannot allocate the scaler");
    memcpy(s, offset, gen->F * sizeof *s);
    memcpy(s + gen->F, scale, gen->F * sizeof *s);
    gen->scaler = s;
    return GRUGAN_OK;
}

int grugan_generator_get_scaler(const grugan_generator *gen, float *offset, float *scale)
{
    CHECK_GEN(gen);
    if (!gen->scaler) return GEN_FAIL(gen, GRUGAN_E_STATE, "no scaler is attached");
    if (offset) memcpy(offset, gen->scaler, gen->F * sizeof *offset);
    if (scale) memcpy(scale, gen->scaler + gen->F, gen->F * sizeof *scale);
    return GRUGAN_OK;
}

/* x = x_scaled / scale + offset */
int grugan_generator_unscale(const grugan_generator *gen, float *values, size_t count)
{
    CHECK_GEN(gen);
    if (!values) return GEN_FAIL(gen, GRUGAN_E_INVALID, "values is NULL");
    if (!gen->scaler) return GEN_FAIL(gen, GRUGAN_E_STATE, "no scaler is attached");
    if (count % gen->F != 0)
        return GEN_FAIL(gen, GRUGAN_E_SIZE, "count %zu is not a multiple of F = %zu", count,
                        gen->F);
    for (size_t i = 0; i < count; i++) {
        const size_t k = i % gen->F;
        values[i] = values[i] / gen->scaler[gen->F + k] + gen->scaler[k];
    }
    return GRUGAN_OK;
}
