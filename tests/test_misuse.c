/* test_misuse.c - every public function called the wrong way: NULL handles
 * and pointers, handles of another kind, pointers that are no handle at all,
 * calls on what a failed create left, and sizes whose products overflow
 * size_t. Each call must return its documented status and must not crash
 * (make check-asan runs this under AddressSanitizer and UBSan).
 *
 * The calls of the first tests are generated: tests/gen_misuse.py writes one
 * line per GRUGAN_API declaration of include/grugan.h into
 * tests/misuse_calls.inc, and tests/shell/test_misuse_list.sh fails when that
 * file is out of date, so a new public function gets its misuse calls. */
#include "suites.h"

#include "grugan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 16, T = 4, F = 2, B = 4 };

/* ------------------------------------------------------------------------- */
/* A fixture with one valid handle of every kind                             */
/* ------------------------------------------------------------------------- */

typedef struct fixture {
    grugan_context *ctx;
    grugan_gru *gru;
    grugan_dataset *data;
    grugan_generator *gen;
    grugan_discriminator *disc;
    grugan_optimizer *gen_opt, *disc_opt;
    grugan_trainer *tr;
} fixture;

static void fixture_make(fixture *fx)
{
    float x[N * T * F];
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_gru_config rc = GRUGAN_GRU_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_error err;

    memset(fx, 0, sizeof *fx);
    for (size_t i = 0; i < N * T * F; i++) x[i] = sinf(0.37f * (float)i);
    ck_assert_int_eq(grugan_context_create(NULL, &fx->ctx, &err), GRUGAN_OK);
    rc.input_size = F;
    rc.hidden_size = 3;
    ck_assert_int_eq(grugan_gru_create(fx->ctx, &rc, &fx->gru, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_dataset_from_array(fx->ctx, &dc, x, N, T, F, NULL, 0, NULL, &fx->data,
                                               &err),
                     GRUGAN_OK);
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 4;
    gc.num_layers = 1;
    ck_assert_int_eq(grugan_generator_create(fx->ctx, &gc, &fx->gen, &err), GRUGAN_OK);
    dic.input_size = F;
    dic.hidden_size = 4;
    dic.num_layers = 1;
    ck_assert_int_eq(grugan_discriminator_create(fx->ctx, &dic, &fx->disc, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(fx->ctx, NULL, grugan_generator_params(fx->gen),
                                             &fx->gen_opt, &err),
                     GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(fx->ctx, NULL, grugan_discriminator_params(fx->disc),
                                             &fx->disc_opt, &err),
                     GRUGAN_OK);
    tc.batch_size = B;
    tc.total_steps = 2;
    ck_assert_msg(grugan_trainer_create(fx->ctx, &tc, fx->gen, fx->disc, fx->gen_opt, fx->disc_opt,
                                        fx->data, &fx->tr, &err) == GRUGAN_OK,
                  "%s", err.message);
}

static void fixture_free(fixture *fx)
{
    grugan_trainer_free(fx->tr);
    grugan_optimizer_free(fx->gen_opt);
    grugan_optimizer_free(fx->disc_opt);
    grugan_generator_free(fx->gen);
    grugan_discriminator_free(fx->disc);
    grugan_dataset_free(fx->data);
    grugan_gru_free(fx->gru);
    grugan_context_free(fx->ctx);
    memset(fx, 0, sizeof *fx);
}

/* ------------------------------------------------------------------------- */
/* The generated calls                                                       */
/* ------------------------------------------------------------------------- */

/* Memory that is no handle at all (zeroed, aligned, larger than any header). */
static _Alignas(max_align_t) unsigned char junk[4096];

/* The handle macros of misuse_calls.inc: H_ a valid handle of the kind, W_ a
 * wrong one (another kind, or no handle, as `foreign` says). */
#define H_CONTEXT (fx->ctx)
#define H_GRU (fx->gru)
#define H_PARAMS (grugan_generator_params(fx->gen))
#define H_GENERATOR (fx->gen)
#define H_DISCRIMINATOR (fx->disc)
#define H_OPTIMIZER (fx->gen_opt)
#define H_DATASET (fx->data)
#define H_TRAINER (fx->tr)
#define WRONG(type, other) ((type *)(foreign ? (void *)(other) : (void *)junk))
#define W_GRU WRONG(grugan_gru, fx->gen)
#define W_PARAMS WRONG(grugan_params, fx->gen)
#define W_GENERATOR WRONG(grugan_generator, fx->disc)
#define W_DISCRIMINATOR WRONG(grugan_discriminator, fx->gen)
#define W_OPTIMIZER WRONG(grugan_optimizer, grugan_generator_params(fx->gen))
#define W_DATASET WRONG(grugan_dataset, fx->tr)
#define W_TRAINER WRONG(grugan_trainer, fx->data)

enum { PHASE_NULL, PHASE_WRONG, PHASE_VALID };

/* A status of a misuse (NULL or wrong handle): exactly GRUGAN_E_INVALID. */
static void expect_invalid(const char *name, const char *how, int status, int *checked)
{
    (*checked)++;
    if (status != GRUGAN_E_INVALID)
        ck_abort_msg("%s with %s arguments returned %d (%s), expected GRUGAN_E_INVALID", name, how,
                     status, grugan_status_string(status));
}

/* A status of a call with valid handles and NULL data pointers: success or
 * a documented failure, never GRUGAN_E_INTERNAL or an unknown code. */
static void expect_documented(const char *name, int status, int *checked)
{
    (*checked)++;
    if (status > 0 || status <= GRUGAN_E_INTERNAL)
        ck_abort_msg("%s with valid handles and NULL pointers returned %d (%s)", name, status,
                     grugan_status_string(status));
}

static void expect_message(const char *name, const char *how, const char *msg, int *checked)
{
    (*checked)++;
    if (msg == NULL) ck_abort_msg("%s with %s arguments returned a NULL message", name, how);
}

/* Runs one phase of every generated call. Returns the number of calls made. */
static int run_generated(fixture *fx, int phase, int foreign)
{
    int checked = 0;
    (void)foreign;
#define HOW (phase == PHASE_NULL ? "NULL" : foreign ? "wrong-kind" : "non-handle")
#define MISUSE_STATUS(name, has_wrong, n, v, w)                                   \
    if (phase == PHASE_NULL) expect_invalid(#name, HOW, name n, &checked);       \
    if (phase == PHASE_WRONG && has_wrong) expect_invalid(#name, HOW, name w, &checked); \
    if (phase == PHASE_VALID) expect_documented(#name, name v, &checked);
#define MISUSE_VOID(name, has_wrong, n, v, w)                                     \
    if (phase == PHASE_NULL) {                                                    \
        name n;                                                                   \
        checked++;                                                                \
    }                                                                             \
    if (phase == PHASE_WRONG && has_wrong) {                                      \
        name w; /* must be a no-op: the valid phase then uses the handles */     \
        checked++;                                                                \
    }
#define MISUSE_SIZE(name, has_wrong, n, v, w)                                     \
    if (phase == PHASE_NULL) {                                                    \
        checked++;                                                                \
        ck_assert_msg(name n == 0, "%s(NULL) is not 0", #name);                   \
    }                                                                             \
    if (phase == PHASE_WRONG && has_wrong) {                                      \
        checked++;                                                                \
        ck_assert_msg(name w == 0, "%s of a %s handle is not 0", #name, HOW);     \
    }                                                                             \
    if (phase == PHASE_VALID) {                                                   \
        checked++;                                                                \
        (void)(name v);                                                           \
    }
#define MISUSE_POINTER(name, has_wrong, n, v, w)                                  \
    if (phase == PHASE_NULL) {                                                    \
        checked++;                                                                \
        ck_assert_msg(name n == NULL, "%s(NULL) is not NULL", #name);             \
    }                                                                             \
    if (phase == PHASE_WRONG && has_wrong) {                                      \
        checked++;                                                                \
        ck_assert_msg(name w == NULL, "%s of a %s handle is not NULL", #name, HOW); \
    }                                                                             \
    if (phase == PHASE_VALID) {                                                   \
        checked++;                                                                \
        ck_assert_msg(name v != NULL, "%s of a valid handle is NULL", #name);     \
    }
#define MISUSE_STRING(name, has_wrong, n, v, w)                                   \
    if (phase == PHASE_NULL) expect_message(#name, HOW, name n, &checked);       \
    if (phase == PHASE_WRONG && has_wrong) expect_message(#name, HOW, name w, &checked); \
    if (phase == PHASE_VALID) expect_message(#name, "valid", name v, &checked);
#define MISUSE_VERSION(name, has_wrong, n, v, w)                                  \
    if (phase == PHASE_NULL) {                                                    \
        checked++;                                                                \
        ck_assert_uint_eq(name n, GRUGAN_VERSION_NUMBER);                         \
    }
#include "misuse_calls.inc"
#undef MISUSE_STATUS
#undef MISUSE_VOID
#undef MISUSE_SIZE
#undef MISUSE_POINTER
#undef MISUSE_STRING
#undef MISUSE_VERSION
#undef HOW
    return checked;
}

/* The number of GRUGAN_API declarations in the header, counted here
 * independently of the generator. */
static int count_declarations(void)
{
    FILE *f = fopen(GRUGAN_SOURCE_DIR "/include/grugan.h", "r");
    char line[1024];
    int n = 0;
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "GRUGAN_API ", 11) == 0) n++;
    fclose(f);
    return n;
}

START_TEST(every_function_refuses_null_arguments)
{
    fixture fixture_, *fx = &fixture_;
    int calls;
    fixture_make(fx);
    calls = run_generated(fx, PHASE_NULL, 0);
    ck_assert_int_eq(calls, count_declarations());
    fixture_free(fx);
}
END_TEST

START_TEST(every_function_refuses_a_handle_of_another_kind)
{
    fixture fixture_, *fx = &fixture_;
    fixture_make(fx);
    ck_assert_int_gt(run_generated(fx, PHASE_WRONG, 1), 50);
    ck_assert_int_gt(run_generated(fx, PHASE_WRONG, 0), 50);
    /* nothing was freed or changed: the handles still work */
    ck_assert_int_eq(grugan_trainer_step(fx->tr), GRUGAN_OK);
    fixture_free(fx);
}
END_TEST

START_TEST(valid_handles_with_null_pointers_fail_cleanly)
{
    fixture fixture_, *fx = &fixture_;
    fixture_make(fx);
    ck_assert_int_gt(run_generated(fx, PHASE_VALID, 0), 50);
    fixture_free(fx);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Calls after a failed create                                               */
/* ------------------------------------------------------------------------- */

/* A failed create sets *out to NULL and fills err; every call on that NULL
 * then fails with GRUGAN_E_INVALID and every message is non-NULL. */
START_TEST(calls_after_a_failed_create)
{
    grugan_gru_config rc = GRUGAN_GRU_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_context_config cc = GRUGAN_CONTEXT_CONFIG_INIT;
    grugan_context *ctx = (grugan_context *)junk;
    grugan_gru *gru = (grugan_gru *)junk;
    grugan_generator *gen = (grugan_generator *)junk;
    grugan_discriminator *disc = (grugan_discriminator *)junk;
    grugan_dataset *ds = (grugan_dataset *)junk;
    grugan_optimizer *opt = (grugan_optimizer *)junk;
    grugan_trainer *tr = (grugan_trainer *)junk;
    grugan_error err;
    float x[8] = {0}, out[8], v = 0;
    double d;
    fixture fx;

    cc.log_level = 99;
    ck_assert_int_eq(grugan_context_create(&cc, &ctx, &err), GRUGAN_E_RANGE);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(err.code, GRUGAN_E_RANGE);
    ck_assert(err.message[0] != '\0');

    rc.input_size = 2; /* hidden_size missing */
    ck_assert_int_lt(grugan_gru_create(NULL, &rc, &gru, &err), 0);
    ck_assert_ptr_null(gru);
    ck_assert_int_lt(err.code, 0);
    ck_assert(err.message[0] != '\0');
    ck_assert_int_eq(grugan_gru_forward(gru, 1, 1, x, NULL, NULL, out, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_gru_backward(gru, NULL, NULL, NULL, NULL, 0), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_gru_set(gru, GRUGAN_KEY_THREADS, 1), GRUGAN_E_INVALID);
    ck_assert_ptr_null(grugan_gru_params(gru));
    ck_assert_ptr_nonnull(grugan_gru_message(gru));
    grugan_gru_free(gru);

    gc.noise_size = 2; /* output_size missing */
    ck_assert_int_lt(grugan_generator_create(NULL, &gc, &gen, &err), 0);
    ck_assert_ptr_null(gen);
    ck_assert(err.message[0] != '\0');
    ck_assert_int_eq(grugan_generator_sample(gen, 1, 1, 1, NULL, NULL, out), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_save(gen, "never-written.safetensors"), GRUGAN_E_INVALID);
    ck_assert_int_eq(access("never-written.safetensors", F_OK), -1);
    ck_assert_int_eq(grugan_generator_get(gen, GRUGAN_KEY_THREADS, &d), GRUGAN_E_INVALID);
    ck_assert_ptr_null(grugan_generator_params(gen));
    ck_assert_uint_eq(grugan_generator_state_size(gen, 1), 0);
    grugan_generator_free(gen);

    dic.kind = GRUGAN_DISC_CONV1D; /* sequence_length missing */
    dic.input_size = 2;
    ck_assert_int_lt(grugan_discriminator_create(NULL, &dic, &disc, &err), 0);
    ck_assert_ptr_null(disc);
    ck_assert(err.message[0] != '\0');
    ck_assert_uint_eq(grugan_discriminator_logit_count(disc, 4), 0);
    ck_assert_uint_eq(grugan_discriminator_feature_count(disc, 4), 0);
    ck_assert_int_eq(grugan_discriminator_forward(disc, 1, 4, x, NULL, NULL, out), GRUGAN_E_INVALID);
    grugan_discriminator_free(disc);

    x[3] = NAN;
    ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, 2, 2, 2, NULL, 0, NULL, &ds, &err),
                     GRUGAN_E_NONFINITE);
    ck_assert_ptr_null(ds);
    ck_assert(err.message[0] != '\0');
    ck_assert_int_eq(grugan_dataset_next_batch(ds, 1, out, NULL, NULL, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_dataset_scale(ds, &v, 1), GRUGAN_E_INVALID);
    grugan_dataset_free(ds);

    fixture_make(&fx);
    oc.lr = -1;
    ck_assert_int_eq(grugan_optimizer_create(NULL, &oc, grugan_generator_params(fx.gen), &opt,
                                             &err),
                     GRUGAN_E_RANGE);
    ck_assert_ptr_null(opt);
    ck_assert_int_eq(grugan_optimizer_step(opt), GRUGAN_E_INVALID);
    ck_assert_uint_eq(grugan_optimizer_state_size(opt), 0);
    grugan_optimizer_free(opt);

    tc.batch_size = N + 1;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, fx.disc, fx.gen_opt, fx.disc_opt,
                                           fx.data, &tr, &err),
                     GRUGAN_E_SIZE);
    ck_assert_ptr_null(tr);
    ck_assert_int_eq(grugan_trainer_step(tr), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_trainer_run(tr), GRUGAN_E_INVALID);
    ck_assert_ptr_nonnull(grugan_trainer_message(tr));
    grugan_trainer_free(tr);

    /* an err of NULL is fine too */
    gen = (grugan_generator *)junk;
    ck_assert_int_lt(grugan_generator_create(NULL, &gc, &gen, NULL), 0);
    ck_assert_ptr_null(gen);

    /* the handles the failed calls were given are unharmed */
    ck_assert_int_eq(grugan_trainer_step(fx.tr), GRUGAN_OK);
    fixture_free(&fx);
}
END_TEST

/* Config structs with a bad struct_size are refused by every create. */
START_TEST(config_struct_size_is_checked)
{
    static const size_t sizes[3] = {0, 3, 1 << 20};
    for (size_t i = 0; i < 3; i++) {
        grugan_context_config cc = GRUGAN_CONTEXT_CONFIG_INIT;
        grugan_gru_config rc = GRUGAN_GRU_CONFIG_INIT;
        grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
        grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
        grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
        grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
        grugan_context *ctx = NULL;
        grugan_gru *gru = NULL;
        grugan_generator *gen = NULL;
        grugan_discriminator *disc = NULL;
        grugan_dataset *ds = NULL;
        float x[2 * 4 * 2] = {0}, y[2 * 4 * 2] = {0};
        double mean = -1;
        rc.input_size = gc.noise_size = gc.output_size = dic.input_size = 2;
        rc.hidden_size = 2;
        cc.struct_size = rc.struct_size = gc.struct_size = dic.struct_size = dc.struct_size =
            mc.struct_size = sizes[i];
        ck_assert_int_eq(grugan_context_create(&cc, &ctx, NULL), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_gru_create(NULL, &rc, &gru, NULL), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_generator_create(NULL, &gc, &gen, NULL), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_discriminator_create(NULL, &dic, &disc, NULL), GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, x, 2, 4, 2, NULL, 0, NULL, &ds, NULL),
                         GRUGAN_E_INVALID);
        ck_assert_int_eq(grugan_statistics_error(x, 2, y, 2, 4, 2, 1, &mean, NULL, NULL), GRUGAN_OK);
        ck_assert_int_eq(grugan_discriminative_score(NULL, &mc, x, 2, y, 2, 4, 2, &mean, NULL,
                                                     NULL),
                         GRUGAN_E_INVALID);
        ck_assert(ctx == NULL && gru == NULL && gen == NULL && disc == NULL && ds == NULL);
    }
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Handles that fit their types but not each other                           */
/* ------------------------------------------------------------------------- */

START_TEST(trainer_refuses_handles_that_do_not_belong_together)
{
    fixture fx;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_trainer *tr = (grugan_trainer *)junk;
    grugan_generator *gen3 = NULL;
    grugan_discriminator *disc3 = NULL;
    grugan_optimizer *opt3 = NULL;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_error err;
    fixture_make(&fx);
    tc.batch_size = B;

    /* the two optimizers swapped: each made for the other model */
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, fx.disc, fx.disc_opt, fx.gen_opt,
                                           fx.data, &tr, &err),
                     GRUGAN_E_INVALID);
    ck_assert_ptr_null(tr);
    ck_assert(err.message[0] != '\0');
    /* an optimizer made for a GRU's parameters: a parameter set of another model */
    ck_assert_int_eq(grugan_optimizer_create(NULL, NULL, grugan_gru_params(fx.gru), &opt3, &err),
                     GRUGAN_OK);
    tr = (grugan_trainer *)junk;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, fx.disc, opt3, fx.disc_opt, fx.data,
                                           &tr, &err),
                     GRUGAN_E_INVALID);
    ck_assert_ptr_null(tr);
    grugan_optimizer_free(opt3);
    opt3 = NULL;

    /* a generator of 3 features on a dataset of 2 */
    gc.noise_size = 2;
    gc.output_size = F + 1;
    gc.hidden_size = 4;
    gc.num_layers = 1;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &gen3, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(NULL, NULL, grugan_generator_params(gen3), &opt3, &err),
                     GRUGAN_OK);
    tr = (grugan_trainer *)junk;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, gen3, fx.disc, opt3, fx.disc_opt, fx.data,
                                           &tr, &err),
                     GRUGAN_E_SIZE);
    ck_assert_ptr_null(tr);
    grugan_optimizer_free(opt3);
    opt3 = NULL;

    /* a discriminator of 3 input features */
    dic.input_size = F + 1;
    dic.hidden_size = 4;
    dic.num_layers = 1;
    ck_assert_int_eq(grugan_discriminator_create(NULL, &dic, &disc3, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(NULL, NULL, grugan_discriminator_params(disc3), &opt3,
                                             &err),
                     GRUGAN_OK);
    tr = (grugan_trainer *)junk;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, disc3, fx.gen_opt, opt3, fx.data,
                                           &tr, &err),
                     GRUGAN_E_SIZE);
    ck_assert_ptr_null(tr);
    grugan_optimizer_free(opt3);
    grugan_discriminator_free(disc3);
    grugan_generator_free(gen3);

    /* a generator with covariates, which the trainer cannot supply */
    gc.output_size = F;
    gc.covariate_size = 2;
    ck_assert_int_eq(grugan_generator_create(NULL, &gc, &gen3, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_create(NULL, NULL, grugan_generator_params(gen3), &opt3, &err),
                     GRUGAN_OK);
    tr = (grugan_trainer *)junk;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, gen3, fx.disc, opt3, fx.disc_opt, fx.data,
                                           &tr, &err),
                     GRUGAN_E_UNSUPPORTED);
    ck_assert_ptr_null(tr);
    grugan_optimizer_free(opt3);
    grugan_generator_free(gen3);

    /* a generator passed as the discriminator, a dataset as an optimizer */
    tr = (grugan_trainer *)junk;
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, (grugan_discriminator *)fx.gen,
                                           fx.gen_opt, fx.disc_opt, fx.data, &tr, &err),
                     GRUGAN_E_INVALID);
    ck_assert_ptr_null(tr);
    ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, fx.disc, fx.gen_opt,
                                           (grugan_optimizer *)fx.data, fx.data, &tr, &err),
                     GRUGAN_E_INVALID);
    ck_assert_ptr_null(tr);
    /* the fixture still trains */
    ck_assert_int_eq(grugan_trainer_step(fx.tr), GRUGAN_OK);
    fixture_free(&fx);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Sizes whose products overflow size_t                                      */
/* ------------------------------------------------------------------------- */

/* status is one of the documented codes a and b. */
#define EXPECT_ONE_OF(call, a, b)                                                          \
    do {                                                                                   \
        const int st_ = (call);                                                            \
        ck_assert_msg(st_ == (a) || st_ == (b), "%s returned %d (%s)", #call, st_,         \
                      grugan_status_string(st_));                                          \
    } while (0)

START_TEST(overflowing_sizes_are_refused)
{
    const size_t huge = SIZE_MAX, half = SIZE_MAX / 2 + 1, root = (size_t)1 << (sizeof(size_t) * 4);
    fixture fx;
    float buf[64] = {0}, sentinel[64];
    size_t idx = 0, lens[4] = {1, 1, 1, 1};
    grugan_error err;
    double mean = -1;
    fixture_make(&fx);
    for (size_t i = 0; i < 64; i++) buf[i] = 0.25f;
    memcpy(sentinel, buf, sizeof buf);

    /* creation: products of the configured sizes */
    {
        grugan_gru_config rc = GRUGAN_GRU_CONFIG_INIT;
        grugan_gru *g = NULL;
        rc.input_size = root;
        rc.hidden_size = root;
        EXPECT_ONE_OF(grugan_gru_create(NULL, &rc, &g, &err), GRUGAN_E_SIZE, GRUGAN_E_NOMEM);
        rc.input_size = 1;
        rc.hidden_size = huge / 3 + 1;
        EXPECT_ONE_OF(grugan_gru_create(NULL, &rc, &g, &err), GRUGAN_E_SIZE, GRUGAN_E_NOMEM);
        rc.hidden_size = 4;
        rc.num_layers = huge;
        EXPECT_ONE_OF(grugan_gru_create(NULL, &rc, &g, &err), GRUGAN_E_SIZE, GRUGAN_E_RANGE);
        ck_assert_ptr_null(g);
    }
    {
        grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
        grugan_generator *g = NULL;
        gc.noise_size = huge;
        gc.output_size = 2;
        gc.condition_size = 2;
        EXPECT_ONE_OF(grugan_generator_create(NULL, &gc, &g, &err), GRUGAN_E_SIZE, GRUGAN_E_NOMEM);
        gc.noise_size = 2;
        gc.output_size = root;
        gc.hidden_size = root;
        EXPECT_ONE_OF(grugan_generator_create(NULL, &gc, &g, &err), GRUGAN_E_SIZE, GRUGAN_E_NOMEM);
        ck_assert_ptr_null(g);
    }
    {
        grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
        grugan_discriminator *d = NULL;
        dic.kind = GRUGAN_DISC_CONV1D;
        dic.input_size = 2;
        dic.sequence_length = huge;
        EXPECT_ONE_OF(grugan_discriminator_create(NULL, &dic, &d, &err), GRUGAN_E_SIZE,
                      GRUGAN_E_NOMEM);
        dic.sequence_length = 8;
        dic.channels = root;
        dic.kernel_size = 3;
        EXPECT_ONE_OF(grugan_discriminator_create(NULL, &dic, &d, &err), GRUGAN_E_SIZE,
                      GRUGAN_E_NOMEM);
        dic.channels = 4;
        dic.kernel_size = huge;
        EXPECT_ONE_OF(grugan_discriminator_create(NULL, &dic, &d, &err), GRUGAN_E_SIZE,
                      GRUGAN_E_RANGE);
        ck_assert_ptr_null(d);
    }

    /* forward passes: B * T * size */
    ck_assert_int_eq(grugan_gru_forward(fx.gru, half, 2, buf, NULL, NULL, buf, NULL), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_gru_forward(fx.gru, root, root, buf, NULL, NULL, buf, NULL),
                     GRUGAN_E_SIZE);
    EXPECT_ONE_OF(grugan_gru_reserve(fx.gru, root, root), GRUGAN_E_SIZE, GRUGAN_E_NOMEM);
    ck_assert_int_eq(grugan_gru_step(fx.gru, huge, buf, buf, NULL), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_generator_forward(fx.gen, half, 2, NULL, NULL, NULL, buf), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_generator_forward(fx.gen, root, root, buf, NULL, NULL, buf),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_generator_sample(fx.gen, 1, huge, 2, NULL, NULL, buf), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_generator_sample(fx.gen, 1, root, root, NULL, NULL, buf), GRUGAN_E_SIZE);
    EXPECT_ONE_OF(grugan_generator_noise(fx.gen, 1, 0, half, 2, buf), GRUGAN_E_SIZE, GRUGAN_E_RANGE);
    EXPECT_ONE_OF(grugan_generator_noise(fx.gen, 1, UINT64_MAX, 2, 2, buf), GRUGAN_E_SIZE,
                  GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_generator_step(fx.gen, huge, buf, NULL, NULL, buf, buf), GRUGAN_E_SIZE);
    ck_assert_uint_eq(grugan_generator_state_size(fx.gen, huge), 0);
    ck_assert_int_eq(grugan_generator_unscale(fx.gen, buf, huge), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_discriminator_forward(fx.disc, half, 2, buf, NULL, NULL, buf),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_discriminator_forward(fx.disc, root, root, buf, NULL, NULL, buf),
                     GRUGAN_E_SIZE);
    ck_assert_uint_eq(grugan_discriminator_feature_count(fx.disc, huge), 0);
    ck_assert_int_eq(grugan_discriminator_features(fx.disc, buf, huge), GRUGAN_E_STATE);
    /* nothing was written by the refused calls */
    ck_assert_mem_eq(buf, sentinel, sizeof buf);

    /* losses and statistics */
    ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_REAL, half, 2, buf, NULL, 0, buf,
                                 NULL),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_REAL, root, root, buf, lens, 0, buf,
                                 buf),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_feature_matching(half, 1, 2, buf, buf, buf, NULL), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_feature_matching(1, root, root, buf, buf, buf, buf), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_statistics_error(buf, half, buf, 1, 2, 1, 1, &mean, NULL, NULL),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_statistics_error(buf, 1, buf, root, root, 1, 1, &mean, NULL, NULL),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_discriminative_score(NULL, NULL, buf, half, buf, 8, 2, 2, &mean, NULL,
                                                 &err),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_predictive_score(NULL, NULL, buf, 8, buf, root, root, 2, &mean, NULL,
                                             &err),
                     GRUGAN_E_SIZE);
    ck_assert(mean == -1);
    ck_assert_mem_eq(buf, sentinel, sizeof buf);

    /* datasets and files */
    {
        grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
        grugan_dataset *ds = NULL;
        ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, buf, half, 2, 1, NULL, 0, NULL, &ds,
                                                   &err),
                         GRUGAN_E_SIZE);
        ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, buf, 2, root, root, NULL, 0, NULL,
                                                   &ds, &err),
                         GRUGAN_E_SIZE);
        ck_assert_int_eq(grugan_dataset_from_array(NULL, &dc, buf, 2, 2, 2, buf, huge, NULL, &ds,
                                                   &err),
                         GRUGAN_E_SIZE);
        dc.sequence_length = 2;
        ck_assert_int_eq(grugan_dataset_from_series(NULL, &dc, buf, half, 2, &ds, &err),
                         GRUGAN_E_SIZE);
        dc.sequence_length = huge;
        ck_assert_int_eq(grugan_dataset_from_series(NULL, &dc, buf, 4, 2, &ds, &err), GRUGAN_E_SIZE);
        ck_assert_int_eq(grugan_dataset_from_csv_buffer(NULL, &dc, "1,2\n3,4\n", 8, &ds, &err),
                         GRUGAN_E_SIZE);
        ck_assert_ptr_null(ds);
    }
    ck_assert_int_eq(grugan_dataset_next_batch(fx.data, huge, buf, NULL, NULL, NULL), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_dataset_scale(fx.data, buf, huge), GRUGAN_E_SIZE);
    EXPECT_ONE_OF(grugan_dataset_get(fx.data, huge, buf, NULL, NULL), GRUGAN_E_NOTFOUND,
                  GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_dataset_set_position(fx.data, 0, UINT64_MAX), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_write_sequences("never-written.csv", GRUGAN_FILE_CSV, buf, half, 2, 1,
                                            &err),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_write_sequences("never-written.csv", GRUGAN_FILE_NPY, buf, root, root,
                                            2, &err),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(access("never-written.csv", F_OK), -1);
    ck_assert_int_eq(grugan_generator_sample_to_file(fx.gen, 1, root, root, NULL,
                                                     "never-written.csv", GRUGAN_FILE_CSV),
                     GRUGAN_E_SIZE);

    /* parameter and optimizer counts */
    ck_assert_int_eq(grugan_params_read(grugan_generator_params(fx.gen), 0, buf, huge),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_params_read_all(grugan_generator_params(fx.gen), buf, huge),
                     GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_params_info(grugan_generator_params(fx.gen), huge, NULL, NULL, NULL),
                     GRUGAN_E_NOTFOUND);
    ck_assert_int_eq(grugan_optimizer_state_read(fx.gen_opt, buf, huge, NULL), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_optimizer_state_write(fx.gen_opt, buf, huge, 1), GRUGAN_E_SIZE);
    ck_assert_int_ne(grugan_params_find(grugan_generator_params(fx.gen), "head.bias", &idx), -1);
    {
        grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
        grugan_trainer *tr = NULL;
        tc.batch_size = huge;
        ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, fx.disc, fx.gen_opt, fx.disc_opt,
                                               fx.data, &tr, &err),
                         GRUGAN_E_SIZE);
        tc.batch_size = B;
        tc.d_steps = huge;
        ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, fx.disc, fx.gen_opt, fx.disc_opt,
                                               fx.data, &tr, &err),
                         GRUGAN_E_RANGE);
        tc.d_steps = 1;
        tc.epochs = UINT64_MAX;
        ck_assert_int_eq(grugan_trainer_create(NULL, &tc, fx.gen, fx.disc, fx.gen_opt, fx.disc_opt,
                                               fx.data, &tr, &err),
                         GRUGAN_OK);
        grugan_trainer_free(tr);
    }
    /* a buffer size the checkpoint cannot be */
    ck_assert_int_eq(grugan_trainer_load_buffer(fx.tr, buf, 7), GRUGAN_E_FORMAT);
    ck_assert_int_eq(grugan_generator_load_buffer(NULL, buf, 7, NULL, &err), GRUGAN_E_INVALID);

    /* after all that, the handles work */
    ck_assert_int_eq(grugan_trainer_step(fx.tr), GRUGAN_OK);
    fixture_free(&fx);
}
END_TEST

/* Settings with NaN, infinite or fractional values are refused, not clamped. */
START_TEST(bad_setting_values_are_refused)
{
    fixture fx;
    static const double bad[4] = {NAN, INFINITY, -INFINITY, 1e300};
    double v = -1, lo = 0, hi = 0;
    fixture_make(&fx);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(grugan_gru_set(fx.gru, GRUGAN_KEY_THREADS, bad[i]), GRUGAN_E_RANGE);
        ck_assert_int_eq(grugan_generator_set(fx.gen, GRUGAN_KEY_CHECK_FINITE, bad[i]),
                         GRUGAN_E_RANGE);
        ck_assert_int_eq(grugan_discriminator_set(fx.disc, GRUGAN_KEY_THREADS, bad[i]),
                         GRUGAN_E_RANGE);
        ck_assert_int_eq(grugan_optimizer_set(fx.gen_opt, GRUGAN_KEY_LR, bad[i] < 0 ? bad[i] : NAN),
                         GRUGAN_E_RANGE);
        ck_assert_int_eq(grugan_optimizer_set(fx.gen_opt, GRUGAN_KEY_BETA1, bad[i]),
                         GRUGAN_E_RANGE);
    }
    ck_assert_int_eq(grugan_gru_set(fx.gru, GRUGAN_KEY_THREADS, 1.5), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_gru_set(fx.gru, 12345, 1), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_gru_get(fx.gru, 12345, &v), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_gru_key_bounds(12345, &lo, &hi), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_optimizer_set(fx.gen_opt, GRUGAN_KEY_MOMENTUM, 0.5), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_gru_get(fx.gru, GRUGAN_KEY_THREADS, &v), GRUGAN_OK);
    ck_assert(v == 1.0);
    ck_assert_int_eq(grugan_gru_backward(fx.gru, NULL, NULL, NULL, NULL, 7), GRUGAN_E_INVALID);
    fixture_free(&fx);
}
END_TEST

Suite *suite_misuse(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("misuse");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_function_refuses_null_arguments);
    tcase_add_test(tc, every_function_refuses_a_handle_of_another_kind);
    tcase_add_test(tc, valid_handles_with_null_pointers_fail_cleanly);
    tcase_add_test(tc, calls_after_a_failed_create);
    tcase_add_test(tc, config_struct_size_is_checked);
    tcase_add_test(tc, trainer_refuses_handles_that_do_not_belong_together);
    tcase_add_test(tc, overflowing_sizes_are_refused);
    tcase_add_test(tc, bad_setting_values_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
