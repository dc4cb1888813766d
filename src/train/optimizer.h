/*
 * optimizer.h - internal hooks of the optimizer (train/optimizer.c) for the
 * tests; the public API is in grugan.h.
 */
#ifndef GRUGAN_TRAIN_OPTIMIZER_H
#define GRUGAN_TRAIN_OPTIMIZER_H

#include "core/core.h"

/* true: run the portable version of the update loops even where the AVX2+FMA
 * version could run (the default picks it when the CPU has it). Both give
 * the same bits; this lets the tests compare them. No-op on a bad handle. */
void grugan__optimizer_use_portable(grugan_optimizer *opt, bool portable);

/* The parameter set the optimizer updates (NULL for a bad handle). */
grugan_params *grugan__optimizer_params(const grugan_optimizer *opt);

#endif
