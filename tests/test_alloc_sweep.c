/* test_alloc_sweep.c - allocation failure at every point of every public
 * workflow.
 *
 * A context whose allocator counts the allocations and fails the k-th one is
 * given to each workflow (create each handle kind, forward/backward, trainer
 * steps, save, load, sample, the metrics). The workflow runs for k = 1, 2,
 * 3, ... until it runs through without reaching an injected failure; at
 * every k the failing call must return GRUGAN_E_NOMEM, write nothing to its
 * outputs, leave the handles it was given usable (the call retried without
 * the failure gives the bits of an undisturbed run) or, for a create, leave
 * nothing allocated and *out NULL; after everything is freed the live count
 * of the allocator is back to zero. LeakSanitizer (make check-asan) and
 * valgrind (make check-valgrind) check the same from outside.
 *
 * The number of failure points of each workflow is the number of k that
 * failed; with GRUGAN_SWEEP_TABLE=1 in the environment each workflow prints
 * it as a row of the table in docs/RELIABILITY.md. */
#include "suites.h"

#include "grugan.h"
#include "test_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 16, T = 4, F = 2, C = 1, B = 4, Z = 3, H = 4 };

/* ------------------------------------------------------------------------- */
/* The failing allocator                                                     */
/* ------------------------------------------------------------------------- */

/* The allocator of every context of this file (tests/test_util.h): counts
 * allocations and live blocks, fails the call numbered fail_at; a failure was
 * injected when fail_at != 0 and allocs reached it. */
static counting_alloc A;

static bool injected(void)
{
    return A.fail_at != 0 && A.allocs >= A.fail_at;
}

static grugan_context *failing_context(void)
{
    grugan_context_config cfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = NULL;
    cfg.alloc = counting_alloc_fn;
    cfg.free = counting_free_fn;
    cfg.alloc_user = &A;
    ck_assert_int_eq(grugan_context_create(&cfg, &ctx, NULL), GRUGAN_OK);
    return ctx;
}

/* ------------------------------------------------------------------------- */
/* Data and handles                                                          */
/* ------------------------------------------------------------------------- */

/* Sequences in [0, 1] (the metrics require it), deterministic. */
static void sines(float *x, size_t n, size_t shift)
{
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < T; t++)
            for (size_t f = 0; f < F; f++)
                x[(i * T + t) * F + f] =
                    0.5f + 0.45f * sinf(0.7f * (float)t + 0.31f * (float)(i + shift) + (float)f);
}

typedef struct fixture {
    grugan_context *ctx;
    grugan_gru *gru;
    grugan_generator *gen;
    grugan_discriminator *disc;
    grugan_optimizer *gen_opt, *disc_opt;
    grugan_dataset *data;
    grugan_trainer *tr;
    void *made; /* what a create under test made, freed by `release` */
    void (*release)(void *);
    float x[N * T * F], cond[N];
    size_t len[N];
    float out[512];     /* outputs of the call under test */
    size_t out_n;       /* floats of out that it writes */
    float *before;      /* state before the call, for "nothing changed" */
    size_t before_n;
    void *buf;          /* a serialized checkpoint or CSV/NPY text */
    size_t buf_n;
    char dir[256], path[512];
    unsigned char *prev; /* the file at path before a save */
    size_t prev_n;
} fixture;

static grugan_generator *make_generator(grugan_context *ctx, size_t cond)
{
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *g = NULL;
    grugan_error err;
    gc.noise_size = Z;
    gc.output_size = F;
    gc.hidden_size = H;
    gc.num_layers = 2;
    gc.condition_size = cond;
    gc.seed = 21;
    ck_assert_msg(grugan_generator_create(ctx, &gc, &g, &err) == GRUGAN_OK, "%s", err.message);
    return g;
}

static grugan_discriminator *make_discriminator(grugan_context *ctx, int kind, size_t cond)
{
    grugan_discriminator_config dc = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_discriminator *d = NULL;
    grugan_error err;
    dc.kind = kind;
    dc.input_size = F;
    dc.condition_size = cond;
    dc.hidden_size = H;
    dc.num_layers = 1;
    dc.bidirectional = 1;
    dc.sequence_length = T;
    dc.conv_layers = 2;
    dc.channels = 3;
    dc.kernel_size = 3;
    dc.seed = 22;
    ck_assert_msg(grugan_discriminator_create(ctx, &dc, &d, &err) == GRUGAN_OK, "%s", err.message);
    return d;
}

static grugan_gru *make_gru(grugan_context *ctx)
{
    grugan_gru_config rc = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *g = NULL;
    grugan_error err;
    rc.input_size = F;
    rc.hidden_size = H;
    rc.num_layers = 2;
    rc.bidirectional = 1;
    rc.seed = 23;
    ck_assert_int_eq(grugan_gru_create(ctx, &rc, &g, &err), GRUGAN_OK);
    return g;
}

static grugan_dataset *make_dataset(grugan_context *ctx, fixture *fx, bool with_cond)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *d = NULL;
    grugan_error err;
    dc.seed = 24;
    ck_assert_msg(grugan_dataset_from_array(ctx, &dc, fx->x, N, T, F, with_cond ? fx->cond : NULL,
                                            with_cond ? C : 0, with_cond ? fx->len : NULL, &d,
                                            &err) == GRUGAN_OK,
                  "%s", err.message);
    return d;
}

static grugan_trainer_config trainer_config(void)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    tc.batch_size = B;
    tc.feature_matching = 0.3f;
    tc.clip_grad_norm = 5.0f;
    return tc;
}

/* The trainer configuration with every gradient penalty on (WGAN-GP, R1, R2;
 * they need a CONV1D discriminator). */
static grugan_trainer_config penalised_trainer_config(void)
{
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    tc.batch_size = B;
    tc.loss = GRUGAN_LOSS_WGAN_GP;
    tc.d_steps = 2;
    tc.r1_gamma = 1.0f;
    tc.r2_gamma = 0.5f;
    return tc;
}

/* ctx, dataset, generator, a discriminator of `kind`, optimizers and, with
 * `trainer`, the trainer of configuration tc. With the GRU discriminator the
 * dataset has conditions and varying lengths; the CONV1D one takes neither. */
static void make_world_of(fixture *fx, bool trainer, int kind, grugan_trainer_config tc)
{
    const bool gru = kind == GRUGAN_DISC_GRU;
    grugan_error err;
    fx->data = make_dataset(fx->ctx, fx, gru);
    fx->gen = make_generator(fx->ctx, gru ? C : 0);
    fx->disc = make_discriminator(fx->ctx, kind, gru ? C : 0);
    ck_assert_int_eq(grugan_optimizer_create(fx->ctx, NULL, grugan_generator_params(fx->gen),
                                             &fx->gen_opt, &err),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(fx->ctx, NULL, grugan_discriminator_params(fx->disc),
                                             &fx->disc_opt, &err),
                     GRUGAN_OK);
    if (trainer) {
        ck_assert_msg(grugan_trainer_create(fx->ctx, &tc, fx->gen, fx->disc, fx->gen_opt,
                                            fx->disc_opt, fx->data, &fx->tr, &err) == GRUGAN_OK,
                      "%s", err.message);
    }
}

/* The same with the GRU discriminator and trainer_config. */
static void make_world(fixture *fx, bool trainer)
{
    make_world_of(fx, trainer, GRUGAN_DISC_GRU, trainer_config());
}

/* Both models' parameters and optimizer states, flat, into a new array. */
static float *world_state(const fixture *fx, size_t *count)
{
    grugan_params *g = grugan_generator_params(fx->gen), *d = grugan_discriminator_params(fx->disc);
    const size_t ng = grugan_params_num_scalars(g), nd = grugan_params_num_scalars(d);
    const size_t sg = grugan_optimizer_state_size(fx->gen_opt);
    const size_t sd = grugan_optimizer_state_size(fx->disc_opt);
    float *all = malloc((ng + nd + sg + sd + 1) * sizeof *all);
    ck_assert_ptr_nonnull(all);
    ck_assert_int_eq(grugan_params_read_all(g, all, ng), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(d, all + ng, nd), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_read(fx->gen_opt, all + ng + nd, sg, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_read(fx->disc_opt, all + ng + nd + sg, sd, NULL),
                     GRUGAN_OK);
    *count = ng + nd + sg + sd;
    return all;
}

static void assert_unchanged(const fixture *fx)
{
    size_t n;
    float *now = world_state(fx, &n);
    ck_assert_uint_eq(n, fx->before_n);
    ck_assert_msg(memcmp(now, fx->before, n * sizeof *now) == 0, "a failed call changed the state");
    free(now);
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* A temporary directory and a path in it. */
static void make_path(fixture *fx, const char *name)
{
    const char *base = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/grugan-sweep-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/%s", fx->dir, name);
}

/* The file at path is still the one saved before the failing call. */
static void assert_previous_file(const fixture *fx)
{
    size_t n;
    unsigned char *now = slurp(fx->path, &n);
    ck_assert_msg(n == fx->prev_n && memcmp(now, fx->prev, n) == 0,
                  "a failed save changed the previous file");
    free(now);
}

/* A failing call wrote nothing to its output (filled with SENTINEL). */
#define SENTINEL 0x5a
static void fill_sentinel(float *out, size_t n)
{
    memset(out, SENTINEL, n * sizeof *out);
}

static void assert_untouched(const float *out, size_t n, const char *what)
{
    const unsigned char *b = (const unsigned char *)out;
    for (size_t i = 0; i < n * sizeof *out; i++)
        if (b[i] != SENTINEL) ck_abort_msg("a failed %s wrote to its output", what);
}

static void fixture_setup(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    sines(fx->x, N, 0);
    for (size_t i = 0; i < N; i++) {
        fx->cond[i] = (float)(i % 3) / 2.0f;
        fx->len[i] = i % 4 == 1 ? T - 1 : T;
    }
    fx->ctx = failing_context();
}

static void fixture_teardown(fixture *fx)
{
    if (fx->made && fx->release) fx->release(fx->made);
    grugan_trainer_free(fx->tr);
    grugan_optimizer_free(fx->gen_opt);
    grugan_optimizer_free(fx->disc_opt);
    grugan_generator_free(fx->gen);
    grugan_discriminator_free(fx->disc);
    grugan_dataset_free(fx->data);
    grugan_gru_free(fx->gru);
    grugan_context_free(fx->ctx);
    free(fx->before);
    free(fx->buf);
    free(fx->prev);
    if (fx->dir[0]) {
        unlink(fx->path);
        ck_assert_msg(rmdir(fx->dir) == 0, "temporary files left in the directory");
    }
}

/* ------------------------------------------------------------------------- */
/* The workflows                                                             */
/* ------------------------------------------------------------------------- */

/* A workflow: setup (no failures), run (the calls under test, with the
 * failing allocator armed), and after a failure `recover` (no failures):
 * check that nothing changed and that the handles are still usable, by
 * retrying; its output goes to out, which must then equal the output of an
 * undisturbed run when `same_after_retry`. */
typedef struct workflow {
    const char *name;
    void (*setup)(fixture *fx);
    int (*run)(fixture *fx);
    void (*recover)(fixture *fx);
    bool creates;          /* the run creates a handle: after a failure nothing is left */
    bool same_after_retry; /* out after recover equals out of a clean run */
    bool never_allocates;  /* 0 failure points expected */
} workflow;

/* ---- contexts and creation of each handle kind ---- */

static void no_setup(fixture *fx)
{
    (void)fx;
}

static void free_context(void *p)
{
    grugan_context_free(p);
}

static void free_gru(void *p)
{
    grugan_gru_free(p);
}

static void free_generator(void *p)
{
    grugan_generator_free(p);
}

static void free_discriminator(void *p)
{
    grugan_discriminator_free(p);
}

static void free_optimizer(void *p)
{
    grugan_optimizer_free(p);
}

static void free_dataset(void *p)
{
    grugan_dataset_free(p);
}

static void free_trainer(void *p)
{
    grugan_trainer_free(p);
}

/* The common tail of a create: on failure *out is NULL and err is filled. */
static int created(fixture *fx, int rc, void *out, const grugan_error *err,
                   void (*release)(void *))
{
    if (rc != GRUGAN_OK) {
        ck_assert_ptr_null(out);
        ck_assert_int_eq(err->code, rc);
        ck_assert_msg(err->message[0] != '\0', "no message for status %d", rc);
        return rc;
    }
    fx->made = out;
    fx->release = release;
    return rc;
}

static int run_context(fixture *fx)
{
    grugan_context_config cfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = (grugan_context *)fx;
    grugan_error err;
    cfg.alloc = counting_alloc_fn;
    cfg.free = counting_free_fn;
    cfg.alloc_user = &A;
    const int rc = grugan_context_create(&cfg, &ctx, &err);
    return created(fx, rc, ctx, &err, free_context);
}

static int run_gru_create(fixture *fx)
{
    grugan_gru_config cfg = GRUGAN_GRU_CONFIG_INIT;
    grugan_gru *g = (grugan_gru *)fx;
    grugan_error err;
    cfg.input_size = F;
    cfg.hidden_size = H;
    cfg.num_layers = 2;
    cfg.bidirectional = 1;
    const int rc = grugan_gru_create(fx->ctx, &cfg, &g, &err);
    return created(fx, rc, g, &err, free_gru);
}

static int run_generator_create(fixture *fx)
{
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *g = (grugan_generator *)fx;
    grugan_error err;
    gc.noise_size = Z;
    gc.output_size = F;
    gc.hidden_size = H;
    gc.num_layers = 2;
    gc.condition_size = C;
    gc.covariate_size = 1;
    const int rc = grugan_generator_create(fx->ctx, &gc, &g, &err);
    return created(fx, rc, g, &err, free_generator);
}

static int run_disc_create(fixture *fx, int kind)
{
    grugan_discriminator_config dc = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_discriminator *d = (grugan_discriminator *)fx;
    grugan_error err;
    dc.kind = kind;
    dc.input_size = F;
    dc.condition_size = C;
    dc.hidden_size = H;
    dc.num_layers = 2;
    dc.bidirectional = 1;
    dc.logits = GRUGAN_LOGITS_FINAL;
    dc.sequence_length = T;
    dc.conv_layers = 2;
    dc.channels = 3;
    dc.kernel_size = 3;
    const int rc = grugan_discriminator_create(fx->ctx, &dc, &d, &err);
    return created(fx, rc, d, &err, free_discriminator);
}

static int run_disc_gru_create(fixture *fx)
{
    return run_disc_create(fx, GRUGAN_DISC_GRU);
}

static int run_disc_conv_create(fixture *fx)
{
    return run_disc_create(fx, GRUGAN_DISC_CONV1D);
}

static void setup_generator(fixture *fx)
{
    fx->gen = make_generator(fx->ctx, C);
}

static int run_optimizer_create(fixture *fx, int kind)
{
    grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_optimizer *o = (grugan_optimizer *)fx;
    grugan_error err;
    oc.kind = kind;
    if (kind == GRUGAN_OPT_RMSPROP) {
        oc.momentum = 0.5;
        oc.centered = 1;
    }
    const int rc =
        grugan_optimizer_create(fx->ctx, &oc, grugan_generator_params(fx->gen), &o, &err);
    return created(fx, rc, o, &err, free_optimizer);
}

static int run_adam_create(fixture *fx)
{
    return run_optimizer_create(fx, GRUGAN_OPT_ADAM);
}

static int run_rmsprop_create(fixture *fx)
{
    return run_optimizer_create(fx, GRUGAN_OPT_RMSPROP);
}

static int run_dataset_array(fixture *fx)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *d = (grugan_dataset *)fx;
    grugan_error err;
    const int rc = grugan_dataset_from_array(fx->ctx, &dc, fx->x, N, T, F, fx->cond, C, fx->len,
                                             &d, &err);
    return created(fx, rc, d, &err, free_dataset);
}

static int run_dataset_series(fixture *fx)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *d = (grugan_dataset *)fx;
    grugan_error err;
    dc.sequence_length = T;
    dc.stride = 2;
    const int rc = grugan_dataset_from_series(fx->ctx, &dc, fx->x, N * T, F, &d, &err);
    return created(fx, rc, d, &err, free_dataset);
}

/* CSV and NPY text of the sequences, written by the library's writer. */
static void setup_file_text(fixture *fx, int format, const char *name)
{
    make_path(fx, name);
    ck_assert_int_eq(grugan_write_sequences(fx->path, format, fx->x, N, T, F, NULL), GRUGAN_OK);
    fx->buf = slurp(fx->path, &fx->buf_n);
}

static void setup_csv(fixture *fx)
{
    setup_file_text(fx, GRUGAN_FILE_CSV, "x.csv");
}

static void setup_npy(fixture *fx)
{
    setup_file_text(fx, GRUGAN_FILE_NPY, "x.npy");
}

static int run_dataset_csv_buffer(fixture *fx)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *d = (grugan_dataset *)fx;
    const size_t cols[2] = {2, 3};
    grugan_error err;
    dc.sequence_length = T;
    dc.columns = cols;
    dc.num_columns = 2;
    const int rc =
        grugan_dataset_from_csv_buffer(fx->ctx, &dc, fx->buf, fx->buf_n, &d, &err);
    return created(fx, rc, d, &err, free_dataset);
}

static int run_dataset_csv_file(fixture *fx)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *d = (grugan_dataset *)fx;
    const size_t cols[2] = {2, 3};
    grugan_error err;
    dc.sequence_length = T;
    dc.columns = cols;
    dc.num_columns = 2;
    const int rc = grugan_dataset_from_csv(fx->ctx, &dc, fx->path, &d, &err);
    return created(fx, rc, d, &err, free_dataset);
}

static int run_dataset_npy_buffer(fixture *fx)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *d = (grugan_dataset *)fx;
    grugan_error err;
    const int rc =
        grugan_dataset_from_npy_buffer(fx->ctx, &dc, fx->buf, fx->buf_n, &d, &err);
    return created(fx, rc, d, &err, free_dataset);
}

static int run_dataset_npy_file(fixture *fx)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *d = (grugan_dataset *)fx;
    grugan_error err;
    const int rc = grugan_dataset_from_npy(fx->ctx, &dc, fx->path, &d, &err);
    return created(fx, rc, d, &err, free_dataset);
}

static void setup_world_without_trainer(fixture *fx)
{
    make_world(fx, false);
}

static int run_trainer_create(fixture *fx)
{
    grugan_trainer_config tc = trainer_config();
    grugan_trainer *t = (grugan_trainer *)fx;
    grugan_error err;
    const int rc = grugan_trainer_create(fx->ctx, &tc, fx->gen, fx->disc, fx->gen_opt,
                                         fx->disc_opt, fx->data, &t, &err);
    return created(fx, rc, t, &err, free_trainer);
}

/* A whole program: a context, one handle of every kind, two training steps,
 * a checkpoint in memory, samples; everything freed, on failure too. */
static int run_whole_program(fixture *fx)
{
    grugan_context_config cfg = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_gru_config rc = GRUGAN_GRU_CONFIG_INIT;
    grugan_trainer_config tc = trainer_config();
    grugan_context *ctx = NULL;
    grugan_gru *gru = NULL;
    grugan_dataset *data = NULL;
    grugan_generator *gen = NULL;
    grugan_discriminator *disc = NULL;
    grugan_optimizer *go = NULL, *dop = NULL;
    grugan_trainer *tr = NULL;
    size_t size = 0;
    float samples[3 * T * F], states[2 * T * H];
    int rc_ = GRUGAN_OK;
#define TRY(call)                                                                          \
    if (rc_ == GRUGAN_OK) rc_ = (call)
    cfg.alloc = counting_alloc_fn;
    cfg.free = counting_free_fn;
    cfg.alloc_user = &A;
    gc.noise_size = Z;
    gc.output_size = F;
    gc.hidden_size = H;
    gc.num_layers = 1;
    dic.input_size = F;
    dic.hidden_size = H;
    dic.num_layers = 1;
    rc.input_size = F;
    rc.hidden_size = H;
    TRY(grugan_context_create(&cfg, &ctx, NULL));
    TRY(grugan_gru_create(ctx, &rc, &gru, NULL));
    TRY(grugan_dataset_from_array(ctx, &dc, fx->x, N, T, F, NULL, 0, NULL, &data, NULL));
    TRY(grugan_generator_create(ctx, &gc, &gen, NULL));
    TRY(grugan_discriminator_create(ctx, &dic, &disc, NULL));
    TRY(grugan_optimizer_create(ctx, NULL, grugan_generator_params(gen), &go, NULL));
    TRY(grugan_optimizer_create(ctx, NULL, grugan_discriminator_params(disc), &dop, NULL));
    TRY(grugan_trainer_create(ctx, &tc, gen, disc, go, dop, data, &tr, NULL));
    TRY(grugan_trainer_step(tr));
    TRY(grugan_trainer_step(tr));
    TRY(grugan_trainer_save_buffer(tr, NULL, 0, &size));
    TRY(grugan_generator_sample(gen, 5, 3, T, NULL, NULL, samples));
    TRY(grugan_gru_forward(gru, 2, T, fx->x, NULL, NULL, states, NULL));
#undef TRY
    if (rc_ == GRUGAN_OK) {
        fx->out_n = 3 * T * F + 2 * T * H;
        memcpy(fx->out, samples, sizeof samples);
        memcpy(fx->out + 3 * T * F, states, sizeof states);
    }
    grugan_trainer_free(tr);
    grugan_optimizer_free(go);
    grugan_optimizer_free(dop);
    grugan_generator_free(gen);
    grugan_discriminator_free(disc);
    grugan_dataset_free(data);
    grugan_gru_free(gru);
    grugan_context_free(ctx);
    return rc_;
}

/* ---- forward and backward ---- */

static void setup_gru(fixture *fx)
{
    fx->gru = make_gru(fx->ctx);
}

static int run_gru_forward_backward(fixture *fx)
{
    float dx[B * T * F];
    int rc;
    fx->out_n = B * T * 2 * H;
    fill_sentinel(fx->out, fx->out_n);
    rc = grugan_gru_forward(fx->gru, B, T, fx->x, NULL, fx->len, fx->out, NULL);
    if (rc != GRUGAN_OK) {
        assert_untouched(fx->out, fx->out_n, "GRU forward");
        return rc;
    }
    fill_sentinel(dx, B * T * F);
    rc = grugan_gru_backward(fx->gru, fx->out, NULL, dx, NULL, GRUGAN_BACKWARD_PARAMS);
    if (rc != GRUGAN_OK) assert_untouched(dx, B * T * F, "GRU backward");
    return rc;
}

static void recover_gru(fixture *fx)
{
    float dx[B * T * F];
    /* the failed forward kept nothing: backward refuses to run */
    ck_assert_int_eq(grugan_gru_backward(fx->gru, fx->out, NULL, dx, NULL, 0), GRUGAN_E_STATE);
    ck_assert(grugan_gru_message(fx->gru)[0] != '\0');
    ck_assert_int_eq(run_gru_forward_backward(fx), GRUGAN_OK);
}

static void setup_gru_unidirectional(fixture *fx)
{
    grugan_gru_config rc = GRUGAN_GRU_CONFIG_INIT;
    grugan_error err;
    rc.input_size = F;
    rc.hidden_size = H;
    rc.num_layers = 2;
    ck_assert_int_eq(grugan_gru_create(fx->ctx, &rc, &fx->gru, &err), GRUGAN_OK);
}

static int run_gru_step(fixture *fx)
{
    float h[2 * B * H] = {0};
    int rc = GRUGAN_OK;
    fx->out_n = T * B * H;
    for (size_t t = 0; t < T && rc == GRUGAN_OK; t++) {
        float h_before[2 * B * H];
        memcpy(h_before, h, sizeof h);
        fill_sentinel(fx->out + t * B * H, B * H);
        rc = grugan_gru_step(fx->gru, B, fx->x + t * B * F, h, fx->out + t * B * H);
        if (rc != GRUGAN_OK) {
            assert_untouched(fx->out + t * B * H, B * H, "GRU step");
            ck_assert_int_eq(memcmp(h, h_before, sizeof h), 0);
        }
    }
    return rc;
}

static void recover_retry_gru_step(fixture *fx)
{
    ck_assert_int_eq(run_gru_step(fx), GRUGAN_OK);
}

static void setup_generator_plain(fixture *fx)
{
    fx->gen = make_generator(fx->ctx, C);
}

static int run_generator_forward_backward(fixture *fx)
{
    float z[B * T * Z];
    int rc;
    for (size_t i = 0; i < B * T * Z; i++) z[i] = 0.1f * (float)(i % 7) - 0.3f;
    fx->out_n = B * T * F;
    fill_sentinel(fx->out, fx->out_n);
    rc = grugan_generator_forward(fx->gen, B, T, z, fx->cond, NULL, fx->out);
    if (rc != GRUGAN_OK) {
        assert_untouched(fx->out, fx->out_n, "generator forward");
        return rc;
    }
    return grugan_generator_backward(fx->gen, fx->out);
}

static void recover_generator(fixture *fx)
{
    uint64_t pos = 9;
    ck_assert_int_eq(grugan_generator_backward(fx->gen, fx->out), GRUGAN_E_STATE);
    ck_assert_int_eq(grugan_generator_noise_position(fx->gen, &pos), GRUGAN_OK);
    ck_assert_uint_eq(pos, 0);
    ck_assert_int_eq(run_generator_forward_backward(fx), GRUGAN_OK);
}

/* forward with the generator's own noise: a failure must not advance it */
static int run_generator_own_noise(fixture *fx)
{
    int rc;
    fx->out_n = B * T * F;
    fill_sentinel(fx->out, fx->out_n);
    rc = grugan_generator_forward(fx->gen, B, T, NULL, fx->cond, NULL, fx->out);
    if (rc != GRUGAN_OK) assert_untouched(fx->out, fx->out_n, "generator forward");
    return rc;
}

static void recover_generator_own_noise(fixture *fx)
{
    uint64_t pos = 9;
    ck_assert_int_eq(grugan_generator_noise_position(fx->gen, &pos), GRUGAN_OK);
    ck_assert_uint_eq(pos, 0);
    ck_assert_int_eq(run_generator_own_noise(fx), GRUGAN_OK);
}

static int run_generator_step(fixture *fx)
{
    float z[B * Z], state[2 * B * H] = {0};
    int rc = GRUGAN_OK;
    ck_assert_uint_eq(grugan_generator_state_size(fx->gen, B), 2 * B * H);
    fx->out_n = T * B * F;
    for (size_t t = 0; t < T && rc == GRUGAN_OK; t++) {
        float before[2 * B * H];
        for (size_t i = 0; i < B * Z; i++) z[i] = 0.05f * (float)(i + t);
        memcpy(before, state, sizeof state);
        fill_sentinel(fx->out + t * B * F, B * F);
        rc = grugan_generator_step(fx->gen, B, z, fx->cond, NULL, state, fx->out + t * B * F);
        if (rc != GRUGAN_OK) {
            assert_untouched(fx->out + t * B * F, B * F, "generator step");
            ck_assert_int_eq(memcmp(state, before, sizeof state), 0);
        }
    }
    return rc;
}

static void recover_retry_generator_step(fixture *fx)
{
    ck_assert_int_eq(run_generator_step(fx), GRUGAN_OK);
}

static void setup_disc_gru(fixture *fx)
{
    fx->disc = make_discriminator(fx->ctx, GRUGAN_DISC_GRU, C);
}

static void setup_disc_conv(fixture *fx)
{
    fx->disc = make_discriminator(fx->ctx, GRUGAN_DISC_CONV1D, C);
}

static int run_disc_forward_backward(fixture *fx)
{
    const size_t L = grugan_discriminator_logit_count(fx->disc, T);
    const size_t NF = grugan_discriminator_feature_count(fx->disc, T);
    const bool conv = L == 1;
    float dx[B * T * F], dfeat[B * 64];
    int rc;
    ck_assert_uint_le(B * NF, B * 64);
    fx->out_n = B * L;
    fill_sentinel(fx->out, fx->out_n);
    rc = grugan_discriminator_forward(fx->disc, B, T, fx->x, fx->cond, conv ? NULL : fx->len,
                                      fx->out);
    if (rc != GRUGAN_OK) {
        assert_untouched(fx->out, fx->out_n, "discriminator forward");
        return rc;
    }
    for (size_t i = 0; i < B * NF; i++) dfeat[i] = 0.01f * (float)i;
    return grugan_discriminator_backward(fx->disc, fx->out, dfeat, dx, GRUGAN_BACKWARD_PARAMS);
}

static void recover_disc(fixture *fx)
{
    float dx[B * T * F];
    ck_assert_int_eq(grugan_discriminator_backward(fx->disc, fx->out, NULL, dx, 0), GRUGAN_E_STATE);
    ck_assert_int_eq(run_disc_forward_backward(fx), GRUGAN_OK);
}

/* ---- training ---- */

static void setup_world(fixture *fx)
{
    make_world(fx, true);
    fx->before = world_state(fx, &fx->before_n);
}

static void setup_world_penalised(fixture *fx)
{
    make_world_of(fx, true, GRUGAN_DISC_CONV1D, penalised_trainer_config());
    fx->before = world_state(fx, &fx->before_n);
}

static void setup_world_penalised_without_trainer(fixture *fx)
{
    make_world_of(fx, false, GRUGAN_DISC_CONV1D, penalised_trainer_config());
}

static int run_trainer_create_penalised(fixture *fx)
{
    grugan_trainer_config tc = penalised_trainer_config();
    grugan_trainer *t = (grugan_trainer *)fx;
    grugan_error err;
    const int rc = grugan_trainer_create(fx->ctx, &tc, fx->gen, fx->disc, fx->gen_opt,
                                         fx->disc_opt, fx->data, &t, &err);
    return created(fx, rc, t, &err, free_trainer);
}

static int run_trainer_steps(fixture *fx)
{
    int rc = GRUGAN_OK;
    for (int s = 0; s < 3 && rc == GRUGAN_OK; s++) rc = grugan_trainer_step(fx->tr);
    return rc;
}

static void recover_trainer_steps(fixture *fx)
{
    size_t n;
    float *now;
    ck_assert(grugan_trainer_message(fx->tr)[0] != '\0');
    ck_assert_int_eq(run_trainer_steps(fx), GRUGAN_OK);
    now = world_state(fx, &n);
    for (size_t i = 0; i < n; i++) ck_assert(isfinite(now[i]));
    free(now);
}

/* After one step every buffer is sized: further steps never allocate. */
static void setup_world_after_a_step(fixture *fx)
{
    setup_world(fx);
    ck_assert_int_eq(grugan_trainer_step(fx->tr), GRUGAN_OK);
}

static int run_optimizer_step(fixture *fx)
{
    int rc = grugan_optimizer_clip_grad_norm(fx->gen_opt, 1.0f, NULL);
    return rc == GRUGAN_OK ? grugan_optimizer_step(fx->gen_opt) : rc;
}

static int run_next_batch(fixture *fx)
{
    size_t lens[B];
    float cond[B];
    int rc = GRUGAN_OK;
    fx->out_n = B * T * F;
    for (int i = 0; i < 2 * N / B && rc == GRUGAN_OK; i++)
        rc = grugan_dataset_next_batch(fx->data, B, fx->out, cond, lens, NULL);
    return rc;
}

/* ---- checkpoints and files ---- */

static int run_trainer_save_buffer(fixture *fx)
{
    size_t size = 0;
    int rc = grugan_trainer_save_buffer(fx->tr, NULL, 0, &size);
    if (rc != GRUGAN_OK) return rc;
    fx->buf = malloc(size);
    fx->buf_n = size;
    return grugan_trainer_save_buffer(fx->tr, fx->buf, size, &size);
}

static void recover_trainer_save_buffer(fixture *fx)
{
    free(fx->buf);
    fx->buf = NULL;
    ck_assert(grugan_trainer_message(fx->tr)[0] != '\0');
    assert_unchanged(fx);
    ck_assert_int_eq(run_trainer_save_buffer(fx), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_load_buffer(fx->tr, fx->buf, fx->buf_n), GRUGAN_OK);
}

/* A world that has trained a step, a previous checkpoint at path, then a
 * second step (so that a new save would differ). */
static void setup_world_and_previous_checkpoint(fixture *fx)
{
    make_world(fx, true);
    make_path(fx, "train.safetensors");
    ck_assert_int_eq(grugan_trainer_step(fx->tr), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_save(fx->tr, fx->path), GRUGAN_OK);
    fx->prev = slurp(fx->path, &fx->prev_n);
    ck_assert_int_eq(grugan_trainer_step(fx->tr), GRUGAN_OK);
    fx->before = world_state(fx, &fx->before_n);
}

static int run_trainer_save(fixture *fx)
{
    return grugan_trainer_save(fx->tr, fx->path);
}

static void recover_trainer_save(fixture *fx)
{
    assert_previous_file(fx);
    assert_unchanged(fx);
    ck_assert_int_eq(run_trainer_save(fx), GRUGAN_OK);
}

static void setup_world_and_generator_export(fixture *fx)
{
    make_world(fx, true);
    make_path(fx, "gen.safetensors");
    ck_assert_int_eq(grugan_generator_save(fx->gen, fx->path), GRUGAN_OK);
    fx->prev = slurp(fx->path, &fx->prev_n);
    ck_assert_int_eq(grugan_trainer_step(fx->tr), GRUGAN_OK);
    fx->before = world_state(fx, &fx->before_n);
}

static int run_generator_save(fixture *fx)
{
    return grugan_generator_save(fx->gen, fx->path);
}

static void recover_generator_save(fixture *fx)
{
    ck_assert(grugan_generator_message(fx->gen)[0] != '\0');
    assert_previous_file(fx);
    assert_unchanged(fx);
    ck_assert_int_eq(run_generator_save(fx), GRUGAN_OK);
}

/* A trainer that estimates after every step (model selection) on the
 * conditioned sequences at full length, one step done, and a previous
 * export at the path. */
static void setup_world_selecting(fixture *fx)
{
    grugan_trainer_config tc = trainer_config();
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_error err;
    make_world(fx, false);
    grugan_dataset_free(fx->data);
    ck_assert_int_eq(grugan_dataset_from_array(fx->ctx, &dc, fx->x, N, T, F, fx->cond, C, NULL,
                                               &fx->data, &err),
                     GRUGAN_OK);
    tc.select_every = 1;
    ck_assert_msg(grugan_trainer_create(fx->ctx, &tc, fx->gen, fx->disc, fx->gen_opt,
                                        fx->disc_opt, fx->data, &fx->tr, &err) == GRUGAN_OK,
                  "%s", err.message);
    make_path(fx, "best.safetensors");
    ck_assert_int_eq(grugan_generator_save(fx->gen, fx->path), GRUGAN_OK);
    fx->prev = slurp(fx->path, &fx->prev_n);
    ck_assert_int_eq(grugan_trainer_step(fx->tr), GRUGAN_OK);
    fx->before = world_state(fx, &fx->before_n);
}

static int run_trainer_estimate(fixture *fx)
{
    double q = 0;
    int rc = grugan_trainer_estimate(fx->tr, &q);
    memcpy(fx->out, &q, sizeof q);
    fx->out_n = sizeof q / sizeof(float);
    return rc;
}

static void recover_trainer_estimate(fixture *fx)
{
    ck_assert(grugan_trainer_message(fx->tr)[0] != '\0');
    assert_unchanged(fx);
    ck_assert_int_eq(run_trainer_estimate(fx), GRUGAN_OK);
}

static int run_trainer_export(fixture *fx)
{
    return grugan_trainer_export(fx->tr, fx->path);
}

static void recover_trainer_export(fixture *fx)
{
    ck_assert(grugan_trainer_message(fx->tr)[0] != '\0');
    assert_previous_file(fx);
    assert_unchanged(fx);
    ck_assert_int_eq(run_trainer_export(fx), GRUGAN_OK);
}

static int run_generator_save_buffer(fixture *fx)
{
    size_t size = 0;
    int rc = grugan_generator_save_buffer(fx->gen, NULL, 0, &size);
    if (rc != GRUGAN_OK) return rc;
    fx->buf = malloc(size);
    fx->buf_n = size;
    return grugan_generator_save_buffer(fx->gen, fx->buf, size, &size);
}

static void recover_generator_save_buffer(fixture *fx)
{
    free(fx->buf);
    fx->buf = NULL;
    ck_assert(grugan_generator_message(fx->gen)[0] != '\0');
    ck_assert_int_eq(run_generator_save_buffer(fx), GRUGAN_OK);
}

static void setup_world_and_previous_samples(fixture *fx)
{
    make_world(fx, true);
    make_path(fx, "samples.csv");
    ck_assert_int_eq(grugan_generator_sample_to_file(fx->gen, 1, 3, T, fx->cond, fx->path,
                                                     GRUGAN_FILE_CSV),
                     GRUGAN_OK);
    fx->prev = slurp(fx->path, &fx->prev_n);
}

static int run_sample_to_file(fixture *fx)
{
    return grugan_generator_sample_to_file(fx->gen, 2, 5, T, fx->cond, fx->path, GRUGAN_FILE_CSV);
}

static void recover_sample_to_file(fixture *fx)
{
    assert_previous_file(fx);
    ck_assert_int_eq(run_sample_to_file(fx), GRUGAN_OK);
}

/* a checkpoint of another world (one more step) at path and in buf, loaded
 * into this world */
static void setup_world_and_other_checkpoint(fixture *fx)
{
    fixture other;
    fixture_setup(&other);
    make_world(&other, true);
    ck_assert_int_eq(grugan_trainer_step(other.tr), GRUGAN_OK);
    ck_assert_int_eq(grugan_trainer_save_buffer(other.tr, NULL, 0, &fx->buf_n), GRUGAN_OK);
    fx->buf = malloc(fx->buf_n);
    ck_assert_int_eq(grugan_trainer_save_buffer(other.tr, fx->buf, fx->buf_n, &fx->buf_n),
                     GRUGAN_OK);
    make_path(fx, "train.safetensors");
    ck_assert_int_eq(grugan_trainer_save(other.tr, fx->path), GRUGAN_OK);
    fixture_teardown(&other);
    make_world(fx, true);
    fx->before = world_state(fx, &fx->before_n);
}

static int run_trainer_load(fixture *fx)
{
    size_t n;
    float *now;
    int rc = grugan_trainer_load(fx->tr, fx->path);
    if (rc != GRUGAN_OK) return rc;
    now = world_state(fx, &n);
    fx->out_n = n < 512 ? n : 512;
    memcpy(fx->out, now, fx->out_n * sizeof *now);
    free(now);
    return rc;
}

static void recover_trainer_load(fixture *fx)
{
    ck_assert(grugan_trainer_message(fx->tr)[0] != '\0');
    assert_unchanged(fx); /* "on failure nothing is changed" */
    ck_assert_int_eq(run_trainer_load(fx), GRUGAN_OK);
}

static int run_trainer_load_buffer(fixture *fx)
{
    size_t n;
    float *now;
    int rc = grugan_trainer_load_buffer(fx->tr, fx->buf, fx->buf_n);
    if (rc != GRUGAN_OK) return rc;
    now = world_state(fx, &n);
    fx->out_n = n < 512 ? n : 512;
    memcpy(fx->out, now, fx->out_n * sizeof *now);
    free(now);
    return rc;
}

static void recover_trainer_load_buffer(fixture *fx)
{
    assert_unchanged(fx);
    ck_assert_int_eq(run_trainer_load_buffer(fx), GRUGAN_OK);
}

static void setup_generator_export(fixture *fx)
{
    grugan_generator *g = make_generator(NULL, C);
    const float off[F] = {0.5f, -1.0f}, sc[F] = {2.0f, 0.25f};
    ck_assert_int_eq(grugan_generator_set_scaler(g, off, sc), GRUGAN_OK);
    make_path(fx, "gen.safetensors");
    ck_assert_int_eq(grugan_generator_save(g, fx->path), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_save_buffer(g, NULL, 0, &fx->buf_n), GRUGAN_OK);
    fx->buf = malloc(fx->buf_n);
    ck_assert_int_eq(grugan_generator_save_buffer(g, fx->buf, fx->buf_n, &fx->buf_n), GRUGAN_OK);
    grugan_generator_free(g);
}

static int loaded(fixture *fx, int rc, grugan_generator *g, const grugan_error *err)
{
    rc = created(fx, rc, g, err, free_generator);
    if (rc == GRUGAN_OK) {
        fx->out_n = 2 * T * F;
        rc = grugan_generator_sample(g, 3, 2, T, fx->cond, NULL, fx->out);
    }
    return rc;
}

static int run_generator_load(fixture *fx)
{
    grugan_generator *g = (grugan_generator *)fx;
    grugan_error err;
    const int rc = grugan_generator_load(fx->ctx, fx->path, &g, &err);
    return loaded(fx, rc, g, &err);
}

static int run_generator_load_buffer(fixture *fx)
{
    grugan_generator *g = (grugan_generator *)fx;
    grugan_error err;
    const int rc = grugan_generator_load_buffer(fx->ctx, fx->buf, fx->buf_n, &g, &err);
    return loaded(fx, rc, g, &err);
}

/* ---- sampling ---- */

static int run_sample(fixture *fx)
{
    int rc;
    fx->out_n = 20 * T * F;
    fill_sentinel(fx->out, fx->out_n);
    rc = grugan_generator_sample(fx->gen, 4, 20, T, fx->cond, NULL, fx->out);
    if (rc != GRUGAN_OK) assert_untouched(fx->out, fx->out_n, "sample");
    return rc;
}

static void recover_sample(fixture *fx)
{
    ck_assert(grugan_generator_message(fx->gen)[0] != '\0');
    ck_assert_int_eq(run_sample(fx), GRUGAN_OK);
}

/* ---- metrics ---- */

static int run_metric(fixture *fx, bool predictive)
{
    grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
    float synth[N * T * F];
    double mean = -7, std = -7;
    grugan_error err;
    int rc;
    mc.repetitions = 2;
    mc.iterations = 3;
    mc.batch_size = 4;
    mc.seed = 5;
    sines(synth, N, 3);
    rc = predictive ? grugan_predictive_score(fx->ctx, &mc, fx->x, N, synth, N, T, F, &mean, &std,
                                              &err)
                    : grugan_discriminative_score(fx->ctx, &mc, fx->x, N, synth, N, T, F, &mean,
                                                  &std, &err);
    if (rc != GRUGAN_OK) {
        ck_assert(mean == -7 && std == -7); /* written on success only */
        ck_assert_int_eq(err.code, rc);
        ck_assert(err.message[0] != '\0');
        return rc;
    }
    fx->out_n = 2;
    fx->out[0] = (float)mean;
    fx->out[1] = (float)std;
    return rc;
}

static int run_discriminative(fixture *fx)
{
    return run_metric(fx, false);
}

static int run_predictive(fixture *fx)
{
    return run_metric(fx, true);
}

static void recover_discriminative(fixture *fx)
{
    ck_assert_int_eq(run_discriminative(fx), GRUGAN_OK);
}

static void recover_predictive(fixture *fx)
{
    ck_assert_int_eq(run_predictive(fx), GRUGAN_OK);
}

/* ------------------------------------------------------------------------- */
/* The sweep                                                                 */
/* ------------------------------------------------------------------------- */

static const workflow WORKFLOWS[] = {
    {"context create", no_setup, run_context, NULL, true, true, false},
    {"GRU create", no_setup, run_gru_create, NULL, true, true, false},
    {"generator create", no_setup, run_generator_create, NULL, true, true, false},
    {"discriminator create (GRU)", no_setup, run_disc_gru_create, NULL, true, true, false},
    {"discriminator create (CONV1D)", no_setup, run_disc_conv_create, NULL, true, true, false},
    {"optimizer create (Adam)", setup_generator, run_adam_create, NULL, true, true, false},
    {"optimizer create (RMSprop)", setup_generator, run_rmsprop_create, NULL, true, true, false},
    {"dataset from array", no_setup, run_dataset_array, NULL, true, true, false},
    {"dataset from series", no_setup, run_dataset_series, NULL, true, true, false},
    {"dataset from CSV buffer", setup_csv, run_dataset_csv_buffer, NULL, true, true, false},
    {"dataset from CSV file", setup_csv, run_dataset_csv_file, NULL, true, true, false},
    {"dataset from NPY buffer", setup_npy, run_dataset_npy_buffer, NULL, true, true, false},
    {"dataset from NPY file", setup_npy, run_dataset_npy_file, NULL, true, true, false},
    {"trainer create", setup_world_without_trainer, run_trainer_create, NULL, true, true, false},
    {"whole program", no_setup, run_whole_program, NULL, true, true, false},
    {"GRU forward + backward", setup_gru, run_gru_forward_backward, recover_gru, false, true,
     false},
    {"GRU streaming steps", setup_gru_unidirectional, run_gru_step, recover_retry_gru_step, false,
     true, false},
    {"generator forward + backward", setup_generator_plain, run_generator_forward_backward,
     recover_generator, false, true, false},
    {"generator forward (own noise)", setup_generator_plain, run_generator_own_noise,
     recover_generator_own_noise, false, true, false},
    {"generator streaming steps", setup_generator_plain, run_generator_step,
     recover_retry_generator_step, false, true, false},
    {"discriminator forward + backward (GRU)", setup_disc_gru, run_disc_forward_backward,
     recover_disc, false, true, false},
    {"discriminator forward + backward (CONV1D)", setup_disc_conv, run_disc_forward_backward,
     recover_disc, false, true, false},
    {"trainer: 3 steps", setup_world, run_trainer_steps, recover_trainer_steps, false, false,
     false},
    {"trainer create (penalties)", setup_world_penalised_without_trainer,
     run_trainer_create_penalised, NULL, true, true, false},
    {"trainer: 3 steps (penalties)", setup_world_penalised, run_trainer_steps,
     recover_trainer_steps, false, false, false},
    {"trainer: 3 steps after the first", setup_world_after_a_step, run_trainer_steps, NULL, false,
     false, true},
    {"optimizer clip + step", setup_world, run_optimizer_step, NULL, false, false, true},
    {"dataset minibatches (2 epochs)", setup_world, run_next_batch, NULL, false, true, true},
    {"trainer save to memory", setup_world, run_trainer_save_buffer, recover_trainer_save_buffer,
     false, false, false},
    {"trainer save to file", setup_world_and_previous_checkpoint, run_trainer_save,
     recover_trainer_save, false, false, false},
    {"generator export to file", setup_world_and_generator_export, run_generator_save,
     recover_generator_save, false, false, false},
    {"trainer quality estimate", setup_world_selecting, run_trainer_estimate,
     recover_trainer_estimate, false, true, false},
    {"trainer export of the best generator", setup_world_selecting, run_trainer_export,
     recover_trainer_export, false, false, false},
    {"generator export to memory", setup_world, run_generator_save_buffer,
     recover_generator_save_buffer, false, false, false},
    {"samples to CSV file", setup_world_and_previous_samples, run_sample_to_file,
     recover_sample_to_file, false, false, false},
    {"trainer load from file", setup_world_and_other_checkpoint, run_trainer_load,
     recover_trainer_load, false, true, false},
    {"trainer load from memory", setup_world_and_other_checkpoint, run_trainer_load_buffer,
     recover_trainer_load_buffer, false, true, false},
    {"generator load from file", setup_generator_export, run_generator_load, NULL, true, true,
     false},
    {"generator load from memory", setup_generator_export, run_generator_load_buffer, NULL, true,
     true, false},
    {"generator sample", setup_generator_plain, run_sample, recover_sample, false, true, false},
    {"discriminative score", no_setup, run_discriminative, recover_discriminative, false, true,
     false},
    {"predictive score", no_setup, run_predictive, recover_predictive, false, true, false},
};

#define NUM_WORKFLOWS (sizeof WORKFLOWS / sizeof WORKFLOWS[0])

/* Sweeps one workflow; returns its number of failure points. */
static size_t sweep(const workflow *w)
{
    fixture fx;
    float *ref;
    size_t ref_n, points = 0;
    int rc;

    /* an undisturbed run: its output is the reference */
    memset(&A, 0, sizeof A);
    fixture_setup(&fx);
    w->setup(&fx);
    rc = w->run(&fx);
    ck_assert_msg(rc == GRUGAN_OK, "%s: status %d without failures", w->name, rc);
    ref_n = fx.out_n;
    ref = malloc((ref_n + 1) * sizeof *ref);
    memcpy(ref, fx.out, ref_n * sizeof *ref);
    fixture_teardown(&fx);
    ck_assert_msg(A.live == 0, "%s: %zu blocks not freed", w->name, A.live);

    for (size_t k = 1;; k++) {
        size_t base;
        bool failed;
        ck_assert_msg(k < 100000, "%s: no end to the failure points", w->name);
        memset(&A, 0, sizeof A);
        fixture_setup(&fx);
        w->setup(&fx);
        base = A.live;
        A.fail_at = A.allocs + k;
        rc = w->run(&fx);
        failed = injected();
        A.fail_at = 0;
        if (!failed) {
            /* the run got through: k - 1 failure points */
            ck_assert_msg(rc == GRUGAN_OK, "%s: status %d without failures", w->name, rc);
            ck_assert_uint_eq(fx.out_n, ref_n);
            ck_assert_msg(memcmp(fx.out, ref, ref_n * sizeof *ref) == 0, "%s: results differ",
                          w->name);
            fixture_teardown(&fx);
            ck_assert_msg(A.live == 0, "%s: %zu blocks not freed", w->name, A.live);
            points = k - 1;
            break;
        }
        ck_assert_msg(rc == GRUGAN_E_NOMEM, "%s, allocation %zu failed: status %d (%s)", w->name,
                      k, rc, grugan_status_string(rc));
        if (w->creates && !fx.made)
            ck_assert_msg(A.live == base, "%s, allocation %zu failed: %zu blocks left", w->name,
                          k, A.live - base);
        if (w->recover) {
            w->recover(&fx);
            if (w->same_after_retry) {
                ck_assert_uint_eq(fx.out_n, ref_n);
                ck_assert_msg(memcmp(fx.out, ref, ref_n * sizeof *ref) == 0,
                              "%s, allocation %zu failed: the retry differs", w->name, k);
            }
        }
        fixture_teardown(&fx);
        ck_assert_msg(A.live == 0, "%s, allocation %zu failed: %zu blocks not freed", w->name, k,
                      A.live);
    }
    free(ref);
    if (w->never_allocates)
        ck_assert_msg(points == 0, "%s allocates (%zu points)", w->name, points);
    else
        ck_assert_msg(points > 0, "%s: no allocation was seen", w->name);
    return points;
}

START_TEST(every_allocation_failure_is_reported_and_leaks_nothing)
{
    const workflow *w = &WORKFLOWS[_i];
    const size_t points = sweep(w);
    const char *table = getenv("GRUGAN_SWEEP_TABLE");
    if (table && table[0] == '1') printf("| %s | %zu |\n", w->name, points);
}
END_TEST

Suite *suite_alloc_sweep(void)
{
    Suite *s = suite_create("alloc_sweep");
    TCase *tc = tcase_create("alloc_sweep");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, every_allocation_failure_is_reported_and_leaks_nothing, 0,
                        (int)NUM_WORKFLOWS);
    suite_add_tcase(s, tc);
    return s;
}
