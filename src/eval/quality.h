/* quality.h - the quick quality estimate (quality.c), the small interface
 * through which the trainer's model selection uses the metrics. */
#ifndef GRUGAN_EVAL_QUALITY_H
#define GRUGAN_EVAL_QUALITY_H

#include "core/core.h"

/* Defaults of the estimate (grugan_generator_quality with zero fields);
 * docs/QUALITY.md, "Model selection", has the runs that chose them. */
#define GRUGAN__QUALITY_REPETITIONS 4
#define GRUGAN__QUALITY_ITERATIONS 500

/* Fills the zero fields of cfg with the estimate's defaults. */
void grugan__quality_defaults(grugan_metric_config *cfg);

/* grugan_generator_quality with the failure reported into err (may be NULL)
 * instead of the generator's message. */
int grugan__generator_quality(grugan_context *ctx, grugan_generator *gen,
                              const grugan_metric_config *config, const float *real,
                              const float *conditions, size_t n, size_t n_test, size_t steps,
                              double *quality, grugan_error *err);

/* The post-hoc classifier of the discriminative score, where it may differ
 * from the protocol's: hidden size (0: max(1, F/2)) and Adam's learning
 * rate (0: 1e-3). */
typedef struct grugan__classifier {
    size_t hidden;
    double lr;
} grugan__classifier;

/* The discriminative score (metrics.c) with another classifier (cls may be
 * NULL) and, with real_test > 0, a fixed split: the last real_test real and
 * synth_test synthetic sequences are the test parts of every repetition, the
 * others the training parts; real_test 0 splits 80/20 at random. */
int grugan__discriminative_split_score(grugan_context *ctx, const grugan_metric_config *config,
                                       const grugan__classifier *cls, const float *real,
                                       size_t n_real, size_t real_test, const float *synthetic,
                                       size_t n_synth, size_t synth_test, size_t steps,
                                       size_t features, double *mean, grugan_error *err);

#endif
