/* test_metrics.c - the TimeGAN metrics: known cases (a set against a disjoint
 * part of itself and against noise; a predictor against the best constant),
 * exact determinism across thread counts and runs, refused inputs,
 * allocation failures, and the statistics against a direct computation. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- data ------------------------------------------------------------------ */

/* splitmix64: the test data's own generator. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double next_unit(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* TimeGAN's Sines (DESIGN.md section 8): per sequence and feature, f and p
 * ~ U(0, 0.1), x_t = (sin(f t + p) + 1) / 2. (n, T, F). */
static float *make_sines(size_t n, size_t T, size_t F, uint64_t seed)
{
    float *x = falloc(n * T * F);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < F; f++) {
            const double freq = 0.1 * next_unit(&s), phase = 0.1 * next_unit(&s);
            for (size_t t = 0; t < T; t++)
                x[(i * T + t) * F + f] = (float)((sin(freq * (double)t + phase) + 1.0) * 0.5);
        }
    return x;
}

/* I.i.d. U(0, 1) values (n, T, F). */
static float *make_noise(size_t n, size_t T, size_t F, uint64_t seed)
{
    float *x = falloc(n * T * F);
    uint64_t s = seed;
    for (size_t i = 0; i < n * T * F; i++) x[i] = (float)next_unit(&s);
    return x;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The predictive score of the best constant predictor on x (n, T, F): the
 * constant minimizing the mean absolute error is the median of the targets
 * (feature F-1 at steps 1..T-1); its score is that error, averaged per
 * sequence and then over sequences as the metric does. */
static double constant_predictor_mae(const float *x, size_t n, size_t T, size_t F)
{
    const size_t S = T - 1, m = n * S;
    double *y = dalloc(m), median, total = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < S; t++) y[i * S + t] = x[(i * T + t + 1) * F + F - 1];
    qsort(y, m, sizeof *y, compare_doubles);
    median = y[m / 2];
    for (size_t i = 0; i < n; i++) {
        double e = 0.0;
        for (size_t t = 0; t < S; t++) e += fabs((double)x[(i * T + t + 1) * F + F - 1] - median);
        total += e / (double)S;
    }
    free(y);
    return total / (double)n;
}

static grugan_metric_config config_of(size_t reps, size_t iterations, size_t batch,
                                      uint64_t seed, int threads)
{
    grugan_metric_config c = GRUGAN_METRIC_CONFIG_INIT;
    c.repetitions = reps;
    c.iterations = iterations;
    c.batch_size = batch;
    c.seed = seed;
    c.threads = threads;
    return c;
}

/* ---- known cases ----------------------------------------------------------- */

/* Two disjoint halves of one data set are indistinguishable: score near 0. */
START_TEST(test_discriminative_same_distribution)
{
    const size_t n = 1000, T = 24, F = 5;
    float *x = make_sines(n, T, F, 11);
    const grugan_metric_config c = config_of(2, 100, 64, 1, 1);
    grugan_error err;
    double mean = -1.0, std = -1.0;
    int rc = grugan_discriminative_score(NULL, &c, x, n / 2, x + n / 2 * T * F, n / 2, T, F,
                                         &mean, &std, &err);
    ck_assert_int_eq(rc, GRUGAN_OK);
    ck_assert_int_eq(err.code, GRUGAN_OK);
    ck_assert_str_eq(err.message, "");
    ck_assert(mean >= 0.0 && mean < 0.1);
    ck_assert(std >= 0.0 && std <= 0.5);
    free(x);
}
END_TEST

/* Sines against i.i.d. noise: the classifier separates them, score near 0.5. */
START_TEST(test_discriminative_noise)
{
    const size_t n = 500, T = 24, F = 5;
    float *real = make_sines(n, T, F, 12), *fake = make_noise(n, T, F, 13);
    const grugan_metric_config c = config_of(2, 600, 32, 2, 1);
    double mean = -1.0, std = -1.0;
    ck_assert_int_eq(grugan_discriminative_score(NULL, &c, real, n, fake, n, T, F, &mean, &std,
                                                 NULL),
                     GRUGAN_OK);
    ck_assert(mean > 0.4 && mean <= 0.5);
    ck_assert(std >= 0.0);
    free(real);
    free(fake);
}
END_TEST

/* On Sines a predictor trained on the real data beats the best constant
 * clearly: the target's level depends on the step, which the GRU learns. */
START_TEST(test_predictive_sines)
{
    const size_t n = 500, T = 24, F = 5;
    float *x = make_sines(n, T, F, 14);
    const grugan_metric_config c = config_of(1, 1500, 16, 3, 1);
    const double constant = constant_predictor_mae(x, n, T, F);
    double mean = -1.0, std = -1.0;
    ck_assert_int_eq(grugan_predictive_score(NULL, &c, x, n, x, n, T, F, &mean, &std, NULL),
                     GRUGAN_OK);
    ck_assert(mean > 0.0 && mean < 0.85 * constant);
    ck_assert(std == 0.0); /* one repetition */
    free(x);
}
END_TEST

/* On i.i.d. noise nothing is predictable: no better than the best constant. */
START_TEST(test_predictive_noise)
{
    const size_t n = 500, T = 24, F = 5;
    float *real = make_noise(n, T, F, 15), *fake = make_noise(n, T, F, 16);
    const grugan_metric_config c = config_of(1, 300, 64, 4, 1);
    const double constant = constant_predictor_mae(real, n, T, F);
    double mean = -1.0;
    ck_assert_int_eq(grugan_predictive_score(NULL, &c, real, n, fake, n, T, F, &mean, NULL, NULL),
                     GRUGAN_OK);
    ck_assert(mean >= 0.99 * constant);
    ck_assert(mean < 0.5);
    free(real);
    free(fake);
}
END_TEST

/* ---- determinism ------------------------------------------------------------- */

typedef int (*score_fn)(grugan_context *, const grugan_metric_config *, const float *, size_t,
                        const float *, size_t, size_t, size_t, double *, double *,
                        grugan_error *);

/* The same seed gives the same bits for 1, 2 and 3 threads and across runs;
 * another seed gives another result. */
static void check_deterministic(score_fn score)
{
    const size_t n = 60, T = 12, F = 4;
    float *real = make_sines(n, T, F, 21), *fake = make_noise(n, T, F, 22);
    double mean[4], std[4], other_mean, other_std;
    const int threads[4] = {1, 2, 3, 1};
    for (int k = 0; k < 4; k++) {
        const grugan_metric_config c = config_of(3, 25, 16, 99, threads[k]);
        ck_assert_int_eq(score(NULL, &c, real, n, fake, n, T, F, &mean[k], &std[k], NULL),
                         GRUGAN_OK);
        ck_assert(memcmp(&mean[k], &mean[0], sizeof(double)) == 0);
        ck_assert(memcmp(&std[k], &std[0], sizeof(double)) == 0);
    }
    {
        const grugan_metric_config c = config_of(3, 25, 16, 100, 2);
        ck_assert_int_eq(score(NULL, &c, real, n, fake, n, T, F, &other_mean, &other_std, NULL),
                         GRUGAN_OK);
        ck_assert(other_mean != mean[0] || other_std != std[0]);
    }
    free(real);
    free(fake);
}

START_TEST(test_discriminative_deterministic)
{
    check_deterministic(grugan_discriminative_score);
}
END_TEST

START_TEST(test_predictive_deterministic)
{
    check_deterministic(grugan_predictive_score);
}
END_TEST

/* The repetitions' spread: the population std of per-repetition scores,
 * which a single repetition of each seed reproduces. */
START_TEST(test_repetitions_mean_std)
{
    const size_t n = 40, T = 8, F = 3;
    float *real = make_sines(n, T, F, 31), *fake = make_sines(n, T, F, 32);
    const grugan_metric_config c = config_of(2, 20, 8, 5, 2);
    double mean, std, one_mean, one_std;
    ck_assert_int_eq(grugan_predictive_score(NULL, &c, real, n, fake, n, T, F, &mean, &std, NULL),
                     GRUGAN_OK);
    ck_assert(std >= 0.0);
    /* batch larger than the data: every sequence in every minibatch */
    {
        const grugan_metric_config big = config_of(1, 5, 1000, 5, 1);
        ck_assert_int_eq(grugan_predictive_score(NULL, &big, real, n, fake, n, T, F, &one_mean,
                                                 &one_std, NULL),
                         GRUGAN_OK);
        ck_assert(one_std == 0.0 && one_mean > 0.0);
        ck_assert_int_eq(grugan_discriminative_score(NULL, &big, real, n, fake, n, T, F,
                                                     &one_mean, &one_std, NULL),
                         GRUGAN_OK);
        ck_assert(one_std == 0.0 && one_mean >= 0.0 && one_mean <= 0.5);
    }
    free(real);
    free(fake);
}
END_TEST

/* Repetitions run in pieces (as processes would) give the one call's mean
 * and std bit for bit once summarized in repetition order, for both kinds
 * and several thread counts; bad ranges and kinds are refused. */
START_TEST(test_repetitions_in_pieces)
{
    const size_t n = 40, T = 8, F = 3;
    float *real = make_sines(n, T, F, 41), *fake = make_noise(n, T, F, 42);
    const int32_t kinds[2] = {GRUGAN_METRIC_DISCRIMINATIVE, GRUGAN_METRIC_PREDICTIVE};
    const score_fn whole[2] = {grugan_discriminative_score, grugan_predictive_score};
    grugan_error err;
    for (int k = 0; k < 2; k++) {
        const grugan_metric_config c = config_of(5, 15, 8, 77, 1 + k);
        double mean, std, scores[5] = {0}, m, sd;
        ck_assert_int_eq(whole[k](NULL, &c, real, n, fake, n, T, F, &mean, &std, NULL),
                         GRUGAN_OK);
        /* pieces [0, 2), [2, 3), [3, 5) with 1, 2 and 3 threads */
        for (int piece = 0; piece < 3; piece++) {
            const size_t first = piece == 0 ? 0 : piece == 1 ? 2 : 3;
            const size_t count = piece == 0 ? 2 : piece == 1 ? 1 : 2;
            const grugan_metric_config cp = config_of(5, 15, 8, 77, 1 + piece);
            ck_assert_int_eq(grugan_metric_repetitions(NULL, kinds[k], &cp, first, count, real,
                                                       n, fake, n, T, F, scores + first, &err),
                             GRUGAN_OK);
        }
        ck_assert_int_eq(grugan_metric_summary(scores, 5, &m, &sd), GRUGAN_OK);
        ck_assert(memcmp(&m, &mean, sizeof m) == 0);
        ck_assert(memcmp(&sd, &std, sizeof sd) == 0);
        ck_assert_int_eq(grugan_metric_repetitions(NULL, kinds[k], &c, 4, 2, real, n, fake, n,
                                                   T, F, scores, &err),
                         GRUGAN_E_RANGE);
        ck_assert_int_eq(err.code, GRUGAN_E_RANGE);
        ck_assert(strstr(err.message, "repetitions 4..5") != NULL);
        ck_assert_int_eq(grugan_metric_repetitions(NULL, kinds[k], &c, 0, 0, real, n, fake, n,
                                                   T, F, scores, &err),
                         GRUGAN_E_RANGE);
    }
    {
        const grugan_metric_config c = config_of(2, 5, 8, 1, 1);
        double scores[2], m;
        ck_assert_int_eq(grugan_metric_repetitions(NULL, 7, &c, 0, 1, real, n, fake, n, T, F,
                                                   scores, &err),
                         GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_metric_repetitions(NULL, 0, &c, 0, 1, real, n, fake, n, T, F,
                                                   NULL, &err),
                         GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_metric_summary(scores, 0, &m, NULL), GRUGAN_E_SIZE);
        ck_assert_int_eq(grugan_metric_summary(NULL, 1, &m, NULL), GRUGAN_E_INVALID);
    }
    free(real);
    free(fake);
}
END_TEST

/* ---- refused inputs ---------------------------------------------------------- */

/* Runs one call expected to fail with `code`: its status, err's code and a
 * message, and mean and std left alone. */
static void expect_failure(score_fn score, const grugan_metric_config *c, const float *real,
                           size_t n_real, const float *fake, size_t n_fake, size_t T, size_t F,
                           int code)
{
    grugan_error err;
    double mean = 42.0, std = 43.0;
    const int rc = score(NULL, c, real, n_real, fake, n_fake, T, F, &mean, &std, &err);
    ck_assert_int_eq(rc, code);
    ck_assert_int_eq(err.code, code);
    ck_assert(err.message[0] != '\0');
    ck_assert(mean == 42.0 && std == 43.0);
    /* the same without an error struct */
    ck_assert_int_eq(score(NULL, c, real, n_real, fake, n_fake, T, F, &mean, &std, NULL), code);
}

START_TEST(test_bad_inputs)
{
    const size_t n = 10, T = 6, F = 3, count = n * T * F;
    float *real = make_sines(n, T, F, 41), *fake = make_sines(n, T, F, 42);
    const grugan_metric_config c = config_of(1, 2, 4, 0, 1);
    const score_fn scores[2] = {grugan_discriminative_score, grugan_predictive_score};
    grugan_error err;
    double mean;

    for (int s = 0; s < 2; s++) {
        const score_fn score = scores[s];
        grugan_metric_config bad = c;
        expect_failure(score, &c, NULL, n, fake, n, T, F, GRUGAN_E_INVALID);
        expect_failure(score, &c, real, n, NULL, n, T, F, GRUGAN_E_INVALID);
        ck_assert_int_eq(score(NULL, &c, real, n, fake, n, T, F, NULL, NULL, &err),
                         GRUGAN_E_INVALID);
        ck_assert(err.message[0] != '\0');
        bad.struct_size = 1;
        expect_failure(score, &bad, real, n, fake, n, T, F, GRUGAN_E_INVALID);
        bad.struct_size = sizeof bad + 8;
        expect_failure(score, &bad, real, n, fake, n, T, F, GRUGAN_E_INVALID);
        bad = c;
        bad.threads = -1;
        expect_failure(score, &bad, real, n, fake, n, T, F, GRUGAN_E_RANGE);
        bad.threads = 257;
        expect_failure(score, &bad, real, n, fake, n, T, F, GRUGAN_E_RANGE);
        /* zero sizes */
        expect_failure(score, &c, real, 0, fake, n, T, F, GRUGAN_E_SIZE);
        expect_failure(score, &c, real, n, fake, 0, T, F, GRUGAN_E_SIZE);
        expect_failure(score, &c, real, n, fake, n, 0, F, GRUGAN_E_SIZE);
        expect_failure(score, &c, real, n, fake, n, T, 0, GRUGAN_E_SIZE);
        expect_failure(score, &c, real, n, fake, n, SIZE_MAX / 2, 3, GRUGAN_E_SIZE);
        /* values outside [0, 1], NaN, Inf, in either array, anywhere */
        {
            const float bad_values[4] = {1.5f, -0.25f, NAN, INFINITY};
            const int codes[4] = {GRUGAN_E_RANGE, GRUGAN_E_RANGE, GRUGAN_E_NONFINITE,
                                  GRUGAN_E_NONFINITE};
            for (int v = 0; v < 4; v++) {
                const size_t at = (size_t)(v * 37) % count;
                float keep = real[at];
                real[at] = bad_values[v];
                expect_failure(score, &c, real, n, fake, n, T, F, codes[v]);
                real[at] = keep;
                keep = fake[count - 1 - at];
                fake[count - 1 - at] = bad_values[v];
                expect_failure(score, &c, real, n, fake, n, T, F, codes[v]);
                fake[count - 1 - at] = keep;
            }
        }
    }
    /* the discriminative score splits 80/20: at least 5 sequences each */
    expect_failure(grugan_discriminative_score, &c, real, 4, fake, n, T, F, GRUGAN_E_SIZE);
    expect_failure(grugan_discriminative_score, &c, real, n, fake, 4, T, F, GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_discriminative_score(NULL, &c, real, 5, fake, 5, T, F, &mean, NULL,
                                                 NULL),
                     GRUGAN_OK);
    /* the predictive score needs F >= 2 and T >= 2; one sequence is enough */
    expect_failure(grugan_predictive_score, &c, real, n, fake, n, T, 1, GRUGAN_E_SIZE);
    expect_failure(grugan_predictive_score, &c, real, n, fake, n, 1, F, GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_predictive_score(NULL, &c, real, 1, fake, 1, 2, 2, &mean, NULL, NULL),
                     GRUGAN_OK);
    /* the discriminative score accepts a single step and feature (H = 1) */
    ck_assert_int_eq(grugan_discriminative_score(NULL, &c, real, 5, fake, 5, 1, 1, &mean, NULL,
                                                 NULL),
                     GRUGAN_OK);
    free(real);
    free(fake);
}
END_TEST

/* config NULL: every default (10 repetitions of 2000 iterations), on data
 * small enough to be quick; exact values and bounds. */
START_TEST(test_default_config)
{
    const size_t n = 5, T = 2, F = 2;
    float *real = make_sines(n, T, F, 51), *fake = make_noise(n, T, F, 52);
    grugan_metric_config zero = config_of(0, 0, 0, 0, 0);
    double a, b, sa, sb;
    ck_assert_int_eq(grugan_discriminative_score(NULL, NULL, real, n, fake, n, T, F, &a, &sa,
                                                 NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminative_score(NULL, &zero, real, n, fake, n, T, F, &b, &sb,
                                                 NULL),
                     GRUGAN_OK);
    ck_assert(a == b && sa == sb);
    /* one test sequence of each: every repetition scores 0 or 0.5 */
    ck_assert(a >= 0.0 && a <= 0.5 && sa >= 0.0 && sa <= 0.25);
    free(real);
    free(fake);
}
END_TEST

/* ---- allocation failures ------------------------------------------------------ */

/* Every allocation of a call fails in turn: GRUGAN_E_NOMEM with a message
 * and nothing leaked, until the call has all it needs and succeeds. */
static void sweep_allocations(score_fn score)
{
    const size_t n = 12, T = 5, F = 3;
    float *real = make_sines(n, T, F, 61), *fake = make_noise(n, T, F, 62);
    const grugan_metric_config c = config_of(3, 3, 4, 7, 2); /* two workers */
    double reference, mean;
    size_t k;
    ck_assert_int_eq(score(NULL, &c, real, n, fake, n, T, F, &reference, NULL, NULL), GRUGAN_OK);
    for (k = 1; k < 1000; k++) {
        counting_alloc counts;
        grugan_context *ctx = counting_context(&counts);
        grugan_error err;
        int rc;
        counts.fail_at = counts.allocs + k; /* the k-th allocation of the call */
        rc = score(ctx, &c, real, n, fake, n, T, F, &mean, NULL, &err);
        ck_assert_uint_eq(counts.live, 1); /* the context only */
        grugan_context_free(ctx);
        ck_assert_uint_eq(counts.live, 0);
        if (rc == GRUGAN_OK) {
            ck_assert(counts.allocs < counts.fail_at); /* no allocation was refused */
            ck_assert(memcmp(&mean, &reference, sizeof mean) == 0);
            break;
        }
        ck_assert_int_eq(rc, GRUGAN_E_NOMEM);
        ck_assert_int_eq(err.code, GRUGAN_E_NOMEM);
        ck_assert(err.message[0] != '\0');
    }
    ck_assert(k > 5 && k < 1000);
    free(real);
    free(fake);
}

START_TEST(test_discriminative_alloc_failures)
{
    sweep_allocations(grugan_discriminative_score);
}
END_TEST

START_TEST(test_predictive_alloc_failures)
{
    sweep_allocations(grugan_predictive_score);
}
END_TEST

/* ---- statistics ------------------------------------------------------------- */

START_TEST(test_statistics_identical)
{
    const size_t n = 20, T = 10, F = 3;
    float *x = make_sines(n, T, F, 71), *y = falloc(n * T * F);
    double m = -1.0, s = -1.0, a = -1.0;
    memcpy(y, x, n * T * F * sizeof *y);
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, T, F, T - 1, &m, &s, &a), GRUGAN_OK);
    ck_assert(m == 0.0 && s == 0.0 && a == 0.0);
    /* a constant feature: acf defined as 0, so still 0 */
    for (size_t i = 0; i < n * T; i++) x[i * F + 1] = y[i * F + 1] = 0.25f;
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, T, F, 3, &m, &s, &a), GRUGAN_OK);
    ck_assert(m == 0.0 && s == 0.0 && a == 0.0);
    free(x);
    free(y);
}
END_TEST

/* Direct double-precision statistics of one feature of (n, T, F): mean,
 * population std, and acf at lags 1..max_lag (acf[k - 1]) as the header
 * defines them, written out element by element. */
static void direct_stats(const float *x, size_t n, size_t T, size_t F, size_t f, size_t max_lag,
                         double *mean, double *std, double *acf)
{
    double sum = 0.0, var = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < T; t++) sum += x[(i * T + t) * F + f];
    *mean = sum / (double)(n * T);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < T; t++) {
            const double d = x[(i * T + t) * F + f] - *mean;
            var += d * d;
        }
    var /= (double)(n * T);
    *std = sqrt(var);
    for (size_t k = 1; k <= max_lag; k++) {
        double c = 0.0;
        size_t pairs = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t + k < T; t++, pairs++)
                c += (x[(i * T + t) * F + f] - *mean) * (x[(i * T + t + k) * F + f] - *mean);
        acf[k - 1] = c / (double)pairs / var;
    }
}

START_TEST(test_statistics_direct)
{
    const size_t nr = 3, ns = 2, T = 5, F = 2, L = 2;
    float *x = make_noise(nr, T, F, 81), *y = make_sines(ns, T, F, 82);
    double m, s, a, em = 0.0, es = 0.0, ea = 0.0;
    for (size_t i = 0; i < nr * T * F; i++) x[i] = 4.0f * x[i] - 1.5f; /* unscaled is fine */
    for (size_t f = 0; f < F; f++) {
        double mx, sx, ax[2], my, sy, ay[2];
        direct_stats(x, nr, T, F, f, L, &mx, &sx, ax);
        direct_stats(y, ns, T, F, f, L, &my, &sy, ay);
        em += fabs(mx - my) / (double)F;
        es += fabs(sx - sy) / (double)F;
        ea += (fabs(ax[0] - ay[0]) + fabs(ax[1] - ay[1])) / (double)L / (double)F;
    }
    ck_assert_int_eq(grugan_statistics_error(x, nr, y, ns, T, F, L, &m, &s, &a), GRUGAN_OK);
    ck_assert(fabs(m - em) <= 1e-12 * (1.0 + em));
    ck_assert(fabs(s - es) <= 1e-12 * (1.0 + es));
    ck_assert(fabs(a - ea) <= 1e-12 * (1.0 + ea));
    ck_assert(m > 0.0 && s > 0.0 && a > 0.0);
    /* each output alone gives the same value */
    {
        double m2 = -1.0, s2 = -1.0, a2 = -1.0;
        ck_assert_int_eq(grugan_statistics_error(x, nr, y, ns, T, F, 0, &m2, NULL, NULL),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_statistics_error(x, nr, y, ns, T, F, 0, NULL, &s2, NULL),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_statistics_error(x, nr, y, ns, T, F, L, NULL, NULL, &a2),
                         GRUGAN_OK);
        ck_assert(m2 == m && s2 == s && a2 == a);
    }
    free(x);
    free(y);
}
END_TEST

START_TEST(test_statistics_bad)
{
    const size_t n = 4, T = 6, F = 2;
    float *x = make_sines(n, T, F, 91), *y = make_sines(n, T, F, 92);
    double m = 7.0, s = 7.0, a = 7.0;
    ck_assert_int_eq(grugan_statistics_error(NULL, n, y, n, T, F, 1, &m, &s, &a),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_statistics_error(x, n, NULL, n, T, F, 1, &m, &s, &a),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_statistics_error(x, 0, y, n, T, F, 1, &m, &s, &a), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_statistics_error(x, n, y, 0, T, F, 1, &m, &s, &a), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, 0, F, 1, &m, &s, &a), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, T, 0, 1, &m, &s, &a), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, SIZE_MAX / 2, 4, 1, &m, &s, &a),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, T, F, 0, &m, &s, &a), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, T, F, T, &m, &s, &a), GRUGAN_E_RANGE);
    x[5] = NAN;
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, T, F, 1, &m, &s, &a),
                     GRUGAN_E_NONFINITE);
    x[5] = 0.5f;
    y[n * T * F - 1] = -INFINITY;
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, T, F, 1, &m, &s, &a),
                     GRUGAN_E_NONFINITE);
    ck_assert(m == 7.0 && s == 7.0 && a == 7.0);
    y[n * T * F - 1] = 0.5f;
    /* max_lag is not checked when acf_error is not asked for */
    ck_assert_int_eq(grugan_statistics_error(x, n, y, n, T, F, T + 5, &m, &s, NULL), GRUGAN_OK);
    free(x);
    free(y);
}
END_TEST

Suite *suite_metrics(void)
{
    Suite *s = suite_create("metrics");
    TCase *known = tcase_create("known cases");
    TCase *rules = tcase_create("determinism and errors");
    TCase *stats = tcase_create("statistics");
    tcase_set_timeout(known, 120);
    tcase_set_timeout(rules, 120);
    tcase_add_test(known, test_discriminative_same_distribution);
    tcase_add_test(known, test_discriminative_noise);
    tcase_add_test(known, test_predictive_sines);
    tcase_add_test(known, test_predictive_noise);
    tcase_add_test(rules, test_discriminative_deterministic);
    tcase_add_test(rules, test_predictive_deterministic);
    tcase_add_test(rules, test_repetitions_mean_std);
    tcase_add_test(rules, test_repetitions_in_pieces);
    tcase_add_test(rules, test_bad_inputs);
    tcase_add_test(rules, test_default_config);
    tcase_add_test(rules, test_discriminative_alloc_failures);
    tcase_add_test(rules, test_predictive_alloc_failures);
    tcase_add_test(stats, test_statistics_identical);
    tcase_add_test(stats, test_statistics_direct);
    tcase_add_test(stats, test_statistics_bad);
    suite_add_tcase(s, known);
    suite_add_tcase(s, rules);
    suite_add_tcase(s, stats);
    return s;
}
