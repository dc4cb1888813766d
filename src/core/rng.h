/*
 * rng.h - counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
 *
 * A draw is a pure function of (seed, purpose, index, sub): the noise of
 * sample i at step t is the same whatever the batch size, thread count or
 * chunking. A sequential stream is (seed, purpose, position): a checkpoint
 * stores those three integers to resume it exactly.
 */
#ifndef GRUGAN_RNG_H
#define GRUGAN_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Purposes keep the streams of different uses of one seed apart. */
enum {
    GRUGAN__RNG_INIT = 1,    /* weight initialization */
    GRUGAN__RNG_NOISE = 2,   /* generator noise */
    GRUGAN__RNG_SHUFFLE = 3, /* minibatch order */
    GRUGAN__RNG_SPLIT = 4,   /* train/test splits of the metrics */
    GRUGAN__RNG_INSTANCE = 5, /* the trainer's instance noise */
    GRUGAN__RNG_INTERPOLATE = 6, /* the trainer's WGAN-GP interpolates */
    GRUGAN__RNG_TEST = 99    /* for the library's own tests */
};

/* out = Philox4x32-10(key, counter). */
void grugan__philox4x32(const uint32_t key[2], const uint32_t counter[4], uint32_t out[4]);

/* Four 32-bit draws addressed by (seed, purpose, index, sub). */
void grugan__rng_block(uint64_t seed, uint32_t purpose, uint64_t index, uint32_t sub,
                       uint32_t out[4]);

/* Uniform in the open interval (0, 1) from one 32-bit draw. */
double grugan__u01(uint32_t bits);

/* Two independent standard normals from two 32-bit draws (Box-Muller). */
void grugan__normal_pair(uint32_t a, uint32_t b, float *n0, float *n1);

/* The first of grugan__normal_pair's two normals (the same bits), without
 * the cost of the second. */
float grugan__normal_first(uint32_t a, uint32_t b);

/* A sequential stream; position counts 32-bit draws consumed. */
typedef struct grugan__rng {
    uint64_t seed;
    uint32_t purpose;
    uint64_t position;
} grugan__rng;

void grugan__rng_init(grugan__rng *rng, uint64_t seed, uint32_t purpose);
uint32_t grugan__rng_u32(grugan__rng *rng);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint64_t grugan__rng_below(grugan__rng *rng, uint64_t n);
/* dst[i] ~ U(lo, hi), i < n. */
void grugan__rng_fill_uniform(grugan__rng *rng, float *dst, size_t n, float lo, float hi);
/* dst[i] ~ N(0, 1), i < n. */
void grugan__rng_fill_normal(grugan__rng *rng, float *dst, size_t n);

#endif
