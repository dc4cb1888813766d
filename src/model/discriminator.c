/*
 * discriminator.c - the public grugan_discriminator, two kinds.
 *
 * Input at each step: x_in[b, t] = [x_t (F), c (C)]       (B, T, I), I = F + C
 *
 * GRU kind: a GRU stack (L, H, D directions), then the head (1, D*H):
 *   per-step logits: logit[b, t] = out[b, t] . w + b0    (B, T); features are
 *     the GRU outputs (B, T, D*H). Past a sequence's length the output is 0
 *     and its logit is set to 0; backward ignores d_logits there.
 *   final logits: the features are the last layer's final states (B, D*H):
 *     forward direction at each sequence's last valid step, reverse
 *     direction after it has read the whole sequence back to t = 0 (h_n of
 *     the GRU); logit[b] = feat[b] . w + b0.
 *
 * CONV1D kind (T fixed at creation): for k < n_conv
 *   a_k = leaky_relu(conv1d_k(a_{k-1}))      a_{-1} = x_in, a_k (B, T_{k+1}, ch)
 * then the features flatten the last one as torch.nn.Flatten does the
 * (B, channels, T_out) output of torch's Conv1d: feat[b, c * T_out + t] =
 * a[b, t, c]; logit[b] = feat[b] . w + b0.
 *
 * Parameters, one block (model/params.h) in PyTorch's names and layouts:
 * GRU kind gru.* then head.weight (1, D*H), head.bias (1); CONV1D kind
 * conv.{k}.weight (channels, C_in_k, K), conv.{k}.bias (channels) for each k,
 * then head.weight (1, T_out * channels), head.bias (1). Initialization
 * streams: model/model_util.h.
 */
#include "core/core.h"
#include "model/discriminator_internal.h"
#include "model/model_util.h"
#include "model/params.h"
#include "nn/activation.h"
#include "nn/conv1d.h"
#include "nn/gru.h"
#include "nn/linear.h"

#include <stdio.h>
#include <string.h>

/* ---- creation ------------------------------------------------------------- */

static int validate_config(const grugan_context *ctx, const grugan_discriminator_config *c,
                           grugan_error *err)
{
    if (c->kind != GRUGAN_DISC_GRU && c->kind != GRUGAN_DISC_CONV1D)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "kind is %d, not GRUGAN_DISC_GRU (0) or GRUGAN_DISC_CONV1D (1)",
                                 (int)c->kind);
    if (c->input_size == 0)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "input_size must be at least 1");
    if (c->input_size > SIZE_MAX - c->condition_size)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE,
                                 "input_size + condition_size overflows");
    if (c->kind == GRUGAN_DISC_GRU) {
        if (c->bidirectional != 0 && c->bidirectional != 1)
            return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                     "bidirectional is %d, not 0 or 1", (int)c->bidirectional);
        if (c->convention != GRUGAN_GRU_RESET_AFTER && c->convention != GRUGAN_GRU_RESET_BEFORE)
            return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                     "convention is %d, not GRUGAN_GRU_RESET_AFTER (0) or "
                                     "GRUGAN_GRU_RESET_BEFORE (1)",
                                     (int)c->convention);
        if (c->logits != GRUGAN_LOGITS_PER_STEP && c->logits != GRUGAN_LOGITS_FINAL)
            return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                     "logits is %d, not GRUGAN_LOGITS_PER_STEP (0) or "
                                     "GRUGAN_LOGITS_FINAL (1)",
                                     (int)c->logits);
        if (c->num_layers > GRUGAN__GRU_MAX_LAYERS)
            return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "num_layers %zu exceeds %d",
                                     c->num_layers, GRUGAN__GRU_MAX_LAYERS);
    } else {
        if (c->sequence_length == 0)
            return grugan__error_set(ctx, err, GRUGAN_E_SIZE,
                                     "sequence_length is required for GRUGAN_DISC_CONV1D");
        if (c->conv_layers > MAX_CONV)
            return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "conv_layers %zu exceeds %d",
                                     c->conv_layers, MAX_CONV);
        if (!(c->leaky_slope >= 0.0f && c->leaky_slope <= 1.0f))
            return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                     "leaky_slope is %g, not in [0, 1]", (double)c->leaky_slope);
    }
    return GRUGAN_OK;
}

/* The GRU kind's parameters: gru.*, head (1, D*H). */
static int build_gru(grugan_discriminator *d, const grugan_discriminator_config *cfg,
                     grugan_error *err)
{
    const grugan_context *c = d->obj.ctx;
    size_t first, shape[2];
    int rc;
    d->shape.input = d->I;
    d->shape.hidden = cfg->hidden_size ? cfg->hidden_size : 24;
    d->shape.layers = cfg->num_layers ? cfg->num_layers : 3;
    d->shape.dirs = cfg->bidirectional ? 2 : 1;
    d->shape.reset_before = cfg->convention == GRUGAN_GRU_RESET_BEFORE;
    d->per_step = cfg->logits == GRUGAN_LOGITS_PER_STEP;
    if (grugan__gru_param_floats(&d->shape) == 0 ||
        !grugan__mul_size(d->shape.dirs, d->shape.hidden, &d->feat_in))
        return grugan__error_set(c, err, GRUGAN_E_SIZE, "the parameter count overflows");
    rc = grugan__params_add_gru(&d->params, &d->shape, "gru.", &first);
    shape[0] = 1;
    shape[1] = d->feat_in;
    if (rc == GRUGAN_OK) {
        d->head_w = d->params.n_floats;
        rc = grugan__params_add(&d->params, "head.weight", 2, shape);
    }
    if (rc == GRUGAN_OK) {
        d->head_b = d->params.n_floats;
        rc = grugan__params_add(&d->params, "head.bias", 1, shape);
    }
    if (rc == GRUGAN_OK) rc = grugan__params_allocate(&d->params);
    if (rc != GRUGAN_OK)
        return rc == GRUGAN_E_NOMEM ? grugan__error_set(c, err, rc, "cannot allocate %zu parameters",
                                                        d->params.n_floats)
                                    : grugan__error_set(c, err, rc, "the parameter count overflows");
    grugan__gru_init_params(&d->shape, d->params.values + first, cfg->seed);
    grugan__gru_init(&d->net, &d->shape, c, d->params.values + first, d->params.grads + first);
    return GRUGAN_OK;
}

/* The CONV1D kind's layer sizes and parameters: conv.{k}.*, head. */
static int build_conv(grugan_discriminator *d, const grugan_discriminator_config *cfg,
                      grugan_error *err)
{
    const grugan_context *c = d->obj.ctx;
    size_t shape[3];
    int rc = GRUGAN_OK;
    d->T = cfg->sequence_length;
    d->n_conv = cfg->conv_layers ? cfg->conv_layers : 3;
    d->ch = cfg->channels ? cfg->channels : 32;
    d->K = cfg->kernel_size ? cfg->kernel_size : 5;
    d->S = cfg->stride ? cfg->stride : 2;
    d->P = cfg->padding == GRUGAN_CONV_NO_PADDING ? 0 : cfg->padding ? cfg->padding : d->K / 2;
    d->slope = cfg->leaky_slope > 0.0f ? cfg->leaky_slope : 0.2f;
    d->scratch_per_seq = d->act_per_seq = 0;
    d->wide_per_seq = 0;
    for (size_t k = 0; k < d->n_conv; k++) {
        conv_layer *l = &d->conv[k];
        grugan__conv1d_shape s;
        size_t sc, n_out, n_in;
        l->c_in = k == 0 ? d->I : d->ch;
        l->t_in = k == 0 ? d->T : d->conv[k - 1].t_out;
        s.B = 1;
        s.T = l->t_in;
        s.C_in = l->c_in;
        s.C_out = d->ch;
        s.K = d->K;
        s.S = d->S;
        s.P = d->P;
        l->t_out = grugan__conv1d_out_len(&s);
        if (l->t_out == 0)
            return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                     "convolution %zu has no output: %zu steps, padding %zu, "
                                     "kernel_size %zu",
                                     k, l->t_in, d->P, d->K);
        /* im2col floats (0 on overflow), a_k and the gradients of a_k and its input */
        sc = grugan__conv1d_scratch_floats(&s);
        if (sc == 0 || !grugan__mul_size(l->t_out, d->ch, &n_out) ||
            !grugan__mul_size(l->t_in, l->c_in, &n_in) ||
            !grugan__add_size(d->act_per_seq, n_out, &d->act_per_seq))
            return grugan__error_set(c, err, GRUGAN_E_SIZE, "convolution %zu is too large", k);
        if (sc > d->scratch_per_seq) d->scratch_per_seq = sc;
        if (n_out > d->wide_per_seq) d->wide_per_seq = n_out;
        if (n_in > d->wide_per_seq) d->wide_per_seq = n_in;
    }
    if (!grugan__mul_size(d->conv[d->n_conv - 1].t_out, d->ch, &d->feat_in))
        return grugan__error_set(c, err, GRUGAN_E_SIZE, "the feature count overflows");
    for (size_t k = 0; k < d->n_conv && rc == GRUGAN_OK; k++) {
        char name[GRUGAN__NAME_CAP];
        shape[0] = d->ch;
        shape[1] = d->conv[k].c_in;
        shape[2] = d->K;
        snprintf(name, sizeof name, "conv.%zu.weight", k);
        d->conv[k].w = d->params.n_floats;
        rc = grugan__params_add(&d->params, name, 3, shape);
        if (rc != GRUGAN_OK) break;
        snprintf(name, sizeof name, "conv.%zu.bias", k);
        d->conv[k].b = d->params.n_floats;
        rc = grugan__params_add(&d->params, name, 1, shape);
    }
    shape[0] = 1;
    shape[1] = d->feat_in;
    if (rc == GRUGAN_OK) {
        d->head_w = d->params.n_floats;
        rc = grugan__params_add(&d->params, "head.weight", 2, shape);
    }
    if (rc == GRUGAN_OK) {
        d->head_b = d->params.n_floats;
        rc = grugan__params_add(&d->params, "head.bias", 1, shape);
    }
    if (rc == GRUGAN_OK) rc = grugan__params_allocate(&d->params);
    if (rc != GRUGAN_OK)
        return rc == GRUGAN_E_NOMEM ? grugan__error_set(c, err, rc, "cannot allocate %zu parameters",
                                                        d->params.n_floats)
                                    : grugan__error_set(c, err, rc, "the parameter count overflows");
    for (size_t k = 0; k < d->n_conv; k++) {
        const size_t fan_in = d->conv[k].c_in * d->K, nw = d->ch * fan_in;
        const float bound = grugan__fan_in_bound(fan_in);
        const uint32_t stream = GRUGAN__INIT_STREAM_CONV0 + (uint32_t)k;
        grugan__init_uniform(d->params.values + d->conv[k].w, nw, bound, cfg->seed, stream, 0);
        grugan__init_uniform(d->params.values + d->conv[k].b, d->ch, bound, cfg->seed, stream,
                             nw);
    }
    return GRUGAN_OK;
}

/* The configuration with every default replaced by its value; the fields
 * of the other kind are zero. */
static grugan_discriminator_config resolved_config(const grugan_discriminator *d,
                                                   const grugan_discriminator_config *cfg)
{
    grugan_discriminator_config r = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    r.kind = d->kind;
    r.input_size = d->F;
    r.condition_size = d->C;
    r.seed = cfg->seed;
    if (d->kind == GRUGAN_DISC_GRU) {
        r.hidden_size = d->shape.hidden;
        r.num_layers = d->shape.layers;
        r.bidirectional = d->shape.dirs == 2;
        r.convention = d->shape.reset_before ? GRUGAN_GRU_RESET_BEFORE : GRUGAN_GRU_RESET_AFTER;
        r.logits = d->per_step ? GRUGAN_LOGITS_PER_STEP : GRUGAN_LOGITS_FINAL;
    } else {
        r.sequence_length = d->T;
        r.conv_layers = d->n_conv;
        r.channels = d->ch;
        r.kernel_size = d->K;
        r.stride = d->S;
        r.padding = d->P ? d->P : GRUGAN_CONV_NO_PADDING;
        r.leaky_slope = d->slope;
    }
    return r;
}

int grugan_discriminator_create(grugan_context *ctx, const grugan_discriminator_config *config,
                                grugan_discriminator **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_discriminator_config cfg;
    grugan_discriminator *d;
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
                                 "(use GRUGAN_DISCRIMINATOR_CONFIG_INIT)",
                                 config->struct_size, sizeof(size_t), sizeof cfg);
    if ((rc = validate_config(c, &cfg, err)) != GRUGAN_OK) return rc;

    d = grugan__calloc(c, 1, sizeof *d);
    if (!d)
        return grugan__error_set(c, err, GRUGAN_E_NOMEM, "cannot allocate the discriminator");
    grugan__object_init(&d->obj, GRUGAN__MAGIC_DISCRIMINATOR, c);
    d->kind = cfg.kind;
    d->F = cfg.input_size;
    d->C = cfg.condition_size;
    d->I = d->F + d->C;
    d->threads = 1;
    d->check_finite = 1;
    grugan__params_init(&d->params, c);
    rc = d->kind == GRUGAN_DISC_GRU ? build_gru(d, &cfg, err) : build_conv(d, &cfg, err);
    if (rc != GRUGAN_OK) {
        grugan__params_release(&d->params);
        grugan__free(c, d);
        return rc;
    }
    {
        const float bound = grugan__fan_in_bound(d->feat_in);
        grugan__init_uniform(d->params.values + d->head_w, d->feat_in, bound, cfg.seed,
                             GRUGAN__INIT_STREAM_HEAD, 0);
        grugan__init_uniform(d->params.values + d->head_b, 1, bound, cfg.seed,
                             GRUGAN__INIT_STREAM_HEAD, d->feat_in);
    }
    d->config = resolved_config(d, &cfg);
    *out = d;
    return GRUGAN_OK;
}

int grugan_discriminator_get_config(const grugan_discriminator *disc,
                                    grugan_discriminator_config *out)
{
    size_t n;
    if (!grugan__object_is(disc, GRUGAN__MAGIC_DISCRIMINATOR)) return GRUGAN_E_INVALID;
    grugan__clear((grugan__object *)&disc->obj);
    if (!out) return grugan__fail((grugan__object *)&disc->obj, GRUGAN_E_INVALID, "out is NULL");
    n = out->struct_size;
    if (n < sizeof(size_t) || n > sizeof *out)
        return grugan__fail((grugan__object *)&disc->obj, GRUGAN_E_INVALID,
                            "out->struct_size is %zu (use GRUGAN_DISCRIMINATOR_CONFIG_INIT)", n);
    memcpy(out, &disc->config, n);
    out->struct_size = n;
    return GRUGAN_OK;
}

void grugan_discriminator_free(grugan_discriminator *disc)
{
    const grugan_context *ctx;
    if (!grugan__object_is(disc, GRUGAN__MAGIC_DISCRIMINATOR)) return;
    ctx = disc->obj.ctx;
    if (disc->kind == GRUGAN_DISC_GRU) grugan__gru_release(&disc->net);
    grugan__params_release(&disc->params);
    grugan__free(ctx, disc->ws);
    disc->obj.magic = GRUGAN__MAGIC_DEAD;
    grugan__free(ctx, disc);
}

const char *grugan_discriminator_message(const grugan_discriminator *disc)
{
    if (!disc) return "the discriminator handle is NULL";
    if (!grugan__object_is(disc, GRUGAN__MAGIC_DISCRIMINATOR))
        return "not a discriminator handle";
    return disc->obj.message;
}

int grugan_discriminator_set(grugan_discriminator *disc, int key, double value)
{
    int rc;
    CHECK_DISC(disc);
    rc = grugan__model_set_key(&disc->obj, key, value, &disc->threads, &disc->check_finite);
    disc->net.threads = disc->threads;
    return rc;
}

int grugan_discriminator_get(const grugan_discriminator *disc, int key, double *value)
{
    if (!grugan__object_is(disc, GRUGAN__MAGIC_DISCRIMINATOR)) return GRUGAN_E_INVALID;
    return grugan__model_get_key(key, disc->threads, disc->check_finite, value);
}

grugan_params *grugan_discriminator_params(grugan_discriminator *disc)
{
    return grugan__object_is(disc, GRUGAN__MAGIC_DISCRIMINATOR) ? &disc->params : NULL;
}

/* ---- sizes ---------------------------------------------------------------- */

/* Logits per sequence of `steps` steps; 0 if the kind refuses that length or
 * it overflows. */
static size_t logits_per_seq(const grugan_discriminator *d, size_t steps)
{
    if (steps == 0) return 0;
    if (d->kind == GRUGAN_DISC_CONV1D) return steps == d->T ? 1 : 0;
    return d->per_step ? steps : 1;
}

static size_t features_per_seq(const grugan_discriminator *d, size_t steps)
{
    size_t n;
    if (steps == 0) return 0;
    if (d->kind == GRUGAN_DISC_CONV1D) return steps == d->T ? d->feat_in : 0;
    if (!d->per_step) return d->feat_in;
    return grugan__mul_size(steps, d->feat_in, &n) ? n : 0;
}

size_t grugan_discriminator_logit_count(const grugan_discriminator *disc, size_t steps)
{
    if (!grugan__object_is(disc, GRUGAN__MAGIC_DISCRIMINATOR)) return 0;
    return logits_per_seq(disc, steps);
}

size_t grugan_discriminator_feature_count(const grugan_discriminator *disc, size_t steps)
{
    if (!grugan__object_is(disc, GRUGAN__MAGIC_DISCRIMINATOR)) return 0;
    return features_per_seq(disc, steps);
}

/* ---- workspace -------------------------------------------------------------- */

/* Floats of every workspace buffer for (B, T), in layout order; false on
 * overflow. */
static bool workspace_sizes(const grugan_discriminator *d, size_t B, size_t T, size_t sizes[11])
{
    size_t rows, feat_per_seq = features_per_seq(d, T), ld = 0;
    memset(sizes, 0, 11 * sizeof *sizes);
    if (feat_per_seq == 0 || !grugan__mul_size(B, T, &rows) ||
        !grugan__mul_size(rows, d->I, &sizes[0]) || /* x_in */
        !grugan__mul_size(rows, d->I, &sizes[1]) || /* dx_in */
        !grugan__mul_size(B, feat_per_seq, &sizes[2]) || /* feat */
        !grugan__mul_size(B, feat_per_seq, &sizes[3]))   /* dfeat */
        return false;
    sizes[4] = rows; /* dlog; the CONV1D kind's penalties keep their weights there */
    if (d->kind == GRUGAN_DISC_GRU) {
        if (!grugan__mul_size(d->shape.layers, d->shape.dirs, &ld) ||
            !grugan__mul3_size(ld, B, d->shape.hidden, &sizes[5]) || /* hn */
            !grugan__mul3_size(ld, B, d->shape.hidden, &sizes[6]))   /* dhn */
            return false;
    } else {
        if (!grugan__mul_size(B, d->act_per_seq, &sizes[7]) ||      /* acts */
            !grugan__mul_size(B, d->scratch_per_seq, &sizes[8]) ||  /* scratch */
            !grugan__mul3_size(2, B, d->wide_per_seq, &sizes[9]) || /* dbuf */
            !grugan__mul_size(B, d->act_per_seq, &sizes[10]))       /* dz */
            return false;
    }
    return true;
}

/* Sizes the workspace (and the GRU's) for (batch, steps); on failure both
 * keep their old sizes. The GRU's workspace never outgrows this one, so it
 * only grows when this one does. */
static int reserve(grugan_discriminator *d, size_t batch, size_t steps)
{
    size_t B = batch, T = steps, sizes[11], total = 0;
    float *p;
    if (B < d->cap_batch) B = d->cap_batch;
    if (T < d->cap_steps) T = d->cap_steps;
    if (!workspace_sizes(d, B, T, sizes))
        return DISC_FAIL(d, GRUGAN_E_SIZE,
                         "batch %zu x steps %zu is too large for this discriminator", batch,
                         steps);
    for (int i = 0; i < 11; i++)
        if (!grugan__add_size(total, sizes[i], &total))
            return DISC_FAIL(d, GRUGAN_E_SIZE,
                             "batch %zu x steps %zu is too large for this discriminator", batch,
                             steps);
    if (total > PTRDIFF_MAX / sizeof(float))
        return DISC_FAIL(d, GRUGAN_E_SIZE,
                         "batch %zu x steps %zu is too large for this discriminator", batch,
                         steps);
    if (B == d->cap_batch && T == d->cap_steps) return GRUGAN_OK;
    p = grugan__calloc(d->obj.ctx, total, sizeof(float));
    if (!p)
        return DISC_FAIL(d, GRUGAN_E_NOMEM,
                         "cannot allocate the workspace for batch %zu x steps %zu", batch, steps);
    if (d->kind == GRUGAN_DISC_GRU) {
        int rc = grugan__gru_reserve(&d->net, B, T);
        if (rc != GRUGAN_OK) {
            grugan__free(d->obj.ctx, p);
            if (rc == GRUGAN_E_SIZE)
                return DISC_FAIL(d, rc,
                                 "batch %zu x steps %zu is too large for this discriminator",
                                 batch, steps);
            return DISC_FAIL(d, rc,
                             "cannot allocate the GRU workspace for batch %zu x steps %zu",
                             batch, steps);
        }
    }
    d->have_forward = false;
    grugan__free(d->obj.ctx, d->ws);
    d->ws = p;
    d->x_in = p; p += sizes[0];
    d->dx_in = p; p += sizes[1];
    d->feat = p; p += sizes[2];
    d->dfeat = p; p += sizes[3];
    d->dlog = p; p += sizes[4];
    d->hn = p; p += sizes[5];
    d->dhn = p; p += sizes[6];
    d->acts = p; p += sizes[7];
    d->scratch = p; p += sizes[8];
    d->dbuf[0] = p; p += sizes[9] / 2;
    d->dbuf[1] = p; p += sizes[9] / 2;
    d->dz = p;
    d->cap_batch = B;
    d->cap_steps = T;
    return GRUGAN_OK;
}

/* ---- forward ------------------------------------------------------------------ */

/* Fails with GRUGAN_E_NONFINITE if checks are on and a (count) is not finite. */
static int check_finite(grugan_discriminator *d, const float *a, size_t count, const char *what)
{
    if (d->check_finite && a && !grugan__all_finite(a, count))
        return DISC_FAIL(d, GRUGAN_E_NONFINITE, "%s contains NaN or Inf", what);
    return GRUGAN_OK;
}

static void forward_gru(grugan_discriminator *d, size_t B, size_t T, const size_t *lengths,
                        float *logits)
{
    const size_t H = d->shape.hidden, D = d->shape.dirs, L = d->shape.layers;
    const float *w = d->params.values + d->head_w, *bias = d->params.values + d->head_b;
    const int threads = d->threads;
    if (d->per_step) {
        grugan__gru_forward(&d->net, B, T, d->x_in, d->I, NULL, lengths, d->feat, NULL);
        grugan__linear_forward(logits, d->feat, w, bias, B * T, d->feat_in, 1, threads);
        if (lengths)
            for (size_t b = 0; b < B; b++)
                for (size_t t = lengths[b]; t < T; t++) logits[b * T + t] = 0.0f;
    } else {
        grugan__gru_forward(&d->net, B, T, d->x_in, d->I, NULL, lengths, NULL, d->hn);
        /* feat[b] = [h_n forward, h_n reverse] of the last layer */
        for (size_t dir = 0; dir < D; dir++) {
            const float *h = d->hn + ((L - 1) * D + dir) * B * H;
            for (size_t b = 0; b < B; b++)
                memcpy(d->feat + b * D * H + dir * H, h + b * H, H * sizeof(float));
        }
        grugan__linear_forward(logits, d->feat, w, bias, B, d->feat_in, 1, threads);
    }
}

static void forward_conv(grugan_discriminator *d, size_t B, float *logits)
{
    const float *v = d->params.values;
    const size_t last = d->n_conv - 1, T_out = d->conv[last].t_out;
    const float *in = d->x_in;
    float *a = NULL;
    for (size_t k = 0; k < d->n_conv; k++) {
        const grugan__conv1d_shape s = grugan__disc_conv_shape(d, k, B);
        a = grugan__disc_act(d, k, B);
        grugan__conv1d_forward(a, d->scratch, in, v + d->conv[k].w, v + d->conv[k].b, &s,
                               d->threads);
        grugan__leaky_relu_forward(a, a, d->slope, B * d->conv[k].t_out * d->ch, d->threads);
        in = a;
    }
    /* feat[b, c * T_out + t] = a[b, t, c] */
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T_out; t++)
            for (size_t c = 0; c < d->ch; c++)
                d->feat[b * d->feat_in + c * T_out + t] = a[(b * T_out + t) * d->ch + c];
    grugan__linear_forward(logits, d->feat, v + d->head_w, v + d->head_b, B, d->feat_in, 1,
                           d->threads);
}

int grugan_discriminator_forward(grugan_discriminator *disc, size_t batch, size_t steps,
                                 const float *x, const float *condition, const size_t *lengths,
                                 float *logits)
{
    size_t rows;
    int rc;
    CHECK_DISC(disc);
    if (!x || !logits) return DISC_FAIL(disc, GRUGAN_E_INVALID, "x and logits must not be NULL");
    if (disc->C > 0 && !condition)
        return DISC_FAIL(disc, GRUGAN_E_INVALID,
                         "condition is NULL but the discriminator has condition_size %zu",
                         disc->C);
    if (batch == 0 || steps == 0)
        return DISC_FAIL(disc, GRUGAN_E_SIZE, "batch (%zu) and steps (%zu) must be at least 1",
                         batch, steps);
    if (disc->kind == GRUGAN_DISC_CONV1D) {
        if (lengths)
            return DISC_FAIL(disc, GRUGAN_E_UNSUPPORTED,
                             "the CONV1D discriminator does not take lengths");
        if (steps != disc->T)
            return DISC_FAIL(disc, GRUGAN_E_SIZE,
                             "steps is %zu but the CONV1D discriminator was created for "
                             "sequence_length %zu",
                             steps, disc->T);
    }
    if (lengths)
        for (size_t b = 0; b < batch; b++)
            if (lengths[b] < 1 || lengths[b] > steps)
                return DISC_FAIL(disc, GRUGAN_E_RANGE, "lengths[%zu] is %zu, not in 1..%zu", b,
                                 lengths[b], steps);
    if ((rc = reserve(disc, batch, steps)) != GRUGAN_OK) return rc;
    rows = batch * steps; /* fits: the workspace holds rows * I */
    if ((rc = check_finite(disc, x, rows * disc->F, "x")) != GRUGAN_OK) return rc;
    if ((rc = check_finite(disc, condition, batch * disc->C, "condition")) != GRUGAN_OK)
        return rc;

    /* x_in[b, t] = [x_t, c] */
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < steps; t++) {
            float *xi = disc->x_in + (b * steps + t) * disc->I;
            memcpy(xi, x + (b * steps + t) * disc->F, disc->F * sizeof *xi);
            if (disc->C) memcpy(xi + disc->F, condition + b * disc->C, disc->C * sizeof *xi);
        }
    if (disc->kind == GRUGAN_DISC_GRU)
        forward_gru(disc, batch, steps, lengths, logits);
    else
        forward_conv(disc, batch, logits);
    disc->batch = batch;
    disc->steps = steps;
    disc->have_forward = true;
    return GRUGAN_OK;
}

int grugan_discriminator_features(const grugan_discriminator *disc, float *dst, size_t count)
{
    grugan_discriminator *d = (grugan_discriminator *)disc; /* the message is its own state */
    size_t n;
    CHECK_DISC(d);
    if (!dst) return DISC_FAIL(d, GRUGAN_E_INVALID, "dst is NULL");
    if (!d->have_forward) return DISC_FAIL(d, GRUGAN_E_STATE, "features need a forward first");
    n = d->batch * features_per_seq(d, d->steps);
    if (count != n)
        return DISC_FAIL(d, GRUGAN_E_SIZE, "count is %zu, the last forward has %zu features",
                         count, n);
    memcpy(dst, d->feat, n * sizeof *dst);
    return GRUGAN_OK;
}

/* ---- backward ----------------------------------------------------------------- */

static void backward_gru(grugan_discriminator *d, const float *d_logits, const float *d_features,
                         float *dx, bool params_too)
{
    const size_t B = d->batch, T = d->steps, H = d->shape.hidden, D = d->shape.dirs,
                 L = d->shape.layers;
    const size_t nfeat = B * features_per_seq(d, T);
    const float *w = d->params.values + d->head_w;
    float *gw = d->params.grads + d->head_w, *gb = d->params.grads + d->head_b;
    /* the head's backward adds to d_features when given, else writes dfeat itself */
    const int flags = (d_features ? GRUGAN__NN_DX_ACCUMULATE : 0) |
                      (params_too ? 0 : GRUGAN__NN_INPUT_ONLY);

    /* dfeat = d_features + d_logits w (head backward, also into the head's gradients) */
    if (d_features)
        memcpy(d->dfeat, d_features, nfeat * sizeof(float));
    else if (!d_logits)
        memset(d->dfeat, 0, nfeat * sizeof(float));
    if (d->per_step) {
        if (d_logits) {
            /* logits past a length are constants 0: no gradient */
            for (size_t b = 0; b < B; b++)
                for (size_t t = 0; t < T; t++)
                    d->dlog[b * T + t] = t < d->net.len[b] ? d_logits[b * T + t] : 0.0f;
            grugan__linear_backward(d->dfeat, gw, gb, d->dlog, d->feat, w, B * T, d->feat_in, 1,
                                    flags, d->threads);
        }
        grugan__gru_backward(&d->net, d->dfeat, NULL, dx, d->I, NULL, params_too);
    } else {
        if (d_logits)
            grugan__linear_backward(d->dfeat, gw, gb, d_logits, d->feat, w, B, d->feat_in, 1,
                                    flags, d->threads);
        /* d h_n: the features' gradient on the last layer, zero below */
        memset(d->dhn, 0, L * D * B * H * sizeof(float));
        for (size_t dir = 0; dir < D; dir++) {
            float *g = d->dhn + ((L - 1) * D + dir) * B * H;
            for (size_t b = 0; b < B; b++)
                memcpy(g + b * H, d->dfeat + b * D * H + dir * H, H * sizeof(float));
        }
        grugan__gru_backward(&d->net, NULL, d->dhn, dx, d->I, NULL, params_too);
    }
}

static void backward_conv(grugan_discriminator *d, const float *d_logits,
                          const float *d_features, float *dx, bool params_too)
{
    const size_t B = d->batch, last = d->n_conv - 1, T_out = d->conv[last].t_out;
    const float *v = d->params.values;
    float *g = d->params.grads;
    const int flags = params_too ? 0 : GRUGAN__NN_INPUT_ONLY;
    float *da = d->dbuf[0], *dnext = d->dbuf[1];

    if (d_features)
        memcpy(d->dfeat, d_features, B * d->feat_in * sizeof(float));
    else
        memset(d->dfeat, 0, B * d->feat_in * sizeof(float));
    if (d_logits)
        grugan__linear_backward(d->dfeat, g + d->head_w, g + d->head_b, d_logits, d->feat,
                                v + d->head_w, B, d->feat_in, 1,
                                flags | GRUGAN__NN_DX_ACCUMULATE, d->threads);
    /* da[b, t, c] = dfeat[b, c * T_out + t] */
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T_out; t++)
            for (size_t c = 0; c < d->ch; c++)
                da[(b * T_out + t) * d->ch + c] = d->dfeat[b * d->feat_in + c * T_out + t];
    for (size_t k = d->n_conv; k-- > 0;) {
        const grugan__conv1d_shape s = grugan__disc_conv_shape(d, k, B);
        const float *a = grugan__disc_act(d, k, B), *in = k ? grugan__disc_act(d, k - 1, B) : d->x_in;
        float *din = k ? dnext : dx;
        /* through the leaky ReLU (slope >= 0: from its output), then the conv */
        grugan__leaky_relu_backward(da, da, a, d->slope, B * d->conv[k].t_out * d->ch, 0,
                                    d->threads);
        if (!din && !params_too) break;
        grugan__conv1d_backward(din, g + d->conv[k].w, g + d->conv[k].b, d->scratch, da, in,
                                v + d->conv[k].w, &s, flags, d->threads);
        dnext = da;
        da = din;
    }
}

int grugan_discriminator_backward(grugan_discriminator *disc, const float *d_logits,
                                  const float *d_features, float *d_x, int flags)
{
    float *dx;
    int rc;
    CHECK_DISC(disc);
    if (flags != GRUGAN_BACKWARD_PARAMS && flags != GRUGAN_BACKWARD_INPUT_ONLY)
        return DISC_FAIL(disc, GRUGAN_E_INVALID, "unknown backward flags %d", flags);
    if (!disc->have_forward || (disc->kind == GRUGAN_DISC_GRU && !disc->net.have_forward))
        return DISC_FAIL(disc, GRUGAN_E_STATE, "backward needs a forward first");
    rc = check_finite(disc, d_logits, disc->batch * logits_per_seq(disc, disc->steps),
                      "d_logits");
    if (rc != GRUGAN_OK) return rc;
    rc = check_finite(disc, d_features, disc->batch * features_per_seq(disc, disc->steps),
                      "d_features");
    if (rc != GRUGAN_OK) return rc;
    if (!d_x && flags == GRUGAN_BACKWARD_INPUT_ONLY) return GRUGAN_OK; /* nothing asked */
    /* dL/dx_in lands in the caller's d_x when it has no condition columns */
    dx = !d_x ? NULL : disc->C ? disc->dx_in : d_x;
    if (disc->kind == GRUGAN_DISC_GRU)
        backward_gru(disc, d_logits, d_features, dx, flags == GRUGAN_BACKWARD_PARAMS);
    else
        backward_conv(disc, d_logits, d_features, dx, flags == GRUGAN_BACKWARD_PARAMS);
    if (d_x && disc->C) {
        const size_t rows = disc->batch * disc->steps;
        for (size_t r = 0; r < rows; r++)
            memcpy(d_x + r * disc->F, disc->dx_in + r * disc->I, disc->F * sizeof *d_x);
    }
    return GRUGAN_OK;
}
