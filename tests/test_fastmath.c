/* test_fastmath.c - the branch-free exp, sigmoid and tanh against double. */
#include "suites.h"

#include "nn/fastmath.h"

#include <math.h>

START_TEST(fast_functions_are_accurate_over_their_range)
{
    double worst_exp = 0, worst_sig = 0, worst_tanh = 0;
    for (float x = -90.0f; x <= 90.0f; x += 0.000917f) {
        const double e = exp((double)x), s = 1.0 / (1.0 + exp(-(double)x)), t = tanh((double)x);
        if (x > -87.0f && x < 88.0f) worst_exp = fmax(worst_exp, fabs(grugan__expf(x) - e) / e);
        if (s > 1e-30) worst_sig = fmax(worst_sig, fabs(grugan__sigmoidf(x) - s) / s);
        if (t != 0) worst_tanh = fmax(worst_tanh, fabs(grugan__tanhf(x) - t) / fabs(t));
    }
    for (float x = 1e-8f; x < 1.0f; x *= 1.003f) {
        const double t = tanh((double)x);
        worst_tanh = fmax(worst_tanh, fabs(grugan__tanhf(x) - t) / t);
        worst_tanh = fmax(worst_tanh, fabs(grugan__tanhf(-x) + t) / t);
    }
    /* a few units in the last place of a float (2^-23 = 1.19e-7) */
    ck_assert_double_lt(worst_exp, 3e-7);
    ck_assert_double_lt(worst_sig, 3e-7);
    ck_assert_double_lt(worst_tanh, 3e-7);
}
END_TEST

START_TEST(fast_functions_saturate_without_overflow)
{
    const float big[] = {80.0f, 100.0f, 1000.0f, 3.0e38f};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(grugan__sigmoidf(big[i]), 1.0f);
        ck_assert(grugan__sigmoidf(-big[i]) >= 0.0f && grugan__sigmoidf(-big[i]) < 1e-34f);
        ck_assert_float_eq(grugan__tanhf(big[i]), 1.0f);
        ck_assert_float_eq(grugan__tanhf(-big[i]), -1.0f);
        ck_assert(isfinite(grugan__expf(big[i])));
        ck_assert(grugan__expf(-big[i]) >= 0.0f);
    }
    ck_assert_float_eq(grugan__tanhf(0.0f), 0.0f);
    ck_assert_float_eq(grugan__sigmoidf(0.0f), 0.5f);
    ck_assert_float_eq(grugan__expf(0.0f), 1.0f);
}
END_TEST

Suite *suite_fastmath(void)
{
    Suite *s = suite_create("fastmath");
    TCase *tc = tcase_create("fastmath");
    tcase_add_test(tc, fast_functions_are_accurate_over_their_range);
    tcase_add_test(tc, fast_functions_saturate_without_overflow);
    suite_add_tcase(s, tc);
    return s;
}
