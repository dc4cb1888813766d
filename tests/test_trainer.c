/* test_trainer.c - the training loop and checkpoints through the public API. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 64, T = 8, F = 2, B = 16 };

/* A small world: dataset, generator, discriminator, two optimizers, trainer. */
typedef gan_world world;

/* Sines as TimeGAN makes them: x = sin(f t + p), f, p from a fixed LCG. */
static void world_make(world *w, int disc_kind, const grugan_trainer_config *tc, int threads)
{
    float *x = malloc(N * T * F * sizeof *x);
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config cfg = tc ? *tc : (grugan_trainer_config)GRUGAN_TRAINER_CONFIG_INIT;
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
    cfg.batch_size = B;
    cfg.threads = threads;
    gan_world_make(w, NULL, x, N, T, F, 3, &gc, &dic, &cfg);
    free(x);
}

/* All parameters of both models, flat, into a new array. */
static float *snapshot(world *w, size_t *count)
{
    grugan_params *g = grugan_generator_params(w->gen), *d = grugan_discriminator_params(w->disc);
    size_t ng = grugan_params_num_scalars(g), nd = grugan_params_num_scalars(d);
    float *all = malloc((ng + nd) * sizeof *all);
    ck_assert_int_eq(grugan_params_read_all(g, all, ng), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(d, all + ng, nd), GRUGAN_OK);
    *count = ng + nd;
    return all;
}

static void run_steps(world *w, int steps)
{
    for (int i = 0; i < steps; i++)
        ck_assert_msg(grugan_trainer_step(w->tr) == GRUGAN_OK, "%s",
                      grugan_trainer_message(w->tr));
}

START_TEST(steps_update_both_models_and_report_progress)
{
    world w;
    grugan_progress p;
    size_t n;
    float *before, *after;
    world_make(&w, GRUGAN_DISC_GRU, NULL, 1);
    before = snapshot(&w, &n);
    run_steps(&w, 3);
    after = snapshot(&w, &n);
    ck_assert(memcmp(before, after, n * sizeof *before) != 0);
    p.struct_size = sizeof p;
    ck_assert_int_eq(grugan_trainer_progress(w.tr, &p), GRUGAN_OK);
    ck_assert_uint_eq(p.step, 3);
    ck_assert(isfinite(p.d_loss) && isfinite(p.g_loss));
    ck_assert(p.d_real > 0 && p.d_real < 1 && p.d_fake > 0 && p.d_fake < 1);
    ck_assert(p.d_grad_norm > 0 && p.g_grad_norm > 0);
    ck_assert(p.samples_per_second > 0);
    ck_assert_uint_eq(p.total_steps, (N / B)); /* one epoch by default */
    ck_assert_int_eq(grugan_trainer_run(w.tr), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_progress(w.tr, &p), GRUGAN_OK);
    ck_assert_uint_eq(p.step, N / B);
    free(before);
    free(after);
    gan_world_free(&w);
}
END_TEST

static int stop_at_five(const grugan_progress *p, void *user)
{
    (*(int *)user)++;
    return p->step >= 5;
}

START_TEST(callback_stops_the_run_and_leaves_it_usable)
{
    world w;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_progress p;
    int calls = 0;
    size_t size = 0;
    tc.total_steps = 50;
    world_make(&w, GRUGAN_DISC_GRU, &tc, 1);
    ck_assert_int_eq(grugan_trainer_set_callback(w.tr, stop_at_five, &calls), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_run(w.tr), GRUGAN_E_ABORTED);
    ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "callback"));
    ck_assert_int_eq(calls, 5);
    p.struct_size = sizeof p;
    grugan_trainer_progress(w.tr, &p);
    ck_assert_uint_eq(p.step, 5);
    ck_assert_int_eq(grugan_trainer_save_buffer(w.tr, NULL, 0, &size), GRUGAN_OK);
    ck_assert_uint_gt(size, 0);
    ck_assert_int_eq(grugan_trainer_set_callback(w.tr, NULL, NULL), GRUGAN_OK);
    run_steps(&w, 2);
    gan_world_free(&w);
}
END_TEST

/* N steps, save, load into fresh handles, N more == 2N uninterrupted; the
 * buffer run (GRU) also adds instance noise. */
static void check_resume(int disc_kind, int use_file)
{
    world a, b;
    size_t na, nb, size = 0;
    float *wa, *wb;
    void *buf;
    char path[] = "/tmp/grugan-ckpt-XXXXXX";
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    tc.feature_matching = disc_kind == GRUGAN_DISC_GRU ? 0.5f : -1.0f;
    tc.moment_matching = disc_kind == GRUGAN_DISC_GRU ? -1.0f : 10.0f;
    tc.instance_noise = use_file ? 0.0f : 0.05f;
    tc.d_steps = 2;
    world_make(&a, disc_kind, &tc, 1);
    run_steps(&a, 3);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, NULL, 0, &size), GRUGAN_OK);
    buf = malloc(size);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, buf, size, &size), GRUGAN_OK);
    if (use_file) {
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_msg(grugan_trainer_save(a.tr, path) == GRUGAN_OK, "%s",
                      grugan_trainer_message(a.tr));
    }
    run_steps(&a, 3);

    world_make(&b, disc_kind, &tc, 1);
    if (use_file) {
        ck_assert_msg(grugan_trainer_load(b.tr, path) == GRUGAN_OK, "%s",
                      grugan_trainer_message(b.tr));
        unlink(path);
    } else {
        ck_assert_msg(grugan_trainer_load_buffer(b.tr, buf, size) == GRUGAN_OK, "%s",
                      grugan_trainer_message(b.tr));
    }
    run_steps(&b, 3);
    wa = snapshot(&a, &na);
    wb = snapshot(&b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(wa, wb, na * sizeof *wa) == 0, "resumed training differs");
    free(wa);
    free(wb);
    free(buf);
    gan_world_free(&a);
    gan_world_free(&b);
}

START_TEST(resume_from_a_buffer_is_exact)
{
    check_resume(GRUGAN_DISC_GRU, 0);
}
END_TEST

START_TEST(resume_from_a_file_is_exact_with_a_conv_discriminator)
{
    check_resume(GRUGAN_DISC_CONV1D, 1);
}
END_TEST

START_TEST(instance_noise_changes_what_the_discriminator_sees_and_nothing_else)
{
    grugan_trainer_config plain = GRUGAN_TRAINER_CONFIG_INIT, noisy = GRUGAN_TRAINER_CONFIG_INIT;
    world a, b, c;
    grugan_progress pa, pb;
    size_t na, nb, nc;
    float *wa, *wb, *wc;
    noisy.instance_noise = 0.1f;
    world_make(&a, GRUGAN_DISC_GRU, &plain, 1);
    world_make(&b, GRUGAN_DISC_GRU, &noisy, 1);
    world_make(&c, GRUGAN_DISC_GRU, &noisy, 2);
    run_steps(&a, 1);
    run_steps(&b, 1);
    run_steps(&c, 1);
    pa.struct_size = pb.struct_size = sizeof pa;
    grugan_trainer_progress(a.tr, &pa);
    grugan_trainer_progress(b.tr, &pb);
    ck_assert(pa.d_loss != pb.d_loss); /* the first discriminator update saw other inputs */
    run_steps(&a, 3);
    run_steps(&b, 3);
    run_steps(&c, 3);
    wa = snapshot(&a, &na);
    wb = snapshot(&b, &nb);
    wc = snapshot(&c, &nc);
    ck_assert(memcmp(wa, wb, na * sizeof *wa) != 0);
    ck_assert_msg(memcmp(wb, wc, nb * sizeof *wb) == 0, "instance noise depends on threads");
    free(wa);
    free(wb);
    free(wc);
    gan_world_free(&a);
    gan_world_free(&b);
    gan_world_free(&c);
    noisy.instance_noise = NAN;
    {
        world d;
        grugan_error err = {0, ""};
        grugan_trainer *tr = NULL;
        world_make(&d, GRUGAN_DISC_GRU, NULL, 1);
        ck_assert_int_eq(grugan_trainer_create(NULL, &noisy, d.gen, d.disc, d.gen_opt,
                                               d.disc_opt, d.data, &tr, &err),
                         GRUGAN_E_RANGE);
        ck_assert_ptr_nonnull(strstr(err.message, "instance_noise"));
        gan_world_free(&d);
    }
}
END_TEST

START_TEST(same_seed_is_bit_identical_at_one_and_two_threads)
{
    world a, b;
    size_t na, nb;
    float *wa, *wb;
    world_make(&a, GRUGAN_DISC_GRU, NULL, 1);
    world_make(&b, GRUGAN_DISC_GRU, NULL, 2);
    run_steps(&a, 3);
    run_steps(&b, 3);
    wa = snapshot(&a, &na);
    wb = snapshot(&b, &nb);
    ck_assert_int_eq(memcmp(wa, wb, na * sizeof *wa), 0);
    free(wa);
    free(wb);
    gan_world_free(&a);
    gan_world_free(&b);
}
END_TEST

/* One step after something made a value non-finite: under STOP it fails
 * with a message containing `what`, under SKIP it succeeds and counts the
 * skipped update; either way no weight becomes NaN or Inf and the
 * discriminator's weights stay as they were. */
static void step_applies_the_policy(world *w, int policy, const char *what)
{
    grugan_progress p;
    size_t n, ng = grugan_params_num_scalars(grugan_generator_params(w->gen));
    float *before = snapshot(w, &n), *after;
    if (policy == GRUGAN_NONFINITE_STOP) {
        ck_assert_int_eq(grugan_trainer_step(w->tr), GRUGAN_E_NONFINITE);
        ck_assert_msg(strstr(grugan_trainer_message(w->tr), what) != NULL, "%s",
                      grugan_trainer_message(w->tr));
    } else {
        ck_assert_int_eq(grugan_trainer_step(w->tr), GRUGAN_OK);
        p.struct_size = sizeof p;
        grugan_trainer_progress(w->tr, &p);
        ck_assert_uint_ge(p.skipped, 1);
    }
    after = snapshot(w, &n);
    for (size_t i = 0; i < n; i++) ck_assert(isfinite(after[i]));
    ck_assert_int_eq(memcmp(before + ng, after + ng, (n - ng) * sizeof *after), 0);
    free(before);
    free(after);
}

START_TEST(non_finite_values_stop_or_skip_and_never_update)
{
    static const int policies[2] = {GRUGAN_NONFINITE_STOP, GRUGAN_NONFINITE_SKIP};
    for (int k = 0; k < 2; k++) {
        world w;
        grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
        grugan_params *d;
        size_t head;
        float huge[8];
        tc.nonfinite_policy = policies[k];
        world_make(&w, GRUGAN_DISC_GRU, &tc, 1);
        /* a head weight at the float limit makes the logits overflow */
        d = grugan_discriminator_params(w.disc);
        ck_assert_int_eq(grugan_params_find(d, "head.weight", &head), GRUGAN_OK);
        for (size_t i = 0; i < 8; i++) huge[i] = 3.0e38f;
        ck_assert_int_eq(grugan_params_write(d, head, huge, 8), GRUGAN_OK);
        step_applies_the_policy(&w, policies[k], "step 1");
        gan_world_free(&w);
    }
}
END_TEST

/* An update that would overflow (Adam's step size lr / (1 - beta1^t) is Inf
 * for lr = FLT_MAX) is refused by the optimizer, and the trainer applies its
 * policy to it. */
START_TEST(an_overflowing_update_follows_the_policy)
{
    static const int policies[2] = {GRUGAN_NONFINITE_STOP, GRUGAN_NONFINITE_SKIP};
    for (int k = 0; k < 2; k++) {
        world w;
        grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
        tc.nonfinite_policy = policies[k];
        world_make(&w, GRUGAN_DISC_GRU, &tc, 1);
        ck_assert_int_eq(grugan_optimizer_set(w.disc_opt, GRUGAN_KEY_LR, FLT_MAX), GRUGAN_OK);
        step_applies_the_policy(&w, policies[k], "discriminator update");
        gan_world_free(&w);
    }
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    world w;
    grugan_trainer *tr = (grugan_trainer *)&w;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_error err;
    world_make(&w, GRUGAN_DISC_GRU, NULL, 1);
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.gen_opt, w.data,
                                           &tr, &err),
                     GRUGAN_E_INVALID);
    ck_assert_ptr_null(tr);
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, (grugan_generator *)w.disc, w.disc,
                                           w.gen_opt, w.disc_opt, w.data, &tr, &err),
                     GRUGAN_E_INVALID);
    tc.batch_size = N + 1;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           w.data, &tr, &err),
                     GRUGAN_E_SIZE);
    tc.batch_size = 0;
    tc.label_smoothing = 1.5f;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           w.data, &tr, &err),
                     GRUGAN_E_RANGE);
    tc.label_smoothing = 0.0f;
    tc.moment_matching = NAN;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           w.data, &tr, &err),
                     GRUGAN_E_RANGE);
    tc.moment_matching = 0.0f;
    tc.difference_matching = NAN;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           w.data, &tr, &err),
                     GRUGAN_E_RANGE);
    tc.difference_matching = 1e300; /* a double beyond float's range */
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           w.data, &tr, &err),
                     GRUGAN_E_RANGE);
    tc.difference_matching = 0.0;
    tc.feature_matching = -INFINITY;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           w.data, &tr, &err),
                     GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_trainer_step(NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_trainer_save(w.tr, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_trainer_save(w.tr, "/nonexistent-dir/x.safetensors"), GRUGAN_E_IO);
    ck_assert_int_eq(grugan_trainer_load(w.tr, "/nonexistent-dir/x.safetensors"), GRUGAN_E_IO);
    ck_assert_int_eq(grugan_trainer_load_buffer(w.tr, "garbage!", 8), GRUGAN_E_FORMAT);
    ck_assert_int_gt((int)strlen(grugan_trainer_message(w.tr)), 0);
    grugan_trainer_free(NULL);
    gan_world_free(&w);
}
END_TEST

/* Both models' weights after two steps with this configuration. */
static float *weights_after_two_steps(const grugan_trainer_config *tc, size_t *n)
{
    world w;
    float *all;
    world_make(&w, GRUGAN_DISC_GRU, tc, 1);
    run_steps(&w, 2);
    all = snapshot(&w, n);
    gan_world_free(&w);
    return all;
}

START_TEST(zero_weights_take_the_defaults_and_negative_ones_switch_them_off)
{
    grugan_trainer_config zero = GRUGAN_TRAINER_CONFIG_INIT, given = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_trainer_config off = GRUGAN_TRAINER_CONFIG_INIT;
    size_t n;
    float *a, *b, *c, *d;
    /* moment matching: 0 is the documented default weight, 100 */
    given.moment_matching = 100.0f;
    off.moment_matching = -1.0f;
    a = weights_after_two_steps(&zero, &n);
    b = weights_after_two_steps(&given, &n);
    c = weights_after_two_steps(&off, &n);
    ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "moment_matching 0 is not 100");
    ck_assert_msg(memcmp(a, c, n * sizeof *a) != 0, "moment_matching -1 changed nothing");
    free(b);
    free(c);
    /* difference matching likewise: 0 is 100, negative is off */
    given = off = zero;
    given.difference_matching = 100.0;
    off.difference_matching = -1.0;
    b = weights_after_two_steps(&given, &n);
    c = weights_after_two_steps(&off, &n);
    ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "difference_matching 0 is not 100");
    ck_assert_msg(memcmp(a, c, n * sizeof *a) != 0, "difference_matching -1 changed nothing");
    /* label smoothing and feature matching default to none: 0 and negative agree */
    off = zero;
    off.label_smoothing = -0.5f;
    off.feature_matching = -2.0f;
    d = weights_after_two_steps(&off, &n);
    ck_assert_msg(memcmp(a, d, n * sizeof *a) == 0, "negative label smoothing or feature "
                                                    "matching differs from the default");
    free(a);
    free(b);
    free(c);
    free(d);
}
END_TEST

START_TEST(a_checkpoint_of_another_architecture_is_refused)
{
    world a, b;
    size_t size = 0;
    void *buf;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    float *before, *after;
    size_t n;
    world_make(&a, GRUGAN_DISC_GRU, NULL, 1);
    world_make(&b, GRUGAN_DISC_CONV1D, NULL, 1);
    (void)dic;
    grugan_trainer_save_buffer(a.tr, NULL, 0, &size);
    buf = malloc(size);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, buf, size, &size), GRUGAN_OK);
    before = snapshot(&b, &n);
    ck_assert_int_eq(grugan_trainer_load_buffer(b.tr, buf, size), GRUGAN_E_FORMAT);
    after = snapshot(&b, &n);
    ck_assert_int_eq(memcmp(before, after, n * sizeof *after), 0); /* nothing changed */
    free(before);
    free(after);
    free(buf);
    gan_world_free(&a);
    gan_world_free(&b);
}
END_TEST

START_TEST(a_generator_loads_from_a_training_checkpoint)
{
    world w;
    grugan_generator *g = NULL;
    grugan_error err;
    size_t size = 0, n;
    void *buf;
    float off[F], sc[F], doff[F], dsc[F], *a, *b;
    world_make(&w, GRUGAN_DISC_GRU, NULL, 1);
    run_steps(&w, 2);
    grugan_trainer_save_buffer(w.tr, NULL, 0, &size);
    buf = malloc(size);
    ck_assert_int_eq(grugan_trainer_save_buffer(w.tr, buf, size, &size), GRUGAN_OK);
    ck_assert_msg(grugan_generator_load_buffer(NULL, buf, size, &g, &err) == GRUGAN_OK, "%s",
                  err.message);
    n = grugan_params_num_scalars(grugan_generator_params(g));
    a = malloc(n * sizeof *a);
    b = malloc(n * sizeof *b);
    grugan_params_read_all(grugan_generator_params(g), a, n);
    grugan_params_read_all(grugan_generator_params(w.gen), b, n);
    ck_assert_mem_eq(a, b, n * sizeof *a);
    ck_assert_int_eq(grugan_generator_get_scaler(g, off, sc), GRUGAN_OK);
    grugan_dataset_scaler(w.data, doff, dsc);
    ck_assert_mem_eq(off, doff, sizeof off);
    ck_assert_mem_eq(sc, dsc, sizeof sc);
    free(a);
    free(b);
    free(buf);
    grugan_generator_free(g);
    gan_world_free(&w);
}
END_TEST

/* How far generated samples are from the dataset's sequences: the mean,
 * standard deviation and autocorrelation errors added up (0: the same). */
static double statistics_gap(world *w, size_t n, size_t steps, size_t features)
{
    float *real = malloc(n * steps * features * sizeof *real);
    float *fake = malloc(n * steps * features * sizeof *fake);
    double mean_err = -1, std_err = -1, acf_err = -1;
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(grugan_dataset_get(w->data, i, real + i * steps * features, NULL, NULL),
                         GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_sample(w->gen, 77, n, steps, NULL, NULL, fake), GRUGAN_OK);
    ck_assert_int_eq(grugan_statistics_error(real, n, fake, n, steps, features, 4, &mean_err,
                                             &std_err, &acf_err),
                     GRUGAN_OK);
    free(real);
    free(fake);
    return mean_err + std_err + acf_err;
}

START_TEST(training_from_a_file_brings_samples_closer_to_the_data)
{
    enum { ROWS = 400, STEPS = 12, FEAT = 2 };
    char path[] = "/tmp/grugan-series-XXXXXX";
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_error err;
    world w;
    size_t n;
    double before, after;
    FILE *f;
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    /* a two-feature series: a slow sine and a noisy copy shifted in phase */
    f = fopen(path, "w");
    fprintf(f, "level,echo\n");
    for (int r = 0; r < ROWS; r++)
        fprintf(f, "%.6f,%.6f\n", sin(0.3 * r), sin(0.3 * r + 1.0) + 0.1 * sin(7.7 * r));
    fclose(f);
    memset(&w, 0, sizeof w);
    dc.sequence_length = STEPS;
    dc.stride = 2;
    dc.seed = 1;
    ck_assert_msg(grugan_dataset_from_csv(NULL, &dc, path, &w.data, &err) == GRUGAN_OK, "%s",
                  err.message);
    unlink(path);
    grugan_dataset_shape(w.data, &n, NULL, NULL, NULL);
    gc.noise_size = 2;
    gc.output_size = FEAT;
    gc.hidden_size = 12;
    gc.num_layers = 1;
    gc.seed = 2;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &w.gen, &err), GRUGAN_OK);
    dic.input_size = FEAT;
    dic.hidden_size = 12;
    dic.num_layers = 1;
    dic.seed = 3;
    ck_assert_int_eq(grugan_discriminator_create(NULL, &dic, &w.disc, &err), GRUGAN_OK);
    oc.lr = 3e-3;
    ck_assert_int_eq(grugan_optimizer_create(NULL, &oc, grugan_generator_params(w.gen),
                                             &w.gen_opt, &err),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(NULL, &oc, grugan_discriminator_params(w.disc),
                                             &w.disc_opt, &err),
                     GRUGAN_OK);
    tc.batch_size = 32;
    tc.total_steps = 400;
    tc.moment_matching = 10.0f;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, w.gen, w.disc, w.gen_opt, w.disc_opt,
                                           w.data, &w.tr, &err),
                     GRUGAN_OK);
    before = statistics_gap(&w, n, STEPS, FEAT);
    ck_assert_msg(grugan_trainer_run(w.tr) == GRUGAN_OK, "%s", grugan_trainer_message(w.tr));
    after = statistics_gap(&w, n, STEPS, FEAT);
    ck_assert_msg(after < 0.5 * before, "statistics gap %.4f before training, %.4f after", before,
                  after);
    gan_world_free(&w);
}
END_TEST

Suite *suite_trainer(void)
{
    Suite *s = suite_create("trainer");
    TCase *tc = tcase_create("trainer");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, steps_update_both_models_and_report_progress);
    tcase_add_test(tc, callback_stops_the_run_and_leaves_it_usable);
    tcase_add_test(tc, resume_from_a_buffer_is_exact);
    tcase_add_test(tc, resume_from_a_file_is_exact_with_a_conv_discriminator);
    tcase_add_test(tc, same_seed_is_bit_identical_at_one_and_two_threads);
    tcase_add_test(tc, instance_noise_changes_what_the_discriminator_sees_and_nothing_else);
    tcase_add_test(tc, non_finite_values_stop_or_skip_and_never_update);
    tcase_add_test(tc, an_overflowing_update_follows_the_policy);
    tcase_add_test(tc, bad_arguments_are_refused);
    tcase_add_test(tc, zero_weights_take_the_defaults_and_negative_ones_switch_them_off);
    tcase_add_test(tc, a_checkpoint_of_another_architecture_is_refused);
    tcase_add_test(tc, a_generator_loads_from_a_training_checkpoint);
    tcase_add_test(tc, training_from_a_file_brings_samples_closer_to_the_data);
    suite_add_tcase(s, tc);
    return s;
}
