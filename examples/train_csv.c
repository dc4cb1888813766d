/*
 * train_csv - train a GRU GAN on your own time series, stored as a CSV file
 * (rows in time order, one numeric column per feature, optional header) or a
 * NumPy .npy file, and save a checkpoint that `sample` turns into synthetic
 * series.
 *
 * Shows: a dataset cut from a long series into overlapping windows (the
 * library reads the file and scales each feature to [0, 1]) with a share of
 * them held out for model selection, a time budget that fits the data, every
 * common training choice as an option, driving the trainer one step at a
 * time with a progress line (elapsed, time left, the quality estimate),
 * early stopping, saving checkpoints periodically and on Ctrl-C, resuming a
 * run exactly, the training curve as CSV and SVG, a generator-only export of
 * the best generator, and a quick quality check.
 *
 *   train_csv DATA.csv [options]       (train_csv --help lists them)
 *
 * The same program trains over MPI as train_csv_mpi (examples/mpi/
 * train_csv_mpi.c includes this file and supplies another `runner`: the few
 * calls that differ between one process and many).
 */
#include <grugan.h>

#include "cli.h"
#include "progress.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct options {
    const char *data, *checkpoint, *export_path, *curve;
    unsigned long seq_len, stride, hidden, layers, noise, d_steps, steps, batch, threads;
    unsigned long seed, save_every, select_every, patience, final_candidates;
    unsigned long shards;            /* 0: the runner's default */
    double minutes, holdout;         /* negative: the rule (see usage) */
    int no_selection;
    size_t *columns; /* NULL: all */
    size_t num_columns;
    int header, delimiter, disc, loss, resume;
    double lr_g, lr_d, clip_weights; /* clip_weights < 0: the loss's default */
    double moment_matching;          /* the trainer's field: 0 default, negative off */
    double difference_matching;      /* likewise */
    double instance_noise;           /* likewise */
    double gradient_penalty;         /* likewise */
    double r1, r2;                   /* the trainer's r1_gamma, r2_gamma: 0 none */
} options;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: train_csv DATA [options]\n"
        "DATA is a CSV file (rows in time order, a column per feature, optional header)\n"
        "or a .npy file (rows, features) or (sequences, steps, features).\n"
        "data:\n"
        "  --seq-len T        steps per training window (default 24)\n"
        "  --stride S         rows between the starts of two windows (default 1)\n"
        "  --columns LIST     0-based columns to use, e.g. 1,2,5 (default: all)\n"
        "  --header H         auto, yes or no: is the first CSV row a header (default auto)\n"
        "  --delimiter C      CSV field separator, one character (default ,)\n"
        "models:\n"
        "  --hidden H         GRU hidden size of both models (default 24)\n"
        "  --layers L         GRU layers of both models (default 3)\n"
        "  --noise Z          noise values per step (default: the number of features)\n"
        "  --disc KIND        discriminator: conv1d (default) or gru\n"
        "training:\n"
        "  --loss KIND        bce (default), lsgan, wasserstein, hinge or wgan-gp\n"
        "                     (wasserstein with a gradient penalty on interpolates)\n"
        "  --d-steps K        discriminator updates per generator update (default 1,\n"
        "                     5 with --loss wgan-gp)\n"
        "  --gp LAMBDA        weight of the WGAN-GP gradient penalty, with any loss\n"
        "                     (default 10 with --loss wgan-gp, none otherwise; 0: none)\n"
        "  --r1 GAMMA         R1 penalty gamma/2 * mean ||grad D(real)||^2 (default 0: none)\n"
        "  --r2 GAMMA         R2 penalty, the same on generated sequences (default 0: none)\n"
        "                     (the penalties need --disc conv1d)\n"
        "  --moment-matching W  weight of the moment-matching term of the generator's\n"
        "                     loss (default: the library's, 100; 0: off)\n"
        "  --difference-matching W  weight of the difference-matching term of the\n"
        "                     generator's loss: the moments of the step-to-step changes\n"
        "                     (default: the library's, 100; 0: off)\n"
        "  --instance-noise S standard deviation of noise added to what the discriminator\n"
        "                     sees, real and generated, in scaled units (default: the\n"
        "                     library's, 0.05 below 1000 training windows, else 0; 0: none)\n"
        "  --clip-weights C   clamp discriminator weights to [-C, C] after each update\n"
        "                     (default 0.1 with --loss wasserstein, none otherwise; 0: none)\n"
        "  --minutes M        training time budget in minutes, over all resumed runs too\n"
        "                     (default 10; see docs/QUALITY.md)\n"
        "  --steps N          stop after N generator updates in all, whichever comes first\n"
        "                     (default 200000)\n"
        "  --batch B          sequences per minibatch (default 128, at most the windows)\n"
        "  --lr-g X           generator learning rate, Adam (default 1e-3)\n"
        "  --lr-d X           discriminator learning rate, Adam (default 1e-3)\n"
        "  --threads K        threads, 1..256 (default 1)\n"
        "  --shards S         split each minibatch into S equal shards whose gradients\n"
        "                     are summed in a fixed order: the same results from 1 to S\n"
        "                     processes of train_csv_mpi (default 1; train_csv_mpi: the\n"
        "                     number of processes); --batch must be a multiple of S\n"
        "  --seed X           seed of the weights, the noise and the batch order (default 1)\n");
    fprintf(f,
        "model selection (every estimate scores the generator against held-out windows;\n"
        "the best generator is what the checkpoint, --export and `sample` give):\n"
        "  --holdout H        share of the windows held out of training for it (default\n"
        "                     0.1 when that is at least 50 windows, else 0: all windows)\n"
        "  --select-every K   steps between two quality estimates (default 1000)\n"
        "  --patience P       stop after P estimates without a new best (default 30;\n"
        "                     0: never stop early)\n"
        "  --final-candidates N  at the end, score the N best generators again with a\n"
        "                     fuller estimate and keep the best (default 3; 1: keep the\n"
        "                     best quick estimate's; at most 16)\n"
        "  --no-selection     no estimates: the checkpoint holds the last generator\n"
        "output:\n"
        "  --checkpoint PATH  training checkpoint written at the end, every --save-every\n"
        "                     steps and on Ctrl-C (default checkpoint.safetensors)\n"
        "  --save-every N     also save every N steps (default 0: only at the end)\n"
        "  --resume           continue from --checkpoint; give the same data and options\n"
        "  --export PATH      also write a generator-only export of the best generator\n"
        "                     (small; enough to sample)\n"
        "  --curve PREFIX     write the training curve to PREFIX.csv and PREFIX.svg\n"
        "                     (default: the checkpoint's path without .safetensors + _curve):\n"
        "                     both losses, D(real), D(fake) and the quality estimates\n"
        "  -h, --help         print this help and exit\n"
        "exit status: 0 done, 1 failed (the message says why), 2 bad options,\n"
        "130 interrupted by Ctrl-C (after saving the checkpoint)\n"
        "examples:\n"
        "  train_csv prices.csv\n"
        "  train_csv prices.csv --columns 1,2,3 --seq-len 48 --stride 4 --minutes 20 \\\n"
        "      --threads 2 --checkpoint prices.safetensors --export prices-gen.safetensors\n"
        "  train_csv prices.csv --checkpoint prices.safetensors --resume\n"
        "  mpirun -np 4 train_csv_mpi prices.csv --batch 256   (`make mpi`: the same\n"
        "      program on 4 processes, the results of --shards 4; docs/SCALING.md)\n");
}

static int parse_options(int argc, char **argv, options *o)
{
    static const char *const headers[] = {"auto", "yes", "no", NULL}; /* GRUGAN_CSV_HEADER_* */
    static const char *const discs[] = {"gru", "conv1d", NULL};       /* GRUGAN_DISC_* */
    static const char *const losses[] = {"bce", "lsgan", "wasserstein", "hinge", "wgan-gp",
                                         NULL}; /* GRUGAN_LOSS_* */
    o->seq_len = 24, o->stride = 1, o->hidden = 24, o->layers = 3, o->noise = 0;
    o->d_steps = 0, o->steps = 200000, o->batch = 128, o->threads = 1, o->seed = 1;
    o->disc = GRUGAN_DISC_CONV1D; /* docs/QUALITY.md, "Real data" */
    o->minutes = -1, o->holdout = -1, o->patience = (unsigned long)-1; /* -1: the default */
    o->save_every = 0, o->lr_g = 1e-3, o->lr_d = 1e-3, o->clip_weights = -1;
    o->checkpoint = "checkpoint.safetensors";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(o->columns);
            exit(0);
        }
        if (strcmp(a, "--resume") == 0 || strcmp(a, "--no-selection") == 0) {
            *(a[2] == 'r' ? &o->resume : &o->no_selection) = 1;
            continue;
        }
        if (a[0] != '-') {
            if (o->data) {
                fprintf(stderr, "train_csv: more than one data file: %s and %s\n", o->data, a);
                return -1;
            }
            o->data = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "train_csv: %s needs a value\n", a);
            return -1;
        }
        if (strcmp(a, "--seq-len") == 0) bad = cli_count(v, &o->seq_len) || !o->seq_len;
        else if (strcmp(a, "--stride") == 0) bad = cli_count(v, &o->stride) || !o->stride;
        else if (strcmp(a, "--columns") == 0) bad = cli_counts(v, &o->columns, &o->num_columns);
        else if (strcmp(a, "--header") == 0) bad = (o->header = cli_name(v, headers)) < 0;
        else if (strcmp(a, "--delimiter") == 0)
            bad = strlen(v) != 1 || (o->delimiter = (unsigned char)v[0]) == 0;
        else if (strcmp(a, "--hidden") == 0) bad = cli_count(v, &o->hidden) || !o->hidden;
        else if (strcmp(a, "--layers") == 0) bad = cli_count(v, &o->layers) || !o->layers;
        else if (strcmp(a, "--noise") == 0) bad = cli_count(v, &o->noise) || !o->noise;
        else if (strcmp(a, "--disc") == 0) bad = (o->disc = cli_name(v, discs)) < 0;
        else if (strcmp(a, "--loss") == 0) bad = (o->loss = cli_name(v, losses)) < 0;
        else if (strcmp(a, "--d-steps") == 0) bad = cli_count(v, &o->d_steps) || !o->d_steps;
        else if (strcmp(a, "--clip-weights") == 0) bad = cli_real(v, &o->clip_weights);
        else if (strcmp(a, "--gp") == 0) {
            bad = cli_real(v, &o->gradient_penalty) || !(o->gradient_penalty >= 0);
            if (!bad && o->gradient_penalty == 0) o->gradient_penalty = -1; /* off */
        }
        else if (strcmp(a, "--r1") == 0) bad = cli_real(v, &o->r1) || !(o->r1 >= 0);
        else if (strcmp(a, "--r2") == 0) bad = cli_real(v, &o->r2) || !(o->r2 >= 0);
        else if (strcmp(a, "--instance-noise") == 0) {
            bad = cli_real(v, &o->instance_noise) || !(o->instance_noise >= 0);
            if (!bad && o->instance_noise == 0) o->instance_noise = -1; /* off */
        }
        else if (strcmp(a, "--moment-matching") == 0) {
            bad = cli_real(v, &o->moment_matching);
            if (!bad && o->moment_matching == 0) o->moment_matching = -1; /* off */
        }
        else if (strcmp(a, "--difference-matching") == 0) {
            bad = cli_real(v, &o->difference_matching);
            if (!bad && o->difference_matching == 0) o->difference_matching = -1; /* off */
        }
        else if (strcmp(a, "--steps") == 0) bad = cli_count(v, &o->steps) || !o->steps;
        else if (strcmp(a, "--minutes") == 0)
            bad = cli_real(v, &o->minutes) || !(o->minutes > 0) || o->minutes > 1e6;
        else if (strcmp(a, "--holdout") == 0)
            bad = cli_real(v, &o->holdout) || !(o->holdout >= 0 && o->holdout <= 0.5);
        else if (strcmp(a, "--select-every") == 0)
            bad = cli_count(v, &o->select_every) || !o->select_every;
        else if (strcmp(a, "--patience") == 0) bad = cli_count(v, &o->patience);
        else if (strcmp(a, "--final-candidates") == 0) bad = cli_count(v, &o->final_candidates);
        else if (strcmp(a, "--curve") == 0) o->curve = v;
        else if (strcmp(a, "--batch") == 0) bad = cli_count(v, &o->batch) || !o->batch;
        else if (strcmp(a, "--lr-g") == 0) bad = cli_real(v, &o->lr_g) || !(o->lr_g > 0);
        else if (strcmp(a, "--lr-d") == 0) bad = cli_real(v, &o->lr_d) || !(o->lr_d > 0);
        else if (strcmp(a, "--threads") == 0)
            bad = cli_count(v, &o->threads) || o->threads < 1 || o->threads > 256;
        else if (strcmp(a, "--seed") == 0) bad = cli_count(v, &o->seed);
        else if (strcmp(a, "--shards") == 0) bad = cli_count(v, &o->shards) || !o->shards;
        else if (strcmp(a, "--checkpoint") == 0) o->checkpoint = v;
        else if (strcmp(a, "--save-every") == 0) bad = cli_count(v, &o->save_every);
        else if (strcmp(a, "--export") == 0) o->export_path = v;
        else {
            fprintf(stderr, "train_csv: unknown option %s\n", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "train_csv: bad value for %s: %s\n", a, v);
            return -1;
        }
        i++;
    }
    if (!o->data) {
        fprintf(stderr, "train_csv: no data file given\n");
        return -1;
    }
    return 0;
}

/* The default holdout share, when it gives at least MIN_HOLDOUT windows. */
#define DEFAULT_HOLDOUT 0.1
#define MIN_HOLDOUT 50

/* The default time budget in minutes, whatever the size of the data: small
 * multivariate series still improve after 20000 steps, which 5 minutes do not
 * give on a busy or slow core (docs/QUALITY.md, "Small data"). */
#define DEFAULT_MINUTES 10.0

static int load_data(const options *o, const grugan_dataset_config *dc, grugan_dataset **data,
                     grugan_error *err)
{
    if (cli_ends_with(o->data, ".npy")) return grugan_dataset_from_npy(NULL, dc, o->data, data, err);
    return grugan_dataset_from_csv(NULL, dc, o->data, data, err);
}

/* Writes the curve to PREFIX.csv and PREFIX.svg. */
static int write_curve(const progress_view *view, const options *o)
{
    char prefix[4096], path[4200];
    const char *ext = ".safetensors";
    size_t len;
    if (o->curve) {
        snprintf(prefix, sizeof prefix, "%s", o->curve);
    } else {
        snprintf(prefix, sizeof prefix, "%s", o->checkpoint);
        len = strlen(prefix);
        if (len > strlen(ext) && strcmp(prefix + len - strlen(ext), ext) == 0)
            prefix[len - strlen(ext)] = '\0';
        strncat(prefix, "_curve", sizeof prefix - strlen(prefix) - 1);
    }
    snprintf(path, sizeof path, "%s.csv", prefix);
    if (progress_write_csv(view, path) != 0) {
        fprintf(stderr, "train_csv: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s.svg", prefix);
    if (progress_write_svg(view, path, o->data) != 0) {
        fprintf(stderr, "train_csv: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("curve:      %s.csv, %s.svg\n", prefix, prefix);
    return 0;
}

/* The calls that differ between one process (here) and many (train_csv_mpi):
 * the collective ones. Each returns a grugan status; message() explains the
 * last failure. */
typedef struct runner {
    int rank, size;     /* this process, of size (0 of 1 here) */
    void *state;        /* the runner's own */
    int (*attach)(struct runner *r, grugan_trainer *tr);
    void (*detach)(struct runner *r);
    int (*load)(struct runner *r, const char *path);
    /* one step; *stop: every process stops after it (request_stop: Ctrl-C here) */
    int (*step)(struct runner *r, int request_stop, int *stop);
    int (*save)(struct runner *r, const char *path);
    int (*export_generator)(struct runner *r, const char *path);
    const char *(*message)(struct runner *r);
    grugan_trainer *tr;
} runner;

#ifndef TRAIN_CSV_NO_MAIN
/* ---- one process: the trainer's own calls ---- */
static int local_attach(runner *r, grugan_trainer *tr)
{
    r->tr = tr;
    return GRUGAN_OK;
}
static void local_detach(runner *r)
{
    r->tr = NULL;
}
static int local_load(runner *r, const char *path)
{
    return grugan_trainer_load(r->tr, path);
}
static int local_step(runner *r, int request_stop, int *stop)
{
    grugan_progress p;
    int rc;
    if (request_stop) { /* stop before another step */
        *stop = 1;
        return GRUGAN_OK;
    }
    rc = grugan_trainer_step(r->tr);
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    grugan_trainer_progress(r->tr, &p);
    *stop = request_stop || p.finished != GRUGAN_FINISHED_NO;
    return rc;
}
static int local_save(runner *r, const char *path)
{
    return grugan_trainer_save(r->tr, path);
}
static int local_export(runner *r, const char *path)
{
    return grugan_trainer_export(r->tr, path);
}
static const char *local_message(runner *r)
{
    return grugan_trainer_message(r->tr);
}
#endif

/* Ctrl-C: finish the current step, save, stop. */
static volatile sig_atomic_t interrupted = 0;
static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Prints a failed call with the library's message (read after the call) and
 * jumps to cleanup. */
#define CHECK(call, what, msg)                                                                \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        if (rc_ != GRUGAN_OK) {                                                               \
            fprintf(stderr, "train_csv: %s: %s (%s)\n", what, msg, grugan_status_string(rc_)); \
            goto done;                                                                        \
        }                                                                                     \
    } while (0)

/* Mean, standard deviation and autocorrelation errors of up to 1000 generated
 * sequences against as many real ones spread evenly over the dataset (the
 * windows of a series are in time order: the first 1000 would cover only its
 * beginning), all in scaled units. */
static void quality_check(grugan_dataset *data, grugan_generator *gen, size_t n, size_t T,
                          size_t F, uint64_t seed)
{
    const size_t m = n < 1000 ? n : 1000;
    float *real = malloc(m * T * F * sizeof *real), *fake = malloc(m * T * F * sizeof *fake);
    double mean_err = NAN, std_err = NAN, acf_err = NAN;
    int ok = real && fake;
    for (size_t i = 0; ok && i < m; i++)
        ok = grugan_dataset_get(data, (size_t)((double)i * (double)n / (double)m),
                                real + i * T * F, NULL, NULL) == GRUGAN_OK;
    ok = ok && grugan_generator_sample(gen, seed, m, T, NULL, NULL, fake) == GRUGAN_OK;
    ok = ok && grugan_statistics_error(real, m, fake, m, T, F, T > 5 ? 5 : T - 1, &mean_err,
                                       &std_err, &acf_err) == GRUGAN_OK;
    if (ok)
        printf("quality (scaled units, 0 is best): mean error %.4f  std error %.4f  "
               "autocorrelation error %.4f\n",
               mean_err, std_err, acf_err);
    free(real);
    free(fake);
}

/* The whole program, with `r` for the collective calls. */
static int train_csv_main(int argc, char **argv, runner *r)
{
    options o;
    grugan_error err = {0, ""};
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_optimizer_config goc = GRUGAN_OPTIMIZER_CONFIG_INIT, doc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_progress p;
    progress_view view = {0};
    grugan_dataset *data = NULL;
    grugan_generator *gen = NULL;
    grugan_discriminator *disc = NULL;
    grugan_optimizer *gen_opt = NULL, *disc_opt = NULL;
    grugan_trainer *tr = NULL;
    size_t n, n_train, n_hold, T, F;
    int status = 1, stop = 0, attached = 0;

    memset(&o, 0, sizeof o);
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    if (parse_options(argc, argv, &o) != 0) {
        usage(stderr);
        free(o.columns);
        return 2;
    }

    dc.sequence_length = o.seq_len;
    dc.stride = o.stride;
    dc.csv_header = o.header;
    dc.csv_delimiter = o.delimiter;
    dc.columns = o.columns;
    dc.num_columns = o.num_columns;
    dc.seed = o.seed;
    CHECK(load_data(&o, &dc, &data, &err), "data", err.message);
    grugan_dataset_shape(data, &n, &T, &F, NULL);
    if (o.holdout < 0 && !o.no_selection && (double)n * DEFAULT_HOLDOUT >= MIN_HOLDOUT) {
        /* the default holdout, now that the number of windows is known */
        grugan_dataset_free(data);
        data = NULL;
        dc.holdout = (float)DEFAULT_HOLDOUT;
        CHECK(load_data(&o, &dc, &data, &err), "data", err.message);
    } else if (o.holdout > 0) {
        grugan_dataset_free(data);
        data = NULL;
        dc.holdout = (float)o.holdout;
        CHECK(load_data(&o, &dc, &data, &err), "data", err.message);
    }
    grugan_dataset_split(data, &n_train, &n_hold);
    if (o.minutes < 0) o.minutes = DEFAULT_MINUTES;
    printf("%s: %zu windows of %zu steps x %zu features (%zu held out for model selection); "
           "budget %.1f minutes or %lu steps\n",
           o.data, n, T, F, n_hold, o.minutes, o.steps);
    if (!o.shards) o.shards = (unsigned long)r->size;
    if (o.batch > n_train) {
        unsigned long lowered = (unsigned long)n_train - (unsigned long)n_train % o.shards;
        printf("batch size lowered from %lu to the number of training windows, %lu\n", o.batch,
               lowered);
        o.batch = lowered;
    }
    if (o.batch < o.shards || o.batch % o.shards || o.shards < (unsigned long)r->size) {
        fprintf(stderr,
                "train_csv: --batch (%lu) must be a multiple of --shards (%lu), and --shards "
                "at least the number of processes (%d)\n",
                o.batch, o.shards, r->size);
        goto done;
    }

    gc.noise_size = o.noise ? o.noise : F;
    gc.output_size = F;
    gc.hidden_size = o.hidden;
    gc.num_layers = o.layers;
    gc.seed = o.seed;
    CHECK(grugan_generator_create(NULL, &gc, &gen, &err), "generator", err.message);
    dic.kind = o.disc;
    dic.input_size = F;
    dic.hidden_size = o.hidden;
    dic.num_layers = o.layers;
    dic.sequence_length = T;
    dic.seed = o.seed + 1;
    CHECK(grugan_discriminator_create(NULL, &dic, &disc, &err), "discriminator", err.message);
    goc.lr = o.lr_g;
    doc.lr = o.lr_d;
    CHECK(grugan_optimizer_create(NULL, &goc, grugan_generator_params(gen), &gen_opt, &err),
          "generator optimizer", err.message);
    CHECK(grugan_optimizer_create(NULL, &doc, grugan_discriminator_params(disc), &disc_opt, &err),
          "discriminator optimizer", err.message);
    tc.loss = o.loss;
    tc.d_steps = o.d_steps;
    tc.batch_size = o.batch;
    tc.total_steps = o.steps;
    tc.threads = (int32_t)o.threads;
    tc.shards = (int64_t)o.shards;
    tc.moment_matching = (float)o.moment_matching;
    tc.difference_matching = o.difference_matching;
    tc.instance_noise = (float)o.instance_noise;
    tc.gradient_penalty = (float)o.gradient_penalty;
    tc.r1_gamma = (float)o.r1;
    tc.r2_gamma = (float)o.r2;
    tc.max_seconds = 60.0 * o.minutes;
    tc.select_every = o.no_selection ? -1 : (int64_t)o.select_every;
    tc.patience = o.patience == (unsigned long)-1 ? 0 : o.patience == 0 ? -1 : (int64_t)o.patience;
    tc.final_candidates = (int64_t)o.final_candidates; /* 0: the default */
    tc.clip_weights = (float)(o.clip_weights >= 0                ? o.clip_weights
                              : o.loss == GRUGAN_LOSS_WASSERSTEIN ? 0.1
                                                                  : 0.0);
    CHECK(grugan_trainer_create(NULL, &tc, gen, disc, gen_opt, disc_opt, data, &tr, &err),
          "trainer", err.message);
    CHECK(r->attach(r, tr), "attach", r->message(r));
    attached = 1;
    if (o.resume) {
        CHECK(r->load(r, o.checkpoint), o.checkpoint, r->message(r));
        grugan_trainer_progress(tr, &p);
        printf("resumed from %s at step %llu\n", o.checkpoint, (unsigned long long)p.step);
    }

    signal(SIGINT, on_interrupt);
    view.total_steps = o.steps;
    view.budget = tc.max_seconds;
    view.tty = isatty(STDERR_FILENO);
    view.every = o.steps >= 200 ? o.steps / 200 : 1;
    if (view.every > 100) view.every = 100;
    for (grugan_trainer_progress(tr, &p); !p.finished && !stop;) {
        CHECK(r->step(r, interrupted, &stop), "training", r->message(r));
        grugan_trainer_progress(tr, &p);
        if (r->rank == 0) progress_show(&view, &p); /* the first process speaks */
        if (o.save_every && p.step % o.save_every == 0 && !stop)
            CHECK(r->save(r, o.checkpoint), o.checkpoint, r->message(r));
    }
    if (!p.finished)
        printf("%s at step %llu\n", interrupted ? "interrupted" : "stopped with the others",
               (unsigned long long)p.step);
    else
        printf("finished after %llu steps and %.0f s: %s\n", (unsigned long long)p.step,
               p.elapsed_seconds, progress_finish_reason(p.finished));
    /* stopped before the trainer finished (Ctrl-C, or another process's clock):
     * the final ranking is still due */
    if (!p.finished)
        CHECK(grugan_trainer_rank_final(tr), "final ranking", grugan_trainer_message(tr));
    grugan_trainer_progress(tr, &p);
    progress_print_kept(stdout, &p,
                        "that generator is the one the checkpoint and the export give");

    CHECK(r->save(r, o.checkpoint), o.checkpoint, r->message(r));
    printf("checkpoint: %s\n", o.checkpoint);
    if (o.export_path) {
        CHECK(r->export_generator(r, o.export_path), o.export_path, r->message(r));
        printf("generator:  %s\n", o.export_path);
    }
    if (r->rank == 0) { /* the curve and the check are the first process's */
        if (write_curve(&view, &o) != 0) goto done;
        /* the quality check looks at the generator that was kept */
        CHECK(grugan_trainer_restore_best(tr), "best generator", grugan_trainer_message(tr));
        quality_check(data, gen, n, T, F, o.seed + 100);
    }
    status = interrupted ? 130 : 0;
done:
    if (attached) r->detach(r);
    grugan_trainer_free(tr);
    grugan_optimizer_free(gen_opt);
    grugan_optimizer_free(disc_opt);
    grugan_discriminator_free(disc);
    grugan_generator_free(gen);
    grugan_dataset_free(data);
    free(o.columns);
    free(view.points);
    return status;
}

#ifndef TRAIN_CSV_NO_MAIN
int main(int argc, char **argv)
{
    runner r = {0, 1, NULL, local_attach, local_detach, local_load, local_step,
                local_save, local_export, local_message, NULL};
    return train_csv_main(argc, argv, &r);
}
#endif
