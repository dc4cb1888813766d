/*
 * train_sines - the main job: train a GRU GAN on the Sines data of the
 * TimeGAN paper and look at what it generates.
 *
 * Shows: building a dataset from an array, creating a generator, a
 * discriminator, two optimizers and a trainer, following progress through the
 * callback, saving a checkpoint, sampling in data units, writing the samples
 * as CSV and NPY and a picture of real next to generated sequences as SVG.
 * Every model, optimizer and trainer setting is the library's default, but
 * for the discriminator: the convolutional one (CONV1D), which makes the
 * samples smooth within a few thousand steps where the library's default GRU
 * discriminator needs about 16000 (docs/QUALITY.md); --disc gru takes that.
 *
 *   train_sines [--seconds S] [--steps N] [--samples M] [--disc KIND] [--out DIR]
 *               [--threads K] [--seed X]
 *
 * Writes DIR/checkpoint.safetensors, DIR/samples.csv, DIR/samples.npy (M
 * generated sequences), DIR/real.npy (the 10000 training sequences),
 * DIR/sines.svg (real next to generated sequences) and beside it
 * DIR/curve.csv and DIR/curve.svg (the training curve, progress.h). The
 * Sines lie in [0, 1], so `evaluate DIR/real.npy DIR/samples.npy` scores the
 * samples in data units, as TimeGAN does.
 */
#include <grugan.h>

#include "progress.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { N = 10000, T = 24, F = 5, Z = 5 };

typedef struct options {
    double seconds;      /* training time budget */
    unsigned long steps; /* 0: until the time budget is spent */
    unsigned long samples;
    int conv; /* 1: the CONV1D discriminator */
    const char *out;
    int threads;
    unsigned long seed;
    unsigned long final_candidates; /* 0: the library's default */
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: train_sines [--seconds S] [--steps N] [--samples M] [--disc KIND] [--out DIR]\n"
            "                   [--threads K] [--seed X] [--final-candidates N]\n"
            "Trains a GRU GAN on TimeGAN's Sines data (10000 sequences x 24 steps x 5\n"
            "features) with the library's defaults and keeps the generator of the best\n"
            "quality estimate. `make demo` runs it with --out build/demo.\n"
            "  --seconds S  training time budget in seconds (default 90)\n"
            "  --steps N    stop after N generator updates instead (default 0: use the budget)\n"
            "  --samples M  generated sequences written to samples.csv and samples.npy,\n"
            "               1..1000000 (default 10000, as many as the real ones, which\n"
            "               `evaluate` needs: its classifier is scored on both sets together)\n"
            "  --disc KIND  discriminator: conv1d (default) or gru (the library's default)\n"
            "  --out DIR    output directory, created if missing (default sines_out)\n"
            "  --threads K  threads, 1..256 (default 2)\n"
            "  --seed X     seed of the data, the weights and the noise (default 1)\n"
            "  --final-candidates N  at the end, score the N best generators again with a\n"
            "               fuller estimate and keep the best of them, 1..16 (1: off;\n"
            "               default: the library's, see grugan_trainer_config)\n"
            "  -h, --help   print this help and exit\n"
            "writes into DIR: checkpoint.safetensors (the training state), samples.csv and\n"
            "samples.npy (M generated sequences), real.npy (the training sequences),\n"
            "sines.svg (real next to generated sequences), curve.csv and curve.svg (the\n"
            "training curve: losses, D(real), D(fake), quality estimates)\n"
            "exit status: 0 done, 1 failed (the message says why), 2 bad options\n"
            "examples:\n"
            "  train_sines --seconds 600 --threads 2 --out sines_run\n"
            "  train_sines --steps 2000 --disc gru --seed 7\n"
            "  evaluate sines_run/real.npy sines_run/samples.npy --plot sines_run/eval.svg\n");
}

static int parse_options(int argc, char **argv, options *o)
{
    o->seconds = 90;
    o->steps = 0;
    o->samples = N;
    o->conv = 1;
    o->out = "sines_out";
    o->threads = 2;
    o->seed = 1;
    o->final_candidates = 0;
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        long threads = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "train_sines: %s needs a value\n", a);
            return -1;
        }
        errno = 0;
        if (strcmp(a, "--disc") == 0) {
            if (strcmp(v, "gru") != 0 && strcmp(v, "conv1d") != 0) {
                fprintf(stderr, "train_sines: --disc must be gru or conv1d, not %s\n", v);
                return -1;
            }
            o->conv = strcmp(v, "conv1d") == 0;
            continue;
        }
        if (strcmp(a, "--out") != 0 && !(v[0] >= '0' && v[0] <= '9') && v[0] != '.') {
            fprintf(stderr, "train_sines: bad value for %s: %s\n", a, v); /* no sign, no inf */
            return -1;
        }
        if (strcmp(a, "--seconds") == 0) o->seconds = strtod(v, &end);
        else if (strcmp(a, "--steps") == 0) o->steps = strtoul(v, &end, 10);
        else if (strcmp(a, "--samples") == 0) o->samples = strtoul(v, &end, 10);
        else if (strcmp(a, "--threads") == 0) {
            threads = strtol(v, &end, 10);
            o->threads = threads >= 1 && threads <= 256 ? (int)threads : 0;
        }
        else if (strcmp(a, "--seed") == 0) o->seed = strtoul(v, &end, 10);
        else if (strcmp(a, "--final-candidates") == 0) {
            o->final_candidates = strtoul(v, &end, 10);
            if (o->final_candidates < 1 || o->final_candidates > 16) end = NULL;
        }
        else if (strcmp(a, "--out") == 0) o->out = v, end = (char *)v + strlen(v);
        else {
            fprintf(stderr, "train_sines: unknown option %s\n", a);
            return -1;
        }
        if (errno || !end || *end || end == v) {
            fprintf(stderr, "train_sines: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    if (!(o->seconds > 0) || !isfinite(o->seconds) || o->threads < 1 || o->threads > 256 ||
        o->samples < 1 || o->samples > 1000000) {
        fprintf(stderr, "train_sines: --seconds must be > 0, --threads in 1..256 and --samples "
                        "in 1..1000000\n");
        return -1;
    }
    return 0;
}

/* The Sines data of TimeGAN: x = sin(f t + p) with f, p ~ U(0, 0.1) per
 * sequence and feature, rescaled to (x + 1) / 2. A small xorshift generator
 * keeps the example self-contained. */
static void make_sines(float *x, unsigned long seed)
{
    unsigned long long s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < F; k++) {
            double f, p;
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            f = 0.1 * (double)(s >> 11) / 9007199254740992.0;
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            p = 0.1 * (double)(s >> 11) / 9007199254740992.0;
            for (size_t t = 0; t < T; t++)
                x[(i * T + t) * F + k] = (float)((sin(f * (double)t + p) + 1.0) / 2.0);
        }
}

/* ---- progress ---------------------------------------------------------------- */

/* Called after every step: the progress line and the curve (progress.h). */
static int on_progress(const grugan_progress *p, void *user)
{
    progress_show(user, p);
    return 0;
}

/* ---- outputs -------------------------------------------------------------------- */

/* Real (left) and generated (right) sequences, one row per feature (svg.h). */
static int write_svg(const char *path, const float *real, const float *fake, size_t count)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    svg_begin(f, 740, 30 + F * SVG_SEQUENCE_ROW + 10);
    svg_text(f, 10, 18, "start", 0, "Sines: real (blue) next to generated (red) sequences");
    svg_sequence_rows(f, 30, real, count, fake, count, "generated", T, F, F, 0, 1);
    return svg_end(f);
}

/* ---- main ------------------------------------------------------------------------ */

#define CHECK(call, what, msg)                                                                \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        if (rc_ != GRUGAN_OK) {                                                               \
            fprintf(stderr, "train_sines: %s: %s (%s)\n", what, msg, grugan_status_string(rc_)); \
            goto done;                                                                        \
        }                                                                                     \
    } while (0)

/* Length of the directory part of a program's path, its last '/' included
 * (0 without one), so that the printed command names the tool beside it. */
static int dir_length(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (int)(slash - path + 1) : 0;
}

int main(int argc, char **argv)
{
    enum { SHORT = 1000, DRAWN = 12 }; /* sequences of the quick look, drawn in the SVG */
    options o;
    grugan_error err = {0, ""};
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_dataset *data = NULL;
    grugan_generator *gen = NULL;
    grugan_discriminator *disc = NULL;
    grugan_optimizer *gen_opt = NULL, *disc_opt = NULL;
    grugan_trainer *tr = NULL;
    progress_view view = {0};
    float *real = NULL, *fake = NULL;
    char path[4096];
    double disc_score = NAN, mean_err = NAN, acf_err = NAN;
    int status = 1;

    if (parse_options(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "train_sines: cannot create %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    real = malloc((size_t)N * T * F * sizeof *real);
    fake = malloc(o.samples * T * F * sizeof *fake);
    if (!real || !fake) {
        fprintf(stderr, "train_sines: out of memory\n");
        goto done;
    }
    make_sines(real, o.seed);

    dc.seed = o.seed;
    CHECK(grugan_dataset_from_array(NULL, &dc, real, N, T, F, NULL, 0, NULL, &data, &err),
          "dataset", err.message);
    gc.noise_size = Z;
    gc.output_size = F;
    gc.seed = o.seed;
    CHECK(grugan_generator_create(NULL, &gc, &gen, &err), "generator", err.message);
    dic.input_size = F;
    if (o.conv) {
        dic.kind = GRUGAN_DISC_CONV1D;
        dic.sequence_length = T; /* the convolutional kind is made for one length */
    }
    dic.seed = o.seed + 1;
    CHECK(grugan_discriminator_create(NULL, &dic, &disc, &err), "discriminator", err.message);
    CHECK(grugan_optimizer_create(NULL, &oc, grugan_generator_params(gen), &gen_opt, &err),
          "generator optimizer", err.message);
    CHECK(grugan_optimizer_create(NULL, &oc, grugan_discriminator_params(disc), &disc_opt, &err),
          "discriminator optimizer", err.message);
    tc.total_steps = o.steps ? o.steps : UINT64_MAX;
    tc.max_seconds = o.steps ? 0 : o.seconds;
    tc.threads = o.threads;
    if (o.final_candidates) tc.final_candidates = (int64_t)o.final_candidates;
    CHECK(grugan_trainer_create(NULL, &tc, gen, disc, gen_opt, disc_opt, data, &tr, &err),
          "trainer", err.message);

    view.total_steps = o.steps;
    view.budget = tc.max_seconds;
    view.tty = isatty(STDERR_FILENO);
    view.every = 100;
    grugan_trainer_set_callback(tr, on_progress, &view);
    fprintf(stderr, "training on Sines (%d x %d x %d), %s\n", N, T, F,
            o.steps ? "fixed step count" : "time budget");
    CHECK(grugan_trainer_run(tr), "training", grugan_trainer_message(tr));
    {
        grugan_progress p;
        p.struct_size = sizeof p;
        grugan_trainer_progress(tr, &p);
        fprintf(stderr, "finished after %llu steps and %.0f s: %s\n", (unsigned long long)p.step,
                p.elapsed_seconds, progress_finish_reason(p.finished));
        progress_print_kept(stderr, &p, "the samples come from that generator");
    }

    snprintf(path, sizeof path, "%s/checkpoint.safetensors", o.out);
    CHECK(grugan_trainer_save(tr, path), "saving", grugan_trainer_message(tr));
    snprintf(path, sizeof path, "%s/curve.csv", o.out);
    if (progress_write_csv(&view, path) != 0) {
        fprintf(stderr, "train_sines: cannot write %s: %s\n", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/curve.svg", o.out);
    if (progress_write_svg(&view, path, "Sines") != 0) {
        fprintf(stderr, "train_sines: cannot write %s: %s\n", path, strerror(errno));
        goto done;
    }
    /* the samples come from the generator model selection kept */
    CHECK(grugan_trainer_restore_best(tr), "best generator", grugan_trainer_message(tr));
    CHECK(grugan_generator_sample(gen, o.seed + 100, o.samples, T, NULL, NULL, fake), "sampling",
          grugan_generator_message(gen));
    CHECK(grugan_dataset_unscale(data, fake, o.samples * T * F), "unscaling",
          grugan_dataset_message(data));
    snprintf(path, sizeof path, "%s/samples.csv", o.out);
    CHECK(grugan_write_sequences(path, GRUGAN_FILE_CSV, fake, o.samples, T, F, &err), path,
          err.message);
    snprintf(path, sizeof path, "%s/samples.npy", o.out);
    CHECK(grugan_write_sequences(path, GRUGAN_FILE_NPY, fake, o.samples, T, F, &err), path,
          err.message);
    snprintf(path, sizeof path, "%s/real.npy", o.out);
    CHECK(grugan_write_sequences(path, GRUGAN_FILE_NPY, real, N, T, F, &err), path, err.message);
    snprintf(path, sizeof path, "%s/sines.svg", o.out);
    if (write_svg(path, real, fake, o.samples < DRAWN ? o.samples : DRAWN) != 0) {
        fprintf(stderr, "train_sines: cannot write %s: %s\n", path, strerror(errno));
        goto done;
    }
    /* a quick look at quality: statistics and a short discriminative score */
    {
        const size_t m = o.samples < SHORT ? o.samples : SHORT;
        grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
        grugan_statistics_error(real, m, fake, m, T, F, 5, &mean_err, NULL, &acf_err);
        mc.repetitions = 1;
        mc.iterations = 500;
        mc.threads = o.threads;
        if (m >= 5)
            grugan_discriminative_score(NULL, &mc, real, m, fake, m, T, F, &disc_score, NULL,
                                        NULL);
    }
    printf("mean error %.4f  autocorrelation error %.4f  discriminative score (short) %.3f\n",
           mean_err, acf_err, disc_score);
    printf("checkpoint: %s/checkpoint.safetensors\nsamples:    %s/samples.csv, "
           "%s/samples.npy\nreal data:  %s/real.npy\npicture:    %s/sines.svg\n"
           "curve:      %s/curve.csv, %s/curve.svg\n"
           "all scores: %.*sevaluate %s/real.npy %s/samples.npy\n",
           o.out, o.out, o.out, o.out, o.out, o.out, o.out, dir_length(argv[0]), argv[0],
           o.out, o.out);
    status = 0;
done:
    grugan_trainer_free(tr);
    grugan_optimizer_free(gen_opt);
    grugan_optimizer_free(disc_opt);
    grugan_discriminator_free(disc);
    grugan_generator_free(gen);
    grugan_dataset_free(data);
    free(real);
    free(fake);
    free(view.points);
    return status;
}
