/* trainer.c - the GAN training loop on the public model, optimizer, loss and
 * dataset handles (it borrows them all). */
#include "core/rng.h"
#include "train/optimizer.h"
#include "train/trainer_internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FAIL(tr, code, ...) grugan__fail(&(tr)->obj, (code), __VA_ARGS__)

/* The pieces shards.c shares (trainer_internal.h). */
#define with_instance_noise grugan__trainer_instance_noise
#define mean_score grugan__trainer_mean_score
#define relay grugan__trainer_relay
#define non_finite grugan__trainer_non_finite
#define clip_and_update grugan__trainer_clip_and_update

/* Defaults of the trainer's settings (include/grugan.h, "Trainer"; the runs
 * that chose them are in docs/QUALITY.md, "Training on Sines"). */
#define DEFAULT_D_STEPS 1
#define DEFAULT_BATCH_SIZE 128
#define DEFAULT_MOMENT_MATCHING 100.0f /* TimeGAN's weight of its moment loss */
#define DEFAULT_DIFFERENCE_MATCHING 100.0f /* as moment matching */
#define DEFAULT_FEATURE_MATCHING 0.0f  /* none */
#define DEFAULT_LABEL_SMOOTHING 0.0f   /* none */
/* Instance noise by default only on small data, where it kept the
 * discriminator from memorizing the few real windows (docs/QUALITY.md,
 * "Small data"): this standard deviation below SMALL_DATA training
 * sequences, none from there on. */
#define DEFAULT_INSTANCE_NOISE_SMALL 0.05f
#define SMALL_DATA 1000

static void release_buffers(grugan_trainer *tr)
{
    const grugan_context *ctx = tr->obj.ctx;
    grugan__selection_release(tr);
    grugan__penalties_release(tr);
    grugan__shards_release(tr);
    grugan__free(ctx, tr->x);
    grugan__free(ctx, tr->cond);
    grugan__free(ctx, tr->len);
    grugan__free(ctx, tr->logit);
    grugan__free(ctx, tr->d_logit);
    grugan__free(ctx, tr->feat);
    grugan__free(ctx, tr->d_feat);
    grugan__free(ctx, tr->dx);
    grugan__free(ctx, tr->d_moment);
    grugan__free(ctx, tr->d_change);
    grugan__free(ctx, tr->xn);
}

/* Allocates every buffer a step needs, so that steps never allocate. */
static int allocate_buffers(grugan_trainer *tr)
{
    const grugan_context *ctx = tr->obj.ctx;
    const size_t rows = 2 * tr->B;
    size_t seq;
    if (!grugan__mul_size(tr->T, tr->F, &seq) || !grugan__mul_size(rows, seq, &seq))
        return GRUGAN_E_SIZE;
    tr->x = grugan__calloc(ctx, seq, sizeof(float));
    tr->dx = grugan__calloc(ctx, seq, sizeof(float));
    tr->len = grugan__calloc(ctx, rows, sizeof(size_t));
    tr->logit = grugan__calloc(ctx, rows * tr->logits, sizeof(float));
    tr->d_logit = grugan__calloc(ctx, rows * tr->logits, sizeof(float));
    if (!tr->x || !tr->dx || !tr->len || !tr->logit || !tr->d_logit) return GRUGAN_E_NOMEM;
    if (tr->C) {
        tr->cond = grugan__calloc(ctx, rows * tr->C, sizeof(float));
        if (!tr->cond) return GRUGAN_E_NOMEM;
    }
    if (tr->cfg.moment_matching > 0.0f) {
        tr->d_moment = grugan__calloc(ctx, seq / 2, sizeof(float));
        if (!tr->d_moment) return GRUGAN_E_NOMEM;
    }
    if (tr->cfg.difference_matching > 0.0f && tr->T > 1) {
        tr->d_change = grugan__calloc(ctx, seq / 2, sizeof(float));
        if (!tr->d_change) return GRUGAN_E_NOMEM;
    }
    if (tr->cfg.instance_noise > 0.0f) {
        tr->xn = grugan__calloc(ctx, seq, sizeof(float));
        if (!tr->xn) return GRUGAN_E_NOMEM;
    }
    if (tr->cfg.feature_matching > 0.0f) {
        size_t n;
        if (!grugan__mul_size(rows, tr->features, &n)) return GRUGAN_E_SIZE;
        tr->feat = grugan__calloc(ctx, n, sizeof(float));
        tr->d_feat = grugan__calloc(ctx, n, sizeof(float));
        if (!tr->feat || !tr->d_feat) return GRUGAN_E_NOMEM;
    }
    return GRUGAN_OK;
}

static int check_config(const grugan_context *ctx, const grugan_trainer_config *c,
                        grugan_error *err)
{
    int rc;
    if (c->loss < GRUGAN_LOSS_BCE || c->loss > GRUGAN_LOSS_WGAN_GP)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "loss %d is not a GRUGAN_LOSS_*",
                                 (int)c->loss);
    if (!(c->label_smoothing < 1.0f) || !isfinite(c->label_smoothing))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "label_smoothing must be below 1 (0: the default, negative: "
                                 "none)");
    if (!(c->clip_grad_norm >= 0.0f) || !isfinite(c->clip_grad_norm))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "clip_grad_norm must be >= 0");
    if (!(c->clip_weights >= 0.0f) || !isfinite(c->clip_weights))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "clip_weights must be >= 0");
    if (!isfinite(c->feature_matching))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "feature_matching must be finite");
    if (!isfinite(c->moment_matching))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "moment_matching must be finite");
    if (!(fabs(c->difference_matching) <= FLT_MAX))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "difference_matching must be finite and within float range");
    if (!isfinite(c->instance_noise))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "instance_noise must be finite");
    if (!(c->max_seconds >= 0.0) || !isfinite(c->max_seconds))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "max_seconds must be finite and >= 0 (0: no budget)");
    if (c->nonfinite_policy != GRUGAN_NONFINITE_STOP && c->nonfinite_policy != GRUGAN_NONFINITE_SKIP)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "nonfinite_policy %d is unknown",
                                 (int)c->nonfinite_policy);
    if (c->threads < 0 || c->threads > 256)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "threads %d outside 0..256",
                                 (int)c->threads);
    if (c->final_candidates > GRUGAN__MAX_CANDIDATES)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "final_candidates %lld exceeds %d",
                                 (long long)c->final_candidates, GRUGAN__MAX_CANDIDATES);
    if (c->d_steps > 1000)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "d_steps %zu exceeds 1000", c->d_steps);
    if ((rc = grugan__shards_check_config(ctx, c, err)) != GRUGAN_OK) return rc;
    return grugan__penalties_check_config(ctx, c, err);
}

/* A weight of the configuration: 0 gives the default, a negative value 0
 * (off), any other value itself. */
static float resolve_weight(float value, float default_value)
{
    return value == 0.0f ? default_value : value < 0.0f ? 0.0f : value;
}

/* The borrowed handles fit together: sizes agree with the dataset's and each
 * optimizer updates its own model. */
static int check_handles_agree(const grugan_context *c, grugan_generator *gen,
                               grugan_discriminator *disc, grugan_optimizer *gen_opt,
                               grugan_optimizer *disc_opt, size_t F, size_t C, grugan_error *err)
{
    grugan_generator_config g = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config d = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_generator_get_config(gen, &g);
    grugan_discriminator_get_config(disc, &d);
    if (g.output_size != F || d.input_size != F)
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "the dataset has %zu features, the generator outputs %zu and "
                                 "the discriminator takes %zu",
                                 F, g.output_size, d.input_size);
    if (g.condition_size != C || d.condition_size != C)
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "the dataset's condition size is %zu, the generator's %zu and "
                                 "the discriminator's %zu",
                                 C, g.condition_size, d.condition_size);
    if (g.covariate_size != 0)
        return grugan__error_set(c, err, GRUGAN_E_UNSUPPORTED,
                                 "the trainer cannot supply per-step covariates (the generator "
                                 "has %zu); write a custom loop",
                                 g.covariate_size);
    if (grugan__optimizer_params(gen_opt) != grugan_generator_params(gen) ||
        grugan__optimizer_params(disc_opt) != grugan_discriminator_params(disc))
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "each optimizer must be made for its model's parameters "
                                 "(grugan_generator_params, grugan_discriminator_params)");
    return GRUGAN_OK;
}

int grugan_trainer_create(grugan_context *ctx, const grugan_trainer_config *config,
                          grugan_generator *gen, grugan_discriminator *disc,
                          grugan_optimizer *gen_opt, grugan_optimizer *disc_opt,
                          grugan_dataset *data, grugan_trainer **out, grugan_error *err)
{
    const grugan_context *c = ctx ? ctx : grugan__default_context();
    grugan_trainer_config cfg;
    grugan_trainer *tr;
    size_t n, n_train, T, F, C;
    int rc;

    if (err) {
        err->code = GRUGAN_OK;
        err->message[0] = '\0';
    }
    if (!out) return grugan__error_set(c, err, GRUGAN_E_INVALID, "out is NULL");
    *out = NULL;
    if (!grugan__object_is(gen, GRUGAN__MAGIC_GENERATOR) ||
        !grugan__object_is(disc, GRUGAN__MAGIC_DISCRIMINATOR) ||
        !grugan__object_is(gen_opt, GRUGAN__MAGIC_OPTIMIZER) ||
        !grugan__object_is(disc_opt, GRUGAN__MAGIC_OPTIMIZER) ||
        !grugan__object_is(data, GRUGAN__MAGIC_DATASET))
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "generator, discriminator, both optimizers and the dataset "
                                 "must be valid handles of those kinds");
    if (gen_opt == disc_opt)
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "the two models need two different optimizers");
    if (grugan__config_copy(&cfg, sizeof cfg, config) != GRUGAN_OK)
        return grugan__error_set(c, err, GRUGAN_E_INVALID,
                                 "config.struct_size is wrong (use GRUGAN_TRAINER_CONFIG_INIT)");
    if ((rc = check_config(c, &cfg, err)) != GRUGAN_OK) return rc;
    grugan__penalties_resolve(&cfg);
    if (!cfg.d_steps) cfg.d_steps = DEFAULT_D_STEPS;
    if (!cfg.batch_size) cfg.batch_size = DEFAULT_BATCH_SIZE;
    if (!cfg.epochs) cfg.epochs = 1;
    /* the weights: 0 takes the default, a negative value switches the term
     * off; from here on 0 means off */
    cfg.label_smoothing = resolve_weight(cfg.label_smoothing, DEFAULT_LABEL_SMOOTHING);
    cfg.feature_matching = resolve_weight(cfg.feature_matching, DEFAULT_FEATURE_MATCHING);
    cfg.moment_matching = resolve_weight(cfg.moment_matching, DEFAULT_MOMENT_MATCHING);
    cfg.difference_matching =
        resolve_weight((float)cfg.difference_matching, DEFAULT_DIFFERENCE_MATCHING);

    grugan_dataset_shape(data, &n, &T, &F, &C);
    grugan_dataset_split(data, &n_train, NULL);
    cfg.instance_noise = resolve_weight(cfg.instance_noise, n_train < SMALL_DATA
                                                                ? DEFAULT_INSTANCE_NOISE_SMALL
                                                                : 0.0f);
    if ((rc = check_handles_agree(c, gen, disc, gen_opt, disc_opt, F, C, err)) != GRUGAN_OK)
        return rc;
    if (cfg.batch_size > n_train)
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "batch_size %zu exceeds the dataset's %zu training sequences",
                                 cfg.batch_size, n_train);
    tr = grugan__calloc(c, 1, sizeof *tr);
    if (!tr) return grugan__error_set(c, err, GRUGAN_E_NOMEM, "cannot allocate the trainer");
    grugan__object_init(&tr->obj, GRUGAN__MAGIC_TRAINER, c);
    tr->cfg = cfg;
    tr->gen = gen;
    tr->disc = disc;
    tr->gen_opt = gen_opt;
    tr->disc_opt = disc_opt;
    tr->data = data;
    tr->B = cfg.batch_size;
    tr->T = T;
    tr->F = F;
    tr->C = C;
    tr->n_sequences = n;
    {
        grugan_generator_config g = GRUGAN_GENERATOR_CONFIG_INIT;
        grugan_generator_get_config(gen, &g);
        tr->noise_seed = g.seed;
    }
    tr->logits = grugan_discriminator_logit_count(disc, T);
    tr->features = grugan_discriminator_feature_count(disc, T);
    if (tr->logits == 0 || tr->features == 0) {
        rc = grugan__error_set(c, err, GRUGAN_E_SIZE,
                               "the discriminator does not take sequences of %zu steps", T);
        goto fail;
    }
    if (cfg.total_steps) {
        tr->total_steps = cfg.total_steps;
    } else {
        uint64_t per_epoch = (uint64_t)(n_train / tr->B) / cfg.d_steps;
        tr->total_steps = cfg.epochs * (per_epoch ? per_epoch : 1);
    }
    if ((rc = allocate_buffers(tr)) != GRUGAN_OK) {
        rc = grugan__error_set(c, err, rc, "cannot allocate the trainer's buffers for batch %zu",
                               tr->B);
        goto fail;
    }
    if ((rc = grugan__penalties_setup(tr, err)) != GRUGAN_OK) goto fail;
    if ((rc = grugan__selection_setup(tr, err)) != GRUGAN_OK) goto fail;
    if ((rc = grugan__shards_setup(tr, err)) != GRUGAN_OK) goto fail;
    if (cfg.threads > 0) {
        const double th = cfg.threads;
        if (grugan_generator_set(gen, GRUGAN_KEY_THREADS, th) != GRUGAN_OK ||
            grugan_discriminator_set(disc, GRUGAN_KEY_THREADS, th) != GRUGAN_OK ||
            grugan_optimizer_set(gen_opt, GRUGAN_KEY_THREADS, th) != GRUGAN_OK ||
            grugan_optimizer_set(disc_opt, GRUGAN_KEY_THREADS, th) != GRUGAN_OK) {
            rc = grugan__error_set(c, err, GRUGAN_E_INTERNAL, "cannot set the thread count");
            goto fail;
        }
    }
    {
        /* the generator samples in data units with the dataset's scaler */
        float *scaler = grugan__calloc(c, 2 * F, sizeof *scaler);
        if (!scaler) {
            rc = grugan__error_set(c, err, GRUGAN_E_NOMEM, "cannot allocate the scaler");
            goto fail;
        }
        grugan_dataset_scaler(data, scaler, scaler + F);
        rc = grugan_generator_set_scaler(gen, scaler, scaler + F);
        grugan__free(c, scaler);
        if (rc != GRUGAN_OK) {
            rc = grugan__error_set(c, err, rc, "generator: %s", grugan_generator_message(gen));
            goto fail;
        }
    }
    tr->progress.struct_size = sizeof tr->progress;
    tr->progress.total_steps = tr->total_steps;
    grugan__trainer_update_finished(tr);
    *out = tr;
    return GRUGAN_OK;

fail:
    release_buffers(tr);
    grugan__free(c, tr);
    return rc;
}

void grugan_trainer_free(grugan_trainer *tr)
{
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return;
    release_buffers(tr);
    tr->obj.magic = GRUGAN__MAGIC_DEAD;
    grugan__free(tr->obj.ctx, tr);
}

const char *grugan_trainer_message(const grugan_trainer *tr)
{
    if (!tr) return "the trainer handle is NULL";
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return "not a trainer handle";
    return tr->obj.message;
}

int grugan_trainer_set_callback(grugan_trainer *tr, grugan_progress_fn fn, void *user)
{
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    tr->callback = fn;
    tr->callback_user = user;
    return GRUGAN_OK;
}

int grugan_trainer_progress(const grugan_trainer *tr, grugan_progress *out)
{
    size_t n;
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER) || !out) return GRUGAN_E_INVALID;
    n = out->struct_size;
    if (n < sizeof(size_t) || n > sizeof *out) return GRUGAN_E_INVALID;
    memcpy(out, &tr->progress, n);
    out->struct_size = n;
    return GRUGAN_OK;
}

/* Mean "D(x)" over the valid logits of rows [0, rows): sigmoid(l) for BCE,
 * l for the other losses. */
float mean_score(const grugan_trainer *tr, const float *logit, const size_t *len, size_t rows)
{
    double sum = 0;
    size_t count = 0;
    for (size_t b = 0; b < rows; b++) {
        const size_t valid = tr->logits == 1 ? 1 : len[b];
        for (size_t t = 0; t < valid; t++) {
            const double l = logit[b * tr->logits + t];
            sum += tr->cfg.loss == GRUGAN_LOSS_BCE ? 1.0 / (1.0 + exp(-l)) : l;
            count++;
        }
    }
    return count ? (float)(sum / (double)count) : 0.0f;
}

/*
 * Instance noise: what the discriminator sees is x + sigma * e, e ~ N(0, 1)
 * drawn afresh for every update from Philox keyed by (the generator's seed,
 * GRUGAN__RNG_INSTANCE, update), update = 2 (step d_steps + k) for
 * discriminator update k of a step and 2 step d_steps + 1 for the
 * generator's, so that a resumed run draws the same noise. The gradient
 * with respect to x is the one with respect to x + sigma e. Fills
 * tr->xn[first, first + rows) and returns it, or returns x itself without
 * instance noise.
 */
const float *with_instance_noise(grugan_trainer *tr, size_t first, size_t rows,
                                 uint64_t update)
{
    const size_t seq = tr->T * tr->F, n = rows * seq;
    const float sigma = tr->cfg.instance_noise;
    float *dst;
    const float *src;
    uint32_t block[4];
    grugan__rng rng;
    if (!tr->xn) return tr->x;
    dst = tr->xn + first * seq;
    src = tr->x + first * seq;
    grugan__rng_block(tr->noise_seed, GRUGAN__RNG_INSTANCE, update, 0, block);
    grugan__rng_init(&rng, (uint64_t)block[0] | (uint64_t)block[1] << 32, GRUGAN__RNG_INSTANCE);
    grugan__rng_fill_normal(&rng, dst, n);
    for (size_t i = 0; i < n; i++) dst[i] = src[i] + sigma * dst[i];
    return tr->xn;
}

/* Lengths for the discriminator and the losses: NULL when every sequence is
 * complete (also what a CONV1D discriminator requires). */
static const size_t *lengths_of(const grugan_trainer *tr, size_t first)
{
    return tr->lengths_vary ? tr->len + first : NULL;
}

/* Relays a failed handle's message into the trainer's. */
int relay(grugan_trainer *tr, int rc, const char *what, const char *detail)
{
    return FAIL(tr, rc, "step %llu: %s failed: %s",
                (unsigned long long)tr->progress.step + 1, what, detail);
}

/* Applies the non-finite policy. Returns GRUGAN_OK to go on without the
 * update (SKIP), or the failure (STOP). */
int non_finite(grugan_trainer *tr, const char *what)
{
    tr->progress.skipped++;
    if (tr->cfg.nonfinite_policy == GRUGAN_NONFINITE_SKIP) return GRUGAN_OK;
    return FAIL(tr, GRUGAN_E_NONFINITE, "step %llu: %s is not finite; no weights were updated",
                (unsigned long long)tr->progress.step + 1, what);
}

/* Clips (when configured) and measures the gradient norm, then updates.
 * *updated tells whether the update happened. */
int clip_and_update(grugan_trainer *tr, grugan_optimizer *opt, const char *who, float *norm,
                    bool *updated)
{
    const float limit = tr->cfg.clip_grad_norm > 0.0f ? tr->cfg.clip_grad_norm : FLT_MAX;
    char what[64];
    int rc = grugan_optimizer_clip_grad_norm(opt, limit, norm);
    *updated = false;
    if (rc == GRUGAN_E_NONFINITE) {
        snprintf(what, sizeof what, "the %s gradient", who);
        return non_finite(tr, what);
    }
    if (rc != GRUGAN_OK) return relay(tr, rc, "gradient clipping", grugan_optimizer_message(opt));
    rc = grugan_optimizer_step(opt);
    if (rc == GRUGAN_E_NONFINITE) {
        snprintf(what, sizeof what, "the %s update", who);
        return non_finite(tr, what);
    }
    if (rc != GRUGAN_OK) return relay(tr, rc, "optimizer step", grugan_optimizer_message(opt));
    *updated = true;
    return GRUGAN_OK;
}

/* One discriminator update (number k of the step) on a fresh real batch and
 * as many fakes. */
static int discriminator_update(grugan_trainer *tr, size_t k)
{
    const size_t B = tr->B, seq = tr->T * tr->F, L = tr->logits;
    const uint64_t update = 2 * (tr->progress.step * tr->cfg.d_steps + k);
    const float *seen;
    float loss_real, loss_fake, penalty;
    bool updated;
    int rc;

    rc = grugan_dataset_next_batch(tr->data, B, tr->x, tr->cond, tr->len, &tr->progress.epoch);
    if (rc != GRUGAN_OK) return relay(tr, rc, "next batch", grugan_dataset_message(tr->data));
    tr->lengths_vary = false;
    for (size_t b = 0; b < B; b++) tr->lengths_vary |= tr->len[b] < tr->T;
    /* the fakes get the real batch's conditions and lengths */
    if (tr->cond) memcpy(tr->cond + B * tr->C, tr->cond, B * tr->C * sizeof(float));
    memcpy(tr->len + B, tr->len, B * sizeof(size_t));
    rc = grugan_generator_forward(tr->gen, B, tr->T, NULL, tr->cond, NULL, tr->x + B * seq);
    if (rc != GRUGAN_OK) return relay(tr, rc, "generator forward", grugan_generator_message(tr->gen));
    seen = with_instance_noise(tr, 0, 2 * B, update);
    rc = grugan_discriminator_forward(tr->disc, 2 * B, tr->T, seen, tr->cond, lengths_of(tr, 0),
                                      tr->logit);
    if (rc != GRUGAN_OK)
        return relay(tr, rc, "discriminator forward", grugan_discriminator_message(tr->disc));
    rc = grugan_loss(tr->cfg.loss, GRUGAN_TARGET_REAL, B, L, tr->logit, lengths_of(tr, 0),
                     tr->cfg.label_smoothing, &loss_real, tr->d_logit);
    if (rc == GRUGAN_OK)
        rc = grugan_loss(tr->cfg.loss, GRUGAN_TARGET_FAKE, B, L, tr->logit + B * L,
                         lengths_of(tr, B), 0.0f, &loss_fake, tr->d_logit + B * L);
    if (rc == GRUGAN_E_NONFINITE) return non_finite(tr, "a discriminator logit");
    if (rc != GRUGAN_OK) return relay(tr, rc, "discriminator loss", grugan_status_string(rc));
    tr->progress.d_loss = loss_real + loss_fake;
    tr->progress.d_real = mean_score(tr, tr->logit, tr->len, B);
    tr->progress.d_fake = mean_score(tr, tr->logit + B * L, tr->len + B, B);
    if (!isfinite(tr->progress.d_loss)) return non_finite(tr, "the discriminator loss");

    grugan_optimizer_zero_grad(tr->disc_opt);
    rc = grugan_discriminator_backward(tr->disc, tr->d_logit, NULL, NULL, GRUGAN_BACKWARD_PARAMS);
    if (rc != GRUGAN_OK)
        return relay(tr, rc, "discriminator backward", grugan_discriminator_message(tr->disc));
    rc = grugan__penalties_add(tr, seen, update, &penalty);
    if (rc == GRUGAN_E_NONFINITE) return non_finite(tr, "a gradient penalty");
    if (rc != GRUGAN_OK) return rc;
    tr->progress.d_loss += penalty;
    rc = clip_and_update(tr, tr->disc_opt, "discriminator", &tr->progress.d_grad_norm, &updated);
    if (rc != GRUGAN_OK || !updated) return rc;
    if (tr->cfg.clip_weights > 0.0f)
        grugan_params_clamp(grugan_discriminator_params(tr->disc), tr->cfg.clip_weights);
    return GRUGAN_OK;
}

/* One generator update through the frozen discriminator. With feature
 * matching the last real batch goes through too (rows [0, B)). */
static int generator_update(grugan_trainer *tr)
{
    const size_t B = tr->B, seq = tr->T * tr->F, L = tr->logits, NF = tr->features;
    const bool fm = tr->feat != NULL;
    const size_t first = fm ? 0 : B, rows = fm ? 2 * B : B;
    const float *seen;
    float loss;
    bool updated;
    int rc;

    rc = grugan_generator_forward(tr->gen, B, tr->T, NULL, tr->cond, NULL, tr->x + B * seq);
    if (rc != GRUGAN_OK) return relay(tr, rc, "generator forward", grugan_generator_message(tr->gen));
    seen = with_instance_noise(tr, B, B, 2 * tr->progress.step * tr->cfg.d_steps + 1);
    rc = grugan_discriminator_forward(tr->disc, rows, tr->T, seen + first * seq,
                                      tr->cond ? tr->cond + first * tr->C : NULL,
                                      lengths_of(tr, first), tr->logit + first * L);
    if (rc != GRUGAN_OK)
        return relay(tr, rc, "discriminator forward", grugan_discriminator_message(tr->disc));
    rc = grugan_loss(tr->cfg.loss, GRUGAN_TARGET_GENERATOR, B, L, tr->logit + B * L,
                     lengths_of(tr, B), 0.0f, &loss, tr->d_logit + B * L);
    if (rc == GRUGAN_E_NONFINITE) return non_finite(tr, "a discriminator logit");
    if (rc != GRUGAN_OK) return relay(tr, rc, "generator loss", grugan_status_string(rc));
    if (fm) {
        const float w = tr->cfg.feature_matching;
        float match;
        memset(tr->d_logit, 0, B * L * sizeof(float));
        rc = grugan_discriminator_features(tr->disc, tr->feat, 2 * B * NF);
        if (rc != GRUGAN_OK)
            return relay(tr, rc, "discriminator features", grugan_discriminator_message(tr->disc));
        rc = grugan_feature_matching(B, B, NF, tr->feat, tr->feat + B * NF, &match,
                                     tr->d_feat + B * NF);
        if (rc == GRUGAN_E_NONFINITE) return non_finite(tr, "a discriminator feature");
        if (rc != GRUGAN_OK) return relay(tr, rc, "feature matching", grugan_status_string(rc));
        memset(tr->d_feat, 0, B * NF * sizeof(float));
        for (size_t i = B * NF; i < 2 * B * NF; i++) tr->d_feat[i] *= w;
        loss += w * match;
    }
    if (tr->d_moment) {
        const float w = tr->cfg.moment_matching;
        float moments;
        rc = grugan_moment_matching(B, B, seq, tr->x, tr->x + B * seq, &moments, tr->d_moment);
        if (rc == GRUGAN_E_NONFINITE) return non_finite(tr, "a generated value");
        if (rc != GRUGAN_OK) return relay(tr, rc, "moment matching", grugan_status_string(rc));
        loss += w * moments;
    }
    if (tr->d_change) {
        const float w = (float)tr->cfg.difference_matching;
        float changes;
        rc = grugan_difference_matching(B, B, tr->T, tr->F, tr->x, tr->x + B * seq, &changes,
                                        tr->d_change);
        if (rc == GRUGAN_E_NONFINITE) return non_finite(tr, "a generated value");
        if (rc != GRUGAN_OK)
            return relay(tr, rc, "difference matching", grugan_status_string(rc));
        loss += w * changes;
    }
    tr->progress.g_loss = loss;
    if (!isfinite(loss)) return non_finite(tr, "the generator loss");

    rc = grugan_discriminator_backward(tr->disc, tr->d_logit + first * L,
                                       fm ? tr->d_feat : NULL, tr->dx + first * seq,
                                       GRUGAN_BACKWARD_INPUT_ONLY);
    if (rc != GRUGAN_OK)
        return relay(tr, rc, "discriminator backward", grugan_discriminator_message(tr->disc));
    if (tr->d_moment)
        for (size_t i = 0; i < B * seq; i++)
            tr->dx[B * seq + i] += tr->cfg.moment_matching * tr->d_moment[i];
    if (tr->d_change)
        for (size_t i = 0; i < B * seq; i++)
            tr->dx[B * seq + i] += (float)tr->cfg.difference_matching * tr->d_change[i];
    grugan_optimizer_zero_grad(tr->gen_opt);
    rc = grugan_generator_backward(tr->gen, tr->dx + B * seq);
    if (rc != GRUGAN_OK)
        return relay(tr, rc, "generator backward", grugan_generator_message(tr->gen));
    return clip_and_update(tr, tr->gen_opt, "generator", &tr->progress.g_grad_norm, &updated);
}

int grugan_trainer_step(grugan_trainer *tr)
{
    double start, spent;
    size_t sequences;
    int rc;
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    start = grugan__now_seconds();
    for (size_t k = 0; k < tr->cfg.d_steps; k++)
        if ((rc = tr->shards > 1 ? grugan__shards_discriminator_update(tr, k)
                                 : discriminator_update(tr, k)) != GRUGAN_OK)
            return rc;
    if ((rc = tr->shards > 1 ? grugan__shards_generator_update(tr) : generator_update(tr)) !=
        GRUGAN_OK)
        return rc;
    tr->progress.step++;
    spent = fmax(grugan__now_seconds() - start, 1e-9);
    sequences = 2 * tr->B * tr->cfg.d_steps + (tr->feat ? 2 : 1) * tr->B;
    tr->progress.samples_per_second = (double)sequences / spent;
    rc = grugan__selection_after_step(tr);
    tr->progress.elapsed_seconds += grugan__now_seconds() - start;
    grugan__trainer_update_finished(tr);
    if (rc != GRUGAN_OK) return rc;
    /* the step that finishes training ranks model selection's candidates */
    if (tr->progress.finished != GRUGAN_FINISHED_NO &&
        (rc = grugan__selection_rank_final(tr)) != GRUGAN_OK)
        return rc;
    if (tr->callback && tr->callback(&tr->progress, tr->callback_user) != 0)
        return FAIL(tr, GRUGAN_E_ABORTED, "stopped by the progress callback after step %llu",
                    (unsigned long long)tr->progress.step);
    return GRUGAN_OK;
}

int grugan_trainer_run(grugan_trainer *tr)
{
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    while (tr->progress.finished == GRUGAN_FINISHED_NO) {
        int rc = grugan_trainer_step(tr);
        if (rc != GRUGAN_OK) return rc;
    }
    return GRUGAN_OK;
}
