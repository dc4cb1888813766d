/* gru_bench.c - times grugan_gru forward and forward+backward through the
 * public API only, for the configurations of docs/PERFORMANCE.md.
 *
 * For each configuration and thread count it prints one line
 *   grugan config=I5-H24-L3-T24-B128 threads=1 fwd_ms=0.912 fwdbwd_ms=3.401 \
 *          fwd_repeats=1097 fwdbwd_repeats=294 fwd_mflop=55.296 fwdbwd_mflop=165.888
 * with the median milliseconds over the repeats that follow a warm-up and the
 * million flops of the matrix products of one call (product_mflop).
 *
 *   forward            grugan_gru_forward(x, h0 = NULL, lengths = NULL, out, h_n)
 *   forward+backward   grugan_params_zero_grad, grugan_gru_forward as above, then
 *                      grugan_gru_backward(d_out, d_hn = NULL, d_x, d_h0 = NULL,
 *                      GRUGAN_BACKWARD_PARAMS): parameter gradients and dL/dx,
 *                      what PyTorch computes for loss.backward() when x has
 *                      requires_grad and no h0 is given.
 *
 * Options (bench/run.sh passes its arguments through):
 *   --config NAME    a configuration: timegan, mid, large, or any
 *                    I<i>-H<h>-L<l>-T<t>-B<b>; may be repeated or comma-separated
 *                    (default: the three of docs/PERFORMANCE.md)
 *   --threads LIST   comma-separated thread counts (default 1,2)
 *   --repeats N      at least N timed repeats per measurement (default 10);
 *                    repeats continue until --min-time seconds were timed
 *   --min-time S     seconds of timing per measurement (default 1)
 *   --quick          1 warm-up, 3 repeats, no minimum time (smoke test)
 */
#include <grugan.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONFIGS 16
#define MAX_THREADS 16
#define MAX_REPEATS 100000

typedef struct config {
    size_t input, hidden, layers, steps, batch;
} config;

typedef struct options {
    config configs[MAX_CONFIGS];
    size_t n_configs;
    int threads[MAX_THREADS];
    size_t n_threads;
    size_t min_repeats;
    size_t warmup;
    double min_time;
    double warmup_time;
} options;

/* The configurations of the benchmark table, with short aliases. */
static const struct {
    const char *alias;
    config cfg;
} known_configs[] = {
    {"timegan", {5, 24, 3, 24, 128}},
    {"mid", {64, 256, 1, 50, 64}},
    {"large", {128, 512, 2, 100, 32}},
};
#define N_KNOWN (sizeof known_configs / sizeof known_configs[0])

/* Everything one measurement touches: the GRU and its (B, T, .) buffers. */
typedef struct bench_case {
    config cfg;
    grugan_gru *gru;
    float *x;     /* (B, T, I) */
    float *out;   /* (B, T, H) */
    float *h_n;   /* (L, B, H) */
    float *d_out; /* (B, T, H) */
    float *d_x;   /* (B, T, I) */
} bench_case;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Million flops (2 per multiply-add) of the matrix products of a forward
 * (backward == 0) or a forward+backward, summed over layers of input In
 * (I, then H):
 *   forward    x W_ih^T and h W_hh^T over T*B rows: 2 T B 3H (In + H)
 *   backward   dh = dgh W_hh, dW_hh, dW_ih, dx: twice the forward's
 * The elementwise gate math is not counted: this is the part a peak FMA rate
 * bounds. */
static double product_mflop(const config *c, int backward)
{
    double sum = 0.0;
    for (size_t l = 0; l < c->layers; l++) {
        const double in = (double)(l == 0 ? c->input : c->hidden);
        sum += 2.0 * (double)c->steps * (double)c->batch * 3.0 * (double)c->hidden *
               (in + (double)c->hidden);
    }
    return (backward ? 3.0 : 1.0) * sum * 1e-6;
}

static void config_name(const config *c, char *buf, size_t size)
{
    snprintf(buf, size, "I%zu-H%zu-L%zu-T%zu-B%zu", c->input, c->hidden, c->layers, c->steps,
             c->batch);
}

/* Parses "I5-H24-L3-T24-B128" (case-insensitive letters) into *c. */
static int parse_config_name(const char *s, config *c)
{
    static const char letters[] = "IHLTB";
    size_t *fields[5];
    fields[0] = &c->input;
    fields[1] = &c->hidden;
    fields[2] = &c->layers;
    fields[3] = &c->steps;
    fields[4] = &c->batch;
    for (size_t i = 0; i < 5; i++) {
        char *end;
        unsigned long long v;
        if ((*s | 0x20) != (letters[i] | 0x20)) return -1;
        s++;
        if (*s < '0' || *s > '9') return -1;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || v == 0 || v > 1000000) return -1;
        *fields[i] = (size_t)v;
        s = end;
        if (i < 4) {
            if (*s != '-') return -1;
            s++;
        }
    }
    return *s == '\0' ? 0 : -1;
}

static int add_config(options *o, const char *name)
{
    config c;
    if (o->n_configs == MAX_CONFIGS) {
        fprintf(stderr, "gru_bench: at most %d configurations\n", MAX_CONFIGS);
        return -1;
    }
    for (size_t i = 0; i < N_KNOWN; i++)
        if (strcmp(name, known_configs[i].alias) == 0) {
            o->configs[o->n_configs++] = known_configs[i].cfg;
            return 0;
        }
    if (parse_config_name(name, &c) != 0) {
        fprintf(stderr,
                "gru_bench: unknown configuration '%s' (timegan, mid, large or "
                "I<i>-H<h>-L<l>-T<t>-B<b>)\n",
                name);
        return -1;
    }
    o->configs[o->n_configs++] = c;
    return 0;
}

/* Calls add_config for each item of a comma-separated list. */
static int add_configs(options *o, const char *list)
{
    char buf[256];
    char *item, *save = NULL;
    if (strlen(list) >= sizeof buf) {
        fprintf(stderr, "gru_bench: --config list too long\n");
        return -1;
    }
    strcpy(buf, list);
    for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save))
        if (add_config(o, item) != 0) return -1;
    return 0;
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
            fprintf(stderr, "gru_bench: bad --threads '%s' (e.g. 1,2)\n", list);
            return -1;
        }
        o->threads[o->n_threads++] = (int)v;
        if (*end == '\0') return 0;
        if (*end != ',') {
            fprintf(stderr, "gru_bench: bad --threads '%s' (e.g. 1,2)\n", list);
            return -1;
        }
        s = end + 1;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gru_bench [--config NAME[,NAME...]]... [--threads 1,2] [--repeats N]\n"
               "                 [--min-time SECONDS] [--quick]\n"
               "NAME: timegan (I5-H24-L3-T24-B128), mid (I64-H256-L1-T50-B64),\n"
               "      large (I128-H512-L2-T100-B32) or any I<i>-H<h>-L<l>-T<t>-B<b>\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    int quick = 0;
    memset(o, 0, sizeof *o);
    o->threads[0] = 1;
    o->threads[1] = 2;
    o->n_threads = 2;
    o->min_repeats = 10;
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
            fprintf(stderr, "gru_bench: %s needs a value\n", a);
            return -1;
        } else if (strcmp(a, "--config") == 0) {
            if (add_configs(o, v) != 0) return -1;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (parse_threads(o, v) != 0) return -1;
            i++;
        } else if (strcmp(a, "--repeats") == 0) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n < 1 || n > MAX_REPEATS) {
                fprintf(stderr, "gru_bench: --repeats must be 1..%d\n", MAX_REPEATS);
                return -1;
            }
            o->min_repeats = (size_t)n;
            i++;
        } else if (strcmp(a, "--min-time") == 0) {
            char *end;
            double t = strtod(v, &end);
            if (*v == '\0' || *end != '\0' || !(t >= 0.0 && t <= 3600.0)) {
                fprintf(stderr, "gru_bench: --min-time must be 0..3600 seconds\n");
                return -1;
            }
            o->min_time = t;
            i++;
        } else {
            fprintf(stderr, "gru_bench: unknown option '%s'\n", a);
            usage(stderr);
            return -1;
        }
    }
    if (o->n_configs == 0)
        for (size_t i = 0; i < N_KNOWN; i++) o->configs[o->n_configs++] = known_configs[i].cfg;
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

/* Uniform in [-1, 1) from a 64-bit linear congruential generator. */
static void fill_uniform(float *a, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) {
        *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
        a[i] = (float)((double)(*state >> 40) * (1.0 / 8388608.0) - 1.0);
    }
}

static int fail(const bench_case *bc, const char *what, int rc)
{
    fprintf(stderr, "gru_bench: %s failed: %s (%s)\n", what, grugan_status_string(rc),
            grugan_gru_message(bc->gru));
    return rc;
}

static void case_free(bench_case *bc)
{
    grugan_gru_free(bc->gru);
    free(bc->x);
    free(bc->out);
    free(bc->h_n);
    free(bc->d_out);
    free(bc->d_x);
    memset(bc, 0, sizeof *bc);
}

static int case_init(bench_case *bc, const config *c)
{
    grugan_gru_config gc = GRUGAN_GRU_CONFIG_INIT;
    grugan_error err;
    size_t bt = c->batch * c->steps;
    uint64_t seed = 12345;
    int rc;

    memset(bc, 0, sizeof *bc);
    bc->cfg = *c;
    gc.input_size = c->input;
    gc.hidden_size = c->hidden;
    gc.num_layers = c->layers;
    gc.seed = 1;
    rc = grugan_gru_create(NULL, &gc, &bc->gru, &err);
    if (rc != GRUGAN_OK) {
        fprintf(stderr, "gru_bench: grugan_gru_create failed: %s\n", err.message);
        return rc;
    }
    bc->x = malloc(bt * c->input * sizeof(float));
    bc->out = malloc(bt * c->hidden * sizeof(float));
    bc->h_n = malloc(c->layers * c->batch * c->hidden * sizeof(float));
    bc->d_out = malloc(bt * c->hidden * sizeof(float));
    bc->d_x = malloc(bt * c->input * sizeof(float));
    if (!bc->x || !bc->out || !bc->h_n || !bc->d_out || !bc->d_x) {
        fprintf(stderr, "gru_bench: out of memory\n");
        case_free(bc);
        return GRUGAN_E_NOMEM;
    }
    fill_uniform(bc->x, bt * c->input, &seed);
    fill_uniform(bc->d_out, bt * c->hidden, &seed);
    rc = grugan_gru_reserve(bc->gru, c->batch, c->steps);
    if (rc != GRUGAN_OK) {
        fail(bc, "grugan_gru_reserve", rc);
        case_free(bc);
        return rc;
    }
    return GRUGAN_OK;
}

static int run_forward(bench_case *bc)
{
    int rc = grugan_gru_forward(bc->gru, bc->cfg.batch, bc->cfg.steps, bc->x, NULL, NULL,
                                bc->out, bc->h_n);
    return rc == GRUGAN_OK ? rc : fail(bc, "grugan_gru_forward", rc);
}

static int run_forward_backward(bench_case *bc)
{
    int rc = grugan_params_zero_grad(grugan_gru_params(bc->gru));
    if (rc != GRUGAN_OK) return fail(bc, "grugan_params_zero_grad", rc);
    rc = run_forward(bc);
    if (rc != GRUGAN_OK) return rc;
    rc = grugan_gru_backward(bc->gru, bc->d_out, NULL, bc->d_x, NULL, GRUGAN_BACKWARD_PARAMS);
    return rc == GRUGAN_OK ? rc : fail(bc, "grugan_gru_backward", rc);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs fn for the warm-up, then times it until both min_repeats and min_time
 * are reached; *median_ms and *repeats receive the result. */
static int measure(bench_case *bc, int (*fn)(bench_case *), const options *o,
                   double *samples, double *median_ms, size_t *repeats)
{
    double start = now_seconds(), timed = 0.0;
    size_t n = 0;
    int rc;
    for (size_t i = 0; i < o->warmup || now_seconds() - start < o->warmup_time; i++)
        if ((rc = fn(bc)) != GRUGAN_OK) return rc;
    while (n < o->min_repeats || (timed < o->min_time && n < MAX_REPEATS)) {
        double t0 = now_seconds(), dt;
        if ((rc = fn(bc)) != GRUGAN_OK) return rc;
        dt = now_seconds() - t0;
        samples[n++] = dt * 1e3;
        timed += dt;
    }
    qsort(samples, n, sizeof *samples, compare_double);
    *median_ms = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
    *repeats = n;
    return GRUGAN_OK;
}

int main(int argc, char **argv)
{
    options o;
    double *samples;
    int status = 0;

    if (parse_args(argc, argv, &o) != 0) return 2;
    samples = malloc(MAX_REPEATS * sizeof *samples);
    if (!samples) {
        fprintf(stderr, "gru_bench: out of memory\n");
        return 1;
    }
    printf("# libgrugan %s, median ms after warm-up; forward keeps what backward needs\n",
           grugan_version_string());
    for (size_t c = 0; c < o.n_configs && status == 0; c++) {
        bench_case bc;
        char name[128];
        config_name(&o.configs[c], name, sizeof name);
        if (case_init(&bc, &o.configs[c]) != GRUGAN_OK) {
            status = 1;
            break;
        }
        for (size_t t = 0; t < o.n_threads; t++) {
            double fwd_ms, fwdbwd_ms;
            size_t fwd_n, fwdbwd_n;
            int rc = grugan_gru_set(bc.gru, GRUGAN_KEY_THREADS, (double)o.threads[t]);
            if (rc != GRUGAN_OK) {
                fail(&bc, "grugan_gru_set(GRUGAN_KEY_THREADS)", rc);
                status = 1;
                break;
            }
            if (measure(&bc, run_forward, &o, samples, &fwd_ms, &fwd_n) != GRUGAN_OK ||
                measure(&bc, run_forward_backward, &o, samples, &fwdbwd_ms, &fwdbwd_n) !=
                    GRUGAN_OK) {
                status = 1;
                break;
            }
            printf("grugan config=%s threads=%d fwd_ms=%.4f fwdbwd_ms=%.4f fwd_repeats=%zu "
                   "fwdbwd_repeats=%zu fwd_mflop=%.3f fwdbwd_mflop=%.3f\n",
                   name, o.threads[t], fwd_ms, fwdbwd_ms, fwd_n, fwdbwd_n,
                   product_mflop(&o.configs[c], 0), product_mflop(&o.configs[c], 1));
            fflush(stdout);
        }
        case_free(&bc);
    }
    free(samples);
    return status;
}
