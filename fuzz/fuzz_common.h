/*
 * fuzz_common.h - shared by the fuzz targets (fuzz_*.c), the replay driver
 * (replay.c) and the seed generator (make_seeds.c); public API only.
 *
 * The targets allocate through a context whose hooks enforce the size caps of
 * docs/RELIABILITY.md ("Fuzzing"): while an input of n bytes is processed, no
 * single allocation may exceed 64 n + 1 MiB and the bytes live at once, beyond
 * what was live before the input, may not exceed 128 n + 4 MiB. A breach
 * prints what was asked and aborts, so libFuzzer keeps the input.
 */
#ifndef GRUGAN_FUZZ_COMMON_H
#define GRUGAN_FUZZ_COMMON_H

#include "grugan.h"

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point, defined by each target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The context of the capped allocator (created on first use, never freed). */
grugan_context *fuzz_context(void);

/* Caps for an input of `size` bytes, until fuzz_cap_end(). */
void fuzz_cap_begin(size_t size);
/* Fixed caps instead (for targets whose sizes do not come from a file). */
void fuzz_cap_fixed(size_t one, size_t total);
/* Lifts the caps; aborts if the input leaked memory through the context. */
void fuzz_cap_end(void);

/* Prints "fuzz check failed: what" to stderr and aborts. */
void fuzz_fail(const char *what);

/* The small fixed training setup whose checkpoints fuzz_checkpoint reads:
 * 6 sequences of 3 steps of 2 features; generator Z 2, H 3, L 1; GRU
 * discriminator H 2, L 1; Adam for both; batches of 2. */
typedef struct fuzz_world {
    grugan_dataset *data;
    grugan_generator *gen;
    grugan_discriminator *disc;
    grugan_optimizer *gen_opt, *disc_opt;
    grugan_trainer *tr;
} fuzz_world;

/* Builds the world with ctx; aborts on failure. */
void fuzz_world_make(grugan_context *ctx, fuzz_world *w);
void fuzz_world_free(fuzz_world *w);

/* Everything a failed load must leave unchanged: both models' parameters,
 * both optimizers' states and step counts, the noise and dataset positions
 * and the trainer's counters. */
typedef struct fuzz_snapshot {
    float *values;
    size_t count;
    uint64_t counters[8];
} fuzz_snapshot;

/* Takes a snapshot into s (its buffer is reused between calls). */
void fuzz_snapshot_take(fuzz_world *w, fuzz_snapshot *s);
/* 1 if the two snapshots are the same bits, else 0. */
int fuzz_snapshot_equal(const fuzz_snapshot *a, const fuzz_snapshot *b);

#endif
