/*
 * fastmath.h - exp, sigmoid and tanh for float without branches or calls, so
 * the gate loops vectorize. Accurate to a few units in the last place (the
 * test suite sweeps them against double precision); NaN is not expected.
 */
#ifndef GRUGAN_NN_FASTMATH_H
#define GRUGAN_NN_FASTMATH_H

#include <stdint.h>
#include <string.h>

/* exp(x) = 2^n e^r with n = round(x / ln 2), r = x - n ln 2, |r| <= ln(2)/2;
 * e^r by its Taylor series to r^7 (truncation below 6e-9 relative), 2^n built
 * in the exponent bits. x is clamped to [-87.3, 88.3] so that 2^n stays a
 * normal float. */
static inline float grugan__expf(float x)
{
    const float round_magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
    float t, n, r, p, scale;
    int32_t ti, mi;
    uint32_t bits;
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    t = x * 1.44269504088896341f + round_magic;
    n = t - round_magic;
    r = (x - n * ln2_hi) - n * ln2_lo;
    p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    memcpy(&ti, &t, sizeof ti);
    memcpy(&mi, &round_magic, sizeof mi);
    /* the integer n sits in t's low mantissa bits; unsigned, so that a NaN
     * input (which the clamps let through) shifts without overflow */
    bits = (uint32_t)(ti - mi + 127) << 23;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* sigmoid(x) = 1 / (1 + e^-x); saturates cleanly to 0 and 1. */
static inline float grugan__sigmoidf(float x)
{
    return 1.0f / (1.0f + grugan__expf(-x));
}

/* tanh(x): for |x| < 0.4 the odd Taylor series to x^11 (truncation below
 * 1e-7 relative); above, sign(x) (1 - 2 / (1 + e^{2|x|})). Both are computed
 * and one is selected, which keeps the loop branch-free. */
static inline float grugan__tanhf(float x)
{
    const float a = x < 0.0f ? -x : x;
    const float s = x * x;
    float small, large;
    small = -1382.0f / 155925.0f;
    small = small * s + 62.0f / 2835.0f;
    small = small * s - 17.0f / 315.0f;
    small = small * s + 2.0f / 15.0f;
    small = small * s - 1.0f / 3.0f;
    small = x + x * s * small;
    large = 1.0f - 2.0f / (1.0f + grugan__expf(2.0f * a));
    large = x < 0.0f ? -large : large;
    return a < 0.4f ? small : large;
}

#endif
