/*
 * model_util.h - small pieces shared by the model handles (generator,
 * discriminator): seeded initialization streams and the shared settings.
 */
#ifndef GRUGAN_MODEL_UTIL_H
#define GRUGAN_MODEL_UTIL_H

#include "core/core.h"
#include "core/rng.h"

#include <math.h>

/*
 * Initialization streams of a model: every group of tensors draws from its
 * own stream (seed, GRUGAN__RNG_INIT, sub = the group's number), element k of
 * the group being lane k % 4 of block k / 4. Adding a group later leaves the
 * others' values unchanged. Stream 0 is the GRU stack (the same numbers as
 * grugan__gru_init_params); the rest are numbered here.
 */
enum {
    GRUGAN__INIT_STREAM_GRU = 0,   /* gru.* in PyTorch order */
    GRUGAN__INIT_STREAM_HEAD = 1,  /* head.weight, then head.bias */
    GRUGAN__INIT_STREAM_CONV0 = 16 /* conv.{k}.weight, then conv.{k}.bias: 16 + k */
};

/* dst[k] ~ U(-bound, bound) for k < n, element k of stream `stream`, starting
 * at element `first` of the stream (a tensor after another in its group). */
static inline void grugan__init_uniform(float *dst, size_t n, float bound, uint64_t seed,
                                        uint32_t stream, uint64_t first)
{
    const double width = 2.0 * (double)bound;
    for (size_t i = 0; i < n; i++) {
        const uint64_t k = first + i;
        uint32_t block[4];
        grugan__rng_block(seed, GRUGAN__RNG_INIT, k / 4, stream, block);
        dst[i] = (float)(-(double)bound + width * grugan__u01(block[k % 4]));
    }
}

/* PyTorch's bound for nn.Linear and nn.Conv1d weights and biases:
 * 1 / sqrt(fan_in) (kaiming_uniform with a = sqrt(5) gives exactly this). */
static inline float grugan__fan_in_bound(size_t fan_in)
{
    return (float)(1.0 / sqrt((double)fan_in));
}

/* Checks a shared GRUGAN_KEY_* setting and stores it in *threads or
 * *check_finite; failures are recorded in obj. */
static inline int grugan__model_set_key(grugan__object *obj, int key, double value, int *threads,
                                        int *check_finite)
{
    double lo, hi;
    if (grugan__key_bounds(key, &lo, &hi) != GRUGAN_OK)
        return grugan__fail(obj, GRUGAN_E_INVALID, "unknown key %d", key);
    if (!(value >= lo && value <= hi) || value != floor(value))
        return grugan__fail(obj, GRUGAN_E_RANGE, "key %d: value %g is not an integer in [%g, %g]",
                            key, value, lo, hi);
    if (key == GRUGAN_KEY_THREADS)
        *threads = (int)value;
    else
        *check_finite = (int)value;
    return GRUGAN_OK;
}

/* Reads a shared GRUGAN_KEY_* setting. */
static inline int grugan__model_get_key(int key, int threads, int check_finite, double *value)
{
    if (!value) return GRUGAN_E_INVALID;
    switch (key) {
    case GRUGAN_KEY_THREADS: *value = threads; return GRUGAN_OK;
    case GRUGAN_KEY_CHECK_FINITE: *value = check_finite; return GRUGAN_OK;
    default: return GRUGAN_E_INVALID;
    }
}

#endif
