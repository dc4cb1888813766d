/*
 * fuzz_roundtrip.c - generator exports must round-trip bit for bit.
 *
 * The bytes describe a tiny generator and its weights:
 *   byte 0  noise size Z - 1 (mod 5)       byte 1  output size F - 1 (mod 4)
 *   byte 2  hidden size H - 1 (mod 7)      byte 3  layers L - 1 (mod 3)
 *   byte 4  condition size C (mod 3), covariate size V (bits 2.., mod 3)
 *   byte 5  bit 0 noise kind, bits 1-3 output activation (mod 5, 0 is the
 *           default), bit 4 convention, bit 5 attach a scaler, bits 6-7
 *           sample steps - 1
 *   bytes 6-13  the seed (little-endian)
 *   the rest    the weights, then the scaler, as float32 bits taken in turn
 *               (cycling; non-finite patterns lose their top exponent bit)
 * The generator is saved with grugan_generator_save_buffer and loaded with
 * grugan_generator_load_buffer; configuration, parameters, scaler, samples
 * and a second save must be the same bits, and the export cut short by one
 * byte must be refused. Any difference aborts.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

enum { HEAD = 14, MAX_F = 4, MAX_C = 2, MAX_V = 2, MAX_STEPS = 4, SAMPLES = 3 };

/* The next finite float from the weight bytes. */
static float next_float(const uint8_t *bytes, size_t n, size_t *pos)
{
    uint32_t bits = 0;
    float v;
    for (int b = 0; b < 4; b++) {
        bits |= (uint32_t)bytes[*pos % n] << (8 * b);
        (*pos)++;
    }
    if ((bits & 0x7f800000u) == 0x7f800000u) bits &= ~0x40000000u;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void same_config(const grugan_generator *a, const grugan_generator *b)
{
    grugan_generator_config x = GRUGAN_GENERATOR_CONFIG_INIT, y = GRUGAN_GENERATOR_CONFIG_INIT;
    if (grugan_generator_get_config(a, &x) != GRUGAN_OK ||
        grugan_generator_get_config(b, &y) != GRUGAN_OK)
        fuzz_fail("roundtrip: get_config");
    if (x.noise_size != y.noise_size || x.output_size != y.output_size ||
        x.hidden_size != y.hidden_size || x.num_layers != y.num_layers ||
        x.condition_size != y.condition_size || x.covariate_size != y.covariate_size ||
        x.noise_kind != y.noise_kind || x.output_activation != y.output_activation ||
        x.convention != y.convention || x.seed != y.seed)
        fuzz_fail("roundtrip: the configuration changed");
}

static void same_params(grugan_generator *a, grugan_generator *b)
{
    grugan_params *pa = grugan_generator_params(a), *pb = grugan_generator_params(b);
    const size_t n = grugan_params_num_scalars(pa);
    float *va, *vb;
    if (n != grugan_params_num_scalars(pb) || grugan_params_count(pa) != grugan_params_count(pb))
        fuzz_fail("roundtrip: the parameter layout changed");
    for (size_t i = 0; i < grugan_params_count(pa); i++) {
        const char *na, *nb;
        size_t da, db, sa[GRUGAN_MAX_DIMS], sb[GRUGAN_MAX_DIMS];
        grugan_params_info(pa, i, &na, &da, sa);
        grugan_params_info(pb, i, &nb, &db, sb);
        if (strcmp(na, nb) != 0 || da != db || memcmp(sa, sb, da * sizeof sa[0]) != 0)
            fuzz_fail("roundtrip: a tensor's name or shape changed");
    }
    va = malloc(n * sizeof *va);
    vb = malloc(n * sizeof *vb);
    if (!va || !vb) fuzz_fail("out of memory");
    grugan_params_read_all(pa, va, n);
    grugan_params_read_all(pb, vb, n);
    if (memcmp(va, vb, n * sizeof *va) != 0) fuzz_fail("roundtrip: the parameters changed");
    free(va);
    free(vb);
}

static void same_scaler(const grugan_generator *a, const grugan_generator *b)
{
    float oa[MAX_F], sa[MAX_F], ob[MAX_F], sb[MAX_F];
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT;
    const int ra = grugan_generator_get_scaler(a, oa, sa);
    const int rb = grugan_generator_get_scaler(b, ob, sb);
    grugan_generator_get_config(a, &c);
    if (ra != rb) fuzz_fail("roundtrip: the scaler was lost or appeared");
    if (ra == GRUGAN_OK && (memcmp(oa, ob, c.output_size * sizeof *oa) != 0 ||
                            memcmp(sa, sb, c.output_size * sizeof *sa) != 0))
        fuzz_fail("roundtrip: the scaler changed");
}

static void same_samples(grugan_generator *a, grugan_generator *b, size_t steps,
                         const float *cond, const float *cov)
{
    float xa[SAMPLES * MAX_STEPS * MAX_F], xb[SAMPLES * MAX_STEPS * MAX_F];
    int ra, rb;
    memset(xa, 0, sizeof xa);
    memset(xb, 0, sizeof xb);
    ra = grugan_generator_sample(a, 99, SAMPLES, steps, cond, cov, xa);
    rb = grugan_generator_sample(b, 99, SAMPLES, steps, cond, cov, xb);
    if (ra != rb) fuzz_fail("roundtrip: sampling succeeds on one side only");
    if (memcmp(xa, xb, sizeof xa) != 0) fuzz_fail("roundtrip: the samples differ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    grugan_context *ctx = fuzz_context();
    grugan_generator_config c = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *g = NULL, *back = NULL, *cut = NULL;
    const uint8_t *w = data + HEAD;
    const size_t nw = size > HEAD ? size - HEAD : 0;
    float cond[MAX_C], cov[SAMPLES * MAX_STEPS * MAX_V], *values, offset[MAX_F], scale[MAX_F];
    size_t steps, n = 0, n2 = 0, count, pos = 0;
    unsigned char *bytes, *bytes2;
    int want_scaler;
    grugan_error err;

    if (size < HEAD) return 0;
    c.noise_size = 1 + data[0] % 5;
    c.output_size = 1 + data[1] % MAX_F;
    c.hidden_size = 1 + data[2] % 7;
    c.num_layers = 1 + data[3] % 3;
    c.condition_size = data[4] % 3;
    c.covariate_size = (data[4] >> 2) % 3;
    c.noise_kind = data[5] & 1;
    c.output_activation = (data[5] >> 1 & 7) % 5;
    c.convention = data[5] >> 4 & 1;
    want_scaler = data[5] >> 5 & 1;
    steps = 1 + (size_t)(data[5] >> 6);
    for (int b = 0; b < 8; b++) c.seed |= (uint64_t)data[6 + b] << (8 * b);

    fuzz_cap_fixed((size_t)16 << 20, (size_t)64 << 20);
    if (grugan_generator_create(ctx, &c, &g, &err) != GRUGAN_OK) fuzz_fail("roundtrip: create");
    count = grugan_params_num_scalars(grugan_generator_params(g));
    if (nw) {
        values = malloc(count * sizeof *values);
        if (!values) fuzz_fail("out of memory");
        for (size_t k = 0; k < count; k++) values[k] = next_float(w, nw, &pos);
        if (grugan_params_write_all(grugan_generator_params(g), values, count) != GRUGAN_OK)
            fuzz_fail("roundtrip: finite weights refused");
        free(values);
    }
    if (want_scaler) {
        int rc;
        for (size_t f = 0; f < c.output_size; f++) {
            offset[f] = nw ? next_float(w, nw, &pos) : 0.5f;
            scale[f] = nw ? next_float(w, nw, &pos) : 2.0f;
        }
        rc = grugan_generator_set_scaler(g, offset, scale);
        if (rc != GRUGAN_OK && rc != GRUGAN_E_RANGE) fuzz_fail("roundtrip: set_scaler");
    }
    for (size_t k = 0; k < MAX_C; k++) cond[k] = nw ? next_float(w, nw, &pos) : 0.25f;
    for (size_t k = 0; k < SAMPLES * MAX_STEPS * MAX_V; k++)
        cov[k] = nw ? next_float(w, nw, &pos) : 0.5f;

    /* save, load, compare */
    if (grugan_generator_save_buffer(g, NULL, 0, &n) != GRUGAN_OK) fuzz_fail("roundtrip: size");
    bytes = malloc(n);
    if (!bytes) fuzz_fail("out of memory");
    if (grugan_generator_save_buffer(g, bytes, n, &n) != GRUGAN_OK) fuzz_fail("roundtrip: save");
    if (grugan_generator_load_buffer(ctx, bytes, n, &back, &err) != GRUGAN_OK) {
        fuzz_fail(err.message);
    }
    same_config(g, back);
    same_params(g, back);
    same_scaler(g, back);
    same_samples(g, back, steps, c.condition_size ? cond : NULL, c.covariate_size ? cov : NULL);

    /* a second save is the same bytes */
    if (grugan_generator_save_buffer(back, NULL, 0, &n2) != GRUGAN_OK || n2 != n)
        fuzz_fail("roundtrip: the second save has another size");
    bytes2 = malloc(n2);
    if (!bytes2) fuzz_fail("out of memory");
    if (grugan_generator_save_buffer(back, bytes2, n2, &n2) != GRUGAN_OK ||
        memcmp(bytes, bytes2, n) != 0)
        fuzz_fail("roundtrip: the second save differs");

    /* one byte short is refused */
    if (grugan_generator_load_buffer(ctx, bytes, n - 1, &cut, &err) != GRUGAN_E_FORMAT || cut)
        fuzz_fail("roundtrip: a truncated export was not refused");

    free(bytes);
    free(bytes2);
    grugan_generator_free(back);
    grugan_generator_free(g);
    fuzz_cap_end();
    return 0;
}
