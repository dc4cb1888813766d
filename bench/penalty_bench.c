/* penalty_bench.c - times one discriminator update of the CONV1D
 * discriminator (train_csv's default) at TimeGAN size, plain and with each
 * gradient penalty, through the public API only.
 *
 *   data           x (2B, T, F) uniform in [0, 1]: B "real" rows, B "fake"
 *   discriminator  CONV1D, its defaults: 3 convolutions of 32 channels,
 *                  kernel 5, stride 2, padding 2, leaky ReLU 0.2, head
 *   optimizer      Adam, lr 1e-3
 *   update         forward of the 2B rows, BCE on both halves, backward,
 *                  Adam step; r1: plus grugan_discriminator_penalty on the
 *                  same forward (squared norm, real rows, gamma 1); gp: plus
 *                  a forward of B interpolates and the unit-norm penalty
 *                  (lambda 10)
 * T = 24, F = 5, B = 128. Prints one line
 *   grugan_penalty config=timegan-conv threads=1 plain_ms=.. r1_ms=.. gp_ms=.. repeats=..
 * with the median wall-clock milliseconds of an update of each kind.
 *
 * Options: --threads N (default 1), --repeats N (default 200), --quick (3
 * repeats).
 */
#include <grugan.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { T = 24, F = 5, BATCH = 128, MAX_REPEATS = 100000 };
enum { PLAIN, R1, GP, KINDS };

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Everything an update uses. */
typedef struct bench {
    grugan_discriminator *disc;
    grugan_optimizer *opt;
    float *x;      /* (2B, T, F) */
    float *x_hat;  /* (B, T, F) */
    float *logit;  /* (2B) */
    float *dlogit; /* (2B) */
    float *w;      /* (2B) penalty weights */
} bench;

#define TRY(call)                                                                          \
    do {                                                                                   \
        if ((call) != GRUGAN_OK) {                                                         \
            fprintf(stderr, "penalty_bench: %s failed: %s\n", #call,                       \
                    grugan_discriminator_message(b->disc));                                \
            return -1;                                                                     \
        }                                                                                  \
    } while (0)

/* One discriminator update of this kind. */
static int update(bench *b, int kind)
{
    const size_t seq = T * F;
    float real, fake, pen;
    TRY(grugan_discriminator_forward(b->disc, 2 * BATCH, T, b->x, NULL, NULL, b->logit));
    TRY(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_REAL, BATCH, 1, b->logit, NULL, 0.0f, &real,
                    b->dlogit));
    TRY(grugan_loss(GRUGAN_LOSS_BCE, GRUGAN_TARGET_FAKE, BATCH, 1, b->logit + BATCH, NULL, 0.0f,
                    &fake, b->dlogit + BATCH));
    TRY(grugan_optimizer_zero_grad(b->opt));
    TRY(grugan_discriminator_backward(b->disc, b->dlogit, NULL, NULL, GRUGAN_BACKWARD_PARAMS));
    if (kind == R1) /* gamma / 2 mean_real ||g||^2 = 1 / 2B sum over weights 1, 0 */
        TRY(grugan_discriminator_penalty(b->disc, GRUGAN_PENALTY_SQUARED_NORM, 1.0f, b->w, &pen,
                                         NULL, GRUGAN_BACKWARD_PARAMS));
    if (kind == GP) {
        for (size_t i = 0; i < BATCH * seq; i++)
            b->x_hat[i] = 0.5f * b->x[i] + 0.5f * b->x[BATCH * seq + i];
        TRY(grugan_discriminator_forward(b->disc, BATCH, T, b->x_hat, NULL, NULL, b->logit));
        TRY(grugan_discriminator_penalty(b->disc, GRUGAN_PENALTY_UNIT_NORM, 10.0f, NULL, &pen,
                                         NULL, GRUGAN_BACKWARD_PARAMS));
    }
    if (grugan_optimizer_step(b->opt) != GRUGAN_OK) return -1;
    return 0;
}

int main(int argc, char **argv)
{
    grugan_discriminator_config dc = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_error err;
    bench bench_, *b = &bench_;
    size_t repeats = 200;
    int threads = 1;
    double ms[KINDS], *times;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            repeats = 3;
        } else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) {
            threads = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--repeats") == 0) {
            repeats = (size_t)strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: penalty_bench [--threads N] [--repeats N] [--quick]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 256 || repeats < 1 || repeats > MAX_REPEATS) {
        fprintf(stderr, "penalty_bench: --threads 1..256, --repeats 1..%d\n", MAX_REPEATS);
        return 2;
    }
    memset(b, 0, sizeof *b);
    dc.kind = GRUGAN_DISC_CONV1D;
    dc.input_size = F;
    dc.sequence_length = T;
    dc.seed = 1;
    if (grugan_discriminator_create(NULL, &dc, &b->disc, &err) != GRUGAN_OK ||
        grugan_optimizer_create(NULL, NULL, grugan_discriminator_params(b->disc), &b->opt,
                                &err) != GRUGAN_OK) {
        fprintf(stderr, "penalty_bench: %s\n", err.message);
        return 1;
    }
    grugan_discriminator_set(b->disc, GRUGAN_KEY_THREADS, threads);
    grugan_optimizer_set(b->opt, GRUGAN_KEY_THREADS, threads);
    b->x = malloc(2 * BATCH * T * F * sizeof *b->x);
    b->x_hat = malloc(BATCH * T * F * sizeof *b->x_hat);
    b->logit = malloc(2 * BATCH * sizeof *b->logit);
    b->dlogit = malloc(2 * BATCH * sizeof *b->dlogit);
    b->w = malloc(2 * BATCH * sizeof *b->w);
    times = malloc(repeats * sizeof *times);
    if (!b->x || !b->x_hat || !b->logit || !b->dlogit || !b->w || !times) return 1;
    for (size_t i = 0; i < 2 * BATCH * T * F; i++)
        b->x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (size_t i = 0; i < 2 * BATCH; i++) b->w[i] = i < BATCH ? 1.0f : 0.0f;
    for (int kind = 0; kind < KINDS; kind++) {
        for (int warm = 0; warm < 3; warm++)
            if (update(b, kind) != 0) return 1;
        for (size_t r = 0; r < repeats; r++) {
            const double t0 = now_seconds();
            if (update(b, kind) != 0) return 1;
            times[r] = 1e3 * (now_seconds() - t0);
        }
        qsort(times, repeats, sizeof *times, by_value);
        ms[kind] = times[repeats / 2];
    }
    printf("grugan_penalty config=timegan-conv threads=%d plain_ms=%.4f r1_ms=%.4f gp_ms=%.4f "
           "repeats=%zu\n",
           threads, ms[PLAIN], ms[R1], ms[GP], repeats);
    grugan_optimizer_free(b->opt);
    grugan_discriminator_free(b->disc);
    free(b->x), free(b->x_hat), free(b->logit), free(b->dlogit), free(b->w), free(times);
    return 0;
}
