/* trainer_internal.h - the trainer's state, shared by the training loop
 * (trainer.c) and the checkpoints (checkpoint.c). */
#ifndef GRUGAN_TRAIN_TRAINER_INTERNAL_H
#define GRUGAN_TRAIN_TRAINER_INTERNAL_H

#include "core/core.h"

#include <time.h>

/* A candidate of model selection's final ranking. */
typedef struct grugan__candidate {
    uint64_t step;   /* whose generator */
    double quality;  /* its quick estimate */
    double final;    /* its final ranking's estimate; NaN before it is scored */
} grugan__candidate;

/* Most candidates a trainer keeps (final_candidates). */
#define GRUGAN__MAX_CANDIDATES 16

struct grugan_trainer {
    grugan__object obj;
    grugan_trainer_config cfg; /* with defaults resolved */
    grugan_generator *gen;     /* borrowed */
    grugan_discriminator *disc;
    grugan_optimizer *gen_opt, *disc_opt;
    grugan_dataset *data;
    grugan_progress_fn callback;
    void *callback_user;

    size_t B, T, F, C;  /* batch, steps, features, condition size */
    size_t logits;      /* logits per sequence */
    size_t features;    /* discriminator features per sequence */
    size_t n_sequences; /* in the dataset */
    uint64_t total_steps;

    /* buffers, all sized at creation */
    float *x;          /* (2B, T, F): real rows, then generated rows */
    float *cond;       /* (2B, C) or NULL */
    size_t *len;       /* (2B) */
    float *logit;      /* (2B, logits) */
    float *d_logit;    /* (2B, logits) */
    float *feat;       /* (2B, features) with feature matching, else NULL */
    float *d_feat;     /* (2B, features) likewise */
    float *dx;         /* (2B, T, F) */
    float *d_moment;   /* (B, T, F) with moment matching, else NULL */
    float *d_change;   /* (B, T, F) with difference matching (and T > 1), else NULL */
    float *xn;         /* (2B, T, F) what the discriminator sees with instance noise: x plus
                          noise; NULL without (the discriminator sees x) */
    uint64_t noise_seed; /* of the instance noise: the generator's seed */
    float *penalty_w;  /* (2B) logit weights of R1/R2, then the interpolation weights
                          (penalties.c); NULL without penalties */
    float *penalty_x;  /* (B, T, F) WGAN-GP's interpolates; NULL without */
    bool lengths_vary; /* the last real batch had a length below T */

    /* model selection (selection.c); sel_n == 0 when it is off */
    size_t sel_n;          /* real sequences the estimates compare against */
    size_t sel_test;       /* the last sel_test of them are the fixed test part (0: none) */
    float *sel_real;       /* (sel_n, T, F) */
    float *sel_cond;       /* (sel_n, C) or NULL */
    size_t n_gen_params;
    uint64_t since_best;   /* estimates since the last new best */
    /* the candidates of the final ranking: the best `keep` estimates so far,
     * in order (lowest estimate first, the later of equal ones first) */
    size_t keep;           /* at most this many (1: no final ranking) */
    size_t n_cand;         /* held now; 0 before the first estimate */
    grugan__candidate *cand; /* (keep) */
    float *cand_params;    /* (keep, n_gen_params): candidate i's generator */
    size_t kept;           /* the candidate whose generator is kept */
    bool ranked;           /* the final ranking holds (kept is its choice) */
    float *scratch_params; /* (n_gen_params) the live generator during the ranking */
    double estimate_seconds; /* time of the quick estimates made by this handle */
    uint64_t estimates_timed; /* their number */

    grugan_progress progress;

    /* data-parallel training (shards.c): off (the one-batch path) when
     * shards == 1 */
    size_t shards;           /* S */
    size_t shard_rows;       /* B / S */
    size_t shard_first;      /* the shards this worker owns: [first, first + count) */
    size_t shard_count;
    grugan_reduce_fn reduce; /* NULL: one worker */
    void *reduce_user;
    size_t slot_disc;        /* floats per slot: discriminator gradients and terms */
    size_t slot_gen;         /* generator gradients and terms */
    size_t slot_stats;       /* batch statistics */
    float *slots;            /* (S, largest slot) */
    float *sh_x;             /* (2 B/S, T, F) a shard's real, then generated rows */
    float *sh_cond;          /* (2 B/S, C) or NULL */
    size_t *sh_len;          /* (2 B/S) */
    double *sh_moments;      /* (4, T F) global mean and sd of real, then generated values */
    double *sh_changes;      /* (4, (T-1) F) likewise of the step-to-step changes */
};

/* Seconds on the monotonic clock. */
static inline double grugan__now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Gradient penalties (penalties.c). */
/* Checks the configuration's penalty fields. */
int grugan__penalties_check_config(const grugan_context *ctx, const grugan_trainer_config *c,
                                   grugan_error *err);
/* Resolves their defaults (and WGAN-GP's d_steps) before the other fields'. */
void grugan__penalties_resolve(grugan_trainer_config *c);
/* Refuses a discriminator that has no penalties; allocates their buffers. */
int grugan__penalties_setup(grugan_trainer *tr, grugan_error *err);
void grugan__penalties_release(grugan_trainer *tr);
/* Adds the configured penalties' gradients to the discriminator's, after the
 * backward of its loss on the 2B rows `seen` (2B, T, F) of update `update`;
 * *value receives their sum. Fails with GRUGAN_E_NONFINITE for a penalty
 * that is not finite, with the discriminator's failure otherwise. */
int grugan__penalties_add(grugan_trainer *tr, const float *seen, uint64_t update, float *value);

/* Pieces of the training step shared with shards.c (trainer.c). */
const float *grugan__trainer_instance_noise(grugan_trainer *tr, size_t first, size_t rows,
                                            uint64_t update);
float grugan__trainer_mean_score(const grugan_trainer *tr, const float *logit, const size_t *len,
                                 size_t rows);
int grugan__trainer_relay(grugan_trainer *tr, int rc, const char *what, const char *detail);
int grugan__trainer_non_finite(grugan_trainer *tr, const char *what);
int grugan__trainer_clip_and_update(grugan_trainer *tr, grugan_optimizer *opt, const char *who,
                                    float *norm, bool *updated);

/* Data-parallel training (shards.c). */
/* Checks the shard count against the batch size and the loss terms. */
int grugan__shards_check_config(const grugan_context *ctx, const grugan_trainer_config *c,
                                grugan_error *err);
/* Allocates the slots and shard buffers (nothing with one shard). */
int grugan__shards_setup(grugan_trainer *tr, grugan_error *err);
void grugan__shards_release(grugan_trainer *tr);
/* The sharded discriminator update k of the step and generator update. */
int grugan__shards_discriminator_update(grugan_trainer *tr, size_t k);
int grugan__shards_generator_update(grugan_trainer *tr);
/* Moment statistics from per-shard sums. Writes the double sums of v and v^2
 * over n rows of `stride` floats, column by column (v[i][j] = x[i][j], or
 * x[i][j + lag] - x[i][j] with a lag), as hi and lo floats: out (4, dim) =
 * sum v hi, lo, then sum v^2 hi, lo. */
void grugan__shard_sums(const float *x, size_t n, size_t stride, size_t dim, size_t lag,
                        float *out);
/* Mean and sd = sqrt(population variance + 1e-6) of n rows from the sums of
 * `shards` slots `slot` floats apart, added in shard order. */
void grugan__shard_moments(const float *sums, size_t shards, size_t slot, size_t n, size_t dim,
                           double *mean, double *sd);
/* Moment matching from the global moments (4, dim) (mean, sd of the real
 * rows, then of the n_fake generated ones): returns its value and, when
 * d_fake is not NULL, writes its gradient with respect to `rows` generated
 * rows (of `stride` floats) of the batch, fake and d_fake (rows, stride). */
double grugan__shard_match(const double *moments, size_t n_fake, size_t dim, size_t lag,
                           const float *fake, size_t rows, size_t stride, float *d_fake);

/* Model selection (selection.c). */
/* Whether the trainer holds a best generator (selection on, an estimate made). */
static inline bool grugan__selection_has_best(const grugan_trainer *tr)
{
    return tr->sel_n && tr->n_cand;
}
/* The kept generator's parameters (only when grugan__selection_has_best). */
static inline float *grugan__selection_kept(const grugan_trainer *tr)
{
    return tr->cand_params + tr->kept * tr->n_gen_params;
}
/* Whether the final ranking is due: candidates to rank and no ranking yet. */
static inline bool grugan__selection_rank_due(const grugan_trainer *tr)
{
    return tr->sel_n && tr->keep > 1 && tr->n_cand && !tr->ranked;
}
/* Runs the final ranking (grugan_trainer_rank_final without the checks). */
int grugan__selection_rank_final(grugan_trainer *tr);
int grugan__selection_setup(grugan_trainer *tr, grugan_error *err);
void grugan__selection_release(grugan_trainer *tr);
/* Makes an estimate when one is due after the step just done. */
int grugan__selection_after_step(grugan_trainer *tr);
/* Sets progress.finished from the counters, the clock and the patience. */
void grugan__trainer_update_finished(grugan_trainer *tr);

#endif
