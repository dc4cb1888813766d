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
 *
 * The final ranking: the quick estimate saturates near convergence (its
 * briefly trained classifier no longer tells good generators apart), so the
 * best `keep` generators by the quick estimate are kept as candidates and,
 * when training finishes, scored again with the fuller estimate
 * (FINAL_ITERATIONS instead of the quick estimate's 500); the lowest of
 * those is the kept generator.
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
#define DEFAULT_FINAL_CANDIDATES 3
#define FINAL_REPETITIONS 4
#define FINAL_ITERATIONS 2000
/* A final estimate costs this many quick ones (the same sequences, more
 * classifier iterations): what the clock reserves per unscored candidate. */
#define FINAL_COST ((double)(FINAL_REPETITIONS * FINAL_ITERATIONS) / \
                    (double)(GRUGAN__QUALITY_REPETITIONS * GRUGAN__QUALITY_ITERATIONS))

void grugan__selection_release(grugan_trainer *tr)
{
    const grugan_context *ctx = tr->obj.ctx;
    grugan__free(ctx, tr->sel_real);
    grugan__free(ctx, tr->sel_cond);
    grugan__free(ctx, tr->cand);
    grugan__free(ctx, tr->cand_params);
    grugan__free(ctx, tr->scratch_params);
    tr->sel_real = tr->sel_cond = tr->cand_params = tr->scratch_params = NULL;
    tr->cand = NULL;
    tr->sel_n = tr->n_cand = 0;
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
    tr->progress.final_quality = NAN;
    if (!cfg->select_every) cfg->select_every = DEFAULT_SELECT_EVERY;
    if (!cfg->patience) cfg->patience = DEFAULT_PATIENCE;
    if (!cfg->final_candidates) cfg->final_candidates = DEFAULT_FINAL_CANDIDATES;
    if (cfg->final_candidates < 1) cfg->final_candidates = 1;
    tr->keep = (size_t)cfg->final_candidates;
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
    tr->cand = grugan__calloc(c, tr->keep, sizeof *tr->cand);
    tr->cand_params = grugan__calloc(c, tr->keep, tr->n_gen_params * sizeof(float));
    tr->scratch_params = grugan__calloc(c, tr->n_gen_params, sizeof(float));
    if (!tr->sel_real || (tr->C && !tr->sel_cond) || !tr->cand || !tr->cand_params ||
        !tr->scratch_params) {
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

/* An estimate of the current generator against the real set, on the
 * trainer's threads: the quick one (the defaults of grugan_generator_quality)
 * or the final ranking's fuller one. */
static int estimate_with(grugan_trainer *tr, bool final, double *q, grugan_error *err)
{
    grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
    mc.threads = tr->cfg.threads > 0 ? tr->cfg.threads : 1;
    if (final) {
        mc.repetitions = FINAL_REPETITIONS;
        mc.iterations = FINAL_ITERATIONS;
    }
    return grugan__generator_quality((grugan_context *)tr->obj.ctx, tr->gen, &mc, tr->sel_real,
                                     tr->sel_cond, tr->sel_n, tr->sel_test, tr->T, q, err);
}

static int quick_estimate(grugan_trainer *tr, double *q, grugan_error *err)
{
    return estimate_with(tr, false, q, err);
}

/* Shows the kept candidate in the progress: the final ranking's choice while
 * it holds, else the best quick estimate's (candidate 0). */
static void show_kept(grugan_trainer *tr)
{
    tr->progress.best_step = tr->n_cand ? tr->cand[0].step : 0;
    tr->progress.final_quality = tr->ranked ? tr->cand[tr->kept].final : NAN;
    tr->progress.final_step = tr->ranked ? tr->cand[tr->kept].step : 0;
}

/* Enters the current generator (estimate q) among the candidates, at its
 * place in their order: after every lower estimate, before equal ones (the
 * later generator first); the last drops out when all `keep` are held.
 * Returns whether it entered. */
static bool enter_candidate(grugan_trainer *tr, double q)
{
    const size_t n = tr->n_gen_params;
    size_t at = 0, moved;
    while (at < tr->n_cand && tr->cand[at].quality < q) at++;
    if (at == tr->keep) return false;
    moved = (tr->n_cand < tr->keep ? tr->n_cand : tr->keep - 1) - at;
    memmove(tr->cand + at + 1, tr->cand + at, moved * sizeof *tr->cand);
    memmove(tr->cand_params + (at + 1) * n, tr->cand_params + at * n,
            moved * n * sizeof *tr->cand_params);
    tr->cand[at] = (grugan__candidate){tr->progress.step, q, NAN};
    grugan_params_read_all(grugan_generator_params(tr->gen), tr->cand_params + at * n, n);
    if (tr->n_cand < tr->keep) tr->n_cand++;
    return true;
}

/* One estimate of the current generator; a new best is kept. */
static int estimate(grugan_trainer *tr)
{
    const double start = grugan__now_seconds();
    grugan_error err;
    double q;
    int rc = quick_estimate(tr, &q, &err);
    if (rc != GRUGAN_OK)
        return FAIL(tr, rc, "step %llu: model selection: %s",
                    (unsigned long long)tr->progress.step, err.message);
    tr->estimate_seconds += grugan__now_seconds() - start;
    tr->estimates_timed++;
    tr->progress.evaluations++;
    tr->progress.quality = q;
    /* ties go to the later generator: it has trained longer, and a briefly
     * trained classifier often gives several checkpoints the same estimate;
     * but only a lower estimate is progress for the patience (on tiny data
     * the estimates repeat, and equal ones would never finish the run) */
    if (isnan(tr->progress.best_quality) || q <= tr->progress.best_quality) {
        const bool lower = isnan(tr->progress.best_quality) || q < tr->progress.best_quality;
        tr->progress.best_quality = q;
        tr->since_best = lower ? 0 : tr->since_best + 1;
    } else {
        tr->since_best++;
    }
    /* a new candidate undoes a final ranking: the kept generator is the best
     * quick estimate's again until the next ranking */
    if (enter_candidate(tr, q)) {
        tr->ranked = false;
        tr->kept = 0;
    }
    show_kept(tr);
    return GRUGAN_OK;
}

int grugan__selection_rank_final(grugan_trainer *tr)
{
    grugan_params *gp = grugan_generator_params(tr->gen);
    const size_t n = tr->n_gen_params;
    const double start = grugan__now_seconds();
    size_t best = 0;
    int rc = GRUGAN_OK;

    if (!grugan__selection_rank_due(tr)) return GRUGAN_OK;
    /* each candidate's generator goes into the borrowed generator for its
     * estimate; the live one is put back afterwards */
    grugan_params_read_all(gp, tr->scratch_params, n);
    for (size_t i = 0; i < tr->n_cand && rc == GRUGAN_OK; i++) {
        grugan_error err;
        double q;
        if (!isnan(tr->cand[i].final)) continue;
        grugan_params_write_all(gp, tr->cand_params + i * n, n);
        rc = estimate_with(tr, true, &q, &err);
        if (rc != GRUGAN_OK)
            FAIL(tr, rc, "step %llu: model selection's final ranking: %s",
                 (unsigned long long)tr->progress.step, err.message);
        else
            tr->cand[i].final = q;
    }
    grugan_params_write_all(gp, tr->scratch_params, n);
    tr->progress.elapsed_seconds += grugan__now_seconds() - start;
    if (rc != GRUGAN_OK) return rc;
    /* the lowest final estimate; of equal ones the first in the candidates'
     * order (the better quick estimate) */
    for (size_t i = 1; i < tr->n_cand; i++)
        if (tr->cand[i].final < tr->cand[best].final) best = i;
    tr->kept = best;
    tr->ranked = true;
    show_kept(tr);
    return GRUGAN_OK;
}

int grugan__selection_after_step(grugan_trainer *tr)
{
    if (!tr->sel_n || tr->progress.step % (uint64_t)tr->cfg.select_every != 0) return GRUGAN_OK;
    return estimate(tr);
}

/* The seconds a final ranking now would take: its unscored candidates, each
 * FINAL_COST times the mean duration of this handle's quick estimates (0
 * before one was timed, e.g. right after a resume). */
static double ranking_reserve(const grugan_trainer *tr)
{
    size_t unscored = 0;
    if (!grugan__selection_rank_due(tr) || !tr->estimates_timed) return 0.0;
    for (size_t i = 0; i < tr->n_cand; i++) unscored += isnan(tr->cand[i].final);
    return (double)unscored * FINAL_COST * tr->estimate_seconds / (double)tr->estimates_timed;
}

void grugan__trainer_update_finished(grugan_trainer *tr)
{
    const grugan_trainer_config *cfg = &tr->cfg;
    grugan_progress *p = &tr->progress;
    if (p->step >= tr->total_steps)
        p->finished = GRUGAN_FINISHED_STEPS;
    else if (cfg->max_seconds > 0.0 &&
             p->elapsed_seconds + ranking_reserve(tr) >= cfg->max_seconds)
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
        memcpy(dst, grugan__selection_kept(tr), count * sizeof *dst);
    else
        grugan_params_read_all(gp, dst, count);
    return GRUGAN_OK;
}

int grugan_trainer_restore_best(grugan_trainer *tr)
{
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    if (!grugan__selection_has_best(tr)) return GRUGAN_OK;
    return grugan_params_write_all(grugan_generator_params(tr->gen), grugan__selection_kept(tr),
                                   tr->n_gen_params);
}

int grugan_trainer_rank_final(grugan_trainer *tr)
{
    if (!grugan__object_is(tr, GRUGAN__MAGIC_TRAINER)) return GRUGAN_E_INVALID;
    grugan__clear(&tr->obj);
    return grugan__selection_rank_final(tr);
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
    grugan_params_write_all(gp, grugan__selection_kept(tr), tr->n_gen_params);
    rc = grugan_generator_save(tr->gen, path);
    if (rc != GRUGAN_OK) FAIL(tr, rc, "%s", grugan_generator_message(tr->gen));
    grugan_params_write_all(gp, current, tr->n_gen_params);
    grugan__free(tr->obj.ctx, current);
    return rc;
}
