/* gru.c - the public grugan_gru handle: validation, parameters under PyTorch's
 * names, settings by key; the math lives in nn/gru.c. */
#include "core/core.h"
#include "model/params.h"
#include "nn/gru.h"

#include <math.h>
#include <string.h>

struct grugan_gru {
    grugan__object obj;
    grugan__gru_shape shape;
    grugan__params params;
    grugan__gru_net net;
    int check_finite;
    float *step_scratch; /* (grugan__gru_step_scratch_floats(step_batch)) */
    size_t step_batch;
};

#define GRU_FAIL(g, code, ...) grugan__fail(&(g)->obj, (code), __VA_ARGS__)

/* Refuses NULL or foreign handles; clears the message of a good one. */
#define CHECK_GRU(g)                                                                          \
    do {                                                                                      \
        if (!grugan__object_is((g), GRUGAN__MAGIC_GRU)) return GRUGAN_E_INVALID;              \
        grugan__clear((grugan__object *)&(g)->obj);                                           \
    } while (0)

static int validate_config(const grugan_context *ctx, const grugan_gru_config *c,
                           grugan_error *err)
{
    if (c->input_size == 0)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "input_size must be at least 1");
    if (c->hidden_size == 0)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "hidden_size must be at least 1");
    if (c->bidirectional != 0 && c->bidirectional != 1)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "bidirectional is %d, not 0 or 1",
                                 (int)c->bidirectional);
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

int grugan_gru_create(grugan_context *ctx, const grugan_gru_config *config, grugan_gru **out,
                      grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_gru_config cfg;
    grugan_gru *g;
    size_t first;
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
                                 "(use GRUGAN_GRU_CONFIG_INIT)",
                                 config->struct_size, sizeof(size_t), sizeof cfg);
    if ((rc = validate_config(c, &cfg, err)) != GRUGAN_OK) return rc;

    g = grugan__calloc(c, 1, sizeof *g);
    if (!g) return grugan__error_set(c, err, GRUGAN_E_NOMEM, "cannot allocate the GRU");
    grugan__object_init(&g->obj, GRUGAN__MAGIC_GRU, c);
    g->shape.input = cfg.input_size;
    g->shape.hidden = cfg.hidden_size;
    g->shape.layers = cfg.num_layers ? cfg.num_layers : 1;
    g->shape.dirs = cfg.bidirectional ? 2 : 1;
    g->shape.reset_before = cfg.convention == GRUGAN_GRU_RESET_BEFORE;
    g->check_finite = 1;
    grugan__params_init(&g->params, c);
    if (grugan__gru_param_floats(&g->shape) == 0) {
        rc = grugan__error_set(c, err, GRUGAN_E_SIZE, "the parameter count overflows");
        goto fail;
    }
    rc = grugan__params_add_gru(&g->params, &g->shape, "", &first);
    if (rc == GRUGAN_OK) rc = grugan__params_allocate(&g->params);
    if (rc != GRUGAN_OK) {
        rc = grugan__error_set(c, err, rc, "cannot allocate %zu parameters",
                               grugan__gru_param_floats(&g->shape));
        goto fail;
    }
    grugan__gru_init_params(&g->shape, g->params.values + first, cfg.seed);
    grugan__gru_init(&g->net, &g->shape, c, g->params.values + first, g->params.grads + first);
    *out = g;
    return GRUGAN_OK;

fail:
    grugan__params_release(&g->params);
    grugan__free(c, g);
    return rc;
}

void grugan_gru_free(grugan_gru *gru)
{
    const grugan_context *ctx;
    if (!grugan__object_is(gru, GRUGAN__MAGIC_GRU)) return;
    ctx = gru->obj.ctx;
    grugan__gru_release(&gru->net);
    grugan__params_release(&gru->params);
    grugan__free(ctx, gru->step_scratch);
    gru->obj.magic = GRUGAN__MAGIC_DEAD;
    grugan__free(ctx, gru);
}

const char *grugan_gru_message(const grugan_gru *gru)
{
    if (!gru) return "the GRU handle is NULL";
    if (!grugan__object_is(gru, GRUGAN__MAGIC_GRU)) return "not a GRU handle";
    return gru->obj.message;
}

int grugan_gru_key_bounds(int key, double *min, double *max)
{
    return grugan__key_bounds(key, min, max);
}

int grugan_gru_set(grugan_gru *gru, int key, double value)
{
    double lo, hi;
    CHECK_GRU(gru);
    if (grugan__key_bounds(key, &lo, &hi) != GRUGAN_OK)
        return GRU_FAIL(gru, GRUGAN_E_INVALID, "unknown key %d", key);
    if (!(value >= lo && value <= hi) || value != floor(value))
        return GRU_FAIL(gru, GRUGAN_E_RANGE, "key %d: value %g is not an integer in [%g, %g]",
                        key, value, lo, hi);
    if (key == GRUGAN_KEY_THREADS)
        gru->net.threads = (int)value;
    else
        gru->check_finite = (int)value;
    return GRUGAN_OK;
}

int grugan_gru_get(const grugan_gru *gru, int key, double *value)
{
    if (!grugan__object_is(gru, GRUGAN__MAGIC_GRU)) return GRUGAN_E_INVALID;
    if (!value) return GRUGAN_E_INVALID;
    switch (key) {
    case GRUGAN_KEY_THREADS: *value = gru->net.threads; return GRUGAN_OK;
    case GRUGAN_KEY_CHECK_FINITE: *value = gru->check_finite; return GRUGAN_OK;
    default: return GRUGAN_E_INVALID;
    }
}

static int reserve(grugan_gru *gru, size_t batch, size_t steps)
{
    int rc = grugan__gru_reserve(&gru->net, batch, steps);
    if (rc == GRUGAN_E_SIZE)
        return GRU_FAIL(gru, rc, "batch %zu x steps %zu is too large for this GRU", batch,
                        steps);
    if (rc != GRUGAN_OK)
        return GRU_FAIL(gru, rc, "cannot allocate the workspace for batch %zu x steps %zu",
                        batch, steps);
    return GRUGAN_OK;
}

int grugan_gru_reserve(grugan_gru *gru, size_t batch, size_t steps)
{
    CHECK_GRU(gru);
    if (batch == 0 || steps == 0)
        return GRU_FAIL(gru, GRUGAN_E_SIZE, "batch and steps must be at least 1");
    return reserve(gru, batch, steps);
}

/* Fails with GRUGAN_E_NONFINITE if checks are on and a (count) is not finite. */
static int check_finite(grugan_gru *gru, const float *a, size_t count, const char *what)
{
    if (gru->check_finite && a && !grugan__all_finite(a, count))
        return GRU_FAIL(gru, GRUGAN_E_NONFINITE, "%s contains NaN or Inf", what);
    return GRUGAN_OK;
}

int grugan_gru_forward(grugan_gru *gru, size_t batch, size_t steps, const float *x,
                       const float *h0, const size_t *lengths, float *out, float *h_n)
{
    size_t x_count, state_count;
    int rc;
    CHECK_GRU(gru);
    if (!x) return GRU_FAIL(gru, GRUGAN_E_INVALID, "x is NULL");
    if (batch == 0 || steps == 0)
        return GRU_FAIL(gru, GRUGAN_E_SIZE, "batch (%zu) and steps (%zu) must be at least 1",
                        batch, steps);
    if (lengths)
        for (size_t b = 0; b < batch; b++)
            if (lengths[b] < 1 || lengths[b] > steps)
                return GRU_FAIL(gru, GRUGAN_E_RANGE, "lengths[%zu] is %zu, not in 1..%zu", b,
                                lengths[b], steps);
    if ((rc = reserve(gru, batch, steps)) != GRUGAN_OK) return rc;
    /* the workspace holds more than these, so the products fit */
    x_count = batch * steps * gru->shape.input;
    state_count = gru->shape.layers * gru->shape.dirs * batch * gru->shape.hidden;
    if ((rc = check_finite(gru, x, x_count, "x")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gru, h0, state_count, "h0")) != GRUGAN_OK) return rc;
    grugan__gru_forward(&gru->net, batch, steps, x, gru->shape.input, h0, lengths, out, h_n);
    return GRUGAN_OK;
}

int grugan_gru_backward(grugan_gru *gru, const float *d_out, const float *d_hn, float *d_x,
                        float *d_h0, int flags)
{
    const grugan__gru_net *net;
    int rc;
    CHECK_GRU(gru);
    net = &gru->net;
    if (flags != GRUGAN_BACKWARD_PARAMS && flags != GRUGAN_BACKWARD_INPUT_ONLY)
        return GRU_FAIL(gru, GRUGAN_E_INVALID, "unknown backward flags %d", flags);
    if (!net->have_forward)
        return GRU_FAIL(gru, GRUGAN_E_STATE, "backward needs a forward first");
    rc = check_finite(gru, d_out,
                      net->batch * net->steps * gru->shape.dirs * gru->shape.hidden, "d_out");
    if (rc != GRUGAN_OK) return rc;
    rc = check_finite(gru, d_hn,
                      gru->shape.layers * gru->shape.dirs * net->batch * gru->shape.hidden,
                      "d_hn");
    if (rc != GRUGAN_OK) return rc;
    grugan__gru_backward(&gru->net, d_out, d_hn, d_x, gru->shape.input, d_h0,
                         flags == GRUGAN_BACKWARD_PARAMS);
    return GRUGAN_OK;
}

int grugan_gru_step(grugan_gru *gru, size_t batch, const float *x, float *h, float *out)
{
    size_t need, x_count, h_count;
    int rc;
    CHECK_GRU(gru);
    if (gru->shape.dirs != 1)
        return GRU_FAIL(gru, GRUGAN_E_UNSUPPORTED, "a bidirectional GRU cannot stream");
    if (!x || !h) return GRU_FAIL(gru, GRUGAN_E_INVALID, "x and h must not be NULL");
    if (batch == 0) return GRU_FAIL(gru, GRUGAN_E_SIZE, "batch must be at least 1");
    need = grugan__gru_step_scratch_floats(&gru->shape, batch);
    if (need == 0 || !grugan__mul_size(batch, gru->shape.input, &x_count) ||
        !grugan__mul3_size(gru->shape.layers, batch, gru->shape.hidden, &h_count))
        return GRU_FAIL(gru, GRUGAN_E_SIZE, "batch %zu is too large", batch);
    if ((rc = check_finite(gru, x, x_count, "x")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(gru, h, h_count, "h")) != GRUGAN_OK) return rc;
    if (batch > gru->step_batch) {
        float *scratch = grugan__calloc(gru->obj.ctx, need, sizeof(float));
        if (!scratch)
            return GRU_FAIL(gru, GRUGAN_E_NOMEM, "cannot allocate the step scratch");
        grugan__free(gru->obj.ctx, gru->step_scratch);
        gru->step_scratch = scratch;
        gru->step_batch = batch;
    }
    grugan__gru_step(&gru->net, batch, x, h, out, gru->step_scratch);
    return GRUGAN_OK;
}

grugan_params *grugan_gru_params(grugan_gru *gru)
{
    return grugan__object_is(gru, GRUGAN__MAGIC_GRU) ? &gru->params : NULL;
}
