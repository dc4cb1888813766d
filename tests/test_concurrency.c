/* test_concurrency.c - several threads, each with its own context, dataset,
 * models, optimizers and trainer, train at the same time and end with the
 * same bits as the same runs done one after another: the library has no
 * shared mutable state, and a handle's results do not depend on what other
 * threads do (nor on its own thread count). */
#include "suites.h"

#include "grugan.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNS = 3, N = 48, T = 8, F = 3, B = 8, STEPS = 40 };

/* One independent training run and its result. */
typedef struct run {
    int index;      /* seeds and settings derive from it */
    pthread_barrier_t *start; /* NULL, or where the threads wait to start together */
    int threads;    /* the trainer's thread count */
    size_t allocs;  /* allocations through this run's context */
    float *result;  /* both models' parameters and a sample, flat */
    size_t count;
    uint64_t skipped;
    int status;     /* GRUGAN_OK, or the first failure */
    char message[256];
} run;

/* Counts the allocations of one context (the hooks are per context, so each
 * thread counts its own without locking). */
typedef struct counter {
    size_t allocs, live;
} counter;

static void *count_alloc(size_t size, void *user)
{
    counter *c = user;
    c->allocs++;
    c->live++;
    return malloc(size);
}

static void count_free(void *ptr, void *user)
{
    counter *c = user;
    c->live--;
    free(ptr);
}

#define CHECK(call)                                                                  \
    do {                                                                             \
        int st_ = (call);                                                            \
        if (st_ != GRUGAN_OK && r->status == GRUGAN_OK) {                            \
            r->status = st_;                                                         \
            snprintf(r->message, sizeof r->message, "%.60s: %.180s", #call, err.message); \
        }                                                                            \
    } while (0)

/* The whole run; no Check assertion here (they are not thread-safe): the
 * outcome goes into r. */
static void *train(void *arg)
{
    run *r = arg;
    const int k = r->index;
    counter counts = {0, 0};
    grugan_context_config cc = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_context *ctx = NULL;
    grugan_dataset *data = NULL;
    grugan_generator *gen = NULL;
    grugan_discriminator *disc = NULL;
    grugan_optimizer *gen_opt = NULL, *disc_opt = NULL;
    grugan_trainer *tr = NULL;
    grugan_progress p;
    grugan_error err;
    float *x = malloc(N * T * F * sizeof *x);
    size_t ng = 0, nd = 0, ns = 4 * T * F;

    memset(&err, 0, sizeof err);
    r->status = x ? GRUGAN_OK : GRUGAN_E_NOMEM;
    for (size_t i = 0; x && i < N; i++)
        for (size_t t = 0; t < T; t++)
            for (size_t f = 0; f < F; f++)
                x[(i * T + t) * F + f] =
                    sinf((0.1f + 0.05f * (float)f) * (float)t + 0.3f * (float)i + (float)k);
    cc.alloc = count_alloc;
    cc.free = count_free;
    cc.alloc_user = &counts;
    CHECK(grugan_context_create(&cc, &ctx, &err));
    dc.seed = (uint64_t)(100 + k);
    CHECK(grugan_dataset_from_array(ctx, &dc, x, N, T, F, NULL, 0, NULL, &data, &err));
    gc.noise_size = 4;
    gc.output_size = F;
    gc.hidden_size = 8 + (size_t)k;
    gc.num_layers = 2;
    gc.seed = (uint64_t)(200 + k);
    CHECK(grugan_generator_create(ctx, &gc, &gen, &err));
    dic.kind = k == 1 ? GRUGAN_DISC_CONV1D : GRUGAN_DISC_GRU;
    dic.input_size = F;
    dic.hidden_size = 6;
    dic.num_layers = 1;
    dic.sequence_length = T;
    dic.channels = 4;
    dic.conv_layers = 2;
    dic.seed = (uint64_t)(300 + k);
    CHECK(grugan_discriminator_create(ctx, &dic, &disc, &err));
    if (r->status == GRUGAN_OK) {
        oc.kind = k == 2 ? GRUGAN_OPT_RMSPROP : GRUGAN_OPT_ADAM;
        CHECK(grugan_optimizer_create(ctx, &oc, grugan_generator_params(gen), &gen_opt, &err));
        CHECK(grugan_optimizer_create(ctx, &oc, grugan_discriminator_params(disc), &disc_opt,
                                      &err));
    }
    tc.batch_size = B;
    tc.threads = r->threads;
    tc.feature_matching = k == 0 ? 0.5f : 0.0f;
    tc.d_steps = k == 2 ? 2 : 1;
    CHECK(grugan_trainer_create(ctx, &tc, gen, disc, gen_opt, disc_opt, data, &tr, &err));
    if (r->start) pthread_barrier_wait(r->start);
    for (int s = 0; s < STEPS && r->status == GRUGAN_OK; s++) {
        const int st = grugan_trainer_step(tr);
        if (st != GRUGAN_OK) {
            r->status = st;
            snprintf(r->message, sizeof r->message, "step %d: %s", s, grugan_trainer_message(tr));
        }
    }
    if (r->status == GRUGAN_OK) {
        ng = grugan_params_num_scalars(grugan_generator_params(gen));
        nd = grugan_params_num_scalars(grugan_discriminator_params(disc));
        r->count = ng + nd + ns;
        r->result = malloc(r->count * sizeof *r->result);
        if (!r->result) r->status = GRUGAN_E_NOMEM;
    }
    if (r->status == GRUGAN_OK) {
        CHECK(grugan_params_read_all(grugan_generator_params(gen), r->result, ng));
        CHECK(grugan_params_read_all(grugan_discriminator_params(disc), r->result + ng, nd));
        CHECK(grugan_generator_sample(gen, 9, 4, T, NULL, NULL, r->result + ng + nd));
        p.struct_size = sizeof p;
        CHECK(grugan_trainer_progress(tr, &p));
        r->skipped = p.skipped;
    }
    grugan_trainer_free(tr);
    grugan_optimizer_free(gen_opt);
    grugan_optimizer_free(disc_opt);
    grugan_generator_free(gen);
    grugan_discriminator_free(disc);
    grugan_dataset_free(data);
    if (counts.live != (ctx ? 1u : 0u) && r->status == GRUGAN_OK) {
        r->status = GRUGAN_E_INTERNAL;
        snprintf(r->message, sizeof r->message, "%zu allocations not freed", counts.live);
    }
    grugan_context_free(ctx);
    r->allocs = counts.allocs;
    free(x);
    return NULL;
}

static void runs_init(run *runs, const int *threads)
{
    memset(runs, 0, RUNS * sizeof *runs);
    for (int i = 0; i < RUNS; i++) {
        runs[i].index = i;
        runs[i].threads = threads[i];
    }
}

static void runs_free(run *runs)
{
    for (int i = 0; i < RUNS; i++) free(runs[i].result);
}

static void assert_same(const run *a, const run *b)
{
    for (int i = 0; i < RUNS; i++) {
        ck_assert_msg(a[i].status == GRUGAN_OK, "run %d: %s", i, a[i].message);
        ck_assert_msg(b[i].status == GRUGAN_OK, "run %d: %s", i, b[i].message);
        ck_assert_uint_eq(a[i].count, b[i].count);
        ck_assert_msg(memcmp(a[i].result, b[i].result, a[i].count * sizeof(float)) == 0,
                      "run %d differs when run concurrently", i);
        ck_assert_uint_eq(a[i].skipped, b[i].skipped);
        ck_assert_uint_eq(a[i].allocs, b[i].allocs);
    }
}

/* RUNS runs one after another, each with seq_threads[i] threads, give the
 * bits of the same runs done at the same time with par_threads[i]. */
static void concurrent_equals_sequential(const int *seq_threads, const int *par_threads)
{
    run seq[RUNS], par[RUNS];
    pthread_t tid[RUNS];
    pthread_barrier_t start;
    runs_init(seq, seq_threads);
    runs_init(par, par_threads);
    for (int i = 0; i < RUNS; i++) train(&seq[i]);
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, RUNS), 0);
    for (int i = 0; i < RUNS; i++) {
        par[i].start = &start;
        ck_assert_int_eq(pthread_create(&tid[i], NULL, train, &par[i]), 0);
    }
    for (int i = 0; i < RUNS; i++) ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
    pthread_barrier_destroy(&start);
    assert_same(seq, par);
    /* the runs differ from each other (the comparison is not vacuous) */
    ck_assert(seq[0].count != seq[1].count ||
              memcmp(seq[0].result, seq[1].result, seq[0].count * sizeof(float)) != 0);
    runs_free(seq);
    runs_free(par);
}

START_TEST(threads_each_with_their_own_handles_match_sequential_runs)
{
    static const int one[RUNS] = {1, 1, 1};
    concurrent_equals_sequential(one, one);
}
END_TEST

/* The same, each trainer also running its products on 2 threads, and the
 * sequential reference on 1: thread counts do not change the bits either. */
START_TEST(threads_with_inner_threads_match_single_threaded_runs)
{
    static const int one[RUNS] = {1, 1, 1}, two[RUNS] = {2, 2, 2};
    concurrent_equals_sequential(one, two);
}
END_TEST

/* Concurrent read-only use of shared inputs: several threads computing the
 * statistics and a loss from the same arrays at once get the same bits. */
typedef struct shared_job {
    const float *real, *synth;
    double mean, std, acf;
    float loss;
    int status;
} shared_job;

static void *shared_work(void *arg)
{
    shared_job *j = arg;
    j->status = grugan_statistics_error(j->real, N, j->synth, N, T, F, 3, &j->mean, &j->std,
                                        &j->acf);
    if (j->status == GRUGAN_OK)
        j->status = grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_FAKE, N, T * F, j->synth, NULL,
                                0.0f, &j->loss, NULL);
    return NULL;
}

START_TEST(functions_without_handles_share_inputs_safely)
{
    float *real = malloc(N * T * F * sizeof *real), *synth = malloc(N * T * F * sizeof *synth);
    shared_job jobs[4];
    pthread_t tid[4];
    for (size_t i = 0; i < (size_t)N * T * F; i++) {
        real[i] = sinf(0.01f * (float)i);
        synth[i] = cosf(0.013f * (float)i);
    }
    for (int i = 0; i < 4; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].real = real;
        jobs[i].synth = synth;
        ck_assert_int_eq(pthread_create(&tid[i], NULL, shared_work, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(jobs[i].status, GRUGAN_OK);
        ck_assert(memcmp(&jobs[i].mean, &jobs[0].mean, sizeof(double)) == 0);
        ck_assert(memcmp(&jobs[i].std, &jobs[0].std, sizeof(double)) == 0);
        ck_assert(memcmp(&jobs[i].acf, &jobs[0].acf, sizeof(double)) == 0);
        ck_assert(memcmp(&jobs[i].loss, &jobs[0].loss, sizeof(float)) == 0);
    }
    free(real);
    free(synth);
}
END_TEST

/* The allocator and log hooks of a context are called from the thread that
 * called the library, also by the metrics running repetitions on worker
 * threads: hooks of a context used by one thread need no locking. */
typedef struct thread_check {
    pthread_t caller;
    size_t calls, foreign;
} thread_check;

static void *checked_alloc(size_t size, void *user)
{
    thread_check *c = user;
    c->calls++;
    c->foreign += !pthread_equal(pthread_self(), c->caller);
    return malloc(size);
}

static void checked_free(void *ptr, void *user)
{
    thread_check *c = user;
    c->calls++;
    c->foreign += !pthread_equal(pthread_self(), c->caller);
    free(ptr);
}

static void checked_log(int level, const char *message, void *user)
{
    thread_check *c = user;
    (void)level;
    (void)message;
    c->calls++;
    c->foreign += !pthread_equal(pthread_self(), c->caller);
}

START_TEST(hooks_are_called_from_the_calling_thread)
{
    thread_check alloc_check = {pthread_self(), 0, 0}, log_check = {pthread_self(), 0, 0};
    grugan_context_config cc = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
    grugan_context *ctx = NULL;
    float *real = malloc(N * T * F * sizeof *real), *synth = malloc(N * T * F * sizeof *synth);
    double mean, std;
    cc.alloc = checked_alloc;
    cc.free = checked_free;
    cc.alloc_user = &alloc_check;
    cc.log = checked_log;
    cc.log_user = &log_check;
    cc.log_level = GRUGAN_LOG_DEBUG;
    ck_assert_int_eq(grugan_context_create(&cc, &ctx, NULL), GRUGAN_OK);
    for (size_t i = 0; i < (size_t)N * T * F; i++) {
        real[i] = 0.5f + 0.4f * sinf(0.01f * (float)i);
        synth[i] = 0.5f + 0.4f * cosf(0.013f * (float)i);
    }
    mc.repetitions = 4;
    mc.iterations = 5;
    mc.batch_size = 8;
    mc.threads = 2;
    ck_assert_int_eq(grugan_discriminative_score(ctx, &mc, real, N, synth, N, T, F, &mean, &std,
                                                 NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_predictive_score(ctx, &mc, real, N, synth, N, T, F, &mean, &std, NULL),
                     GRUGAN_OK);
    /* a failure is logged from the caller too */
    real[0] = 2.0f;
    ck_assert_int_eq(grugan_predictive_score(ctx, &mc, real, N, synth, N, T, F, &mean, &std, NULL),
                     GRUGAN_E_RANGE);
    grugan_context_free(ctx);
    ck_assert_uint_gt(alloc_check.calls, 0);
    ck_assert_uint_gt(log_check.calls, 0);
    ck_assert_uint_eq(alloc_check.foreign, 0);
    ck_assert_uint_eq(log_check.foreign, 0);
    free(real);
    free(synth);
}
END_TEST

Suite *suite_concurrency(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, threads_each_with_their_own_handles_match_sequential_runs);
    tcase_add_test(tc, threads_with_inner_threads_match_single_threaded_runs);
    tcase_add_test(tc, functions_without_handles_share_inputs_safely);
    tcase_add_test(tc, hooks_are_called_from_the_calling_thread);
    suite_add_tcase(s, tc);
    return s;
}
