/* rng.c - Philox4x32-10 and the draws built on it. */
#include "rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* One round: (hi, lo) = M * x for two 32x32->64 products, then
 * out = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0); the key is bumped by the
 * Weyl constants between rounds. */
void grugan__philox4x32(const uint32_t key[2], const uint32_t counter[4], uint32_t out[4])
{
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void grugan__rng_block(uint64_t seed, uint32_t purpose, uint64_t index, uint32_t sub,
                       uint32_t out[4])
{
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t counter[4] = {(uint32_t)index, (uint32_t)(index >> 32), sub, purpose};
    grugan__philox4x32(key, counter, out);
}

double grugan__u01(uint32_t bits)
{
    return ((double)bits + 0.5) * (1.0 / 4294967296.0);
}

/* n0 = sqrt(-2 ln u) cos(2 pi v), n1 = sqrt(-2 ln u) sin(2 pi v) */
void grugan__normal_pair(uint32_t a, uint32_t b, float *n0, float *n1)
{
    const double two_pi = 6.283185307179586476925286766559;
    double r = sqrt(-2.0 * log(grugan__u01(a)));
    double angle = two_pi * grugan__u01(b);
    *n0 = (float)(r * cos(angle));
    *n1 = (float)(r * sin(angle));
}

/* n0 of grugan__normal_pair: cos alone gives the bits sincos gives. */
float grugan__normal_first(uint32_t a, uint32_t b)
{
    const double two_pi = 6.283185307179586476925286766559;
    double r = sqrt(-2.0 * log(grugan__u01(a)));
    return (float)(r * cos(two_pi * grugan__u01(b)));
}

void grugan__rng_init(grugan__rng *rng, uint64_t seed, uint32_t purpose)
{
    rng->seed = seed;
    rng->purpose = purpose;
    rng->position = 0;
}

/* Draw k of the stream is lane k % 4 of block k / 4. */
uint32_t grugan__rng_u32(grugan__rng *rng)
{
    uint32_t block[4];
    uint64_t k = rng->position++;
    grugan__rng_block(rng->seed, rng->purpose, k / 4, 0, block);
    return block[k % 4];
}

/* Lemire's method would be faster; rejection on the top multiple is simple
 * and exact. */
uint64_t grugan__rng_below(grugan__rng *rng, uint64_t n)
{
    if (n <= 1) return 0;
    if (n <= UINT32_MAX) {
        uint32_t limit = (uint32_t)(UINT32_MAX - (UINT32_MAX % n + 1) % n);
        uint32_t x;
        do x = grugan__rng_u32(rng); while (x > limit);
        return x % n;
    }
    {
        uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n, x;
        do x = ((uint64_t)grugan__rng_u32(rng) << 32) | grugan__rng_u32(rng);
        while (x > limit);
        return x % n;
    }
}

void grugan__rng_fill_uniform(grugan__rng *rng, float *dst, size_t n, float lo, float hi)
{
    double width = (double)hi - (double)lo;
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)((double)lo + width * grugan__u01(grugan__rng_u32(rng)));
}

void grugan__rng_fill_normal(grugan__rng *rng, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        float n0, n1;
        uint32_t a = grugan__rng_u32(rng);
        uint32_t b = grugan__rng_u32(rng);
        grugan__normal_pair(a, b, &n0, &n1);
        dst[i] = n0;
        if (i + 1 < n) dst[i + 1] = n1;
    }
}
