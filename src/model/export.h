/*
 * export.h - models as checkpoint metadata: the architecture of a generator
 * or a discriminator as "prefix.key" = "value" pairs (docs/FORMAT.md), and
 * checks that a file's architecture is a model's.
 */
#ifndef GRUGAN_MODEL_EXPORT_H
#define GRUGAN_MODEL_EXPORT_H

#include "io/safetensors.h"

#include <stddef.h>

/* The training checkpoint's format name and the newest version read
 * (train/checkpoint.c writes it; grugan_generator_load reads its generator).
 * Version 2 added the clock and model selection's state, and the best
 * generator's tensors under GRUGAN__BEST_PREFIX; version 3 the final
 * ranking's candidates (selection.candidate.I.*). */
#define GRUGAN__CHECKPOINT_FORMAT "libgrugan-trainer"
#define GRUGAN__CHECKPOINT_VERSION 3
#define GRUGAN__BEST_PREFIX "best."

/* Most architecture entries of one model; key and value capacities. */
#define GRUGAN__ARCH_MAX 16
#define GRUGAN__ARCH_KEY_CAP 48
#define GRUGAN__ARCH_VALUE_CAP 32

typedef struct grugan__arch {
    size_t n;
    char keys[GRUGAN__ARCH_MAX][GRUGAN__ARCH_KEY_CAP];
    char values[GRUGAN__ARCH_MAX][GRUGAN__ARCH_VALUE_CAP];
} grugan__arch;

/* The generator's architecture under "generator.". */
void grugan__arch_of_generator(const grugan_generator *gen, grugan__arch *arch);

/* The discriminator's architecture under "discriminator.". */
void grugan__arch_of_discriminator(const grugan_discriminator *disc, grugan__arch *arch);

/* Appends the entries as metadata pointing into arch. */
void grugan__arch_to_meta(const grugan__arch *arch, grugan__st_meta *meta, size_t *n);

/* NULL if every entry of arch is in the file with the same value; otherwise
 * the key of the first one that is missing or differs. */
const char *grugan__arch_mismatch(const grugan__arch *arch, const grugan__st_file *file);

#endif
