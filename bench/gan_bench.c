/* gan_bench.c - times one GAN training iteration (one discriminator update and
 * one generator update) at TimeGAN size, through the public API only.
 *
 * Setup, the same for every thread count (a fresh set of handles each time):
 *   data           Sines (DESIGN: 10000 sequences, T = 24, F = 5,
 *                  x = (sin(f t + p) + 1) / 2 with f, p ~ U(0, 0.1) per
 *                  sequence and feature), from an in-memory array,
 *                  min-max scaled (the default)
 *   generator      Z = 5 (normal noise), GRU of 3 layers, H = 24, per-step
 *                  linear head to F = 5, sigmoid
 *   discriminator  GRU of 3 layers, H = 24, per-step logits
 *   optimizers     Adam, lr 1e-3, one per model
 *   trainer        binary cross-entropy, d_steps 1, batch 128, threads n
 * and the timed call is grugan_trainer_step: a real minibatch, 128 fakes, both
 * through the discriminator as one batch of 256, its backward and Adam step;
 * then 128 fresh fakes through the frozen discriminator (input-only
 * backward), the generator's backward and Adam step.
 *
 * For each thread count it prints one line
 *   grugan_gan config=timegan threads=1 step_ms=11.8000 cpu_ms=11.7000 repeats=85 \
 *              step_mflop=667.681
 * with the median wall-clock milliseconds of a step over the repeats that
 * follow a warm-up, the million flops of its matrix products (step_mflop),
 * and the median CPU time of the process per step (all
 * threads, spin-waiting included; on a busy machine the better indication of
 * the work at 1 thread), then a comment line with the losses of the last step
 * (a sanity check).
 *
 * Options (bench/run.sh passes its arguments through):
 *   --config timegan  the only configuration (accepted for symmetry with
 *                     gru_bench)
 *   --threads LIST    comma-separated thread counts (default 1,2)
 *   --repeats N       at least N timed steps (default 20); steps continue
 *                     until --min-time seconds were timed
 *   --min-time S      seconds of timing per thread count (default 1)
 *   --quick           1 warm-up step, 3 timed steps, no minimum time (smoke
 *                     test)
 */
#include <grugan.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 16
#define MAX_REPEATS 100000

/* The TimeGAN-sized configuration of the issue. */
enum { N_SEQ = 10000, T = 24, F = 5, Z = 5, H = 24, LAYERS = 3, BATCH = 128 };

typedef struct options {
    int threads[MAX_THREADS];
    size_t n_threads;
    size_t min_repeats;
    size_t warmup;
    double min_time;
    double warmup_time;
} options;

/* Everything one measurement uses; freed by gan_free. */
typedef struct gan {
    grugan_dataset *data;
    grugan_generator *gen;
    grugan_discriminator *disc;
    grugan_optimizer *gen_opt, *disc_opt;
    grugan_trainer *tr;
} gan;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_threads(options *o, const char *list)
{
    const char *s = list;
    o->n_threads = 0;
    for (;;) {
        char *end;
        long v;
        errno = 0;
        v = strtol(s, &end, 10);
        if (end == s || errno != 0 || v < 1 || v > 256 || o->n_threads == MAX_THREADS) {
            fprintf(stderr, "gan_bench: bad --threads '%s' (e.g. 1,2)\n", list);
            return -1;
        }
        o->threads[o->n_threads++] = (int)v;
        if (*end == '\0') return 0;
        if (*end != ',') {
            fprintf(stderr, "gan_bench: bad --threads '%s' (e.g. 1,2)\n", list);
            return -1;
        }
        s = end + 1;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gan_bench [--config timegan] [--threads 1,2] [--repeats N]\n"
               "                 [--min-time SECONDS] [--quick]\n"
               "times grugan_trainer_step (one discriminator and one generator update) with\n"
               "3-layer GRUs of H=24, F=Z=5, T=24, B=128 on Sines\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    int quick = 0;
    memset(o, 0, sizeof *o);
    o->threads[0] = 1;
    o->threads[1] = 2;
    o->n_threads = 2;
    o->min_repeats = 20;
    o->min_time = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            quick = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (!v) {
            fprintf(stderr, "gan_bench: %s needs a value\n", a);
            return -1;
        } else if (strcmp(a, "--config") == 0) {
            if (strcmp(v, "timegan") != 0) {
                fprintf(stderr, "gan_bench: unknown configuration '%s' (only timegan)\n", v);
                return -1;
            }
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (parse_threads(o, v) != 0) return -1;
            i++;
        } else if (strcmp(a, "--repeats") == 0) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n < 1 || n > MAX_REPEATS) {
                fprintf(stderr, "gan_bench: --repeats must be 1..%d\n", MAX_REPEATS);
                return -1;
            }
            o->min_repeats = (size_t)n;
            i++;
        } else if (strcmp(a, "--min-time") == 0) {
            char *end;
            double t = strtod(v, &end);
            if (*v == '\0' || *end != '\0' || !(t >= 0.0 && t <= 3600.0)) {
                fprintf(stderr, "gan_bench: --min-time must be 0..3600 seconds\n");
                return -1;
            }
            o->min_time = t;
            i++;
        } else {
            fprintf(stderr, "gan_bench: unknown option '%s'\n", a);
            usage(stderr);
            return -1;
        }
    }
    if (quick) {
        o->warmup = 1;
        o->warmup_time = 0.0;
        o->min_repeats = 3;
        o->min_time = 0.0;
    } else {
        o->warmup = 3;
        o->warmup_time = 0.2;
    }
    return 0;
}

/* Uniform in [0, 1) from a 64-bit linear congruential generator. */
static double next_uniform(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) * (1.0 / 9007199254740992.0);
}

/* The Sines data of TimeGAN, (N_SEQ, T, F). */
static void make_sines(float *x, uint64_t seed)
{
    for (size_t i = 0; i < N_SEQ; i++)
        for (size_t k = 0; k < F; k++) {
            const double f = 0.1 * next_uniform(&seed), p = 0.1 * next_uniform(&seed);
            for (size_t t = 0; t < T; t++)
                x[(i * T + t) * F + k] = (float)((sin(f * (double)t + p) + 1.0) / 2.0);
        }
}

static void gan_free(gan *g)
{
    grugan_trainer_free(g->tr);
    grugan_optimizer_free(g->gen_opt);
    grugan_optimizer_free(g->disc_opt);
    grugan_discriminator_free(g->disc);
    grugan_generator_free(g->gen);
    grugan_dataset_free(g->data);
    memset(g, 0, sizeof *g);
}

/* Creates the dataset, both models, both optimizers and the trainer with
 * `threads` threads. */
static int gan_init(gan *g, const float *sines, int threads)
{
    grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
    grugan_error err = {0, ""};
    const char *what;
    int rc;

    memset(g, 0, sizeof *g);
    dc.seed = 1;
    what = "grugan_dataset_from_array";
    rc = grugan_dataset_from_array(NULL, &dc, sines, N_SEQ, T, F, NULL, 0, NULL, &g->data, &err);
    if (rc != GRUGAN_OK) goto fail;

    gc.noise_size = Z;
    gc.output_size = F;
    gc.hidden_size = H;
    gc.num_layers = LAYERS;
    gc.output_activation = GRUGAN_ACT_SIGMOID;
    gc.seed = 2;
    what = "grugan_generator_create";
    rc = grugan_generator_create(NULL, &gc, &g->gen, &err);
    if (rc != GRUGAN_OK) goto fail;

    dic.kind = GRUGAN_DISC_GRU;
    dic.input_size = F;
    dic.hidden_size = H;
    dic.num_layers = LAYERS;
    dic.logits = GRUGAN_LOGITS_PER_STEP;
    dic.seed = 3;
    what = "grugan_discriminator_create";
    rc = grugan_discriminator_create(NULL, &dic, &g->disc, &err);
    if (rc != GRUGAN_OK) goto fail;

    oc.kind = GRUGAN_OPT_ADAM;
    oc.lr = 1e-3;
    what = "grugan_optimizer_create (generator)";
    rc = grugan_optimizer_create(NULL, &oc, grugan_generator_params(g->gen), &g->gen_opt, &err);
    if (rc != GRUGAN_OK) goto fail;
    what = "grugan_optimizer_create (discriminator)";
    rc = grugan_optimizer_create(NULL, &oc, grugan_discriminator_params(g->disc), &g->disc_opt,
                                 &err);
    if (rc != GRUGAN_OK) goto fail;

    tc.loss = GRUGAN_LOSS_BCE;
    tc.d_steps = 1;
    tc.batch_size = BATCH;
    tc.threads = threads;
    tc.moment_matching = -1.0f; /* off: the iteration PyTorch runs too (bench/torch_gan.py) */
    tc.select_every = -1;       /* no quality estimates inside the timed steps */
    what = "grugan_trainer_create";
    rc = grugan_trainer_create(NULL, &tc, g->gen, g->disc, g->gen_opt, g->disc_opt, g->data,
                               &g->tr, &err);
    if (rc != GRUGAN_OK) goto fail;
    return GRUGAN_OK;

fail:
    fprintf(stderr, "gan_bench: %s failed: %s (%s)\n", what, grugan_status_string(rc),
            err.message);
    gan_free(g);
    return rc;
}

/* Million flops (2 per multiply-add) of the matrix products of one step.
 * Per sequence, a forward of the 3-layer GRU stack costs
 * 2 T 3H (In + H) per layer (In = F, then H) plus its head (2 T H F for the
 * generator, 2 T H for the discriminator's logits); a backward with
 * parameter gradients twice that (dh, dW_hh, dW_ih, dx), an input-only one
 * the same as the forward (dh, dx). The step runs: the generator forward
 * twice (B each), the discriminator forward on 2B and on B, its backward
 * with parameters on 2B and input-only on B, the generator's backward on B. */
static double step_mflop(void)
{
    double gru = 0.0, g_fwd, d_fwd;
    for (int l = 0; l < LAYERS; l++)
        gru += 2.0 * T * 3.0 * H * ((l == 0 ? (double)F : (double)H) + H);
    g_fwd = gru + 2.0 * T * H * F;
    d_fwd = gru + 2.0 * T * H;
    return BATCH * (2.0 * g_fwd + 2.0 * d_fwd + d_fwd + 2.0 * 2.0 * d_fwd + d_fwd +
                    2.0 * g_fwd) * 1e-6;
}

static int run_step(gan *g)
{
    int rc = grugan_trainer_step(g->tr);
    if (rc != GRUGAN_OK)
        fprintf(stderr, "gan_bench: grugan_trainer_step failed: %s (%s)\n",
                grugan_status_string(rc), grugan_trainer_message(g->tr));
    return rc;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *samples, size_t n)
{
    qsort(samples, n, sizeof *samples, compare_double);
    return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

/* Runs the warm-up, then times steps until both min_repeats and min_time are
 * reached; *median_ms, *cpu_ms and *repeats receive the result. samples and
 * cpu_samples hold MAX_REPEATS each. */
static int measure(gan *g, const options *o, double *samples, double *cpu_samples,
                   double *median_ms, double *cpu_ms, size_t *repeats)
{
    double start = now_seconds(), timed = 0.0;
    size_t n = 0;
    int rc;
    for (size_t i = 0; i < o->warmup || now_seconds() - start < o->warmup_time; i++)
        if ((rc = run_step(g)) != GRUGAN_OK) return rc;
    while (n < o->min_repeats || (timed < o->min_time && n < MAX_REPEATS)) {
        double t0 = now_seconds(), c0 = cpu_seconds(), dt;
        if ((rc = run_step(g)) != GRUGAN_OK) return rc;
        cpu_samples[n] = (cpu_seconds() - c0) * 1e3;
        dt = now_seconds() - t0;
        samples[n++] = dt * 1e3;
        timed += dt;
    }
    *median_ms = median(samples, n);
    *cpu_ms = median(cpu_samples, n);
    *repeats = n;
    return GRUGAN_OK;
}

int main(int argc, char **argv)
{
    options o;
    double *samples;
    float *sines;
    int status = 0;

    if (parse_args(argc, argv, &o) != 0) return 2;
    samples = malloc(2 * MAX_REPEATS * sizeof *samples);
    sines = malloc((size_t)N_SEQ * T * F * sizeof *sines);
    if (!samples || !sines) {
        fprintf(stderr, "gan_bench: out of memory\n");
        free(samples);
        free(sines);
        return 1;
    }
    make_sines(sines, 12345);
    printf("# libgrugan %s, grugan_trainer_step (1 D + 1 G update), Sines %dx%dx%d, "
           "G and D 3-layer GRU H=%d, Z=%d, B=%d, BCE, Adam; median ms after warm-up\n",
           grugan_version_string(), N_SEQ, T, F, H, Z, BATCH);
    for (size_t t = 0; t < o.n_threads && status == 0; t++) {
        grugan_progress p;
        gan g;
        double ms, cpu_ms;
        size_t n;
        if (gan_init(&g, sines, o.threads[t]) != GRUGAN_OK) {
            status = 1;
            break;
        }
        if (measure(&g, &o, samples, samples + MAX_REPEATS, &ms, &cpu_ms, &n) != GRUGAN_OK) {
            gan_free(&g);
            status = 1;
            break;
        }
        printf("grugan_gan config=timegan threads=%d step_ms=%.4f cpu_ms=%.4f repeats=%zu "
               "step_mflop=%.3f\n",
               o.threads[t], ms, cpu_ms, n, step_mflop());
        memset(&p, 0, sizeof p);
        p.struct_size = sizeof p;
        if (grugan_trainer_progress(g.tr, &p) == GRUGAN_OK)
            printf("# threads=%d after %llu steps: d_loss=%.4f g_loss=%.4f d_real=%.3f "
                   "d_fake=%.3f\n",
                   o.threads[t], (unsigned long long)p.step, (double)p.d_loss, (double)p.g_loss,
                   (double)p.d_real, (double)p.d_fake);
        fflush(stdout);
        gan_free(&g);
    }
    free(samples);
    free(sines);
    return status;
}
