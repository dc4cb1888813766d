/* test_numerics.c - NaN and Inf injected into data, weights and gradients:
 * every entry point refuses them with GRUGAN_E_NONFINITE and changes nothing,
 * an optimizer never applies a non-finite gradient, and the trainer's policy
 * holds when values blow up at a chosen step (STOP: a message naming what and
 * which step; SKIP: the update skipped and counted). Weights never become
 * NaN or Inf. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 32, T = 6, F = 2, B = 8 };

static const float BAD[3] = {NAN, INFINITY, -INFINITY};

static bool all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return false;
    return true;
}

static void sines(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < F; k++)
                x[(i * T + t) * F + k] = sinf(0.4f * (float)t + 0.9f * (float)i + 0.5f * (float)k);
}

/* ------------------------------------------------------------------------- */
/* Data                                                                      */
/* ------------------------------------------------------------------------- */

START_TEST(datasets_refuse_non_finite_data)
{
    float x[N * T * F], cond[N];
    size_t len[N];
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds;
    grugan_error err;
    for (size_t i = 0; i < N; i++) {
        cond[i] = (float)i;
        len[i] = T;
    }
    for (size_t b = 0; b < 3; b++) {
        const size_t where[3] = {0, 77, N * T * F - 1};
        for (size_t w = 0; w < 3; w++) {
            sines(x, N);
            x[where[w]] = BAD[b];
            ds = (grugan_dataset *)x;
            ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, N, T, F, NULL, 0, NULL, &ds,
                                                       &err),
                             GRUGAN_E_NONFINITE);
            ck_assert_ptr_null(ds);
            ck_assert_int_eq(err.code, GRUGAN_E_NONFINITE);
            ck_assert(err.message[0] != '\0');
            /* the same values as a long series */
            dc.sequence_length = T;
            ck_assert_int_eq(grugan_dataset_from_series(NULL, &dc, x, N * T, F, &ds, &err),
                             GRUGAN_E_NONFINITE);
            ck_assert_ptr_null(ds);
            dc.sequence_length = 0;
        }
        /* a condition */
        sines(x, N);
        cond[5] = BAD[b];
        ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, N, T, F, cond, 1, len, &ds, &err),
                         GRUGAN_E_NONFINITE);
        ck_assert_ptr_null(ds);
        cond[5] = 5;
    }
    /* past a sequence's length the values are not read: NaN there is fine */
    sines(x, N);
    len[3] = 2;
    x[(3 * T + 4) * F] = NAN;
    ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, N, T, F, cond, 1, len, &ds, &err),
                     GRUGAN_OK);
    {
        float seq[T * F];
        size_t l = 0;
        ck_assert_int_eq(grugan_dataset_get(ds, 3, seq, NULL, &l), GRUGAN_OK);
        ck_assert_uint_eq(l, 2);
        ck_assert(all_finite(seq, T * F));
    }
    grugan_dataset_free(ds);
    /* CSV text: "nan", "inf" and numbers beyond the float range */
    {
        static const char *const texts[4] = {"a,b\n1,2\n3,nan\n5,6\n7,8\n",
                                             "a,b\n1,2\n3,4\ninf,6\n7,8\n",
                                             "a,b\n1,2\n3,4\n5,-Infinity\n7,8\n",
                                             "a,b\n1,2\n3,4\n5,1e39\n7,8\n"};
        static const int want[4] = {GRUGAN_E_NONFINITE, GRUGAN_E_NONFINITE, GRUGAN_E_NONFINITE,
                                    GRUGAN_E_RANGE};
        dc.sequence_length = 2;
        for (size_t i = 0; i < 4; i++) {
            const int rc = grugan_dataset_from_csv_buffer(NULL, &dc, texts[i], strlen(texts[i]),
                                                          &ds, &err);
            ck_assert_msg(rc == want[i] || (i == 2 && rc == GRUGAN_E_FORMAT),
                          "CSV %zu: %d (%s)", i, rc, err.message);
            ck_assert_ptr_null(ds);
            ck_assert_ptr_nonnull(strstr(err.message, "line"));
        }
    }
    /* an .npy file holding a NaN (written by the library's own writer) */
    {
        char path[] = "/tmp/grugan-nan-XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        close(fd);
        sines(x, N);
        x[10] = NAN;
        ck_assert_int_eq(grugan_write_sequences(path, GRUGAN_FILE_NPY, x, N, T, F, &err), GRUGAN_OK);
        dc.sequence_length = 0;
        ck_assert_int_eq(grugan_dataset_from_npy(NULL, &dc, path, &ds, &err), GRUGAN_E_NONFINITE);
        ck_assert_ptr_null(ds);
        unlink(path);
    }
}
END_TEST

/* The model inputs refuse NaN/Inf while GRUGAN_KEY_CHECK_FINITE is 1 (the
 * default), writing nothing. */
START_TEST(model_inputs_refuse_non_finite_values)
{
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_generator *gen;
    grugan_discriminator *disc;
    grugan_error err;
    float z[B * T * 2], x[B * T * F], out[B * T * F], logits[B * T], ref[B * T * F];
    uint64_t pos0, pos1;
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 4;
    gc.num_layers = 1;
    dic.input_size = F;
    dic.hidden_size = 4;
    dic.num_layers = 1;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &gen, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_create(NULL, &dic, &disc, &err), GRUGAN_OK);
    for (size_t b = 0; b < 3; b++) {
        for (size_t i = 0; i < B * T * 2; i++) z[i] = 0.1f * (float)i;
        sines(x, B);
        z[B * T * 2 - 1] = BAD[b];
        x[3] = BAD[b];
        memset(out, 0x7f, sizeof out);
        memcpy(ref, out, sizeof out);
        ck_assert_int_eq(grugan_generator_forward(gen, B, T, z, NULL, NULL, out),
                         GRUGAN_E_NONFINITE);
        ck_assert_ptr_nonnull(strstr(grugan_generator_message(gen), "z"));
        ck_assert_int_eq(memcmp(out, ref, sizeof out), 0);
        ck_assert_int_eq(grugan_discriminator_forward(disc, B, T, x, NULL, NULL, logits),
                         GRUGAN_E_NONFINITE);
        ck_assert_ptr_nonnull(strstr(grugan_discriminator_message(disc), "x"));
        /* gradients flowing back */
        ck_assert_int_eq(grugan_generator_noise_position(gen, &pos0), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_forward(gen, B, T, NULL, NULL, NULL, out), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_noise_position(gen, &pos1), GRUGAN_OK);
        ck_assert_uint_eq(pos1, pos0 + B);
        out[5] = BAD[b];
        ck_assert_int_eq(grugan_generator_backward(gen, out), GRUGAN_E_NONFINITE);
        sines(x, B);
        ck_assert_int_eq(grugan_discriminator_forward(disc, B, T, x, NULL, NULL, logits), GRUGAN_OK);
        logits[2] = BAD[b];
        ck_assert_int_eq(grugan_discriminator_backward(disc, logits, NULL, NULL, 0),
                         GRUGAN_E_NONFINITE);
        ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_REAL, B, T, logits, NULL, 0,
                                     &out[0], NULL),
                         GRUGAN_E_NONFINITE);
        ck_assert_int_eq(grugan_feature_matching(2, 2, 2, logits, logits, &out[0], NULL),
                         GRUGAN_E_NONFINITE);
        {
            double mean = -1;
            float real[8 * T * F], synth[8 * T * F];
            sines(real, 8);
            sines(synth, 8);
            synth[9] = BAD[b];
            ck_assert_int_eq(grugan_statistics_error(real, 8, synth, 8, T, F, 1, &mean, NULL, NULL),
                             GRUGAN_E_NONFINITE);
            ck_assert(mean == -1);
        }
    }
    grugan_generator_free(gen);
    grugan_discriminator_free(disc);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Weights and gradients                                                     */
/* ------------------------------------------------------------------------- */

static void read_all(grugan_params *p, float *dst)
{
    ck_assert_int_eq(grugan_params_read_all(p, dst, grugan_params_num_scalars(p)), GRUGAN_OK);
}

START_TEST(weights_refuse_non_finite_values)
{
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *gen;
    grugan_params *p;
    grugan_optimizer *opt;
    grugan_error err;
    size_t n, head, count;
    float *before, *after, *src;
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 4;
    gc.num_layers = 1;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &gen, &err), GRUGAN_OK);
    p = grugan_generator_params(gen);
    n = grugan_params_num_scalars(p);
    before = malloc(n * sizeof *before);
    after = malloc(n * sizeof *after);
    src = malloc(n * sizeof *src);
    read_all(p, before);
    ck_assert_int_eq(grugan_params_find(p, "head.weight", &head), GRUGAN_OK);
    count = 4 * F;
    for (size_t b = 0; b < 3; b++) {
        for (size_t i = 0; i < n; i++) src[i] = 0.5f;
        src[count - 1] = BAD[b];
        ck_assert_int_eq(grugan_params_write(p, head, src, count), GRUGAN_E_NONFINITE);
        ck_assert_ptr_nonnull(strstr(grugan_params_message(p), "head.weight"));
        ck_assert_int_eq(grugan_params_grad_write(p, head, src, count), GRUGAN_E_NONFINITE);
        src[count - 1] = 0.5f;
        src[n - 1] = BAD[b];
        ck_assert_int_eq(grugan_params_write_all(p, src, n), GRUGAN_E_NONFINITE);
        read_all(p, after);
        ck_assert_int_eq(memcmp(before, after, n * sizeof *after), 0);
    }
    /* an optimizer state holding NaN is refused too */
    ck_assert_int_eq(grugan_optimizer_create(NULL, NULL, p, &opt, &err), GRUGAN_OK);
    {
        const size_t s = grugan_optimizer_state_size(opt);
        float *state = calloc(s, sizeof *state), *state2 = calloc(s, sizeof *state2);
        uint64_t steps = 9;
        state[s / 2] = NAN;
        ck_assert_int_eq(grugan_optimizer_state_write(opt, state, s, 3), GRUGAN_E_NONFINITE);
        ck_assert_int_eq(grugan_optimizer_state_read(opt, state2, s, &steps), GRUGAN_OK);
        ck_assert_uint_eq(steps, 0);
        ck_assert(all_finite(state2, s));
        free(state);
        free(state2);
    }
    grugan_optimizer_free(opt);
    free(before);
    free(after);
    free(src);
    grugan_generator_free(gen);
}
END_TEST

/* Non-finite gradients reach the optimizer through a backward pass with the
 * finite check off (GRUGAN_KEY_CHECK_FINITE 0) or as huge finite values
 * whose norm overflows: clip and step refuse them and change nothing (values,
 * gradients, state, step count), for every optimizer kind. */
START_TEST(optimizers_never_apply_non_finite_gradients)
{
    static const int kinds[4] = {GRUGAN_OPT_ADAM, GRUGAN_OPT_ADAMW, GRUGAN_OPT_SGD,
                                 GRUGAN_OPT_RMSPROP};
    for (size_t k = 0; k < 4; k++)
        for (size_t b = 0; b < 4; b++) {
            grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
            grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
            grugan_generator *gen;
            grugan_optimizer *opt;
            grugan_params *p;
            grugan_error err;
            float out[B * T * F], norm = -1;
            float *v0, *g0, *s0, *v1, *g1, *s1;
            size_t n, s;
            uint64_t count = 99;
            gc.noise_size = 2;
            gc.output_size = F;
            gc.hidden_size = 4;
            gc.num_layers = 1;
            oc.kind = kinds[k];
            if (kinds[k] == GRUGAN_OPT_SGD || kinds[k] == GRUGAN_OPT_RMSPROP) oc.momentum = 0.5;
            if (kinds[k] == GRUGAN_OPT_RMSPROP) oc.centered = 1;
            ck_assert_int_eq(grugan_generator_create(NULL, &gc, &gen, &err), GRUGAN_OK);
            p = grugan_generator_params(gen);
            ck_assert_int_eq(grugan_optimizer_create(NULL, &oc, p, &opt, &err), GRUGAN_OK);
            n = grugan_params_num_scalars(p);
            s = grugan_optimizer_state_size(opt);
            /* one good step first, so that the state is not all zeros */
            ck_assert_int_eq(grugan_generator_forward(gen, B, T, NULL, NULL, NULL, out), GRUGAN_OK);
            ck_assert_int_eq(grugan_optimizer_zero_grad(opt), GRUGAN_OK);
            ck_assert_int_eq(grugan_generator_backward(gen, out), GRUGAN_OK);
            ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
            /* now a bad gradient */
            ck_assert_int_eq(grugan_generator_forward(gen, B, T, NULL, NULL, NULL, out), GRUGAN_OK);
            ck_assert_int_eq(grugan_optimizer_zero_grad(opt), GRUGAN_OK);
            if (b < 3) {
                ck_assert_int_eq(grugan_generator_set(gen, GRUGAN_KEY_CHECK_FINITE, 0), GRUGAN_OK);
                out[7] = BAD[b];
                ck_assert_int_eq(grugan_generator_backward(gen, out), GRUGAN_OK);
            } else {
                /* finite gradients whose squared norm overflows float */
                size_t head;
                float huge[4 * F];
                for (size_t i = 0; i < 4 * F; i++) huge[i] = 3.0e38f;
                ck_assert_int_eq(grugan_params_find(p, "head.weight", &head), GRUGAN_OK);
                ck_assert_int_eq(grugan_params_grad_write(p, head, huge, 4 * F), GRUGAN_OK);
            }
            v0 = malloc(n * sizeof *v0);
            g0 = malloc(n * sizeof *g0);
            v1 = malloc(n * sizeof *v1);
            g1 = malloc(n * sizeof *g1);
            s0 = calloc(s + 1, sizeof *s0);
            s1 = calloc(s + 1, sizeof *s1);
            read_all(p, v0);
            grads_read_all(p, g0);
            ck_assert_int_eq(grugan_optimizer_state_read(opt, s0, s, NULL), GRUGAN_OK);
            if (b < 3) ck_assert(!all_finite(g0, n)); /* the injection worked */

            ck_assert_int_eq(grugan_optimizer_clip_grad_norm(opt, 1.0f, &norm), GRUGAN_E_NONFINITE);
            ck_assert(grugan_optimizer_message(opt)[0] != '\0');
            if (b == 3 && kinds[k] == GRUGAN_OPT_SGD) {
                /* finite gradients are a valid SGD step (only the norm
                 * overflowed): the weights stay finite. Adam and RMSprop
                 * refuse it below: the squares overflow their averages. */
                ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
                read_all(p, v1);
                ck_assert_msg(all_finite(v1, n), "kind %d: non-finite values", kinds[k]);
                goto next;
            }
            ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_E_NONFINITE);
            ck_assert(grugan_optimizer_message(opt)[0] != '\0');

            read_all(p, v1);
            grads_read_all(p, g1);
            ck_assert_int_eq(grugan_optimizer_state_read(opt, s1, s, &count), GRUGAN_OK);
            ck_assert_msg(memcmp(v0, v1, n * sizeof *v0) == 0, "kind %d: values changed", kinds[k]);
            ck_assert_msg(all_finite(v1, n), "kind %d: non-finite values", kinds[k]);
            ck_assert_msg(memcmp(g0, g1, n * sizeof *g0) == 0, "kind %d: gradients scaled",
                          kinds[k]);
            ck_assert_msg(memcmp(s0, s1, s * sizeof *s0) == 0, "kind %d: state changed", kinds[k]);
            ck_assert_uint_eq(count, 1);
            /* zeroed gradients work again */
            ck_assert_int_eq(grugan_optimizer_zero_grad(opt), GRUGAN_OK);
            ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_OK);
        next:
            free(v0);
            free(g0);
            free(s0);
            free(v1);
            free(g1);
            free(s1);
            grugan_optimizer_free(opt);
            grugan_generator_free(gen);
        }
}
END_TEST

/* A checkpoint holding a NaN weight is refused, nothing restored. */
START_TEST(checkpoints_with_non_finite_weights_are_refused)
{
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *gen, *g2 = NULL;
    grugan_error err;
    size_t size = 0;
    unsigned char *buf;
    char *at;
    unsigned long long header, begin;
    const float nan = NAN;
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 4;
    gc.num_layers = 1;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &gen, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_save_buffer(gen, NULL, 0, &size), GRUGAN_OK);
    buf = malloc(size + 1);
    ck_assert_int_eq(grugan_generator_save_buffer(gen, buf, size, &size), GRUGAN_OK);
    buf[size] = 0;
    /* the data of generator.head.bias, found through the JSON header */
    header = 0;
    for (int i = 7; i >= 0; i--) header = header << 8 | buf[i];
    at = strstr((char *)buf + 8, "\"generator.head.bias\"");
    ck_assert_ptr_nonnull(at);
    at = strstr(at, "\"data_offsets\"");
    ck_assert_ptr_nonnull(at);
    at = strchr(at, '[');
    begin = strtoull(at + 1, NULL, 10);
    ck_assert_uint_lt(8 + header + begin + 4, size + 1);
    memcpy(buf + 8 + header + begin, &nan, 4);
    ck_assert_int_eq(grugan_generator_load_buffer(NULL, buf, size, &g2, &err), GRUGAN_E_NONFINITE);
    ck_assert_ptr_null(g2);
    ck_assert_ptr_nonnull(strstr(err.message, "head.bias"));
    free(buf);
    grugan_generator_free(gen);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* The trainer's policy at a chosen step                                     */
/* ------------------------------------------------------------------------- */

typedef gan_world world;

static void world_make(world *w, int policy, uint64_t total)
{
    float x[N * T * F];
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    sines(x, N);
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 6;
    gc.num_layers = 1;
    gc.seed = 3;
    dic.input_size = F;
    dic.hidden_size = 8;
    dic.num_layers = 1;
    dic.seed = 4;
    tc.batch_size = B;
    tc.total_steps = total;
    tc.d_steps = 2;
    tc.nonfinite_policy = policy;
    gan_world_make(w, NULL, x, N, T, F, 0, &gc, &dic, &tc);
}

static float *snapshot(const world *w, size_t *ng, size_t *nd)
{
    grugan_params *g = grugan_generator_params(w->gen), *d = grugan_discriminator_params(w->disc);
    float *all;
    *ng = grugan_params_num_scalars(g);
    *nd = grugan_params_num_scalars(d);
    all = malloc((*ng + *nd) * sizeof *all);
    ck_assert_int_eq(grugan_params_read_all(g, all, *ng), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(d, all + *ng, *nd), GRUGAN_OK);
    return all;
}

/* The progress callback injects at the end of step `at - 1`: the
 * discriminator's head weights at the float limit, so that its logits
 * overflow from step `at` on; it keeps a copy of the weights then. */
typedef struct injector {
    world *w;
    uint64_t at;
    float *saved; /* parameters right after the injection */
    size_t ng, nd;
    uint64_t last_step;
} injector;

static void inject(world *w)
{
    grugan_params *d = grugan_discriminator_params(w->disc);
    size_t head;
    float huge[8];
    for (size_t i = 0; i < 8; i++) huge[i] = i % 2 ? 3.0e38f : 2.9e38f;
    ck_assert_int_eq(grugan_params_find(d, "head.weight", &head), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_write(d, head, huge, 8), GRUGAN_OK);
}

static int on_progress(const grugan_progress *p, void *user)
{
    injector *in = user;
    in->last_step = p->step;
    if (p->step + 1 == in->at) {
        inject(in->w);
        in->saved = snapshot(in->w, &in->ng, &in->nd);
    }
    return 0;
}

START_TEST(stop_policy_names_what_and_which_step)
{
    world w;
    injector in = {&w, 4, NULL, 0, 0, 0};
    grugan_progress p;
    size_t ng, nd;
    float *after;
    char want[32];
    world_make(&w, GRUGAN_NONFINITE_STOP, 10);
    ck_assert_int_eq(grugan_trainer_set_callback(w.tr, on_progress, &in), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_run(w.tr), GRUGAN_E_NONFINITE);
    snprintf(want, sizeof want, "step %d:", 4);
    ck_assert_msg(strstr(grugan_trainer_message(w.tr), want) != NULL, "%s",
                  grugan_trainer_message(w.tr));
    /* what: here the discriminator's gradient (its logits may or may not
     * overflow first, depending on the batch) */
    ck_assert_msg(strstr(grugan_trainer_message(w.tr), "the discriminator gradient") != NULL ||
                      strstr(grugan_trainer_message(w.tr), "a discriminator logit") != NULL,
                  "%s", grugan_trainer_message(w.tr));
    ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "not finite"));
    p.struct_size = sizeof p;
    ck_assert_int_eq(grugan_trainer_progress(w.tr, &p), GRUGAN_OK);
    ck_assert_uint_eq(p.step, 3);
    ck_assert_uint_eq(in.last_step, 3);
    /* no weight was updated at step 4, and none is NaN or Inf */
    ck_assert_ptr_nonnull(in.saved);
    after = snapshot(&w, &ng, &nd);
    ck_assert(all_finite(after, ng + nd));
    ck_assert_int_eq(memcmp(after, in.saved, (ng + nd) * sizeof *after), 0);
    /* undoing the injection lets training go on */
    {
        grugan_params *d = grugan_discriminator_params(w.disc);
        size_t head;
        float small[8] = {0.1f, -0.1f, 0.1f, -0.1f, 0.1f, -0.1f, 0.1f, -0.1f};
        ck_assert_int_eq(grugan_params_find(d, "head.weight", &head), GRUGAN_OK);
        ck_assert_int_eq(grugan_params_write(d, head, small, 8), GRUGAN_OK);
        in.at = 0;
        ck_assert_int_eq(grugan_trainer_run(w.tr), GRUGAN_OK);
        ck_assert_int_eq(grugan_trainer_progress(w.tr, &p), GRUGAN_OK);
        ck_assert_uint_eq(p.step, 10);
    }
    free(after);
    free(in.saved);
    gan_world_free(&w);
}
END_TEST

START_TEST(skip_policy_counts_and_never_updates_with_non_finite_values)
{
    world w;
    injector in = {&w, 3, NULL, 0, 0, 0};
    grugan_progress p;
    size_t ng, nd;
    float *after;
    world_make(&w, GRUGAN_NONFINITE_SKIP, 6);
    ck_assert_int_eq(grugan_trainer_set_callback(w.tr, on_progress, &in), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_run(w.tr), GRUGAN_OK);
    p.struct_size = sizeof p;
    ck_assert_int_eq(grugan_trainer_progress(w.tr, &p), GRUGAN_OK);
    ck_assert_uint_eq(p.step, 6);
    /* steps 3..6: both discriminator updates of each step were skipped (and
     * the generator's too when the logits overflowed) */
    ck_assert_uint_ge(p.skipped, 4 * 2);
    ck_assert_uint_le(p.skipped, 4 * 3);
    after = snapshot(&w, &ng, &nd);
    ck_assert(all_finite(after, ng + nd));
    /* the discriminator was not updated since the injection */
    ck_assert_int_eq(memcmp(after + ng, in.saved + ng, nd * sizeof *after), 0);
    /* the count survives a checkpoint */
    {
        size_t size = 0;
        void *buf;
        world v;
        grugan_progress q;
        ck_assert_int_eq(grugan_trainer_save_buffer(w.tr, NULL, 0, &size), GRUGAN_OK);
        buf = malloc(size);
        ck_assert_int_eq(grugan_trainer_save_buffer(w.tr, buf, size, &size), GRUGAN_OK);
        world_make(&v, GRUGAN_NONFINITE_SKIP, 6);
        ck_assert_int_eq(grugan_trainer_load_buffer(v.tr, buf, size), GRUGAN_OK);
        q.struct_size = sizeof q;
        ck_assert_int_eq(grugan_trainer_progress(v.tr, &q), GRUGAN_OK);
        ck_assert_uint_eq(q.skipped, p.skipped);
        free(buf);
        gan_world_free(&v);
    }
    free(after);
    free(in.saved);
    gan_world_free(&w);
}
END_TEST

Suite *suite_numerics(void)
{
    Suite *s = suite_create("numerics");
    TCase *tc = tcase_create("numerics");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, datasets_refuse_non_finite_data);
    tcase_add_test(tc, model_inputs_refuse_non_finite_values);
    tcase_add_test(tc, weights_refuse_non_finite_values);
    tcase_add_test(tc, optimizers_never_apply_non_finite_gradients);
    tcase_add_test(tc, checkpoints_with_non_finite_weights_are_refused);
    tcase_add_test(tc, stop_policy_names_what_and_which_step);
    tcase_add_test(tc, skip_policy_counts_and_never_updates_with_non_finite_values);
    suite_add_tcase(s, tc);
    return s;
}
