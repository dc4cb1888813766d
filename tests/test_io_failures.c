/* test_io_failures.c - saving when the file system says no: a full device,
 * a directory that does not exist or cannot be written, a memory buffer that
 * is too small, a write cut short after part of the file (a file size limit,
 * the leftovers of a writer that died). Each save reports a clear status and
 * the checkpoint previously at the path still loads, bit for bit. */
#include "suites.h"
#include "test_util.h"

#include "grugan.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum { N = 32, T = 6, F = 2, B = 8 };

typedef gan_world world;

static void world_make(world *w)
{
    float x[N * T * F];
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    for (size_t i = 0; i < N; i++)
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < F; k++)
                x[(i * T + t) * F + k] = sinf(0.3f * (float)t + 0.7f * (float)i + (float)k);
    gc.noise_size = 2;
    gc.output_size = F;
    gc.hidden_size = 6;
    gc.num_layers = 1;
    gc.seed = 6;
    dic.input_size = F;
    dic.hidden_size = 5;
    dic.num_layers = 1;
    dic.seed = 7;
    tc.batch_size = B;
    gan_world_make(w, NULL, x, N, T, F, 5, &gc, &dic, &tc);
}

static void steps(world *w, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(grugan_trainer_step(w->tr) == GRUGAN_OK, "%s",
                      grugan_trainer_message(w->tr));
}

/* Both models' parameters and both optimizers' states, flat. */
static float *snapshot(const world *w, size_t *count)
{
    grugan_params *g = grugan_generator_params(w->gen), *d = grugan_discriminator_params(w->disc);
    const size_t ng = grugan_params_num_scalars(g), nd = grugan_params_num_scalars(d);
    const size_t sg = grugan_optimizer_state_size(w->gen_opt);
    const size_t sd = grugan_optimizer_state_size(w->disc_opt);
    float *all = malloc((ng + nd + sg + sd) * sizeof *all);
    ck_assert_ptr_nonnull(all);
    ck_assert_int_eq(grugan_params_read_all(g, all, ng), GRUGAN_OK);
    ck_assert_int_eq(grugan_params_read_all(d, all + ng, nd), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_read(w->gen_opt, all + ng + nd, sg, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_optimizer_state_read(w->disc_opt, all + ng + nd + sg, sd, NULL),
                     GRUGAN_OK);
    *count = ng + nd + sg + sd;
    return all;
}

/* ------------------------------------------------------------------------- */
/* Files                                                                     */
/* ------------------------------------------------------------------------- */

/* A fresh temporary directory (removed by remove_tree). */
static void make_dir(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/grugan-io-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes the files of dir (one level, as the tests make them) and dir. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    ck_assert_int_eq(rmdir(dir), 0);
}

/* Number of entries of dir whose name contains ".tmp-" (the atomic writer's
 * temporary files). */
static int temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

/* The whole file in a new allocation. */
static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

/* The file at path holds exactly `size` bytes `want`. */
static void assert_file_is(const char *path, const unsigned char *want, size_t size)
{
    size_t n;
    unsigned char *got = slurp(path, &n);
    ck_assert_msg(n == size && memcmp(got, want, size) == 0,
                  "%s changed (%zu bytes, expected %zu)", path, n, size);
    free(got);
}

/* The checkpoint at path loads into a fresh world as exactly `want`. */
static void assert_loads_as(const char *path, const float *want, size_t count)
{
    world v;
    size_t n;
    float *got;
    world_make(&v);
    ck_assert_msg(grugan_trainer_load(v.tr, path) == GRUGAN_OK, "%s",
                  grugan_trainer_message(v.tr));
    got = snapshot(&v, &n);
    ck_assert_uint_eq(n, count);
    ck_assert_msg(memcmp(got, want, count * sizeof *got) == 0, "the loaded state differs");
    free(got);
    gan_world_free(&v);
}

/* ------------------------------------------------------------------------- */
/* A full device                                                             */
/* ------------------------------------------------------------------------- */

static bool is_char_device(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

START_TEST(saving_to_a_full_device_fails_and_leaves_the_device)
{
    world w;
    float x[2 * T * F] = {0};
    grugan_error err;
    if (!is_char_device("/dev/full")) return; /* not on this system */
    world_make(&w);
    steps(&w, 1);
    ck_assert_int_eq(grugan_trainer_save(w.tr, "/dev/full"), GRUGAN_E_IO);
    ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "/dev/full"));
    ck_assert_int_eq(grugan_generator_save(w.gen, "/dev/full"), GRUGAN_E_IO);
    ck_assert_ptr_nonnull(strstr(grugan_generator_message(w.gen), "/dev/full"));
    ck_assert_int_eq(grugan_write_sequences("/dev/full", GRUGAN_FILE_CSV, x, 2, T, F, &err),
                     GRUGAN_E_IO);
    ck_assert_int_eq(err.code, GRUGAN_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "/dev/full"));
    ck_assert_int_eq(grugan_write_sequences("/dev/full", GRUGAN_FILE_NPY, x, 2, T, F, &err),
                     GRUGAN_E_IO);
    ck_assert_int_eq(grugan_generator_sample_to_file(w.gen, 1, 3, T, NULL, "/dev/full",
                                                     GRUGAN_FILE_NPY),
                     GRUGAN_E_IO);
    /* the device is still the device (never replaced by a regular file, even
     * for a user who may write /dev), and no temporary file was left there */
    ck_assert(is_char_device("/dev/full"));
    ck_assert_int_eq(temporaries("/dev"), 0);
    /* the trainer is unharmed */
    steps(&w, 1);
    /* writing to /dev/null succeeds and leaves it a device too */
    if (is_char_device("/dev/null")) {
        ck_assert_int_eq(grugan_trainer_save(w.tr, "/dev/null"), GRUGAN_OK);
        ck_assert_int_eq(grugan_generator_save(w.gen, "/dev/null"), GRUGAN_OK);
        ck_assert_int_eq(grugan_write_sequences("/dev/null", GRUGAN_FILE_CSV, x, 2, T, F, &err),
                         GRUGAN_OK);
        ck_assert(is_char_device("/dev/null"));
    }
    gan_world_free(&w);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Directories                                                               */
/* ------------------------------------------------------------------------- */

START_TEST(saving_into_a_missing_directory_fails)
{
    world w;
    char dir[256], path[512];
    float x[2 * T * F] = {0};
    grugan_error err;
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/missing/sub/model.safetensors", dir);
    world_make(&w);
    ck_assert_int_eq(grugan_trainer_save(w.tr, path), GRUGAN_E_IO);
    ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "missing/sub/model.safetensors"));
    ck_assert_int_eq(grugan_generator_save(w.gen, path), GRUGAN_E_IO);
    ck_assert_ptr_nonnull(strstr(grugan_generator_message(w.gen), "missing/sub"));
    ck_assert_int_eq(grugan_write_sequences(path, GRUGAN_FILE_NPY, x, 2, T, F, &err), GRUGAN_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "missing/sub"));
    ck_assert_int_eq(grugan_generator_sample_to_file(w.gen, 1, 2, T, NULL, path, GRUGAN_FILE_CSV),
                     GRUGAN_E_IO);
    /* a path naming a directory */
    ck_assert_int_eq(grugan_trainer_save(w.tr, dir), GRUGAN_E_IO);
    ck_assert_int_eq(grugan_write_sequences(dir, GRUGAN_FILE_CSV, x, 2, T, F, &err), GRUGAN_E_IO);
    ck_assert_int_eq(temporaries(dir), 0);
    /* loading what was never written */
    ck_assert_int_eq(grugan_trainer_load(w.tr, path), GRUGAN_E_IO);
    {
        grugan_generator *g = (grugan_generator *)&w;
        ck_assert_int_eq(grugan_generator_load(NULL, path, &g, &err), GRUGAN_E_IO);
        ck_assert_ptr_null(g);
    }
    steps(&w, 1);
    gan_world_free(&w);
    remove_tree(dir);
}
END_TEST

START_TEST(saving_into_a_read_only_directory_keeps_the_previous_file)
{
    world w;
    char dir[256], ckpt[512], gen[512], csv[512];
    unsigned char *old_ckpt, *old_gen, *old_csv;
    size_t n_ckpt, n_gen, n_csv, count;
    float x[2 * T * F], *state;
    grugan_error err;
    if (geteuid() == 0) return; /* root writes read-only directories anyway: skipped */
    for (size_t i = 0; i < 2 * T * F; i++) x[i] = (float)i;
    make_dir(dir, sizeof dir);
    snprintf(ckpt, sizeof ckpt, "%s/train.safetensors", dir);
    snprintf(gen, sizeof gen, "%s/gen.safetensors", dir);
    snprintf(csv, sizeof csv, "%s/x.csv", dir);
    world_make(&w);
    steps(&w, 2);
    ck_assert_int_eq(grugan_trainer_save(w.tr, ckpt), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_save(w.gen, gen), GRUGAN_OK);
    ck_assert_int_eq(grugan_write_sequences(csv, GRUGAN_FILE_CSV, x, 2, T, F, &err), GRUGAN_OK);
    state = snapshot(&w, &count);
    old_ckpt = slurp(ckpt, &n_ckpt);
    old_gen = slurp(gen, &n_gen);
    old_csv = slurp(csv, &n_csv);
    steps(&w, 2);
    x[0] = -1;
    ck_assert_int_eq(chmod(dir, 0555), 0);
    ck_assert_int_eq(grugan_trainer_save(w.tr, ckpt), GRUGAN_E_IO);
    ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "train.safetensors"));
    ck_assert_int_eq(grugan_generator_save(w.gen, gen), GRUGAN_E_IO);
    ck_assert_int_eq(grugan_write_sequences(csv, GRUGAN_FILE_CSV, x, 2, T, F, &err), GRUGAN_E_IO);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    assert_file_is(ckpt, old_ckpt, n_ckpt);
    assert_file_is(gen, old_gen, n_gen);
    assert_file_is(csv, old_csv, n_csv);
    assert_loads_as(ckpt, state, count);
    ck_assert_int_eq(temporaries(dir), 0);
    free(old_ckpt);
    free(old_gen);
    free(old_csv);
    free(state);
    gan_world_free(&w);
    remove_tree(dir);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Memory buffers                                                            */
/* ------------------------------------------------------------------------- */

START_TEST(a_buffer_too_small_is_refused_and_left_untouched)
{
    world w;
    size_t need = 0, got = 0, gneed = 0, count;
    unsigned char *buf, *ref;
    float *state;
    grugan_generator *g = NULL;
    grugan_error err;
    world_make(&w);
    steps(&w, 2);
    ck_assert_int_eq(grugan_trainer_save_buffer(w.tr, NULL, 0, &need), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_save_buffer(w.gen, NULL, 0, &gneed), GRUGAN_OK);
    ck_assert_uint_gt(need, 64);
    ck_assert_uint_gt(gneed, 64);
    buf = malloc(need);
    ref = malloc(need);
    memset(ref, 0xab, need);
    for (size_t cap = 0; cap < need; cap = cap ? cap * 2 : 1) {
        const size_t c = cap < need ? cap : need - 1;
        memset(buf, 0xab, need);
        got = 7;
        ck_assert_int_eq(grugan_trainer_save_buffer(w.tr, buf, c, &got), GRUGAN_E_SIZE);
        ck_assert_uint_eq(got, need); /* the size needed is reported */
        ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "bytes"));
        ck_assert_int_eq(memcmp(buf, ref, need), 0);
        got = 7;
        ck_assert_int_eq(grugan_generator_save_buffer(w.gen, buf, c < gneed ? c : gneed - 1, &got),
                         GRUGAN_E_SIZE);
        ck_assert_uint_eq(got, gneed);
        ck_assert_int_eq(memcmp(buf, ref, need), 0);
    }
    memset(buf, 0xab, need);
    ck_assert_int_eq(grugan_trainer_save_buffer(w.tr, buf, need - 1, &got), GRUGAN_E_SIZE);
    ck_assert_int_eq(memcmp(buf, ref, need), 0);
    /* the exact size works, and loads back */
    state = snapshot(&w, &count);
    ck_assert_int_eq(grugan_trainer_save_buffer(w.tr, buf, need, &got), GRUGAN_OK);
    ck_assert_uint_eq(got, need);
    steps(&w, 1);
    ck_assert_int_eq(grugan_trainer_load_buffer(w.tr, buf, need), GRUGAN_OK);
    {
        size_t n;
        float *again = snapshot(&w, &n);
        ck_assert_int_eq(memcmp(again, state, count * sizeof *state), 0);
        free(again);
    }
    ck_assert_int_eq(grugan_generator_save_buffer(w.gen, buf, gneed, &got), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_load_buffer(NULL, buf, gneed, &g, &err), GRUGAN_OK);
    grugan_generator_free(g);
    free(state);
    free(buf);
    free(ref);
    gan_world_free(&w);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Writes cut short                                                          */
/* ------------------------------------------------------------------------- */

/* Runs a save with the process's file size limit at `limit` bytes, so that
 * the write stops part way as on a full disk (EFBIG; SIGXFSZ ignored). The
 * limit is restored before any Check assertion writes its own files. */
typedef int (*save_fn)(world *w, const char *path);

static int limited_save(save_fn save, world *w, const char *path, size_t limit)
{
    struct rlimit old, lim;
    void (*old_handler)(int);
    int rc;
    if (getrlimit(RLIMIT_FSIZE, &old) != 0) return -100;
    lim = old;
    lim.rlim_cur = (rlim_t)limit;
    old_handler = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0) {
        signal(SIGXFSZ, old_handler);
        return -100;
    }
    rc = save(w, path);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    return rc;
}

static int save_trainer(world *w, const char *path)
{
    return grugan_trainer_save(w->tr, path);
}

static int save_generator(world *w, const char *path)
{
    return grugan_generator_save(w->gen, path);
}

static int save_samples(world *w, const char *path)
{
    return grugan_generator_sample_to_file(w->gen, 3, 40, T, NULL, path, GRUGAN_FILE_CSV);
}

static int save_sequences(world *w, const char *path)
{
    float x[40 * T * F];
    (void)w;
    for (size_t i = 0; i < 40 * T * F; i++) x[i] = 1.0f / (float)(i + 3);
    return grugan_write_sequences(path, GRUGAN_FILE_NPY, x, 40, T, F, NULL);
}

START_TEST(a_save_cut_short_keeps_the_previous_file)
{
    static const save_fn saves[4] = {save_trainer, save_generator, save_samples, save_sequences};
    static const char *const names[4] = {"train.safetensors", "gen.safetensors", "samples.csv",
                                         "x.npy"};
    world w;
    char dir[256], path[512];
    make_dir(dir, sizeof dir);
    world_make(&w);
    for (size_t k = 0; k < 4; k++) {
        unsigned char *old;
        size_t n_old, count;
        float *state;
        int rc;
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        steps(&w, 1);
        ck_assert_int_eq(saves[k](&w, path), GRUGAN_OK);
        state = snapshot(&w, &count);
        old = slurp(path, &n_old);
        steps(&w, 1); /* what a new save would write differs */
        /* cut after half the file, after one byte, before the first byte */
        for (size_t cut = 0; cut < 3; cut++) {
            const size_t limit = cut == 0 ? n_old / 2 : cut == 1 ? 1 : 0;
            rc = limited_save(saves[k], &w, path, limit);
            ck_assert_msg(rc != -100, "cannot set a file size limit");
            ck_assert_msg(rc == GRUGAN_E_IO, "%s cut at %zu bytes: status %d", names[k], limit, rc);
            assert_file_is(path, old, n_old);
            ck_assert_int_eq(temporaries(dir), 0);
        }
        if (k == 0) {
            ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "untouched"));
            assert_loads_as(path, state, count);
        }
        if (k == 1 || k == 2) ck_assert(grugan_generator_message(w.gen)[0] != '\0');
        /* without the limit the same save goes through */
        ck_assert_int_eq(saves[k](&w, path), GRUGAN_OK);
        free(old);
        free(state);
    }
    gan_world_free(&w);
    remove_tree(dir);
}
END_TEST

/* A writer killed mid-write leaves a partial temporary file beside the
 * target, never a partial target: the target still loads, and the next save
 * is not disturbed by the leftover. */
START_TEST(leftovers_of_a_killed_writer_do_not_matter)
{
    world w;
    char dir[256], path[512], stale[600];
    unsigned char *old;
    size_t n_old, count, count2;
    float *state, *state2;
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/train.safetensors", dir);
    world_make(&w);
    steps(&w, 2);
    ck_assert_int_eq(grugan_trainer_save(w.tr, path), GRUGAN_OK);
    state = snapshot(&w, &count);
    old = slurp(path, &n_old);
    /* what a save killed half way leaves: a partial temporary file */
    snprintf(stale, sizeof stale, "%s.tmp-%ld-0-0", path, (long)getpid());
    spit(stale, old, n_old / 2);
    assert_loads_as(path, state, count);
    steps(&w, 2);
    ck_assert_int_eq(grugan_trainer_save(w.tr, path), GRUGAN_OK);
    state2 = snapshot(&w, &count2);
    assert_loads_as(path, state2, count2);
    /* the stale file is the caller's to remove; the library wrote no other */
    ck_assert_int_eq(temporaries(dir), 1);
    free(old);
    free(state);
    free(state2);
    gan_world_free(&w);
    remove_tree(dir);
}
END_TEST

/* A truncated checkpoint at the path itself (copied by a tool that is not
 * atomic, or a disk that lost its tail) is refused with GRUGAN_E_FORMAT and
 * changes nothing. */
START_TEST(a_truncated_checkpoint_is_refused_and_changes_nothing)
{
    world w;
    char dir[256], path[512], gpath[512];
    unsigned char *full, *gfull;
    size_t n_full, n_gfull, count, count2;
    float *state, *after;
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/train.safetensors", dir);
    snprintf(gpath, sizeof gpath, "%s/gen.safetensors", dir);
    world_make(&w);
    steps(&w, 2);
    ck_assert_int_eq(grugan_trainer_save(w.tr, path), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_save(w.gen, gpath), GRUGAN_OK);
    full = slurp(path, &n_full);
    gfull = slurp(gpath, &n_gfull);
    steps(&w, 1);
    state = snapshot(&w, &count);
    {
        const size_t cuts[7] = {0, 1, 7, 8, 9, n_full / 2, n_full - 1};
        for (size_t i = 0; i < 7; i++) {
            grugan_generator *g = (grugan_generator *)&w;
            grugan_error err;
            const size_t gcut = cuts[i] < n_gfull ? cuts[i] : n_gfull - 1;
            spit(path, full, cuts[i]);
            spit(gpath, gfull, gcut);
            ck_assert_msg(grugan_trainer_load(w.tr, path) == GRUGAN_E_FORMAT,
                          "cut at %zu: %s", cuts[i], grugan_trainer_message(w.tr));
            ck_assert_ptr_nonnull(strstr(grugan_trainer_message(w.tr), "checkpoint"));
            ck_assert_int_eq(grugan_trainer_load_buffer(w.tr, full, cuts[i]), GRUGAN_E_FORMAT);
            ck_assert_int_eq(grugan_generator_load(NULL, gpath, &g, &err), GRUGAN_E_FORMAT);
            ck_assert_ptr_null(g);
            ck_assert(err.message[0] != '\0');
        }
    }
    after = snapshot(&w, &count2);
    ck_assert_int_eq(memcmp(state, after, count * sizeof *state), 0);
    steps(&w, 1);
    free(full);
    free(gfull);
    free(state);
    free(after);
    gan_world_free(&w);
    remove_tree(dir);
}
END_TEST

Suite *suite_io_failures(void)
{
    Suite *s = suite_create("io_failures");
    TCase *tc = tcase_create("io_failures");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, saving_to_a_full_device_fails_and_leaves_the_device);
    tcase_add_test(tc, saving_into_a_missing_directory_fails);
    tcase_add_test(tc, saving_into_a_read_only_directory_keeps_the_previous_file);
    tcase_add_test(tc, a_buffer_too_small_is_refused_and_left_untouched);
    tcase_add_test(tc, a_save_cut_short_keeps_the_previous_file);
    tcase_add_test(tc, leftovers_of_a_killed_writer_do_not_matter);
    tcase_add_test(tc, a_truncated_checkpoint_is_refused_and_changes_nothing);
    suite_add_tcase(s, tc);
    return s;
}
