/*
 * custom_loop - a Wasserstein GAN with weight clipping (Arjovsky et al. 2017)
 * written with the low-level handles only: no dataset, no trainer.
 *
 * Shows: creating a generator, a critic (a discriminator whose logits are
 * read as scores), one optimizer for each; a critic update (forward real and
 * fake, grugan_loss on each, backward accumulating the critic's gradients,
 * optimizer step, grugan_params_clamp); a generator update (backward through
 * the frozen critic with GRUGAN_BACKWARD_INPUT_ONLY into the generator);
 * several critic updates per generator update.
 *
 *   custom_loop [--steps N] [--critic K] [--clip C] [--lr X]
 *               [--optimizer rmsprop|adam] [--batch B] [--threads K] [--seed X]
 *
 * Prints the critic's estimate of the Wasserstein distance as training goes,
 * then compares a few statistics of real and generated sequences. The WGAN
 * paper's clip 0.01 and learning rate 5e-5 suit its large image critics; this
 * small GRU critic needs more room (0.1) to tell sines apart within a minute.
 */
#include <grugan.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T = 24, F = 3, Z = 3 };

typedef struct options {
    unsigned long steps, critic, batch, seed;
    double clip, lr;
    int adam, threads;
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: custom_loop [options]\n"
            "  --steps N        generator updates (default 500)\n"
            "  --critic K       critic updates per generator update (default 5)\n"
            "  --clip C         critic weights are clamped to [-C, C] (default 0.1)\n"
            "  --lr X           learning rate of both models (default 5e-4)\n"
            "  --optimizer O    rmsprop (default, as the WGAN paper) or adam\n"
            "  --batch B        sequences per batch (default 64)\n"
            "  --threads K      threads, 1..256 (default 1)\n"
            "  --seed X         seed of the data, the weights and the noise (default 1)\n");
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

static int parse_options(int argc, char **argv, options *o)
{
    o->steps = 500, o->critic = 5, o->batch = 64, o->seed = 1;
    o->clip = 0.1, o->lr = 5e-4, o->adam = 0, o->threads = 1;
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n = 0;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "custom_loop: %s needs a value\n", a);
            return -1;
        }
        if (strcmp(a, "--steps") == 0) bad = parse_count(v, &o->steps) || o->steps < 1;
        else if (strcmp(a, "--critic") == 0) bad = parse_count(v, &o->critic) || o->critic < 1;
        else if (strcmp(a, "--batch") == 0) bad = parse_count(v, &o->batch) || o->batch < 1;
        else if (strcmp(a, "--seed") == 0) bad = parse_count(v, &o->seed);
        else if (strcmp(a, "--threads") == 0) {
            bad = parse_count(v, &n) || n < 1 || n > 256;
            o->threads = (int)n;
        } else if (strcmp(a, "--clip") == 0 || strcmp(a, "--lr") == 0) {
            char *end;
            double x;
            errno = 0;
            x = strtod(v, &end);
            bad = errno || *end || end == v || !(x > 0) || !isfinite(x);
            if (a[2] == 'c') o->clip = x;
            else o->lr = x;
        } else if (strcmp(a, "--optimizer") == 0) {
            bad = strcmp(v, "rmsprop") != 0 && strcmp(v, "adam") != 0;
            o->adam = strcmp(v, "adam") == 0;
        } else {
            fprintf(stderr, "custom_loop: unknown option %s\n", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "custom_loop: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    return 0;
}

/* A batch of sines x = (sin(f t + p) + 1) / 2, f ~ U(0.05, 0.5), p ~ U(0, 2 pi)
 * per sequence and feature, drawn by a small xorshift generator. */
static void real_batch(float *x /* (B, T, F) */, size_t B, unsigned long long *s)
{
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < F; k++) {
            double u[2];
            for (int j = 0; j < 2; j++) {
                *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
                u[j] = (double)(*s >> 11) / 9007199254740992.0;
            }
            for (size_t t = 0; t < T; t++)
                x[(b * T + t) * F + k] =
                    (float)((sin((0.05 + 0.45 * u[0]) * (double)t + 6.283185307 * u[1]) + 1) / 2);
        }
}

/* ---- the two updates ------------------------------------------------------------ */

typedef struct gan {
    grugan_generator *gen;
    grugan_discriminator *critic;
    grugan_optimizer *gen_opt, *critic_opt;
    size_t B, P;        /* batch, critic scores per sequence (T: one per step) */
    float *real, *fake; /* (B, T, F) each */
    float *score;       /* (B, P) critic outputs */
    float *d_score;     /* (B, P) */
    float *d_x;         /* (B, T, F) gradient reaching the generator's output */
} gan;

/* Runs a call; on failure prints the library's message (read after the call)
 * and evaluates to 1. */
#define FAILED(call, msg)                                                                    \
    ((rc = (call)) != GRUGAN_OK &&                                                           \
     (fprintf(stderr, "custom_loop: %s (%s)\n", (msg), grugan_status_string(rc)), 1))

/* Critic update: loss = mean C(fake) - mean C(real), both halves accumulating
 * into the critic's gradients, then the step and the clipping. */
static int critic_update(gan *g, unsigned long long *rng, float clip, float *distance)
{
    float loss_real, loss_fake;
    int rc;
    real_batch(g->real, g->B, rng);
    if (FAILED(grugan_generator_forward(g->gen, g->B, T, NULL, NULL, NULL, g->fake),
               grugan_generator_message(g->gen)) ||
        FAILED(grugan_optimizer_zero_grad(g->critic_opt), grugan_optimizer_message(g->critic_opt)))
        return -1;
    if (FAILED(grugan_discriminator_forward(g->critic, g->B, T, g->real, NULL, NULL, g->score),
               grugan_discriminator_message(g->critic)) ||
        FAILED(grugan_loss(GRUGAN_LOSS_WASSERSTEIN, GRUGAN_TARGET_REAL, g->B, g->P, g->score,
                           NULL, 0.0f, &loss_real, g->d_score),
               "critic loss on real data") ||
        FAILED(grugan_discriminator_backward(g->critic, g->d_score, NULL, NULL,
                                             GRUGAN_BACKWARD_PARAMS),
               grugan_discriminator_message(g->critic)))
        return -1;
    if (FAILED(grugan_discriminator_forward(g->critic, g->B, T, g->fake, NULL, NULL, g->score),
               grugan_discriminator_message(g->critic)) ||
        FAILED(grugan_loss(GRUGAN_LOSS_WASSERSTEIN, GRUGAN_TARGET_FAKE, g->B, g->P, g->score,
                           NULL, 0.0f, &loss_fake, g->d_score),
               "critic loss on generated data") ||
        FAILED(grugan_discriminator_backward(g->critic, g->d_score, NULL, NULL,
                                             GRUGAN_BACKWARD_PARAMS),
               grugan_discriminator_message(g->critic)))
        return -1;
    if (FAILED(grugan_optimizer_step(g->critic_opt), grugan_optimizer_message(g->critic_opt)) ||
        FAILED(grugan_params_clamp(grugan_discriminator_params(g->critic), clip),
               grugan_params_message(grugan_discriminator_params(g->critic))))
        return -1;
    *distance = -(loss_real + loss_fake); /* mean C(real) - mean C(fake) */
    return 0;
}

/* Generator update: loss = -mean C(fake); the critic only passes the gradient
 * back to its input (INPUT_ONLY leaves its parameter gradients alone). */
static int generator_update(gan *g, float *loss)
{
    int rc;
    if (FAILED(grugan_optimizer_zero_grad(g->gen_opt), grugan_optimizer_message(g->gen_opt)) ||
        FAILED(grugan_generator_forward(g->gen, g->B, T, NULL, NULL, NULL, g->fake),
               grugan_generator_message(g->gen)) ||
        FAILED(grugan_discriminator_forward(g->critic, g->B, T, g->fake, NULL, NULL, g->score),
               grugan_discriminator_message(g->critic)) ||
        FAILED(grugan_loss(GRUGAN_LOSS_WASSERSTEIN, GRUGAN_TARGET_GENERATOR, g->B, g->P,
                           g->score, NULL, 0.0f, loss, g->d_score),
               "generator loss") ||
        FAILED(grugan_discriminator_backward(g->critic, g->d_score, NULL, g->d_x,
                                             GRUGAN_BACKWARD_INPUT_ONLY),
               grugan_discriminator_message(g->critic)) ||
        FAILED(grugan_generator_backward(g->gen, g->d_x), grugan_generator_message(g->gen)) ||
        FAILED(grugan_optimizer_step(g->gen_opt), grugan_optimizer_message(g->gen_opt)))
        return -1;
    return 0;
}

/* Mean and mean absolute step-to-step change over a batch: a rough look at
 * level and smoothness. */
static void describe(const char *name, const float *x, size_t B)
{
    double mean = 0, change = 0;
    for (size_t i = 0; i < B * T * F; i++) mean += x[i];
    for (size_t b = 0; b < B; b++)
        for (size_t t = 1; t < T; t++)
            for (size_t k = 0; k < F; k++)
                change += fabs(x[(b * T + t) * F + k] - x[(b * T + t - 1) * F + k]);
    printf("%-9s mean %.3f  mean |x[t] - x[t-1]| %.3f\n", name, mean / (double)(B * T * F),
           change / (double)(B * (T - 1) * F));
}

int main(int argc, char **argv)
{
    options o;
    grugan_error err = {0, ""};
    grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
    grugan_discriminator_config cc = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    grugan_optimizer_config oc = GRUGAN_OPTIMIZER_CONFIG_INIT;
    gan g;
    unsigned long long rng;
    int rc, status = 1;

    if (parse_options(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    memset(&g, 0, sizeof g);
    rng = o.seed * 0x9E3779B97F4A7C15ull + 1;
    g.B = o.batch;

    gc.noise_size = Z;
    gc.output_size = F;
    gc.hidden_size = 16;
    gc.num_layers = 2;
    gc.seed = o.seed;
    cc.input_size = F;
    cc.hidden_size = 16;
    cc.num_layers = 1;
    cc.seed = o.seed + 1;
    oc.kind = o.adam ? GRUGAN_OPT_ADAM : GRUGAN_OPT_RMSPROP;
    oc.lr = o.lr;
    if (FAILED(grugan_generator_create(NULL, &gc, &g.gen, &err), err.message) ||
        FAILED(grugan_discriminator_create(NULL, &cc, &g.critic, &err), err.message) ||
        FAILED(grugan_optimizer_create(NULL, &oc, grugan_generator_params(g.gen), &g.gen_opt,
                                       &err),
               err.message) ||
        FAILED(grugan_optimizer_create(NULL, &oc, grugan_discriminator_params(g.critic),
                                       &g.critic_opt, &err),
               err.message))
        goto done;
    if (FAILED(grugan_generator_set(g.gen, GRUGAN_KEY_THREADS, o.threads),
               grugan_generator_message(g.gen)) ||
        FAILED(grugan_discriminator_set(g.critic, GRUGAN_KEY_THREADS, o.threads),
               grugan_discriminator_message(g.critic)))
        goto done;

    g.P = grugan_discriminator_logit_count(g.critic, T);
    g.real = malloc(g.B * T * F * sizeof *g.real);
    g.fake = malloc(g.B * T * F * sizeof *g.fake);
    g.d_x = malloc(g.B * T * F * sizeof *g.d_x);
    g.score = malloc(g.B * g.P * sizeof *g.score);
    g.d_score = malloc(g.B * g.P * sizeof *g.d_score);
    if (!g.real || !g.fake || !g.d_x || !g.score || !g.d_score) {
        fprintf(stderr, "custom_loop: out of memory\n");
        goto done;
    }

    printf("WGAN with weight clipping: %lu generator steps, %lu critic steps each, %s\n",
           o.steps, o.critic, o.adam ? "Adam" : "RMSprop");
    for (unsigned long step = 1; step <= o.steps; step++) {
        float distance = 0, g_loss = 0;
        for (unsigned long k = 0; k < o.critic; k++)
            if (critic_update(&g, &rng, (float)o.clip, &distance) != 0) goto done;
        if (generator_update(&g, &g_loss) != 0) goto done;
        if (step % (o.steps < 10 ? 1 : o.steps / 10) == 0 || step == o.steps)
            printf("step %5lu  Wasserstein estimate %.5f  generator loss %.5f\n", step, distance,
                   g_loss);
    }
    real_batch(g.real, g.B, &rng);
    describe("real", g.real, g.B);
    describe("generated", g.fake, g.B);
    status = 0;
done:
    grugan_optimizer_free(g.gen_opt);
    grugan_optimizer_free(g.critic_opt);
    grugan_discriminator_free(g.critic);
    grugan_generator_free(g.gen);
    free(g.real);
    free(g.fake);
    free(g.d_x);
    free(g.score);
    free(g.d_score);
    return status;
}
