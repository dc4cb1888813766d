/* test_selection.c - held-out sequences, the quick quality estimate, the
 * trainer's model selection, early stopping and time budget, through the
 * public API. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 60, T = 8, F = 2, B = 16, EVERY = 4 };

/* Smooth sequences in [0, 1]: (sin(f t + p) + 1) / 2 with f, p from an LCG. */
static void make_waves(float *x, size_t n)
{
    unsigned s = 5;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < F; k++) {
            float f, p;
            s = s * 1103515245u + 12345u;
            f = 0.2f + 0.3f * (float)(s >> 8) / 16777216.0f;
            s = s * 1103515245u + 12345u;
            p = 3.0f * (float)(s >> 8) / 16777216.0f;
            for (size_t t = 0; t < T; t++)
                x[(i * T + t) * F + k] = 0.5f + 0.5f * sinf(f * (float)t + p);
        }
}

/* A small world on n waves whose dataset holds `holdout` of them out. */
static void world_make_n(gan_world *w, size_t n, float holdout, const grugan_trainer_config *tc,
                         int threads)
{
    float *x = malloc(n * T * F * sizeof *x);
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config cfg = tc ? *tc : (grugan_trainer_config)GRUGAN_TRAINER_CONFIG_INIT;
    grugan_error err = {0, ""};
    make_waves(x, n);
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 6;
    gc.num_layers = 1;
    gc.seed = 21;
    dic.input_size = F;
    dic.hidden_size = 6;
    dic.num_layers = 1;
    dic.seed = 22;
    cfg.batch_size = n < B ? n : B;
    cfg.threads = threads;
    if (!cfg.select_every) cfg.select_every = EVERY;
    gan_world_make(w, NULL, x, n, T, F, 3, &gc, &dic, &cfg);
    if (holdout > 0) {
        /* the same world on a dataset with a holdout */
        grugan_trainer_free(w->tr);
        grugan_dataset_free(w->data);
        w->tr = NULL;
        dc.seed = 3;
        dc.holdout = holdout;
        ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, n, T, F, NULL, 0, NULL,
                                                   &w->data, &err),
                         GRUGAN_OK);
        ck_assert_msg(grugan_trainer_create(NULL, &cfg, w->gen, w->disc, w->gen_opt,
                                            w->disc_opt, w->data, &w->tr, &err) == GRUGAN_OK,
                      "%s", err.message);
    }
    free(x);
}

static void world_make(gan_world *w, float holdout, const grugan_trainer_config *tc, int threads)
{
    world_make_n(w, N, holdout, tc, threads);
}

static grugan_progress progress_of(const gan_world *w)
{
    grugan_progress p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    ck_assert_int_eq(grugan_trainer_progress(w->tr, &p), GRUGAN_OK);
    return p;
}

static void run_steps(gan_world *w, int steps)
{
    for (int i = 0; i < steps; i++)
        ck_assert_msg(grugan_trainer_step(w->tr) == GRUGAN_OK, "%s",
                      grugan_trainer_message(w->tr));
}

static float *params_of(grugan_generator *gen, size_t *n)
{
    grugan_params *p = grugan_generator_params(gen);
    float *v;
    *n = grugan_params_num_scalars(p);
    v = malloc(*n * sizeof *v);
    ck_assert_int_eq(grugan_params_read_all(p, v, *n), GRUGAN_OK);
    return v;
}

START_TEST(holdout_spreads_sequences_evenly_and_keeps_them_out_of_batches)
{
    float x[N * T * F], scaled[N * T * F], batch[B * T * F], seq[T * F];
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    size_t n_train = 0, n_hold = 0, index = 0, lengths[B];
    int seen[N] = {0};
    make_waves(x, N);
    dc.holdout = 0.1f;
    ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, N, T, F, NULL, 0, NULL, &ds, NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_split(ds, &n_train, &n_hold), GRUGAN_OK);
    ck_assert_uint_eq(n_hold, 6);
    ck_assert_uint_eq(n_train, N - 6);
    for (size_t k = 0; k < n_hold; k++) {
        ck_assert_int_eq(grugan_dataset_holdout_index(ds, k, &index), GRUGAN_OK);
        ck_assert_uint_eq(index, 10 * k + 9); /* 9, 19, ..., 59 */
    }
    ck_assert_int_eq(grugan_dataset_holdout_index(ds, n_hold, &index), GRUGAN_E_NOTFOUND);
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(grugan_dataset_get(ds, i, scaled + i * T * F, NULL, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_holdout_index(ds, 0, NULL), GRUGAN_E_INVALID);
    /* three epochs of batches never contain a held-out sequence */
    for (int b = 0; b < 3 * (int)(n_train / B); b++) {
        ck_assert_int_eq(grugan_dataset_next_batch(ds, B, batch, NULL, lengths, NULL), GRUGAN_OK);
        for (size_t r = 0; r < B; r++) {
            int found = -1;
            for (size_t i = 0; i < N && found < 0; i++)
                if (memcmp(batch + r * T * F, scaled + i * T * F, sizeof seq) == 0)
                    found = (int)i;
            ck_assert_int_ge(found, 0);
            ck_assert_msg(found % 10 != 9, "held-out sequence %d in a batch", found);
            seen[found] = 1;
        }
    }
    for (size_t i = 0; i < N; i++)
        if (i % 10 != 9) ck_assert_msg(seen[i], "training sequence %zu never drawn", i);
    ck_assert_int_eq(grugan_dataset_next_batch(ds, n_train + 1, batch, NULL, NULL, NULL),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_dataset_set_position(ds, 0, n_train + 1), GRUGAN_E_RANGE);
    /* get still reaches every sequence */
    ck_assert_int_eq(grugan_dataset_get(ds, 59, seq, NULL, NULL), GRUGAN_OK);
    ck_assert(memcmp(seq, scaled + 59 * T * F, sizeof seq) == 0);
    grugan_dataset_free(ds);
}
END_TEST

START_TEST(holdout_zero_keeps_the_stream_of_before_and_bad_shares_are_refused)
{
    float x[N * T * F], a[B * T * F], b[B * T * F];
    const float bad[] = {-0.1f, 0.6f, NAN};
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *plain = NULL, *tiny = NULL, *ds = NULL;
    grugan_error err = {0, ""};
    size_t n_train = 0, n_hold = 9;
    make_waves(x, N);
    ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, N, T, F, NULL, 0, NULL, &plain, NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_split(plain, &n_train, &n_hold), GRUGAN_OK);
    ck_assert_uint_eq(n_train, N);
    ck_assert_uint_eq(n_hold, 0);
    /* without a holdout the stream is a function of (seed, epoch, offset) */
    ck_assert_int_eq(grugan_dataset_next_batch(plain, B, a, NULL, NULL, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_set_position(plain, 0, 0), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_next_batch(plain, B, b, NULL, NULL, NULL), GRUGAN_OK);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dc.holdout = bad[i];
        ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, N, T, F, NULL, 0, NULL, &ds,
                                                   &err),
                         GRUGAN_E_RANGE);
        ck_assert_ptr_null(ds);
        ck_assert_ptr_nonnull(strstr(err.message, "holdout"));
    }
    /* one sequence and a share of 0.5: nothing can be held out */
    dc.holdout = 0.5f;
    ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, 1, T, F, NULL, 0, NULL, &tiny, NULL),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_split(tiny, &n_train, &n_hold), GRUGAN_OK);
    ck_assert_uint_eq(n_train, 1);
    ck_assert_uint_eq(n_hold, 0);
    grugan_dataset_free(tiny);
    grugan_dataset_free(plain);
}
END_TEST

START_TEST(the_estimate_ranks_real_data_above_noise_and_is_repeatable)
{
    gan_world w;
    float x[N * T * F];
    grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
    double q1 = -1, q2 = -2;
    size_t n;
    float *saved;
    world_make(&w, 0, NULL, 1);
    make_waves(x, N);
    saved = params_of(w.gen, &n);
    /* an untrained generator is easy to tell from smooth waves */
    ck_assert_msg(grugan_generator_quality(w.gen, NULL, x, NULL, N, 0, T, &q1) == GRUGAN_OK, "%s",
                  grugan_generator_message(w.gen));
    ck_assert_msg(q1 > 0.1, "untrained generator scored %g", q1);
    ck_assert_int_eq(grugan_generator_quality(w.gen, NULL, x, NULL, N, 0, T, &q2), GRUGAN_OK);
    ck_assert_msg(q1 == q2, "two estimates differ: %.17g %.17g", q1, q2);
    /* more threads: the same bits */
    mc.threads = 2;
    ck_assert_int_eq(grugan_generator_quality(w.gen, &mc, x, NULL, N, 0, T, &q2), GRUGAN_OK);
    ck_assert_msg(q1 == q2, "threads changed the estimate: %.17g %.17g", q1, q2);
    /* bad input, with the generator's message */
    ck_assert_int_eq(grugan_generator_quality(w.gen, NULL, NULL, NULL, N, 0, T, &q2),
                     GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_quality(w.gen, NULL, x, NULL, 4, 0, T, &q2), GRUGAN_E_SIZE);
    ck_assert_ptr_nonnull(strstr(grugan_generator_message(w.gen), "at least 5"));
    ck_assert_int_eq(grugan_generator_quality(w.gen, NULL, x, NULL, N, 0, T, NULL),
                     GRUGAN_E_INVALID);
    x[5] = NAN;
    ck_assert_int_eq(grugan_generator_quality(w.gen, NULL, x, NULL, N, 0, T, &q2),
                     GRUGAN_E_NONFINITE);
    ck_assert_int_eq(grugan_generator_quality(NULL, NULL, x, NULL, N, 0, T, &q2), GRUGAN_E_INVALID);
    /* the weights are untouched */
    {
        size_t m;
        float *now = params_of(w.gen, &m);
        ck_assert(memcmp(now, saved, n * sizeof *now) == 0);
        free(now);
    }
    free(saved);
    gan_world_free(&w);
}
END_TEST

START_TEST(selection_keeps_the_best_generator_and_exports_it)
{
    gan_world w;
    grugan_progress p;
    grugan_generator *loaded = NULL;
    char path[] = "/tmp/grugan_select_XXXXXX";
    size_t n, m;
    float *best, *current, *from_file;
    int fd;
    world_make(&w, 0, NULL, 1);
    p = progress_of(&w);
    ck_assert(isnan(p.quality) && isnan(p.best_quality));
    ck_assert_uint_eq(p.evaluations, 0);
    run_steps(&w, 5 * EVERY);
    p = progress_of(&w);
    ck_assert_uint_eq(p.evaluations, 5);
    ck_assert(p.best_quality <= p.quality);
    ck_assert(p.best_step % EVERY == 0 && p.best_step >= EVERY && p.best_step <= 5 * EVERY);
    ck_assert(p.elapsed_seconds > 0);
    current = params_of(w.gen, &n);
    best = malloc(n * sizeof *best);
    ck_assert_int_eq(grugan_trainer_best_params(w.tr, best, n), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_best_params(w.tr, best, n + 1), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_trainer_best_params(w.tr, NULL, n), GRUGAN_E_INVALID);
    /* the estimate of the kept weights is the best estimate */
    {
        double q;
        ck_assert_int_eq(grugan_trainer_restore_best(w.tr), GRUGAN_OK);
        ck_assert_int_eq(grugan_trainer_estimate(w.tr, &q), GRUGAN_OK);
        ck_assert_msg(q == p.best_quality, "%.17g vs %.17g", q, p.best_quality);
        ck_assert_int_eq(grugan_params_write_all(grugan_generator_params(w.gen), current, n),
                         GRUGAN_OK);
    }
    /* the export and a generator loaded from the checkpoint are the best one;
     * the trainer's generator stays as it was */
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_msg(grugan_trainer_export(w.tr, path) == GRUGAN_OK, "%s",
                  grugan_trainer_message(w.tr));
    ck_assert_int_eq(grugan_generator_load(NULL, path, &loaded, NULL), GRUGAN_OK);
    from_file = params_of(loaded, &m);
    ck_assert_uint_eq(m, n);
    ck_assert(memcmp(from_file, best, n * sizeof *best) == 0);
    free(from_file);
    grugan_generator_free(loaded);
    {
        float *after = params_of(w.gen, &m);
        ck_assert(memcmp(after, current, n * sizeof *after) == 0);
        free(after);
    }
    ck_assert_int_eq(grugan_trainer_save(w.tr, path), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_load(NULL, path, &loaded, NULL), GRUGAN_OK);
    from_file = params_of(loaded, &m);
    ck_assert(memcmp(from_file, best, n * sizeof *best) == 0);
    free(from_file);
    grugan_generator_free(loaded);
    unlink(path);
    ck_assert_int_eq(grugan_trainer_export(w.tr, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_trainer_export(w.tr, "/nonexistent-dir/x.safetensors"), GRUGAN_E_IO);
    free(best);
    free(current);
    gan_world_free(&w);
}
END_TEST

START_TEST(selection_and_early_stopping_are_bit_identical_at_one_and_two_threads)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    gan_world a, b;
    grugan_progress pa, pb;
    size_t n;
    float *wa, *wb;
    tc.patience = 2;
    tc.total_steps = 1000;
    world_make(&a, 0.1f, &tc, 1);
    world_make(&b, 0.1f, &tc, 2);
    ck_assert_msg(grugan_trainer_run(a.tr) == GRUGAN_OK, "%s", grugan_trainer_message(a.tr));
    ck_assert_int_eq(grugan_trainer_run(b.tr), GRUGAN_OK);
    pa = progress_of(&a);
    pb = progress_of(&b);
    ck_assert_int_eq(pa.finished, GRUGAN_FINISHED_PATIENCE);
    ck_assert_uint_lt(pa.step, 1000);
    ck_assert_uint_eq(pa.step, pb.step);
    ck_assert_uint_eq(pa.best_step, pb.best_step);
    ck_assert(pa.best_quality == pb.best_quality);
    /* the rule itself: equal_estimates_keep_the_later_generator_... */
    ck_assert_uint_le(pa.best_step, pa.step);
    wa = params_of(a.gen, &n);
    wb = params_of(b.gen, &n);
    ck_assert(memcmp(wa, wb, n * sizeof *wa) == 0);
    /* finished: run returns at once */
    ck_assert_int_eq(grugan_trainer_run(a.tr), GRUGAN_OK);
    ck_assert_uint_eq(progress_of(&a).step, pa.step);
    free(wa);
    free(wb);
    gan_world_free(&a);
    gan_world_free(&b);
}
END_TEST

/* The estimates of a run, in order, recorded by the progress callback. */
typedef struct estimate_log {
    double q[1024];
    size_t n;
} estimate_log;

static int log_estimates(const grugan_progress *p, void *user)
{
    estimate_log *log = user;
    if (p->evaluations > log->n && log->n < 1024) log->q[log->n++] = p->quality;
    return 0;
}

START_TEST(equal_estimates_keep_the_later_generator_but_do_not_reset_the_patience)
{
    /* on 10 sequences the estimate takes few values, so ties are common */
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    estimate_log log = {{0}, 0};
    gan_world w;
    grugan_progress p;
    size_t last_lower = 0, last_equal = 0, ties = 0;
    double low = INFINITY;
    tc.patience = 4;
    tc.total_steps = 4000;
    world_make_n(&w, 10, 0.0f, &tc, 1);
    grugan_trainer_set_callback(w.tr, log_estimates, &log);
    ck_assert_msg(grugan_trainer_run(w.tr) == GRUGAN_OK, "%s", grugan_trainer_message(w.tr));
    p = progress_of(&w);
    ck_assert_int_eq(p.finished, GRUGAN_FINISHED_PATIENCE);
    ck_assert_uint_eq(log.n, p.evaluations);
    for (size_t k = 0; k < log.n; k++) {
        if (log.q[k] < low) low = log.q[k], last_lower = last_equal = k;
        else if (log.q[k] == low) last_equal = k, ties++;
    }
    ck_assert_msg(ties > 0, "no equal estimates in %zu: the test shows nothing", log.n);
    /* finished `patience` estimates after the last lower one, ties or not */
    ck_assert_uint_eq(log.n, last_lower + 1 + 4);
    /* the kept generator is the latest of the lowest estimates */
    ck_assert(p.best_quality == low);
    ck_assert_uint_eq(p.best_step, (last_equal + 1) * EVERY);
    gan_world_free(&w);
}
END_TEST

START_TEST(resume_restores_the_selection_state_exactly)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    gan_world a, b;
    grugan_progress pa, pb;
    void *buf;
    size_t size = 0, n;
    float *ba, *bb, *wa, *wb;
    tc.patience = -1;
    world_make(&a, 0.1f, &tc, 1);
    run_steps(&a, 3 * EVERY + 1);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, NULL, 0, &size), GRUGAN_OK);
    buf = malloc(size);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, buf, size, &size), GRUGAN_OK);
    run_steps(&a, 3 * EVERY);
    world_make(&b, 0.1f, &tc, 1);
    ck_assert_msg(grugan_trainer_load_buffer(b.tr, buf, size) == GRUGAN_OK, "%s",
                  grugan_trainer_message(b.tr));
    pb = progress_of(&b);
    ck_assert_uint_eq(pb.evaluations, 3);
    ck_assert(pb.elapsed_seconds > 0);
    run_steps(&b, 3 * EVERY);
    pa = progress_of(&a);
    pb = progress_of(&b);
    ck_assert_uint_eq(pa.evaluations, pb.evaluations);
    ck_assert_uint_eq(pa.best_step, pb.best_step);
    ck_assert(pa.best_quality == pb.best_quality && pa.quality == pb.quality);
    n = grugan_params_num_scalars(grugan_generator_params(a.gen));
    ba = malloc(n * sizeof *ba);
    bb = malloc(n * sizeof *bb);
    ck_assert_int_eq(grugan_trainer_best_params(a.tr, ba, n), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_best_params(b.tr, bb, n), GRUGAN_OK);
    ck_assert(memcmp(ba, bb, n * sizeof *ba) == 0);
    wa = params_of(a.gen, &n);
    wb = params_of(b.gen, &n);
    ck_assert(memcmp(wa, wb, n * sizeof *wa) == 0);
    free(ba);
    free(bb);
    free(wa);
    free(wb);
    free(buf);
    gan_world_free(&a);
    gan_world_free(&b);
}
END_TEST

START_TEST(without_selection_nothing_is_estimated_and_the_last_generator_is_kept)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    gan_world w;
    grugan_progress p;
    double q;
    size_t n;
    float *best, *current;
    tc.select_every = -1;
    world_make(&w, 0, &tc, 1);
    run_steps(&w, 3 * EVERY);
    p = progress_of(&w);
    ck_assert_uint_eq(p.evaluations, 0);
    ck_assert(isnan(p.best_quality));
    ck_assert_int_eq(grugan_trainer_estimate(w.tr, &q), GRUGAN_E_STATE);
    current = params_of(w.gen, &n);
    best = malloc(n * sizeof *best);
    ck_assert_int_eq(grugan_trainer_best_params(w.tr, best, n), GRUGAN_OK);
    ck_assert(memcmp(best, current, n * sizeof *best) == 0);
    ck_assert_int_eq(grugan_trainer_restore_best(w.tr), GRUGAN_OK);
    free(best);
    free(current);
    gan_world_free(&w);
}
END_TEST

START_TEST(the_time_budget_finishes_the_run)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    gan_world w;
    grugan_progress p;
    tc.max_seconds = 0.05;
    tc.select_every = -1;
    tc.total_steps = 100000000;
    world_make(&w, 0, &tc, 1);
    ck_assert_int_eq(grugan_trainer_run(w.tr), GRUGAN_OK);
    p = progress_of(&w);
    ck_assert_int_eq(p.finished, GRUGAN_FINISHED_TIME);
    ck_assert(p.elapsed_seconds >= 0.05);
    ck_assert_uint_gt(p.step, 0);
    ck_assert_uint_lt(p.step, 100000000);
    gan_world_free(&w);
}
END_TEST

START_TEST(bad_selection_settings_are_refused)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    const double bad_seconds[] = {-1.0, NAN, INFINITY};
    float x[N * T * F];
    gan_world w;
    grugan_error err = {0, ""};
    grugan_trainer *tr = NULL;
    grugan_dataset *small = NULL;
    world_make(&w, 0, NULL, 1);
    for (size_t i = 0; i < 3; i++) {
        tc.max_seconds = bad_seconds[i];
        ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                               w.data, &tr, &err),
                         GRUGAN_E_RANGE);
        ck_assert_ptr_null(tr);
    }
    /* asked for on four sequences: refused; by default: off */
    make_waves(x, 4);
    ck_assert_int_eq(grugan_dataset_from_array(NULL, NULL, x, 4, T, F, NULL, 0, NULL, &small,
                                               NULL),
                     GRUGAN_OK);
    tc.max_seconds = 0;
    tc.batch_size = 2;
    tc.select_every = 10;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           small, &tr, &err),
                     GRUGAN_E_SIZE);
    ck_assert_ptr_nonnull(strstr(err.message, "at least 5"));
    tc.select_every = 0;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           small, &tr, &err),
                     GRUGAN_OK);
    {
        double q;
        ck_assert_int_eq(grugan_trainer_estimate(tr, &q), GRUGAN_E_STATE);
        ck_assert_int_eq(grugan_trainer_rank_final(tr), GRUGAN_OK); /* nothing to rank */
    }
    grugan_trainer_free(tr);
    tr = NULL;
    tc = (grugan_trainer_config)GRUGAN_TRAINER_CONFIG_INIT;
    tc.final_candidates = 17;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           w.data, &tr, &err),
                     GRUGAN_E_RANGE);
    ck_assert_ptr_nonnull(strstr(err.message, "final_candidates"));
    ck_assert_ptr_null(tr);
    grugan_dataset_free(small);
    gan_world_free(&w);
}
END_TEST

/* What a run's estimates were made of: the generator at each estimate and
 * the estimate, recorded by the progress callback. */
typedef struct run_log {
    size_t n_params, n;
    float *params[64];
    uint64_t step[64];
    double q[64];
    grugan_generator *gen;
} run_log;

static int log_generators(const grugan_progress *p, void *user)
{
    run_log *log = user;
    if (p->evaluations > log->n && log->n < 64) {
        log->params[log->n] = params_of(log->gen, &log->n_params);
        log->step[log->n] = p->step;
        log->q[log->n++] = p->quality;
    }
    return 0;
}

static void run_log_free(run_log *log)
{
    for (size_t i = 0; i < log->n; i++) free(log->params[i]);
}

/* The final ranking's estimate of a generator of the log, recomputed from
 * the public API: selection's real set is the whole dataset here (no
 * holdout, fewer than 1000 sequences), 4 repetitions of 2000 iterations. */
static double final_estimate(gan_world *w, const float *params, size_t n_params)
{
    grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
    float *real = malloc((size_t)N * T * F * sizeof *real), *live;
    size_t n;
    double q = -1;
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(grugan_dataset_get(w->data, i, real + i * T * F, NULL, NULL), GRUGAN_OK);
    live = params_of(w->gen, &n);
    ck_assert_int_eq(grugan_params_write_all(grugan_generator_params(w->gen), params, n_params),
                     GRUGAN_OK);
    mc.repetitions = 4;
    mc.iterations = 2000;
    mc.threads = 1;
    ck_assert_int_eq(grugan_generator_quality(w->gen, &mc, real, NULL, N, 0, T, &q), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_write_all(grugan_generator_params(w->gen), live, n), GRUGAN_OK);
    free(live);
    free(real);
    return q;
}

START_TEST(the_final_ranking_keeps_the_best_fuller_estimate_of_the_best_quick_ones)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    run_log log = {0};
    gan_world w;
    grugan_progress p;
    size_t order[64], n;
    double best_final = INFINITY;
    uint64_t best_final_step = 0;
    float *kept;
    tc.patience = 3;
    tc.total_steps = 200;
    world_make(&w, 0, &tc, 1);
    log.gen = w.gen;
    grugan_trainer_set_callback(w.tr, log_generators, &log);
    ck_assert_msg(grugan_trainer_run(w.tr) == GRUGAN_OK, "%s", grugan_trainer_message(w.tr));
    p = progress_of(&w);
    ck_assert_int_ne(p.finished, GRUGAN_FINISHED_NO);
    ck_assert_uint_eq(log.n, p.evaluations);
    ck_assert_uint_ge(log.n, 4);
    /* the candidates: the 3 best quick estimates, the later of equal ones
     * first (a stable sort of the log by estimate, latest first) */
    for (size_t i = 0; i < log.n; i++) order[i] = log.n - 1 - i;
    for (size_t i = 1; i < log.n; i++)
        for (size_t j = i; j > 0 && log.q[order[j]] < log.q[order[j - 1]]; j--) {
            const size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    ck_assert_uint_eq(p.best_step, log.step[order[0]]);
    ck_assert(p.best_quality == log.q[order[0]]);
    for (size_t k = 0; k < 3; k++) {
        const double q = final_estimate(&w, log.params[order[k]], log.n_params);
        if (q < best_final) best_final = q, best_final_step = log.step[order[k]];
    }
    ck_assert_msg(p.final_quality == best_final, "%.17g vs %.17g", p.final_quality, best_final);
    ck_assert_uint_eq(p.final_step, best_final_step);
    /* the kept generator is that one: best_params, the export */
    kept = malloc(log.n_params * sizeof *kept);
    ck_assert_int_eq(grugan_trainer_best_params(w.tr, kept, log.n_params), GRUGAN_OK);
    for (size_t i = 0; i < log.n; i++)
        if (log.step[i] == best_final_step)
            ck_assert(memcmp(kept, log.params[i], log.n_params * sizeof *kept) == 0);
    /* ranking again changes nothing; the live generator is the last one */
    ck_assert_int_eq(grugan_trainer_rank_final(w.tr), GRUGAN_OK);
    ck_assert(progress_of(&w).final_quality == p.final_quality);
    {
        float *live = params_of(w.gen, &n);
        float *last = log.params[log.n - 1];
        ck_assert(p.step != log.step[log.n - 1] ||
                  memcmp(live, last, n * sizeof *live) == 0);
        free(live);
    }
    free(kept);
    run_log_free(&log);
    gan_world_free(&w);
}
END_TEST

START_TEST(one_candidate_keeps_the_best_quick_estimate_and_ranking_is_explicit_too)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    gan_world a, b;
    grugan_progress pa, pb;
    size_t n;
    float *ka, *kb;
    /* final_candidates 1: no ranking */
    tc.final_candidates = 1;
    tc.patience = 3;
    tc.total_steps = 200;
    world_make(&a, 0, &tc, 1);
    ck_assert_int_eq(grugan_trainer_run(a.tr), GRUGAN_OK);
    pa = progress_of(&a);
    ck_assert(isnan(pa.final_quality));
    ck_assert_uint_eq(pa.final_step, 0);
    ck_assert_int_eq(grugan_trainer_rank_final(a.tr), GRUGAN_OK);
    ck_assert(isnan(progress_of(&a).final_quality));
    /* a loop that stops on its own ranks by calling rank_final */
    tc.final_candidates = 0;
    tc.patience = -1;
    world_make(&b, 0, &tc, 1);
    ck_assert_int_eq(grugan_trainer_rank_final(b.tr), GRUGAN_OK); /* no estimate yet */
    ck_assert(isnan(progress_of(&b).final_quality));
    run_steps(&b, 5 * EVERY);
    pb = progress_of(&b);
    ck_assert_int_eq(pb.finished, GRUGAN_FINISHED_NO);
    ck_assert(isnan(pb.final_quality));
    ck_assert_int_eq(grugan_trainer_rank_final(b.tr), GRUGAN_OK);
    pb = progress_of(&b);
    ck_assert(pb.final_quality >= 0.0 && pb.final_quality <= 0.5);
    ck_assert(pb.final_step % EVERY == 0 && pb.final_step >= EVERY);
    /* a new estimate that enters the candidates undoes the ranking; one that
     * does not leaves it */
    for (int k = 0; k < 6; k++) {
        grugan_progress before = progress_of(&b), after;
        run_steps(&b, EVERY);
        after = progress_of(&b);
        if (isnan(after.final_quality)) break;
        ck_assert(after.final_quality == before.final_quality);
        ck_assert_uint_eq(after.final_step, before.final_step);
    }
    n = grugan_params_num_scalars(grugan_generator_params(b.gen));
    ka = malloc(n * sizeof *ka);
    kb = malloc(n * sizeof *kb);
    ck_assert_int_eq(grugan_trainer_best_params(b.tr, ka, n), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_restore_best(b.tr), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(grugan_generator_params(b.gen), kb, n), GRUGAN_OK);
    ck_assert(memcmp(ka, kb, n * sizeof *ka) == 0);
    ck_assert_int_eq(grugan_trainer_rank_final(NULL), GRUGAN_E_INVALID);
    free(ka);
    free(kb);
    gan_world_free(&a);
    gan_world_free(&b);
}
END_TEST

START_TEST(resume_before_and_after_the_ranking_gives_the_same_bits)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    gan_world a, b, c;
    grugan_progress pa, pb, pc;
    void *mid, *end;
    size_t mid_size = 0, end_size = 0, n;
    float *ka, *kb, *kc;
    tc.patience = 3;
    tc.total_steps = 200;
    world_make(&a, 0.1f, &tc, 1);
    run_steps(&a, 3 * EVERY + 1);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, NULL, 0, &mid_size), GRUGAN_OK);
    mid = malloc(mid_size);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, mid, mid_size, &mid_size), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_run(a.tr), GRUGAN_OK);
    pa = progress_of(&a);
    ck_assert(!isnan(pa.final_quality));
    /* resumed before the ranking: the same run to the end */
    world_make(&b, 0.1f, &tc, 2);
    ck_assert_msg(grugan_trainer_load_buffer(b.tr, mid, mid_size) == GRUGAN_OK, "%s",
                  grugan_trainer_message(b.tr));
    ck_assert_int_eq(grugan_trainer_run(b.tr), GRUGAN_OK);
    pb = progress_of(&b);
    ck_assert_uint_eq(pa.step, pb.step);
    ck_assert_uint_eq(pa.final_step, pb.final_step);
    ck_assert(pa.final_quality == pb.final_quality && pa.best_quality == pb.best_quality);
    /* loaded after the ranking: the ranking holds, the kept generator too */
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, NULL, 0, &end_size), GRUGAN_OK);
    end = malloc(end_size);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, end, end_size, &end_size), GRUGAN_OK);
    world_make(&c, 0.1f, &tc, 1);
    ck_assert_int_eq(grugan_trainer_load_buffer(c.tr, end, end_size), GRUGAN_OK);
    pc = progress_of(&c);
    ck_assert_uint_eq(pc.final_step, pa.final_step);
    ck_assert(pc.final_quality == pa.final_quality);
    ck_assert_int_ne(pc.finished, GRUGAN_FINISHED_NO);
    n = grugan_params_num_scalars(grugan_generator_params(a.gen));
    ka = malloc(n * sizeof *ka);
    kb = malloc(n * sizeof *kb);
    kc = malloc(n * sizeof *kc);
    ck_assert_int_eq(grugan_trainer_best_params(a.tr, ka, n), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_best_params(b.tr, kb, n), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_best_params(c.tr, kc, n), GRUGAN_OK);
    ck_assert(memcmp(ka, kb, n * sizeof *ka) == 0 && memcmp(ka, kc, n * sizeof *ka) == 0);
    /* a generator loaded from the checkpoint is the kept one */
    {
        char path[] = "/tmp/grugan_rank_XXXXXX";
        grugan_generator *loaded = NULL;
        size_t m;
        float *from_file;
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(grugan_trainer_save(a.tr, path), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_load(NULL, path, &loaded, NULL), GRUGAN_OK);
        from_file = params_of(loaded, &m);
        ck_assert(memcmp(from_file, ka, n * sizeof *ka) == 0);
        free(from_file);
        grugan_generator_free(loaded);
        unlink(path);
    }
    /* a trainer that keeps fewer candidates takes the first ones */
    gan_world_free(&c);
    tc.final_candidates = 1;
    world_make(&c, 0.1f, &tc, 1);
    ck_assert_int_eq(grugan_trainer_load_buffer(c.tr, end, end_size), GRUGAN_OK);
    pc = progress_of(&c);
    ck_assert(isnan(pc.final_quality));
    ck_assert_int_eq(grugan_trainer_best_params(c.tr, kc, n), GRUGAN_OK);
    ck_assert_uint_eq(pc.best_step, pa.best_step);
    free(ka);
    free(kb);
    free(kc);
    free(mid);
    free(end);
    gan_world_free(&a);
    gan_world_free(&b);
    gan_world_free(&c);
}
END_TEST

/* Two steps of a trainer on n waves with the given instance noise; returns
 * the generator's parameters after it. */
static float *one_step_params(size_t n, float instance_noise, size_t *count)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    gan_world w;
    float *p;
    tc.select_every = -1;
    tc.instance_noise = instance_noise;
    world_make_n(&w, n, 0, &tc, 1);
    run_steps(&w, 2);
    p = params_of(w.gen, count);
    gan_world_free(&w);
    return p;
}

START_TEST(instance_noise_is_on_by_default_only_for_small_data)
{
    size_t n;
    float *dflt = one_step_params(N, 0.0f, &n), *off = one_step_params(N, -1.0f, &n);
    float *small = one_step_params(N, 0.05f, &n);
    ck_assert_msg(memcmp(dflt, off, n * sizeof *dflt) != 0, "no instance noise on small data");
    ck_assert_msg(memcmp(dflt, small, n * sizeof *dflt) == 0, "the small-data default is not 0.05");
    free(dflt);
    free(off);
    free(small);
    dflt = one_step_params(1000, 0.0f, &n);
    off = one_step_params(1000, -1.0f, &n);
    ck_assert_msg(memcmp(dflt, off, n * sizeof *dflt) == 0, "instance noise on 1000 sequences");
    free(dflt);
    free(off);
}
END_TEST

Suite *suite_selection(void)
{
    Suite *s = suite_create("selection");
    TCase *tc = tcase_create("selection");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, holdout_spreads_sequences_evenly_and_keeps_them_out_of_batches);
    tcase_add_test(tc, holdout_zero_keeps_the_stream_of_before_and_bad_shares_are_refused);
    tcase_add_test(tc, the_estimate_ranks_real_data_above_noise_and_is_repeatable);
    tcase_add_test(tc, selection_keeps_the_best_generator_and_exports_it);
    tcase_add_test(tc, selection_and_early_stopping_are_bit_identical_at_one_and_two_threads);
    tcase_add_test(tc, equal_estimates_keep_the_later_generator_but_do_not_reset_the_patience);
    tcase_add_test(tc, resume_restores_the_selection_state_exactly);
    tcase_add_test(tc, without_selection_nothing_is_estimated_and_the_last_generator_is_kept);
    tcase_add_test(tc, the_time_budget_finishes_the_run);
    tcase_add_test(tc, bad_selection_settings_are_refused);
    tcase_add_test(tc, instance_noise_is_on_by_default_only_for_small_data);
    tcase_add_test(tc, the_final_ranking_keeps_the_best_fuller_estimate_of_the_best_quick_ones);
    tcase_add_test(tc, one_candidate_keeps_the_best_quick_estimate_and_ranking_is_explicit_too);
    tcase_add_test(tc, resume_before_and_after_the_ranking_gives_the_same_bits);
    suite_add_tcase(s, tc);
    return s;
}
