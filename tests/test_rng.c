/* test_rng.c - Philox known answers, reproducibility and distribution moments. */
#include "suites.h"

#include "core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Known-answer vectors of Philox4x32-10 from the Random123 distribution. */
START_TEST(philox_known_answers)
{
    static const struct {
        uint32_t ctr[4], key[2], out[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
        {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
         {0xffffffffu, 0xffffffffu},
         {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
        {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
         {0xa4093822u, 0x299f31d0u},
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        grugan__philox4x32(kat[i].key, kat[i].ctr, out);
        for (int j = 0; j < 4; j++) ck_assert_uint_eq(out[j], kat[i].out[j]);
    }
}
END_TEST

START_TEST(streams_reproduce_and_differ_by_seed_and_purpose)
{
    grugan__rng a, b, c, d;
    grugan__rng_init(&a, 42, GRUGAN__RNG_INIT);
    grugan__rng_init(&b, 42, GRUGAN__RNG_INIT);
    grugan__rng_init(&c, 43, GRUGAN__RNG_INIT);
    grugan__rng_init(&d, 42, GRUGAN__RNG_NOISE);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = grugan__rng_u32(&a);
        ck_assert_uint_eq(x, grugan__rng_u32(&b));
        same_c += x == grugan__rng_u32(&c);
        same_d += x == grugan__rng_u32(&d);
    }
    ck_assert_int_lt(same_c, 3);
    ck_assert_int_lt(same_d, 3);
    ck_assert_uint_eq(a.position, 1000);
}
END_TEST

START_TEST(stream_resumes_from_its_position)
{
    grugan__rng a, b;
    float x[20], y[5];
    grugan__rng_init(&a, 7, GRUGAN__RNG_TEST);
    grugan__rng_fill_normal(&a, x, 20);
    grugan__rng_init(&b, 7, GRUGAN__RNG_TEST);
    b.position = 10; /* 10 normals = 10 draws */
    grugan__rng_fill_normal(&b, y, 5);
    for (int i = 0; i < 5; i++) ck_assert_float_eq(x[10 + i], y[i]);
}
END_TEST

START_TEST(uniform_and_normal_moments)
{
    enum { N = 200000 };
    float *x = malloc(N * sizeof *x);
    grugan__rng rng;
    double sum = 0, sq = 0, quad = 0, lo = 1e9, hi = -1e9;
    ck_assert_ptr_nonnull(x);
    grugan__rng_init(&rng, 1, GRUGAN__RNG_TEST);
    grugan__rng_fill_uniform(&rng, x, N, -2.0f, 3.0f);
    for (int i = 0; i < N; i++) {
        sum += x[i];
        sq += (double)x[i] * x[i];
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    /* U(-2, 3): mean 0.5, variance 25/12; standard errors ~0.0032, ~0.007 */
    ck_assert_double_eq_tol(sum / N, 0.5, 0.02);
    ck_assert_double_eq_tol(sq / N - (sum / N) * (sum / N), 25.0 / 12.0, 0.03);
    ck_assert(lo >= -2.0 && hi < 3.0);

    grugan__rng_fill_normal(&rng, x, N);
    sum = sq = quad = 0;
    for (int i = 0; i < N; i++) {
        sum += x[i];
        sq += (double)x[i] * x[i];
        quad += (double)x[i] * x[i] * x[i] * x[i];
    }
    ck_assert_double_eq_tol(sum / N, 0.0, 0.01);
    ck_assert_double_eq_tol(sq / N, 1.0, 0.015);
    ck_assert_double_eq_tol(quad / N, 3.0, 0.1); /* Gaussian kurtosis */
    free(x);
}
END_TEST

START_TEST(below_is_in_range_and_unbiased)
{
    grugan__rng rng;
    int counts[7] = {0};
    grugan__rng_init(&rng, 3, GRUGAN__RNG_TEST);
    for (int i = 0; i < 70000; i++) {
        uint64_t k = grugan__rng_below(&rng, 7);
        ck_assert_uint_lt(k, 7);
        counts[k]++;
    }
    for (int k = 0; k < 7; k++) ck_assert_int_lt(abs(counts[k] - 10000), 400);
    ck_assert_uint_eq(grugan__rng_below(&rng, 1), 0);
    ck_assert_uint_lt(grugan__rng_below(&rng, (uint64_t)1 << 40), (uint64_t)1 << 40);
}
END_TEST

START_TEST(blocks_are_addressed_not_sequential)
{
    uint32_t a[4], b[4], c[4];
    grugan__rng_block(9, GRUGAN__RNG_NOISE, 1000, 3, a);
    grugan__rng_block(9, GRUGAN__RNG_NOISE, 999, 3, b);
    grugan__rng_block(9, GRUGAN__RNG_NOISE, 1000, 3, c);
    for (int i = 0; i < 4; i++) ck_assert_uint_eq(a[i], c[i]);
    ck_assert(a[0] != b[0] || a[1] != b[1]);
}
END_TEST

/* The generator's noise skips the second normal of a pair it cuts off, so
 * grugan__normal_first must give exactly the first of grugan__normal_pair. */
START_TEST(normal_first_is_the_pairs_first)
{
    grugan__rng rng;
    grugan__rng_init(&rng, 77, GRUGAN__RNG_TEST);
    for (int i = 0; i < 200000; i++) {
        const uint32_t a = grugan__rng_u32(&rng), b = grugan__rng_u32(&rng);
        float n0, n1, first = grugan__normal_first(a, b);
        grugan__normal_pair(a, b, &n0, &n1);
        if (memcmp(&first, &n0, sizeof first) != 0)
            ck_abort_msg("draw %d: normal_first %.9g, pair %.9g", i, (double)first, (double)n0);
    }
    /* the extremes of the 32-bit draws */
    {
        float n0, n1;
        grugan__normal_pair(0, UINT32_MAX, &n0, &n1);
        ck_assert(grugan__normal_first(0, UINT32_MAX) == n0);
        grugan__normal_pair(UINT32_MAX, 0, &n0, &n1);
        ck_assert(grugan__normal_first(UINT32_MAX, 0) == n0);
    }
}
END_TEST

Suite *suite_rng(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("rng");
    tcase_add_test(tc, philox_known_answers);
    tcase_add_test(tc, streams_reproduce_and_differ_by_seed_and_purpose);
    tcase_add_test(tc, stream_resumes_from_its_position);
    tcase_add_test(tc, uniform_and_normal_moments);
    tcase_add_test(tc, below_is_in_range_and_unbiased);
    tcase_add_test(tc, blocks_are_addressed_not_sequential);
    tcase_add_test(tc, normal_first_is_the_pairs_first);
    suite_add_tcase(s, tc);
    return s;
}
