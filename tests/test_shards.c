/* test_shards.c - data-parallel training: sharded gradients, the reduction
 * hook with workers simulated by threads, the per-shard moment statistics. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"
#include "train/trainer_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 64, T = 8, F = 2, MAX_WORKERS = 6 };

static void world_make(gan_world *w, int disc_kind, const grugan_trainer_config *tc)
{
    float *x = malloc(N * T * F * sizeof *x);
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    fill_sines(x, N, T, F, 7);
    gc.noise_size = 3;
    gc.output_size = F;
    gc.hidden_size = 8;
    gc.num_layers = 2;
    gc.seed = 11;
    dic.kind = disc_kind;
    dic.input_size = F;
    dic.hidden_size = 8;
    dic.num_layers = 1;
    dic.sequence_length = T;
    dic.channels = 4;
    dic.conv_layers = 2;
    dic.seed = 12;
    gan_world_make(w, NULL, x, N, T, F, 3, &gc, &dic, tc);
    free(x);
}

static grugan_trainer_config sharded(size_t batch, int64_t shards)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    tc.batch_size = batch;
    tc.shards = shards;
    tc.total_steps = 100;
    return tc;
}

/* Both models' parameters (values, or gradients), flat, into a new array. */
static float *snapshot(const gan_world *w, bool grads, size_t *count)
{
    grugan_params *g = grugan_generator_params(w->gen), *d = grugan_discriminator_params(w->disc);
    size_t ng = grugan_params_num_scalars(g), nd = grugan_params_num_scalars(d), at = 0;
    float *all = malloc((ng + nd) * sizeof *all);
    grugan_params *both[2] = {g, d};
    for (int m = 0; m < 2; m++)
        for (size_t i = 0; i < grugan_params_count(both[m]); i++) {
            const char *name;
            size_t ndim, shape[4], n = 1;
            ck_assert_int_eq(grugan_params_info(both[m], i, &name, &ndim, shape), GRUGAN_OK);
            for (size_t k = 0; k < ndim; k++) n *= shape[k];
            if (grads)
                ck_assert_int_eq(grugan_params_grad_read(both[m], i, all + at, n), GRUGAN_OK);
            else
                ck_assert_int_eq(grugan_params_read(both[m], i, all + at, n), GRUGAN_OK);
            at += n;
        }
    ck_assert_uint_eq(at, ng + nd);
    *count = at;
    return all;
}

static void run_steps(gan_world *w, int steps)
{
    for (int i = 0; i < steps; i++)
        ck_assert_msg(grugan_trainer_step(w->tr) == GRUGAN_OK, "%s",
                      grugan_trainer_message(w->tr));
}

/* ---- workers as threads: a reducer that sums in rank order ----------------- */

typedef struct shared {
    pthread_barrier_t barrier;
    int world;
    float *buf[MAX_WORKERS];
    size_t count[MAX_WORKERS];
    int32_t what[MAX_WORKERS];
    float *sum;
    size_t cap;
    int calls; /* reductions seen by rank 0 */
    bool mismatch;
} shared;

typedef struct worker {
    shared *sh;
    int rank;
    gan_world w;
    int steps;
    int rc;
} worker;

static int rank_order_reduce(float *buffer, size_t count, int32_t what, void *user)
{
    worker *me = user;
    shared *sh = me->sh;
    sh->buf[me->rank] = buffer;
    sh->count[me->rank] = count;
    sh->what[me->rank] = what;
    pthread_barrier_wait(&sh->barrier);
    if (me->rank == 0) {
        sh->calls++;
        for (int r = 1; r < sh->world; r++)
            if (sh->count[r] != count || sh->what[r] != what) sh->mismatch = true;
        if (count > sh->cap) sh->mismatch = true;
        else {
            memcpy(sh->sum, sh->buf[0], count * sizeof(float));
            for (int r = 1; r < sh->world; r++)
                for (size_t i = 0; i < count; i++) sh->sum[i] += sh->buf[r][i];
        }
    }
    pthread_barrier_wait(&sh->barrier);
    if (!sh->mismatch) memcpy(buffer, sh->sum, count * sizeof(float));
    pthread_barrier_wait(&sh->barrier);
    return sh->mismatch ? 1 : 0;
}

static void *worker_main(void *arg)
{
    worker *me = arg;
    me->rc = GRUGAN_OK;
    for (int i = 0; i < me->steps && me->rc == GRUGAN_OK; i++) me->rc = grugan_trainer_step(me->w.tr);
    return NULL;
}

/* Trains `world` workers for `steps` steps in lockstep; returns worker 0's
 * parameters (every worker's are checked equal to them). */
static float *train_workers(int disc_kind, const grugan_trainer_config *tc, int world, int steps,
                            size_t *count, int *calls)
{
    shared sh;
    worker wk[MAX_WORKERS];
    pthread_t th[MAX_WORKERS];
    float *first = NULL;
    memset(&sh, 0, sizeof sh);
    sh.world = world;
    sh.cap = 1u << 20;
    sh.sum = malloc(sh.cap * sizeof(float));
    ck_assert_int_eq(pthread_barrier_init(&sh.barrier, NULL, (unsigned)world), 0);
    for (int r = 0; r < world; r++) {
        wk[r].sh = &sh;
        wk[r].rank = r;
        wk[r].steps = steps;
        world_make(&wk[r].w, disc_kind, tc);
        ck_assert_int_eq(grugan_trainer_set_reducer(wk[r].w.tr, r, world, rank_order_reduce,
                                                    &wk[r]),
                         GRUGAN_OK);
    }
    for (int r = 0; r < world; r++)
        ck_assert_int_eq(pthread_create(&th[r], NULL, worker_main, &wk[r]), 0);
    for (int r = 0; r < world; r++) pthread_join(th[r], NULL);
    ck_assert(!sh.mismatch);
    for (int r = 0; r < world; r++) {
        size_t n;
        float *mine;
        ck_assert_msg(wk[r].rc == GRUGAN_OK, "rank %d: %s", r, grugan_trainer_message(wk[r].w.tr));
        mine = snapshot(&wk[r].w, false, &n);
        if (!first) {
            first = mine;
            *count = n;
        } else {
            ck_assert_uint_eq(n, *count);
            ck_assert_msg(memcmp(first, mine, n * sizeof *mine) == 0, "rank %d differs", r);
            free(mine);
        }
        gan_world_free(&wk[r].w);
    }
    *calls = sh.calls;
    pthread_barrier_destroy(&sh.barrier);
    free(sh.sum);
    return first;
}

/* 1, 2, 3 and 6 workers over 6 shards give the bits of one trainer that
 * computes all 6 shards, with moment and difference matching and instance
 * noise (the defaults on this small dataset). */
static void check_workers(int disc_kind)
{
    const grugan_trainer_config tc = sharded(12, 6);
    const int steps = 4, worlds[] = {1, 2, 3, 6};
    gan_world ref;
    size_t n;
    float *want;
    world_make(&ref, disc_kind, &tc);
    run_steps(&ref, steps);
    want = snapshot(&ref, false, &n);
    for (size_t k = 0; k < sizeof worlds / sizeof worlds[0]; k++) {
        size_t m;
        int calls;
        float *got = train_workers(disc_kind, &tc, worlds[k], steps, &m, &calls);
        ck_assert_uint_eq(m, n);
        ck_assert_msg(memcmp(want, got, n * sizeof *got) == 0, "%d workers differ", worlds[k]);
        /* per step: the discriminator, the statistics, the generator */
        ck_assert_int_eq(calls, 3 * steps);
        free(got);
    }
    free(want);
    gan_world_free(&ref);
}

START_TEST(workers_give_the_bits_of_one_gru)
{
    check_workers(GRUGAN_DISC_GRU);
}
END_TEST

START_TEST(workers_give_the_bits_of_one_conv)
{
    check_workers(GRUGAN_DISC_CONV1D);
}
END_TEST

/* Largest |a - b| relative to the largest |a|. */
static double relative_gap(const float *a, const float *b, size_t n)
{
    double gap = 0, top = 0;
    for (size_t i = 0; i < n; i++) {
        gap = fmax(gap, fabs((double)a[i] - (double)b[i]));
        top = fmax(top, fabs((double)a[i]));
    }
    return top > 0 ? gap / top : gap;
}

/* The sum of the shard gradients is the gradient of the whole batch, up to
 * float rounding: S = 4 against S = 1 after one step (the gradients stay in
 * the models' gradient blocks after the update). */
START_TEST(shards_compute_the_whole_batch_gradient)
{
    const int kinds[] = {GRUGAN_DISC_GRU, GRUGAN_DISC_CONV1D};
    for (int k = 0; k < 2; k++) {
        grugan_trainer_config one = sharded(16, 1), four = sharded(16, 4);
        gan_world a, b;
        grugan_progress pa, pb;
        size_t n;
        float *ga, *gb, *va, *vb;
        world_make(&a, kinds[k], &one);
        world_make(&b, kinds[k], &four);
        run_steps(&a, 1);
        run_steps(&b, 1);
        ga = snapshot(&a, true, &n);
        gb = snapshot(&b, true, &n);
        ck_assert_msg(relative_gap(ga, gb, n) < 1e-4, "gradient gap %g", relative_gap(ga, gb, n));
        ck_assert(memcmp(ga, gb, n * sizeof *ga) != 0); /* a different sum, truly */
        va = snapshot(&a, false, &n);
        vb = snapshot(&b, false, &n);
        ck_assert(relative_gap(va, vb, n) < 1e-5);
        pa.struct_size = pb.struct_size = sizeof pa;
        grugan_trainer_progress(a.tr, &pa);
        grugan_trainer_progress(b.tr, &pb);
        ck_assert(fabs(pa.d_loss - pb.d_loss) < 1e-5 * fabs(pa.d_loss));
        ck_assert(fabs(pa.g_loss - pb.g_loss) < 1e-4 * fabs(pa.g_loss));
        ck_assert(fabs(pa.d_real - pb.d_real) < 1e-5 && fabs(pa.d_fake - pb.d_fake) < 1e-5);
        ck_assert(fabs(pa.d_grad_norm - pb.d_grad_norm) < 1e-4 * pa.d_grad_norm);
        ck_assert(fabs(pa.g_grad_norm - pb.g_grad_norm) < 1e-4 * pa.g_grad_norm);
        free(ga);
        free(gb);
        free(va);
        free(vb);
        gan_world_free(&a);
        gan_world_free(&b);
    }
}
END_TEST

/* A resumed sharded run continues with the same bits. */
START_TEST(sharded_training_resumes_exactly)
{
    const grugan_trainer_config tc = sharded(12, 3);
    gan_world a, b;
    size_t n, size;
    float *want, *got;
    void *buf;
    world_make(&a, GRUGAN_DISC_CONV1D, &tc);
    run_steps(&a, 2);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, NULL, 0, &size), GRUGAN_OK);
    buf = malloc(size);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, buf, size, &size), GRUGAN_OK);
    run_steps(&a, 3);
    want = snapshot(&a, false, &n);
    world_make(&b, GRUGAN_DISC_CONV1D, &tc);
    ck_assert_int_eq(grugan_trainer_load_buffer(b.tr, buf, size), GRUGAN_OK);
    run_steps(&b, 3);
    got = snapshot(&b, false, &n);
    ck_assert(memcmp(want, got, n * sizeof *got) == 0);
    free(buf);
    free(want);
    free(got);
    gan_world_free(&a);
    gan_world_free(&b);
}
END_TEST

static int refuse(float *buffer, size_t count, int32_t what, void *user)
{
    (void)buffer;
    (void)count;
    (void)what;
    (void)user;
    return 7;
}

START_TEST(a_reducer_can_stop_a_step)
{
    const grugan_trainer_config tc = sharded(12, 2);
    gan_world w;
    size_t n;
    float *before, *after;
    grugan_progress p;
    world_make(&w, GRUGAN_DISC_GRU, &tc);
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 1, 2, refuse, NULL), GRUGAN_OK);
    before = snapshot(&w, false, &n);
    ck_assert_int_eq(grugan_trainer_step(w.tr), GRUGAN_E_ABORTED);
    ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "reducer"));
    after = snapshot(&w, false, &n);
    ck_assert(memcmp(before, after, n * sizeof *after) == 0);
    p.struct_size = sizeof p;
    grugan_trainer_progress(w.tr, &p);
    ck_assert_uint_eq(p.step, 0);
    /* back to one process: the step runs */
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 0, 1, NULL, NULL), GRUGAN_OK);
    run_steps(&w, 1);
    free(before);
    free(after);
    gan_world_free(&w);
}
END_TEST

START_TEST(shard_settings_are_checked)
{
    grugan_trainer_config tc = sharded(16, 1);
    gan_world w;
    world_make(&w, GRUGAN_DISC_CONV1D, &tc);
    {
        grugan_trainer *tr = NULL;
        grugan_error err;
        const struct {
            int64_t shards;
            float fm, r1;
            int code;
        } bad[] = {{5, 0, 0, GRUGAN_E_SIZE},        {-1, 0, 0, GRUGAN_E_RANGE},
                   {4097, 0, 0, GRUGAN_E_RANGE},    {2, 1.0f, 0, GRUGAN_E_UNSUPPORTED},
                   {4, 0, 1.0f, GRUGAN_E_UNSUPPORTED}};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            tc.shards = bad[i].shards;
            tc.feature_matching = bad[i].fm;
            tc.r1_gamma = bad[i].r1;
            ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt,
                                                   w.disc_opt, w.data, &tr, &err),
                             bad[i].code);
            ck_assert_ptr_null(tr);
            ck_assert_ptr_nonnull(strstr(err.message, "shards"));
        }
    }
    /* the one-shard trainer takes one worker only */
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 0, 2, refuse, NULL), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 0, 1, refuse, NULL), GRUGAN_OK);
    run_steps(&w, 1); /* one shard: nothing to reduce, the reducer is never called */
    ck_assert_int_eq(grugan_trainer_set_reducer(NULL, 0, 1, NULL, NULL), GRUGAN_E_INVALID);
    gan_world_free(&w);

    tc = sharded(16, 4);
    world_make(&w, GRUGAN_DISC_CONV1D, &tc);
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 0, 0, refuse, NULL), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 0, 5, refuse, NULL), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 3, 3, refuse, NULL), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, -1, 3, refuse, NULL), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 0, 2, NULL, NULL), GRUGAN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "reducer"));
    ck_assert_int_eq(grugan_trainer_set_reducer(w.tr, 2, 3, refuse, NULL), GRUGAN_OK);
    ck_assert_str_eq(grugan_trainer_message(w.tr), "");
    gan_world_free(&w);
}
END_TEST

/* ---- the per-shard statistics against a double reference ------------------- */

enum { MR = 7, MF = 9, MT = 5, MF_ = 3 };

/* v[i][j]: the value, or the change over `lag`. */
static double ref_value(const double *x, size_t i, size_t j, size_t lag)
{
    const double *row = x + i * MT * MF_;
    return lag ? row[j + lag] - row[j] : row[j];
}

/* Moment matching in double, two passes: the oracle. */
static double ref_match(const double *real, const double *fake, size_t dim, size_t lag)
{
    double value = 0;
    for (size_t j = 0; j < dim; j++) {
        double m[2] = {0, 0}, v[2] = {0, 0};
        const double *x[2] = {real, fake};
        const size_t n[2] = {MR, MF};
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; i < n[k]; i++) m[k] += ref_value(x[k], i, j, lag);
            m[k] /= (double)n[k];
            for (size_t i = 0; i < n[k]; i++) {
                const double d = ref_value(x[k], i, j, lag) - m[k];
                v[k] += d * d;
            }
            v[k] = sqrt(v[k] / (double)n[k] + 1e-6);
        }
        value += fabs(v[0] - v[1]) + fabs(m[0] - m[1]);
    }
    return value / (double)dim;
}

/* Rows split into uneven shards (real 3 + 4, generated 2 + 3 + 4): value
 * against the reference, gradient against its central differences. */
START_TEST(shard_statistics_match_a_double_reference)
{
    const size_t seq = MT * MF_, lags[2] = {0, MF_};
    const size_t real_cut[] = {0, 3, MR}, fake_cut[] = {0, 2, 5, MF};
    float real[MR * MT * MF_], fake[MF * MT * MF_], d_fake[MF * MT * MF_];
    double dreal[MR * MT * MF_], dfake[MF * MT * MF_];
    unsigned s = 5;
    for (size_t i = 0; i < MR * seq; i++) {
        s = s * 1103515245u + 12345u;
        real[i] = (float)(s >> 8) / 16777216.0f;
        dreal[i] = real[i];
    }
    for (size_t i = 0; i < MF * seq; i++) {
        s = s * 1103515245u + 12345u;
        fake[i] = 0.8f * (float)(s >> 8) / 16777216.0f + 0.05f;
        dfake[i] = fake[i];
    }
    for (int l = 0; l < 2; l++) {
        const size_t lag = lags[l], dim = seq - lag, slot = 4 * dim;
        float sums_real[2 * 4 * MT * MF_], sums_fake[3 * 4 * MT * MF_];
        double moments[4 * MT * MF_], value = 0, want;
        for (int k = 0; k < 2; k++)
            grugan__shard_sums(real + real_cut[k] * seq, real_cut[k + 1] - real_cut[k], seq, dim,
                               lag, sums_real + k * slot);
        for (int k = 0; k < 3; k++)
            grugan__shard_sums(fake + fake_cut[k] * seq, fake_cut[k + 1] - fake_cut[k], seq, dim,
                               lag, sums_fake + k * slot);
        grugan__shard_moments(sums_real, 2, slot, MR, dim, moments, moments + dim);
        grugan__shard_moments(sums_fake, 3, slot, MF, dim, moments + 2 * dim, moments + 3 * dim);
        /* the gradient of the rows of shard 1 only, then the others */
        for (int k = 0; k < 3; k++) {
            const size_t r0 = fake_cut[k], rows = fake_cut[k + 1] - r0;
            value = grugan__shard_match(moments, MF, dim, lag, fake + r0 * seq, rows, seq,
                                        d_fake + r0 * seq);
        }
        want = ref_match(dreal, dfake, dim, lag);
        ck_assert_msg(fabs(value - want) < 1e-9, "lag %zu: %.12g against %.12g", lag, value, want);
        for (size_t i = 0; i < MF * seq; i++) {
            const double h = 1e-6, keep = dfake[i];
            double up, down, fd;
            dfake[i] = keep + h;
            up = ref_match(dreal, dfake, dim, lag);
            dfake[i] = keep - h;
            down = ref_match(dreal, dfake, dim, lag);
            dfake[i] = keep;
            fd = (up - down) / (2 * h);
            ck_assert_msg(fabs(d_fake[i] - fd) < 1e-5 + 1e-3 * fabs(fd),
                          "lag %zu, element %zu: %g against %g", lag, i, (double)d_fake[i], fd);
        }
    }
}
END_TEST

Suite *suite_shards(void)
{
    Suite *s = suite_create("shards");
    TCase *tc = tcase_create("shards");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, workers_give_the_bits_of_one_gru);
    tcase_add_test(tc, workers_give_the_bits_of_one_conv);
    tcase_add_test(tc, shards_compute_the_whole_batch_gradient);
    tcase_add_test(tc, sharded_training_resumes_exactly);
    tcase_add_test(tc, a_reducer_can_stop_a_step);
    tcase_add_test(tc, shard_settings_are_checked);
    tcase_add_test(tc, shard_statistics_match_a_double_reference);
    suite_add_tcase(s, tc);
    return s;
}
