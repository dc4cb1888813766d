/* quality.h - the quick quality estimate (quality.c), the small interface
 * through which the trainer's model selection uses the metrics. */
#ifndef GRUGAN_EVAL_QUALITY_H
#define GRUGAN_EVAL_QUALITY_H

#include "core/core.h"

/* Defaults of the estimate (grugan_generator_quality with zero fields);
 * docs/QUALITY.md, "Model selection", has the runs that chose them. */
#define GRUGAN__QUALITY_REPETITIONS 2
#define GRUGAN__QUALITY_ITERATIONS 500

/* Fills the zero fields of cfg with the estimate's defaults. */
void grugan__quality_defaults(grugan_metric_config *cfg);

/* grugan_generator_quality with the failure reported into err (may be NULL)
 * instead of the generator's message. */
int grugan__generator_quality(grugan_context *ctx, grugan_generator *gen,
                              const grugan_metric_config *config, const float *real,
                              const float *conditions, size_t n, size_t steps, double *quality,
                              grugan_error *err);

#endif
