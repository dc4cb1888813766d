/* quality.h - the quick quality estimate (quality.c), the small interface
 * through which the trainer's model selection uses the metrics. */
#ifndef GRUGAN_EVAL_QUALITY_H
#define GRUGAN_EVAL_QUALITY_H

#include "core/core.h"

/* Defaults of the estimate (grugan_generator_quality with zero fields);
 * docs/QUALITY.md, "Model selection", has the runs that chose them. */
#define GRUGAN__QUALITY_REPETITIONS 4
#define GRUGAN__QUALITY_ITERATIONS 500

/* grugan_generator_quality with the failure reported into err (may be NULL)
 * instead of the generator's message. */
int grugan__generator_quality(grugan_context *ctx, grugan_generator *gen,
                              const grugan_metric_config *config, const float *real,
                              const float *conditions, size_t n, size_t n_test, size_t steps,
                              double *quality, grugan_error *err);

/* The discriminative score (metrics.c) with, for real_test > 0, a fixed
 * split: the last real_test real and synth_test synthetic sequences are the
 * test parts of every repetition, the others the training parts; real_test 0
 * splits 80/20 at random, as grugan_discriminative_score. */
int grugan__discriminative_split_score(grugan_context *ctx, const grugan_metric_config *config,
                                       const float *real, size_t n_real, size_t real_test,
                                       const float *synthetic, size_t n_synth,
                                       size_t synth_test, size_t steps, size_t features,
                                       double *mean, grugan_error *err);

#endif
