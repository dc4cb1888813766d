/* test_export.c - configurations, scalers and the generator-only export. */
#include "suites.h"

#include "grugan.h"
#include "io/json.h"
#include "io/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static grugan_generator *new_generator(int convention)
{
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *g = NULL;
    c.noise_size = 3;
    c.output_size = 2;
    c.hidden_size = 6;
    c.num_layers = 2;
    c.convention = convention;
    c.seed = 5;
    ck_assert_int_eq(grugan_generator_create(NULL, &c, &g, NULL), GRUGAN_OK);
    return g;
}

START_TEST(configs_come_back_with_defaults_resolved)
{
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT, got = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dc = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_discriminator_config dgot = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_generator *g = NULL;
    grugan_discriminator *d = NULL;
    c.noise_size = 4;
    c.output_size = 3;
    ck_assert_int_eq(grugan_generator_create(NULL, &c, &g, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_get_config(g, &got), GRUGAN_OK);
    ck_assert_uint_eq(got.hidden_size, 24);
    ck_assert_uint_eq(got.num_layers, 3);
    ck_assert_int_eq(got.output_activation, GRUGAN_ACT_SIGMOID);
    ck_assert_uint_eq(got.noise_size, 4);
    got.struct_size = 3; /* too small to be a config */
    ck_assert_int_eq(grugan_generator_get_config(g, &got), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_get_config(NULL, &got), GRUGAN_E_INVALID);
    dc.kind = GRUGAN_DISC_CONV1D;
    dc.input_size = 3;
    dc.sequence_length = 16;
    ck_assert_int_eq(grugan_discriminator_create(NULL, &dc, &d, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_discriminator_get_config(d, &dgot), GRUGAN_OK);
    ck_assert_uint_eq(dgot.channels, 32);
    ck_assert_uint_eq(dgot.kernel_size, 5);
    ck_assert_uint_eq(dgot.padding, 2);
    ck_assert_float_eq(dgot.leaky_slope, 0.2f);
    ck_assert_uint_eq(dgot.hidden_size, 0); /* fields of the other kind stay 0 */
    grugan_discriminator_free(d);
    grugan_generator_free(g);
}
END_TEST

START_TEST(scaler_round_trips_and_refuses_bad_values)
{
    grugan_generator *g = new_generator(0);
    const float off[2] = {1.0f, -2.0f}, sc[2] = {0.5f, 4.0f}, zero[2] = {1.0f, 0.0f};
    float v[4] = {0.0f, 0.5f, 1.0f, 1.0f}, o[2], s[2];
    ck_assert_int_eq(grugan_generator_unscale(g, v, 4), GRUGAN_E_STATE);
    ck_assert_int_eq(grugan_generator_get_scaler(g, o, s), GRUGAN_E_STATE);
    ck_assert_int_eq(grugan_generator_set_scaler(g, off, zero), GRUGAN_E_RANGE);
    ck_assert_int_eq(grugan_generator_set_scaler(g, off, NULL), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_generator_set_scaler(g, off, sc), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_get_scaler(g, o, s), GRUGAN_OK);
    ck_assert_mem_eq(o, off, sizeof o);
    ck_assert_mem_eq(s, sc, sizeof s);
    ck_assert_int_eq(grugan_generator_unscale(g, v, 3), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_generator_unscale(g, v, 4), GRUGAN_OK);
    /* x = x_scaled / scale + offset */
    ck_assert_float_eq_tol(v[0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(v[1], -2.0f + 0.125f, 1e-6f);
    ck_assert_float_eq_tol(v[2], 3.0f, 1e-6f);
    ck_assert_float_eq_tol(v[3], -1.75f, 1e-6f);
    ck_assert_int_eq(grugan_generator_set_scaler(g, NULL, NULL), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_get_scaler(g, o, s), GRUGAN_E_STATE);
    grugan_generator_free(g);
}
END_TEST

/* Same parameters, configuration and samples. */
static void assert_same_generator(grugan_generator *a, grugan_generator *b)
{
    grugan_params *pa = grugan_generator_params(a), *pb = grugan_generator_params(b);
    size_t n = grugan_params_num_scalars(pa);
    float *va = malloc(n * sizeof *va), *vb = malloc(n * sizeof *vb);
    float sa[2 * 5 * 2], sb[2 * 5 * 2];
    ck_assert_uint_eq(n, grugan_params_num_scalars(pb));
    grugan_params_read_all(pa, va, n);
    grugan_params_read_all(pb, vb, n);
    ck_assert_mem_eq(va, vb, n * sizeof *va);
    ck_assert_int_eq(grugan_generator_sample(a, 9, 2, 5, NULL, NULL, sa), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_sample(b, 9, 2, 5, NULL, NULL, sb), GRUGAN_OK);
    ck_assert_mem_eq(sa, sb, sizeof sa);
    free(va);
    free(vb);
}

START_TEST(generator_export_round_trips_through_memory_and_files)
{
    grugan_generator *g = new_generator(GRUGAN_GRU_RESET_BEFORE), *back = NULL;
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT;
    const float off[2] = {0.5f, 10.0f}, sc[2] = {2.0f, 0.1f};
    float o[2], s[2];
    size_t size = 0;
    void *buf;
    char path[] = "/tmp/grugan-export-XXXXXX";
    int fd;
    grugan_error err;

    ck_assert_int_eq(grugan_generator_set_scaler(g, off, sc), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_save_buffer(g, NULL, 0, &size), GRUGAN_OK);
    buf = malloc(size);
    ck_assert_int_eq(grugan_generator_save_buffer(g, buf, size - 1, &size), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_generator_save_buffer(g, buf, size, &size), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_load_buffer(NULL, buf, size, &back, &err), GRUGAN_OK);
    assert_same_generator(g, back);
    ck_assert_int_eq(grugan_generator_get_config(back, &c), GRUGAN_OK);
    ck_assert_int_eq(c.convention, GRUGAN_GRU_RESET_BEFORE);
    ck_assert_uint_eq(c.hidden_size, 6);
    ck_assert_int_eq(grugan_generator_get_scaler(back, o, s), GRUGAN_OK);
    ck_assert_mem_eq(o, off, sizeof o);
    ck_assert_mem_eq(s, sc, sizeof s);
    grugan_generator_free(back);
    back = NULL;

    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(grugan_generator_save(g, path), GRUGAN_OK);
    ck_assert_int_eq(grugan_generator_load(NULL, path, &back, &err), GRUGAN_OK);
    assert_same_generator(g, back);
    grugan_generator_free(back);
    unlink(path);
    ck_assert_int_eq(grugan_generator_load(NULL, path, &back, &err), GRUGAN_E_IO);
    ck_assert_ptr_null(back);
    ck_assert_int_eq(grugan_generator_save(g, "/no-such-dir/g.safetensors"), GRUGAN_E_IO);
    ck_assert_int_gt((int)strlen(grugan_generator_message(g)), 0);
    free(buf);
    grugan_generator_free(g);
}
END_TEST

/* Re-encodes an export with one change made by `edit`. */
typedef void (*edit_fn)(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm);

static void *edited_export(grugan_generator *g, edit_fn edit, size_t *size)
{
    size_t n = 0;
    void *buf;
    grugan__st_file f;
    grugan__st_tensor t[32];
    grugan__st_meta m[32];
    float *data[32];
    size_t nt = 0, nm = 0;
    char msg[200];
    grugan__json_out out;
    const grugan_context *ctx = grugan__default_context();
    grugan_generator_save_buffer(g, NULL, 0, &n);
    buf = malloc(n);
    grugan_generator_save_buffer(g, buf, n, &n);
    ck_assert_int_eq(grugan__st_decode(ctx, buf, n, &f, msg, sizeof msg), GRUGAN_OK);
    for (size_t i = 0; i < f.n_entries; i++) {
        data[nt] = malloc(f.entries[i].count * sizeof(float) + 4);
        grugan__st_copy(&f.entries[i], data[nt]);
        t[nt] = (grugan__st_tensor){f.entries[i].name, f.entries[i].ndim, f.entries[i].shape,
                                    data[nt]};
        nt++;
    }
    for (size_t i = 0; i < f.metadata->length; i++)
        m[nm++] = (grugan__st_meta){f.metadata->items[i].key, f.metadata->items[i].string};
    edit(t, &nt, m, &nm);
    grugan__json_out_init(&out, ctx);
    ck_assert_int_eq(grugan__st_encode(t, nt, m, nm, &out), GRUGAN_OK);
    *size = out.size;
    free(buf);
    buf = malloc(out.size);
    memcpy(buf, out.data, out.size);
    grugan__json_out_release(&out);
    for (size_t i = 0; i < 32 && i < f.n_entries; i++) free(data[i]);
    grugan__st_release(&f);
    return buf;
}

static void set_meta(grugan__st_meta *m, size_t nm, const char *key, const char *value)
{
    for (size_t i = 0; i < nm; i++)
        if (strcmp(m[i].key, key) == 0) m[i].value = value;
}

static void edit_format(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)t, (void)nt;
    set_meta(m, *nm, "format", "something-else");
}
static void edit_version(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)t, (void)nt;
    set_meta(m, *nm, "format_version", "99");
}
static void edit_hidden_zero(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)t, (void)nt;
    set_meta(m, *nm, "generator.hidden_size", "0");
}
static void edit_layers_huge(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)t, (void)nt;
    set_meta(m, *nm, "generator.num_layers", "1000000000");
}
static void edit_negative(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)t, (void)nt;
    set_meta(m, *nm, "generator.noise_size", "-3");
}
static void edit_missing_meta(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)t, (void)nt;
    m[*nm - 1] = m[*nm - 1];
    for (size_t i = 0; i < *nm; i++)
        if (strcmp(m[i].key, "generator.output_size") == 0) m[i] = m[--*nm];
}
static void edit_missing_tensor(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)m, (void)nm;
    t[0] = t[--*nt];
}
static void edit_extra_tensor(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)m, (void)nm;
    t[*nt] = t[0];
    t[*nt].name = "generator.extra";
    (*nt)++;
}
static void edit_shape(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    static const size_t wrong[1] = {1};
    (void)m, (void)nm;
    for (size_t i = 0; i < *nt; i++)
        if (strcmp(t[i].name, "generator.head.bias") == 0) t[i].shape = wrong;
}
static void edit_nan(grugan__st_tensor *t, size_t *nt, grugan__st_meta *m, size_t *nm)
{
    (void)m, (void)nm;
    for (size_t i = 0; i < *nt; i++)
        if (strcmp(t[i].name, "generator.head.bias") == 0) ((float *)t[i].data)[0] = NAN;
}

START_TEST(malformed_exports_are_refused)
{
    static const struct {
        const char *name;
        edit_fn edit;
        int code;
    } cases[] = {
        {"other format", edit_format, GRUGAN_E_FORMAT},
        {"version from the future", edit_version, GRUGAN_E_FORMAT},
        {"hidden size 0", edit_hidden_zero, GRUGAN_E_FORMAT},
        {"layers 10^9", edit_layers_huge, GRUGAN_E_FORMAT},
        {"negative size", edit_negative, GRUGAN_E_FORMAT},
        {"metadata missing", edit_missing_meta, GRUGAN_E_FORMAT},
        {"tensor missing", edit_missing_tensor, GRUGAN_E_FORMAT},
        {"unexpected tensor", edit_extra_tensor, GRUGAN_E_FORMAT},
        {"wrong shape", edit_shape, GRUGAN_E_FORMAT},
        {"NaN weight", edit_nan, GRUGAN_E_NONFINITE},
    };
    grugan_generator *g = new_generator(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size;
        void *buf = edited_export(g, cases[i].edit, &size);
        grugan_generator *back = (grugan_generator *)buf;
        grugan_error err;
        int rc = grugan_generator_load_buffer(NULL, buf, size, &back, &err);
        ck_assert_msg(rc == cases[i].code, "case '%s' gave %d (%s)", cases[i].name, rc,
                      err.message);
        ck_assert_ptr_null(back);
        ck_assert_int_gt((int)strlen(err.message), 0);
        free(buf);
    }
    grugan_generator_free(g);
}
END_TEST

START_TEST(sequences_are_written_as_csv_and_npy)
{
    char dir[] = "/tmp/grugan-write-XXXXXX", csv[256], npy[256], line[256];
    const float x[2 * 3 * 2] = {0.1f, 1e-8f, -3.5f, 7, 8, 9, 1, 2, 3, 4, 5, 123456.789f};
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_dataset *ds = NULL;
    grugan_generator *g = new_generator(0);
    grugan_error err;
    FILE *f;
    size_t n, T, F, rows = 0;
    float y[30 * 2];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(csv, sizeof csv, "%s/x.csv", dir);
    snprintf(npy, sizeof npy, "%s/x.npy", dir);
    ck_assert_int_eq(grugan_write_sequences(csv, GRUGAN_FILE_CSV, x, 2, 3, 2, &err), GRUGAN_OK);
    ck_assert_int_eq(grugan_write_sequences(npy, GRUGAN_FILE_NPY, x, 2, 3, 2, &err), GRUGAN_OK);
    f = fopen(csv, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "sequence,step,f0,f1\n");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "0,0,0.100000001,9.99999994e-09\n");
    while (fgets(line, sizeof line, f)) rows++;
    fclose(f);
    ck_assert_uint_eq(rows, 5);
    /* the NPY reads back exactly through the dataset reader */
    dc.scaling = GRUGAN_SCALE_NONE;
    ck_assert_msg(grugan_dataset_from_npy(NULL, &dc, npy, &ds, &err) == GRUGAN_OK, "%s",
                  err.message);
    grugan_dataset_shape(ds, &n, &T, &F, NULL);
    ck_assert(n == 2 && T == 3 && F == 2);
    grugan_dataset_get(ds, 1, y, NULL, NULL);
    ck_assert_mem_eq(y, x + 6, 6 * sizeof *y);
    grugan_dataset_free(ds);
    /* bad arguments */
    ck_assert_int_eq(grugan_write_sequences(csv, 7, x, 2, 3, 2, &err), GRUGAN_E_INVALID);
    ck_assert_int_eq(grugan_write_sequences(csv, GRUGAN_FILE_CSV, x, 0, 3, 2, &err), GRUGAN_E_SIZE);
    ck_assert_int_eq(grugan_write_sequences("/no-such-dir/x.csv", GRUGAN_FILE_CSV, x, 2, 3, 2,
                                            &err),
                     GRUGAN_E_IO);
    /* generated samples in data units */
    {
        const float off[2] = {10, 20}, sc[2] = {1, 1};
        grugan_generator_set_scaler(g, off, sc);
        ck_assert_int_eq(grugan_generator_sample_to_file(g, 3, 4, 30, NULL, npy, GRUGAN_FILE_NPY),
                         GRUGAN_OK);
        ck_assert_int_eq(grugan_dataset_from_npy(NULL, &dc, npy, &ds, &err), GRUGAN_OK);
        grugan_dataset_shape(ds, &n, &T, &F, NULL);
        ck_assert(n == 4 && T == 30 && F == 2);
        grugan_dataset_get(ds, 0, y, NULL, NULL);
        ck_assert(y[0] > 10 && y[0] < 11 && y[1] > 20 && y[1] < 21); /* sigmoid + offset */
        grugan_dataset_free(ds);
        ck_assert_int_eq(grugan_generator_sample_to_file(g, 3, 4, 30, NULL, csv, 9),
                         GRUGAN_E_INVALID);
        ck_assert_int_gt((int)strlen(grugan_generator_message(g)), 0);
    }
    unlink(csv);
    unlink(npy);
    rmdir(dir);
    grugan_generator_free(g);
}
END_TEST

Suite *suite_export(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("export");
    tcase_add_test(tc, configs_come_back_with_defaults_resolved);
    tcase_add_test(tc, scaler_round_trips_and_refuses_bad_values);
    tcase_add_test(tc, generator_export_round_trips_through_memory_and_files);
    tcase_add_test(tc, malformed_exports_are_refused);
    tcase_add_test(tc, sequences_are_written_as_csv_and_npy);
    suite_add_tcase(s, tc);
    return s;
}
