/*
 * sample - write synthetic sequences from a saved model: a training
 * checkpoint (train_sines, train_csv) or a generator-only export.
 *
 * Shows: loading a generator from a file, reading its configuration and
 * scaler, streaming generation one step at a time with a caller-held state
 * (so any length works, also far beyond the training length, in memory for
 * a chunk of sequences only), the noise of sample i depending only on (seed, i, step), using
 * noise given in a .npy file instead (to reproduce another implementation's
 * outputs or to explore the latent space), mapping outputs back to data
 * units, and writing CSV or NPY.
 *
 *   sample MODEL [--n N] [--steps T] [--seed X] [--condition V,V,...]
 *                [--noise FILE.npy] [--out PATH] [--format csv|npy] [--scaled]
 *                [--threads K]
 */
#include <grugan.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sequences generated together: up to 64, fewer for long sequences so that
 * a chunk holds at most about a million steps. */
static size_t chunk_size(size_t T)
{
    const size_t c = ((size_t)1 << 20) / T;
    return c < 1 ? 1 : c > 64 ? 64 : c;
}

typedef struct options {
    const char *model, *noise, *out;
    unsigned long n, steps, seed, threads;
    float *condition; /* NULL: none given */
    size_t condition_size;
    int npy, scaled;
} options;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: sample MODEL [options]\n"
        "MODEL is a training checkpoint or a generator-only export.\n"
        "  --n N              sequences to write (default 100)\n"
        "  --steps T          steps per sequence, any length (default 24)\n"
        "  --seed X           noise seed: sample i is the same for the same seed (default 1)\n"
        "  --condition LIST   the condition for every sequence, e.g. 0,1,0.5 (required\n"
        "                     when the model was trained with conditions)\n"
        "  --noise FILE.npy   use this noise, an array (N, T, Z) of float32 or float64,\n"
        "                     instead of drawing it; N and T come from the file\n"
        "  --out PATH         output file, - for standard output (default samples.csv)\n"
        "  --format F         csv or npy (default: npy if PATH ends in .npy, else csv);\n"
        "                     CSV columns: sequence, step, feature0, feature1, ...\n"
        "  --scaled           write the generator's outputs as they are, not in data units\n"
        "  --threads K        threads, 1..256 (default 1)\n");
}

/* A whole non-negative decimal number, nothing else. */
static int parse_count(const char *s, unsigned long *out)
{
    char *end;
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno || *end ? -1 : 0;
}

/* "0,1,0.5" into a new array of finite floats. */
static int parse_floats(const char *s, options *o)
{
    size_t n = 1;
    for (const char *p = s; *p; p++) n += *p == ',';
    free(o->condition);
    o->condition = malloc(n * sizeof *o->condition);
    if (!o->condition) return -1;
    o->condition_size = 0;
    for (const char *p = s;;) {
        char *end;
        double x;
        errno = 0;
        x = strtod(p, &end);
        if (errno || end == p || !isfinite(x) || fabs(x) > 3.4e38 ||
            (*end != ',' && *end != '\0'))
            return -1;
        o->condition[o->condition_size++] = (float)x;
        if (*end == '\0') return 0;
        p = end + 1;
    }
}

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    const char *format = NULL;
    o->n = 100, o->steps = 24, o->seed = 1, o->threads = 1, o->out = "samples.csv";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(o->condition);
            exit(0);
        }
        if (strcmp(a, "--scaled") == 0) {
            o->scaled = 1;
            continue;
        }
        if (a[0] != '-') {
            if (o->model) {
                fprintf(stderr, "sample: more than one model: %s and %s\n", o->model, a);
                return -1;
            }
            o->model = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "sample: %s needs a value\n", a);
            return -1;
        }
        if (strcmp(a, "--n") == 0) bad = parse_count(v, &o->n) || !o->n;
        else if (strcmp(a, "--steps") == 0) bad = parse_count(v, &o->steps) || !o->steps;
        else if (strcmp(a, "--seed") == 0) bad = parse_count(v, &o->seed);
        else if (strcmp(a, "--threads") == 0)
            bad = parse_count(v, &o->threads) || o->threads < 1 || o->threads > 256;
        else if (strcmp(a, "--condition") == 0) bad = parse_floats(v, o);
        else if (strcmp(a, "--noise") == 0) o->noise = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else if (strcmp(a, "--format") == 0) {
            bad = strcmp(v, "csv") != 0 && strcmp(v, "npy") != 0;
            format = v;
        }
        else {
            fprintf(stderr, "sample: unknown option %s\n", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "sample: bad value for %s: %s\n", a, v);
            return -1;
        }
        i++;
    }
    if (!o->model) {
        fprintf(stderr, "sample: no model given\n");
        return -1;
    }
    o->npy = format ? strcmp(format, "npy") == 0 : ends_with(o->out, ".npy");
    if (o->npy && strcmp(o->out, "-") == 0) {
        fprintf(stderr, "sample: NPY goes to a file, not to standard output\n");
        return -1;
    }
    return 0;
}

/* ---- writers ---------------------------------------------------------------------- */

/* NPY version 1.0: magic, header length (little-endian), a Python dict padded
 * with spaces to a multiple of 64 bytes, then the float32 data. */
static int npy_header(FILE *f, size_t n, size_t T, size_t F)
{
    char dict[128];
    int len = snprintf(dict, sizeof dict,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu, %zu), }",
                       n, T, F);
    size_t total;
    if (len < 0 || (size_t)len >= sizeof dict) return -1;
    total = (10 + (size_t)len + 1 + 63) / 64 * 64; /* magic + dict + '\n' */
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc((int)((total - 10) & 0xff), f);
    fputc((int)((total - 10) >> 8), f);
    fputs(dict, f);
    for (size_t i = 10 + (size_t)len; i < total - 1; i++) fputc(' ', f);
    fputc('\n', f);
    return 0;
}

/* `count` floats as little-endian bytes, whatever the machine's order. */
static void npy_floats(FILE *f, const float *x, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        for (int b = 0; b < 4; b++) fputc((int)((u >> (8 * b)) & 0xff), f);
    }
}

static void csv_header(FILE *f, size_t F)
{
    fputs("sequence,step", f);
    for (size_t k = 0; k < F; k++) fprintf(f, ",feature%zu", k);
    fputc('\n', f);
}

/* Rows "sequence,step,values..." for sequences first .. first+cb-1. */
static void csv_rows(FILE *f, const float *y /* (cb, T, F) */, size_t first, size_t cb,
                     size_t T, size_t F)
{
    for (size_t b = 0; b < cb; b++)
        for (size_t t = 0; t < T; t++) {
            fprintf(f, "%zu,%zu", first + b, t);
            for (size_t k = 0; k < F; k++) fprintf(f, ",%.9g", y[(b * T + t) * F + k]);
            fputc('\n', f);
        }
}

/* ---- main ------------------------------------------------------------------------ */

#define CHECK(call, what, msg)                                                             \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != GRUGAN_OK) {                                                            \
            fprintf(stderr, "sample: %s: %s (%s)\n", what, msg, grugan_status_string(rc_)); \
            goto done;                                                                     \
        }                                                                                  \
    } while (0)

int main(int argc, char **argv)
{
    options o;
    grugan_error err = {0, ""};
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_generator *gen = NULL;
    grugan_dataset *noise = NULL; /* the --noise file, read as (N, T, Z) sequences */
    FILE *out = NULL;
    float *z = NULL, *z_t = NULL, *cond = NULL, *state = NULL, *y_t = NULL, *y = NULL;
    size_t n, T, Z, F, C, chunk;
    int status = 1, have_scaler;

    memset(&o, 0, sizeof o);
    if (parse_options(argc, argv, &o) != 0) {
        usage(stderr);
        free(o.condition);
        return 2;
    }
    CHECK(grugan_generator_load(NULL, o.model, &gen, &err), o.model, err.message);
    CHECK(grugan_generator_get_config(gen, &gc), "configuration", grugan_generator_message(gen));
    CHECK(grugan_generator_set(gen, GRUGAN_KEY_THREADS, (double)o.threads), "threads",
          grugan_generator_message(gen));
    Z = gc.noise_size, F = gc.output_size, C = gc.condition_size;
    n = o.n, T = o.steps;
    if (gc.covariate_size) {
        fprintf(stderr, "sample: the model takes per-step covariates, which this tool cannot "
                        "supply\n");
        goto done;
    }
    if (o.condition_size != C) {
        fprintf(stderr, "sample: the model takes a condition of %zu values; --condition gave "
                        "%zu\n", C, o.condition_size);
        goto done;
    }
    if (o.noise) {
        /* The library's NPY reader with scaling off reads the noise as is. */
        grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
        size_t nz;
        dc.scaling = GRUGAN_SCALE_NONE;
        CHECK(grugan_dataset_from_npy(NULL, &dc, o.noise, &noise, &err),
              "--noise needs an array (N, T, Z)", err.message);
        grugan_dataset_shape(noise, &n, &T, &nz, NULL);
        if (nz != Z) {
            fprintf(stderr, "sample: %s has %zu noise values per step; the model takes %zu\n",
                    o.noise, nz, Z);
            goto done;
        }
    }
    if (T > SIZE_MAX / sizeof(float) / (Z + F)) {
        fprintf(stderr, "sample: %zu steps is too many\n", T);
        goto done;
    }
    have_scaler = grugan_generator_get_scaler(gen, NULL, NULL) == GRUGAN_OK;
    if (!have_scaler && !o.scaled)
        fprintf(stderr, "sample: %s holds no scaler: writing the model's scaled outputs\n",
                o.model);

    chunk = chunk_size(T);
    z = malloc(chunk * T * Z * sizeof *z);
    z_t = malloc(chunk * Z * sizeof *z_t);
    cond = C ? malloc(chunk * C * sizeof *cond) : NULL;
    state = malloc(grugan_generator_state_size(gen, chunk) * sizeof *state);
    y_t = malloc(chunk * F * sizeof *y_t);
    y = malloc(chunk * T * F * sizeof *y);
    if (!z || !z_t || (C && !cond) || !state || !y_t || !y) {
        fprintf(stderr, "sample: out of memory for %zu steps\n", T);
        goto done;
    }
    for (size_t b = 0; b < chunk; b++)
        if (C) memcpy(cond + b * C, o.condition, C * sizeof *cond);

    out = strcmp(o.out, "-") == 0 ? stdout : fopen(o.out, o.npy ? "wb" : "w");
    if (!out) {
        fprintf(stderr, "sample: cannot write %s: %s\n", o.out, strerror(errno));
        goto done;
    }
    if (o.npy) {
        if (npy_header(out, n, T, F) != 0) {
            fprintf(stderr, "sample: the shape is too large for an NPY header\n");
            goto done;
        }
    } else {
        csv_header(out, F);
    }

    for (size_t s0 = 0; s0 < n; s0 += chunk) {
        const size_t cb = n - s0 < chunk ? n - s0 : chunk;
        /* z (cb, T, Z): drawn for samples s0 .. s0+cb-1, or read from the file */
        if (noise)
            for (size_t b = 0; b < cb; b++)
                CHECK(grugan_dataset_get(noise, s0 + b, z + b * T * Z, NULL, NULL), o.noise,
                      grugan_dataset_message(noise));
        else
            CHECK(grugan_generator_noise(gen, o.seed, s0, cb, T, z), "noise",
                  grugan_generator_message(gen));
        /* one step at a time: the state (L, cb, H) carries everything */
        memset(state, 0, grugan_generator_state_size(gen, cb) * sizeof *state);
        for (size_t t = 0; t < T; t++) {
            for (size_t b = 0; b < cb; b++)
                memcpy(z_t + b * Z, z + (b * T + t) * Z, Z * sizeof *z_t);
            CHECK(grugan_generator_step(gen, cb, z_t, cond, NULL, state, y_t), "generation",
                  grugan_generator_message(gen));
            for (size_t b = 0; b < cb; b++)
                memcpy(y + (b * T + t) * F, y_t + b * F, F * sizeof *y);
        }
        if (have_scaler && !o.scaled)
            CHECK(grugan_generator_unscale(gen, y, cb * T * F), "unscaling",
                  grugan_generator_message(gen));
        if (o.npy) npy_floats(out, y, cb * T * F);
        else csv_rows(out, y, s0, cb, T, F);
    }
    if (ferror(out) || (out != stdout ? fclose(out) : fflush(out)) != 0) {
        out = NULL;
        fprintf(stderr, "sample: writing %s failed: %s\n", o.out, strerror(errno));
        goto done;
    }
    out = NULL;
    fprintf(stderr, "wrote %zu sequences of %zu steps x %zu features to %s (%s%s)\n", n, T, F,
            o.out, o.npy ? "NPY" : "CSV",
            have_scaler && !o.scaled ? ", data units" : ", scaled units");
    status = 0;
done:
    if (out && out != stdout) {
        fclose(out);
        remove(o.out); /* no partial file */
    }
    grugan_dataset_free(noise);
    grugan_generator_free(gen);
    free(o.condition);
    free(z);
    free(z_t);
    free(cond);
    free(state);
    free(y_t);
    free(y);
    return status;
}
