/*
 * make_seeds.c - writes the seed corpora of the fuzz targets:
 *   make_seeds DIR   writes DIR/checkpoint, DIR/csv, DIR/npy, DIR/roundtrip
 * (the directories must exist). Valid checkpoints and exports are made by the
 * library itself from the fixed setup of fuzz_common.c; CSV and NPY seeds
 * cover the accepted syntax; roundtrip seeds are bytes from a fixed LCG.
 * `make fuzz-seeds` runs it on fuzz/corpus.
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

/* LLVMFuzzerTestOneInput is not used here, but fuzz_common.h declares it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}

static void put(const char *target, const char *name, const void *data, size_t size)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
}

/* ---- checkpoints ------------------------------------------------------------ */

static void put_trainer(fuzz_world *w, const char *name)
{
    size_t n = 0;
    void *buf;
    grugan_trainer_save_buffer(w->tr, NULL, 0, &n);
    buf = malloc(n);
    if (!buf || grugan_trainer_save_buffer(w->tr, buf, n, &n) != GRUGAN_OK) fuzz_fail("save");
    put("checkpoint", name, buf, n);
    free(buf);
}

static void put_generator(grugan_generator *g, const char *name)
{
    size_t n = 0;
    void *buf;
    grugan_generator_save_buffer(g, NULL, 0, &n);
    buf = malloc(n);
    if (!buf || grugan_generator_save_buffer(g, buf, n, &n) != GRUGAN_OK) fuzz_fail("export");
    put("checkpoint", name, buf, n);
    free(buf);
}

/* A container of one header text and `data` zero bytes. */
static void put_container(const char *name, const char *header, size_t data)
{
    unsigned char buf[256];
    const size_t h = strlen(header);
    memset(buf, 0, sizeof buf);
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)h >> (8 * b));
    memcpy(buf + 8, header, h);
    put("checkpoint", name, buf, 8 + h + data);
}

static void checkpoints(void)
{
    fuzz_world w;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *rich = NULL;
    fuzz_world_make(NULL, &w);
    put_trainer(&w, "trainer_step0.safetensors");
    put_generator(w.gen, "generator_scaled.safetensors");
    for (int i = 0; i < 2; i++)
        if (grugan_trainer_step(w.tr) != GRUGAN_OK) fuzz_fail("step");
    put_trainer(&w, "trainer_step2.safetensors");
    fuzz_world_free(&w);

    gc.noise_size = 1;
    gc.output_size = 1;
    gc.hidden_size = 2;
    gc.num_layers = 2;
    gc.condition_size = 1;
    gc.covariate_size = 1;
    gc.noise_kind = GRUGAN_NOISE_UNIFORM;
    gc.output_activation = GRUGAN_ACT_TANH;
    gc.convention = GRUGAN_GRU_RESET_BEFORE;
    gc.seed = 9;
    if (grugan_generator_create(NULL, &gc, &rich, NULL) != GRUGAN_OK) fuzz_fail("generator");
    put_generator(rich, "generator_conditional.safetensors");
    grugan_generator_free(rich);

    put("checkpoint", "empty", "", 0);
    put_container("header_length_0", "", 0);
    put_container("empty_object", "{}      ", 0);
    put_container("one_tensor",
                  "{\"__metadata__\":{\"format\":\"libgrugan-generator\"},"
                  "\"t\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]}}",
                  8);
}

/* ---- CSV: two configuration bytes (see fuzz_csv.c), then the text ------------ */

static void put_csv(const char *name, unsigned char config0, unsigned char config1,
                    const char *text)
{
    size_t n = strlen(text);
    unsigned char *buf = malloc(n + 2);
    if (!buf) fuzz_fail("out of memory");
    buf[0] = config0;
    buf[1] = config1;
    memcpy(buf + 2, text, n);
    put("csv", name, buf, n + 2);
    free(buf);
}

static void csvs(void)
{
    /* byte 0: header | delimiter << 2 | scaling << 5 | columns << 7;
     * byte 1: (T - 1) | (stride - 1) << 3 | seed << 5 */
    put_csv("header_auto.csv", 0x00, 0x01, "a,b\n1,2\n3,4\n5,6\n");
    put_csv("no_header_sym.csv", 0x02 | 1 << 5, 0x02, "1.5,-2\n3e2,4.25\n-5,.5\n7.,1E-3\n");
    put_csv("semicolon_crlf_quoted.csv", 0x01 | 1 << 2, 0x01,
            "\"x\";\"y\"\r\n\"1\";2\r\n 3 ;\t4\r\n\"5\";\"6\"\r\n");
    put_csv("tab_no_scaling.csv", 0x03 | 2 << 2 | 2 << 5, 0x00, "1\t2\t3\n4\t5\t6\n");
    put_csv("bom_pipe.csv", 0x00 | 4 << 2, 0x09, "\xef\xbb\xbfp|q\n1|2\n3|4\n5|6\n7|8\n");
    put_csv("columns_dates.csv", 0x80, 0x01,
            "date,open,high\n2020-01-02,1.5,2.25\n2020-01-03,1.75,2.5\n2020-01-06,2,2.75\n");
    put_csv("space_delimiter.csv", 0x02 | 3 << 2, 0x00, "1 2\n3 4\n");
    put_csv("trailing_blank_lines.csv", 0x00, 0x00, "v\n1\n2\n\n\n");
    put_csv("extremes.csv", 0x02, 0x00, "3.4028234e38,-3.4028234e38\n1e-45,-0\n");
    put_csv("nonfinite.csv", 0x02, 0x00, "1,nan\n2,inf\n");
    put_csv("colon_long.csv", 0x00 | 5 << 2 | 1 << 5, 0x1b,
            "t:a\n0:0.1\n1:0.2\n2:0.3\n3:0.4\n4:0.5\n5:0.6\n6:0.7\n7:0.8\n8:0.9\n9:1.0\n");
}

/* ---- NPY ---------------------------------------------------------------------- */

/* An NPY file of version major.0 with the given header dict and data. */
static void put_npy(const char *name, int major, const char *dict, const void *data, size_t size)
{
    const size_t preamble = major == 1 ? 10 : 12;
    size_t dl = strlen(dict), hl = dl + 1, total;
    unsigned char *buf;
    while ((preamble + hl) % 64) hl++;
    total = preamble + hl + size;
    buf = malloc(total);
    if (!buf) fuzz_fail("out of memory");
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t b = 0; b < preamble - 8; b++) buf[8 + b] = (unsigned char)(hl >> (8 * b));
    memcpy(buf + preamble, dict, dl);
    memset(buf + preamble + dl, ' ', hl - dl - 1);
    buf[preamble + hl - 1] = '\n';
    memcpy(buf + preamble + hl, data, size);
    put("npy", name, buf, total);
    free(buf);
}

static void npys(void)
{
    float f4[24];
    double f8[12];
    for (int i = 0; i < 24; i++) f4[i] = (float)(i % 7) * 0.5f - 1.0f;
    for (int i = 0; i < 12; i++) f8[i] = (double)i * 1.25 - 3.0;
    put_npy("series_f4.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 4), }",
            f4, sizeof f4);
    put_npy("sequences_f4.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }",
            f4, sizeof f4);
    put_npy("series_f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), }",
            f8, sizeof f8);
    put_npy("sequences_f8_v2.npy", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2, 2), }",
            f8, sizeof f8);
    put_npy("keys_reordered_v3.npy", 3, "{\"shape\": (12L, 2L), 'fortran_order': False, 'descr': '<f4'}",
            f4, sizeof f4);
    put_npy("one_dim.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (24,), }", f4,
            sizeof f4);
    put_npy("big_endian.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (6, 4), }", f4,
            sizeof f4);
    put_npy("fortran.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (6, 4), }", f4,
            sizeof f4);
    put_npy("truncated.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 4), }", f4,
            sizeof f4);
}

/* ---- roundtrip ------------------------------------------------------------------ */

static void roundtrips(void)
{
    static const size_t sizes[] = {14, 15, 40, 120, 400, 900};
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char buf[900];
        char name[32];
        for (size_t k = 0; k < sizes[i]; k++) {
            s = s * 1103515245u + 12345u;
            buf[k] = (unsigned char)(s >> 16);
        }
        buf[5] = (unsigned char)(buf[5] | (i & 1) << 5); /* every other one with a scaler */
        snprintf(name, sizeof name, "lcg_%zu", sizes[i]);
        put("roundtrip", name, buf, sizes[i]);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    checkpoints();
    csvs();
    npys();
    roundtrips();
    return 0;
}
