/*
 * evaluate - judge synthetic sequences against real ones with the scores of
 * TimeGAN (docs/QUALITY.md): the discriminative score, the predictive score
 * ("train on synthetic, test on real") and the cheap statistics, printed as a
 * table and as one JSON line.
 *
 * Shows: reading sequences from NPY and CSV files into arrays through a
 * dataset (unscaled, or min-max scaled with the real data's scaler), and the
 * metric functions with their configuration. --plot draws a picture of real
 * against synthetic sequences (svg.h): a few of each per feature, and the
 * PCA view of the TimeGAN papers (pca.h).
 *
 *   evaluate REAL SYNTHETIC [--steps T] [--stride S] [--columns LIST] [--scale]
 *            [--clip] [--repetitions R] [--iterations N] [--max-lag K]
 *            [--threads K] [--seed X] [--plot FILE.svg]
 *
 * Each file is one of:
 *   - a .npy file (N, T, F): N sequences as they are; or (rows, F): a series;
 *   - a CSV file written by grugan_write_sequences (train_sines, sample): a
 *     header "sequence,step,f0,f1,...", one row per step; T is read from the
 *     file (the rows of the first sequence);
 *   - any other CSV file: a series, one row per time step, one numeric column
 *     per feature (optional header).
 * A series is cut into windows of --steps rows every --stride rows, as
 * train_csv cuts its training data.
 *
 * The same program runs its scores' repetitions over MPI processes as
 * evaluate_mpi (examples/mpi/evaluate_mpi.c includes this file and supplies
 * another score_call).
 */
#include <grugan.h>

#include "cli.h"
#include "pca.h"
#include "svg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct options {
    const char *real, *synthetic, *plot;
    unsigned long steps, stride, repetitions, iterations, max_lag, threads, seed;
    size_t *columns; /* NULL: all */
    size_t num_columns;
    int scale, clip;
} options;

/* Sequences read from one file. */
typedef struct sequences {
    float *x; /* (n, T, F) */
    size_t n, T, F;
} sequences;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: evaluate REAL SYNTHETIC [options]\n"
        "Scores synthetic sequences against real ones (TimeGAN's discriminative and\n"
        "predictive scores, mean/std/autocorrelation errors); prints a table and one\n"
        "JSON line. REAL and SYNTHETIC are .npy files (N, T, F) or (rows, F), CSV files\n"
        "written by train_sines or sample (header sequence,step,f0,...), or CSV series\n"
        "(one row per time step, a column per feature). Both must hold values in [0, 1],\n"
        "or give --scale.\n"
        "  --steps T          window length for series files (required for them); for\n"
        "                     sequence files, if given, it must match\n"
        "  --stride S         rows between the starts of two windows of a series (default 1)\n"
        "  --columns LIST     0-based columns of CSV series to use, e.g. 1,2,5 (default: all)\n"
        "  --scale            min-max scale both sets with the real data's scaler (fitted on\n"
        "                     the real sequences, per feature, to [0, 1])\n"
        "  --clip             clamp synthetic values outside [0, 1] (counted and reported)\n"
        "                     instead of refusing them\n"
        "  --repetitions R    repetitions of each score (default 10)\n"
        "  --iterations N     training iterations of both post-hoc models (default: 2000\n"
        "                     discriminative, 5000 predictive)\n"
        "  --max-lag K        autocorrelation lags 1..K (default 5, at most T-1)\n"
        "  --threads K        threads, 1..256: repetitions run in parallel (default 1)\n"
        "  --seed X           seed of the splits, minibatches and weights (default 0)\n"
        "  --plot FILE.svg    also draw real against synthetic sequences: 10 of each per\n"
        "                     feature (the first 8 features), and both sets projected on\n"
        "                     the real set's first two principal components (PCA)\n"
        "  -h, --help         print this help and exit\n"
        "exit status: 0 done, 1 failed (the message says why), 2 bad options\n"
        "examples:\n"
        "  evaluate build/demo/real.npy build/demo/samples.npy --plot build/demo/eval.svg\n"
        "  evaluate prices.csv synthetic.csv --steps 24 --scale --threads 2\n"
        "  mpirun -np 5 evaluate_mpi prices.csv synthetic.csv --steps 24 --scale\n"
        "      (`make mpi`: the repetitions over 5 processes, the same scores)\n");
}

static int parse_options(int argc, char **argv, options *o)
{
    o->stride = 1, o->repetitions = 10, o->max_lag = 5, o->threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(o->columns);
            exit(0);
        }
        if (strcmp(a, "--scale") == 0 || strcmp(a, "--clip") == 0) {
            *(a[2] == 's' ? &o->scale : &o->clip) = 1;
            continue;
        }
        if (a[0] != '-') {
            if (o->synthetic) {
                fprintf(stderr, "evaluate: more than two files: %s\n", a);
                return -1;
            }
            *(o->real ? &o->synthetic : &o->real) = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "evaluate: %s needs a value\n", a);
            return -1;
        }
        if (strcmp(a, "--steps") == 0) bad = cli_count(v, &o->steps) || !o->steps;
        else if (strcmp(a, "--stride") == 0) bad = cli_count(v, &o->stride) || !o->stride;
        else if (strcmp(a, "--columns") == 0) bad = cli_counts(v, &o->columns, &o->num_columns);
        else if (strcmp(a, "--repetitions") == 0)
            bad = cli_count(v, &o->repetitions) || !o->repetitions;
        else if (strcmp(a, "--iterations") == 0)
            bad = cli_count(v, &o->iterations) || !o->iterations;
        else if (strcmp(a, "--max-lag") == 0) bad = cli_count(v, &o->max_lag) || !o->max_lag;
        else if (strcmp(a, "--threads") == 0)
            bad = cli_count(v, &o->threads) || o->threads < 1 || o->threads > 256;
        else if (strcmp(a, "--seed") == 0) bad = cli_count(v, &o->seed);
        else if (strcmp(a, "--plot") == 0) o->plot = v;
        else {
            fprintf(stderr, "evaluate: unknown option %s\n", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "evaluate: bad value for %s: %s\n", a, v);
            return -1;
        }
        i++;
    }
    if (!o->synthetic) {
        fprintf(stderr, "evaluate: give a real and a synthetic file\n");
        return -1;
    }
    return 0;
}

/* For a CSV file written by grugan_write_sequences (first line
 * "sequence,step,..."): *width receives its number of fields, *steps the rows
 * of its first sequence. Returns 1 for such a file, 0 for another CSV file,
 * -1 if it cannot be read. */
static int sequence_csv(const char *path, size_t *width, size_t *steps)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *first = NULL;
    size_t cap = 0;
    int found = 0;
    if (!f) return -1;
    if (getline(&line, &cap, f) > 0 && strncmp(line, "sequence,step,", 14) == 0) {
        found = 1;
        *width = 1;
        for (const char *p = line; *p; p++) *width += *p == ',';
        *steps = 0;
        while (getline(&line, &cap, f) > 0) {
            const size_t id = strcspn(line, ",");
            if (!first) {
                first = malloc(id + 1);
                if (!first) break;
                memcpy(first, line, id);
                first[id] = '\0';
            } else if (strlen(first) != id || strncmp(line, first, id) != 0) {
                break;
            }
            (*steps)++;
        }
    }
    free(first);
    free(line);
    fclose(f);
    return found;
}

/* Reads `path` into s: scaling GRUGAN_SCALE_NONE, or GRUGAN_SCALE_MINMAX
 * (the real file with --scale). Keeps the dataset in *ds for its scaler. */
static int read_sequences(const options *o, const char *path, int scaling, sequences *s,
                          grugan_dataset **ds)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_error err = {0, ""};
    size_t width = 0, steps = 0, *columns = NULL;
    int rc, kind = 0;

    dc.scaling = scaling;
    dc.sequence_length = o->steps;
    dc.stride = o->stride;
    dc.columns = o->columns;
    dc.num_columns = o->num_columns;
    if (cli_ends_with(path, ".npy")) {
        rc = grugan_dataset_from_npy(NULL, &dc, path, ds, &err);
    } else if ((kind = sequence_csv(path, &width, &steps)) < 0) {
        fprintf(stderr, "evaluate: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    } else {
        if (kind == 1) { /* the windows are the sequences; the features follow column 1 */
            if (width < 3 || steps == 0) {
                fprintf(stderr, "evaluate: %s: no features or no rows after the header\n",
                        path);
                return -1;
            }
            if (o->steps && o->steps != steps) {
                fprintf(stderr, "evaluate: %s has sequences of %zu steps, not %lu\n", path,
                        steps, o->steps);
                return -1;
            }
            columns = malloc((width - 2) * sizeof *columns);
            if (!columns) {
                fprintf(stderr, "evaluate: out of memory\n");
                return -1;
            }
            for (size_t k = 0; k < width - 2; k++) columns[k] = k + 2;
            dc.columns = columns;
            dc.num_columns = width - 2;
            dc.sequence_length = dc.stride = steps;
            dc.csv_header = GRUGAN_CSV_HEADER_YES;
        }
        rc = grugan_dataset_from_csv(NULL, &dc, path, ds, &err);
    }
    free(columns);
    if (rc != GRUGAN_OK) {
        fprintf(stderr, "evaluate: %s: %s (%s)%s\n", path, err.message, grugan_status_string(rc),
                !o->steps && strstr(err.message, "sequence_length") ? "; give --steps T" : "");
        return -1;
    }
    grugan_dataset_shape(*ds, &s->n, &s->T, &s->F, NULL);
    s->x = malloc(s->n * s->T * s->F * sizeof *s->x);
    if (!s->x) {
        fprintf(stderr, "evaluate: out of memory for %s\n", path);
        return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        if ((rc = grugan_dataset_get(*ds, i, s->x + i * s->T * s->F, NULL, NULL)) != GRUGAN_OK) {
            fprintf(stderr, "evaluate: %s: %s\n", path, grugan_dataset_message(*ds));
            return -1;
        }
    return 0;
}

/* Values outside [0, 1] by at most this much are rounding (e.g. of scaling
 * there and back) and are clamped silently. */
#define ROUNDING 1e-4f

/* Clamps the values of s to [0, 1]; returns how many lay beyond the rounding
 * margin. */
static size_t clamp_unit(sequences *s)
{
    size_t outside = 0;
    for (size_t i = 0; i < s->n * s->T * s->F; i++) {
        const float v = s->x[i];
        if (v < 0.0f || v > 1.0f) {
            outside += v < -ROUNDING || v > 1.0f + ROUNDING;
            s->x[i] = v < 0.0f ? 0.0f : 1.0f;
        }
    }
    return outside;
}

/* Sequences in the test part of the discriminative score's split of n. */
static size_t test_count(size_t n)
{
    return n - (size_t)(0.8 * (double)n);
}

/* ---- the picture (--plot) ---------------------------------------------------- */

/* Sequences drawn per feature and set, features drawn at most, sequences of
 * each set in the PCA view at most (TimeGAN's choice). */
enum { PLOT_SEQUENCES = 10, PLOT_FEATURES = 8, PLOT_PCA = 1000 };

/* Copies m of the sequences of s (spread evenly: the windows of a series are
 * in time order) into out (m, T, F). */
static void spread(const sequences *s, size_t m, float *out)
{
    const size_t size = s->T * s->F;
    for (size_t i = 0; i < m; i++)
        memcpy(out + i * size, s->x + (size_t)((double)i * (double)s->n / (double)m) * size,
               size * sizeof *out);
}

/* The PCA view: every sequence flattened to T * F values, both sets
 * projected on the first two principal components of the real one (real
 * (m_real, T*F), synth (m_synth, T*F)), as a scatter plot at (left, top). */
static int plot_pca(FILE *f, double left, double top, const float *real, size_t m_real,
                    const float *synth, size_t m_synth, size_t d)
{
    double *xy = malloc(2 * (m_real + m_synth) * sizeof *xy); /* (m_real + m_synth, 2) */
    const char *names[2] = {"real", "synthetic"}, *colours[2] = {SVG_REAL, SVG_FAKE};
    svg_plot p = {f, left, top, 660, 300, NAN, NAN, NAN, NAN, 0};
    char label[2][64], title[128];
    pca2 pca;
    int rc = xy ? pca2_fit(&pca, real, m_real, d) : -1;
    for (size_t i = 0; rc == 0 && i < m_real + m_synth; i++) {
        pca2_project(&pca, i < m_real ? real + i * d : synth + (i - m_real) * d, xy + 2 * i);
        svg_range_add(&p.x_lo, &p.x_hi, xy[2 * i]);
        svg_range_add(&p.y_lo, &p.y_hi, xy[2 * i + 1]);
    }
    if (rc == 0) {
        svg_nice_range(&p.x_lo, &p.x_hi);
        svg_nice_range(&p.y_lo, &p.y_hi);
        for (int k = 0; k < 2; k++)
            snprintf(label[k], sizeof label[k], "PC%d (%.0f%% of the real variance)", k + 1,
                     pca.total_variance > 0 ? 100 * pca.variance[k] / pca.total_variance : 0.0);
        snprintf(title, sizeof title, "PCA: %zu real, %zu synthetic sequences", m_real, m_synth);
        svg_plot_axes(&p, title, label[0], label[1]);
        for (size_t i = 0; i < m_real + m_synth; i++)
            svg_dot(&p, xy[2 * i], xy[2 * i + 1], 2, i < m_real ? SVG_REAL : SVG_FAKE, 0.35);
        svg_plot_legend(&p, 2, names, colours);
    }
    pca2_free(&pca);
    free(xy);
    return rc;
}

/* Writes the picture of real against synthetic sequences to path: the
 * first PLOT_FEATURES features of PLOT_SEQUENCES sequences of each set, side
 * by side, then the PCA view. Values are in [0, 1] (checked before). */
static int write_plot(const char *path, const sequences *real, const sequences *synth)
{
    const size_t T = real->T, F = real->F, d = T * F;
    const size_t rows = F < PLOT_FEATURES ? F : PLOT_FEATURES;
    const size_t m_real = real->n < PLOT_PCA ? real->n : PLOT_PCA;
    const size_t m_synth = synth->n < PLOT_PCA ? synth->n : PLOT_PCA;
    const size_t shown_real = real->n < PLOT_SEQUENCES ? real->n : PLOT_SEQUENCES;
    const size_t shown_synth = synth->n < PLOT_SEQUENCES ? synth->n : PLOT_SEQUENCES;
    const double pca_top = 30 + (double)rows * SVG_SEQUENCE_ROW + 40;
    float *a = malloc(m_real * d * sizeof *a), *b = malloc(m_synth * d * sizeof *b);
    char note[160];
    FILE *f = a && b ? fopen(path, "w") : NULL;
    int rc = -1;
    if (f) {
        svg_begin(f, 740, pca_top + 300 + 50);
        svg_text(f, 10, 18, "start", 0, "real (blue) against synthetic (red) sequences");
        spread(real, shown_real, a);
        spread(synth, shown_synth, b);
        svg_sequence_rows(f, 30, a, shown_real, b, shown_synth, "synthetic", T, F, rows, 0, 1);
        if (rows < F) {
            snprintf(note, sizeof note, "features 0 to %zu of %zu drawn", rows - 1, F);
            svg_text(f, 10, pca_top - 20, "start", 0, note);
        }
        spread(real, m_real, a);
        spread(synth, m_synth, b);
        rc = plot_pca(f, 60, pca_top, a, m_real, b, m_synth, d);
        if (svg_end(f) != 0) rc = -1;
    }
    free(a);
    free(b);
    return rc;
}

/* The two scores (kind GRUGAN_METRIC_*): the library's calls here;
 * evaluate_mpi spreads their repetitions over processes. */
typedef int (*score_call)(int32_t kind, const grugan_metric_config *mc, const float *real,
                          size_t n_real, const float *synthetic, size_t n_synth, size_t steps,
                          size_t features, double *mean, double *std, grugan_error *err);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The whole program; `score` computes the scores, `rank` 0 writes the
 * picture. */
static int evaluate_main(int argc, char **argv, score_call score, int rank)
{
    options o;
    sequences real = {NULL, 0, 0, 0}, synth = {NULL, 0, 0, 0};
    grugan_dataset *real_ds = NULL, *synth_ds = NULL;
    grugan_metric_config mc = GRUGAN_METRIC_CONFIG_INIT;
    grugan_error err = {0, ""};
    double disc = NAN, disc_std = NAN, pred = NAN, pred_std = NAN, mean_err, std_err, acf_err;
    double start;
    size_t outside_real, outside_synth, max_lag;
    int status = 1, rc, have_pred;

    memset(&o, 0, sizeof o);
    if (parse_options(argc, argv, &o) != 0) {
        usage(stderr);
        free(o.columns);
        return 2;
    }
    if (read_sequences(&o, o.real, o.scale ? GRUGAN_SCALE_MINMAX : GRUGAN_SCALE_NONE, &real,
                       &real_ds) != 0 ||
        read_sequences(&o, o.synthetic, GRUGAN_SCALE_NONE, &synth, &synth_ds) != 0)
        goto done;
    if (real.T != synth.T || real.F != synth.F) {
        fprintf(stderr,
                "evaluate: the real sequences are %zu steps x %zu features, the synthetic "
                "ones %zu x %zu\n",
                real.T, real.F, synth.T, synth.F);
        goto done;
    }
    if (o.scale && (rc = grugan_dataset_scale(real_ds, synth.x, synth.n * synth.T * synth.F)) !=
                       GRUGAN_OK) {
        fprintf(stderr, "evaluate: scaling: %s\n", grugan_dataset_message(real_ds));
        goto done;
    }
    outside_real = clamp_unit(&real);
    outside_synth = clamp_unit(&synth);
    if (outside_real) {
        fprintf(stderr, "evaluate: %zu real values lie outside [0, 1]; give --scale\n",
                outside_real);
        goto done;
    }
    if (outside_synth && !o.clip) {
        fprintf(stderr,
                "evaluate: %zu synthetic values lie outside [0, 1]%s; give --clip to clamp "
                "them\n",
                outside_synth, o.scale ? " of the real data's range" : "");
        goto done;
    }

    errno = 0;
    if (o.plot && rank == 0 && write_plot(o.plot, &real, &synth) != 0) {
        fprintf(stderr, "evaluate: cannot write the picture %s: %s\n", o.plot,
                errno ? strerror(errno) : "out of memory");
        goto done;
    }

    start = now();
    mc.repetitions = o.repetitions;
    mc.iterations = o.iterations;
    mc.threads = (int32_t)o.threads;
    mc.seed = o.seed;
    rc = score(GRUGAN_METRIC_DISCRIMINATIVE, &mc, real.x, real.n, synth.x, synth.n, real.T,
               real.F, &disc, &disc_std, &err);
    if (rc != GRUGAN_OK) {
        fprintf(stderr, "evaluate: discriminative score: %s (%s)\n", err.message,
                grugan_status_string(rc));
        goto done;
    }
    have_pred = real.F >= 2 && real.T >= 2;
    if (have_pred) {
        rc = score(GRUGAN_METRIC_PREDICTIVE, &mc, real.x, real.n, synth.x, synth.n, real.T,
                   real.F, &pred, &pred_std, &err);
        if (rc != GRUGAN_OK) {
            fprintf(stderr, "evaluate: predictive score: %s (%s)\n", err.message,
                    grugan_status_string(rc));
            goto done;
        }
    }
    max_lag = real.T > 1 ? (o.max_lag < real.T ? o.max_lag : real.T - 1) : 0;
    rc = grugan_statistics_error(real.x, real.n, synth.x, synth.n, real.T, real.F,
                                 max_lag ? max_lag : 1, &mean_err, &std_err,
                                 max_lag ? &acf_err : NULL);
    if (rc != GRUGAN_OK) {
        fprintf(stderr, "evaluate: statistics: %s\n", grugan_status_string(rc));
        goto done;
    }
    if (!max_lag) acf_err = NAN;

    printf("real       %s: %zu sequences x %zu steps x %zu features\n", o.real, real.n, real.T,
           real.F);
    printf("synthetic  %s: %zu sequences%s\n", o.synthetic, synth.n,
           o.scale ? " (scaled with the real data's scaler)" : "");
    if (real.n != synth.n)
        printf("note       the sets differ in size: always answering \"%s\" scores %.4f\n",
               real.n > synth.n ? "real" : "synthetic",
               fabs((double)test_count(real.n) - (double)test_count(synth.n)) /
                   (2.0 * (double)(test_count(real.n) + test_count(synth.n))));
    if (o.plot) printf("picture    %s\n", o.plot);
    if (outside_synth)
        printf("clipped    %zu synthetic values (%.3f%%) outside [0, 1]\n", outside_synth,
               100.0 * (double)outside_synth / (double)(synth.n * synth.T * synth.F));
    printf("\n%-16s %9s %9s   %s\n", "score", "mean", "std", "(0 is best)");
    printf("%-16s %9.4f %9.4f   |accuracy - 0.5| of a post-hoc GRU classifier\n",
           "discriminative", disc, disc_std);
    if (have_pred)
        printf("%-16s %9.4f %9.4f   MAE of a GRU trained on synthetic, tested on real\n",
               "predictive", pred, pred_std);
    else
        printf("%-16s %9s %9s   needs at least 2 features\n", "predictive", "-", "-");
    printf("%-16s %9.4f %9s   per feature, over all sequences and steps\n", "mean error",
           mean_err, "");
    printf("%-16s %9.4f %9s   likewise\n", "std error", std_err, "");
    if (max_lag)
        printf("%-16s %9.4f %9s   lags 1..%zu\n", "acf error", acf_err, "", max_lag);
    printf("(%lu repetitions, %.1f s)\n", o.repetitions, now() - start);

    printf("{\"discriminative\": {\"mean\": %.6f, \"std\": %.6f}, ", disc, disc_std);
    if (have_pred) printf("\"predictive\": {\"mean\": %.6f, \"std\": %.6f}, ", pred, pred_std);
    else printf("\"predictive\": null, ");
    printf("\"mean_error\": %.6f, \"std_error\": %.6f, ", mean_err, std_err);
    if (max_lag) printf("\"acf_error\": %.6f, ", acf_err);
    else printf("\"acf_error\": null, ");
    printf("\"repetitions\": %lu, \"real\": %zu, \"synthetic\": %zu, \"steps\": %zu, "
           "\"features\": %zu, \"clipped\": %zu}\n",
           o.repetitions, real.n, synth.n, real.T, real.F, outside_synth);
    status = 0;
done:
    grugan_dataset_free(real_ds);
    grugan_dataset_free(synth_ds);
    free(real.x);
    free(synth.x);
    free(o.columns);
    return status;
}

#ifndef EVALUATE_NO_MAIN
static int local_score(int32_t kind, const grugan_metric_config *mc, const float *real,
                       size_t n_real, const float *synthetic, size_t n_synth, size_t steps,
                       size_t features, double *mean, double *std, grugan_error *err)
{
    return (kind == GRUGAN_METRIC_DISCRIMINATIVE ? grugan_discriminative_score
                                                 : grugan_predictive_score)(
        NULL, mc, real, n_real, synthetic, n_synth, steps, features, mean, std, err);
}

int main(int argc, char **argv)
{
    return evaluate_main(argc, argv, local_score, 0);
}
#endif
