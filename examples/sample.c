/*
 * sample - write synthetic sequences from a saved model: a training
 * checkpoint (train_sines, train_csv) or a generator-only export.
 *
 * Shows: loading a generator from a file, reading its configuration and
 * scaler, sampling any number of sequences of any length (also far beyond the
 * training length: the library generates step by step), the noise of sample
 * i depending only on (seed, i, step), generating from noise given in a .npy
 * file instead (to reproduce another implementation's outputs or to explore
 * the latent space) with the streaming step and a caller-held state, mapping
 * outputs back to data units, and writing CSV or NPY.
 *
 *   sample MODEL [--n N] [--steps T] [--seed X] [--condition V,V,...]
 *                [--noise FILE.npy] [--out PATH] [--format csv|npy] [--scaled]
 *                [--threads K]
 */
#include <grugan.h>

#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 64 }; /* sequences stepped together from given noise */

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
        "  --out PATH         output file (default samples.csv)\n"
        "  --format F         csv or npy (default: npy if PATH ends in .npy, else csv);\n"
        "                     CSV columns: sequence, step, f0, f1, ...; NPY: float32\n"
        "                     (N, T, F)\n"
        "  --scaled           write the generator's outputs as they are, not in data units\n"
        "  --threads K        threads, 1..256 (default 1)\n"
        "  -h, --help         print this help and exit\n"
        "exit status: 0 done, 1 failed (the message says why), 2 bad options\n"
        "examples:\n"
        "  sample prices.safetensors --n 500 --out synthetic.csv\n"
        "  sample prices-gen.safetensors --n 500 --steps 1000 --seed 2 --out long.npy\n"
        "  sample model.safetensors --noise z.npy --out from_noise.npy\n");
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
        if (strcmp(a, "--n") == 0) bad = cli_count(v, &o->n) || !o->n;
        else if (strcmp(a, "--steps") == 0) bad = cli_count(v, &o->steps) || !o->steps;
        else if (strcmp(a, "--seed") == 0) bad = cli_count(v, &o->seed);
        else if (strcmp(a, "--threads") == 0)
            bad = cli_count(v, &o->threads) || o->threads < 1 || o->threads > 256;
        else if (strcmp(a, "--condition") == 0) bad = cli_floats(v, &o->condition, &o->condition_size);
        else if (strcmp(a, "--noise") == 0) o->noise = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else if (strcmp(a, "--format") == 0) {
            bad = strcmp(v, "csv") != 0 && strcmp(v, "npy") != 0;
            format = v;
        } else {
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
    o->npy = format ? strcmp(format, "npy") == 0 : cli_ends_with(o->out, ".npy");
    return 0;
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

/* Generates from given noise z (n, T, Z) into y (n, T, F), CHUNK sequences
 * at a time, one step at a time: the state (L, CHUNK, H) carries everything
 * between steps. The same numbers as grugan_generator_sample with the same
 * noise. */
static int generate_from_noise(grugan_generator *gen, grugan_dataset *noise, size_t n, size_t T,
                               size_t Z, size_t F, const float *cond, float *y)
{
    float *z = malloc(CHUNK * T * Z * sizeof *z), *z_t = malloc(CHUNK * Z * sizeof *z_t);
    float *state = malloc(grugan_generator_state_size(gen, CHUNK) * sizeof *state);
    float *y_t = malloc(CHUNK * F * sizeof *y_t);
    int rc = z && z_t && state && y_t ? GRUGAN_OK : GRUGAN_E_NOMEM;
    for (size_t s0 = 0; rc == GRUGAN_OK && s0 < n; s0 += CHUNK) {
        const size_t cb = n - s0 < CHUNK ? n - s0 : CHUNK;
        for (size_t b = 0; rc == GRUGAN_OK && b < cb; b++)
            rc = grugan_dataset_get(noise, s0 + b, z + b * T * Z, NULL, NULL); /* (T, Z) */
        memset(state, 0, grugan_generator_state_size(gen, cb) * sizeof *state);
        for (size_t t = 0; rc == GRUGAN_OK && t < T; t++) {
            for (size_t b = 0; b < cb; b++)
                memcpy(z_t + b * Z, z + (b * T + t) * Z, Z * sizeof *z_t);
            rc = grugan_generator_step(gen, cb, z_t, cond, NULL, state, y_t);
            for (size_t b = 0; rc == GRUGAN_OK && b < cb; b++)
                memcpy(y + ((s0 + b) * T + t) * F, y_t + b * F, F * sizeof *y);
        }
    }
    free(z);
    free(z_t);
    free(state);
    free(y_t);
    return rc;
}

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
    float *cond = NULL, *y = NULL;
    size_t n, T, Z, F, C;
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
    if (n > SIZE_MAX / sizeof(float) / F / T) {
        fprintf(stderr, "sample: %zu sequences of %zu steps do not fit in memory\n", n, T);
        goto done;
    }
    y = malloc(n * T * F * sizeof *y); /* (n, T, F) */
    if (C) cond = malloc(CHUNK * C * sizeof *cond);
    if (!y || (C && !cond)) {
        fprintf(stderr, "sample: out of memory for %zu sequences of %zu steps\n", n, T);
        goto done;
    }

    if (noise) {
        for (size_t b = 0; b < CHUNK && C; b++) memcpy(cond + b * C, o.condition, C * sizeof *cond);
        CHECK(generate_from_noise(gen, noise, n, T, Z, F, cond, y), "generation",
              grugan_generator_message(gen));
    } else {
        CHECK(grugan_generator_sample(gen, o.seed, n, T, o.condition, NULL, y), "generation",
              grugan_generator_message(gen));
    }
    have_scaler = grugan_generator_get_scaler(gen, NULL, NULL) == GRUGAN_OK;
    if (have_scaler && !o.scaled)
        CHECK(grugan_generator_unscale(gen, y, n * T * F), "unscaling",
              grugan_generator_message(gen));
    else if (!have_scaler && !o.scaled)
        fprintf(stderr, "sample: %s holds no scaler: writing the model's scaled outputs\n",
                o.model);
    CHECK(grugan_write_sequences(o.out, o.npy ? GRUGAN_FILE_NPY : GRUGAN_FILE_CSV, y, n, T, F,
                                 &err),
          o.out, err.message);
    fprintf(stderr, "wrote %zu sequences of %zu steps x %zu features to %s (%s, %s units)\n", n,
            T, F, o.out, o.npy ? "NPY" : "CSV", have_scaler && !o.scaled ? "data" : "scaled");
    status = 0;
done:
    grugan_dataset_free(noise);
    grugan_generator_free(gen);
    free(o.condition);
    free(cond);
    free(y);
    return status;
}
