/*
 * penalties.c - the trainer's gradient penalties (R1, R2, WGAN-GP) on top of
 * grugan_discriminator_penalty (docs/gradient-penalties.md).
 *
 * R1 and R2 in one call on the discriminator update's forward of 2B rows
 * (real, then generated): with logit weights omega_b = sqrt(gamma_1) on the
 * real rows and sqrt(gamma_2) on the generated ones, g_b = omega_b grad_b,
 * so with scale 1
 *   1 / 2B * sum_b ||g_b||^2 = gamma_1 / 2 * mean_real ||grad||^2
 *                            + gamma_2 / 2 * mean_fake ||grad||^2.
 * WGAN-GP: a second forward of B interpolates
 *   x_hat_b = e_b seen_real_b + (1 - e_b) seen_fake_b,  e_b ~ U(0, 1)
 * (the real batch's conditions), then lambda * mean (||grad_b|| - 1)^2. The
 * e_b are Philox draws keyed by (the generator's seed,
 * GRUGAN__RNG_INTERPOLATE, update): a pure function of the update.
 */
#include "core/rng.h"
#include "train/trainer_internal.h"

#include <math.h>
#include <string.h>

/* The WGAN-GP lambda of GRUGAN_LOSS_WGAN_GP (Gulrajani et al. 2017). */
#define DEFAULT_GP_LAMBDA 10.0f
/* The critic updates per generator update of GRUGAN_LOSS_WGAN_GP. */
#define DEFAULT_GP_D_STEPS 5

int grugan__penalties_check_config(const grugan_context *ctx, const grugan_trainer_config *c,
                                   grugan_error *err)
{
    if (!isfinite(c->gradient_penalty))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE, "gradient_penalty must be finite");
    if (!(c->r1_gamma >= 0.0f) || !isfinite(c->r1_gamma))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "r1_gamma must be finite and >= 0 (0: none)");
    if (!(c->r2_gamma >= 0.0f) || !isfinite(c->r2_gamma))
        return grugan__error_set(ctx, err, GRUGAN_E_RANGE,
                                 "r2_gamma must be finite and >= 0 (0: none)");
    return GRUGAN_OK;
}

void grugan__penalties_resolve(grugan_trainer_config *c)
{
    const bool wgan_gp = c->loss == GRUGAN_LOSS_WGAN_GP;
    if (c->gradient_penalty == 0.0f) c->gradient_penalty = wgan_gp ? DEFAULT_GP_LAMBDA : 0.0f;
    if (c->gradient_penalty < 0.0f) c->gradient_penalty = 0.0f;
    if (wgan_gp && c->d_steps == 0) c->d_steps = DEFAULT_GP_D_STEPS;
}

static bool any_penalty(const grugan_trainer *tr)
{
    return tr->cfg.gradient_penalty > 0.0f || tr->cfg.r1_gamma > 0.0f || tr->cfg.r2_gamma > 0.0f;
}

int grugan__penalties_setup(grugan_trainer *tr, grugan_error *err)
{
    const grugan_context *ctx = tr->obj.ctx;
    grugan_discriminator_config d = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
    if (!any_penalty(tr)) return GRUGAN_OK;
    grugan_discriminator_get_config(tr->disc, &d);
    if (d.kind != GRUGAN_DISC_CONV1D)
        return grugan__error_set(ctx, err, GRUGAN_E_UNSUPPORTED,
                                 "gradient penalties (gradient_penalty, r1_gamma, r2_gamma) "
                                 "need a CONV1D discriminator; the GRU kind's are not written "
                                 "yet");
    tr->penalty_w = grugan__calloc(ctx, 2 * tr->B, sizeof(float));
    if (!tr->penalty_w)
        return grugan__error_set(ctx, err, GRUGAN_E_NOMEM,
                                 "cannot allocate the gradient penalties' buffers");
    if (tr->cfg.gradient_penalty > 0.0f) {
        /* B * T * F fits: the trainer's x holds twice as much */
        tr->penalty_x = grugan__calloc(ctx, tr->B * tr->T * tr->F, sizeof(float));
        if (!tr->penalty_x)
            return grugan__error_set(ctx, err, GRUGAN_E_NOMEM,
                                     "cannot allocate the gradient penalties' buffers");
    }
    return GRUGAN_OK;
}

void grugan__penalties_release(grugan_trainer *tr)
{
    grugan__free(tr->obj.ctx, tr->penalty_w);
    grugan__free(tr->obj.ctx, tr->penalty_x);
    tr->penalty_w = tr->penalty_x = NULL;
}

/* A failed discriminator call: GRUGAN_E_NONFINITE as it is (the caller's
 * policy decides), anything else with the discriminator's message. */
static int relay(grugan_trainer *tr, int rc, const char *what)
{
    if (rc == GRUGAN_E_NONFINITE) return rc;
    return grugan__fail(&tr->obj, rc, "step %llu: %s failed: %s",
                        (unsigned long long)tr->progress.step + 1, what,
                        grugan_discriminator_message(tr->disc));
}

/* R1 and R2 on the forward of the 2B rows the discriminator just saw. */
static int r1_r2(grugan_trainer *tr, float *value)
{
    const size_t B = tr->B;
    const float w_real = sqrtf(tr->cfg.r1_gamma), w_fake = sqrtf(tr->cfg.r2_gamma);
    for (size_t b = 0; b < B; b++) {
        tr->penalty_w[b] = w_real;
        tr->penalty_w[B + b] = w_fake;
    }
    return relay(tr,
                 grugan_discriminator_penalty(tr->disc, GRUGAN_PENALTY_SQUARED_NORM, 1.0f,
                                              tr->penalty_w, value, NULL,
                                              GRUGAN_BACKWARD_PARAMS),
                 "R1/R2 penalty");
}

/* WGAN-GP on B interpolates of the real and generated rows of seen. */
static int wgan_gp(grugan_trainer *tr, const float *seen, uint64_t update, float *value)
{
    const size_t B = tr->B, seq = tr->T * tr->F;
    float *e = tr->penalty_w; /* (B) */
    uint32_t block[4];
    grugan__rng rng;
    int rc;
    grugan__rng_block(tr->noise_seed, GRUGAN__RNG_INTERPOLATE, update, 0, block);
    grugan__rng_init(&rng, (uint64_t)block[0] | (uint64_t)block[1] << 32,
                     GRUGAN__RNG_INTERPOLATE);
    grugan__rng_fill_uniform(&rng, e, B, 0.0f, 1.0f);
    /* x_hat_b = e_b real_b + (1 - e_b) fake_b */
    for (size_t b = 0; b < B; b++) {
        const float *real = seen + b * seq, *fake = seen + (B + b) * seq;
        float *dst = tr->penalty_x + b * seq;
        for (size_t i = 0; i < seq; i++) dst[i] = e[b] * real[i] + (1.0f - e[b]) * fake[i];
    }
    rc = grugan_discriminator_forward(tr->disc, B, tr->T, tr->penalty_x, tr->cond, NULL,
                                      tr->logit);
    if (rc != GRUGAN_OK) return relay(tr, rc, "discriminator forward of the interpolates");
    return relay(tr,
                 grugan_discriminator_penalty(tr->disc, GRUGAN_PENALTY_UNIT_NORM,
                                              tr->cfg.gradient_penalty, NULL, value, NULL,
                                              GRUGAN_BACKWARD_PARAMS),
                 "WGAN-GP penalty");
}

int grugan__penalties_add(grugan_trainer *tr, const float *seen, uint64_t update, float *value)
{
    float r = 0.0f, gp = 0.0f;
    int rc;
    *value = 0.0f;
    if (tr->cfg.r1_gamma > 0.0f || tr->cfg.r2_gamma > 0.0f) {
        if ((rc = r1_r2(tr, &r)) != GRUGAN_OK) return rc;
    }
    if (tr->cfg.gradient_penalty > 0.0f) {
        if ((rc = wgan_gp(tr, seen, update, &gp)) != GRUGAN_OK) return rc;
    }
    *value = r + gp;
    return GRUGAN_OK;
}
