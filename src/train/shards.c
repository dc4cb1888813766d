/*
 * shards.c - data-parallel training: the trainer's step over S fixed shards
 * of the global batch, the reduction hook, and the batch statistics of
 * moment and difference matching combined from per-shard sums
 * (docs/SCALING.md).
 *
 * Shard s holds rows [s b, (s+1) b) of the global batch of B = S b rows
 * (real and generated alike; generated row i has the noise of sample
 * position + i, as in the one-batch step). Each shard's gradient is computed
 * by a forward and backward of its own rows only, with the loss scaled by
 * 1/S, and written into slot s of a buffer of S slots; the worker that owns
 * a shard fills its slot, the others leave it zero. The reducer sums the
 * buffers of all workers: every element has one non-zero contribution at
 * most, so whatever order the reducer adds in, the sum is that contribution
 * exactly (zeros are written as +0, which makes -0 + 0 = +0 no exception).
 * Every worker then adds the S slots in shard order, so the gradient is the
 * same bits for 1, 2, ... S workers.
 *
 * Statistics travel the same way: per shard and column the double sums of
 * v and v^2 (v a value, or a step-to-step change), each written as two
 * floats hi + lo (hi = (float)d, lo = (float)(d - hi): 48 significant bits),
 * added in shard order in double after the reduction.
 */
#include "model/params.h"
#include "train/loss.h"
#include "train/trainer_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define FAIL(tr, code, ...) grugan__fail(&(tr)->obj, (code), __VA_ARGS__)

/* Most shards of a global batch. */
#define MAX_SHARDS 4096

/* Terms after a discriminator slot's gradients: the flag, the losses on
 * real and generated rows, the mean scores D(real) and D(fake). */
enum { D_FLAG, D_LOSS_REAL, D_LOSS_FAKE, D_REAL, D_FAKE, D_TERMS };
/* After a generator slot's gradients: the flag and the adversarial loss. */
enum { G_FLAG, G_LOSS, G_TERMS };
/* A slot's flag: what went wrong in the shard (0: nothing). */
enum { FLAG_LOGIT = 1, FLAG_VALUE = 2 };

int grugan__shards_check_config(const grugan_context *ctx, const grugan_trainer_config *c,
                                grugan_error *err)
{
    if (c->shards < 0 || c->shards > MAX_SHARDS)
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "shards %lld outside 0..%d",
                                 (long long)c->shards, MAX_SHARDS);
    return GRUGAN_OK;
}

void grugan__shards_release(grugan_trainer *tr)
{
    const grugan_context *ctx = tr->obj.ctx;
    grugan__free(ctx, tr->slots);
    grugan__free(ctx, tr->sh_x);
    grugan__free(ctx, tr->sh_cond);
    grugan__free(ctx, tr->sh_len);
    grugan__free(ctx, tr->sh_moments);
    grugan__free(ctx, tr->sh_changes);
    tr->slots = tr->sh_x = tr->sh_cond = NULL;
    tr->sh_len = NULL;
    tr->sh_moments = tr->sh_changes = NULL;
}

/* Columns of moment and difference matching (0 when off). */
static size_t moment_columns(const grugan_trainer *tr)
{
    return tr->d_moment ? tr->T * tr->F : 0;
}
static size_t change_columns(const grugan_trainer *tr)
{
    return tr->d_change ? (tr->T - 1) * tr->F : 0;
}

int grugan__shards_setup(grugan_trainer *tr, grugan_error *err)
{
    const grugan_context *ctx = tr->obj.ctx;
    const size_t S = tr->cfg.shards > 1 ? (size_t)tr->cfg.shards : 1;
    size_t slot, b, seq = tr->T * tr->F, total;
    tr->shards = S;
    tr->shard_rows = tr->B / S;
    tr->shard_first = 0;
    tr->shard_count = S;
    if (S == 1) return GRUGAN_OK;
    if (tr->B % S)
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE,
                                 "batch_size %zu is not a multiple of shards %zu", tr->B, S);
    if (tr->cfg.feature_matching > 0.0f || tr->cfg.gradient_penalty > 0.0f ||
        tr->cfg.r1_gamma > 0.0f || tr->cfg.r2_gamma > 0.0f)
        return grugan__error_set(ctx, err, GRUGAN_E_UNSUPPORTED,
                                 "feature matching and the gradient penalties are not "
                                 "available with shards (%zu)",
                                 S);
    b = tr->shard_rows;
    tr->slot_disc = grugan_params_num_scalars(grugan_discriminator_params(tr->disc)) + D_TERMS;
    tr->slot_gen = grugan_params_num_scalars(grugan_generator_params(tr->gen)) + G_TERMS;
    tr->slot_stats = 1 + 8 * (moment_columns(tr) + change_columns(tr));
    slot = tr->slot_disc > tr->slot_gen ? tr->slot_disc : tr->slot_gen;
    if (tr->slot_stats > slot) slot = tr->slot_stats;
    if (!grugan__mul_size(S, slot, &total))
        return grugan__error_set(ctx, err, GRUGAN_E_SIZE, "the shard slots overflow");
    tr->slots = grugan__calloc(ctx, total, sizeof(float));
    tr->sh_x = grugan__calloc(ctx, 2 * b * seq, sizeof(float));
    tr->sh_len = grugan__calloc(ctx, 2 * b, sizeof(size_t));
    if (tr->C) tr->sh_cond = grugan__calloc(ctx, 2 * b * tr->C, sizeof(float));
    if (moment_columns(tr))
        tr->sh_moments = grugan__calloc(ctx, 4 * moment_columns(tr), sizeof(double));
    if (change_columns(tr))
        tr->sh_changes = grugan__calloc(ctx, 4 * change_columns(tr), sizeof(double));
    if (!tr->slots || !tr->sh_x || !tr->sh_len || (tr->C && !tr->sh_cond) ||
        (moment_columns(tr) && !tr->sh_moments) || (change_columns(tr) && !tr->sh_changes))
        return grugan__error_set(ctx, err, GRUGAN_E_NOMEM,
                                 "cannot allocate the buffers of %zu shards", S);
    return GRUGAN_OK;
}

int grugan_trainer_set_reducer(grugan_trainer *tr, int64_t rank, int64_t world,
                               grugan_reduce_fn fn, void *user)
{
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (world < 1 || (uint64_t)world > tr->shards)
        return FAIL(tr, GRUGAN_E_RANGE, "world %lld outside 1..shards (%zu)", (long long)world,
                    tr->shards);
    if (rank < 0 || rank >= world)
        return FAIL(tr, GRUGAN_E_RANGE, "rank %lld outside 0..%lld", (long long)rank,
                    (long long)world - 1);
    if (!fn && world > 1)
        return FAIL(tr, GRUGAN_E_INVALID, "a world of %lld workers needs a reducer",
                    (long long)world);
    tr->reduce = fn;
    tr->reduce_user = user;
    /* shards [rank S / world, (rank + 1) S / world) */
    tr->shard_first = (size_t)rank * tr->shards / (size_t)world;
    tr->shard_count = (size_t)(rank + 1) * tr->shards / (size_t)world - tr->shard_first;
    return GRUGAN_OK;
}

/* Copies n floats into a slot, zeros as +0. */
static void put(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = src[i] + 0.0f;
}

/* Sums the slots of every worker through the reducer (nothing to do for one
 * worker). */
static int reduce(grugan_trainer *tr, size_t slot, int32_t what)
{
    int rc;
    if (!tr->reduce) return GRUGAN_OK;
    rc = tr->reduce(tr->slots, tr->shards * slot, what, tr->reduce_user);
    if (rc != 0)
        return FAIL(tr, GRUGAN_E_ABORTED,
                    "step %llu: the reducer stopped the step (it returned %d); no weights were "
                    "updated",
                    (unsigned long long)tr->progress.step + 1, rc);
    return GRUGAN_OK;
}

/* The model's gradient: the first n floats of the S slots added in shard
 * order. */
static void sum_slots(const grugan_trainer *tr, size_t slot, size_t n, float *grad)
{
    memcpy(grad, tr->slots, n * sizeof(float));
    for (size_t s = 1; s < tr->shards; s++) {
        const float *g = tr->slots + s * slot;
        for (size_t i = 0; i < n; i++) grad[i] += g[i];
    }
}

/* Runs the generator on shard s's b rows (its noise: samples position + s b)
 * into the generated half of tr->x. */
static int generate_shard(grugan_trainer *tr, uint64_t position, size_t s)
{
    const size_t B = tr->B, b = tr->shard_rows, row = B + s * b;
    int rc = grugan_generator_set_noise_position(tr->gen, position + s * b);
    if (rc == GRUGAN_OK)
        rc = grugan_generator_forward(tr->gen, b, tr->T, NULL,
                                      tr->cond ? tr->cond + row * tr->C : NULL, NULL,
                                      tr->x + row * tr->T * tr->F);
    if (rc != GRUGAN_OK)
        return grugan__trainer_relay(tr, rc, "generator forward",
                                     grugan_generator_message(tr->gen));
    return GRUGAN_OK;
}

static void put_double(float *hi, float *lo, double d)
{
    const float h = (float)d;
    *hi = h + 0.0f;
    *lo = (float)(d - (double)h) + 0.0f;
}

void grugan__shard_sums(const float *x, size_t n, size_t stride, size_t dim, size_t lag,
                        float *out)
{
    for (size_t j = 0; j < dim; j++) {
        double s1 = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) {
            const double v = grugan__column_value(x + i * stride, j, lag);
            s1 += v;
            s2 += v * v;
        }
        put_double(out + j, out + dim + j, s1);
        put_double(out + 2 * dim + j, out + 3 * dim + j, s2);
    }
}

void grugan__shard_moments(const float *sums, size_t shards, size_t slot, size_t n, size_t dim,
                           double *mean, double *sd)
{
    for (size_t j = 0; j < dim; j++) {
        double s1 = 0, s2 = 0, m, var;
        for (size_t s = 0; s < shards; s++) {
            const float *p = sums + s * slot;
            s1 += (double)p[j] + (double)p[dim + j];
            s2 += (double)p[2 * dim + j] + (double)p[3 * dim + j];
        }
        m = s1 / (double)n;
        var = s2 / (double)n - m * m;
        mean[j] = m;
        sd[j] = sqrt((var > 0 ? var : 0) + 1e-6);
    }
}

double grugan__shard_match(const double *moments, size_t n_fake, size_t dim, size_t lag,
                           const float *fake, size_t rows, size_t stride, float *d_fake)
{
    const double *mr = moments, *sr = moments + dim, *mf = moments + 2 * dim,
                 *sf = moments + 3 * dim;
    double sum = 0;
    for (size_t j = 0; j < dim; j++) sum += fabs(sr[j] - sf[j]) + fabs(mr[j] - mf[j]);
    if (!d_fake) return sum / (double)dim;
    if (lag) memset(d_fake, 0, rows * stride * sizeof *d_fake);
    grugan__moment_gradient(mr, sr, mf, sf, n_fake, dim, lag, 0, dim, fake, rows, stride, d_fake);
    return sum / (double)dim;
}

/* The flag of the first shard that has one (0: none). */
static float first_flag(const grugan_trainer *tr, size_t slot, size_t at)
{
    for (size_t s = 0; s < tr->shards; s++)
        if (tr->slots[s * slot + at] != 0.0f) return tr->slots[s * slot + at];
    return 0.0f;
}

/* Slot layout of the statistics: the flag, then for moment matching the
 * sums of the real rows, of the generated rows (4 dm each), then likewise
 * for difference matching (4 dc each). */
static int statistics(grugan_trainer *tr, bool *skip)
{
    const size_t B = tr->B, b = tr->shard_rows, seq = tr->T * tr->F, slot = tr->slot_stats;
    const size_t dm = moment_columns(tr), dc = change_columns(tr);
    int rc;
    if (!dm && !dc) return GRUGAN_OK;
    memset(tr->slots, 0, tr->shards * slot * sizeof(float));
    for (size_t s = tr->shard_first; s < tr->shard_first + tr->shard_count; s++) {
        const float *real = tr->x + s * b * seq, *fake = tr->x + (B + s * b) * seq;
        float *p = tr->slots + s * slot;
        if (!grugan__all_finite(real, b * seq) || !grugan__all_finite(fake, b * seq)) {
            p[0] = FLAG_VALUE;
            continue;
        }
        p++;
        if (dm) {
            grugan__shard_sums(real, b, seq, dm, 0, p);
            grugan__shard_sums(fake, b, seq, dm, 0, p + 4 * dm);
            p += 8 * dm;
        }
        if (dc) {
            grugan__shard_sums(real, b, seq, dc, tr->F, p);
            grugan__shard_sums(fake, b, seq, dc, tr->F, p + 4 * dc);
        }
    }
    if ((rc = reduce(tr, slot, GRUGAN_REDUCE_STATISTICS)) != GRUGAN_OK) return rc;
    if (first_flag(tr, slot, 0) != 0.0f) {
        *skip = true;
        return grugan__trainer_non_finite(tr, "a generated value");
    }
    if (dm) {
        const float *p = tr->slots + 1;
        double *m = tr->sh_moments;
        grugan__shard_moments(p, tr->shards, slot, B, dm, m, m + dm);
        grugan__shard_moments(p + 4 * dm, tr->shards, slot, B, dm, m + 2 * dm, m + 3 * dm);
    }
    if (dc) {
        const float *p = tr->slots + 1 + 8 * dm;
        double *m = tr->sh_changes;
        grugan__shard_moments(p, tr->shards, slot, B, dc, m, m + dc);
        grugan__shard_moments(p + 4 * dc, tr->shards, slot, B, dc, m + 2 * dc, m + 3 * dc);
    }
    return GRUGAN_OK;
}

int grugan__shards_discriminator_update(grugan_trainer *tr, size_t k)
{
    const size_t B = tr->B, b = tr->shard_rows, seq = tr->T * tr->F, L = tr->logits;
    const size_t C = tr->C, slot = tr->slot_disc, P = slot - D_TERMS;
    const uint64_t update = 2 * (tr->progress.step * tr->cfg.d_steps + k);
    const float scale = 1.0f / (float)tr->shards;
    grugan_params *params = grugan_discriminator_params(tr->disc);
    const float *seen;
    uint64_t position;
    double d_loss = 0, d_real = 0, d_fake = 0;
    bool updated;
    int rc;

    rc = grugan_dataset_next_batch(tr->data, B, tr->x, tr->cond, tr->len, &tr->progress.epoch);
    if (rc != GRUGAN_OK)
        return grugan__trainer_relay(tr, rc, "next batch", grugan_dataset_message(tr->data));
    tr->lengths_vary = false;
    for (size_t i = 0; i < B; i++) tr->lengths_vary |= tr->len[i] < tr->T;
    if (tr->cond) memcpy(tr->cond + B * C, tr->cond, B * C * sizeof(float));
    memcpy(tr->len + B, tr->len, B * sizeof(size_t));
    grugan_generator_noise_position(tr->gen, &position);
    for (size_t s = tr->shard_first; s < tr->shard_first + tr->shard_count; s++)
        if ((rc = generate_shard(tr, position, s)) != GRUGAN_OK) return rc;
    grugan_generator_set_noise_position(tr->gen, position + B);
    seen = grugan__trainer_instance_noise(tr, 0, 2 * B, update);

    memset(tr->slots, 0, tr->shards * slot * sizeof(float));
    for (size_t s = tr->shard_first; s < tr->shard_first + tr->shard_count; s++) {
        float *p = tr->slots + s * slot, loss_real, loss_fake;
        const size_t *len = tr->lengths_vary ? tr->sh_len : NULL;
        memcpy(tr->sh_x, seen + s * b * seq, b * seq * sizeof(float));
        memcpy(tr->sh_x + b * seq, seen + (B + s * b) * seq, b * seq * sizeof(float));
        memcpy(tr->sh_len, tr->len + s * b, b * sizeof(size_t));
        memcpy(tr->sh_len + b, tr->len + s * b, b * sizeof(size_t));
        if (C) {
            memcpy(tr->sh_cond, tr->cond + s * b * C, b * C * sizeof(float));
            memcpy(tr->sh_cond + b * C, tr->cond + s * b * C, b * C * sizeof(float));
        }
        rc = grugan_discriminator_forward(tr->disc, 2 * b, tr->T, tr->sh_x, tr->sh_cond, len,
                                          tr->logit);
        if (rc != GRUGAN_OK)
            return grugan__trainer_relay(tr, rc, "discriminator forward",
                                         grugan_discriminator_message(tr->disc));
        rc = grugan_loss(tr->cfg.loss, GRUGAN_TARGET_REAL, b, L, tr->logit, len,
                         tr->cfg.label_smoothing, &loss_real, tr->d_logit);
        if (rc == GRUGAN_OK)
            rc = grugan_loss(tr->cfg.loss, GRUGAN_TARGET_FAKE, b, L, tr->logit + b * L,
                             len ? len + b : NULL, 0.0f, &loss_fake, tr->d_logit + b * L);
        if (rc == GRUGAN_E_NONFINITE) {
            p[P + D_FLAG] = FLAG_LOGIT;
            continue;
        }
        if (rc != GRUGAN_OK)
            return grugan__trainer_relay(tr, rc, "discriminator loss", grugan_status_string(rc));
        for (size_t i = 0; i < 2 * b * L; i++) tr->d_logit[i] *= scale;
        grugan_params_zero_grad(params);
        rc = grugan_discriminator_backward(tr->disc, tr->d_logit, NULL, NULL,
                                           GRUGAN_BACKWARD_PARAMS);
        if (rc != GRUGAN_OK)
            return grugan__trainer_relay(tr, rc, "discriminator backward",
                                         grugan_discriminator_message(tr->disc));
        put(p, params->grads, P);
        p[P + D_LOSS_REAL] = loss_real + 0.0f;
        p[P + D_LOSS_FAKE] = loss_fake + 0.0f;
        p[P + D_REAL] = grugan__trainer_mean_score(tr, tr->logit, tr->sh_len, b) + 0.0f;
        p[P + D_FAKE] = grugan__trainer_mean_score(tr, tr->logit + b * L, tr->sh_len + b, b) + 0.0f;
    }
    if ((rc = reduce(tr, slot, GRUGAN_REDUCE_DISCRIMINATOR)) != GRUGAN_OK) return rc;
    if (first_flag(tr, slot, P + D_FLAG) != 0.0f)
        return grugan__trainer_non_finite(tr, "a discriminator logit");
    for (size_t s = 0; s < tr->shards; s++) {
        const float *p = tr->slots + s * slot + P;
        d_loss += (double)p[D_LOSS_REAL] + (double)p[D_LOSS_FAKE];
        d_real += p[D_REAL];
        d_fake += p[D_FAKE];
    }
    tr->progress.d_loss = (float)(d_loss / (double)tr->shards);
    tr->progress.d_real = (float)(d_real / (double)tr->shards);
    tr->progress.d_fake = (float)(d_fake / (double)tr->shards);
    if (!isfinite(tr->progress.d_loss))
        return grugan__trainer_non_finite(tr, "the discriminator loss");
    sum_slots(tr, slot, P, params->grads);
    rc = grugan__trainer_clip_and_update(tr, tr->disc_opt, "discriminator",
                                         &tr->progress.d_grad_norm, &updated);
    if (rc != GRUGAN_OK || !updated) return rc;
    if (tr->cfg.clip_weights > 0.0f) grugan_params_clamp(params, tr->cfg.clip_weights);
    return GRUGAN_OK;
}

int grugan__shards_generator_update(grugan_trainer *tr)
{
    const size_t B = tr->B, b = tr->shard_rows, seq = tr->T * tr->F, L = tr->logits;
    const size_t C = tr->C, slot = tr->slot_gen, P = slot - G_TERMS;
    const size_t dm = moment_columns(tr), dc = change_columns(tr);
    const float scale = 1.0f / (float)tr->shards;
    grugan_params *params = grugan_generator_params(tr->gen);
    const float *seen;
    uint64_t position;
    double loss = 0, moments = 0, changes = 0;
    int rc;
    bool updated, skip = false;

    /* the generated rows of every owned shard, then the batch statistics */
    grugan_generator_noise_position(tr->gen, &position);
    for (size_t s = tr->shard_first; s < tr->shard_first + tr->shard_count; s++)
        if ((rc = generate_shard(tr, position, s)) != GRUGAN_OK) goto done;
    if ((rc = statistics(tr, &skip)) != GRUGAN_OK || skip) goto done;
    seen = grugan__trainer_instance_noise(tr, B, B, 2 * tr->progress.step * tr->cfg.d_steps + 1);
    if (dm) moments = grugan__shard_match(tr->sh_moments, B, dm, 0, NULL, 0, seq, NULL);
    if (dc) changes = grugan__shard_match(tr->sh_changes, B, dc, tr->F, NULL, 0, seq, NULL);

    memset(tr->slots, 0, tr->shards * slot * sizeof(float));
    for (size_t s = tr->shard_first; s < tr->shard_first + tr->shard_count; s++) {
        const size_t row = B + s * b;
        const size_t *len = tr->lengths_vary ? tr->len + row : NULL;
        float *p = tr->slots + s * slot, g_loss;
        /* the generator's backward needs this shard's forward last */
        if (tr->shard_count > 1 && (rc = generate_shard(tr, position, s)) != GRUGAN_OK) goto done;
        rc = grugan_discriminator_forward(tr->disc, b, tr->T, seen + row * seq,
                                          tr->cond ? tr->cond + row * C : NULL, len, tr->logit);
        if (rc != GRUGAN_OK) {
            rc = grugan__trainer_relay(tr, rc, "discriminator forward",
                                       grugan_discriminator_message(tr->disc));
            goto done;
        }
        rc = grugan_loss(tr->cfg.loss, GRUGAN_TARGET_GENERATOR, b, L, tr->logit, len, 0.0f,
                         &g_loss, tr->d_logit);
        if (rc == GRUGAN_E_NONFINITE) {
            p[P + G_FLAG] = FLAG_LOGIT;
            continue;
        }
        if (rc != GRUGAN_OK) {
            rc = grugan__trainer_relay(tr, rc, "generator loss", grugan_status_string(rc));
            goto done;
        }
        for (size_t i = 0; i < b * L; i++) tr->d_logit[i] *= scale;
        rc = grugan_discriminator_backward(tr->disc, tr->d_logit, NULL, tr->dx,
                                           GRUGAN_BACKWARD_INPUT_ONLY);
        if (rc != GRUGAN_OK) {
            rc = grugan__trainer_relay(tr, rc, "discriminator backward",
                                       grugan_discriminator_message(tr->disc));
            goto done;
        }
        if (dm) {
            grugan__shard_match(tr->sh_moments, B, dm, 0, tr->x + row * seq, b, seq, tr->d_moment);
            for (size_t i = 0; i < b * seq; i++)
                tr->dx[i] += tr->cfg.moment_matching * tr->d_moment[i];
        }
        if (dc) {
            grugan__shard_match(tr->sh_changes, B, dc, tr->F, tr->x + row * seq, b, seq,
                                tr->d_change);
            for (size_t i = 0; i < b * seq; i++)
                tr->dx[i] += (float)tr->cfg.difference_matching * tr->d_change[i];
        }
        grugan_params_zero_grad(params);
        rc = grugan_generator_backward(tr->gen, tr->dx);
        if (rc != GRUGAN_OK) {
            rc = grugan__trainer_relay(tr, rc, "generator backward",
                                       grugan_generator_message(tr->gen));
            goto done;
        }
        put(p, params->grads, P);
        p[P + G_LOSS] = g_loss + 0.0f;
    }
    grugan_generator_set_noise_position(tr->gen, position + B);
    if ((rc = reduce(tr, slot, GRUGAN_REDUCE_GENERATOR)) != GRUGAN_OK) return rc;
    if (first_flag(tr, slot, P + G_FLAG) != 0.0f)
        return grugan__trainer_non_finite(tr, "a discriminator logit");
    for (size_t s = 0; s < tr->shards; s++) loss += tr->slots[s * slot + P + G_LOSS];
    tr->progress.g_loss = (float)(loss / (double)tr->shards + tr->cfg.moment_matching * moments +
                                  tr->cfg.difference_matching * changes);
    if (!isfinite(tr->progress.g_loss)) return grugan__trainer_non_finite(tr, "the generator loss");
    sum_slots(tr, slot, P, params->grads);
    return grugan__trainer_clip_and_update(tr, tr->gen_opt, "generator",
                                           &tr->progress.g_grad_norm, &updated);
done:
    grugan_generator_set_noise_position(tr->gen, position + B);
    return rc;
}
