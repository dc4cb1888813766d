/*
 * selection.c - the trainer's model selection: every select_every steps a
 * quick quality estimate of the generator (eval/quality.h) against a fixed
 * set of real sequences; the generator of the best estimate so far is kept,
 * and `patience` estimates in a row without a new best finish the training.
 *
 * The real sequences: when the dataset holds at least SELECT_MIN_HOLDOUT
 * sequences out, the estimate's classifier trains on training sequences and
 * is tested on the held-out ones (a fixed split); otherwise it splits all of
 * them 80/20 at random (a series cut into overlapping windows shares all but
 * one step of a held-out window with its neighbours anyway, so a small
 * holdout buys little and costs training data). Each part holds at most
 * SELECT_MAX_REAL sequences, evenly spread.
 */
#include "eval/quality.h"
#include "model/params.h"
#include "train/trainer_internal.h"

#include <math.h>
#include <string.h>

#define FAIL(tr, code, ...) grugan__fail(&(tr)->obj, (code), __VA_ARGS__)

#define DEFAULT_SELECT_EVERY 1000
#define DEFAULT_PATIENCE 30
#define SELECT_MIN_HOLDOUT 50
#define SELECT_MAX_REAL 1000

void grugan__selection_release(grugan_trainer *tr)
{
    const grugan_context *ctx = tr->obj.ctx;
    grugan__free(ctx, tr->sel_real);
    grugan__free(ctx, tr->sel_cond);
    grugan__free(ctx, tr->best);
    tr->sel_real = tr->sel_cond = tr->best = NULL;
    tr->sel_n = 0;
}

/* Whether every sequence of the dataset has all T steps (the estimate
 * compares whole sequences). */
static bool full_length(const grugan_trainer *tr, float *x)
{
    for (size_t i = 0; i < tr->n_sequences; i++) {
        size_t len;
        grugan_dataset_get(tr->data, i, x, NULL, &len);
        if (len < tr->T) return false;
    }
    return true;
}

/* The k-th of `count` items evenly spread over `pool` (count <= pool). */
static size_t spread(size_t k, size_t pool, size_t count)
{
    return (size_t)((double)k * (double)pool / (double)count);
}

/* Copies dataset sequence i (and its condition) into row k of the set. */
static void copy_real(grugan_trainer *tr, size_t i, size_t k)
{
    grugan_dataset_get(tr->data, i, tr->sel_real + k * tr->T * tr->F,
                       tr->sel_cond ? tr->sel_cond + k * tr->C : NULL, NULL);
}

int grugan__selection_setup(grugan_trainer *tr, grugan_error *err)
{
    const grugan_context *c = tr->obj.ctx;
    grugan_trainer_config *cfg = &tr->cfg;
    const bool asked = cfg->select_every > 0;
    const size_t seq = tr->T * tr->F;
    size_t n_train, n_hold, n_fit, n_test, n;

    tr->progress.quality = NAN;
    tr->progress.best_quality = NAN;
    if (!cfg->select_every) cfg->select_every = DEFAULT_SELECT_EVERY;
    if (!cfg->patience) cfg->patience = DEFAULT_PATIENCE;
    if (cfg->select_every < 0) return GRUGAN_OK;

    grugan_dataset_split(tr->data, &n_train, &n_hold);
    if (n_hold >= SELECT_MIN_HOLDOUT) {
        n_fit = n_train < SELECT_MAX_REAL ? n_train : SELECT_MAX_REAL;
        n_test = n_hold < SELECT_MAX_REAL ? n_hold : SELECT_MAX_REAL;
    } else {
        n_fit = tr->n_sequences < SELECT_MAX_REAL ? tr->n_sequences : SELECT_MAX_REAL;
        n_test = 0;
    }
    n = n_fit + n_test;
    if (n < 5) {
        if (!asked) return cfg->select_every = -1, GRUGAN_OK;
        return grugan__error_set(c, err, GRUGAN_E_SIZE,
                                 "model selection needs at least 5 sequences (the dataset has "
                                 "%zu); set select_every negative", tr->n_sequences);
    }
    tr->sel_real = grugan__calloc(c, n, seq * sizeof(float));
    if (tr->C) tr->sel_cond = grugan__calloc(c, n, tr->C * sizeof(float));
    tr->n_gen_params = grugan_params_num_scalars(grugan_generator_params(tr->gen));
    tr->best = grugan__calloc(c, tr->n_gen_params, sizeof(float));
    if (!tr->sel_real || (tr->C && !tr->sel_cond) || !tr->best) {
        grugan__selection_release(tr);
        return grugan__error_set(c, err, GRUGAN_E_NOMEM,
                                 "cannot allocate model selection's %zu real sequences", n);
    }
    if (!full_length(tr, tr->sel_real)) {
        grugan__selection_release(tr);
        if (!asked) return cfg->select_every = -1, GRUGAN_OK;
        return grugan__error_set(c, err, GRUGAN_E_UNSUPPORTED,
                                 "model selection compares whole sequences: the dataset has "
                                 "sequences shorter than %zu steps; set select_every negative",
                                 tr->T);
    }
    {
        /* the fitting part: n_fit sequences evenly spread over the training
         * ones in index order (over all of them without a fixed split),
         * then the test part: n_test evenly spread over the held-out ones */
        const size_t pool = n_test ? n_train : tr->n_sequences;
        size_t hold = 0, hold_index = SIZE_MAX, k = 0;
        if (n_test) grugan_dataset_holdout_index(tr->data, 0, &hold_index);
        for (size_t i = 0, rank = 0; i < tr->n_sequences && k < n_fit; i++) {
            if (i == hold_index) {
                if (grugan_dataset_holdout_index(tr->data, ++hold, &hold_index) != GRUGAN_OK)
                    hold_index = SIZE_MAX;
                continue;
            }
            if (rank++ == spread(k, pool, n_fit)) copy_real(tr, i, k++);
        }
        for (k = 0; k < n_test; k++) {
            size_t index = 0;
            grugan_dataset_holdout_index(tr->data, spread(k, n_hold, n_test), &index);
            copy_real(tr, index, n_fit + k);
        }
    }
    tr->sel_test = n_test;
    tr->sel_n = n;
    return GRUGAN_OK;
}

/* The quick estimate of the current generator against the real set, on the
 * trainer's threads. */
static int quick_estimate(grugan_trainer *tr, double *q, grugan_error *err)
{
    grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
    mc.threads = tr->cfg.threads > 0 ? tr->cfg.threads : 1;
    return grugan__generator_quality((grugan_context *)tr->obj.ctx, tr->gen, &mc, tr->sel_real,
                                     tr->sel_cond, tr->sel_n, tr->sel_test, tr->T, q, err);
}

/* One estimate of the current generator; a new best is kept. */
static int estimate(grugan_trainer *tr)
{
    grugan_params *gp = grugan_generator_params(tr->gen);
    grugan_error err;
    double q;
    int rc = quick_estimate(tr, &q, &err);
    if (rc != GRUGAN_OK)
        return FAIL(tr, rc, "step %llu: model selection: %s",
                    (unsigned long long)tr->progress.step, err.message);
    tr->progress.evaluations++;
    tr->progress.quality = q;
    /* ties go to the later generator: it has trained longer, and a briefly
     * trained classifier often gives several checkpoints the same estimate;
     * but only a lower estimate is progress for the patience (on tiny data
     * the estimates repeat, and equal ones would never finish the run) */
    if (isnan(tr->progress.best_quality) || q <= tr->progress.best_quality) {
        const bool lower = isnan(tr->progress.best_quality) || q < tr->progress.best_quality;
        tr->progress.best_quality = q;
        tr->progress.best_step = tr->progress.step;
        tr->since_best = lower ? 0 : tr->since_best + 1;
        grugan_params_read_all(gp, tr->best, tr->n_gen_params);
    } else {
        tr->since_best++;
    }
    return GRUGAN_OK;
}

int grugan__selection_after_step(grugan_trainer *tr)
{
    if (!tr->sel_n || tr->progress.step % (uint64_t)tr->cfg.select_every != 0) return GRUGAN_OK;
    return estimate(tr);
}

void grugan__trainer_update_finished(grugan_trainer *tr)
{
    const grugan_trainer_config *cfg = &tr->cfg;
    grugan_progress *p = &tr->progress;
    if (p->step >= tr->total_steps)
        p->finished = GRUGAN_FINISHED_STEPS;
    else if (cfg->max_seconds > 0.0 && p->elapsed_seconds >= cfg->max_seconds)
        p->finished = GRUGAN_FINISHED_TIME;
    else if (tr->sel_n && cfg->patience > 0 && tr->since_best >= (uint64_t)cfg->patience)
        p->finished = GRUGAN_FINISHED_PATIENCE;
    else
        p->finished = GRUGAN_FINISHED_NO;
}

/* ---- public ------------------------------------------------------------- */

int grugan_trainer_best_params(const grugan_trainer *tr, float *dst, size_t count)
{
    grugan__object *obj = (grugan__object *)tr;
    grugan_params *gp;
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(obj);
    gp = grugan_generator_params(tr->gen);
    if (!dst) return grugan__fail(obj, GRUGAN_E_INVALID, "dst is NULL");
    if (count != grugan_params_num_scalars(gp))
        return grugan__fail(obj, GRUGAN_E_SIZE, "count is %zu, the generator has %zu parameters",
                            count, grugan_params_num_scalars(gp));
    if (grugan__selection_has_best(tr))
        memcpy(dst, tr->best, count * sizeof *dst);
    else
        grugan_params_read_all(gp, dst, count);
    return GRUGAN_OK;
}

int grugan_trainer_restore_best(grugan_trainer *tr)
{
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (!grugan__selection_has_best(tr)) return GRUGAN_OK;
    return grugan_params_write_all(grugan_generator_params(tr->gen), tr->best, tr->n_gen_params);
}

int grugan_trainer_estimate(grugan_trainer *tr, double *quality)
{
    grugan_error err;
    int rc;
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (!quality) return FAIL(tr, GRUGAN_E_INVALID, "quality is NULL");
    if (!tr->sel_n) return FAIL(tr, GRUGAN_E_STATE, "model selection is off for this trainer");
    rc = quick_estimate(tr, quality, &err);
    if (rc != GRUGAN_OK) return FAIL(tr, rc, "%s", err.message);
    return GRUGAN_OK;
}

int grugan_trainer_export(grugan_trainer *tr, const char *path)
{
    grugan_params *gp;
    float *current;
    int rc;
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (!path) return FAIL(tr, GRUGAN_E_INVALID, "path is NULL");
    if (!grugan__selection_has_best(tr)) {
        rc = grugan_generator_save(tr->gen, path);
        return rc == GRUGAN_OK ? rc : FAIL(tr, rc, "%s", grugan_generator_message(tr->gen));
    }
    /* the best weights go into the generator for the save, then back */
    gp = grugan_generator_params(tr->gen);
    current = grugan__alloc(tr->obj.ctx, tr->n_gen_params * sizeof *current);
    if (!current) return FAIL(tr, GRUGAN_E_NOMEM, "cannot allocate a copy of the generator");
    grugan_params_read_all(gp, current, tr->n_gen_params);
    grugan_params_write_all(gp, tr->best, tr->n_gen_params);
    rc = grugan_generator_save(tr->gen, path);
    if (rc != GRUGAN_OK) FAIL(tr, rc, "%s", grugan_generator_message(tr->gen));
    grugan_params_write_all(gp, current, tr->n_gen_params);
    grugan__free(tr->obj.ctx, current);
    return rc;
}
