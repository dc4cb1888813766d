/* test_trainer_penalties.c - the trainer's gradient penalties (WGAN-GP, R1,
 * R2): defaults, effect, determinism across threads and resumes, the
 * non-finite policy and the refused configurations. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 48, T = 8, F = 2, B = 8 };

static void make_series(float *x)
{
    for (size_t i = 0; i < N; i++)
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < F; k++)
                x[(i * T + t) * F + k] =
                    sinf(0.3f * (float)(k + 1) * (float)t + 0.17f * (float)i);
}

/* A world with a CONV1D (or GRU) discriminator and this trainer config. */
static void world_make(gan_world *w, int disc_kind, grugan_trainer_config tc, int threads)
{
    float x[N * T * F];
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    make_series(x);
    gc.noise_size = 3;
    gc.output_size = F;
    gc.hidden_size = 6;
    gc.num_layers = 1;
    gc.seed = 21;
    dic.kind = disc_kind;
    dic.input_size = F;
    dic.hidden_size = 5;
    dic.num_layers = 1;
    dic.sequence_length = T;
    dic.channels = 5;
    dic.conv_layers = 2;
    dic.kernel_size = 3;
    dic.seed = 22;
    tc.batch_size = B;
    tc.threads = threads;
    tc.select_every = -1;
    gan_world_make(w, NULL, x, N, T, F, 5, &gc, &dic, &tc);
}

static float *snapshot(gan_world *w, size_t *count)
{
    grugan_params *g = grugan_generator_params(w->gen), *d = grugan_discriminator_params(w->disc);
    const size_t ng = grugan_params_num_scalars(g), nd = grugan_params_num_scalars(d);
    float *all = falloc(ng + nd);
    ck_assert_int_eq(grugan_params_read_all(g, all, ng), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(d, all + ng, nd), GRUGAN_OK);
    *count = ng + nd;
    return all;
}

static void run_steps(gan_world *w, int steps)
{
    for (int i = 0; i < steps; i++)
        ck_assert_msg(grugan_trainer_step(w->tr) == GRUGAN_OK, "%s",
                      grugan_trainer_message(w->tr));
}

/* Both models after `steps` steps of this configuration. */
static float *weights_after(grugan_trainer_config tc, int steps, int threads, size_t *n)
{
    gan_world w;
    float *all;
    world_make(&w, GRUGAN_DISC_CONV1D, tc, threads);
    run_steps(&w, steps);
    all = snapshot(&w, n);
    gan_world_free(&w);
    return all;
}

static void expect_same(grugan_trainer_config a, grugan_trainer_config b, int steps, int same)
{
    size_t na, nb;
    float *wa = weights_after(a, steps, 1, &na), *wb = weights_after(b, steps, 1, &nb);
    ck_assert_uint_eq(na, nb);
    if (same)
        ck_assert_msg(memcmp(wa, wb, na * sizeof *wa) == 0, "the weights differ");
    else
        ck_assert_msg(memcmp(wa, wb, na * sizeof *wa) != 0, "the weights are the same");
    free(wa);
    free(wb);
}

START_TEST(wgan_gp_is_wasserstein_with_lambda_10_and_5_critic_updates)
{
    grugan_trainer_config gp = GRUGAN_TRAINER_CONFIG_INIT, w = GRUGAN_TRAINER_CONFIG_INIT;
    gp.loss = GRUGAN_LOSS_WGAN_GP;
    w.loss = GRUGAN_LOSS_WASSERSTEIN;
    w.gradient_penalty = 10.0f;
    w.d_steps = 5;
    expect_same(gp, w, 2, 1);
    /* a negative lambda switches the penalty off */
    gp.gradient_penalty = -1.0f;
    w.gradient_penalty = 0.0f;
    expect_same(gp, w, 2, 1);
    /* the penalty changes the training */
    w.gradient_penalty = 10.0f;
    expect_same(gp, w, 2, 0);
}
END_TEST

/* Each penalty changes the discriminator's update and adds its value to the
 * reported loss; with every loss. */
START_TEST(each_penalty_changes_training_and_adds_to_the_loss)
{
    static const int losses[] = {GRUGAN_LOSS_BCE, GRUGAN_LOSS_LSGAN, GRUGAN_LOSS_HINGE};
    for (size_t l = 0; l < 3; l++)
        for (int which = 0; which < 3; which++) {
            grugan_trainer_config plain = GRUGAN_TRAINER_CONFIG_INIT, pen;
            gan_world a, b;
            grugan_progress pa, pb;
            size_t na, nb;
            float *wa, *wb;
            memset(&pa, 0, sizeof pa);
            memset(&pb, 0, sizeof pb);
            pa.struct_size = pb.struct_size = sizeof pa;
            plain.loss = losses[l];
            pen = plain;
            if (which == 0) pen.r1_gamma = 2.0f;
            if (which == 1) pen.r2_gamma = 2.0f;
            if (which == 2) pen.gradient_penalty = 10.0f;
            world_make(&a, GRUGAN_DISC_CONV1D, plain, 1);
            world_make(&b, GRUGAN_DISC_CONV1D, pen, 1);
            run_steps(&a, 1);
            run_steps(&b, 1);
            ck_assert_int_eq(grugan_trainer_progress(a.tr, &pa), GRUGAN_OK);
            ck_assert_int_eq(grugan_trainer_progress(b.tr, &pb), GRUGAN_OK);
            /* the first update sees the same data and weights: only the penalty differs */
            ck_assert_msg(pb.d_loss > pa.d_loss, "loss %d penalty %d: %g not above %g",
                          losses[l], which, (double)pb.d_loss, (double)pa.d_loss);
            ck_assert_float_eq(pb.d_real, pa.d_real);
            wa = snapshot(&a, &na);
            wb = snapshot(&b, &nb);
            ck_assert(memcmp(wa, wb, na * sizeof *wa) != 0);
            free(wa);
            free(wb);
            gan_world_free(&a);
            gan_world_free(&b);
        }
}
END_TEST

START_TEST(penalised_training_is_bit_identical_at_one_and_two_threads)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    size_t n1, n2;
    float *w1, *w2;
    tc.loss = GRUGAN_LOSS_WGAN_GP;
    tc.r1_gamma = 1.0f;
    tc.r2_gamma = 0.5f;
    tc.instance_noise = 0.05f;
    w1 = weights_after(tc, 2, 1, &n1);
    w2 = weights_after(tc, 2, 2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(w1, w2, n1 * sizeof *w1) == 0);
    free(w1);
    free(w2);
}
END_TEST

/* The interpolation weights are keyed by the update: a resumed run draws
 * the same ones. */
START_TEST(resumed_wgan_gp_training_is_exact)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    gan_world a, b;
    size_t size = 0, na, nb;
    void *buf;
    float *wa, *wb;
    tc.loss = GRUGAN_LOSS_WGAN_GP;
    tc.r1_gamma = 0.5f;
    world_make(&a, GRUGAN_DISC_CONV1D, tc, 1);
    run_steps(&a, 2);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, NULL, 0, &size), GRUGAN_OK);
    buf = malloc(size);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(grugan_trainer_save_buffer(a.tr, buf, size, &size), GRUGAN_OK);
    run_steps(&a, 2);
    world_make(&b, GRUGAN_DISC_CONV1D, tc, 1);
    ck_assert_msg(grugan_trainer_load_buffer(b.tr, buf, size) == GRUGAN_OK, "%s",
                  grugan_trainer_message(b.tr));
    run_steps(&b, 2);
    wa = snapshot(&a, &na);
    wb = snapshot(&b, &nb);
    ck_assert(memcmp(wa, wb, na * sizeof *wa) == 0);
    free(wa);
    free(wb);
    free(buf);
    gan_world_free(&a);
    gan_world_free(&b);
}
END_TEST

/* A penalty beyond the float range follows the non-finite policy: STOP
 * fails naming it, SKIP counts it; the discriminator is not updated. */
START_TEST(a_penalty_beyond_float_follows_the_policy)
{
    for (int policy = GRUGAN_NONFINITE_STOP; policy <= GRUGAN_NONFINITE_SKIP; policy++) {
        grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
        gan_world w;
        grugan_params *dp;
        grugan_progress p;
        size_t nd;
        float *before, *after;
        memset(&p, 0, sizeof p);
        p.struct_size = sizeof p;
        tc.r1_gamma = FLT_MAX;
        tc.nonfinite_policy = policy;
        world_make(&w, GRUGAN_DISC_CONV1D, tc, 1);
        dp = grugan_discriminator_params(w.disc);
        nd = grugan_params_num_scalars(dp);
        before = falloc(nd);
        after = falloc(nd);
        /* large weights: ||grad_x D||^2 far above 1, so FLT_MAX / 2 times it overflows */
        ck_assert_int_eq(grugan_params_read_all(dp, before, nd), GRUGAN_OK);
        for (size_t i = 0; i < nd; i++) before[i] *= 100.0f;
        ck_assert_int_eq(grugan_params_write_all(dp, before, nd), GRUGAN_OK);
        if (policy == GRUGAN_NONFINITE_STOP) {
            ck_assert_int_eq(grugan_trainer_step(w.tr), GRUGAN_E_NONFINITE);
            ck_assert_msg(strstr(grugan_trainer_message(w.tr), "penalty") != NULL, "%s",
                          grugan_trainer_message(w.tr));
        } else {
            ck_assert_int_eq(grugan_trainer_step(w.tr), GRUGAN_OK);
            ck_assert_int_eq(grugan_trainer_progress(w.tr, &p), GRUGAN_OK);
            ck_assert_uint_ge(p.skipped, 1);
        }
        ck_assert_int_eq(grugan_params_read_all(dp, after, nd), GRUGAN_OK);
        ck_assert(memcmp(before, after, nd * sizeof *after) == 0);
        free(before);
        free(after);
        gan_world_free(&w);
    }
}
END_TEST

/* Creates a trainer with tc on w's handles; returns its status. */
static int create_with(gan_world *w, grugan_trainer_config tc, grugan_error *err)
{
    grugan_trainer *tr = NULL;
    int rc;
    tc.batch_size = B;
    rc = grugan_trainer_create(NULL, &tc, w->gen, w->disc, w->gen_opt, w->disc_opt, w->data, &tr,
                               err);
    if (rc != GRUGAN_OK) ck_assert_ptr_null(tr);
    ck_assert_msg(rc == GRUGAN_OK || err->message[0] != '\0', "no message");
    grugan_trainer_free(tr);
    return rc;
}

START_TEST(bad_penalty_settings_are_refused)
{
    const grugan_trainer_config plain = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_trainer_config tc;
    grugan_error err;
    gan_world conv, gru;
    world_make(&conv, GRUGAN_DISC_CONV1D, plain, 1);
    world_make(&gru, GRUGAN_DISC_GRU, plain, 1);
    tc = plain, tc.r1_gamma = -1.0f;
    ck_assert_int_eq(create_with(&conv, tc, &err), GRUGAN_E_RANGE);
    tc = plain, tc.r2_gamma = NAN;
    ck_assert_int_eq(create_with(&conv, tc, &err), GRUGAN_E_RANGE);
    tc = plain, tc.r1_gamma = INFINITY;
    ck_assert_int_eq(create_with(&conv, tc, &err), GRUGAN_E_RANGE);
    tc = plain, tc.gradient_penalty = NAN;
    ck_assert_int_eq(create_with(&conv, tc, &err), GRUGAN_E_RANGE);
    tc = plain, tc.gradient_penalty = -INFINITY;
    ck_assert_int_eq(create_with(&conv, tc, &err), GRUGAN_E_RANGE);
    tc = plain, tc.loss = GRUGAN_LOSS_WGAN_GP + 1;
    ck_assert_int_eq(create_with(&conv, tc, &err), GRUGAN_E_RANGE);
    /* the GRU discriminator has no penalties yet */
    tc = plain, tc.loss = GRUGAN_LOSS_WGAN_GP;
    ck_assert_int_eq(create_with(&gru, tc, &err), GRUGAN_E_UNSUPPORTED);
    ck_assert_msg(strstr(err.message, "CONV1D") != NULL, "%s", err.message);
    tc = plain, tc.r2_gamma = 1.0f;
    ck_assert_int_eq(create_with(&gru, tc, &err), GRUGAN_E_UNSUPPORTED);
    /* ... but WGAN-GP with the penalty off is plain Wasserstein */
    tc = plain, tc.loss = GRUGAN_LOSS_WGAN_GP, tc.gradient_penalty = -1.0f;
    ck_assert_int_eq(create_with(&gru, tc, &err), GRUGAN_OK);
    gan_world_free(&conv);
    gan_world_free(&gru);
}
END_TEST

Suite *suite_trainer_penalties(void)
{
    Suite *s = suite_create("trainer_penalties");
    TCase *tc = tcase_create("penalties");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, wgan_gp_is_wasserstein_with_lambda_10_and_5_critic_updates);
    tcase_add_test(tc, each_penalty_changes_training_and_adds_to_the_loss);
    tcase_add_test(tc, penalised_training_is_bit_identical_at_one_and_two_threads);
    tcase_add_test(tc, resumed_wgan_gp_training_is_exact);
    tcase_add_test(tc, a_penalty_beyond_float_follows_the_policy);
    tcase_add_test(tc, bad_penalty_settings_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
